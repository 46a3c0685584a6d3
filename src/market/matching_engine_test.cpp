// The matching engine serves an account model it does not know. A second, minimal model stands in
// for the private mode: owners are opaque order tags, there is no solvency check (the private
// transaction proves it), and fills accrue to the order, to be claimed later. The same order flow
// through it and through the transparent Exchange gives the same book, trades and order events.
#include "market/matching_engine.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "market/exchange.hpp"
#include "market/exchange_test_util.hpp"

namespace pfex::market {
namespace {

using testing::buy;
using testing::sell;

using TagEvent =
    BasicEvent<BasicOrderAccepted<OrderTag>, BasicTrade<OrderTag>, BasicOrderClosed<OrderTag>,
               BasicOrderReduced<OrderTag>, MarketHalted, EpochOpened, WindowClosed>;

// What an order of the tag model has earned: its fills, claimable once it closed.
struct OrderFills {
  Qty filled;
  std::vector<std::pair<Price, Qty>> fills;
  std::optional<CloseReason> closed;
};

class TagMarket : public MatchingEngine<TagMarket, OrderTag, TagEvent> {
 public:
  static TagMarket open(ContractSpec spec, Price reference) {
    Band band = *make_band(spec, reference, spec.band_ppm);
    TagMarket tm(std::move(spec), band);
    tm.emit(EpochOpened{0, band, LedgerTime(0), false});
    return tm;
  }
  Result<OrderOutcome> submit(LedgerTime now, OrderTag tag, const OrderRequest& r) {
    advance_to(now);
    return place_order(tag, r, std::nullopt);
  }
  Result<OrderOutcome> replace(LedgerTime now, OrderTag tag, OrderId order, const OrderRequest& r) {
    advance_to(now);
    return place_order(tag, r, order);
  }
  Status cancel(LedgerTime now, OrderTag tag, OrderId order) {
    advance_to(now);
    return cancel_order(tag, order);
  }
  Result<OrderOutcome> reduce(LedgerTime now, OrderTag tag, OrderId order, Qty by) {
    advance_to(now);
    return reduce_order(tag, order, by);
  }
  void advance(LedgerTime now) { advance_to(now); }

  const std::map<std::uint64_t, OrderFills>& fills() const { return fills_; }
  int halts() const { return halts_; }

 private:
  friend class MatchingEngine<TagMarket, OrderTag, TagEvent>;
  TagMarket(ContractSpec spec, Band band) : MatchingEngine(std::move(spec), band, LedgerTime(0)) {}

  // No inventory to check: the private transaction has proved the order is covered.
  Status admit(OrderTag, Side, Price, Qty, const Order*) { return Status::ok(); }
  void on_release(OrderTag, Side, Price, Qty) {}
  void on_fill(const Fill<OrderTag>& f) {
    for (OrderId id : {f.maker, f.taker}) {
      OrderFills& o = fills_[id.value];
      o.filled = Qty(o.filled.value() + f.qty.value());
      o.fills.emplace_back(f.maker_limit, f.qty);
    }
  }
  void on_close(OrderId id, OrderTag, CloseReason reason) { fills_[id.value].closed = reason; }
  void on_halt(HaltReason) { ++halts_; }
  void on_epoch_opened() {}
  void on_window_closed() {}
  void on_resolution_deadline() { end_resolution_hold(); }

  std::map<std::uint64_t, OrderFills> fills_;
  int halts_ = 0;
};

// Owners in the tag market are opaque: derived from the account, but nothing like it.
OrderTag tag_of(AccountId a) {
  return OrderTag{0x9E3779B97F4A7C15ull * (a.value + 1)};
}

// The order events of either model, owners written as the account they stand for.
struct Describe {
  std::map<std::uint64_t, std::uint32_t> tags;  // tag -> account
  std::string owner(AccountId a) const { return std::to_string(a.value); }
  std::string owner(OrderTag t) const { return std::to_string(tags.at(t.value)); }

  template <class O>
  std::string operator()(const BasicOrderAccepted<O>& e) const {
    return "accepted " + std::to_string(e.id.value) + " by " + owner(e.owner) + " " +
           std::string(side_name(e.side)) + " " + std::string(order_type_name(e.type)) + " " +
           std::to_string(e.qty.value()) + "@" + std::to_string(e.limit.value()) +
           (e.liquidation ? " liquidation" : "");
  }
  template <class O>
  std::string operator()(const BasicTrade<O>& e) const {
    return "trade " + std::to_string(e.seq) + " maker " + std::to_string(e.maker.value) + " (" +
           owner(e.maker_owner) + ") taker " + std::to_string(e.taker.value) + " (" +
           owner(e.taker_owner) + ") " + std::string(side_name(e.taker_side)) + " " +
           std::to_string(e.qty.value()) + "@" + std::to_string(e.price.value());
  }
  template <class O>
  std::string operator()(const BasicOrderClosed<O>& e) const {
    return "closed " + std::to_string(e.id.value) + " by " + owner(e.owner) + " reason " +
           std::to_string(static_cast<int>(e.reason)) + " released " +
           std::to_string(e.released.value());
  }
  template <class O>
  std::string operator()(const BasicOrderReduced<O>& e) const {
    return "reduced " + std::to_string(e.id.value) + " by " + owner(e.owner) + " released " +
           std::to_string(e.released.value()) + " open " + std::to_string(e.open.value());
  }
  std::string operator()(const MarketHalted& e) const {
    return "halted " + std::to_string(e.epoch) + " " + std::to_string(static_cast<int>(e.reason));
  }
  std::string operator()(const EpochOpened& e) const {
    return "epoch " + std::to_string(e.epoch) + " [" + std::to_string(e.band.low.value()) + ", " +
           std::to_string(e.band.high.value()) + "] close " +
           std::to_string(e.window_close.value());
  }
  std::string operator()(const WindowClosed& e) const {
    return "window closed " + std::to_string(e.epoch);
  }
  // The transparent accounts' own events (cash, margin calls, refreshes) are not the market's.
  template <class T>
  std::string operator()(const T&) const {
    return {};
  }

  template <class Ev>
  std::vector<std::string> all(std::span<const Ev> events) const {
    std::vector<std::string> out;
    for (const Ev& e : events) {
      std::string s = std::visit(*this, e.body);
      if (!s.empty()) out.push_back(std::to_string(e.time.value()) + " " + s);
    }
    return out;
  }
};

template <class Book>
std::vector<std::string> book_of(const Book& book, const Describe& d) {
  std::vector<std::string> out;
  for (Side side : {Side::kBuy, Side::kSell}) {
    book.for_each(side, [&](const typename Book::Order& o) {
      out.push_back(std::string(side_name(side)) + " " + std::to_string(o.id.value) + " by " +
                    d.owner(o.owner) + " " + std::to_string(o.open.value()) + "@" +
                    std::to_string(o.limit.value()));
    });
  }
  return out;
}

std::string outcome_text(const Result<OrderOutcome>& r) {
  if (!r.is_ok()) return "error " + std::to_string(static_cast<int>(r.status().code()));
  return "ok " + std::to_string(r->id.value) + " filled " + std::to_string(r->filled.value()) +
         " resting " + std::to_string(r->resting.value());
}
std::string outcome_text(const Status& s) {
  return s.is_ok() ? "ok" : "error " + std::to_string(static_cast<int>(s.code()));
}

// Every account refreshes as soon as a margin round opens (the tag model has no refresh: its
// traders prove their inventory with each transaction).
void refresh_all(Exchange& ex, const std::vector<AccountId>& accounts, LedgerTime now) {
  if (ex.phase() != Phase::kRefreshWindow) return;
  for (AccountId a : accounts) {
    if (!ex.account(a)->refreshed) {
      ASSERT_TRUE(ex.refresh(now, a, Cash(0)).is_ok());
    }
  }
}

// Random flow over every order type (market orders with and without a reservation price),
// cancels, replaces and reduces, prices across and beyond the band, time steps that trip the
// breaker and scheduled margin rounds.
void run_same_flow(std::uint64_t seed) {
  ContractSpec spec = testing::small_spec();
  spec.settlement_interval_ms = 300'000;
  Exchange ex = *Exchange::open(spec, Price(1000), LedgerTime(0));
  TagMarket tm = TagMarket::open(spec, Price(1000));
  Describe d;
  std::vector<AccountId> accounts;
  for (int i = 0; i < 6; ++i) {
    AccountId a = *ex.register_account(LedgerTime(0));
    ASSERT_TRUE(ex.deposit(LedgerTime(0), a, Cash(100'000'000)).is_ok());
    accounts.push_back(a);
    d.tags[tag_of(a).value] = a.value;
  }
  std::mt19937_64 rng(seed);
  std::vector<std::pair<OrderId, AccountId>> orders;
  std::int64_t now = 0;
  int trades = 0;
  for (int step = 0; step < 3000; ++step) {
    now += static_cast<std::int64_t>(rng() % 2000);
    const LedgerTime t(now);
    // Deadlines first (a margin round may open), so every account can refresh before it acts.
    ex.advance(t);
    tm.advance(t);
    refresh_all(ex, accounts, t);
    if (::testing::Test::HasFatalFailure()) return;
    const AccountId a = accounts[rng() % accounts.size()];
    const OrderTag tag = tag_of(a);
    const Side side = rng() % 2 ? Side::kBuy : Side::kSell;
    const auto type = static_cast<OrderType>(rng() % (kMaxOrderType + 1));
    const std::int64_t offset = static_cast<std::int64_t>(rng() % 121) - 60;
    const std::int64_t price = ex.band().reference.value() + offset;
    OrderRequest r{side, type, Price(price), Qty(1 + static_cast<std::int64_t>(rng() % 12))};
    if (type == OrderType::kMarket && rng() % 3 != 0) r.limit.reset();
    const std::uint64_t kind = rng() % 10;
    std::string ex_out;
    std::string tm_out;
    if (kind < 6 || orders.empty()) {
      Result<OrderOutcome> x = ex.submit(t, a, r);
      Result<OrderOutcome> y = tm.submit(t, tag, r);
      ex_out = outcome_text(x);
      tm_out = outcome_text(y);
      if (x.is_ok()) orders.emplace_back(x->id, a);
    } else {
      auto [order, owner] = orders[rng() % orders.size()];
      // Sometimes someone else's order: both refuse it alike.
      const AccountId who = rng() % 8 == 0 ? a : owner;
      if (kind < 8) {
        ex_out = outcome_text(ex.cancel(t, who, order));
        tm_out = outcome_text(tm.cancel(t, tag_of(who), order));
      } else if (kind == 8) {
        // Up to all of the order and sometimes more than it has open.
        const Qty by(1 + static_cast<std::int64_t>(rng() % 8));
        ex_out = outcome_text(ex.reduce(t, who, order, by));
        tm_out = outcome_text(tm.reduce(t, tag_of(who), order, by));
      } else {
        // Half the replaces keep the price and lower the quantity: still a new order.
        if (rng() % 2 == 0 && ex.book().find(order) != OrderBook::kNil) {
          const OrderBook::Order& o = ex.book().at(ex.book().find(order));
          r = OrderRequest{o.side, OrderType::kLimit, o.limit,
                           Qty(std::max<std::int64_t>(1, o.open.value() - 1))};
        }
        Result<OrderOutcome> x = ex.replace(t, who, order, r);
        Result<OrderOutcome> y = tm.replace(t, tag_of(who), order, r);
        ex_out = outcome_text(x);
        tm_out = outcome_text(y);
        if (x.is_ok()) orders.emplace_back(x->id, who);
      }
    }
    ASSERT_EQ(ex_out, tm_out) << "seed " << seed << " step " << step;
    trades = static_cast<int>(ex.trade_count());
  }
  EXPECT_EQ(d.all(ex.events()), d.all(tm.events())) << "seed " << seed;
  EXPECT_EQ(book_of(ex.book(), d), book_of(tm.book(), d)) << "seed " << seed;
  EXPECT_EQ(ex.trade_count(), tm.trade_count());
  EXPECT_EQ(ex.epoch(), tm.epoch());
  EXPECT_EQ(ex.band().reference, tm.band().reference);
  // The flow exercised what it means to: trades and margin rounds.
  EXPECT_GT(trades, 100) << "seed " << seed;
  EXPECT_GT(ex.epoch(), 2U) << "seed " << seed;
}

TEST(MatchingEngineTest, SameFlowGivesTheSameBookAndTradesInBothModels) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE(seed);
    run_same_flow(seed);
    if (HasFatalFailure()) return;
  }
}

TEST(MatchingEngineTest, FillsAccrueToTheOrderUntilItCloses) {
  TagMarket tm = TagMarket::open(testing::small_spec(), Price(1000));
  const OrderTag maker{77};
  const OrderTag taker{1'000'000'007};
  OrderId resting = tm.submit(LedgerTime(1), maker, sell(1001, 5))->id;
  OrderId first = tm.submit(LedgerTime(2), taker, buy(1001, 2))->id;
  EXPECT_EQ(tm.fills().at(resting.value).filled, Qty(2));
  EXPECT_FALSE(tm.fills().at(resting.value).closed);  // still rests: nothing to claim yet
  EXPECT_EQ(tm.fills().at(first.value).closed, CloseReason::kFilled);
  OrderId second = tm.submit(LedgerTime(3), taker, buy(1002, 4, OrderType::kImmediateOrCancel))->id;
  const OrderFills& made = tm.fills().at(resting.value);
  EXPECT_EQ(made.filled, Qty(5));
  ASSERT_EQ(made.fills.size(), 2U);
  EXPECT_EQ(made.fills[0], std::make_pair(Price(1001), Qty(2)));
  EXPECT_EQ(made.fills[1], std::make_pair(Price(1001), Qty(3)));  // at the maker's price
  EXPECT_EQ(made.closed, CloseReason::kFilled);
  EXPECT_EQ(tm.fills().at(second.value).filled, Qty(3));
  EXPECT_EQ(tm.fills().at(second.value).closed, CloseReason::kUnfilledIoc);
  EXPECT_TRUE(tm.book().empty());
}

TEST(MatchingEngineTest, TheTagModelAdmitsWithoutSolvencyButTheEngineStillChecksTheMarket) {
  TagMarket tm = TagMarket::open(testing::small_spec(), Price(1000));
  const OrderTag owner{5};
  // No money behind it, and none needed: the private transaction carries the proof.
  EXPECT_TRUE(tm.submit(LedgerTime(1), owner, buy(999, 1'000'000)).is_ok());
  // The market's own rules hold whatever the model: band, size, shape, ownership.
  EXPECT_EQ(tm.submit(LedgerTime(1), owner, buy(900, 1)).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(tm.submit(LedgerTime(1), owner, buy(999, 1'000'001)).status().code(),
            ErrorCode::kInvalidArgument);
  OrderId id = tm.submit(LedgerTime(1), owner, sell(1010, 3))->id;
  EXPECT_EQ(tm.cancel(LedgerTime(2), OrderTag{6}, id).code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(tm.cancel(LedgerTime(2), owner, id).is_ok());
  EXPECT_EQ(tm.cancel(LedgerTime(2), owner, id).code(), ErrorCode::kNotFound);
}

TEST(MatchingEngineTest, TheTagModelGoesThroughMarginRoundsWithoutRefreshes) {
  ContractSpec spec = testing::small_spec();
  spec.settlement_interval_ms = 1000;
  TagMarket tm = TagMarket::open(spec, Price(1000));
  OrderId id = tm.submit(LedgerTime(1), OrderTag{1}, buy(999, 2))->id;
  tm.advance(LedgerTime(1000));  // the scheduled round: halt, orders expire, window opens
  EXPECT_EQ(tm.halts(), 1);
  EXPECT_EQ(tm.phase(), Phase::kRefreshWindow);
  EXPECT_EQ(tm.fills().at(id.value).closed, CloseReason::kExpired);
  EXPECT_TRUE(tm.book().empty());
  tm.advance(tm.window_close());
  EXPECT_EQ(tm.phase(), Phase::kTrading);
  EXPECT_EQ(tm.epoch(), 1U);
}

}  // namespace
}  // namespace pfex::market
