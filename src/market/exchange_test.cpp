// Order types, matching and account checks of the transparent exchange.
#include "market/exchange.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "market/exchange_test_util.hpp"

namespace pfex::market {
namespace {

using testing::buy;
using testing::market;
using testing::sell;

class MatchingTest : public testing::ExchangeFixture {};

TEST_F(MatchingTest, PriceTimePriorityAndFees) {
  AccountId a = funded(1'000'000), b = funded(1'000'000), c = funded(1'000'000),
            d = funded(1'000'000);
  OrderOutcome a1 = place(a, sell(1000, 5));
  OrderOutcome b1 = place(b, sell(1000, 5));
  place(c, sell(999, 3));
  OrderOutcome d1 = place(d, buy(1000, 8));
  EXPECT_EQ(d1.filled, Qty(8));
  EXPECT_EQ(d1.resting, Qty(0));
  std::vector<Trade> t = trades();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].price, Price(999));  // better price first, at the maker's price
  EXPECT_EQ(t[0].qty, Qty(3));
  EXPECT_EQ(t[1].maker, a1.id);  // same price: the older order first
  EXPECT_EQ(t[1].qty, Qty(5));
  EXPECT_EQ(acct(d).position, 8);
  EXPECT_EQ(acct(d).cash, Cash(1'000'000 - 3 * 999 * 10 - 5 * 1000 * 10 - 8));
  EXPECT_EQ(acct(a).cash, Cash(1'000'000 + 50'000 - 5));
  EXPECT_EQ(acct(a).position, -5);
  EXPECT_EQ(acct(a).open_sell, Qty(0));
  EXPECT_EQ(acct(c).cash, Cash(1'000'000 + 29'970 - 3));
  EXPECT_EQ(ex_.fund().cash, Cash(16));
  EXPECT_NE(ex_.book().find(b1.id), OrderBook::kNil);
  EXPECT_EQ(acct(b).open_sell, Qty(5));
  EXPECT_EQ(acct(b).open_sell_ticks, 5000);
}

TEST_F(MatchingTest, PartialFillRestsTheRemainder) {
  AccountId s = funded(1'000'000), b = funded(1'000'000);
  place(s, sell(1000, 2));
  OrderOutcome o = place(b, buy(1000, 5));
  EXPECT_EQ(o.filled, Qty(2));
  EXPECT_EQ(o.resting, Qty(3));
  EXPECT_EQ(acct(b).open_buy, Qty(3));
  EXPECT_EQ(acct(b).open_buy_ticks, 3000);
  EXPECT_EQ(ex_.book().best(Side::kBuy), Price(1000));
  EXPECT_EQ(ex_.book().level_qty(Side::kBuy, Price(1000)), Qty(3));
}

TEST_F(MatchingTest, ImmediateOrCancelReleasesTheRest) {
  AccountId s = funded(1'000'000), b = funded(1'000'000);
  place(s, sell(1000, 2));
  OrderOutcome o = place(b, buy(1001, 5, OrderType::kImmediateOrCancel));
  EXPECT_EQ(o.filled, Qty(2));
  EXPECT_EQ(o.resting, Qty(0));
  EXPECT_TRUE(ex_.book().empty());
  EXPECT_EQ(acct(b).open_buy, Qty(0));
  EXPECT_EQ(acct(b).open_buy_ticks, 0);
  auto closed = events_of<OrderClosed>();
  ASSERT_FALSE(closed.empty());
  EXPECT_EQ(closed.back().reason, CloseReason::kUnfilledIoc);
  EXPECT_EQ(closed.back().released, Qty(3));
}

// A fill-or-kill that cannot fill completely is accepted and killed at once: it gets an id (so ids
// never diverge from the private mode, where the post has already been spent) and trades nothing.
TEST_F(MatchingTest, FillOrKillThatCannotFillIsAcceptedAndKilled) {
  AccountId s = funded(1'000'000), b = funded(1'000'000);
  place(s, sell(1000, 2));
  place(s, sell(1002, 3));
  Result<OrderOutcome> r = ex_.submit(now_, b, buy(1002, 6, OrderType::kFillOrKill));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->filled, Qty(0));
  EXPECT_EQ(r->resting, Qty(0));
  auto closed = events_of<OrderClosed>();
  ASSERT_FALSE(closed.empty());
  EXPECT_EQ(closed.back().id, r->id);
  EXPECT_EQ(closed.back().reason, CloseReason::kKilled);
  EXPECT_EQ(closed.back().released, Qty(6));
  EXPECT_TRUE(trades().empty());
  EXPECT_FALSE(acct(b).has_open_orders());
  EXPECT_EQ(acct(b).open_buy_ticks, 0);
  EXPECT_EQ(ex_.book().level_qty(Side::kSell, Price(1000)), Qty(2));
  OrderOutcome ok = place(b, buy(1002, 5, OrderType::kFillOrKill));
  EXPECT_EQ(ok.id.value, r->id.value + 1);
  EXPECT_EQ(ok.filled, Qty(5));
  EXPECT_EQ(acct(b).position, 5);
  // An insolvent one is still rejected, with nothing changed.
  AccountId poor = funded(10);
  Digest32 before = ex_.state_hash();
  EXPECT_EQ(ex_.submit(now_, poor, buy(1002, 6, OrderType::kFillOrKill)).status().code(),
            ErrorCode::kInsolvent);
  EXPECT_EQ(ex_.state_hash(), before);
}

TEST_F(MatchingTest, PostOnlyThatWouldCrossIsAcceptedAndRefused) {
  AccountId s = funded(1'000'000), b = funded(1'000'000);
  place(s, sell(1000, 2));
  Result<OrderOutcome> r = ex_.submit(now_, b, buy(1000, 1, OrderType::kPostOnly));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->filled, Qty(0));
  EXPECT_EQ(r->resting, Qty(0));
  EXPECT_EQ(events_of<OrderClosed>().back().reason, CloseReason::kPostOnlyWouldCross);
  EXPECT_EQ(events_of<OrderClosed>().back().released, Qty(1));
  EXPECT_FALSE(acct(b).has_open_orders());
  EXPECT_FALSE(ex_.book().best(Side::kBuy).has_value());
  OrderOutcome o = place(b, buy(999, 1, OrderType::kPostOnly));
  EXPECT_EQ(o.resting, Qty(1));
  EXPECT_TRUE(trades().empty());
}

TEST_F(MatchingTest, MarketOrderStopsAtItsProtectionLimit) {
  AccountId s = funded(10'000'000), b = funded(10'000'000);
  place(s, sell(1000, 2));
  place(s, sell(1004, 2));
  place(s, sell(1010, 2));
  OrderOutcome o = place(b, market(Side::kBuy, 6));  // limit 1000 + 5 = 1005
  EXPECT_EQ(o.filled, Qty(4));
  EXPECT_EQ(o.resting, Qty(0));
  EXPECT_EQ(ex_.book().best(Side::kSell), Price(1010));
  auto accepted = events_of<OrderAccepted>();
  EXPECT_EQ(accepted.back().limit, Price(1005));
  EXPECT_EQ(acct(b).open_buy, Qty(0));
}

TEST_F(MatchingTest, MarketOrderLimitNeverLeavesTheBand) {
  AccountId s = funded(10'000'000), b = funded(10'000'000);
  place(s, sell(1048, 1));
  place(b, market(Side::kBuy, 1));
  EXPECT_EQ(events_of<OrderAccepted>().back().limit, Price(1050));  // 1053 clamped to H
}

// With no opposite order a market order still gets its id and closes unfilled, as a private post
// (spent before the book is known) does; its reservation price is the band's edge on its side.
TEST_F(MatchingTest, MarketOrderOnAnEmptySideIsAcceptedAndClosesUnfilled) {
  AccountId b = funded(10'000'000), poor = funded(1000);
  Result<OrderOutcome> none = ex_.submit(now_, b, market(Side::kBuy, 3));
  ASSERT_TRUE(none.is_ok()) << none.status().to_string();
  EXPECT_EQ(none->id, OrderId{1});
  EXPECT_EQ(none->filled, Qty(0));
  EXPECT_EQ(none->resting, Qty(0));
  EXPECT_EQ(events_of<OrderAccepted>().back().limit, Price(1050));  // H
  EXPECT_EQ(events_of<OrderClosed>().back().reason, CloseReason::kUnfilledIoc);
  EXPECT_EQ(events_of<OrderClosed>().back().released, Qty(3));
  EXPECT_FALSE(acct(b).has_open_orders());
  EXPECT_EQ(acct(b).open_buy_ticks, 0);
  // Checked at H like any order there: an account that cannot carry it is refused.
  const Digest32 before = ex_.state_hash();
  EXPECT_EQ(ex_.submit(now_, poor, market(Side::kBuy, 1)).status().code(), ErrorCode::kInsolvent);
  EXPECT_EQ(ex_.state_hash(), before);
  Result<OrderOutcome> sell = ex_.submit(now_, b, market(Side::kSell, 1));
  ASSERT_TRUE(sell.is_ok());
  EXPECT_EQ(sell->id, OrderId{2});
  EXPECT_EQ(events_of<OrderAccepted>().back().limit, Price(950));  // L
}

// A market order may name its public reservation price p_r (docs/design.md section 3.6): it trades
// no further than p_r or the protection limit, and its open-order totals use p_r.
TEST_F(MatchingTest, MarketOrderWithAReservationPrice) {
  AccountId s = funded(10'000'000), b = funded(10'000'000);
  place(s, sell(1000, 2));
  place(s, sell(1002, 2));
  place(s, sell(1004, 2));
  auto with = [](Side side, std::int64_t p_r, std::int64_t qty) {
    return OrderRequest{side, OrderType::kMarket, Price(p_r), Qty(qty)};
  };
  OrderOutcome o = place(b, with(Side::kBuy, 1002, 6));  // protection 1005, p_r 1002
  EXPECT_EQ(o.filled, Qty(4));
  EXPECT_EQ(events_of<OrderAccepted>().back().limit, Price(1002));
  EXPECT_EQ(acct(b).open_buy, Qty(0));
  EXPECT_EQ(acct(b).open_buy_ticks, 0);
  EXPECT_EQ(ex_.book().best(Side::kSell), Price(1004));
  // A p_r beyond the protection limit trades only to the protection limit (1004 + 5), but the
  // totals it is admitted with use p_r.
  o = place(b, with(Side::kBuy, 1050, 5));
  EXPECT_EQ(o.filled, Qty(2));
  EXPECT_EQ(acct(b).position, 6);
  // A p_r below the best ask trades nothing and closes.
  place(s, sell(1010, 1));
  o = place(b, with(Side::kBuy, 1009, 1));
  EXPECT_EQ(o.filled, Qty(0));
  EXPECT_EQ(events_of<OrderClosed>().back().reason, CloseReason::kUnfilledIoc);
  // Outside the band: refused, nothing changes.
  const Digest32 before = ex_.state_hash();
  Result<OrderOutcome> out = ex_.submit(now_, b, with(Side::kBuy, 1051, 1));
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), "reservation price 10.51 is outside the band [9.50, 10.50]");
  EXPECT_EQ(ex_.submit(now_, b, with(Side::kSell, 949, 1)).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ex_.state_hash(), before);
}

// The open-order totals use p_r, not the price the order trades at: an account that can carry
// one contract at 1000 but not at H is refused with p_r = H and accepted with p_r = 1000.
TEST_F(MatchingTest, MarketOrderIsCheckedAtItsReservationPrice) {
  AccountId s = funded(10'000'000);
  place(s, sell(1000, 5));
  AccountId a = funded(
      1351);  // exactly one contract at 1000 (see InsolventOrderIsRejectedAtTheExactBoundary)
  EXPECT_EQ(ex_.submit(now_, a, OrderRequest{Side::kBuy, OrderType::kMarket, Price(1050), Qty(1)})
                .status()
                .code(),
            ErrorCode::kInsolvent);
  Result<OrderOutcome> ok =
      ex_.submit(now_, a, OrderRequest{Side::kBuy, OrderType::kMarket, Price(1000), Qty(1)});
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ(ok->filled, Qty(1));
}

TEST_F(MatchingTest, CancelReleasesAndRejectsClosedUnknownAndForeignOrders) {
  AccountId a = funded(1'000'000), b = funded(1'000'000);
  OrderOutcome o = place(a, buy(990, 4));
  EXPECT_EQ(ex_.cancel(now_, b, o.id).code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(ex_.cancel(now_, a, o.id).is_ok());
  EXPECT_EQ(acct(a).open_buy, Qty(0));
  EXPECT_EQ(acct(a).open_buy_ticks, 0);
  EXPECT_TRUE(ex_.book().empty());
  Status again = ex_.cancel(now_, a, o.id);
  EXPECT_EQ(again.code(), ErrorCode::kNotFound);
  EXPECT_EQ(again.message(), "order 1 is no longer open (filled, cancelled or expired)");
  EXPECT_EQ(ex_.cancel(now_, a, OrderId{99}).message(), "unknown order 99");

  // A fully filled order cannot be cancelled either.
  OrderOutcome filled = place(a, sell(1000, 1));
  place(b, buy(1000, 1));
  EXPECT_EQ(ex_.cancel(now_, a, filled.id).code(), ErrorCode::kNotFound);
}

TEST_F(MatchingTest, ReplaceLosesTimePriority) {
  AccountId a = funded(1'000'000), b = funded(1'000'000), s = funded(1'000'000);
  OrderOutcome a1 = place(a, buy(990, 5));
  OrderOutcome b1 = place(b, buy(990, 5));
  Result<OrderOutcome> a2 = ex_.replace(now_, a, a1.id, buy(990, 5));
  ASSERT_TRUE(a2.is_ok());
  EXPECT_GT(a2->id, b1.id);
  EXPECT_EQ(ex_.book().find(a1.id), OrderBook::kNil);
  place(s, sell(990, 5));
  EXPECT_EQ(trades().back().maker, b1.id);
  EXPECT_EQ(acct(a).open_buy, Qty(5));
  EXPECT_EQ(acct(b).position, 5);
}

// A reduce lowers an order's quantity: same id, same place in the queue, the difference released.
TEST_F(MatchingTest, ReduceKeepsIdAndPriority) {
  AccountId a = funded(1'000'000), b = funded(1'000'000), s = funded(1'000'000);
  OrderOutcome a1 = place(a, buy(990, 5));
  OrderOutcome b1 = place(b, buy(990, 5));
  Result<OrderOutcome> a2 = ex_.reduce(now_, a, a1.id, Qty(3));
  ASSERT_TRUE(a2.is_ok()) << a2.status().to_string();
  EXPECT_EQ(a2->id, a1.id);
  EXPECT_EQ(a2->filled, Qty(0));
  EXPECT_EQ(a2->resting, Qty(2));
  EXPECT_EQ(acct(a).open_buy, Qty(2));
  EXPECT_EQ(acct(a).open_buy_ticks, 2 * 990);
  EXPECT_EQ(ex_.book().level_qty(Side::kBuy, Price(990)), Qty(7));
  auto reduced = events_of<OrderReduced>();
  ASSERT_EQ(reduced.size(), 1u);
  EXPECT_EQ(reduced[0].id, a1.id);
  EXPECT_EQ(reduced[0].released, Qty(3));
  EXPECT_EQ(reduced[0].open, Qty(2));
  place(s, sell(990, 3));
  std::vector<Trade> t = trades();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].maker, a1.id);  // still first in the queue
  EXPECT_EQ(t[0].qty, Qty(2));
  EXPECT_EQ(t[1].maker, b1.id);
}

// A reduce takes 1 to all of what is open (all of it: the order closes as cancelled), only off
// the trader's own open order; anything else is refused and changes nothing.
TEST_F(MatchingTest, ReduceLimitsAndRefusals) {
  AccountId a = funded(1'000'000), b = funded(1'000'000);
  OrderOutcome o = place(a, buy(990, 4));
  const Digest32 before = ex_.state_hash();
  EXPECT_EQ(ex_.reduce(now_, a, o.id, Qty(0)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ex_.reduce(now_, a, o.id, Qty(5)).status().message(),
            "a reduce takes 1 to 4 contracts off order 1, not 5");
  EXPECT_EQ(ex_.reduce(now_, b, o.id, Qty(1)).status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ex_.reduce(now_, a, OrderId{9}, Qty(1)).status().message(), "unknown order 9");
  EXPECT_EQ(ex_.state_hash(), before);
  ASSERT_TRUE(ex_.reduce(now_, a, o.id, Qty(1)).is_ok());  // 3 left
  Result<OrderOutcome> all = ex_.reduce(now_, a, o.id, Qty(3));
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  EXPECT_EQ(all->resting, Qty(0));
  EXPECT_EQ(events_of<OrderClosed>().back().reason, CloseReason::kCancelled);
  EXPECT_FALSE(acct(a).has_open_orders());
  EXPECT_EQ(ex_.reduce(now_, a, o.id, Qty(1)).status().message(), "order 1 is no longer open");
}

// A cancel-replace is always a new order, even at the same price with a lower quantity: the
// private cancel-replace names the fill count it saw and gets a new id, so the transparent one
// does too (a reduce keeps the place).
TEST_F(MatchingTest, ReplaceAtTheSamePriceWithALowerQuantityIsANewOrder) {
  AccountId a = funded(1'000'000), b = funded(1'000'000), s = funded(1'000'000);
  OrderOutcome a1 = place(a, buy(990, 5));
  OrderOutcome b1 = place(b, buy(990, 5));
  Result<OrderOutcome> a2 = ex_.replace(now_, a, a1.id, buy(990, 2));
  ASSERT_TRUE(a2.is_ok()) << a2.status().to_string();
  EXPECT_GT(a2->id, b1.id);
  EXPECT_TRUE(events_of<OrderReduced>().empty());
  EXPECT_EQ(events_of<OrderClosed>().back().reason, CloseReason::kReplaced);
  EXPECT_EQ(acct(a).open_buy, Qty(2));
  place(s, sell(990, 5));
  EXPECT_EQ(trades().front().maker, b1.id);  // a's new order waits behind b's
}

TEST_F(MatchingTest, ReplaceChecksSolvencyWithTheOldOrderReleased) {
  // 1351 is exactly enough for one contract at 1000 (see InsolventOrderIsRejected).
  AccountId a = funded(1351);
  OrderOutcome a1 = place(a, buy(1000, 1));
  Result<OrderOutcome> a2 = ex_.replace(now_, a, a1.id, buy(999, 1));  // needs less
  ASSERT_TRUE(a2.is_ok()) << a2.status().to_string();
  Digest32 before = ex_.state_hash();
  Result<OrderOutcome> a3 = ex_.replace(now_, a, a2->id, buy(999, 2));
  EXPECT_EQ(a3.status().code(), ErrorCode::kInsolvent);
  EXPECT_EQ(ex_.state_hash(), before);
  EXPECT_NE(ex_.book().find(a2->id), OrderBook::kNil);
}

// The replaced order leaves the book before the new one is checked and matched: it can neither
// fill the new order nor stand in its way.
TEST_F(MatchingTest, ReplaceChecksTheNewOrderAgainstTheBookWithoutTheOldOne) {
  AccountId a = funded(10'000'000), b = funded(10'000'000);
  OrderOutcome ask = place(a, sell(1000, 8));  // the only ask
  // The old ask does not fill the new market order: with no other ask it closes unfilled.
  Result<OrderOutcome> mkt = ex_.replace(now_, a, ask.id, testing::market(Side::kBuy, 5));
  ASSERT_TRUE(mkt.is_ok()) << mkt.status().to_string();
  EXPECT_EQ(mkt->filled, Qty(0));
  EXPECT_EQ(events_of<OrderClosed>().back().reason, CloseReason::kUnfilledIoc);
  EXPECT_TRUE(ex_.book().empty());
  EXPECT_FALSE(acct(a).has_open_orders());
  ask = place(a, sell(1000, 8));
  // The old ask does not fill the new fill-or-kill: it is killed (and the old ask is gone).
  Result<OrderOutcome> fok = ex_.replace(now_, a, ask.id, buy(1000, 5, OrderType::kFillOrKill));
  ASSERT_TRUE(fok.is_ok()) << fok.status().to_string();
  EXPECT_EQ(fok->filled, Qty(0));
  EXPECT_EQ(events_of<OrderClosed>().back().reason, CloseReason::kKilled);
  EXPECT_TRUE(trades().empty());
  EXPECT_TRUE(ex_.book().empty());
  EXPECT_FALSE(acct(a).has_open_orders());

  // A post-only bid at the old ask's price does not cross once the old ask is gone.
  ask = place(a, sell(1000, 8));
  Result<OrderOutcome> bid = ex_.replace(now_, a, ask.id, buy(1000, 2, OrderType::kPostOnly));
  ASSERT_TRUE(bid.is_ok()) << bid.status().to_string();
  EXPECT_EQ(bid->filled, Qty(0));
  EXPECT_EQ(bid->resting, Qty(2));
  EXPECT_EQ(ex_.book().best(Side::kBuy), Price(1000));
  EXPECT_FALSE(ex_.book().best(Side::kSell).has_value());

  // Another trader's 3 lots do not make a fill-or-kill for 5 possible either.
  OrderOutcome ask2 = place(a, sell(1001, 8));
  place(b, sell(1001, 3));
  fok = ex_.replace(now_, a, ask2.id, buy(1001, 5, OrderType::kFillOrKill));
  ASSERT_TRUE(fok.is_ok()) << fok.status().to_string();
  EXPECT_EQ(fok->filled, Qty(0));
  EXPECT_EQ(events_of<OrderClosed>().back().reason, CloseReason::kKilled);
  EXPECT_EQ(ex_.book().level_qty(Side::kSell, Price(1001)), Qty(3));
  EXPECT_TRUE(trades().empty());
}

TEST_F(MatchingTest, SelfTradeMatchesLikeAnyTrade) {
  AccountId a = funded(1'000'000);
  place(a, sell(1000, 3));
  OrderOutcome o = place(a, buy(1000, 3));
  EXPECT_EQ(o.filled, Qty(3));
  ASSERT_EQ(trades().size(), 1u);
  EXPECT_EQ(trades()[0].maker_owner, trades()[0].taker_owner);
  EXPECT_EQ(acct(a).position, 0);
  EXPECT_EQ(acct(a).cash, Cash(1'000'000 - 6));  // both sides' fees
}

TEST_F(MatchingTest, PricesAtTheBandEdgesAreAcceptedAndBeyondRejected) {
  AccountId a = funded(10'000'000);
  EXPECT_TRUE(ex_.submit(now_, a, buy(1050, 1)).is_ok());
  EXPECT_TRUE(ex_.submit(now_, a, sell(1050, 1)).is_ok());  // trades at H: one lot, no halt
  EXPECT_TRUE(ex_.submit(now_, a, sell(950, 1)).is_ok());
  Digest32 before = ex_.state_hash();
  Result<OrderOutcome> high = ex_.submit(now_, a, buy(1051, 1));
  EXPECT_EQ(high.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(high.status().message(), "price 10.51 is outside the band [9.50, 10.50]");
  EXPECT_FALSE(ex_.submit(now_, a, sell(949, 1)).is_ok());
  EXPECT_EQ(ex_.state_hash(), before);
  EXPECT_EQ(ex_.phase(), Phase::kTrading);
}

TEST_F(MatchingTest, InsolventOrderIsRejectedAtTheExactBoundary) {
  // Buying 1 at 1000: E_L = c - 1000*10 - 1 + 950*10 - 850 = c - 1351.
  AccountId poor = funded(1350);
  AccountId exact = funded(1351);
  Digest32 before = ex_.state_hash();
  Result<OrderOutcome> r = ex_.submit(now_, poor, buy(1000, 1));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInsolvent);
  EXPECT_NE(r.status().message().find("E_L < 0"), std::string_view::npos);
  EXPECT_EQ(ex_.state_hash(), before);
  EXPECT_TRUE(ex_.submit(now_, exact, buy(1000, 1)).is_ok());
  // Selling 1 at 1000: E_H = c + 10000 - 1 - 1050*10 - 850 = c - 1351 as well.
  Result<OrderOutcome> s = ex_.submit(now_, poor, sell(1000, 1));
  EXPECT_NE(s.status().message().find("E_H < 0"), std::string_view::npos);
}

// The fee of every open order is reserved in both constraints (docs/design.md section 3), so a
// fill never lowers either one. An account with resting sells at exactly E_H = 0 may not add a buy:
// filled at H, the buy would cost its fee and leave E_H = -f.
TEST_F(MatchingTest, FeeOfEveryOpenOrderIsReservedInBothConstraints) {
  AccountId maker = funded(1'000'000);
  place(maker, sell(1050, 2));
  // Selling 3 at H = 1050: E_H = c + 31500 - 1*(0 + 3) - 3*10500 - 3*850 = c - 2553.
  AccountId tight = funded(2553);
  AccountId spare = funded(2554);
  place(tight, sell(1050, 3));
  place(spare, sell(1050, 3));
  Solvency before = evaluate_solvency(acct(tight), ex_.band(), ex_.spec());
  EXPECT_EQ(static_cast<std::int64_t>(before.e_high.value()), 0);
  Digest32 hash = ex_.state_hash();
  Result<OrderOutcome> r = ex_.submit(now_, tight, buy(1050, 1, OrderType::kImmediateOrCancel));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInsolvent);
  EXPECT_NE(r.status().message().find("E_H < 0"), std::string_view::npos);
  EXPECT_EQ(ex_.state_hash(), hash);
  // One unit more pays for the buy's fee; after the fill both constraints still hold.
  OrderOutcome o = place(spare, buy(1050, 1, OrderType::kImmediateOrCancel));
  EXPECT_EQ(o.filled, Qty(1));
  Solvency after = evaluate_solvency(acct(spare), ex_.band(), ex_.spec());
  EXPECT_EQ(static_cast<std::int64_t>(after.e_high.value()), 0);
  EXPECT_TRUE(check_solvency(acct(spare), ex_.band(), ex_.spec()).is_ok());
}

TEST_F(MatchingTest, WithdrawalKeepsBothConstraints) {
  AccountId a = funded(2000);
  place(a, buy(1000, 1));  // needs 1351
  Status too_much = ex_.withdraw(now_, a, Cash(650));
  EXPECT_EQ(too_much.code(), ErrorCode::kInsolvent);
  EXPECT_TRUE(ex_.withdraw(now_, a, Cash(649)).is_ok());
  EXPECT_EQ(acct(a).cash, Cash(1351));
  EXPECT_EQ(ex_.external_balance(), Cash(100 + 2000 - 649));
}

// The money in the market never exceeds the cash supply cap, 2^46 minor units.
TEST_F(MatchingTest, DepositsStopAtTheCashSupplyCap) {
  AccountId a = funded(1'000);  // with the bond: 1,100 inside the market
  ASSERT_EQ(ex_.external_balance(), Cash(1'100));
  ASSERT_TRUE(ex_.deposit(now_, a, Cash(kMaxCashSupply - 1'100 - 1)).is_ok());  // limit - 1
  ASSERT_TRUE(ex_.deposit(now_, a, Cash(1)).is_ok());                           // the limit
  EXPECT_EQ(ex_.external_balance(), Cash(kMaxCashSupply));
  Digest32 before = ex_.state_hash();
  Status over = ex_.deposit(now_, a, Cash(1));  // limit + 1
  EXPECT_EQ(over.code(), ErrorCode::kOverflow);
  EXPECT_EQ(over.message(),
            "the market's cash would reach 70368744177665 minor units, above the cash supply cap "
            "of 2^46");
  EXPECT_EQ(ex_.register_account(now_).status().code(), ErrorCode::kOverflow);  // its bond
  EXPECT_EQ(ex_.state_hash(), before);
  ASSERT_TRUE(ex_.withdraw(now_, a, Cash(5)).is_ok());
  EXPECT_TRUE(ex_.deposit(now_, a, Cash(5)).is_ok());
}

TEST_F(MatchingTest, BadInputGetsAClearErrorAndChangesNothing) {
  AccountId a = funded(1'000'000);
  place(a, buy(990, 1));
  const Digest32 before = ex_.state_hash();
  const std::size_t events_before = ex_.events().size();
  struct Case {
    std::string name;
    Status status;
    std::string message;
  };
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::vector<Case> cases = {
      {"zero qty", ex_.submit(now_, a, buy(1000, 0)).status(),
       "quantity must be at least 1 contract, got 0"},
      {"negative qty", ex_.submit(now_, a, buy(1000, -3)).status(),
       "quantity must be at least 1 contract, got -3"},
      {"huge qty", ex_.submit(now_, a, buy(1000, kMax)).status(),
       "quantity 9223372036854775807 exceeds the maximum order size 1000000"},
      {"above band", ex_.submit(now_, a, sell(2000, 1)).status(),
       "price 20.00 is outside the band [9.50, 10.50]"},
      {"negative price", ex_.submit(now_, a, sell(-5, 1)).status(),
       "price -0.05 is outside the band [9.50, 10.50]"},
      {"unknown account", ex_.submit(now_, AccountId{77}, buy(1000, 1)).status(),
       "unknown account 77"},
      {"fund trades", ex_.submit(now_, kInsuranceFund, buy(1000, 1)).status(),
       "the insurance fund acts only through liquidation"},
      {"market with a reservation price outside the band",
       ex_.submit(now_, a, OrderRequest{Side::kBuy, OrderType::kMarket, Price(1051), Qty(1)})
           .status(),
       "reservation price 10.51 is outside the band [9.50, 10.50]"},
      {"reduce of an unknown order", ex_.reduce(now_, a, OrderId{12345}, Qty(1)).status(),
       "unknown order 12345"},
      {"limit without price",
       ex_.submit(now_, a, OrderRequest{Side::kBuy, OrderType::kLimit, std::nullopt, Qty(1)})
           .status(),
       "a limit order needs a limit price"},
      {"unknown order", ex_.cancel(now_, a, OrderId{12345}), "unknown order 12345"},
      {"zero deposit", ex_.deposit(now_, a, Cash(0)), "a deposit must be positive"},
      {"negative withdrawal", ex_.withdraw(now_, a, Cash(-1)), "a withdrawal must be positive"},
      {"overflowing deposit", ex_.deposit(now_, a, Cash(kMax)), "cash does not fit in 64 bits"},
      {"refresh outside a round", ex_.refresh(now_, a, Cash(0)), "no margin round is open"},
      {"exit without default", ex_.exit(now_, a).status(),
       "account 1 has not defaulted; nothing to exit"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(c.status.is_ok()) << c.name;
    EXPECT_EQ(c.status.message(), c.message) << c.name;
  }
  EXPECT_EQ(ex_.state_hash(), before);
  EXPECT_EQ(ex_.events().size(), events_before);
}

TEST_F(MatchingTest, StateHashIsDeterministicAndSensitive) {
  auto run = [](std::int64_t last_qty) {
    Exchange ex = *Exchange::open(testing::small_spec(), Price(1000), LedgerTime(0));
    AccountId a = *ex.register_account(LedgerTime(0));
    AccountId b = *ex.register_account(LedgerTime(0));
    EXPECT_TRUE(ex.deposit(LedgerTime(1), a, Cash(1'000'000)).is_ok());
    EXPECT_TRUE(ex.deposit(LedgerTime(1), b, Cash(1'000'000)).is_ok());
    EXPECT_TRUE(ex.submit(LedgerTime(2), a, sell(1001, 5)).is_ok());
    EXPECT_TRUE(ex.submit(LedgerTime(3), b, buy(1001, last_qty)).is_ok());
    return ex.state_hash();
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(2));
}

}  // namespace
}  // namespace pfex::market
