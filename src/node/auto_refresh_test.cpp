#include "node/auto_refresh.hpp"

#include <gtest/gtest.h>

#include "market/test_spec.hpp"

namespace pfex::node {
namespace {

using market::AccountId;
using market::OrderRequest;
using market::OrderType;
using market::Side;

// Two accounts trade 10 lots at the low edge (950) of the small contract: the breaker trips and a
// margin round opens. `rich` passes the new band; `poor`, long 10 on 10,000, does not.
struct Round {
  market::Exchange ex =
      *market::Exchange::open(market::testing::small_spec(), Price(1000), LedgerTime(0));
  AccountId rich, poor;

  Round() {
    rich = *ex.register_account(LedgerTime(0));
    poor = *ex.register_account(LedgerTime(0));
    EXPECT_TRUE(ex.deposit(LedgerTime(0), rich, Cash(1'000'000)).is_ok());
    EXPECT_TRUE(ex.deposit(LedgerTime(0), poor, Cash(10'000)).is_ok());
    EXPECT_TRUE(
        ex.submit(LedgerTime(1), rich, {Side::kSell, OrderType::kLimit, Price(950), Qty(10)})
            .is_ok());
    EXPECT_TRUE(ex.submit(LedgerTime(2), poor, {Side::kBuy, OrderType::kLimit, Price(950), Qty(10)})
                    .is_ok());
    EXPECT_EQ(ex.phase(), market::Phase::kRefreshWindow);
  }
};

TEST(AutoRefresh, DueOncePerRoundForAnAccountThatPassesTheNewBand) {
  Round r;
  AutoRefresh node;
  EXPECT_TRUE(node.due(r.ex, r.rich));
  EXPECT_FALSE(node.due(r.ex, r.rich));  // already tried this epoch with this cash
  ASSERT_TRUE(r.ex.refresh(LedgerTime(3), r.rich, Cash(0)).is_ok());
  EXPECT_FALSE(node.due(r.ex, r.rich));  // refreshed
}

TEST(AutoRefresh, AnAccountShortOfMarginWaitsForADeposit) {
  Round r;
  AutoRefresh node;
  EXPECT_FALSE(node.due(r.ex, r.poor));  // the exchange would refuse: nothing is sent
  EXPECT_FALSE(node.due(r.ex, r.poor));
  ASSERT_TRUE(r.ex.deposit(LedgerTime(3), r.poor, Cash(1'000'000)).is_ok());
  EXPECT_TRUE(node.due(r.ex, r.poor));  // the deposit answered the call: try again
  EXPECT_TRUE(r.ex.refresh(LedgerTime(4), r.poor, Cash(0)).is_ok());
}

TEST(AutoRefresh, NothingToDoOutsideARefreshWindow) {
  market::Exchange ex =
      *market::Exchange::open(market::testing::small_spec(), Price(1000), LedgerTime(0));
  const AccountId a = *ex.register_account(LedgerTime(0));
  AutoRefresh node;
  EXPECT_FALSE(node.due(ex, a));
  EXPECT_FALSE(node.due(ex, AccountId{99}));  // unknown account
}

}  // namespace
}  // namespace pfex::node
