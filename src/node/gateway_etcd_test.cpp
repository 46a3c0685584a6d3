// The gateway in front of an EtcdLog: slow clients do not starve it, and a replay appends
// nothing (the etcd log is idempotent, but the gateway refuses before it is asked).
#include <gtest/gtest.h>

#include "ledger/etcd_cluster.hpp"
#include "ledger/etcd_log.hpp"
#include "node/gateway.hpp"
#include "node/gateway_test_util.hpp"
#include "protocol/test_util.hpp"

namespace pfex::node {
namespace {

using namespace std::chrono_literals;

TEST(EtcdGateway, SlowClientsDoNotStarveOthersAndReplaysAreRefused) {
  ledger::testing::EtcdCluster cluster;
  Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  ledger::EtcdLog::Options log_options;
  log_options.endpoints = cluster.endpoints();
  auto log = ledger::EtcdLog::open(log_options);
  ASSERT_TRUE(log.is_ok()) << log.status().to_string();
  protocol::testing::TestMarket m;
  GatewayOptions options;
  options.market = m.id;
  options.request_deadline = 5s;
  Gateway gateway(**log, options);
  auto port = gateway.start();
  ASSERT_TRUE(port.is_ok()) << port.status().to_string();

  std::vector<Bytes> txs{m.genesis};
  for (int i = 0; i < 5; ++i) {
    protocol::testing::Trader t;
    txs.push_back(m.sign(t, market::RegisterAction{}));
  }
  testing::expect_served_despite_slow_clients(*port, txs, options.request_deadline);

  auto replay = testing::post_tx(*port, txs[1]);
  ASSERT_TRUE(replay.is_ok()) << replay.status().to_string();
  EXPECT_EQ(replay->status, 409) << replay->body;
  auto entries = (*log)->read(1, 100);
  ASSERT_TRUE(entries.is_ok());
  EXPECT_EQ(entries->size(), txs.size());
}

}  // namespace
}  // namespace pfex::node
