#include "market/exchange.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "core/checked.hpp"
#include "core/codec.hpp"

namespace pfex::market {
namespace {

std::string id_text(OrderId id) {
  return "order " + std::to_string(id.value);
}
std::string id_text(AccountId id) {
  return "account " + std::to_string(id.value);
}

bool crosses(Side taker_side, Price taker_limit, Price maker_price) {
  return taker_side == Side::kBuy ? maker_price <= taker_limit : maker_price >= taker_limit;
}

i128 abs128(i128 x) {
  return x < 0 ? -x : x;
}

std::int64_t saturate_i64(i128 x) {
  return static_cast<std::int64_t>(std::clamp<i128>(x, std::numeric_limits<std::int64_t>::min(),
                                                    std::numeric_limits<std::int64_t>::max()));
}

// ceil(a * b / c) for 0 <= a < c and 0 <= b <= c, exactly and without a wider type: long
// multiplication of a by b's bits, reducing modulo c at each step (every intermediate stays below
// 2c). The final levy's haircut uses it on sums of equity.
i128 mul_div_ceil(i128 a, i128 b, i128 c) {
  u128 q = 0;
  u128 r = 0;
  const auto ua = static_cast<u128>(a);
  const auto uc = static_cast<u128>(c);
  for (int bit = 126; bit >= 0; --bit) {
    q <<= 1;
    r <<= 1;
    if (r >= uc) {
      r -= uc;
      q += 1;
    }
    if (((static_cast<u128>(b) >> bit) & 1U) != 0) {
      r += ua;
      if (r >= uc) {
        r -= uc;
        q += 1;
      }
    }
  }
  return static_cast<i128>(q + (r != 0 ? 1U : 0U));
}

}  // namespace

std::string_view side_name(Side s) {
  return s == Side::kBuy ? "buy" : "sell";
}

std::string_view order_type_name(OrderType t) {
  switch (t) {
    case OrderType::kLimit:
      return "limit";
    case OrderType::kImmediateOrCancel:
      return "ioc";
    case OrderType::kFillOrKill:
      return "fok";
    case OrderType::kPostOnly:
      return "post-only";
    case OrderType::kMarket:
      return "market";
  }
  return "?";
}

// ---- construction ------------------------------------------------------------------------------

Exchange::Exchange(ContractSpec spec, Band band, LedgerTime start)
    : spec_(std::move(spec)), band_(band), time_(start), window_close_(start) {
  accounts_.emplace_back();  // the insurance fund
  book_.reset(band_.low, band_.high);
  if (spec_.settlement_interval_ms > 0) {
    next_scheduled_ms_ = start.value() + spec_.settlement_interval_ms;
  }
}

Result<Exchange> Exchange::open(ContractSpec spec, Price reference, LedgerTime start) {
  PFEX_RETURN_IF_ERROR(spec.validate());
  PFEX_ASSIGN_OR_RETURN(Band band, make_band(spec, reference, spec.band_ppm));
  Exchange ex(std::move(spec), band, start);
  ex.emit(EpochOpened{0, band, start, false});
  return ex;
}

// ---- time and deadlines ------------------------------------------------------------------------

void Exchange::advance(LedgerTime now) {
  advance_to(now);
}

void Exchange::advance_to(LedgerTime now) {
  now = std::min(now, LedgerTime(kMaxLedgerTimeMs));
  while (true) {
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

// ---- accounts ----------------------------------------------------------------------------------

Result<Account> Exchange::account(AccountId id) const {
  if (id.value >= accounts_.size()) return Status::not_found("unknown " + id_text(id));
  return accounts_[id.value];
}

Result<Account*> Exchange::trader(AccountId id) {
  if (id == kInsuranceFund) {
    return Status::invalid_argument("the insurance fund acts only through liquidation");
  }
  if (id.value >= accounts_.size()) return Status::not_found("unknown " + id_text(id));
  return &accounts_[id.value];
}

Status Exchange::check_can_trade(const Account& a) const {
  if (phase_ == Phase::kClosed) {
    return Status::failed_precondition("the contract has settled; trading is closed");
  }
  if (a.status != AccountStatus::kActive) {
    return Status::failed_precondition("the account defaulted and may only exit and withdraw");
  }
  if (!a.refreshed) {
    return Status::failed_precondition("the account must refresh for epoch " +
                                       std::to_string(epoch_) + " before it trades");
  }
  return Status::ok();
}

Status Exchange::check_supply(std::int64_t amount) const {
  const i128 after = static_cast<i128>(external_in_) - external_out_ + amount;
  if (after > kMaxCashSupply) {
    return Status::overflow("the market's cash would reach " +
                            std::to_string(static_cast<std::int64_t>(after)) +
                            " minor units, above the cash supply cap of 2^46");
  }
  return Status::ok();
}

Result<AccountId> Exchange::register_account(LedgerTime now) {
  advance_to(now);
  if (accounts_.size() >= UINT32_MAX) return Status::overflow("too many accounts");
  PFEX_RETURN_IF_ERROR(check_supply(spec_.bond.value()).with_context("bond"));
  PFEX_ASSIGN_OR_RETURN(std::int64_t in, checked_add(external_in_, spec_.bond.value(), "deposits"));
  external_in_ = in;
  AccountId id{static_cast<std::uint32_t>(accounts_.size())};
  Account a;
  a.bond = spec_.bond;
  accounts_.push_back(a);
  emit(AccountRegistered{id, spec_.bond});
  return id;
}

Status Exchange::deposit(LedgerTime now, AccountId id, Cash amount) {
  advance_to(now);
  PFEX_ASSIGN_OR_RETURN(Account * a, trader(id));
  if (amount.value() <= 0) return Status::invalid_argument("a deposit must be positive");
  if (a->status != AccountStatus::kActive) {
    return Status::failed_precondition(id_text(id) + " defaulted; it cannot deposit");
  }
  PFEX_ASSIGN_OR_RETURN(std::int64_t cash, checked_add(a->cash.value(), amount.value(), "cash"));
  PFEX_RETURN_IF_ERROR(check_supply(amount.value()));
  PFEX_ASSIGN_OR_RETURN(std::int64_t in, checked_add(external_in_, amount.value(), "deposits"));
  a->cash = Cash(cash);
  external_in_ = in;
  emit(CashMoved{id, amount});
  return Status::ok();
}

Status Exchange::withdraw(LedgerTime now, AccountId id, Cash amount) {
  advance_to(now);
  PFEX_ASSIGN_OR_RETURN(Account * a, trader(id));
  if (amount.value() <= 0) return Status::invalid_argument("a withdrawal must be positive");
  if (a->status == AccountStatus::kDefaulted) {
    return Status::failed_precondition(id_text(id) + " defaulted; it must exit first");
  }
  if (a->status == AccountStatus::kActive && !a->refreshed) {
    return Status::failed_precondition(id_text(id) + " must refresh before it withdraws");
  }
  Account after = *a;
  PFEX_ASSIGN_OR_RETURN(std::int64_t cash, checked_sub(a->cash.value(), amount.value(), "cash"));
  after.cash = Cash(cash);
  PFEX_RETURN_IF_ERROR(check_solvency(after, band_, spec_)
                           .with_context("withdrawal of " + std::to_string(amount.value())));
  *a = after;
  external_out_ += amount.value();
  emit(CashMoved{id, Cash(-amount.value())});
  return Status::ok();
}

// ---- orders ------------------------------------------------------------------------------------

Status Exchange::check_request(const OrderRequest& r) const {
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
  if (r.type == OrderType::kMarket && r.limit) {
    return Status::invalid_argument("a market order takes no limit price");
  }
  if (r.type != OrderType::kMarket && !r.limit) {
    return Status::invalid_argument("a " + std::string(order_type_name(r.type)) +
                                    " order needs a limit price");
  }
  return Status::ok();
}

Result<Price> Exchange::effective_limit(const OrderRequest& r, OrderBook::Slot replaced) const {
  if (r.type != OrderType::kMarket) {
    if (!band_.contains(*r.limit)) {
      return Status::invalid_argument("price " + spec_.format_price(*r.limit) +
                                      " is outside the band [" + spec_.format_price(band_.low) +
                                      ", " + spec_.format_price(band_.high) + "]");
    }
    return *r.limit;
  }
  std::optional<Price> best = best_without(opposite(r.side), replaced);
  if (!best) {
    return Status::failed_precondition("a market order needs a resting opposite order");
  }
  std::int64_t limit = r.side == Side::kBuy ? best->value() + spec_.protection_ticks
                                            : best->value() - spec_.protection_ticks;
  limit = std::clamp(limit, band_.low.value(), band_.high.value());
  return Price(limit);
}

// Open quantity of the level at `price` on `side`, less the replaced order if it rests there.
std::int64_t Exchange::level_qty_without(Side side, Price price, Qty level_qty,
                                         OrderBook::Slot replaced) const {
  std::int64_t q = level_qty.value();
  if (replaced != OrderBook::kNil) {
    const OrderBook::Order& o = book_.at(replaced);
    if (o.side == side && o.limit == price) q -= o.open.value();
  }
  return q;
}

std::optional<Price> Exchange::best_without(Side side, OrderBook::Slot replaced) const {
  if (replaced == OrderBook::kNil || book_.at(replaced).side != side) return book_.best(side);
  std::optional<Price> best;
  book_.for_each_level(side, [&](Price price, Qty qty) {
    if (level_qty_without(side, price, qty, replaced) == 0) return true;
    best = price;
    return false;
  });
  return best;
}

// Quantity available to a taker on `side` up to `limit`, counting at most `wanted`.
std::int64_t Exchange::fillable(Side side, Price limit, std::int64_t wanted,
                                OrderBook::Slot replaced) const {
  std::int64_t total = 0;
  book_.for_each_level(opposite(side), [&](Price price, Qty qty) {
    if (!crosses(side, limit, price) || total >= wanted) return false;
    total += level_qty_without(opposite(side), price, qty, replaced);
    return true;
  });
  return total;
}

// A resting order's quantity lowered at the same price, side and resting type: no new order.
bool Exchange::is_reduce(const OrderBook::Order& old, const OrderRequest& r) {
  const bool rests = r.type == OrderType::kLimit || r.type == OrderType::kPostOnly;
  return rests && r.side == old.side && r.limit == old.limit && r.qty < old.open;
}

// Lowering an order's quantity releases part of its reservation, which never weakens either
// constraint, so it needs no solvency check; the order keeps its id and its time priority.
OrderOutcome Exchange::reduce(OrderBook::Slot slot, Qty open) {
  const OrderBook::Order& o = book_.at(slot);
  const Qty released(o.open.value() - open.value());
  release(accounts_[o.owner.value], o.side, o.limit, released);
  emit(OrderReduced{o.id, o.owner, released, open});
  const OrderId id = o.id;
  book_.reduce(slot, released);
  after_trading_action();
  return OrderOutcome{id, Qty(0), open};
}

Result<OrderOutcome> Exchange::submit(LedgerTime now, AccountId id, const OrderRequest& request) {
  advance_to(now);
  return place(id, request, std::nullopt);
}

Result<OrderOutcome> Exchange::replace(LedgerTime now, AccountId id, OrderId order,
                                       const OrderRequest& request) {
  advance_to(now);
  return place(id, request, order);
}

Result<OrderOutcome> Exchange::place(AccountId id, const OrderRequest& r,
                                     std::optional<OrderId> replaced) {
  PFEX_ASSIGN_OR_RETURN(Account * a, trader(id));
  PFEX_RETURN_IF_ERROR(check_can_trade(*a));
  PFEX_RETURN_IF_ERROR(check_request(r));
  OrderBook::Slot old_slot = OrderBook::kNil;
  Account after = *a;
  if (replaced) {
    old_slot = book_.find(*replaced);
    if (old_slot == OrderBook::kNil) {
      return Status::not_found(replaced->value < next_order_id_
                                   ? id_text(*replaced) + " is no longer open"
                                   : "unknown " + id_text(*replaced));
    }
    const OrderBook::Order& old = book_.at(old_slot);
    if (old.owner != id) return Status::failed_precondition(id_text(*replaced) + " is not yours");
    if (is_reduce(old, r)) return reduce(old_slot, r.qty);
    release(after, old.side, old.limit, old.open);
  }
  // The replaced order leaves the book before the new one is checked and matched.
  PFEX_ASSIGN_OR_RETURN(Price limit, effective_limit(r, old_slot));
  // A post-only order that would trade and a fill-or-kill the book cannot fill are accepted and
  // closed at once without trading: the order gets its id in both modes (a private post has been
  // spent by then), and the reservation is released.
  std::optional<CloseReason> closed_on_arrival;
  std::optional<Price> best_opp = best_without(opposite(r.side), old_slot);
  if (r.type == OrderType::kPostOnly && best_opp && crosses(r.side, limit, *best_opp)) {
    closed_on_arrival = CloseReason::kPostOnlyWouldCross;
  }
  if (r.type == OrderType::kFillOrKill &&
      fillable(r.side, limit, r.qty.value(), old_slot) < r.qty.value()) {
    closed_on_arrival = CloseReason::kKilled;
  }
  // Solvency assuming the new order fills completely at its limit (docs/design.md section 3).
  Checked<std::int64_t> notional = Checked<std::int64_t>(limit.value()) * r.qty.value();
  if (r.side == Side::kBuy) {
    Checked<std::int64_t> b = Checked<std::int64_t>(after.open_buy.value()) + r.qty.value();
    Checked<std::int64_t> qb = Checked<std::int64_t>(after.open_buy_ticks) + notional;
    if (b.overflowed() || qb.overflowed()) return Status::overflow("open buy totals overflow");
    after.open_buy = Qty(b.value());
    after.open_buy_ticks = qb.value();
  } else {
    Checked<std::int64_t> s = Checked<std::int64_t>(after.open_sell.value()) + r.qty.value();
    Checked<std::int64_t> qs = Checked<std::int64_t>(after.open_sell_ticks) + notional;
    if (s.overflowed() || qs.overflowed()) return Status::overflow("open sell totals overflow");
    after.open_sell = Qty(s.value());
    after.open_sell_ticks = qs.value();
  }
  PFEX_RETURN_IF_ERROR(check_solvency(after, band_, spec_));

  // Accepted: from here on nothing fails.
  *a = after;
  if (old_slot != OrderBook::kNil) {
    const OrderBook::Order& old = book_.at(old_slot);
    emit(OrderClosed{old.id, id, CloseReason::kReplaced, old.open});
    book_.erase(old_slot);
  }
  OrderId oid{next_order_id_++};
  emit(OrderAccepted{oid, id, r.side, r.type, limit, r.qty, false});
  if (closed_on_arrival) {
    release(accounts_[id.value], r.side, limit, r.qty);
    emit(OrderClosed{oid, id, *closed_on_arrival, r.qty});
    after_trading_action();
    return OrderOutcome{oid, Qty(0), Qty(0)};
  }
  Qty filled = match(oid, id, r.side, limit, r.qty);
  Qty rest(r.qty.value() - filled.value());
  Qty resting(0);
  if (rest.value() > 0) {
    if (r.type == OrderType::kLimit || r.type == OrderType::kPostOnly) {
      book_.insert(oid, id, r.side, limit, rest, false);
      resting = rest;
    } else {
      release(accounts_[id.value], r.side, limit, rest);
      emit(OrderClosed{oid, id, CloseReason::kUnfilledIoc, rest});
    }
  } else {
    emit(OrderClosed{oid, id, CloseReason::kFilled, Qty(0)});
  }
  after_trading_action();
  return OrderOutcome{oid, filled, resting};
}

Status Exchange::cancel(LedgerTime now, AccountId id, OrderId order) {
  advance_to(now);
  PFEX_ASSIGN_OR_RETURN(Account * a, trader(id));
  if (a->status != AccountStatus::kActive) {
    return Status::failed_precondition(id_text(id) + " defaulted");
  }
  OrderBook::Slot slot = book_.find(order);
  if (slot == OrderBook::kNil) {
    return Status::not_found(order.value < next_order_id_ && order.value > 0
                                 ? id_text(order) +
                                       " is no longer open (filled, cancelled or expired)"
                                 : "unknown " + id_text(order));
  }
  if (book_.at(slot).owner != id)
    return Status::failed_precondition(id_text(order) + " is not yours");
  close_resting(slot, CloseReason::kCancelled);
  after_trading_action();
  return Status::ok();
}

void Exchange::release(Account& a, Side side, Price limit, Qty qty) {
  std::int64_t ticks = limit.value() * qty.value();  // fits: checked when the order was accepted
  if (side == Side::kBuy) {
    a.open_buy = Qty(a.open_buy.value() - qty.value());
    a.open_buy_ticks -= ticks;
  } else {
    a.open_sell = Qty(a.open_sell.value() - qty.value());
    a.open_sell_ticks -= ticks;
  }
}

void Exchange::close_resting(OrderBook::Slot slot, CloseReason reason) {
  const OrderBook::Order& o = book_.at(slot);
  release(accounts_[o.owner.value], o.side, o.limit, o.open);
  emit(OrderClosed{o.id, o.owner, reason, o.open});
  if (liquidation_order_ && *liquidation_order_ == o.id) liquidation_order_.reset();
  book_.erase(slot);
}

Qty Exchange::match(OrderId taker, AccountId owner, Side side, Price limit, Qty qty) {
  std::int64_t remaining = qty.value();
  const Side maker_side = opposite(side);
  while (remaining > 0) {
    OrderBook::Slot slot = book_.front(maker_side);
    if (slot == OrderBook::kNil) break;
    const OrderBook::Order& maker = book_.at(slot);
    if (!crosses(side, limit, maker.limit)) break;
    Qty q(std::min(remaining, maker.open.value()));
    execute_fill(maker, taker, owner, side, limit, q);
    remaining -= q.value();
    if (q == maker.open) {
      emit(OrderClosed{maker.id, maker.owner, CloseReason::kFilled, Qty(0)});
      if (liquidation_order_ && *liquidation_order_ == maker.id) liquidation_order_.reset();
      book_.erase(slot);
    } else {
      book_.reduce(slot, q);
    }
  }
  return Qty(qty.value() - remaining);
}

void Exchange::execute_fill(const OrderBook::Order& maker, OrderId taker, AccountId taker_owner,
                            Side taker_side, Price taker_limit, Qty qty) {
  const Price price = maker.limit;
  const std::int64_t q = qty.value();
  const std::int64_t k = spec_.tick_value.value();
  const std::int64_t fee = spec_.fee_per_contract.value() * q;
  // Both accounts proved solvency with these orders filling at their limits, and check_solvency
  // bounded every reachable value to 64 bits, so nothing below can overflow.
  const std::int64_t cash = price.value() * q * k;
  const bool taker_buys = taker_side == Side::kBuy;
  Account& buyer = accounts_[(taker_buys ? taker_owner : maker.owner).value];
  Price buyer_limit = taker_buys ? taker_limit : maker.limit;
  buyer.cash = Cash(buyer.cash.value() - cash - fee);
  buyer.position += q;
  buyer.open_buy = Qty(buyer.open_buy.value() - q);
  buyer.open_buy_ticks -= buyer_limit.value() * q;
  Account& seller = accounts_[(taker_buys ? maker.owner : taker_owner).value];
  Price seller_limit = taker_buys ? maker.limit : taker_limit;
  seller.cash = Cash(seller.cash.value() + cash - fee);
  seller.position -= q;
  seller.open_sell = Qty(seller.open_sell.value() - q);
  seller.open_sell_ticks -= seller_limit.value() * q;
  accounts_[0].cash = Cash(accounts_[0].cash.value() + 2 * fee);

  const bool liquidation =
      liquidation_order_ && (*liquidation_order_ == maker.id || *liquidation_order_ == taker);
  emit(Trade{++trade_seq_, maker.id, taker, maker.owner, taker_owner, taker_side, price, qty,
             liquidation});
  last_trade_price_ = price;
  // Only the last T_ref of trades can enter the next reference price.
  while (!recent_trades_.empty() &&
         recent_trades_.front().time.value() < time_.value() - spec_.vwap_window_ms) {
    recent_trades_.pop_front();
  }
  recent_trades_.push_back({time_, price.value(), q});
  if (liquidation) {
    // The fund's fills go to this round's batch first; the rest works off what it kept before.
    if (!batches_.empty() && !batches_.back().finished) {
      LiquidationBatch& b = batches_.back();
      const std::int64_t take = std::min(q, b.total.value() - b.filled.value());
      b.filled = Qty(b.filled.value() + take);
      b.notional += static_cast<i128>(price.value()) * take;
      if (b.filled == b.total) finish_liquidation(static_cast<std::uint32_t>(batches_.size() - 1));
    }
  } else if (phase_ == Phase::kTrading && (price == band_.low || price == band_.high)) {
    edge_trades_.push_back({time_, price == band_.high, q});
  }
}

// ---- circuit breaker ---------------------------------------------------------------------------

bool Exchange::liquidation_rests_at(Side side, Price edge) const {
  if (!liquidation_order_) return false;
  OrderBook::Slot s = book_.find(*liquidation_order_);
  return s != OrderBook::kNil && book_.at(s).side == side && book_.at(s).limit == edge;
}

void Exchange::after_trading_action() {
  if (phase_ != Phase::kTrading) return;
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

void Exchange::update_standing_quote() {
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

Price Exchange::next_reference() const {
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

void Exchange::halt(HaltReason reason) {
  const bool breaker =
      reason == HaltReason::kBreakerVolume || reason == HaltReason::kBreakerStanding;
  emit(MarketHalted{epoch_, reason});
  // Every resting order of the epoch expires (the liquidation order too).
  for (Side side : {Side::kBuy, Side::kSell}) {
    while (!book_.empty()) {
      OrderBook::Slot s = book_.front(side);
      if (s == OrderBook::kNil) break;
      close_resting(s, CloseReason::kExpired);
    }
  }
  for (std::uint32_t i = 0; i < batches_.size(); ++i) {
    if (!batches_[i].finished) finish_liquidation(i);
  }
  if (reason == HaltReason::kScheduled) {
    while (next_scheduled_ms_ > 0 && next_scheduled_ms_ <= time_.value()) {
      next_scheduled_ms_ += spec_.settlement_interval_ms;
    }
  }
  if (reason != HaltReason::kFinalSettlement) open_next_epoch(breaker);
}

void Exchange::open_next_epoch(bool widened) {
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

  // The fund is margined like any account, the exit claims it owes counted as liabilities: a
  // deficit at the new reference price is levied per contract on every survivor's gross position
  // at its refresh, lambda = ceil(deficit / G_prev) (docs/design.md section 6). What lambda * g_S
  // does not cover stays in the fund's equity and so carries forward to the next round.
  levy_per_contract_ = 0;
  gross_round_ = 0;
  const i128 deficit = -fund_equity(band_.reference);
  if (deficit > 0 && gross_prev_ > 0) {
    const i128 lambda = ceil_div(deficit, gross_prev_);
    levy_per_contract_ =
        static_cast<std::int64_t>(std::min<i128>(lambda, std::numeric_limits<std::int64_t>::max()));
    emit(ShortfallLevied{Cash(saturate_i64(deficit)), Cash(levy_per_contract_)});
  }
  for (std::size_t i = 1; i < accounts_.size(); ++i) {
    Account& a = accounts_[i];
    if (a.status != AccountStatus::kActive) continue;
    a.refreshed = false;
    // Refresh is always the account's own action: every survivor is called, with the deposit it
    // needs (0: a refresh alone will do).
    AccountId id{static_cast<std::uint32_t>(i)};
    Account charged = a;
    charged.cash = Cash(a.cash.value() - levy_per_contract_ * std::abs(a.position));
    Result<Cash> need = margin_shortfall(charged, band_, spec_);
    emit(MarginCall{id, need.is_ok() ? *need : Cash(0)});
  }
}

Status Exchange::try_refresh(AccountId id, Cash deposit) {
  Account& a = accounts_[id.value];
  Account after = a;
  Checked<std::int64_t> levy = Checked<std::int64_t>(levy_per_contract_) * std::abs(a.position);
  Checked<std::int64_t> cash = Checked<std::int64_t>(a.cash.value()) + deposit.value() - levy;
  Checked<std::int64_t> in = Checked<std::int64_t>(external_in_) + deposit.value();
  PFEX_RETURN_IF_ERROR(check_supply(deposit.value()));
  if (cash.overflowed() || in.overflowed()) {
    return Status::overflow("refresh amounts overflow");
  }
  after.cash = Cash(cash.value());
  PFEX_RETURN_IF_ERROR(check_solvency(after, band_, spec_)
                           .with_context("refresh for epoch " + std::to_string(epoch_)));
  after.refreshed = true;
  a = after;
  accounts_[0].cash = Cash(accounts_[0].cash.value() + levy.value());
  gross_round_ += abs128(a.position);
  external_in_ = in.value();
  emit(Refreshed{id, deposit, Cash(levy.value())});
  return Status::ok();
}

Status Exchange::refresh(LedgerTime now, AccountId id, Cash deposit) {
  advance_to(now);
  PFEX_ASSIGN_OR_RETURN(Account * a, trader(id));
  if (phase_ != Phase::kRefreshWindow) {
    return Status::failed_precondition("no margin round is open");
  }
  if (a->status != AccountStatus::kActive)
    return Status::failed_precondition(id_text(id) + " defaulted");
  if (a->refreshed) return Status::failed_precondition(id_text(id) + " already refreshed");
  if (deposit.value() < 0) return Status::invalid_argument("a refresh deposit must be >= 0");
  return try_refresh(id, deposit);
}

void Exchange::close_window() {
  emit(WindowClosed{epoch_});
  phase_ = Phase::kTrading;
  levy_per_contract_ = 0;
  gross_prev_ = gross_round_;  // the survivors' gross at their refreshes: the next round's base
  std::int64_t aggregate = 0;
  auto batch = static_cast<std::uint32_t>(batches_.size());
  bool any = false;
  for (std::size_t i = 1; i < accounts_.size(); ++i) {
    Account& a = accounts_[i];
    if (a.status != AccountStatus::kActive || a.refreshed) continue;
    AccountId id{static_cast<std::uint32_t>(i)};
    emit(Defaulted{id, a.cash, a.position, a.bond});
    Account& f = accounts_[0];
    f.cash = Cash(f.cash.value() + a.cash.value() + a.bond.value());
    f.position += a.position;
    aggregate += a.position;
    defaults_.push_back({id, batch, a.cash, a.position, false});
    a.cash = Cash(0);
    a.position = 0;
    a.bond = Cash(0);
    a.status = AccountStatus::kDefaulted;
    a.refreshed = true;
    any = true;
  }
  if (any) {
    LiquidationBatch b;
    b.epoch = epoch_;
    b.side = aggregate > 0 ? Side::kSell : Side::kBuy;
    b.edge = aggregate > 0 ? band_.low : band_.high;
    b.total = Qty(aggregate < 0 ? -aggregate : aggregate);
    batches_.push_back(b);
    // The batch is priced by the fund's fills only when the fund's order works it off; when the
    // fund's own inventory absorbs the aggregate, the batch is marked at its edge at once.
    const std::int64_t fund_position = accounts_[0].position;
    const bool worked_off =
        aggregate != 0 && fund_position != 0 && (fund_position > 0) == (aggregate > 0);
    if (!worked_off) finish_liquidation(batch);
  }
  while (next_scheduled_ms_ > 0 && next_scheduled_ms_ <= time_.value()) {
    next_scheduled_ms_ += spec_.settlement_interval_ms;
  }
  // The fund works off its whole position (this round's defaulters and whatever it kept from
  // earlier rounds) at the adverse edge of this epoch.
  if (accounts_[0].position != 0) start_liquidation();
  update_standing_quote();
}

void Exchange::start_liquidation() {
  Account& f = accounts_[0];
  const Side side = f.position > 0 ? Side::kSell : Side::kBuy;
  const Price edge = side == Side::kSell ? band_.low : band_.high;
  const Qty total(f.position > 0 ? f.position : -f.position);
  std::int64_t ticks = edge.value() * total.value();
  if (side == Side::kBuy) {
    f.open_buy = Qty(f.open_buy.value() + total.value());
    f.open_buy_ticks += ticks;
  } else {
    f.open_sell = Qty(f.open_sell.value() + total.value());
    f.open_sell_ticks += ticks;
  }
  OrderId oid{next_order_id_++};
  liquidation_order_ = oid;
  emit(OrderAccepted{oid, kInsuranceFund, side, OrderType::kLimit, edge, total, true});
  Qty filled = match(oid, kInsuranceFund, side, edge, total);
  if (filled < total && liquidation_order_) {
    book_.insert(oid, kInsuranceFund, side, edge, Qty(total.value() - filled.value()), true);
  } else {
    emit(OrderClosed{oid, kInsuranceFund, CloseReason::kFilled, Qty(0)});
    liquidation_order_.reset();
  }
}

void Exchange::finish_liquidation(std::uint32_t index) {
  LiquidationBatch& b = batches_[index];
  b.finished = true;
  b.finished_at = time_;
  std::int64_t kept = b.total.value() - b.filled.value();
  if (b.total.value() == 0) {
    b.price_num = band_.reference.value();
    b.price_den = 1;
  } else {
    b.price_num = b.notional + static_cast<i128>(kept) * b.edge.value();
    b.price_den = b.total.value();
  }
  auto avg = static_cast<std::int64_t>(floor_div(2 * b.price_num + b.price_den, 2 * b.price_den));
  emit(LiquidationFinished{index, b.filled, Qty(kept), Price(avg)});
}

// claim = c + v * k * (price_num / price_den) - penalty * |v|, rounded down (negative: nothing).
i128 Exchange::claim_value(const DefaultRecord& rec) const {
  const LiquidationBatch& b = batches_[rec.batch];
  i128 value =
      floor_div(static_cast<i128>(rec.cash.value()) * b.price_den +
                    static_cast<i128>(rec.position) * spec_.tick_value.value() * b.price_num,
                b.price_den);
  return value -
         static_cast<i128>(spec_.liquidation_penalty_per_contract.value()) * abs128(rec.position);
}

// The exit period runs from the moment the claim is priced (its liquidation finished), so every
// defaulter has all of it to exit, however long its liquidation ran.
bool Exchange::claim_lapsed(const DefaultRecord& rec) const {
  const LiquidationBatch& b = batches_[rec.batch];
  return b.finished && time_.value() - b.finished_at.value() >= spec_.exit_period_ms;
}

// The fund's equity at `price` net of the exit claims it owes: a claim is a liability from the
// moment of the default (once its batch is priced; every batch is by the end of its epoch) until
// it is paid or lapses.
i128 Exchange::fund_equity(Price price) const {
  const Account& f = accounts_[0];
  i128 equity = static_cast<i128>(f.cash.value()) +
                static_cast<i128>(f.position) * price.value() * spec_.tick_value.value();
  for (const DefaultRecord& rec : defaults_) {
    if (rec.claimed || !batches_[rec.batch].finished || claim_lapsed(rec)) continue;
    equity -= std::max<i128>(0, claim_value(rec));
  }
  return equity;
}

Result<Cash> Exchange::exit(LedgerTime now, AccountId id) {
  advance_to(now);
  PFEX_ASSIGN_OR_RETURN(Account * a, trader(id));
  if (a->status != AccountStatus::kDefaulted) {
    return Status::failed_precondition(id_text(id) + " has not defaulted; nothing to exit");
  }
  auto rec = std::find_if(defaults_.begin(), defaults_.end(),
                          [&](const DefaultRecord& r) { return r.account == id && !r.claimed; });
  if (rec == defaults_.end()) return Status::failed_precondition(id_text(id) + " already exited");
  const LiquidationBatch& b = batches_[rec->batch];
  if (!b.finished) {
    return Status::failed_precondition("the liquidation of " + id_text(id) +
                                       "'s position is still running; exit after it finishes");
  }
  if (claim_lapsed(*rec)) {
    return Status::failed_precondition(
        id_text(id) + "'s exit period ended at " +
        std::to_string(b.finished_at.value() + spec_.exit_period_ms) +
        " ms of ledger time; the fund keeps the claim");
  }
  const i128 value = claim_value(*rec);
  if (value < 0) {
    return Status::failed_precondition(
        id_text(id) + "'s equity at the liquidation price does not cover the penalty; nothing to " +
        "claim (the fund keeps it)");
  }
  PFEX_ASSIGN_OR_RETURN(std::int64_t claim, to_int64(Checked<i128>(value), "exit claim"));
  PFEX_ASSIGN_OR_RETURN(std::int64_t fund_cash,
                        checked_sub(accounts_[0].cash.value(), claim, "fund cash"));
  PFEX_ASSIGN_OR_RETURN(std::int64_t cash, checked_add(a->cash.value(), claim, "cash"));
  rec->claimed = true;
  accounts_[0].cash = Cash(fund_cash);
  a->cash = Cash(cash);
  a->status = AccountStatus::kExited;
  emit(Exited{id, Cash(claim)});
  return Cash(claim);
}

// The last levy, at the final settlement (docs/market.md, "Final settlement"). The fund's deficit
// at the settlement price, net of the claims it owes, is charged in two parts, so that the fund
// ends non-negative while the survivors have money and no survivor ends below zero:
// 1. per contract on the survivors' gross position at settlement, lambda = min(ceil(D / G), M):
//    a survivor passed the band, so its equity at any price inside it covers M per contract;
// 2. what that leaves, R, as a haircut on the survivors' equity once their positions close: each
//    pays ceil(R * e_i / E), E = sum e_i (at most e_i, since R <= E); when R > E each pays all of
//    e_i and the fund keeps the rest of its deficit, reported as ShortfallHaircut::uncovered.
// Each charged survivor's total is one Refreshed event (its final refresh).
void Exchange::charge_final_levy(Price price) {
  const i128 deficit = -fund_equity(price);
  if (deficit <= 0) return;
  const i128 k = spec_.tick_value.value();
  i128 gross = 0;
  for (std::size_t i = 1; i < accounts_.size(); ++i) {
    if (accounts_[i].status == AccountStatus::kActive) gross += abs128(accounts_[i].position);
  }
  const i128 lambda =
      gross > 0 ? std::min<i128>(ceil_div(deficit, gross), band_.margin.value()) : i128{0};
  emit(ShortfallLevied{Cash(saturate_i64(deficit)), Cash(saturate_i64(lambda))});
  std::vector<i128> charge(accounts_.size(), 0);
  std::vector<i128> equity(accounts_.size(), 0);  // after closing at `price` and paying part 1
  i128 total_equity = 0;
  for (std::size_t i = 1; i < accounts_.size(); ++i) {
    const Account& a = accounts_[i];
    if (a.status != AccountStatus::kActive) continue;
    charge[i] = lambda * abs128(a.position);
    equity[i] =
        std::max<i128>(0, static_cast<i128>(a.cash.value()) +
                              static_cast<i128>(a.position) * price.value() * k - charge[i]);
    total_equity += equity[i];
  }
  const i128 rest = deficit - lambda * gross;
  if (rest > 0) {
    for (std::size_t i = 1; i < accounts_.size(); ++i) {
      if (equity[i] == 0) continue;
      charge[i] += rest >= total_equity ? equity[i] : mul_div_ceil(rest, equity[i], total_equity);
    }
    emit(ShortfallHaircut{Cash(saturate_i64(rest)), Cash(saturate_i64(total_equity)),
                          Cash(saturate_i64(std::max<i128>(0, rest - total_equity)))});
  }
  for (std::size_t i = 1; i < accounts_.size(); ++i) {
    if (charge[i] == 0) continue;
    // Both fit: a charge is at most the account's equity, which is bounded like its cash.
    Account& a = accounts_[i];
    a.cash = Cash(saturate_i64(static_cast<i128>(a.cash.value()) - charge[i]));
    accounts_[0].cash =
        Cash(saturate_i64(static_cast<i128>(accounts_[0].cash.value()) + charge[i]));
    emit(Refreshed{AccountId{static_cast<std::uint32_t>(i)}, Cash(0),
                   Cash(saturate_i64(charge[i]))});
  }
}

Status Exchange::settle_final(LedgerTime now, Price price) {
  advance_to(now);
  if (phase_ == Phase::kClosed) return Status::failed_precondition("the contract already settled");
  // From a halt until the liquidation of its defaulters starts, no halt of any kind.
  if (phase_ == Phase::kRefreshWindow) {
    return Status::failed_precondition(
        "a margin round is open; final settlement waits for its window to close");
  }
  if (!band_.contains(price)) {
    return Status::invalid_argument("settlement price " + spec_.format_price(price) +
                                    " is outside the band [" + spec_.format_price(band_.low) +
                                    ", " + spec_.format_price(band_.high) + "]");
  }
  halt(HaltReason::kFinalSettlement);
  charge_final_levy(price);
  for (Account& a : accounts_) {
    a.cash = Cash(a.cash.value() + a.position * price.value() * spec_.tick_value.value());
    a.position = 0;
    a.refreshed = true;
  }
  phase_ = Phase::kClosed;
  standing_since_.reset();
  emit(FinalSettlement{price});
  return Status::ok();
}

}  // namespace pfex::market
