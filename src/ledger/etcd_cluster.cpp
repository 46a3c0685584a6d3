// The test cluster of etcd_cluster.hpp.
#include "ledger/etcd_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <thread>

#include "net/http_client.hpp"

#ifndef PFEX_ETCD_CLUSTER_SCRIPT
#error "PFEX_ETCD_CLUSTER_SCRIPT must name scripts/etcd-cluster"
#endif

namespace pfex::ledger::testing {
namespace {

// `count` consecutive loopback ports that can be bound right now, below the kernel's ephemeral
// range: ports from bind(0) would be ephemeral ones, which etcd's own outgoing connections may
// take between our check and its bind. Random, so that concurrent test processes rarely collide.
std::vector<int> free_ports(int count) {
  int ephemeral_low = 32768;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> ephemeral_low;
  const int low = 10000;
  const int high = std::max(low + 1000, ephemeral_low) - count;
  std::mt19937 random(static_cast<std::uint32_t>(
      ::getpid() ^ std::chrono::steady_clock::now().time_since_epoch().count()));
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = std::uniform_int_distribution<int>(low, high)(random);
    std::vector<int> sockets;
    bool all_free = true;
    for (int port = base; port < base + count && all_free; ++port) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(static_cast<std::uint16_t>(port));
      all_free = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
      if (fd >= 0) sockets.push_back(fd);
    }
    for (int fd : sockets)
      ::close(fd);
    if (all_free) {
      std::vector<int> ports;
      for (int port = base; port < base + count; ++port)
        ports.push_back(port);
      return ports;
    }
  }
  throw std::runtime_error("cannot find free loopback ports for an etcd cluster");
}

std::string join(const std::vector<int>& ports) {
  std::string out;
  for (int port : ports) {
    if (!out.empty()) out += ' ';
    out += std::to_string(port);
  }
  return out;
}

// Members of every live EtcdCluster, so that a test that crashes (abort, failed sanitizer check,
// uncaught exception, SIGSEGV, Ctrl-C) still kills them: the handler only calls kill(2).
constexpr std::size_t kMaxTrackedMembers = 24;
std::array<std::atomic<pid_t>, kMaxTrackedMembers> g_members{};

extern "C" void kill_members_and_die(int signal_number) {
  for (auto& member : g_members) {
    pid_t pid = member.load();
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

void install_crash_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int s : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTERM, SIGINT}) {
      struct sigaction action {};
      action.sa_handler = kill_members_and_die;
      sigemptyset(&action.sa_mask);
      ::sigaction(s, &action, nullptr);
    }
  });
}

void track(pid_t pid) {
  for (auto& member : g_members) {
    pid_t empty = 0;
    if (member.compare_exchange_strong(empty, pid)) return;
  }
}

void untrack(pid_t pid) {
  for (auto& member : g_members) {
    pid_t expected = pid;
    member.compare_exchange_strong(expected, 0);
  }
}

bool alive(pid_t pid) {
  // A killed member may linger as a zombie (its parent, the script, is gone); a zombie has an
  // empty command line.
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text;
  return cmdline && std::getline(cmdline, text) && !text.empty();
}

}  // namespace

EtcdCluster::EtcdCluster() {
  pick_ports();
}

void EtcdCluster::pick_ports() {
  std::vector<int> ports = free_ports(6);
  client_ports_.assign(ports.begin(), ports.begin() + 3);
  peer_ports_.assign(ports.begin() + 3, ports.end());
  endpoints_.clear();
  for (int port : client_ports_)
    endpoints_.push_back("http://127.0.0.1:" + std::to_string(port));
}

EtcdCluster::~EtcdCluster() {
  try {
    run_script("kill");
    for (int member = 1; member <= 3; ++member) {
      if (auto pid = member_pid(member); pid.is_ok()) untrack(*pid);
    }
  } catch (...) {  // only std::bad_alloc is possible; nothing more can be done in a destructor
  }
}

int EtcdCluster::run_script(const std::string& command) const {
  const std::string line = "ETCD_CLUSTER_CLIENT_PORTS='" + join(client_ports_) +
                           "' ETCD_CLUSTER_PEER_PORTS='" + join(peer_ports_) +
                           "' ETCD_CLUSTER_HEARTBEAT_MS=50 ETCD_CLUSTER_ELECTION_MS=500 "
                           "ETCD_CLUSTER_WAIT_S=20 " PFEX_ETCD_CLUSTER_SCRIPT " " +
                           command + " '" + dir_.path().string() + "'";
  return std::system(line.c_str());
}

Status EtcdCluster::start() {
  bool started = run_script("start") == 0;
  if (!started && !started_once_) {
    // Most likely another process took one of the ports first: once more, elsewhere.
    run_script("kill");
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path(), ignored)) {
      std::filesystem::remove_all(entry.path(), ignored);
    }
    pick_ports();
    started = run_script("start") == 0;
  }
  if (!started) {
    return Status::failed_precondition(
        "scripts/etcd-cluster start failed (is etcd installed? scripts/install-deps)");
  }
  started_once_ = true;
  install_crash_handlers();
  for (int member = 1; member <= 3; ++member) {
    PFEX_ASSIGN_OR_RETURN(pid_t pid, member_pid(member));
    untrack(pid);  // a member still running from an earlier start() stays tracked once
    track(pid);
  }
  return Status::ok();
}

Result<pid_t> EtcdCluster::member_pid(int member) const {
  std::string name("m");  // not "m" + ...: that trips a GCC 12 -Wrestrict false positive
  name.append(std::to_string(member)).append(".pid");
  std::ifstream in(dir_.file(name));
  pid_t pid = 0;
  if (!(in >> pid) || pid <= 0)
    return Status::not_found("no pid for member " + std::to_string(member));
  return pid;
}

Status EtcdCluster::kill_member(int member) {
  PFEX_ASSIGN_OR_RETURN(pid_t pid, member_pid(member));
  if (::kill(pid, SIGKILL) != 0) return Status::io_error("cannot kill etcd member");
  untrack(pid);
  for (int i = 0; i < 500 && alive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return alive(pid) ? Status::io_error("etcd member survived SIGKILL") : Status::ok();
}

Result<int> EtcdCluster::leader() const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      auto client = net::HttpClient::open(endpoints_[i]);
      if (!client.is_ok()) return client.status();
      auto reply = client->request("POST", "/v3/maintenance/status", "{}", "application/json",
                                   std::chrono::milliseconds(500));
      if (!reply.is_ok() || reply->status != 200) continue;
      auto status = nlohmann::json::parse(reply->body, nullptr, false);
      if (status.is_discarded()) continue;
      const std::string self =
          status.value("header", nlohmann::json::object()).value("member_id", "");
      const std::string leader = status.value("leader", "");
      if (!self.empty() && self == leader) return static_cast<int>(i) + 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::not_found("no etcd leader within 10 s");
}

}  // namespace pfex::ledger::testing
