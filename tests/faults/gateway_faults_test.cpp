// The standing fault campaign of the gateway: the real `pfex gateway` process in front of a
// 3-member etcd cluster (and of a file log), with concurrent writers submitting over HTTP as nodes
// do (a transaction is resubmitted until the gateway answers 200, or 409 with the sequence where
// its bytes are). During each run:
//
//   - etcd members are SIGKILLed and restarted: the leader, another member, or two at once (the
//     cluster loses its quorum for a few seconds);
//   - the gateway process is SIGKILLed mid-appends and restarted on the same port (on a file log,
//     half the crashes also lose part of the unsynced tail, as a power loss does);
//   - ten slow clients send one header byte every 2 s to each gateway life, while /v1/health is
//     asked every 300 ms and must answer within 2 s;
//   - oversized bodies (65,537 bytes) are posted and must get 413;
//   - a validator follows the log with snapshots through all of it.
//
// After each run the invariant: every acknowledged transaction is in the log exactly once, at the
// sequence it was acknowledged with; the following validator, one restored from its snapshots and
// a fresh one report the same chain and state hash. Seeds are fixed; PFEX_FAULT_RUNS raises the
// number of runs (default 3). Each test prints what it injected and what was lost (must be
// nothing). Needs etcd (Debian's etcd-server and etcd-client): fails without it.
//
// The loss check fails on its own when durability breaks: with a scratch change that let the
// file log acknowledge a batch once it was written and synced but before the marker naming it was
// (FileLog::append waiting for synced_sequence_ instead of durable_sequence_, the genesis
// excepted), the file-log campaign came up after every crash and reported "acknowledged entry N
// is missing or changed" for 10 of 3,768 acknowledged entries (5 power losses in 9 crashes).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/hash.hpp"
#include "fault_util.hpp"
#include "ledger/etcd_cluster.hpp"
#include "ledger/etcd_log.hpp"
#include "ledger/file_log.hpp"
#include "ledger/log_test_util.hpp"
#include "ledger/test_util.hpp"
#include "node/gateway_test_util.hpp"
#include "protocol/test_util.hpp"
#include "protocol/transaction.hpp"

namespace pfex {
namespace {

using namespace std::chrono_literals;
using namespace faults;
using Clock = std::chrono::steady_clock;
using ledger::testing::EtcdCluster;
using ledger::testing::read_all;
using ledger::testing::TempDir;

// What the campaign injected and what the checks found.
struct Tally {
  int runs = 0;
  int gateway_crashes = 0;
  int power_losses = 0;  // file log: the crash also lost part of the unsynced tail
  int member_kills = 0;
  int leader_kills = 0;
  int quorum_losses = 0;
  int slow_clients = 0;
  std::atomic<int> oversized{0};          // answered 413
  std::atomic<int> health_answers{0};     // /v1/health answered within 2 s
  std::atomic<int> resubmissions{0};      // a transaction sent again after no answer or a 503
  std::atomic<int> settled_by_replay{0};  // acknowledged by a 409 naming the sequence
  std::uint64_t acknowledged = 0;
  std::uint64_t lost = 0;  // acknowledged but missing or other bytes there (must be 0)
  std::uint64_t duplicated = 0;

  void print(const char* what) const {
    std::printf(
        "%s: %d runs; faults injected: %d gateway crashes (%d with power loss), %d etcd member "
        "kills (%d leaders, %d quorum losses), %d slow clients, %d oversized bodies refused; %d "
        "health answers within 2 s; %llu acknowledged (%d by a 409 naming the sequence after a "
        "resubmission, %d resubmissions), %llu lost, %llu duplicated\n",
        what, runs, gateway_crashes, power_losses, member_kills, leader_kills, quorum_losses,
        slow_clients, oversized.load(), health_answers.load(),
        static_cast<unsigned long long>(acknowledged), settled_by_replay.load(),
        resubmissions.load(), static_cast<unsigned long long>(lost),
        static_cast<unsigned long long>(duplicated));
    std::fflush(stdout);
  }
};

std::string etcd_spec(const EtcdCluster& cluster) {
  std::string spec = "etcd:";
  for (const auto& endpoint : cluster.endpoints())
    spec += (spec.size() > 5 ? "," : "") + endpoint;
  return spec;
}

// The `pfex gateway` process, restarted on the port of its first life.
class GatewayProcess {
 public:
  GatewayProcess(std::string log, const protocol::MarketId& market, std::string dir)
      : log_(std::move(log)), market_(to_hex(market)), dir_(std::move(dir)) {}
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;
  ~GatewayProcess() {
    if (pid_ > 0) kill_now(pid_);
  }

  // Starts a life and waits until it listens (it has replayed the log by then).
  void start() {
    output_ = dir_ + "/gateway" + std::to_string(++lives_) + ".out";
    pid_ = spawn_pfex(
        {"gateway", "--log", log_, "--market", market_, "--port", std::to_string(port_.load())},
        output_);
    const std::string listening = "gateway listening on 127.0.0.1:";
    const auto deadline = Clock::now() + 60s;
    for (;;) {
      const std::string out = file_text(output_);
      if (const auto at = out.find(listening); at != std::string::npos) {
        port_ = static_cast<std::uint16_t>(std::stoi(out.substr(at + listening.size())));
        ++generation_;
        return;
      }
      if (!running(pid_)) {
        pid_ = 0;
        FAIL() << "the gateway exited at start:\n" << out;
      }
      if (Clock::now() > deadline) FAIL() << "the gateway did not listen within 60 s:\n" << out;
      std::this_thread::sleep_for(20ms);
    }
  }

  // SIGKILL, as a crash; it must still have been running.
  void crash() {
    ++generation_;
    EXPECT_TRUE(kill_now(pid_)) << "the gateway exited by itself:\n" << file_text(output_);
    pid_ = 0;
  }

  // SIGTERM, and the clean stop it must make.
  void stop() {
    ++generation_;
    signal_child(pid_, SIGTERM);
    EXPECT_EQ(wait_bounded(pid_, 30s), 0) << file_text(output_);
    EXPECT_NE(file_text(output_).find("gateway stopped"), std::string::npos) << file_text(output_);
    pid_ = 0;
  }

  std::uint16_t port() const { return port_; }
  // Changes whenever the gateway stops or starts: a probe across a change proves nothing.
  int generation() const { return generation_; }

 private:
  std::string log_, market_, dir_, output_;
  pid_t pid_ = 0;
  int lives_ = 0;
  std::atomic<std::uint16_t> port_{0};
  std::atomic<int> generation_{0};
};

// Sequence -> hash of every acknowledged transaction.
struct Acks {
  std::mutex mutex;
  std::map<std::uint64_t, Digest32> by_sequence;

  void record(std::uint64_t sequence, const Digest32& hash) {
    std::lock_guard lock(mutex);
    const auto [at, inserted] = by_sequence.emplace(sequence, hash);
    if (!inserted && at->second != hash) {
      ADD_FAILURE() << "sequence " << sequence << " acknowledged for two transactions";
    }
  }
};

// Submits `tx` until it is acknowledged (200, or 409 naming the sequence where its bytes are) or
// `stop` is set. Returns false when stopped first.
bool submit_until_acknowledged(const Bytes& tx, const GatewayProcess& gateway,
                               const std::atomic<bool>& stop, Acks& acks, Tally& tally) {
  const Digest32 hash = blake2b_256(tx);
  for (int attempt = 0; !stop; ++attempt) {
    if (attempt > 0) {
      ++tally.resubmissions;
      std::this_thread::sleep_for(50ms);
    }
    auto reply = node::testing::post_tx(gateway.port(), tx, "application/octet-stream", 10s);
    if (!reply.is_ok() || reply->status == 503) continue;  // down, or the log refused: again
    const auto body = nlohmann::json::parse(reply->body, nullptr, false);
    if (reply->status == 200 || (reply->status == 409 && body.contains("sequence"))) {
      if (!body.is_object() || !body.contains("sequence")) {
        ADD_FAILURE() << "an answer without the sequence: " << reply->body;
        return false;
      }
      if (reply->status == 409) ++tally.settled_by_replay;
      acks.record(body["sequence"].get<std::uint64_t>(), hash);
      return true;
    }
    // Being appended by another request of ours (409 without a sequence): ask again.
    if (reply->status == 409 && reply->body.find("being appended now") != std::string::npos) {
      continue;
    }
    ADD_FAILURE() << "unexpected answer " << reply->status << ": " << reply->body;
    return false;
  }
  return false;
}

// What runs against a gateway during a campaign run: writers, slow clients, health probes and
// oversized bodies, on their own threads until stopped.
class Load {
 public:
  Load(GatewayProcess& gateway, const protocol::MarketId& market, Acks& acks, Tally& tally)
      : gateway_(gateway) {
    for (int w = 0; w < kWriters; ++w) {
      threads_.emplace_back([this, &market, &acks, &tally] {
        while (!stop_) {
          const Bytes tx = protocol::sign_transparent(protocol::SigningKey::generate(), market, 1,
                                                      market::RegisterAction{});
          submit_until_acknowledged(tx, gateway_, stop_, acks, tally);
        }
      });
    }
    threads_.emplace_back([this, &tally] {
      while (!stop_) {
        std::this_thread::sleep_for(300ms);
        const int generation = gateway_.generation();
        const auto start = Clock::now();
        auto reply = node::testing::get_health(gateway_.port(), 10s);
        const auto waited = Clock::now() - start;
        if (generation != gateway_.generation() || !reply.is_ok()) continue;
        // 200, or 503 while the log cannot append (an etcd election, a lost quorum): promptly.
        EXPECT_TRUE(reply->status == 200 || reply->status == 503) << reply->body;
        EXPECT_LT(waited, 2s) << "/v1/health waited behind slow clients or appends";
        if (waited < 2s) ++tally.health_answers;
      }
    });
    threads_.emplace_back([this, &tally] {
      const Bytes big(protocol::kMaxTransactionBytes + 1, 0x42);
      while (!stop_) {
        std::this_thread::sleep_for(700ms);
        const int generation = gateway_.generation();
        auto reply = node::testing::post_tx(gateway_.port(), big, "application/octet-stream", 10s);
        if (generation != gateway_.generation() || !reply.is_ok()) continue;
        EXPECT_EQ(reply->status, 413) << reply->body;
        if (reply->status == 413) ++tally.oversized;
      }
    });
  }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;
  ~Load() { stop(); }

  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  static constexpr int kWriters = 4;
  GatewayProcess& gateway_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// The invariant on the log's entries: every acknowledged transaction at its sequence, no bytes
// twice.
void check_log(const std::vector<ledger::LogEntry>& entries, const Acks& acks, Tally& tally) {
  std::map<std::uint64_t, Digest32> in_log;
  std::set<Digest32> seen;
  for (const auto& e : entries) {
    const Digest32 hash = blake2b_256(e.payload);
    in_log.emplace(e.sequence, hash);
    if (!seen.insert(hash).second) {
      ++tally.duplicated;
      ADD_FAILURE() << "the bytes of entry " << e.sequence << " are in the log twice";
    }
  }
  for (const auto& [sequence, hash] : acks.by_sequence) {
    const auto at = in_log.find(sequence);
    if (at == in_log.end() || at->second != hash) {
      ++tally.lost;
      ADD_FAILURE() << "acknowledged entry " << sequence << " is missing or changed";
    }
  }
  tally.acknowledged += acks.by_sequence.size();
}

// The following validator, started at the beginning of a run.
class FollowingValidator {
 public:
  FollowingValidator(const std::string& log, const std::string& dir)
      : snapshots_(dir + "/snaps"), output_(dir + "/follower.out") {
    pid_ = spawn_pfex(
        {"validator", "--log", log, "--snapshots", snapshots_, "--snapshot-every", "50"}, output_);
  }
  FollowingValidator(const FollowingValidator&) = delete;
  FollowingValidator& operator=(const FollowingValidator&) = delete;
  ~FollowingValidator() {
    if (pid_ > 0) kill_now(pid_);
  }

  // SIGTERM; it must still have been following, and stops cleanly with its final state.
  ValidatorRun stop() {
    ValidatorRun run;
    EXPECT_TRUE(running(pid_)) << "the following validator exited by itself:\n"
                               << file_text(output_);
    signal_child(pid_, SIGTERM);
    run.exit_code = wait_bounded(pid_, 60s);
    pid_ = 0;
    run.output = file_text(output_);
    parse_state(run);
    return run;
  }

  const std::string& snapshots() const { return snapshots_; }

 private:
  std::string snapshots_, output_;
  pid_t pid_ = 0;
};

// The validators' part of the invariant: a fresh replay, one restored from the follower's
// snapshots and the follower itself agree.
void check_validators(const std::string& log, const std::string& dir, FollowingValidator& follower,
                      std::size_t log_entries) {
  const ValidatorRun followed = follower.stop();
  EXPECT_EQ(followed.exit_code, 0) << followed.output;
  const ValidatorRun fresh = validate_once(log, "", dir + "/fresh");
  ASSERT_EQ(fresh.exit_code, 0) << fresh.output;
  ASSERT_FALSE(fresh.chain.empty()) << fresh.output;
  EXPECT_EQ(fresh.entries, log_entries) << fresh.output;
  const ValidatorRun restored = validate_once(log, follower.snapshots(), dir + "/restored");
  ASSERT_EQ(restored.exit_code, 0) << restored.output;
  EXPECT_NE(restored.output.find("restored snapshot"), std::string::npos) << restored.output;
  EXPECT_EQ(restored.chain, fresh.chain) << restored.output;
  EXPECT_EQ(restored.state, fresh.state) << restored.output;
  // The follower stopped when told, maybe before the last entries: the same state if caught up.
  if (followed.entries == fresh.entries) {
    EXPECT_EQ(followed.chain, fresh.chain) << followed.output;
    EXPECT_EQ(followed.state, fresh.state) << followed.output;
  }
}

// Lets the load run for a random 0.8-2 s.
void let_run(std::mt19937_64& rng) {
  std::this_thread::sleep_for(std::chrono::milliseconds(800 + rng() % 1200));
}

// A gateway crash mid-appends, a pause, a restart on the same port with new slow clients. With
// `file_log`, half the crashes are power losses: the operating system also loses part of what
// was written past the acknowledged end (not yet synced).
void crash_gateway(GatewayProcess& gateway, std::unique_ptr<node::testing::SlowClients>& slow,
                   std::mt19937_64& rng, Tally& tally, const std::string& file_log = "") {
  gateway.crash();
  ++tally.gateway_crashes;
  if (!file_log.empty() && rng() % 2 == 0) {
    ASSERT_NO_FATAL_FAILURE(lose_unsynced_tail(file_log, rng));
    ++tally.power_losses;
  }
  slow.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 800));
  gateway.start();
  slow = std::make_unique<node::testing::SlowClients>(gateway.port(), 10, 2000ms);
  tally.slow_clients += 10;
}

TEST(GatewayFaults, EtcdMemberKillsAndGatewayCrashesUnderConcurrentWritersLoseNothing) {
  Tally tally;
  std::mt19937_64 rng(20261202);
  for (int run = 0; run < runs(); ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    TempDir dir;
    EtcdCluster cluster;
    const Status started = cluster.start();
    ASSERT_TRUE(started.is_ok()) << started.to_string();
    const std::string spec = etcd_spec(cluster);
    protocol::testing::TestMarket market;
    GatewayProcess gateway(spec, market.id, dir.path().string());
    ASSERT_NO_FATAL_FAILURE(gateway.start());
    Acks acks;
    {
      std::atomic<bool> never{false};
      ASSERT_TRUE(submit_until_acknowledged(market.genesis, gateway, never, acks, tally));
    }
    FollowingValidator follower(spec, dir.path().string());
    auto slow = std::make_unique<node::testing::SlowClients>(gateway.port(), 10, 2000ms);
    tally.slow_clients += 10;
    Load load(gateway, market.id, acks, tally);
    // Each run kills the leader and crashes the gateway twice; the third fault is another
    // member, or two members at once (no quorum for 3 s).
    enum Fault { kLeader, kGateway, kOther };
    std::vector<Fault> faults = {kLeader, kGateway, kOther, kGateway};
    std::shuffle(faults.begin(), faults.end(), rng);
    for (const Fault fault : faults) {
      let_run(rng);
      if (fault == kGateway) {
        ASSERT_NO_FATAL_FAILURE(crash_gateway(gateway, slow, rng, tally));
        continue;
      }
      auto leader = cluster.leader();
      ASSERT_TRUE(leader.is_ok()) << leader.status().to_string();
      std::vector<int> victims = {*leader};
      if (fault == kOther) {
        victims = {1 + static_cast<int>(rng() % 3)};
        if (victims[0] == *leader) victims[0] = victims[0] % 3 + 1;
        if (run % 2 == 1) {  // the quorum goes too
          victims.push_back(*leader);
          ++tally.quorum_losses;
        }
      } else {
        ++tally.leader_kills;
      }
      for (const int member : victims) {
        const Status killed = cluster.kill_member(member);
        ASSERT_TRUE(killed.is_ok()) << killed.to_string();
        ++tally.member_kills;
      }
      std::this_thread::sleep_for(
          victims.size() > 1 ? 3000ms : std::chrono::milliseconds(500 + rng() % 2000));
      const Status back = cluster.start();
      ASSERT_TRUE(back.is_ok()) << back.to_string();
    }
    let_run(rng);
    load.stop();
    slow.reset();
    gateway.stop();
    ++tally.runs;
    ledger::EtcdLog::Options options;
    options.endpoints = cluster.endpoints();
    auto log = ledger::EtcdLog::open(options);
    ASSERT_TRUE(log.is_ok()) << log.status().to_string();
    const auto entries = read_all(**log);
    check_log(entries, acks, tally);
    check_validators(spec, dir.path().string(), follower, entries.size());
  }
  tally.print("gateway campaign, etcd log");
  EXPECT_EQ(tally.lost, 0u);
  EXPECT_EQ(tally.duplicated, 0u);
  EXPECT_GT(tally.acknowledged, 0u);
  EXPECT_GT(tally.oversized.load(), 0);
  EXPECT_GT(tally.health_answers.load(), 0);
  RecordProperty("runs", tally.runs);
  RecordProperty("gateway_crashes", tally.gateway_crashes);
  RecordProperty("member_kills", tally.member_kills);
  RecordProperty("acknowledged", static_cast<int>(tally.acknowledged));
  RecordProperty("lost", static_cast<int>(tally.lost));
}

TEST(GatewayFaults, FileLogGatewayCrashesUnderConcurrentWritersLoseNothing) {
  Tally tally;
  std::mt19937_64 rng(20261203);
  for (int run = 0; run < runs(); ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    TempDir dir;
    const std::string log = dir.file("log");
    protocol::testing::TestMarket market;
    GatewayProcess gateway(log, market.id, dir.path().string());
    ASSERT_NO_FATAL_FAILURE(gateway.start());
    Acks acks;
    {
      std::atomic<bool> never{false};
      ASSERT_TRUE(submit_until_acknowledged(market.genesis, gateway, never, acks, tally));
    }
    FollowingValidator follower(log, dir.path().string());
    auto slow = std::make_unique<node::testing::SlowClients>(gateway.port(), 10, 2000ms);
    tally.slow_clients += 10;
    Load load(gateway, market.id, acks, tally);
    for (int crash = 0; crash < 3; ++crash) {
      let_run(rng);
      ASSERT_NO_FATAL_FAILURE(crash_gateway(gateway, slow, rng, tally, log));
    }
    let_run(rng);
    load.stop();
    slow.reset();
    gateway.stop();
    ++tally.runs;
    auto reader = ledger::FileLogReader::open(log);
    ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
    const auto entries = read_all(**reader);
    check_log(entries, acks, tally);
    check_validators(log, dir.path().string(), follower, entries.size());
  }
  tally.print("gateway campaign, file log");
  EXPECT_EQ(tally.lost, 0u);
  EXPECT_EQ(tally.duplicated, 0u);
  EXPECT_GT(tally.acknowledged, 0u);
  EXPECT_GT(tally.oversized.load(), 0);
  RecordProperty("runs", tally.runs);
  RecordProperty("gateway_crashes", tally.gateway_crashes);
  RecordProperty("acknowledged", static_cast<int>(tally.acknowledged));
  RecordProperty("lost", static_cast<int>(tally.lost));
}

}  // namespace
}  // namespace pfex
