// HttpServer: the one HTTP/1.1 server of pfex's processes (the gateway, a validator's read API),
// on Boost.Beast and Asio. It is built to be exposed to clients that do not cooperate:
//
//   - every request must arrive whole (header and body) within `request_deadline` of the moment
//     the server starts waiting for it, or its connection is closed; an idle kept-alive
//     connection waits under the same deadline, so a client that sends a byte now and then holds
//     nothing for long;
//   - at most `max_connections` connections are open; a new one beyond that closes the connection
//     that has waited longest for its request (the oldest idle), or, when every connection has a
//     request in progress, is itself closed at once;
//   - a body over `max_body_bytes` is answered 413 and its connection closed (tested at the limit
//     - 1, the limit and the limit + 1).
//
// One I/O thread does all the socket work and never blocks; handlers run on a small pool of
// worker threads, so a slow handler (an fsync, an etcd round trip) delays no other connection's
// reading. docs/node/gateway.md describes the limits as the gateway uses them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"

namespace pfex::net {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without its query string
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // every header, in order
  std::string body;

  // The value of header `name` (case-insensitive); nullptr if absent.
  const std::string* header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  std::uint16_t port = 0;          // 0: any free port
  std::size_t max_body_bytes = std::size_t{64} * 1024;
  // The whole request (or the wait for the next one on a kept-alive connection).
  std::chrono::milliseconds request_deadline{10'000};
  // Writing a response.
  std::chrono::milliseconds write_deadline{10'000};
  std::size_t max_connections = 256;
  unsigned handler_threads = 4;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit HttpServer(HttpServerOptions options = {});
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // stops

  // Where a handler runs: on a worker (the default; it may block), or on the I/O thread, for a
  // handler that never blocks and must be answered even when every worker is busy (a health
  // check).
  enum class RunOn { kWorker, kIoThread };

  // Serves `method` `path` (exact match) with `handler`, which must do its own locking. A request
  // for a known path with another method gets 405, an unknown path 404. Register routes before
  // start().
  void route(std::string method, std::string path, Handler handler, RunOn where = RunOn::kWorker);

  // Binds, listens and serves on background threads; returns the port.
  Result<std::uint16_t> start();
  // Closes every connection and joins the threads, after the handlers running finish
  // (idempotent).
  void stop();

  // Connections open now (for tests and the gateway's log line).
  std::size_t connections() const;

 private:
  friend class Session;  // one connection, in the .cpp
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pfex::net
