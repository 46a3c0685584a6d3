#include "node/auto_refresh.hpp"

#include <gtest/gtest.h>

#include "market/test_spec.hpp"

namespace pfex::node {
namespace {

using market::AccountId;
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
  EXPECT_EQ(node.due(r.ex, r.rich), Cash(0));
  EXPECT_FALSE(node.due(r.ex, r.rich));  // already tried this epoch with this cash
  ASSERT_TRUE(r.ex.refresh(LedgerTime(3), r.rich, Cash(0)).is_ok());
  EXPECT_FALSE(node.due(r.ex, r.rich));  // refreshed
}

TEST(AutoRefresh, AnAccountShortOfMarginLeavesTheRefreshToItsOwner) {
  Round r;
  AutoRefresh node;
  EXPECT_FALSE(node.due(r.ex, r.poor));  // the exchange would refuse: nothing is sent
  EXPECT_FALSE(node.due(r.ex, r.poor));
  // The owner answers the call with a refresh that carries the deposit (a deposit alone is
  // refused before the refresh); then the node has nothing to send.
  ASSERT_FALSE(r.ex.deposit(LedgerTime(3), r.poor, Cash(1'000'000)).is_ok());
  ASSERT_TRUE(r.ex.refresh(LedgerTime(3), r.poor, Cash(1'000'000)).is_ok());
  EXPECT_FALSE(node.due(r.ex, r.poor));
}

TEST(AutoRefresh, NothingToDoOutsideARefreshWindow) {
  market::Exchange ex =
      *market::Exchange::open(market::testing::small_spec(), Price(1000), LedgerTime(0));
  const AccountId a = *ex.register_account(LedgerTime(0));
  AutoRefresh node;
  EXPECT_FALSE(node.due(ex, a));
  EXPECT_FALSE(node.due(ex, AccountId{99}));  // unknown account
}

// A round with a shortfall levy. A short sells 3 to the holder and defaults at the first round;
// the fund keeps what the holder does not sell it, marked at the band's edge, and loses when the
// price walks up an epoch later, so the third round (at 360 s, reference 11.03) levies lambda per
// contract on the holder's position. Rounds every 120 s, windows of 60 s.
struct LevyRound {
  static market::ContractSpec spec() {
    market::ContractSpec s = market::testing::small_spec();
    s.settlement_interval_ms = 120'000;
    return s;
  }
  static LedgerTime at(std::int64_t seconds) { return LedgerTime(seconds * 1000); }
  market::Exchange ex = *market::Exchange::open(spec(), Price(1000), LedgerTime(0));
  AccountId holder, shorter;

  // `keep`: the holder's cash, above the least the second epoch's band allows, before the round.
  explicit LevyRound(std::int64_t keep) {
    holder = *ex.register_account(LedgerTime(0));
    shorter = *ex.register_account(LedgerTime(0));
    EXPECT_TRUE(ex.deposit(LedgerTime(0), holder, Cash(1'000'000)).is_ok());
    EXPECT_TRUE(ex.deposit(LedgerTime(0), shorter, Cash(std::int64_t{3} * 1351)).is_ok());
    EXPECT_TRUE(
        ex.submit(at(1), shorter, {Side::kSell, OrderType::kLimit, Price(1000), Qty(3)}).is_ok());
    EXPECT_TRUE(
        ex.submit(at(1), holder, {Side::kBuy, OrderType::kImmediateOrCancel, Price(1000), Qty(3)})
            .is_ok());
    EXPECT_TRUE(ex.refresh(at(121), holder, Cash(0)).is_ok());
    ex.advance(at(180));  // the short defaults; the fund bids for 3 at 10.50
    EXPECT_EQ(ex.submit(at(185), holder,
                        {Side::kSell, OrderType::kImmediateOrCancel, Price(1050), Qty(1)})
                  ->filled,
              Qty(1));
    EXPECT_TRUE(ex.refresh(at(241), holder, Cash(0)).is_ok());
    ex.advance(at(300));  // band [9.97, 11.03]: the fund bids for the other 2 at 11.03
    EXPECT_EQ(ex.submit(at(305), holder,
                        {Side::kSell, OrderType::kImmediateOrCancel, Price(1103), Qty(1)})
                  ->filled,
              Qty(1));
    // Long 1 in band [9.97, 11.03] (M = 900): E_L = c + 9,970 - 900 >= 0.
    const std::int64_t least = 900 - 9'970;
    const std::int64_t cash = ex.account(holder)->cash.value();
    EXPECT_TRUE(ex.withdraw(at(310), holder, Cash(cash - least - keep)).is_ok());
    ex.advance(at(360));
    EXPECT_EQ(ex.phase(), market::Phase::kRefreshWindow);
  }
  std::int64_t called() const {
    std::int64_t amount = -1;
    for (const market::Event& e : ex.events()) {
      if (const auto* c = std::get_if<market::MarginCall>(&e.body)) {
        if (c->account == holder) amount = c->amount.value();
      }
    }
    return amount;
  }
};

// The levy is part of the refresh: a node whose account passes the new band before the levy but
// not after it deposits exactly the rest of the levy (the margin call's amount), and the exchange
// accepts it; one unit less would be refused.
// The fund, short 1 at 11.03 with 12,628 in cash, owes the short's round its equity at the
// liquidation price, 34,050 - 31,500 = 2,550 (the penalty of 15 counts as owed until the exit
// period lapses): a deficit of 952 on the holder's gross of 2 at the previous close,
// lambda = 476. Long 1 in band [10.47, 11.59] (M = 940), the holder has 460 of headroom: it must
// deposit 16.
TEST(AutoRefresh, DepositsWhatTheLevyTakesBeyondTheAccountsHeadroom) {
  LevyRound r(0);
  ASSERT_EQ(r.ex.levy_per_contract(), Cash(476));
  AutoRefresh node;
  const std::optional<Cash> deposit = node.due(r.ex, r.holder);
  ASSERT_TRUE(deposit);
  EXPECT_EQ(*deposit, Cash(16));
  EXPECT_EQ(r.called(), 16);
  EXPECT_FALSE(r.ex.refresh(LedgerTime(361'000), r.holder, Cash(deposit->value() - 1)).is_ok());
  EXPECT_TRUE(r.ex.refresh(LedgerTime(361'000), r.holder, *deposit).is_ok());
}

TEST(AutoRefresh, AHeadroomThatCoversTheLevyNeedsNoDeposit) {
  LevyRound r(476 - 460);  // exactly enough headroom
  ASSERT_EQ(r.ex.levy_per_contract(), Cash(476));
  AutoRefresh node;
  EXPECT_EQ(node.due(r.ex, r.holder), Cash(0));
  EXPECT_TRUE(r.ex.refresh(LedgerTime(361'000), r.holder, Cash(0)).is_ok());
}

}  // namespace
}  // namespace pfex::node
