// Circuit breaker, margin rounds, defaults, liquidation and the shortfall levy, including the seed
// paper's price-discrimination example worked through in docs/design.md section 3.
#include <gtest/gtest.h>

#include "market/exchange.hpp"
#include "market/exchange_test_util.hpp"

namespace pfex::market {
namespace {

using testing::buy;
using testing::sell;

constexpr std::int64_t kSecond = 1000;

class BreakerTest : public testing::ExchangeFixture {
 protected:
  // Trades `qty` lots with itself at `price` (a wash trade: sell rests, buy takes it).
  void wash(AccountId who, std::int64_t price, std::int64_t qty) {
    place(who, sell(price, qty));
    place(who, buy(price, qty));
  }
};

TEST_F(BreakerTest, OneLotAtTheEdgeDoesNotHaltButTheThresholdVolumeDoes) {
  AccountId m = funded(100'000'000);
  wash(m, 1050, 1);
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
  now_ = LedgerTime(5 * kSecond);
  wash(m, 1050, 8);  // 9 lots at H within T_cb = 10 s: still below Q_cb = 10
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
  now_ = LedgerTime(12 * kSecond);  // the first lot left the window
  wash(m, 1050, 1);
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
  wash(m, 1050, 1);  // 10 lots within (2 s, 12 s]
  EXPECT_EQ(ex_.phase(), Phase::kRefreshWindow);
  auto halts = events_of<MarketHalted>();
  ASSERT_EQ(halts.size(), 1u);
  EXPECT_EQ(halts[0].reason, HaltReason::kBreakerVolume);
  // After a breaker the next band is widened once: d = 1.5 * 5% = 7.5% around 1050.
  EXPECT_EQ(ex_.band().reference, Price(1050));
  EXPECT_EQ(ex_.band().low, Price(971));    // floor(1050 * 0.925)
  EXPECT_EQ(ex_.band().high, Price(1129));  // ceil(1050 * 1.075)
  EXPECT_TRUE(events_of<EpochOpened>().back().widened);
}

TEST_F(BreakerTest, StandingBidAtTheHighEdgeHaltsAfterTheBreakerWindow) {
  AccountId m = funded(100'000'000);
  now_ = LedgerTime(1 * kSecond);
  OrderOutcome bid = place(m, buy(1050, 1));
  ex_.advance(LedgerTime(10 * kSecond));  // 9 s at the edge
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
  ex_.advance(LedgerTime(11 * kSecond));
  EXPECT_EQ(ex_.phase(), Phase::kRefreshWindow);
  EXPECT_EQ(events_of<MarketHalted>().back().reason, HaltReason::kBreakerStanding);
  // The halt happened at 11 s and expired the bid.
  EXPECT_EQ(ex_.window_close(), LedgerTime(11 * kSecond + 60 * kSecond));
  auto closed = events_of<OrderClosed>();
  ASSERT_FALSE(closed.empty());
  EXPECT_EQ(closed.back().id, bid.id);
  EXPECT_EQ(closed.back().reason, CloseReason::kExpired);
  EXPECT_EQ(acct(m).open_buy, Qty(0));
}

TEST_F(BreakerTest, StandingQuoteTimerResetsWhenTheQuoteLeavesTheEdge) {
  AccountId m = funded(100'000'000);
  OrderOutcome bid = place(m, buy(1050, 1));
  now_ = LedgerTime(9 * kSecond);
  ASSERT_TRUE(ex_.cancel(now_, m, bid.id).is_ok());
  now_ = LedgerTime(10 * kSecond);
  place(m, buy(1050, 1));
  ex_.advance(LedgerTime(19 * kSecond));
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
}

TEST_F(BreakerTest, RefreshWindowLetsRefreshedAccountsTradeAndStartsNoBreaker) {
  AccountId m = funded(100'000'000);
  AccountId offline = funded(100'000'000);
  wash(m, 1050, 10);
  ASSERT_EQ(ex_.phase(), Phase::kRefreshWindow);
  EXPECT_FALSE(acct(m).refreshed);  // refresh is always the account's own action
  ASSERT_TRUE(ex_.refresh(now_, m, Cash(0)).is_ok());
  EXPECT_FALSE(acct(offline).refreshed);
  Result<OrderOutcome> r = ex_.submit(now_, offline, buy(1050, 1));
  EXPECT_EQ(r.status().message(), "the account must refresh for epoch 1 before it trades");
  // Any volume at the new edge during the window: no new breaker.
  wash(m, 1129, 50);
  place(m, buy(1129, 1));
  ex_.advance(LedgerTime(now_.value() + 30 * kSecond));
  EXPECT_EQ(ex_.phase(), Phase::kRefreshWindow);
  EXPECT_EQ(ex_.epoch(), 1u);
  ASSERT_TRUE(ex_.refresh(now_, offline, Cash(0)).is_ok());
  EXPECT_TRUE(ex_.submit(now_, offline, buy(1000, 1)).is_ok());
  // Window closes at 60 s: nobody defaults, the standing bid at H starts the timer afresh.
  ex_.advance(LedgerTime(61 * kSecond));
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
  EXPECT_TRUE(events_of<Defaulted>().empty());
  ex_.advance(LedgerTime(71 * kSecond));
  EXPECT_EQ(ex_.phase(), Phase::kRefreshWindow);
  EXPECT_EQ(ex_.epoch(), 2u);
}

// An account that has not refreshed in the open round deposits only with its refresh: the private
// mode's old token may only settle or refresh, so both modes refuse a deposit on its own.
TEST_F(BreakerTest, ADepositBeforeTheRefreshGoesWithTheRefresh) {
  AccountId m = funded(100'000'000);
  AccountId late = funded(100'000);
  wash(m, 1050, 10);
  ASSERT_EQ(ex_.phase(), Phase::kRefreshWindow);
  const Digest32 before = ex_.state_hash();
  Status alone = ex_.deposit(now_, late, Cash(500));
  EXPECT_EQ(alone.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(alone.message(),
            "account 2 has not refreshed in this margin round: deposit with the refresh");
  EXPECT_EQ(ex_.state_hash(), before);
  ASSERT_TRUE(ex_.refresh(now_, late, Cash(500)).is_ok());
  EXPECT_EQ(acct(late).cash, Cash(100'500));
  // Refreshed, inside the window or after it: deposits as usual.
  ASSERT_TRUE(ex_.refresh(now_, m, Cash(0)).is_ok());
  EXPECT_TRUE(ex_.deposit(now_, m, Cash(7)).is_ok());
  EXPECT_TRUE(ex_.deposit(now_, late, Cash(7)).is_ok());
  EXPECT_EQ(acct(late).cash, Cash(100'507));
}

// While the fund's liquidation order rests at an edge, no breaker locks the market at that edge:
// a 1-lot bid behind the fund's bid at H must not end the liquidation after T_cb.
TEST_F(BreakerTest, NoBreakerAtTheEdgeWhereALiquidationOrderRests) {
  AccountId x = funded(13'520);  // short 10 at 1000: exactly solvent at 1050
  AccountId y = funded(10'000'000);
  AccountId m = funded(100'000'000);
  place(x, sell(1000, 10));
  place(y, buy(1000, 10));
  now_ = LedgerTime(20 * kSecond);
  wash(m, 1050, 10);  // breaker: band [971, 1129], window closes at 80 s; X does not refresh
  ASSERT_TRUE(ex_.refresh(now_, y, Cash(0)).is_ok());
  ASSERT_TRUE(ex_.refresh(now_, m, Cash(0)).is_ok());
  ex_.advance(LedgerTime(80 * kSecond + 1));  // the close and its deadline, D_res = 1 ms later
  ASSERT_EQ(events_of<Defaulted>().size(), 1u);
  ASSERT_EQ(ex_.book().best(Side::kBuy), Price(1129));  // the fund buys back X's short 10
  now_ = LedgerTime(81 * kSecond);
  place(m, buy(1129, 1));
  ex_.advance(LedgerTime(200 * kSecond));
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
  EXPECT_EQ(ex_.epoch(), 1u);
  EXPECT_TRUE(events_of<LiquidationFinished>().empty());
  // Y sells 11 at H: the fund's 10 first, then M's lot; one regular lot at the edge, no halt.
  now_ = LedgerTime(200 * kSecond);
  place(y, sell(1129, 11));
  ASSERT_EQ(events_of<LiquidationFinished>().size(), 1u);
  EXPECT_EQ(events_of<LiquidationFinished>()[0].filled, Qty(10));
  EXPECT_EQ(ex_.fund().position, 0);
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
  // With the liquidation over, a standing bid at H locks the market again after T_cb.
  place(m, buy(1129, 1));
  ex_.advance(LedgerTime(210 * kSecond));
  EXPECT_EQ(ex_.phase(), Phase::kRefreshWindow);
  EXPECT_EQ(events_of<MarketHalted>().back().reason, HaltReason::kBreakerStanding);
}

// From the halt until the liquidation starts no halt of any kind: not even final settlement.
TEST_F(BreakerTest, FinalSettlementWaitsForTheRefreshWindowToClose) {
  AccountId m = funded(100'000'000);
  wash(m, 1050, 10);
  ASSERT_EQ(ex_.phase(), Phase::kRefreshWindow);
  ASSERT_TRUE(ex_.refresh(now_, m, Cash(0)).is_ok());
  Digest32 before = ex_.state_hash();
  Status s = ex_.settle_final(now_, Price(1050));
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "a margin round is open; final settlement waits for its window to close");
  EXPECT_EQ(ex_.state_hash(), before);
  // Nor from the close until its resolution deadline (D_res = 1 ms).
  EXPECT_EQ(ex_.settle_final(LedgerTime(60 * kSecond), Price(1050)).code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(ex_.settle_final(LedgerTime(60 * kSecond + 1), Price(1050)).is_ok());
  EXPECT_EQ(ex_.phase(), Phase::kClosed);
}

// D_res = 30 s: a round's defaulters are taken over by the fund at close + D_res, when the
// private mode's validators have decrypted the round, and from the halt until then no halt of
// any kind starts (docs/market.md, "Margin round").
ContractSpec resolving_spec() {
  ContractSpec s = testing::small_spec();
  s.resolution_ms = 30 * kSecond;
  return s;
}

class ResolutionDeadline : public testing::ExchangeFixture {
 protected:
  ResolutionDeadline() : ExchangeFixture(resolving_spec()) {}
  void wash(AccountId who, std::int64_t price, std::int64_t qty) {
    place(who, sell(price, qty));
    place(who, buy(price, qty));
  }
  // The breaker at 20 s opens epoch 1 (band [971, 1129]); its window closes at 80 s and the
  // round's deadline is 110 s. With `x`, X is short 10 at 1000 and misses the refresh.
  void breaker_round(bool x) {
    m_ = funded(100'000'000);
    y_ = funded(10'000'000);
    if (x) {
      x_ = funded(13'520);
      place(x_, sell(1000, 10));
      place(y_, buy(1000, 10));
    }
    now_ = LedgerTime(20 * kSecond);
    wash(m_, 1050, 10);
    ASSERT_EQ(ex_.phase(), Phase::kRefreshWindow);
    ASSERT_TRUE(ex_.refresh(now_, y_, Cash(0)).is_ok());
    ASSERT_TRUE(ex_.refresh(now_, m_, Cash(0)).is_ok());
  }
  static constexpr LedgerTime kClose{80 * kSecond};
  static constexpr LedgerTime kDeadline{110 * kSecond};
  AccountId x_, y_, m_;
};

TEST_F(ResolutionDeadline, TheFundTakesTheDefaultersOverAtTheDeadlineNotBefore) {
  breaker_round(true);
  ex_.advance(kClose);
  ASSERT_EQ(events_of<Defaulted>().size(), 1u);  // X defaults at the close
  EXPECT_EQ(acct(x_).status, AccountStatus::kDefaulted);
  const LedgerTime before(kDeadline.value() - 1);
  ex_.advance(before);
  EXPECT_EQ(ex_.fund().position, 0);
  EXPECT_EQ(acct(x_).position, -10);  // frozen: it can neither trade nor exit yet
  EXPECT_FALSE(ex_.book().best(Side::kBuy).has_value());
  const Digest32 waiting = ex_.state_hash();
  const Result<Cash> early_exit = ex_.exit(before, x_);
  ASSERT_FALSE(early_exit.is_ok());
  EXPECT_NE(early_exit.status().message().find("starts at the resolution deadline (110000 ms"),
            std::string_view::npos)
      << early_exit.status().to_string();
  const Status settle = ex_.settle_final(before, Price(1050));
  EXPECT_EQ(settle.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(settle.message().find("final settlement waits for it"), std::string_view::npos);
  EXPECT_EQ(ex_.state_hash(), waiting);
  // The snapshot carries the wait: restored, it takes X over at the same deadline.
  Result<Exchange> restored = Exchange::restore(ex_.snapshot());
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  EXPECT_EQ(restored->state_hash(), waiting);

  ex_.advance(kDeadline);
  restored->advance(kDeadline);
  EXPECT_EQ(ex_.fund().position, -10);
  EXPECT_EQ(acct(x_).position, 0);
  EXPECT_EQ(acct(x_).cash, Cash(0));
  EXPECT_EQ(ex_.book().best(Side::kBuy), Price(1129));  // the fund buys X's short back at H
  EXPECT_EQ(restored->state_hash(), ex_.state_hash());
  EXPECT_EQ(ex_.events().back().time, kDeadline);
}

TEST_F(ResolutionDeadline, NoHaltOfAnyKindUntilTheDeadline) {
  breaker_round(false);
  ex_.advance(kClose);
  EXPECT_TRUE(events_of<Defaulted>().empty());
  now_ = LedgerTime(85 * kSecond);
  wash(m_, 1129, 10);  // Q_cb lots at H within T_cb: no breaker before the deadline
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
  now_ = LedgerTime(95 * kSecond);
  place(m_, buy(1129, 1));  // stands at H for more than T_cb before the deadline
  ex_.advance(LedgerTime(kDeadline.value() - 1));
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
  EXPECT_EQ(ex_.epoch(), 1u);
  // At the deadline the standing quote's breaker, held since 105 s, halts the market.
  ex_.advance(kDeadline);
  EXPECT_EQ(ex_.phase(), Phase::kRefreshWindow);
  EXPECT_EQ(ex_.epoch(), 2u);
  EXPECT_EQ(events_of<MarketHalted>().back().reason, HaltReason::kBreakerStanding);
  EXPECT_EQ(ex_.window_close(), LedgerTime(kDeadline.value() + 60 * kSecond));
}

TEST(ScheduledRound, ExpiresRestingOrdersAndKeepsTheBandWidth) {
  ContractSpec spec = testing::small_spec();
  spec.settlement_interval_ms = 3600 * kSecond;
  Exchange ex = *Exchange::open(spec, Price(1000), LedgerTime(0));
  AccountId a = *ex.register_account(LedgerTime(0));
  ASSERT_TRUE(ex.deposit(LedgerTime(0), a, Cash(1'000'000)).is_ok());
  ASSERT_TRUE(ex.submit(LedgerTime(1), a, buy(990, 3)).is_ok());
  ASSERT_TRUE(ex.submit(LedgerTime(1), a, sell(1010, 2)).is_ok());
  ex.advance(LedgerTime(3600 * kSecond));
  EXPECT_EQ(ex.phase(), Phase::kRefreshWindow);
  EXPECT_TRUE(ex.book().empty());
  Account after = *ex.account(a);
  EXPECT_FALSE(after.has_open_orders());
  EXPECT_EQ(after.open_buy_ticks, 0);
  EXPECT_EQ(after.open_sell_ticks, 0);
  // No trade: the reference stays; no breaker: the band is not widened.
  EXPECT_EQ(ex.band().low, Price(950));
  EXPECT_EQ(ex.band().high, Price(1050));
}

TEST(ScheduledRound, NextReferenceIsTheVwapOfTheLastTref) {
  ContractSpec spec = testing::small_spec();  // T_ref = 10 s
  spec.settlement_interval_ms = 3600 * kSecond;
  Exchange ex = *Exchange::open(spec, Price(1000), LedgerTime(0));
  AccountId a = *ex.register_account(LedgerTime(0));
  ASSERT_TRUE(ex.deposit(LedgerTime(0), a, Cash(100'000'000)).is_ok());
  auto trade = [&](std::int64_t at_s, std::int64_t price, std::int64_t qty) {
    ASSERT_TRUE(ex.submit(LedgerTime(at_s * kSecond), a, sell(price, qty)).is_ok());
    ASSERT_TRUE(ex.submit(LedgerTime(at_s * kSecond), a, buy(price, qty)).is_ok());
  };
  trade(100, 960, 9);    // long before the round: ignored
  trade(3595, 1010, 1);  // inside the last 10 s
  trade(3598, 1013, 2);
  ex.advance(LedgerTime(3600 * kSecond));
  ASSERT_EQ(ex.epoch(), 1u);
  EXPECT_EQ(ex.band().reference, Price(1012));  // (1010 + 2*1013) / 3 = 1012 rounded half up
}

// ---- docs/design.md section 3, the seed paper's example
// ----------------------------------------------
//
// Alice is short 90 with $1,400 cash: her net worth is $500 at $10 and $230 at $13. A rival who
// knew it could try to push the price to $15-$16 to drive her under. Contract: one unit, $0.01
// tick worth $0.01, d = m = 4%, no widening, Q_cb = 20 lots in 60 s.
class SeedExample : public testing::ExchangeFixture {
 protected:
  SeedExample() : ExchangeFixture(spec(), 1300) {}
  static ContractSpec spec() {
    ContractSpec s = seed_example_preset();
    s.resolution_ms = 1;  // the fund takes a defaulter over 1 ms after the close
    return s;
  }

  void SetUp() override {
    alice = funded(23'000);  // $230: after selling 90 at $13.00 her cash is $1,400
    bob = funded(200'000);
    mallory = funded(100'000'000);
    place(alice, sell(1300, 90));
    place(bob, buy(1300, 90));
  }

  // Mallory trades with himself at the high edge until the breaker halts the market; Bob and
  // Mallory (online) refresh at once, and Alice too when she passes the new band.
  void lock_limit_up(std::int64_t at_ms) {
    now_ = LedgerTime(at_ms);
    const std::int64_t high = ex_.band().high.value();
    place(mallory, sell(high, 20));
    place(mallory, buy(high, 20));
    EXPECT_TRUE(ex_.refresh(now_, bob, Cash(0)).is_ok());
    EXPECT_TRUE(ex_.refresh(now_, mallory, Cash(0)).is_ok());
    alice_passed = ex_.refresh(now_, alice, Cash(0)).is_ok();
  }
  bool alice_passed = false;

  AccountId alice, bob, mallory;
};

TEST_F(SeedExample, NetWorthAtTenAndThirteen) {
  EXPECT_EQ(acct(alice).cash, Cash(140'000));
  EXPECT_EQ(acct(alice).position, -90);
  EXPECT_EQ(acct(alice).cash.value() + acct(alice).position * 1000, 50'000);  // $500 at $10
  EXPECT_EQ(acct(alice).cash.value() + acct(alice).position * 1300, 23'000);  // $230 at $13
  EXPECT_EQ(ex_.band().low, Price(1248));
  EXPECT_EQ(ex_.band().high, Price(1352));
  EXPECT_EQ(ex_.band().margin, Cash(56));  // ceil(4% of 13.52) + 1 tick
}

TEST_F(SeedExample, NoPushBeyondTheBandWithinAnEpochAndNoHaltOnAWashLot) {
  Digest32 before = ex_.state_hash();
  Result<OrderOutcome> push = ex_.submit(now_, mallory, buy(1556, 90));  // her bankruptcy price
  EXPECT_EQ(push.status().message(), "price 15.56 is outside the band [12.48, 13.52]");
  EXPECT_FALSE(ex_.submit(now_, mallory, buy(1353, 1)).is_ok());
  EXPECT_EQ(ex_.state_hash(), before);
  place(mallory, sell(1352, 1));
  place(mallory, buy(1352, 1));
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
  EXPECT_EQ(trades().back().price, Price(1352));
  // At the worst price of the epoch she still has more than the margin for her 90 contracts.
  EXPECT_EQ(acct(alice).cash.value() - std::int64_t{90} * 1352, 18'320);
  EXPECT_GE(acct(alice).cash.value() - std::int64_t{90} * 1352, std::int64_t{90} * 56);
}

TEST_F(SeedExample, LockedLimitRoundsCallHerMarginThenLiquidateWithoutShortfall) {
  std::int64_t t = 100 * kSecond;
  struct Round {
    std::int64_t reference, low, high, margin;
  };
  // Each halt moves the reference to the VWAP of the last minute: the high edge.
  const Round expected[] = {{1352, 1297, 1407, 58}, {1407, 1350, 1464, 60}, {1464, 1405, 1523, 62}};
  for (int i = 0; i < 3; ++i) {
    lock_limit_up(t);
    ASSERT_EQ(ex_.phase(), Phase::kRefreshWindow) << "round " << i;
    EXPECT_EQ(ex_.band().reference, Price(expected[i].reference));
    EXPECT_EQ(ex_.band().low, Price(expected[i].low));
    EXPECT_EQ(ex_.band().high, Price(expected[i].high));
    EXPECT_EQ(ex_.band().margin, Cash(expected[i].margin));
    if (i < 2) {
      EXPECT_TRUE(alice_passed) << "she passes round " << i;
      t += 700 * kSecond;  // past the 600 s window
    }
  }
  // Round 3: E_H = 1400 - 90*15.23 - 90*0.62 = -26.50: a margin call of $26.50 (in the rounds
  // before, her call asked only for a refresh).
  std::vector<MarginCall> calls;
  for (const MarginCall& c : events_of<MarginCall>()) {
    if (c.account == alice) calls.push_back(c);
  }
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].amount, Cash(0));
  EXPECT_EQ(calls[1].amount, Cash(0));
  EXPECT_EQ(calls[2].amount, Cash(2650));
  EXPECT_FALSE(alice_passed);
  EXPECT_FALSE(acct(alice).refreshed);

  // She does not pay. At the window's close she defaults: her bond and account go to the fund,
  // which bids for 90 at the adverse edge 15.23, exempt from the circuit breaker.
  ex_.advance(LedgerTime(t + 601 * kSecond));
  ASSERT_EQ(events_of<Defaulted>().size(), 1u);
  EXPECT_EQ(events_of<Defaulted>()[0].position, -90);
  EXPECT_EQ(acct(alice).status, AccountStatus::kDefaulted);
  EXPECT_EQ(ex_.fund().position, -90);
  EXPECT_EQ(ex_.fund().cash, Cash(140'000 + 1000));  // her cash and bond
  EXPECT_EQ(ex_.book().best(Side::kBuy), Price(1523));
  ex_.advance(LedgerTime(t + 700 * kSecond));  // the fund's bid at H does not halt
  EXPECT_EQ(ex_.phase(), Phase::kTrading);

  // Bob sells his 90 into the fund's bid: 90 lots at the edge, no halt (liquidation trades).
  now_ = LedgerTime(t + 701 * kSecond);
  place(bob, sell(1523, 90));
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
  EXPECT_TRUE(trades().back().liquidation);
  auto done = events_of<LiquidationFinished>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].filled, Qty(90));
  EXPECT_EQ(done[0].avg_price, Price(1523));
  EXPECT_EQ(ex_.fund().position, 0);
  // No shortfall: the fund keeps her bond and $29.30 of her equity until she exits.
  EXPECT_EQ(ex_.fund().cash, Cash(1000 + 140'000 - 90 * 1523));
  Result<Cash> claim = ex_.exit(now_, alice);
  ASSERT_TRUE(claim.is_ok()) << claim.status().to_string();
  EXPECT_EQ(*claim, Cash(2930));  // 1400 - 90 * 15.23
  EXPECT_EQ(ex_.fund().cash, Cash(1000));
  EXPECT_TRUE(ex_.withdraw(now_, alice, Cash(2930)).is_ok());
}

TEST_F(SeedExample, PayingTheMarginCallKeepsHerInTheMarket) {
  std::int64_t t = 100 * kSecond;
  for (int i = 0; i < 3; ++i, t += 700 * kSecond)
    lock_limit_up(t);
  t -= 700 * kSecond;
  ASSERT_FALSE(acct(alice).refreshed);
  ASSERT_TRUE(ex_.refresh(LedgerTime(t + 10 * kSecond), alice, Cash(2649)).code() ==
              ErrorCode::kInsolvent);
  ASSERT_TRUE(ex_.refresh(LedgerTime(t + 10 * kSecond), alice, Cash(2650)).is_ok());
  ex_.advance(LedgerTime(t + 601 * kSecond));
  EXPECT_TRUE(events_of<Defaulted>().empty());
  EXPECT_EQ(acct(alice).position, -90);
  EXPECT_EQ(acct(alice).cash, Cash(142'650));
}

// ---- shortfall levy -----------------------------------------------------------------------------

// A liquidation nobody fills ends with the epoch (here a scheduled round): the fund keeps the
// position, marked at the edge.
TEST(Liquidation, UnfilledPartIsKeptByTheFundAtTheEdge) {
  ContractSpec spec = testing::small_spec();
  spec.settlement_interval_ms = 200 * kSecond;
  Exchange ex = *Exchange::open(spec, Price(1000), LedgerTime(0));
  auto funded = [&](std::int64_t cash) {
    AccountId id = *ex.register_account(LedgerTime(0));
    EXPECT_TRUE(ex.deposit(LedgerTime(0), id, Cash(cash)).is_ok());
    return id;
  };
  AccountId x = funded(13'510);  // short 10 at 1000: cash 113,500, exactly solvent at 1050
  AccountId y = funded(10'000'000);
  AccountId m = funded(100'000'000);
  ASSERT_TRUE(ex.submit(LedgerTime(0), x, sell(1000, 10)).is_ok());
  ASSERT_TRUE(ex.submit(LedgerTime(0), y, buy(1000, 10)).is_ok());
  ASSERT_TRUE(ex.submit(LedgerTime(20 * kSecond), m, sell(1050, 10)).is_ok());
  ASSERT_TRUE(ex.submit(LedgerTime(20 * kSecond), m, buy(1050, 10)).is_ok());
  ASSERT_EQ(ex.phase(), Phase::kRefreshWindow);  // breaker: band [971, 1129], close at 80 s
  ASSERT_TRUE(ex.refresh(LedgerTime(30 * kSecond), y, Cash(0)).is_ok());  // X does not
  ASSERT_TRUE(ex.refresh(LedgerTime(30 * kSecond), m, Cash(0)).is_ok());
  ex.advance(LedgerTime(80 * kSecond + 1));  // the close, then its deadline
  ASSERT_EQ(*ex.book().best(Side::kBuy), Price(1129));
  EXPECT_EQ(ex.fund().cash, Cash(113'500 + 100 + 40));  // X's cash, bond, fees
  ex.advance(LedgerTime(200 * kSecond));                // the scheduled round ends epoch 1
  ASSERT_EQ(ex.epoch(), 2u);
  std::vector<LiquidationFinished> done;
  for (const Event& e : ex.events()) {
    if (const auto* l = std::get_if<LiquidationFinished>(&e.body)) done.push_back(*l);
  }
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].filled, Qty(0));
  EXPECT_EQ(done[0].kept, Qty(10));
  EXPECT_EQ(done[0].avg_price, Price(1129));
  EXPECT_EQ(ex.fund().position, -10);
}

// What the fund kept is worked off again at the adverse edge of every later epoch until it is flat.
TEST(Liquidation, KeptPositionIsWorkedOffInEveryLaterEpochUntilFlat) {
  ContractSpec spec = testing::small_spec();
  spec.settlement_interval_ms = 200 * kSecond;
  Exchange ex = *Exchange::open(spec, Price(1000), LedgerTime(0));
  auto funded = [&](std::int64_t cash) {
    AccountId id = *ex.register_account(LedgerTime(0));
    EXPECT_TRUE(ex.deposit(LedgerTime(0), id, Cash(cash)).is_ok());
    return id;
  };
  AccountId x = funded(13'510);
  AccountId y = funded(10'000'000);
  AccountId m = funded(100'000'000);
  auto refresh_survivors = [&](std::int64_t s) {
    ASSERT_TRUE(ex.refresh(LedgerTime(s * kSecond), y, Cash(0)).is_ok()) << s;
    ASSERT_TRUE(ex.refresh(LedgerTime(s * kSecond), m, Cash(0)).is_ok()) << s;
  };
  ASSERT_TRUE(ex.submit(LedgerTime(0), x, sell(1000, 10)).is_ok());
  ASSERT_TRUE(ex.submit(LedgerTime(0), y, buy(1000, 10)).is_ok());
  ASSERT_TRUE(ex.submit(LedgerTime(20 * kSecond), m, sell(1050, 10)).is_ok());
  ASSERT_TRUE(ex.submit(LedgerTime(20 * kSecond), m, buy(1050, 10)).is_ok());
  refresh_survivors(30);
  ex.advance(LedgerTime(200 * kSecond));  // X defaults at 80 s; nobody sells to the fund
  refresh_survivors(200);
  ASSERT_EQ(ex.fund().position, -10);
  ASSERT_EQ(ex.epoch(), 2u);  // band [997, 1103] around the last trade, window until 260 s
  ASSERT_EQ(ex.band().high, Price(1103));
  ex.clear_events();
  ex.advance(LedgerTime(260 * kSecond));
  // At the window's close the fund bids for its 10 again, at this epoch's high edge.
  ASSERT_EQ(ex.book().best(Side::kBuy), Price(1103));
  std::vector<OrderAccepted> accepted;
  for (const Event& e : ex.events()) {
    if (const auto* a = std::get_if<OrderAccepted>(&e.body)) accepted.push_back(*a);
  }
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_TRUE(accepted[0].liquidation);
  EXPECT_EQ(accepted[0].owner, kInsuranceFund);
  EXPECT_EQ(accepted[0].qty, Qty(10));
  // It is exempt from the breaker at that edge, and fills like any liquidation order.
  ASSERT_TRUE(ex.submit(LedgerTime(270 * kSecond), m, buy(1103, 1)).is_ok());
  ex.advance(LedgerTime(390 * kSecond));
  ASSERT_EQ(ex.epoch(), 2u);
  ASSERT_TRUE(ex.submit(LedgerTime(390 * kSecond), y, sell(1103, 4)).is_ok());
  EXPECT_EQ(ex.fund().position, -6);
  // Epoch 3 (scheduled at 400 s, reference 11.03): the fund bids for the other 6 at 11.59.
  ex.advance(LedgerTime(400 * kSecond));
  refresh_survivors(400);
  ex.advance(LedgerTime(460 * kSecond));
  ASSERT_EQ(ex.epoch(), 3u);
  ASSERT_EQ(ex.band().high, Price(1159));
  ASSERT_EQ(ex.book().best(Side::kBuy), Price(1159));
  EXPECT_EQ(ex.book().level_qty(Side::kBuy, Price(1159)), Qty(6));
  ASSERT_TRUE(ex.submit(LedgerTime(470 * kSecond), y, sell(1159, 6)).is_ok());
  EXPECT_EQ(ex.fund().position, 0);
  // Flat: no liquidation order in the next epoch.
  ex.advance(LedgerTime(600 * kSecond));
  refresh_survivors(600);
  ex.advance(LedgerTime(660 * kSecond));
  ASSERT_EQ(ex.epoch(), 4u);
  EXPECT_TRUE(ex.book().empty());
}

// The seed's walk-up attack on a kept short: each epoch one lot is sold to the fund at the high
// edge, so the next reference is that edge and the fund's short loses. The levy is lambda =
// ceil(deficit / G_prev) with G_prev the survivors' gross total at the previous close, the deficit
// counts what the fund owes the round's defaulters (their aggregate equity at the liquidation
// price less the claims paid, until the exit period lapses), and what lambda * g_S does not cover
// carries forward.
class WalkUp : public ::testing::Test {
 protected:
  static ContractSpec walk_spec() {
    ContractSpec spec = testing::small_spec();
    spec.settlement_interval_ms = 200 * kSecond;
    return spec;
  }
  static LedgerTime at(std::int64_t s) { return LedgerTime(s * kSecond); }
  AccountId funded(std::int64_t cash) {
    AccountId id = *ex.register_account(LedgerTime(0));
    EXPECT_TRUE(ex.deposit(LedgerTime(0), id, Cash(cash)).is_ok());
    return id;
  }
  std::vector<ShortfallLevied> levies() const {
    std::vector<ShortfallLevied> out;
    for (const Event& e : ex.events()) {
      if (const auto* l = std::get_if<ShortfallLevied>(&e.body)) out.push_back(*l);
    }
    return out;
  }

  // Up to the scheduled halt at 800 s (reference 12.17), Y and M refreshing by hand every round.
  void SetUp() override {
    ASSERT_TRUE(ex.submit(at(0), x, sell(1000, 10)).is_ok());
    ASSERT_TRUE(ex.submit(at(0), y, buy(1000, 10)).is_ok());
    ASSERT_TRUE(ex.submit(at(20), m, sell(1050, 10)).is_ok());
    ASSERT_TRUE(ex.submit(at(20), m, buy(1050, 10)).is_ok());  // breaker: band [971, 1129]
    ASSERT_TRUE(ex.refresh(at(30), y, Cash(0)).is_ok());
    ASSERT_TRUE(ex.refresh(at(30), m, Cash(0)).is_ok());
    // X defaults at 80 s; nobody sells to the fund, which keeps 10 marked at 11.29. X's equity
    // there is 113,500 - 10 * 1129 * 10 = 600: the fund owes 600 until the exit period lapses
    // (X's claim at exit is 600 - penalty 5 * 10 = 550).
    ex.advance(at(200));
    ASSERT_EQ(ex.band().reference, Price(1050));  // fund equity 113,640 - 105,000 - 600 >= 0
    const std::int64_t highs[] = {1103, 1159, 1217};
    for (int i = 0; i < 3; ++i) {
      const std::int64_t t = 200 + 200 * i;
      ASSERT_TRUE(ex.refresh(at(t + 10), y, Cash(0)).is_ok()) << i;
      ASSERT_TRUE(ex.refresh(at(t + 10), m, Cash(0)).is_ok()) << i;
      ASSERT_EQ(ex.band().high, Price(highs[i]));
      ASSERT_TRUE(ex.submit(at(t + 100), y, sell(highs[i], 1)).is_ok()) << i;  // to the fund
      ex.advance(at(t + 200));
      ASSERT_EQ(ex.band().reference, Price(highs[i]));
    }
  }

  Exchange ex = *Exchange::open(walk_spec(), Price(1000), LedgerTime(0));
  AccountId x = funded(13'510);  // short 10 at 1000: cash 113,500
  AccountId y = funded(10'000'000);
  AccountId m = funded(100'000'000);
};

TEST_F(WalkUp, LevyIsTheDeficitWithClaimsOwedOverThePreviousGrossCarriedForward) {
  // At 600 s (reference 11.59) the fund holds -8 and 91,022 in cash: equity
  // 91,022 - 8 * 11,590 = -1,698, less the 600 it owes X's round: a deficit of 2,298. The
  // survivors' gross at the previous close was Y's 9 (M is flat): lambda = ceil(2,298 / 9) = 256.
  std::vector<ShortfallLevied> l = levies();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].fund_deficit, Cash(2298));
  EXPECT_EQ(l[0].per_contract, Cash(256));
  // Y holds 8 by now and pays 2,048; the remaining 250 carries forward. At 800 s (reference 12.17)
  // the fund, short 7 with 91,022 + 2,048 - 12,170 + 1 = 80,901, has a deficit of
  // 85,190 - 80,901 + 600 = 4,889 = 250 + 8 * 58 * 10 - 1; G_prev = 8: lambda = ceil(611.1) = 612.
  EXPECT_EQ(l[1].fund_deficit, Cash(4889));
  EXPECT_EQ(l[1].per_contract, Cash(612));
  // Paying X's claim changes the fund's cash, not its equity net of what it owes.
  const std::int64_t cash_before = ex.fund().cash.value();
  Result<Cash> claim = ex.exit(at(810), x);
  ASSERT_TRUE(claim.is_ok()) << claim.status().to_string();
  EXPECT_EQ(*claim, Cash(550));
  EXPECT_EQ(ex.fund().cash.value(), cash_before - 550);
  EXPECT_EQ(ex.exit(at(810), x).status().message(), "account 1 has not defaulted; nothing to exit");
}

// The final settlement charges a last levy on the survivors before their positions close, so the
// fund does not end negative (net of the claims it still owes).
TEST_F(WalkUp, FinalSettlementChargesALastLevySoTheFundDoesNotEndNegative) {
  ASSERT_TRUE(ex.refresh(at(810), y, Cash(0)).is_ok());  // pays 612 * 7 = 4,284
  ASSERT_TRUE(ex.refresh(at(810), m, Cash(0)).is_ok());
  ex.advance(at(860));
  ASSERT_EQ(ex.book().best(Side::kBuy), Price(1278));  // the fund works off its 7
  const std::int64_t y_cash = ex.account(y)->cash.value();
  ASSERT_TRUE(ex.settle_final(at(870), Price(1250)).is_ok());
  // Fund: 80,901 + 4,284 = 85,185 in cash, short 7 at 12.50 and owing X's round 600: a deficit of
  // 2,915 on Y's gross 7, lambda = ceil(2,915 / 7) = 417, collecting 2,919.
  std::vector<ShortfallLevied> l = levies();
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[2].fund_deficit, Cash(2915));
  EXPECT_EQ(l[2].per_contract, Cash(417));
  EXPECT_EQ(ex.account(y)->cash.value(), y_cash - 2919 + std::int64_t{7} * 1250 * 10);
  EXPECT_EQ(ex.fund().position, 0);
  EXPECT_EQ(ex.fund().cash, Cash(85'185 + 2919 - 87'500));
  Result<Cash> claim = ex.exit(at(900), x);
  ASSERT_TRUE(claim.is_ok()) << claim.status().to_string();
  EXPECT_EQ(*claim, Cash(550));
  // 54: the 50 of X's penalty, counted as owed until the exit period lapses, and 4 of rounding.
  EXPECT_EQ(ex.fund().cash, Cash(54));
}

// The final levy when the per-contract base is too small (docs/market.md, "Final settlement").
// A short sells `n` lots to the buyer at 10.00 and defaults at the first round; the fund keeps all
// but one, marked at 10.50, and buys the rest back an epoch later at 11.03 while the buyer goes
// flat. The next round's levy meets a flat buyer and collects nothing, so at the final settlement
// the fund's deficit is still there and the survivors hold no position, or only what they trade
// after the last round. Rounds every 120 s, windows of 60 s.
class FinalLevy : public ::testing::Test {
 protected:
  static LedgerTime at(std::int64_t s) { return LedgerTime(s * kSecond); }
  static ContractSpec spec() {
    ContractSpec s = testing::small_spec();
    s.settlement_interval_ms = 120 * kSecond;
    return s;
  }
  AccountId funded(std::int64_t cash) {
    AccountId id = *ex.register_account(LedgerTime(0));
    EXPECT_TRUE(ex.deposit(LedgerTime(0), id, Cash(cash)).is_ok());
    return id;
  }
  // Up to the close of the third round's window (epoch 3 trading at 420 s). `others` refresh in
  // every round with the buyer.
  void walk(std::int64_t n, const std::vector<AccountId>& others = {}) {
    shorter = funded(1351 * n);  // E_H = 0 after selling n at 10.00
    ASSERT_TRUE(ex.submit(at(1), shorter, sell(1000, n)).is_ok());
    ASSERT_EQ(ex.submit(at(1), buyer, buy(1000, n, OrderType::kImmediateOrCancel))->filled, Qty(n));
    for (std::int64_t round : {120, 240, 360}) {
      ASSERT_TRUE(ex.refresh(at(round + 1), buyer, Cash(0)).is_ok()) << round;
      for (AccountId o : others)
        ASSERT_TRUE(ex.refresh(at(round + 1), o, Cash(0)).is_ok()) << round;
      ex.advance(LedgerTime(at(round + 60).value() + 1));  // the close, then its deadline
      if (round == 120) {
        ASSERT_EQ(ex.fund().position, -n);
        ASSERT_EQ(ex.submit(at(185), buyer, sell(1050, 1, OrderType::kImmediateOrCancel))->filled,
                  Qty(1));  // the fund keeps n - 1, marked at 10.50
      }
      if (round == 240) {
        ASSERT_EQ(ex.book().best(Side::kBuy), Price(1103));
        ASSERT_EQ(
            ex.submit(at(305), buyer, sell(1103, n - 1, OrderType::kImmediateOrCancel))->filled,
            Qty(n - 1));
      }
    }
    ASSERT_EQ(ex.epoch(), 3u);
    ASSERT_EQ(ex.fund().position, 0);
    ASSERT_EQ(ex.account(buyer)->position, 0);
  }
  template <class T>
  std::vector<T> events_of() const {
    std::vector<T> out;
    for (const Event& e : ex.events()) {
      if (const auto* x = std::get_if<T>(&e.body)) out.push_back(*x);
    }
    return out;
  }
  std::int64_t cash(AccountId id) const { return ex.account(id)->cash.value(); }
  // Starts over on a market whose exit period is `period_ms`.
  void reopen(std::int64_t period_ms) {
    ContractSpec s = spec();
    s.exit_period_ms = period_ms;
    ex = *Exchange::open(s, Price(1000), LedgerTime(0));
    buyer = funded(1'000'000);
  }

  Exchange ex = *Exchange::open(spec(), Price(1000), LedgerTime(0));
  AccountId buyer = funded(1'000'000);
  AccountId shorter;
};

// Two flat survivors share the rest pro rata to their equity, each share rounded up.
TEST_F(FinalLevy, FlatSurvivorsPayTheRestProRataToTheirEquity) {
  AccountId other = funded(3'000);
  walk(2, {other});
  // The fund took the short's 22,700 and bond 100, bought 2 back for 21,530 and kept 6 in fees:
  // 1,276. It owes the short's round its equity at 10.50, 22,700 - 2 * 10,500 = 1,700 (the claim
  // at exit is 1,690 after the penalty 2 * 5): equity -424. The last round's levy met a flat
  // buyer.
  ASSERT_TRUE(ex.withdraw(at(430), buyer, Cash(cash(buyer) - 1'000)).is_ok());
  ex.clear_events();
  ASSERT_TRUE(ex.settle_final(at(431), Price(1050)).is_ok());
  std::vector<ShortfallLevied> levied = events_of<ShortfallLevied>();
  ASSERT_EQ(levied.size(), 1u);
  EXPECT_EQ(levied[0].fund_deficit, Cash(424));
  EXPECT_EQ(levied[0].per_contract, Cash(0));  // no survivor holds a position
  std::vector<ShortfallHaircut> haircut = events_of<ShortfallHaircut>();
  ASSERT_EQ(haircut.size(), 1u);
  EXPECT_EQ(haircut[0].remainder, Cash(424));
  EXPECT_EQ(haircut[0].survivors_equity, Cash(4'000));
  EXPECT_EQ(haircut[0].uncovered, Cash(0));
  // ceil(424 * 1,000 / 4,000) = 106 and ceil(424 * 3,000 / 4,000) = 318: 424 exactly.
  EXPECT_EQ(cash(buyer), 1'000 - 106);
  EXPECT_EQ(cash(other), 3'000 - 318);
  std::vector<Refreshed> charged = events_of<Refreshed>();
  ASSERT_EQ(charged.size(), 2u);
  EXPECT_EQ(charged[0].levy, Cash(106));
  EXPECT_EQ(charged[1].levy, Cash(318));
  Result<Cash> claim = ex.exit(at(432), shorter);
  ASSERT_TRUE(claim.is_ok()) << claim.status().to_string();
  EXPECT_EQ(*claim, Cash(1'690));
  // 1,276 + 424 - 1,690: the penalty, counted as owed until the exit period lapses.
  EXPECT_EQ(ex.fund().cash, Cash(10));
}

// Survivors who cannot pay give all their equity; the rest of the deficit is reported, and the
// fund ends that much below zero (it still pays the claim it owes). Nobody's cash goes negative.
TEST_F(FinalLevy, WhatTheSurvivorsCannotPayIsReportedAsUncovered) {
  walk(2);
  ASSERT_TRUE(ex.withdraw(at(430), buyer, Cash(cash(buyer) - 100)).is_ok());
  ex.clear_events();
  ASSERT_TRUE(ex.settle_final(at(431), Price(1050)).is_ok());
  std::vector<ShortfallHaircut> haircut = events_of<ShortfallHaircut>();
  ASSERT_EQ(haircut.size(), 1u);
  // The deficit of 424 (FlatSurvivorsPayTheRestProRataToTheirEquity) meets equity of 100.
  EXPECT_EQ(haircut[0].remainder, Cash(424));
  EXPECT_EQ(haircut[0].survivors_equity, Cash(100));
  EXPECT_EQ(haircut[0].uncovered, Cash(324));
  EXPECT_EQ(cash(buyer), 0);
  Result<Cash> claim = ex.exit(at(432), shorter);
  ASSERT_TRUE(claim.is_ok()) << claim.status().to_string();
  EXPECT_EQ(*claim, Cash(1'690));
  // 1,276 + 100 - 1,690: the 324 uncovered, less the penalty of 10 it no longer owes once paid.
  EXPECT_EQ(ex.fund().cash, Cash(-314));
}

// The levy per contract on the survivors' gross at settlement is capped at the band's margin M
// (each survivor's equity covers M per contract); the haircut takes the rest.
TEST_F(FinalLevy, TheLevyPerContractIsCappedAtTheMarginAndTheHaircutTakesTheRest) {
  AccountId other = funded(100'000);
  walk(6, {other});
  // After the last round two survivors trade one lot: the gross at settlement is 2.
  ASSERT_TRUE(ex.submit(at(430), other, sell(1103, 1)).is_ok());
  ASSERT_EQ(ex.submit(at(430), buyer, buy(1103, 1, OrderType::kImmediateOrCancel))->filled, Qty(1));
  const Band band = ex.band();
  ex.clear_events();
  const std::int64_t buyer_before = cash(buyer);
  const std::int64_t other_before = cash(other);
  ASSERT_TRUE(ex.settle_final(at(431), Price(1103)).is_ok());
  std::vector<ShortfallLevied> levied = events_of<ShortfallLevied>();
  ASSERT_EQ(levied.size(), 1u);
  const std::int64_t deficit = levied[0].fund_deficit.value();
  // Short 6 at 10.00 (cash 68,100 after fees), equity at 10.50 68,100 - 63,000 = 5,100 owed
  // (claim 5,100 - 30 = 5,070); the fund took 68,200 with the bond, bought 6 back for 65,650 and
  // kept 20 in fees: equity 2,570 - 5,100 = -2,530. The last round's levy, ceil(2,530 / 5) = 506,
  // met a flat buyer. Now G = 2 and M = 940 (band [10.47, 11.59]): 2 * 940 is levied per
  // contract, the other 650 pro rata.
  EXPECT_EQ(deficit, 2'530);
  EXPECT_EQ(band.margin, Cash(940));
  EXPECT_EQ(levied[0].per_contract, band.margin);
  std::vector<ShortfallHaircut> haircut = events_of<ShortfallHaircut>();
  ASSERT_EQ(haircut.size(), 1u);
  EXPECT_EQ(haircut[0].remainder.value(), deficit - 2 * band.margin.value());
  EXPECT_EQ(haircut[0].uncovered, Cash(0));
  // Equity once the positions close at 11.03, after the levy per contract.
  const std::int64_t e_buyer = buyer_before + 11'030 - band.margin.value();
  const std::int64_t e_other = other_before - 11'030 - band.margin.value();
  EXPECT_EQ(haircut[0].survivors_equity.value(), e_buyer + e_other);
  const std::int64_t rest = haircut[0].remainder.value();
  auto share = [&](std::int64_t e) {
    return (rest * e + e_buyer + e_other - 1) / (e_buyer + e_other);
  };
  EXPECT_EQ(cash(buyer), e_buyer - share(e_buyer));
  EXPECT_EQ(cash(other), e_other - share(e_other));
  ASSERT_TRUE(ex.exit(at(432), shorter).is_ok());
  // The penalty 30, owed until the exit period lapses, and the haircut's shares, rounded up.
  EXPECT_GE(ex.fund().cash.value(), 30);
  EXPECT_LT(ex.fund().cash.value(), 32);
}

// ---- exit period ------------------------------------------------------------------------------

// The short's liquidation finishes with epoch 1 at 240 s; with an exit period of 200 s its claim
// may be exited until 440 s, exclusive.
TEST_F(FinalLevy, AClaimMayBeExitedUntilTheExitPeriodEnds) {
  reopen(200 * kSecond);
  walk(2);
  Result<Cash> claim = ex.exit(LedgerTime(440 * kSecond - 1), shorter);
  ASSERT_TRUE(claim.is_ok()) << claim.status().to_string();
  EXPECT_EQ(*claim, Cash(1'690));
}

TEST_F(FinalLevy, AfterTheExitPeriodTheClaimLapsesAndTheFundKeepsIt) {
  reopen(200 * kSecond);
  walk(2);
  ex.advance(LedgerTime(440 * kSecond + 1));
  const Digest32 before = ex.state_hash();
  const std::int64_t fund_cash = ex.fund().cash.value();
  for (std::int64_t t : {440 * kSecond, 440 * kSecond + 1}) {
    Result<Cash> late = ex.exit(LedgerTime(t), shorter);
    ASSERT_FALSE(late.is_ok()) << t;
    EXPECT_EQ(
        late.status().message(),
        "account 2's exit period ended at 440000 ms of ledger time; the fund keeps the claim");
  }
  EXPECT_EQ(ex.state_hash(), before);  // a refused exit changes nothing
  EXPECT_EQ(ex.fund().cash.value(), fund_cash);
  EXPECT_EQ(ex.account(shorter)->status, AccountStatus::kDefaulted);
}

// A lapsed claim is no longer the fund's liability: with an exit period of 120 s the short's
// claim of 1,690 lapses at 360 s, the round there levies nothing, and the final settlement finds
// no deficit (with the claim owed it was -414, FlatSurvivorsPayTheRestProRataToTheirEquity).
TEST_F(FinalLevy, ALapsedClaimIsNoLongerALiabilityOfTheFund) {
  reopen(120 * kSecond);
  walk(2);
  ex.clear_events();
  ASSERT_TRUE(ex.settle_final(at(431), Price(1050)).is_ok());
  EXPECT_TRUE(events_of<ShortfallLevied>().empty());
  EXPECT_EQ(ex.fund().cash, Cash(1'276));
  EXPECT_FALSE(ex.exit(at(432), shorter).is_ok());
}

}  // namespace
}  // namespace pfex::market
