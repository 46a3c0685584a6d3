// The matching engine of docs/design.md section 3, apart from any account model: one order book,
// price-time matching at the maker's price, the order types, the price band with its circuit
// breaker, epochs and the margin round's phases (halt, refresh window, window close), each
// order's fill state and the market's events. It does not know whose money stands behind an order.
//
// An account model plugs in by deriving from MatchingEngine<Model, Owner, Event> (static
// polymorphism: the engine calls the model's hooks directly, no virtual call on the matching path)
// and naming its owners (Owner: AccountId for the transparent accounts of exchange.hpp, OrderTag
// for the private mode, where owners are opaque tags and inventory is hidden in tokens). The model
// provides these hooks (it may keep them private and befriend its engine):
//
//   Status admit(Owner owner, Side side, Price limit, Qty qty, const Order* replaced)
//       Called once the engine has accepted an order's shape, limit and arrival type, before it
//       gets an id: may `owner` carry `qty` at `limit` (a market order's reservation price, which
//       its fills and release use too) on `side`, with `replaced` (the order a
//       cancel-replace closes, or null) released first? On Ok the model reserves the new order and
//       releases `replaced`; on error it changes nothing and the engine rejects the order.
//       The transparent accounts check both solvency constraints here; the private mode has the
//       transaction's proof and admits unconditionally.
//   void on_release(Owner owner, Side side, Price limit, Qty qty)
//       `qty` of an order at `limit` will not fill (cancel, expiry, reduce, unfilled IOC, killed).
//   void on_fill(const Fill<Owner>& fill)
//       One trade, after its Trade event: the model moves cash and positions (or, in the private
//       mode, records the fill against both orders for their later settles).
//   void on_close(OrderId id, Owner owner, CloseReason reason)
//       The order left for good, after its OrderClosed event.
//   void on_halt(HaltReason reason)
//       The market halted and every resting order has expired.
//   void on_epoch_opened()
//       The next epoch's band is set and its refresh window is open (EpochOpened emitted).
//   void on_window_closed()
//       The refresh window closed (WindowClosed emitted); the model may post_liquidation().
//   void on_resolution_deadline()
//       The round's resolution deadline, close + D_res (ContractSpec::resolution_ms), has come:
//       the model starts the defaulters' liquidation now, or later (the private mode, when the
//       validators' shares are late), and then calls end_resolution_hold().
//
// Every engine operation that can fail checks everything before it changes anything. Time only
// moves forward: advance_to() processes every deadline due by then, at its own time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "core/units.hpp"
#include "market/band.hpp"
#include "market/contract.hpp"
#include "market/events.hpp"
#include "market/order_book.hpp"
#include "market/types.hpp"

namespace pfex::market {

struct OrderOutcome {
  OrderId id;
  Qty filled;
  Qty resting;  // 0 unless the order rests in the book
};

// One trade as the account model sees it: both orders with their owners and limits.
template <class Owner>
struct Fill {
  OrderId maker;
  OrderId taker;
  Owner maker_owner;
  Owner taker_owner;
  Side taker_side;
  Price maker_limit;  // the trade's price
  Price taker_limit;  // the price the taker's open-order totals use (a market order's p_r)
  Qty qty;
  bool liquidation;  // one side is the insurance fund's liquidation order
};

// A market order's public reservation price when its trader names none (docs/design.md section
// 3.6): the protection limit, `protection_ticks` through the best opposite price, inside the band;
// with no opposite order, the band's edge on the order's side (a buy's H, a sell's L). Its
// open-order totals use it, and it never trades beyond it or beyond the protection limit.
inline Price market_reservation(const ContractSpec& spec, Price low, Price high, Side side,
                                std::optional<Price> best_opposite) {
  if (!best_opposite) return side == Side::kBuy ? high : low;
  const std::int64_t through = side == Side::kBuy ? best_opposite->value() + spec.protection_ticks
                                                  : best_opposite->value() - spec.protection_ticks;
  return Price(std::clamp(through, low.value(), high.value()));
}

template <class Model, class Owner, class EventT>
class MatchingEngine {
 public:
  using Book = BasicOrderBook<Owner>;
  using Order = typename Book::Order;

  const ContractSpec& spec() const { return spec_; }
  Phase phase() const { return phase_; }
  std::uint32_t epoch() const { return epoch_; }
  const Band& band() const { return band_; }
  LedgerTime time() const { return time_; }
  LedgerTime window_close() const { return window_close_; }
  const Book& book() const { return book_; }
  std::optional<Price> last_trade_price() const { return last_trade_price_; }
  std::uint64_t trade_count() const { return trade_seq_; }

  std::span<const EventT> events() const { return events_; }
  void clear_events() { events_.clear(); }

 protected:
  // A market in its first epoch's band at ledger time `start` (no event: the model emits the
  // opening).
  MatchingEngine(ContractSpec spec, Band band, LedgerTime start);

  // Processes every deadline due by `now` (standing-quote breaker, scheduled round, window
  // close), each at its own time, then moves the clock to `now`.
  void advance_to(LedgerTime now);

  // A new order (or a cancel-replace of `replaced`) from `owner`, who the model has already
  // allowed to trade. Checks the request, the replaced order (must rest and be `owner`'s), the
  // limit (a market order's reservation price) against the band, then asks the model to admit
  // it; matches it; rests what a limit or post-only order has left. A cancel-replace always
  // makes a new order with a new id at the back of its queue.
  Result<OrderOutcome> place_order(Owner owner, const OrderRequest& request,
                                   std::optional<OrderId> replaced);
  // Lowers `order`, which must rest and be `owner`'s, by `by` contracts (1 to its open quantity):
  // it keeps its id and time priority and the difference is released (OrderReduced); by all of
  // it, the order closes as cancelled.
  Result<OrderOutcome> reduce_order(Owner owner, OrderId order, Qty by);
  // Cancels `order`, which must rest and be `owner`'s.
  Status cancel_order(Owner owner, OrderId order);
  // The insurance fund's liquidation order: `qty` at the band edge `edge`, matched now, the rest
  // resting; exempt from the breaker at its edge. The model has reserved it already.
  void post_liquidation(Owner fund, Side side, Price edge, Qty qty);
  // Halts the market: every resting order expires, then the model's on_halt; then, unless the
  // contract settles, the next epoch opens with its refresh window.
  void halt(HaltReason reason);
  // The defaulters' liquidation of the last close has started (the model has posted the fund's
  // order, if any): halts may start again. A halt already due (a scheduled round, a quote standing
  // at an edge for T_cb where no liquidation order now rests) starts at the next deadline check,
  // at the current time.
  void end_resolution_hold() {
    resolution_held_ = false;
    resolution_deadline_.reset();
    update_standing_quote();
  }
  // From a halt until the liquidation of its round's defaulters starts (close + D_res, or later),
  // no halt of any kind starts.
  bool halts_held() const { return phase_ == Phase::kRefreshWindow || resolution_held_; }

  // The engine's trade state in the canonical codec (docs/codec.md), the part both models'
  // snapshots share, in this order: the next order id, the trade count, the last trade price and
  // the standing quote's start (each a flag, then the value or 0), the edge trades (time, high
  // edge, qty) and the window's trades (time, price, qty), each list after its count. Count is the
  // width of those counts: std::uint32_t in the exchange's snapshot, std::uint64_t in the private
  // book's (both layouts predate the shared code and keep their bytes).
  template <class Count>
  void encode_trade_state(Writer& w) const;
  // Its inverse, strictly: kCorruption for an absent value not encoded as 0, a count beyond the
  // bytes left, a time, price or quantity out of range (quantities in [1, max_qty]). How the next
  // order id relates to the orders is the model's to check.
  template <class Count>
  Status decode_trade_state(Reader& r, std::int64_t max_qty);

  template <class Body>
  void emit(Body&& body) {
    events_.push_back(EventT{time_, std::forward<Body>(body)});
  }

  // ---- state: protected so the model's snapshot encodes it in its own layout ----
  struct EdgeTrade {
    LedgerTime time;
    bool high;
    std::int64_t qty;
  };
  struct WindowTrade {
    LedgerTime time;
    std::int64_t price;
    std::int64_t qty;
  };

  ContractSpec spec_;
  Band band_;
  Phase phase_ = Phase::kTrading;
  std::uint32_t epoch_ = 0;
  LedgerTime time_;
  LedgerTime window_close_;
  std::int64_t next_scheduled_ms_ = 0;  // 0 = no scheduled rounds
  Book book_;
  std::uint64_t next_order_id_ = 1;
  std::uint64_t trade_seq_ = 0;
  std::optional<Price> last_trade_price_;
  std::optional<LedgerTime> standing_since_;  // best bid at H / ask at L since
  std::deque<EdgeTrade> edge_trades_;         // edge trades within T_cb (breaker volume)
  std::deque<WindowTrade> recent_trades_;     // trades within T_ref (next reference price)
  std::optional<OrderId> liquidation_order_;  // resting liquidation order, if any
  // From a window's close until the model starts its defaulters' liquidation (end_resolution_hold)
  // no halt starts; the deadline close + D_res, until it has passed.
  bool resolution_held_ = false;
  std::optional<LedgerTime> resolution_deadline_;
  std::vector<EventT> events_;

 private:
  using Slot = typename Book::Slot;

  Model& model() { return static_cast<Model&>(*this); }

  // The price an order matches up to, and the one its open-order totals use: a limit order's
  // limit for both; a market order's protection limit capped by its reservation price, and that
  // reservation price.
  struct Limits {
    Price match;
    Price reserve;
  };
  Status check_request(const OrderRequest& request) const;
  // The book as a new order sees it: `replaced` (kNil for none), the order a cancel-replace
  // closes, does not count.
  Result<Limits> effective_limit(const OrderRequest& request, Slot replaced) const;
  std::int64_t level_qty_without(Side side, Price price, Qty level_qty, Slot replaced) const;
  std::optional<Price> best_without(Side side, Slot replaced) const;
  std::int64_t fillable(Side side, Price limit, std::int64_t wanted, Slot replaced) const;
  Qty match(OrderId taker, Owner owner, Side side, Price limit, Price reserve, Qty qty);
  void execute_fill(const Order& maker, OrderId taker, Owner taker_owner, Side taker_side,
                    Price taker_limit, Qty qty);
  void close(OrderId id, Owner owner, CloseReason reason, Qty released);
  void close_resting(Slot slot, CloseReason reason);
  bool liquidation_rests_at(Side side, Price edge) const;
  void after_trading_action();
  void update_standing_quote();
  void open_next_epoch(bool widened);
  Price next_reference() const;
  void close_window();
  void skip_past_scheduled();
};

}  // namespace pfex::market

#include "market/matching_engine_impl.hpp"
