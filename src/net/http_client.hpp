// HttpClient: a blocking HTTP/1.1 client for one server (the etcd client, tests), on Boost.Beast.
// It keeps one connection alive between requests and reconnects when the server closed it. Every
// operation has a deadline; bodies may come with Content-Length or chunked (etcd's JSON gateway
// sends its errors chunked), and a streamed body (etcd's watch) can be read as it arrives.
//
// Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace pfex::net {

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

class HttpClient {
 public:
  // `endpoint`: "http://host:port" or "host:port" (no path). Does not connect yet.
  static Result<HttpClient> open(std::string_view endpoint);
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  ~HttpClient();

  // Sends one request and reads the whole reply within `timeout` (connecting included). A
  // transport failure (refused, reset, timed out, malformed reply) is io_error and drops the
  // connection; any HTTP status is a reply. Replies longer than `max_reply_bytes` are an io_error.
  Result<HttpReply> request(std::string_view method, std::string_view target, std::string_view body,
                            std::string_view content_type, std::chrono::milliseconds timeout,
                            std::size_t max_reply_bytes = std::size_t{64} << 20);

  // How a streamed reply ended.
  enum class StreamEnd { kClosed, kStopped, kDeadline };
  // Sends one request and hands the reply body to `on_data` as it arrives, until the server ends
  // it (kClosed), `on_data` returns false (kStopped) or `deadline` passes (kDeadline). `status`
  // receives the reply's status code once its header is in. The connection is not reused.
  Result<StreamEnd> stream(std::string_view method, std::string_view target, std::string_view body,
                           std::string_view content_type, std::chrono::milliseconds connect_timeout,
                           std::chrono::milliseconds deadline, int& status,
                           const std::function<bool(std::string_view)>& on_data);

  const std::string& endpoint() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pfex::net
