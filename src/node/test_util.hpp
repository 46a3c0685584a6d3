// Helpers for the node's tests: a temporary directory, a child process that is killed when the
// helper goes out of scope, a free loopback port and a real SOCKS5 proxy (microsocks).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ledger/test_util.hpp"

namespace pfex::node::testing {

// The ledger's self-deleting temporary directory.
using TempDir = ledger::testing::TempDir;

// A child process (posix_spawnp of argv), sent SIGKILL and reaped on destruction.
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (auto& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    if (::posix_spawnp(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { kill(); }
  bool ok() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// A loopback port nobody listens on now.
inline std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  return bound ? ntohs(addr.sin_port) : 0;
}

// Starts microsocks on loopback; nullptr if it is not installed (scripts/install-deps has it).
inline std::unique_ptr<Child> start_microsocks(std::uint16_t port,
                                               std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{"microsocks", "-i", "127.0.0.1", "-p", std::to_string(port)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto child = std::make_unique<Child>(argv);
  if (!child->ok()) return nullptr;
  for (int i = 0; i < 200; ++i) {  // wait until it listens
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (up) return child;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return nullptr;
}

inline bool have_microsocks() {
  return std::system("command -v microsocks >/dev/null 2>&1") == 0;
}

}  // namespace pfex::node::testing
