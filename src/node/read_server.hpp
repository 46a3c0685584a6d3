// A small read-only HTTP server for clients of a validator (`pfex validator --http PORT`): GET
// endpoints that return JSON produced by callbacks. Loopback by default; the routes are listed in
// docs/node/gateway.md ("Validator read API"). The full HTTP/WebSocket API is another issue.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/status.hpp"

namespace httplib {
class Server;
}

namespace pfex::node {

class ReadServer {
 public:
  explicit ReadServer(std::string host = "127.0.0.1", std::uint16_t port = 0);
  ReadServer(const ReadServer&) = delete;
  ReadServer& operator=(const ReadServer&) = delete;
  ~ReadServer();  // stops

  // Serves GET `path` with the JSON `body()` returns. The callback runs on a server thread: it
  // must do its own locking. Register routes before start().
  void get(const std::string& path, std::function<std::string()> body);
  // Binds and serves on a background thread; returns the port.
  Result<std::uint16_t> start();
  void stop();

 private:
  std::string host_;
  std::uint16_t port_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace pfex::node
