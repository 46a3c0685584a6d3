// The whole pipeline on a 3-member etcd cluster: wallets submit signed orders through the gateway,
// the Raft leader is killed with SIGKILL in the middle of the flow and brought back; no
// acknowledged transaction is lost or applied twice, and two validators reading through different
// members end on the same chain and state hash.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "ledger/etcd_cluster.hpp"
#include "ledger/etcd_log.hpp"
#include "node/gateway.hpp"
#include "node/log_adapter.hpp"
#include "node/submit.hpp"
#include "node/test_util.hpp"
#include "node/wallet.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/test_util.hpp"

namespace pfex::node {
namespace {

std::unique_ptr<ledger::EtcdLog> open_log(std::vector<std::string> endpoints) {
  ledger::EtcdLogOptions options;
  options.endpoints = std::move(endpoints);
  options.retry_deadline = std::chrono::milliseconds(20'000);
  auto log = ledger::EtcdLog::open(std::move(options));
  EXPECT_TRUE(log.is_ok()) << log.status().to_string();
  return std::move(log).value();
}

protocol::LedgerReplica replay(ledger::LogReader& log) {
  protocol::LedgerReplica v;
  for (;;) {
    auto batch = log.read(v.next_sequence(), 500);
    EXPECT_TRUE(batch.is_ok()) << batch.status().to_string();
    if (!batch || batch->empty()) return v;
    EXPECT_TRUE(v.apply_batch(node::to_protocol_entries(*batch), 2).is_ok());
  }
}

// Brings `replica` up to the end of the log and drops from the wallet's pending list what the
// log settled; a read error (the cluster mid-election) leaves both for the next call.
void catch_up(ledger::LogReader& log, protocol::LedgerReplica& replica, Wallet& w) {
  for (;;) {
    auto batch = log.read(replica.next_sequence(), 500);
    if (!batch || batch->empty()) return;
    if (!replica.apply_batch(to_protocol_entries(*batch), 1).is_ok()) return;
    EXPECT_TRUE(settle_pending(w, replica, *batch).is_ok());
  }
}

TEST(EtcdLedger, LeaderKilledMidFlowLosesNothingAndValidatorsAgree) {
  ledger::testing::EtcdCluster cluster;
  ASSERT_TRUE(cluster.start().is_ok());
  auto log = open_log(cluster.endpoints());
  protocol::testing::TestMarket m;
  ASSERT_TRUE(log->append(m.genesis).is_ok());
  Gateway gateway(*log, GatewayOptions{});
  auto port = gateway.start();
  ASSERT_TRUE(port.is_ok());
  SubmitOptions direct;
  direct.gateway = Endpoint{"127.0.0.1", *port};
  direct.timeout = std::chrono::milliseconds(30'000);

  testing::TempDir dir;
  constexpr int kTraders = 4;
  constexpr int kOrders = 40;
  std::vector<Wallet> wallets;
  std::vector<protocol::LedgerReplica> replicas(kTraders);  // each trader's node
  for (int i = 0; i < kTraders; ++i) {
    auto w = Wallet::create(dir.file("w") + std::to_string(i), "p", KdfParams::for_tests());
    ASSERT_TRUE(w.is_ok());
    ASSERT_TRUE(w->set_market(m.id).is_ok());
    ASSERT_TRUE(w->prepare(market::RegisterAction{}).is_ok());
    ASSERT_TRUE(submit_pending(*w, direct).is_ok());
    wallets.push_back(std::move(w).value());
  }
  {
    auto v = replay(*log);
    for (auto& w : wallets) {
      ASSERT_TRUE(v.account_of(w.public_key()).has_value());
      ASSERT_TRUE(w.set_account(*v.account_of(w.public_key())).is_ok());
      ASSERT_TRUE(w.prepare(market::DepositAction{*w.account(), Cash(100'000'000)}).is_ok());
      ASSERT_TRUE(submit_pending(w, direct).is_ok());
    }
  }
  for (int i = 0; i < kTraders; ++i)
    catch_up(*log, replicas[static_cast<std::size_t>(i)], wallets[static_cast<std::size_t>(i)]);

  std::atomic<int> submitted{0};
  std::atomic<int> failures{0};
  std::atomic<int> finished{0};  // trader threads that returned, normally or not
  std::vector<std::jthread> traders;
  for (int i = 0; i < kTraders; ++i) {
    traders.emplace_back([&, i] {
      Wallet& w = wallets[static_cast<std::size_t>(i)];
      struct Finish {
        std::atomic<int>& finished;
        ~Finish() { ++finished; }
      } finish{finished};
      for (int k = 0; k < kOrders; ++k) {
        const auto side = (k + i) % 2 == 0 ? market::Side::kBuy : market::Side::kSell;
        const std::int64_t price = 995 + (k * 7 + i) % 11;
        if (!w.prepare(market::SubmitAction{*w.account(),
                                            protocol::testing::limit(side, price, 1 + k % 3)})) {
          ++failures;
          return;
        }
        // A failure leaves the order pending; the next call submits it first.
        if (!submit_pending(w, direct)) ++failures;
        catch_up(*log, replicas[static_cast<std::size_t>(i)], w);
        ++submitted;
      }
    });
  }
  // Waits until `target` orders were submitted; fails (instead of hanging) if the traders stop
  // short of it or a minute passes.
  auto wait_for_submitted = [&](int target) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (submitted < target) {
      if (finished == kTraders || std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  };
  ASSERT_TRUE(wait_for_submitted(kTraders * kOrders / 3))
      << submitted << " submitted, " << failures << " failures";
  auto leader = cluster.leader();
  ASSERT_TRUE(leader.is_ok()) << leader.status().to_string();
  ASSERT_TRUE(cluster.kill_member(*leader).is_ok());
  ASSERT_TRUE(wait_for_submitted(kTraders * kOrders * 2 / 3))
      << submitted << " submitted, " << failures << " failures";
  ASSERT_TRUE(cluster.start().is_ok());  // the killed member comes back
  traders.clear();                       // joins
  for (int i = 0; i < kTraders; ++i) {
    Wallet& w = wallets[static_cast<std::size_t>(i)];
    for (int tries = 0; tries < 5 && !w.pending().empty(); ++tries) {
      (void)submit_pending(w, direct);
      catch_up(*log, replicas[static_cast<std::size_t>(i)], w);
    }
    EXPECT_TRUE(w.pending().empty());
  }

  auto v1 = replay(*log);
  std::vector<std::string> reversed(cluster.endpoints().rbegin(), cluster.endpoints().rend());
  auto other = open_log(reversed);
  auto v2 = replay(*other);
  EXPECT_EQ(v1.chain(), v2.chain());
  EXPECT_EQ(v1.state_hash(), v2.state_hash());
  // Every transaction each wallet signed is in the ledger exactly once: nothing was lost (the
  // last sequence is the wallet's), and nothing was rejected (no duplicate, no gap mistaken).
  for (auto& w : wallets)
    EXPECT_EQ(v1.last_sequence_of(w.public_key()), w.last_sequence());
  EXPECT_EQ(v1.accepted(), 1U + kTraders * (2U + kOrders));
  EXPECT_EQ(v1.rejected(), 0U);
  EXPECT_GT(v1.exchange()->trade_count(), 0U);
  std::printf("submission failures during the leader kill (resubmitted): %d\n", failures.load());
}

}  // namespace
}  // namespace pfex::node
