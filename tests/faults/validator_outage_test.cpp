// A following `pfex validator` across a 20 s outage of the whole etcd cluster: it keeps retrying
// with backoff, says so on stderr, does not exit, and catches up once the cluster is back, to the
// chain and state a fresh replay reports. Needs etcd: fails without it.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "fault_util.hpp"
#include "ledger/etcd_cluster.hpp"
#include "ledger/etcd_log.hpp"
#include "ledger/test_util.hpp"
#include "protocol/test_util.hpp"
#include "protocol/transaction.hpp"

namespace pfex {
namespace {

using namespace std::chrono_literals;
using namespace faults;
using Clock = std::chrono::steady_clock;

// Appends `count` registrations of new keys.
void append_registrations(ledger::Log& log, const protocol::MarketId& market, int count) {
  for (int i = 0; i < count; ++i) {
    auto appended = log.append(protocol::sign_transparent(protocol::SigningKey::generate(), market,
                                                          1, market::RegisterAction{}));
    ASSERT_TRUE(appended.is_ok()) << appended.status().to_string();
  }
}

// Asks the validator `pid` for its state (SIGUSR1) until it reports `entries`, for up to `limit`.
bool reaches(pid_t pid, const std::string& output, std::uint64_t entries,
             std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline && running(pid)) {
    signal_child(pid, SIGUSR1);
    std::this_thread::sleep_for(300ms);
    ValidatorRun run;
    run.output = file_text(output);
    parse_state(run);
    if (run.entries == entries) return true;
  }
  return false;
}

TEST(ValidatorOutage, AFollowingValidatorRetriesThroughA20SecondEtcdOutageAndCatchesUp) {
  ledger::testing::TempDir dir;
  ledger::testing::EtcdCluster cluster;
  const Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  std::string spec = "etcd:";
  for (const auto& endpoint : cluster.endpoints())
    spec += (spec.size() > 5 ? "," : "") + endpoint;
  protocol::testing::TestMarket market;
  {
    ledger::EtcdLog::Options options;
    options.endpoints = cluster.endpoints();
    auto log = ledger::EtcdLog::open(options);
    ASSERT_TRUE(log.is_ok()) << log.status().to_string();
    ASSERT_TRUE((*log)->append(market.genesis).is_ok());
    ASSERT_NO_FATAL_FAILURE(append_registrations(**log, market.id, 20));
  }
  const std::string output = dir.file("validator.out");
  const pid_t validator =
      spawn_pfex({"validator", "--log", spec, "--snapshots", dir.file("snaps")}, output);
  struct Reaper {
    pid_t pid;
    ~Reaper() { kill_now(pid); }
  } reaper{validator};
  // SIGUSR1 kills a validator that has not installed its handler yet: wait for "following".
  const auto deadline = Clock::now() + 30s;
  while (file_text(output).find("following") == std::string::npos && Clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(reaches(validator, output, 21, 30s)) << file_text(output);

  for (int member = 1; member <= 3; ++member) {
    const Status killed = cluster.kill_member(member);
    ASSERT_TRUE(killed.is_ok()) << killed.to_string();
  }
  const auto outage_end = Clock::now() + 20s;
  while (Clock::now() < outage_end) {
    ASSERT_TRUE(running(validator)) << "the validator gave up during the outage:\n"
                                    << file_text(output);
    std::this_thread::sleep_for(100ms);
  }
  const std::string during = file_text(output);
  EXPECT_NE(during.find("log unavailable ("), std::string::npos) << during;
  EXPECT_NE(during.find("; retrying in "), std::string::npos) << during;
  for (std::size_t at = during.find("log unavailable"); at != std::string::npos;
       at = during.find("log unavailable", at + 1)) {
    std::printf("validator during the outage: %s\n",
                during.substr(at, during.find('\n', at) - at).c_str());
  }

  const Status back = cluster.start();
  ASSERT_TRUE(back.is_ok()) << back.to_string();
  {
    ledger::EtcdLog::Options options;
    options.endpoints = cluster.endpoints();
    auto log = ledger::EtcdLog::open(options);
    ASSERT_TRUE(log.is_ok()) << log.status().to_string();
    ASSERT_NO_FATAL_FAILURE(append_registrations(**log, market.id, 30));
  }
  ASSERT_TRUE(reaches(validator, output, 51, 60s)) << file_text(output);
  EXPECT_NE(file_text(output).find("log reachable again"), std::string::npos) << file_text(output);
  signal_child(validator, SIGTERM);
  ASSERT_EQ(wait_bounded(validator, 30s), 0) << file_text(output);
  reaper.pid = 0;
  ValidatorRun followed;
  followed.output = file_text(output);
  parse_state(followed);
  const ValidatorRun fresh = validate_once(spec, "", dir.file("fresh"));
  ASSERT_EQ(fresh.exit_code, 0) << fresh.output;
  EXPECT_EQ(fresh.entries, 51u) << fresh.output;
  EXPECT_EQ(followed.chain, fresh.chain) << followed.output;
  EXPECT_EQ(followed.state, fresh.state) << followed.output;
}

}  // namespace
}  // namespace pfex
