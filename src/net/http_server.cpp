// The HTTP server of http_server.hpp on Boost.Beast: one I/O thread, a worker pool for handlers.
#include "net/http_server.hpp"

#include <strings.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

namespace pfex::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kMaxHeaderBytes = 8 * 1024;
// After refusing a request whose body is still arriving, the server reads (and drops) this much
// more for this long before closing, so that the client reads the refusal instead of a reset.
constexpr std::size_t kMaxDrainBytes = std::size_t{1} << 20;
constexpr std::chrono::milliseconds kDrainTime{1000};

std::string json_error(std::string_view message) {
  std::string out = "{\"error\": \"";
  out += message;
  out += "\"}";
  return out;
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return &value;
    }
  }
  return nullptr;
}

struct Route {
  std::string method;
  std::string path;
  HttpServer::Handler handler;
  HttpServer::RunOn where = HttpServer::RunOn::kWorker;
};

class Session;

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions o) : options(std::move(o)) {}

  HttpServerOptions options;
  std::vector<Route> routes;
  // Declared before the io_context: sessions destroyed with it still find their list.
  mutable std::mutex sessions_mutex;
  std::list<Session*> sessions;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{ioc};
  std::optional<asio::thread_pool> pool;
  std::thread io_thread;

  void accept();
  // The route for `request`, or nullptr with the refusal in `refusal` (404, 405).
  const Route* find(const HttpRequest& request, HttpResponse& refusal) const;
  static HttpResponse run(const Route& route, const HttpRequest& request);
};

// One connection. All socket work runs on the I/O thread; only the handler runs on a worker.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer::Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)) {}

  ~Session() {
    std::lock_guard lock(server_.sessions_mutex);
    server_.sessions.erase(self_in_list_);
  }

  void start(std::list<Session*>::iterator self_in_list) {
    self_in_list_ = self_in_list;
    read_request();
  }

  // Only on the I/O thread.
  bool idle() const { return !busy_; }
  Clock::time_point waiting_since() const { return waiting_since_; }
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  void read_request() {
    busy_ = false;
    waiting_since_ = Clock::now();
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(server_.options.max_body_bytes);
    // One deadline for the whole request: header and body, however they trickle in.
    stream_.expires_after(server_.options.request_deadline);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    const auto& header = parser_->get();
    auto expect = header.find(http::field::expect);
    if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue),
                        [self = shared_from_this()](beast::error_code wec, std::size_t) {
                          if (wec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->on_read_error(ec);
                       self->handle();
                     });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return refuse(413, "body over " + std::to_string(server_.options.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) return refuse(431, "header too large");
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return close();
    }
    return refuse(400, "malformed HTTP request");
  }

  // Answers and closes, then drains what the client is still sending.
  void refuse(int status, const std::string& why) {
    busy_ = true;
    write(HttpResponse{status, "application/json", json_error(why)}, /*keep_alive=*/false);
  }

  void handle() {
    busy_ = true;
    stream_.expires_never();
    auto request = std::make_shared<HttpRequest>();
    auto& message = parser_->get();
    request->method = std::string(message.method_string());
    const std::string_view target = message.target();
    request->path = std::string(target.substr(0, target.find('?')));
    for (const auto& field : message) {
      request->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    if (auto type = message.find(http::field::content_type); type != message.end()) {
      request->content_type = std::string(type->value());
    }
    request->body = std::move(message.body());
    const bool keep_alive = message.keep_alive();
    HttpResponse refusal;
    const Route* route = server_.find(*request, refusal);
    if (route == nullptr) return write(std::move(refusal), keep_alive);
    if (route->where == HttpServer::RunOn::kIoThread) {
      return write(HttpServer::Impl::run(*route, *request), keep_alive);
    }
    asio::post(*server_.pool, [self = shared_from_this(), route, request, keep_alive] {
      HttpResponse response = HttpServer::Impl::run(*route, *request);
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response), keep_alive]() mutable {
                   self->write(std::move(response), keep_alive);
                 });
    });
  }

  void write(HttpResponse response, bool keep_alive) {
    response_.emplace(static_cast<http::status>(response.status), 11);
    response_->set(http::field::server, "pfex");
    response_->set(http::field::content_type, response.content_type);
    response_->body() = std::move(response.body);
    response_->keep_alive(keep_alive);
    response_->prepare_payload();
    stream_.expires_after(server_.options.write_deadline);
    http::async_write(stream_, *response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        if (keep_alive) return self->read_request();
                        self->drain_and_close();
                      });
  }

  void drain_and_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kDrainTime);
    drain_.resize(16 * 1024);
    drain_some();
  }

  void drain_some() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxDrainBytes) return self->close();
                              self->drain_some();
                            });
  }

  HttpServer::Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::list<Session*>::iterator self_in_list_;
  bool busy_ = false;
  Clock::time_point waiting_since_ = Clock::now();
  std::string drain_;
  std::size_t drained_ = 0;
};

void HttpServer::Impl::accept() {
  acceptor.async_accept(ioc, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      std::unique_lock lock(sessions_mutex);
      if (sessions.size() >= options.max_connections) {
        // Full: make room by closing the connection that has waited longest for a request.
        Session* oldest = nullptr;
        for (Session* s : sessions) {
          if (s->idle() && (!oldest || s->waiting_since() < oldest->waiting_since())) oldest = s;
        }
        if (oldest) {
          oldest->close();  // its pending read ends, and with it the session
        } else {
          beast::error_code ignored;
          socket.close(ignored);  // every connection is in a request: refuse this one
        }
      }
      if (socket.is_open()) {
        auto session = std::make_shared<Session>(*this, std::move(socket));
        auto it = sessions.insert(sessions.end(), session.get());
        lock.unlock();
        session->start(it);
      }
    }
    accept();
  });
}

const Route* HttpServer::Impl::find(const HttpRequest& request, HttpResponse& refusal) const {
  bool path_known = false;
  for (const Route& route : routes) {
    if (route.path != request.path) continue;
    path_known = true;
    if (route.method == request.method) return &route;
  }
  refusal = path_known ? HttpResponse{405, "application/json", json_error("method not allowed")}
                       : HttpResponse{404, "application/json", json_error("not found")};
  return nullptr;
}

HttpResponse HttpServer::Impl::run(const Route& route, const HttpRequest& request) {
  try {
    return route.handler(request);
  } catch (const std::exception&) {
    return HttpResponse{500, "application/json", json_error("internal error")};
  }
}

HttpServer::HttpServer(HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string method, std::string path, Handler handler, RunOn where) {
  impl_->routes.push_back(Route{std::move(method), std::move(path), std::move(handler), where});
}

Result<std::uint16_t> HttpServer::start() {
  Impl& s = *impl_;
  if (s.io_thread.joinable()) return Status::failed_precondition("HTTP server already started");
  const std::string where = s.options.host + ":" + std::to_string(s.options.port);
  beast::error_code ec;
  const auto address = asio::ip::make_address(s.options.host, ec);
  if (ec) return Status::invalid_argument("cannot listen on " + where + ": not an IP address");
  const tcp::endpoint endpoint(address, s.options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::io_error("cannot listen on " + where + ": " + ec.message());
  const std::uint16_t port = s.acceptor.local_endpoint().port();
  s.pool.emplace(std::max(1U, s.options.handler_threads));
  s.work.emplace(s.ioc.get_executor());
  s.accept();
  s.io_thread = std::thread([&s] { s.ioc.run(); });
  return port;
}

void HttpServer::stop() {
  Impl& s = *impl_;
  if (!s.io_thread.joinable()) return;
  asio::post(s.ioc, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    std::lock_guard lock(s.sessions_mutex);
    for (Session* session : s.sessions)
      session->close();
  });
  s.pool->join();  // handlers already running finish
  s.work.reset();
  s.ioc.stop();
  s.io_thread.join();
}

std::size_t HttpServer::connections() const {
  std::lock_guard lock(impl_->sessions_mutex);
  return impl_->sessions.size();
}

}  // namespace pfex::net
