// Helpers for the gateway's tests: raw HTTP to a gateway, and slow clients that trickle a request
// header one byte at a time while the test checks that others are still served promptly.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/codec.hpp"
#include "net/http_client.hpp"

namespace pfex::node::testing {

// POSTs `body` to the gateway's /v1/tx with `content_type` on a new connection.
inline Result<net::HttpReply> post_tx(
    std::uint16_t port, ByteSpan body, std::string_view content_type = "application/octet-stream",
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  PFEX_ASSIGN_OR_RETURN(net::HttpClient client,
                        net::HttpClient::open("127.0.0.1:" + std::to_string(port)));
  return client.request("POST", "/v1/tx",
                        std::string_view(reinterpret_cast<const char*>(body.data()), body.size()),
                        content_type, timeout);
}

inline Result<net::HttpReply> get_health(std::uint16_t port, std::chrono::milliseconds timeout) {
  PFEX_ASSIGN_OR_RETURN(net::HttpClient client,
                        net::HttpClient::open("127.0.0.1:" + std::to_string(port)));
  return client.request("GET", "/v1/health", "", "", timeout);
}

// `count` connections to 127.0.0.1:port that each send one byte of a request header every
// `every`, from a background thread, until destroyed.
class SlowClients {
 public:
  SlowClients(std::uint16_t port, int count, std::chrono::milliseconds every) {
    for (int i = 0; i < count; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(port);
      EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
      fds_.push_back(fd);
    }
    thread_ = std::thread([this, every] {
      const std::string header = "POST /v1/tx HTTP/1.1\r\nHost: slow\r\nContent-Length: 10\r\n";
      for (std::size_t i = 0; i < header.size() && !stop_; ++i) {
        for (int fd : fds_)
          (void)::send(fd, header.data() + i, 1, MSG_NOSIGNAL);
        for (auto waited = std::chrono::milliseconds(0); waited < every && !stop_;
             waited += std::chrono::milliseconds(10)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    });
  }
  SlowClients(const SlowClients&) = delete;
  SlowClients& operator=(const SlowClients&) = delete;
  ~SlowClients() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_)
      ::close(fd);
  }

  // How many of the connections the server has closed (waits up to `wait` for each).
  int closed_by_server(std::chrono::milliseconds wait) {
    int closed = 0;
    for (int fd : fds_) {
      timeval tv{static_cast<time_t>(wait.count() / 1000),
                 static_cast<suseconds_t>(wait.count() % 1000 * 1000)};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char c;
      const ssize_t n = ::recv(fd, &c, 1, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) ++closed;
    }
    return closed;
  }

 private:
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// While ten slow clients trickle header bytes every 2 s, /v1/health and a submission of each of
// `transactions` (from another client) are answered within `prompt`; then, past the gateway's
// request deadline of `deadline`, the slow connections are closed.
inline void expect_served_despite_slow_clients(std::uint16_t port,
                                               const std::vector<Bytes>& transactions,
                                               std::chrono::milliseconds deadline) {
  using Clock = std::chrono::steady_clock;
  const auto prompt = std::chrono::seconds(2);  // generous: the machine may be busy
  SlowClients slow(port, 10, std::chrono::milliseconds(2000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (const Bytes& tx : transactions) {
    auto start = Clock::now();
    auto health = get_health(port, std::chrono::seconds(10));
    ASSERT_TRUE(health.is_ok()) << health.status().to_string();
    EXPECT_EQ(health->status, 200) << health->body;
    EXPECT_LT(Clock::now() - start, prompt) << "/v1/health waited behind slow clients";
    start = Clock::now();
    auto sent = post_tx(port, tx);
    ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
    EXPECT_EQ(sent->status, 200) << sent->body;
    EXPECT_LT(Clock::now() - start, prompt) << "a submission waited behind slow clients";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(slow.closed_by_server(deadline + std::chrono::seconds(3)), 10)
      << "slow connections outlived the request deadline";
}

}  // namespace pfex::node::testing
