// A small read-only HTTP server for clients of a validator (`pfex validator --http PORT`): GET
// endpoints that return JSON produced by callbacks, on net::HttpServer (its deadlines and
// connection cap hold here too). Loopback by default; the routes are listed in
// docs/node/gateway.md ("Validator read API"). The full HTTP/WebSocket API is another issue.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.hpp"
#include "net/http_server.hpp"

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
  // Binds and serves on background threads; returns the port.
  Result<std::uint16_t> start();
  void stop();

 private:
  net::HttpServer server_;
};

}  // namespace pfex::node
