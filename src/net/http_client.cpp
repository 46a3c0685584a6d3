// The HTTP client of http_client.hpp: Beast's asynchronous operations run to completion on a
// private io_context, which is what gives every blocking call its deadline.
#include "net/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace pfex::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

}  // namespace

struct HttpClient::Impl {
  std::string endpoint;
  std::string host;
  std::string port;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Runs the asynchronous operation `start` begins until it completes; returns its error.
  template <class Start>
  beast::error_code run(Start&& start) {
    beast::error_code result;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  void drop() {
    stream.reset();
    buffer.clear();
  }

  Status connect(Clock::time_point deadline) {
    drop();
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto addresses = resolver.resolve(host, port, ec);
    if (ec) return Status::io_error(endpoint + ": cannot resolve: " + ec.message());
    stream.emplace(ioc);
    stream->expires_at(deadline);
    ec = run([&](auto done) { stream->async_connect(addresses, done); });
    if (ec) {
      drop();
      return Status::io_error(endpoint + ": cannot connect: " + ec.message());
    }
    stream->socket().set_option(tcp::no_delay(true), ec);  // header and body: no Nagle delay
    return Status::ok();
  }

  http::request<http::string_body> make_request(std::string_view method, std::string_view target,
                                                std::string_view body,
                                                std::string_view content_type) const {
    http::request<http::string_body> request;
    request.method_string(method);
    request.target(target);
    request.version(11);
    request.set(http::field::host, host + ":" + port);
    if (!content_type.empty()) request.set(http::field::content_type, content_type);
    request.body() = std::string(body);
    request.keep_alive(true);
    request.prepare_payload();
    return request;
  }

  Status fail(std::string_view what, beast::error_code ec) {
    drop();
    return Status::io_error(
        endpoint + ": " + std::string(what) + ": " +
        (ec == beast::error::timeout ? std::string("timed out") : ec.message()));
  }
};

Result<HttpClient> HttpClient::open(std::string_view endpoint) {
  std::string_view rest = endpoint;
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  if (rest.find("://") != std::string_view::npos) {
    return Status::invalid_argument("only http:// endpoints are supported: " +
                                    std::string(endpoint));
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size() ||
      rest.find('/') != std::string_view::npos) {
    return Status::invalid_argument("expected http://host:port, got \"" + std::string(endpoint) +
                                    "\"");
  }
  auto impl = std::make_unique<Impl>();
  impl->endpoint = std::string(endpoint);
  impl->host = std::string(rest.substr(0, colon));
  impl->port = std::string(rest.substr(colon + 1));
  return HttpClient(std::move(impl));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;
HttpClient::~HttpClient() = default;

const std::string& HttpClient::endpoint() const {
  return impl_->endpoint;
}

Result<HttpReply> HttpClient::request(std::string_view method, std::string_view target,
                                      std::string_view body, std::string_view content_type,
                                      std::chrono::milliseconds timeout,
                                      std::size_t max_reply_bytes) {
  Impl& c = *impl_;
  const auto deadline = Clock::now() + timeout;
  auto request = c.make_request(method, target, body, content_type);
  // A kept-alive connection the server has closed meanwhile fails at once: then once more on a
  // new connection.
  for (bool reused = c.stream.has_value();; reused = false) {
    if (!c.stream) PFEX_RETURN_IF_ERROR(c.connect(deadline));
    c.stream->expires_at(deadline);
    beast::error_code ec = c.run([&](auto done) { http::async_write(*c.stream, request, done); });
    if (ec) {
      if (reused && ec != beast::error::timeout) {
        c.drop();
        continue;
      }
      return c.fail("cannot send", ec);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_reply_bytes);
    // The header alone first: Beast 1.74 checks the body limit against Content-Length only when
    // the header is parsed on its own (an eager read of header and body skips the check).
    ec = c.run([&](auto done) { http::async_read_header(*c.stream, c.buffer, parser, done); });
    if (!ec) ec = c.run([&](auto done) { http::async_read(*c.stream, c.buffer, parser, done); });
    if (ec) {
      const bool closed_before_reply = !parser.got_some() && (ec == http::error::end_of_stream ||
                                                              ec == asio::error::connection_reset);
      if (reused && closed_before_reply) {
        c.drop();
        continue;
      }
      return c.fail("no reply", ec);
    }
    auto& message = parser.get();
    HttpReply reply;
    reply.status = static_cast<int>(message.result_int());
    if (auto type = message.find(http::field::content_type); type != message.end()) {
      reply.content_type = std::string(type->value());
    }
    reply.body = std::move(message.body());
    if (!message.keep_alive()) c.drop();
    return reply;
  }
}

Result<HttpClient::StreamEnd> HttpClient::stream(
    std::string_view method, std::string_view target, std::string_view body,
    std::string_view content_type, std::chrono::milliseconds connect_timeout,
    std::chrono::milliseconds deadline, int& status,
    const std::function<bool(std::string_view)>& on_data) {
  Impl& c = *impl_;
  status = 0;
  const auto connect_by = Clock::now() + connect_timeout;
  const auto end_by = Clock::now() + deadline;
  PFEX_RETURN_IF_ERROR(c.connect(std::min(connect_by, end_by)));
  auto request = c.make_request(method, target, body, content_type);
  c.stream->expires_at(std::max(connect_by, end_by));
  beast::error_code ec = c.run([&](auto done) { http::async_write(*c.stream, request, done); });
  if (ec) return c.fail("cannot send", ec);
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);  // a stream may last for ever; its pieces are taken as they come
  c.stream->expires_at(end_by);
  StreamEnd end = StreamEnd::kClosed;
  for (;;) {
    ec = c.run([&](auto done) { http::async_read_some(*c.stream, c.buffer, parser, done); });
    if (parser.is_header_done()) status = static_cast<int>(parser.get().result_int());
    std::string& piece = parser.get().body();
    if (!piece.empty()) {
      const bool more = on_data(piece);
      piece.clear();  // the parser appends at the body's current end
      if (!more) {
        end = StreamEnd::kStopped;
        break;
      }
    }
    if (ec == beast::error::timeout) {
      end = StreamEnd::kDeadline;
      break;
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof) break;
    if (ec) return c.fail("stream", ec);
    if (parser.is_done()) break;
  }
  c.drop();
  return end;
}

}  // namespace pfex::net
