// MatchingEngine's implementation (the contract is in matching_engine.hpp). A template: every
// account model instantiates it with its own hooks, inlined on the matching path.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/checked.hpp"
#include "market/matching_engine.hpp"
#include "market/names.hpp"

namespace pfex::market {
namespace engine_detail {

inline std::string id_text(OrderId id) {
  return "order " + std::to_string(id.value);
}

inline bool crosses(Side taker_side, Price taker_limit, Price maker_price) {
  return taker_side == Side::kBuy ? maker_price <= taker_limit : maker_price >= taker_limit;
}

}  // namespace engine_detail

template <class M, class O, class E>
MatchingEngine<M, O, E>::MatchingEngine(ContractSpec spec, Band band, LedgerTime start)
    : spec_(std::move(spec)), band_(band), time_(start), window_close_(start) {
  book_.reset(band_.low, band_.high);
  if (spec_.settlement_interval_ms > 0) {
    next_scheduled_ms_ = start.value() + spec_.settlement_interval_ms;
  }
}

// ---- time and deadlines ------------------------------------------------------------------------

template <class M, class O, class E>
void MatchingEngine<M, O, E>::advance_to(LedgerTime now) {
  now = std::min(now, LedgerTime(kMaxLedgerTimeMs));
  while (true) {
    if (phase_ == Phase::kTrading && resolution_held_) {
      if (!resolution_deadline_ || now < *resolution_deadline_) break;
      time_ = std::max(time_, *resolution_deadline_);
      resolution_deadline_.reset();
      model().on_resolution_deadline();
      if (resolution_held_) break;  // waits for the model (late shares)
      continue;
    }
    if (phase_ == Phase::kTrading) {
      std::optional<std::int64_t> due;
      HaltReason reason = HaltReason::kScheduled;
      if (standing_since_) {
        due = standing_since_->value() + spec_.breaker_window_ms;
        reason = HaltReason::kBreakerStanding;
      }
      if (next_scheduled_ms_ > 0 && (!due || next_scheduled_ms_ < *due)) {
        due = next_scheduled_ms_;
        reason = HaltReason::kScheduled;
      }
      if (due && *due <= now.value()) {
        time_ = std::max(time_, LedgerTime(*due));
        halt(reason);
        continue;
      }
    } else if (phase_ == Phase::kRefreshWindow && window_close_ <= now) {
      time_ = std::max(time_, window_close_);
      close_window();
      continue;
    }
    break;
  }
  time_ = std::max(time_, now);
}

// ---- orders ------------------------------------------------------------------------------------

template <class M, class O, class E>
Status MatchingEngine<M, O, E>::check_request(const OrderRequest& r) const {
  if (static_cast<std::uint8_t>(r.type) > kMaxOrderType) {
    return Status::invalid_argument("unknown order type");
  }
  if (r.side != Side::kBuy && r.side != Side::kSell)
    return Status::invalid_argument("unknown side");
  if (r.qty.value() < 1) {
    return Status::invalid_argument("quantity must be at least 1 contract, got " +
                                    std::to_string(r.qty.value()));
  }
  if (r.qty > spec_.max_order_qty) {
    return Status::invalid_argument("quantity " + std::to_string(r.qty.value()) +
                                    " exceeds the maximum order size " +
                                    std::to_string(spec_.max_order_qty.value()));
  }
  if (r.type != OrderType::kMarket && !r.limit) {
    return Status::invalid_argument("a " + std::string(order_type_name(r.type)) +
                                    " order needs a limit price");
  }
  return Status::ok();
}

template <class M, class O, class E>
Result<typename MatchingEngine<M, O, E>::Limits> MatchingEngine<M, O, E>::effective_limit(
    const OrderRequest& r, Slot replaced) const {
  if (r.limit && !band_.contains(*r.limit)) {
    return Status::invalid_argument(
        std::string(r.type == OrderType::kMarket ? "reservation price " : "price ") +
        spec_.format_price(*r.limit) + " is outside the band [" + spec_.format_price(band_.low) +
        ", " + spec_.format_price(band_.high) + "]");
  }
  if (r.type != OrderType::kMarket) return Limits{*r.limit, *r.limit};
  const std::optional<Price> best = best_without(opposite(r.side), replaced);
  const Price reservation =
      r.limit ? *r.limit : market_reservation(spec_, band_.low, band_.high, r.side, best);
  if (!best) return Limits{reservation, reservation};
  const Price protection = market_reservation(spec_, band_.low, band_.high, r.side, best);
  return Limits{
      r.side == Side::kBuy ? std::min(reservation, protection) : std::max(reservation, protection),
      reservation};
}

// Open quantity of the level at `price` on `side`, less the replaced order if it rests there.
template <class M, class O, class E>
std::int64_t MatchingEngine<M, O, E>::level_qty_without(Side side, Price price, Qty level_qty,
                                                        Slot replaced) const {
  std::int64_t q = level_qty.value();
  if (replaced != Book::kNil) {
    const Order& o = book_.at(replaced);
    if (o.side == side && o.limit == price) q -= o.open.value();
  }
  return q;
}

template <class M, class O, class E>
std::optional<Price> MatchingEngine<M, O, E>::best_without(Side side, Slot replaced) const {
  if (replaced == Book::kNil || book_.at(replaced).side != side) return book_.best(side);
  std::optional<Price> best;
  book_.for_each_level(side, [&](Price price, Qty qty) {
    if (level_qty_without(side, price, qty, replaced) == 0) return true;
    best = price;
    return false;
  });
  return best;
}

// Quantity available to a taker on `side` up to `limit`, counting at most `wanted`.
template <class M, class O, class E>
std::int64_t MatchingEngine<M, O, E>::fillable(Side side, Price limit, std::int64_t wanted,
                                               Slot replaced) const {
  std::int64_t total = 0;
  book_.for_each_level(opposite(side), [&](Price price, Qty qty) {
    if (!engine_detail::crosses(side, limit, price) || total >= wanted) return false;
    total += level_qty_without(opposite(side), price, qty, replaced);
    return true;
  });
  return total;
}

template <class M, class O, class E>
Result<OrderOutcome> MatchingEngine<M, O, E>::reduce_order(O owner, OrderId order, Qty by) {
  if (phase_ == Phase::kClosed) {
    return Status::failed_precondition("the contract has settled; trading is closed");
  }
  Slot slot = book_.find(order);
  if (slot == Book::kNil) {
    return Status::not_found(order.value < next_order_id_ && order.value > 0
                                 ? engine_detail::id_text(order) + " is no longer open"
                                 : "unknown " + engine_detail::id_text(order));
  }
  const Order& o = book_.at(slot);
  if (o.owner != owner) {
    return Status::failed_precondition(engine_detail::id_text(order) + " is not yours");
  }
  if (by.value() < 1 || by > o.open) {
    return Status::invalid_argument("a reduce takes 1 to " + std::to_string(o.open.value()) +
                                    " contracts off " + engine_detail::id_text(order) + ", not " +
                                    std::to_string(by.value()));
  }
  // Reduced to nothing, the order closes as if cancelled.
  if (by == o.open) {
    close_resting(slot, CloseReason::kCancelled);
    after_trading_action();
    return OrderOutcome{order, Qty(0), Qty(0)};
  }
  // Only part of what the model reserved is released: no admission check; the order keeps its id
  // and time priority.
  const Qty open(o.open.value() - by.value());
  model().on_release(o.owner, o.side, o.limit, by);
  emit(BasicOrderReduced<O>{o.id, o.owner, by, open});
  book_.reduce(slot, by);
  after_trading_action();
  return OrderOutcome{order, Qty(0), open};
}

template <class M, class O, class E>
Result<OrderOutcome> MatchingEngine<M, O, E>::place_order(O owner, const OrderRequest& r,
                                                          std::optional<OrderId> replaced) {
  if (phase_ == Phase::kClosed) {
    return Status::failed_precondition("the contract has settled; trading is closed");
  }
  PFEX_RETURN_IF_ERROR(check_request(r));
  Slot old_slot = Book::kNil;
  if (replaced) {
    old_slot = book_.find(*replaced);
    if (old_slot == Book::kNil) {
      return Status::not_found(replaced->value < next_order_id_
                                   ? engine_detail::id_text(*replaced) + " is no longer open"
                                   : "unknown " + engine_detail::id_text(*replaced));
    }
    const Order& old = book_.at(old_slot);
    if (old.owner != owner) {
      return Status::failed_precondition(engine_detail::id_text(*replaced) + " is not yours");
    }
  }
  // The replaced order leaves the book before the new one is checked and matched.
  PFEX_ASSIGN_OR_RETURN(const Limits limits, effective_limit(r, old_slot));
  const Price limit = limits.match;
  const Price reserve = limits.reserve;
  // A post-only order that would trade and a fill-or-kill the book cannot fill are accepted and
  // closed at once without trading: the order gets its id in both modes (a private post has been
  // spent by then), and the reservation is released.
  std::optional<CloseReason> closed_on_arrival;
  std::optional<Price> best_opp = best_without(opposite(r.side), old_slot);
  if (r.type == OrderType::kPostOnly && best_opp &&
      engine_detail::crosses(r.side, limit, *best_opp)) {
    closed_on_arrival = CloseReason::kPostOnlyWouldCross;
  }
  if (r.type == OrderType::kFillOrKill &&
      fillable(r.side, limit, r.qty.value(), old_slot) < r.qty.value()) {
    closed_on_arrival = CloseReason::kKilled;
  }
  // The model checks the order as if it fills completely at its limit, a market order at its
  // reservation price (docs/design.md section 3).
  PFEX_RETURN_IF_ERROR(model().admit(owner, r.side, reserve, r.qty,
                                     old_slot == Book::kNil ? nullptr : &book_.at(old_slot)));

  // Accepted: from here on nothing fails.
  if (old_slot != Book::kNil) {
    const Order& old = book_.at(old_slot);
    const OrderId old_id = old.id;
    const Qty old_open = old.open;
    book_.erase(old_slot);
    close(old_id, owner, CloseReason::kReplaced, old_open);
  }
  OrderId oid{next_order_id_++};
  emit(BasicOrderAccepted<O>{oid, owner, r.side, r.type, reserve, r.qty, false});
  if (closed_on_arrival) {
    model().on_release(owner, r.side, reserve, r.qty);
    close(oid, owner, *closed_on_arrival, r.qty);
    after_trading_action();
    return OrderOutcome{oid, Qty(0), Qty(0)};
  }
  Qty filled = match(oid, owner, r.side, limit, reserve, r.qty);
  Qty rest(r.qty.value() - filled.value());
  Qty resting(0);
  if (rest.value() > 0) {
    if (r.type == OrderType::kLimit || r.type == OrderType::kPostOnly) {
      book_.insert(oid, owner, r.side, limit, rest, false);
      resting = rest;
    } else {
      model().on_release(owner, r.side, reserve, rest);
      close(oid, owner, CloseReason::kUnfilledIoc, rest);
    }
  } else {
    close(oid, owner, CloseReason::kFilled, Qty(0));
  }
  after_trading_action();
  return OrderOutcome{oid, filled, resting};
}

template <class M, class O, class E>
Status MatchingEngine<M, O, E>::cancel_order(O owner, OrderId order) {
  Slot slot = book_.find(order);
  if (slot == Book::kNil) {
    return Status::not_found(order.value < next_order_id_ && order.value > 0
                                 ? engine_detail::id_text(order) +
                                       " is no longer open (filled, cancelled or expired)"
                                 : "unknown " + engine_detail::id_text(order));
  }
  if (book_.at(slot).owner != owner) {
    return Status::failed_precondition(engine_detail::id_text(order) + " is not yours");
  }
  close_resting(slot, CloseReason::kCancelled);
  after_trading_action();
  return Status::ok();
}

template <class M, class O, class E>
void MatchingEngine<M, O, E>::close(OrderId id, O owner, CloseReason reason, Qty released) {
  emit(BasicOrderClosed<O>{id, owner, reason, released});
  model().on_close(id, owner, reason);
}

template <class M, class O, class E>
void MatchingEngine<M, O, E>::close_resting(Slot slot, CloseReason reason) {
  const Order o = book_.at(slot);
  model().on_release(o.owner, o.side, o.limit, o.open);
  if (liquidation_order_ && *liquidation_order_ == o.id) liquidation_order_.reset();
  book_.erase(slot);
  close(o.id, o.owner, reason, o.open);
}

template <class M, class O, class E>
Qty MatchingEngine<M, O, E>::match(OrderId taker, O owner, Side side, Price limit, Price reserve,
                                   Qty qty) {
  std::int64_t remaining = qty.value();
  const Side maker_side = opposite(side);
  while (remaining > 0) {
    Slot slot = book_.front(maker_side);
    if (slot == Book::kNil) break;
    const Order& maker = book_.at(slot);
    if (!engine_detail::crosses(side, limit, maker.limit)) break;
    Qty q(std::min(remaining, maker.open.value()));
    execute_fill(maker, taker, owner, side, reserve, q);
    remaining -= q.value();
    if (q == maker.open) {
      const OrderId id = maker.id;
      const O maker_owner = maker.owner;
      if (liquidation_order_ && *liquidation_order_ == id) liquidation_order_.reset();
      book_.erase(slot);
      close(id, maker_owner, CloseReason::kFilled, Qty(0));
    } else {
      book_.reduce(slot, q);
    }
  }
  return Qty(qty.value() - remaining);
}

template <class M, class O, class E>
void MatchingEngine<M, O, E>::execute_fill(const Order& maker, OrderId taker, O taker_owner,
                                           Side taker_side, Price taker_limit, Qty qty) {
  const Price price = maker.limit;
  const bool liquidation =
      liquidation_order_ && (*liquidation_order_ == maker.id || *liquidation_order_ == taker);
  emit(BasicTrade<O>{++trade_seq_, maker.id, taker, maker.owner, taker_owner, taker_side, price,
                     qty, liquidation});
  last_trade_price_ = price;
  // Only the last T_ref of trades can enter the next reference price.
  while (!recent_trades_.empty() &&
         recent_trades_.front().time.value() < time_.value() - spec_.vwap_window_ms) {
    recent_trades_.pop_front();
  }
  recent_trades_.push_back({time_, price.value(), qty.value()});
  model().on_fill(Fill<O>{maker.id, taker, maker.owner, taker_owner, taker_side, maker.limit,
                          taker_limit, qty, liquidation});
  if (!liquidation && phase_ == Phase::kTrading && (price == band_.low || price == band_.high)) {
    edge_trades_.push_back({time_, price == band_.high, qty.value()});
  }
}

template <class M, class O, class E>
void MatchingEngine<M, O, E>::post_liquidation(O fund, Side side, Price edge, Qty qty) {
  OrderId oid{next_order_id_++};
  liquidation_order_ = oid;
  emit(BasicOrderAccepted<O>{oid, fund, side, OrderType::kLimit, edge, qty, true});
  Qty filled = match(oid, fund, side, edge, edge, qty);
  if (filled < qty && liquidation_order_) {
    book_.insert(oid, fund, side, edge, Qty(qty.value() - filled.value()), true);
  } else {
    liquidation_order_.reset();
    close(oid, fund, CloseReason::kFilled, Qty(0));
  }
}

// ---- circuit breaker ---------------------------------------------------------------------------

template <class M, class O, class E>
bool MatchingEngine<M, O, E>::liquidation_rests_at(Side side, Price edge) const {
  if (!liquidation_order_) return false;
  Slot s = book_.find(*liquidation_order_);
  return s != Book::kNil && book_.at(s).side == side && book_.at(s).limit == edge;
}

template <class M, class O, class E>
void MatchingEngine<M, O, E>::after_trading_action() {
  if (phase_ != Phase::kTrading) return;
  if (resolution_held_) {
    update_standing_quote();
    return;
  }
  // Volume at an edge within T_cb. Liquidation trades never enter edge_trades_, and no breaker
  // locks the market at an edge where the fund's liquidation order rests.
  const std::int64_t horizon = time_.value() - spec_.breaker_window_ms;
  while (!edge_trades_.empty() && edge_trades_.front().time.value() <= horizon) {
    edge_trades_.pop_front();
  }
  std::int64_t at_high = 0;
  std::int64_t at_low = 0;
  for (const EdgeTrade& t : edge_trades_)
    (t.high ? at_high : at_low) += t.qty;
  const bool high_open = !liquidation_rests_at(Side::kBuy, band_.high);
  const bool low_open = !liquidation_rests_at(Side::kSell, band_.low);
  if ((high_open && at_high >= spec_.breaker_qty.value()) ||
      (low_open && at_low >= spec_.breaker_qty.value())) {
    halt(HaltReason::kBreakerVolume);
    return;
  }
  update_standing_quote();
}

template <class M, class O, class E>
void MatchingEngine<M, O, E>::update_standing_quote() {
  // The fund's liquidation order at an edge keeps the breaker off at that edge: a lot behind it
  // must not end the liquidation (docs/design.md section 3, step 4).
  bool bid_at_high =
      book_.best(Side::kBuy) == band_.high && !liquidation_rests_at(Side::kBuy, band_.high);
  bool ask_at_low =
      book_.best(Side::kSell) == band_.low && !liquidation_rests_at(Side::kSell, band_.low);
  if (phase_ == Phase::kTrading && (bid_at_high || ask_at_low)) {
    if (!standing_since_) standing_since_ = time_;
  } else {
    standing_since_.reset();
  }
}

// ---- margin rounds -----------------------------------------------------------------------------

template <class M, class O, class E>
Price MatchingEngine<M, O, E>::next_reference() const {
  const std::int64_t horizon = time_.value() - spec_.vwap_window_ms;
  i128 num = 0;
  i128 den = 0;
  for (const WindowTrade& t : recent_trades_) {
    if (t.time.value() < horizon) continue;
    num += static_cast<i128>(t.price) * t.qty;
    den += t.qty;
  }
  std::int64_t p = band_.reference.value();
  if (den > 0) {
    p = static_cast<std::int64_t>(floor_div(2 * num + den, 2 * den));  // rounded half up
  } else if (last_trade_price_) {
    p = last_trade_price_->value();
  }
  return Price(std::clamp(p, band_.low.value(), band_.high.value()));
}

template <class M, class O, class E>
void MatchingEngine<M, O, E>::skip_past_scheduled() {
  while (next_scheduled_ms_ > 0 && next_scheduled_ms_ <= time_.value()) {
    next_scheduled_ms_ += spec_.settlement_interval_ms;
  }
}

template <class M, class O, class E>
void MatchingEngine<M, O, E>::halt(HaltReason reason) {
  const bool breaker =
      reason == HaltReason::kBreakerVolume || reason == HaltReason::kBreakerStanding;
  emit(MarketHalted{epoch_, reason});
  // Every resting order of the epoch expires (the liquidation order too).
  for (Side side : {Side::kBuy, Side::kSell}) {
    while (!book_.empty()) {
      Slot s = book_.front(side);
      if (s == Book::kNil) break;
      close_resting(s, CloseReason::kExpired);
    }
  }
  model().on_halt(reason);
  if (reason == HaltReason::kScheduled) skip_past_scheduled();
  if (reason != HaltReason::kFinalSettlement) open_next_epoch(breaker);
}

template <class M, class O, class E>
void MatchingEngine<M, O, E>::open_next_epoch(bool widened) {
  Price reference = next_reference();
  std::int64_t d = widened ? spec_.band_ppm * spec_.widen_ppm / kPpm : spec_.band_ppm;
  Result<Band> band = make_band(spec_, reference, d);
  if (!band.is_ok()) band = make_band(spec_, reference, spec_.band_ppm);
  if (band.is_ok()) band_ = *band;  // else (edge of the price range) keep the current band
  book_.reset(band_.low, band_.high);
  ++epoch_;
  edge_trades_.clear();
  recent_trades_.clear();
  standing_since_.reset();
  phase_ = Phase::kRefreshWindow;
  window_close_ = LedgerTime(time_.value() + spec_.refresh_window_ms);
  emit(
      EpochOpened{epoch_, band_, window_close_, widened && band_.half_width_ppm != spec_.band_ppm});
  model().on_epoch_opened();
}

template <class M, class O, class E>
void MatchingEngine<M, O, E>::close_window() {
  emit(WindowClosed{epoch_});
  phase_ = Phase::kTrading;
  skip_past_scheduled();
  resolution_held_ = true;
  resolution_deadline_ =
      LedgerTime(std::min(window_close_.value() + spec_.resolution_ms, kMaxLedgerTimeMs));
  model().on_window_closed();
  update_standing_quote();
}

template <class M, class O, class E>
template <class Count>
void MatchingEngine<M, O, E>::encode_trade_state(Writer& w) const {
  static_assert(std::is_same_v<Count, std::uint32_t> || std::is_same_v<Count, std::uint64_t>);
  const auto count = [&w](std::size_t n) {
    if constexpr (std::is_same_v<Count, std::uint32_t>) {
      w.u32(static_cast<std::uint32_t>(n));
    } else {
      w.u64(n);
    }
  };
  w.u64(next_order_id_);
  w.u64(trade_seq_);
  w.boolean(last_trade_price_.has_value());
  w.i64(last_trade_price_ ? last_trade_price_->value() : 0);
  w.boolean(standing_since_.has_value());
  w.i64(standing_since_ ? standing_since_->value() : 0);
  count(edge_trades_.size());
  for (const EdgeTrade& t : edge_trades_) {
    w.i64(t.time.value());
    w.boolean(t.high);
    w.i64(t.qty);
  }
  count(recent_trades_.size());
  for (const WindowTrade& t : recent_trades_) {
    w.i64(t.time.value());
    w.i64(t.price);
    w.i64(t.qty);
  }
}

template <class M, class O, class E>
template <class Count>
Status MatchingEngine<M, O, E>::decode_trade_state(Reader& r, std::int64_t max_qty) {
  static_assert(std::is_same_v<Count, std::uint32_t> || std::is_same_v<Count, std::uint64_t>);
  const auto count = [&r](std::string_view field) -> std::uint64_t {
    if constexpr (std::is_same_v<Count, std::uint32_t>) {
      return r.u32(field);
    } else {
      return r.u64(field);
    }
  };
  next_order_id_ = r.u64("next order id");
  trade_seq_ = r.u64("trade count");
  const bool has_last = r.boolean("has last trade");
  const std::int64_t last = r.i64("last trade price");
  const bool has_since = r.boolean("has standing quote");
  const std::int64_t since = r.i64_in("standing since", 0, kMaxLedgerTimeMs);
  PFEX_RETURN_IF_ERROR(r.status());
  if (!has_last && last != 0) return Status::corruption("absent last trade price must be 0");
  if (!has_since && since != 0) return Status::corruption("absent standing time must be 0");
  last_trade_price_.reset();
  if (has_last) last_trade_price_ = Price(last);
  standing_since_.reset();
  if (has_since) standing_since_ = LedgerTime(since);
  edge_trades_.clear();
  const std::uint64_t edges = count("edge trade count");
  if (!r.failed() && edges > r.remaining() / 17) {
    return Status::corruption("more edge trades than bytes");
  }
  for (std::uint64_t i = 0; i < edges && !r.failed(); ++i) {
    const LedgerTime at(r.i64_in("edge trade time", 0, kMaxLedgerTimeMs));
    const bool high_edge = r.boolean("edge");
    edge_trades_.push_back({at, high_edge, r.i64_in("edge trade qty", 1, max_qty)});
  }
  recent_trades_.clear();
  const std::uint64_t recent = count("recent trade count");
  if (!r.failed() && recent > r.remaining() / 24) {
    return Status::corruption("more trades than bytes");
  }
  for (std::uint64_t i = 0; i < recent && !r.failed(); ++i) {
    const LedgerTime at(r.i64_in("trade time", 0, kMaxLedgerTimeMs));
    const std::int64_t price = r.i64_in("trade price", 1, kMaxPriceTicks);
    recent_trades_.push_back({at, price, r.i64_in("trade qty", 1, max_qty)});
  }
  return r.status();
}

}  // namespace pfex::market
