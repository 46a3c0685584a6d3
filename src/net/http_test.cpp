#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "net/test_server.hpp"

namespace pfex::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A raw loopback TCP connection, for clients that misbehave on purpose.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection() { ::close(fd_); }

  bool connected() const { return connected_; }
  bool send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Everything until the peer closes (or 10 s of silence).
  std::string read_all() {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  // True once the peer closed the connection (reads return 0 or fail), waiting up to `wait`.
  bool closed_by_peer(std::chrono::milliseconds wait) {
    timeval tv{static_cast<time_t>(wait.count() / 1000),
               static_cast<suseconds_t>(wait.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  int fd_;
  bool connected_ = false;
};

void add_echo_routes(HttpServer& server) {
  server.route("GET", "/v1/health", [](const HttpRequest&) {
    return HttpResponse{200, "text/plain", "ok\n"};
  });
  server.route("POST", "/echo-size", [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain", std::to_string(r.body.size())};
  });
}

Result<HttpReply> get(std::uint16_t port, std::string_view path, std::chrono::milliseconds t = 5s) {
  PFEX_ASSIGN_OR_RETURN(HttpClient client, HttpClient::open("127.0.0.1:" + std::to_string(port)));
  return client.request("GET", path, "", "", t);
}

TEST(HttpServer, RoutesUnknownPathsAndMethods) {
  HttpServer server;
  add_echo_routes(server);
  auto port = server.start();
  ASSERT_TRUE(port.is_ok()) << port.status().to_string();
  auto client = HttpClient::open("http://127.0.0.1:" + std::to_string(*port));
  ASSERT_TRUE(client.is_ok());
  for (int i = 0; i < 3; ++i) {  // on one kept-alive connection
    auto health = client->request("GET", "/v1/health?x=1", "", "", 5s);
    ASSERT_TRUE(health.is_ok()) << health.status().to_string();
    EXPECT_EQ(health->status, 200);
    EXPECT_EQ(health->body, "ok\n");
  }
  EXPECT_EQ(client->request("GET", "/nothing", "", "", 5s)->status, 404);
  EXPECT_EQ(client->request("POST", "/v1/health", "x", "text/plain", 5s)->status, 405);
  server.stop();
  server.stop();  // idempotent
}

// The documented limit at limit - 1, limit and limit + 1, with Content-Length and chunked.
TEST(HttpServer, BodyLimitHoldsAtTheBoundary) {
  HttpServerOptions options;
  options.max_body_bytes = 65'536;
  HttpServer server(options);
  add_echo_routes(server);
  auto port = server.start();
  ASSERT_TRUE(port.is_ok());
  auto client = HttpClient::open("127.0.0.1:" + std::to_string(*port));
  ASSERT_TRUE(client.is_ok());
  for (std::size_t size : {65'535U, 65'536U}) {
    auto reply = client->request("POST", "/echo-size", std::string(size, 'x'), "text/plain", 5s);
    ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, std::to_string(size));
  }
  auto over = client->request("POST", "/echo-size", std::string(65'537, 'x'), "text/plain", 5s);
  ASSERT_TRUE(over.is_ok()) << over.status().to_string();
  EXPECT_EQ(over->status, 413);
  EXPECT_NE(over->body.find("65536"), std::string::npos) << over->body;

  // Chunked: the limit counts the decoded body.
  for (std::size_t size : {65'536U, 65'537U}) {
    RawConnection raw(*port);
    ASSERT_TRUE(raw.connected());
    std::string request =
        "POST /echo-size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n";
    const std::size_t first = size / 2;
    for (std::size_t piece : {first, size - first}) {
      char hex[32];
      std::snprintf(hex, sizeof hex, "%zx\r\n", piece);
      request += hex + std::string(piece, 'y') + "\r\n";
    }
    request += "0\r\n\r\n";
    ASSERT_TRUE(raw.send(request));
    const std::string reply = raw.read_all();
    EXPECT_TRUE(reply.starts_with(size == 65'536 ? "HTTP/1.1 200" : "HTTP/1.1 413"))
        << size << ": " << reply.substr(0, 80);
  }
}

TEST(HttpServer, ExpectContinueIsAnswered) {
  HttpServer server;
  add_echo_routes(server);
  auto port = server.start();
  ASSERT_TRUE(port.is_ok());
  RawConnection raw(*port);
  ASSERT_TRUE(
      raw.send("POST /echo-size HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
               "Expect: 100-continue\r\nConnection: close\r\n\r\n"));
  std::this_thread::sleep_for(100ms);  // the 100 Continue goes out before the body comes
  ASSERT_TRUE(raw.send("abc"));
  const std::string reply = raw.read_all();
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200")) << reply;
  EXPECT_TRUE(reply.ends_with("3")) << reply;
}

// Ten clients that send one header byte every 300 ms hold no one up: other clients are served
// promptly while they trickle, and each slow connection is closed at its request deadline.
TEST(HttpServer, SlowClientsDoNotStarveOthers) {
  HttpServerOptions options;
  options.request_deadline = 1500ms;
  HttpServer server(options);
  add_echo_routes(server);
  auto port = server.start();
  ASSERT_TRUE(port.is_ok());

  constexpr int kSlow = 10;
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<RawConnection>(*port));
    ASSERT_TRUE(slow.back()->connected());
  }
  std::atomic<bool> done{false};
  std::atomic<int> bytes_sent{0};
  std::thread trickle([&] {
    const std::string header = "GET /v1/health HTTP/1.1\r\nHost: slow\r\n";
    for (std::size_t i = 0; i < header.size() && !done; ++i) {
      for (auto& c : slow)
        c->send(header.substr(i, 1));
      ++bytes_sent;
      std::this_thread::sleep_for(300ms);
    }
  });
  std::this_thread::sleep_for(200ms);
  for (int i = 0; i < 10; ++i) {
    const auto start = Clock::now();
    auto reply = get(*port, "/v1/health", 2s);
    ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
    EXPECT_EQ(reply->status, 200);
    EXPECT_LT(Clock::now() - start, 1s) << "a request waited behind the slow clients";
    std::this_thread::sleep_for(100ms);
  }
  // The deadline is for the whole request, however steadily its bytes come.
  for (auto& c : slow)
    EXPECT_TRUE(c->closed_by_peer(3s));
  EXPECT_LT(bytes_sent.load(), 12);
  done = true;
  trickle.join();
}

// At the connection cap, a new client closes the connection that has waited longest.
TEST(HttpServer, ConnectionCapDropsTheOldestIdle) {
  HttpServerOptions options;
  options.max_connections = 4;
  HttpServer server(options);
  add_echo_routes(server);
  auto port = server.start();
  ASSERT_TRUE(port.is_ok());
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawConnection>(*port));
    ASSERT_TRUE(idle.back()->connected());
    std::this_thread::sleep_for(50ms);  // accepted in this order
  }
  for (int i = 0; i < 50 && server.connections() < 4; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(server.connections(), 4U);
  auto reply = get(*port, "/v1/health", 2s);
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(reply->status, 200);
  EXPECT_TRUE(idle[0]->closed_by_peer(2s)) << "the oldest idle connection was kept";
  EXPECT_FALSE(idle[3]->closed_by_peer(200ms)) << "a younger idle connection was dropped";
  EXPECT_LE(server.connections(), 4U);
}

using pfex::net::testing::CannedServer;

// etcd's JSON gateway sends errors chunked, then keeps the connection: read them at once.
TEST(HttpClient, ReadsAChunkedErrorReplyWithoutWaiting) {
  CannedServer server(
      "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n"
      "15\r\n{\"error\": \"bad thing\"\r\n1\r\n}\r\n0\r\n\r\n");
  auto client = HttpClient::open(server.endpoint());
  ASSERT_TRUE(client.is_ok());
  const auto start = Clock::now();
  auto reply = client->request("POST", "/v3/kv/txn", "{", "application/json", 10s);
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->body, "{\"error\": \"bad thing\"}");
}

TEST(HttpClient, ASilentServerIsATimeout) {
  CannedServer server("");
  auto client = HttpClient::open(server.endpoint());
  ASSERT_TRUE(client.is_ok());
  const auto start = Clock::now();
  auto reply = client->request("GET", "/", "", "", 300ms);
  ASSERT_FALSE(reply.is_ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kIoError);
  EXPECT_NE(reply.status().message().find("timed out"), std::string_view::npos)
      << reply.status().to_string();
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST(HttpClient, NobodyListeningIsAnIoError) {
  std::uint16_t port = 0;
  {
    HttpServer server;
    auto started = server.start();
    ASSERT_TRUE(started.is_ok());
    port = *started;
  }
  auto reply = get(port, "/v1/health", 1s);
  ASSERT_FALSE(reply.is_ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kIoError);
}

TEST(HttpClient, ReplyLimitIsEnforced) {
  HttpServer server;
  server.route("GET", "/big", [](const HttpRequest&) {
    return HttpResponse{200, "text/plain", std::string(1001, 'z')};
  });
  auto port = server.start();
  ASSERT_TRUE(port.is_ok());
  auto client = HttpClient::open("127.0.0.1:" + std::to_string(*port));
  ASSERT_TRUE(client.is_ok());
  EXPECT_TRUE(client->request("GET", "/big", "", "", 5s, 1001).is_ok());
  EXPECT_EQ(client->request("GET", "/big", "", "", 5s, 1000).status().code(), ErrorCode::kIoError);
}

TEST(HttpClient, StreamsPiecesAsTheyArrive) {
  CannedServer server(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "6\r\nline1\n\r\n6\r\nline2\n\r\n");  // and then nothing: the stream stays open
  auto client = HttpClient::open(server.endpoint());
  ASSERT_TRUE(client.is_ok());
  std::string got;
  int status = 0;
  auto end = client->stream("POST", "/v3/watch", "{}", "application/json", 1s, 500ms, status,
                            [&](std::string_view piece) {
                              got += piece;
                              return true;
                            });
  ASSERT_TRUE(end.is_ok()) << end.status().to_string();
  EXPECT_EQ(*end, HttpClient::StreamEnd::kDeadline);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(got, "line1\nline2\n");

  CannedServer again("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nline1\n\r\n");
  auto second = HttpClient::open(again.endpoint());
  ASSERT_TRUE(second.is_ok());
  auto stopped = second->stream("POST", "/", "{}", "application/json", 1s, 5s, status,
                                [](std::string_view) { return false; });
  ASSERT_TRUE(stopped.is_ok());
  EXPECT_EQ(*stopped, HttpClient::StreamEnd::kStopped);
}

TEST(HttpClient, RejectsEndpointsItCannotUse) {
  EXPECT_FALSE(HttpClient::open("https://127.0.0.1:1").is_ok());
  EXPECT_FALSE(HttpClient::open("127.0.0.1").is_ok());
  EXPECT_FALSE(HttpClient::open("http://127.0.0.1:1/path").is_ok());
  EXPECT_TRUE(HttpClient::open("http://localhost:2379").is_ok());
}

}  // namespace
}  // namespace pfex::net
