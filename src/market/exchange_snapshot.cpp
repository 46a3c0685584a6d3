// Exchange::snapshot / restore / state_hash: the canonical encoding of the exchange's state.
// Layout (docs/codec.md types): u8 version = 5, the contract spec, then the state fields in the
// order of encode_state below. Restoring re-inserts resting orders in priority order, which
// rebuilds the same price-time queues.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "market/exchange.hpp"

namespace pfex::market {
namespace {

// 5: the contract's D_res, the resolution hold and its deadline, the defaulters awaiting the
// fund's takeover (4, which liquidated at the close, is refused).
constexpr std::uint8_t kSnapshotVersion = 5;
constexpr std::int64_t kMax = INT64_MAX;

void put_i128(Writer& w, i128 x) {
  w.u64(static_cast<std::uint64_t>(x));
  w.u64(static_cast<std::uint64_t>(x >> 64));
}
i128 get_i128(Reader& r, std::string_view field) {
  std::uint64_t lo = r.u64(field);
  std::uint64_t hi = r.u64(field);
  return static_cast<i128>((static_cast<u128>(hi) << 64) | lo);
}

}  // namespace

Digest32 Exchange::state_hash() const {
  Hasher h("pfex/v1/market-state");
  h.update(snapshot());
  return h.finish();
}

Bytes Exchange::snapshot() const {
  Bytes out;
  Writer w(&out);
  w.u8(kSnapshotVersion);
  encode_contract(w, spec_);
  encode_state(w);
  return out;
}

void Exchange::encode_state(Writer& w) const {
  w.u8(static_cast<std::uint8_t>(phase_));
  w.u32(epoch_);
  w.i64(time_.value());
  w.i64(window_close_.value());
  w.i64(next_scheduled_ms_);
  for (std::int64_t x : {band_.reference.value(), band_.low.value(), band_.high.value(),
                         band_.margin.value(), band_.half_width_ppm}) {
    w.i64(x);
  }
  w.u32(static_cast<std::uint32_t>(accounts_.size()));
  for (const Account& a : accounts_) {
    for (std::int64_t x : {a.cash.value(), a.position, a.open_buy.value(), a.open_sell.value(),
                           a.open_buy_ticks, a.open_sell_ticks, a.bond.value()}) {
      w.i64(x);
    }
    w.u8(static_cast<std::uint8_t>(a.status));
    w.boolean(a.refreshed);
  }
  for (Side side : {Side::kBuy, Side::kSell}) {
    std::uint64_t n = 0;
    book_.for_each(side, [&](const OrderBook::Order&) { ++n; });
    w.u64(n);
    book_.for_each(side, [&](const OrderBook::Order& o) {
      w.u64(o.id.value);
      w.u32(o.owner.value);
      w.i64(o.limit.value());
      w.i64(o.open.value());
      w.boolean(o.liquidation);
    });
  }
  encode_trade_state<std::uint32_t>(w);
  w.i64(levy_per_contract_);
  put_i128(w, gross_round_);
  put_i128(w, gross_prev_);
  w.u32(static_cast<std::uint32_t>(batches_.size()));
  for (const LiquidationBatch& b : batches_)
    b.encode(w);
  w.u32(static_cast<std::uint32_t>(defaults_.size()));
  for (const DefaultRecord& d : defaults_) {
    w.u32(d.account.value);
    w.u32(d.batch);
    w.i64(d.cash.value());
    w.i64(d.position);
    w.boolean(d.claimed);
  }
  w.boolean(liquidation_order_.has_value());
  w.u64(liquidation_order_ ? liquidation_order_->value : 0);
  w.i64(external_in_);
  w.i64(external_out_);
  w.boolean(resolution_held_);
  w.i64(resolution_deadline_ ? resolution_deadline_->value() : 0);
  w.u32(static_cast<std::uint32_t>(awaiting_takeover_.size()));
  for (AccountId id : awaiting_takeover_)
    w.u32(id.value);
}

Result<Exchange> Exchange::restore(ByteSpan bytes) {
  Reader r(bytes);
  if (r.u8("snapshot version") != kSnapshotVersion && !r.failed()) {
    return Status::corruption("unknown snapshot version");
  }
  ContractSpec spec = decode_contract(r);
  PFEX_RETURN_IF_ERROR(r.status());
  PFEX_RETURN_IF_ERROR(spec.validate().with_context("snapshot"));
  Exchange ex(std::move(spec), Band{}, LedgerTime(0));
  PFEX_RETURN_IF_ERROR(ex.decode_state(r));
  PFEX_RETURN_IF_ERROR(r.finish().with_context("snapshot"));
  return ex;
}

Status Exchange::decode_state(Reader& r) {
  auto bad = [](const std::string& why) { return Status::corruption("snapshot: " + why); };
  phase_ = static_cast<Phase>(r.u8_in("phase", 0, 2));
  epoch_ = r.u32("epoch");
  time_ = LedgerTime(r.i64_in("time", 0, kMaxLedgerTimeMs));
  window_close_ = LedgerTime(r.i64_in("window close", 0, kMaxLedgerTimeMs + kMaxWindowMs));
  next_scheduled_ms_ = r.i64_in("next scheduled round", 0, kMaxLedgerTimeMs + kMaxWindowMs);
  Price reference(r.i64("reference"));
  Price low(r.i64("band low"));
  Price high(r.i64("band high"));
  Cash margin(r.i64("margin"));
  std::int64_t half_width = r.i64("band half-width");
  PFEX_RETURN_IF_ERROR(r.status());
  Result<Band> band = make_band(spec_, reference, half_width);
  if (!band.is_ok() || band->low != low || band->high != high || band->margin != margin) {
    return bad("the band does not match its reference and width");
  }
  band_ = *band;
  book_.reset(band_.low, band_.high);
  std::uint32_t n_accounts = r.u32("account count");
  // Each account is seven i64, the status and the refreshed flag: 58 bytes.
  constexpr std::size_t kAccountBytes = 7 * 8 + 2;
  if (n_accounts == 0 || n_accounts > r.remaining() / kAccountBytes) return bad("account count");
  accounts_.assign(n_accounts, Account{});
  for (Account& a : accounts_) {
    a.cash = Cash(r.i64("cash"));
    a.position = r.i64("position");
    a.open_buy = Qty(r.i64_in("open buy", 0, kMax));
    a.open_sell = Qty(r.i64_in("open sell", 0, kMax));
    a.open_buy_ticks = r.i64_in("open buy ticks", 0, kMax);
    a.open_sell_ticks = r.i64_in("open sell ticks", 0, kMax);
    a.bond = Cash(r.i64_in("bond", 0, kMax));
    a.status = static_cast<AccountStatus>(r.u8_in("account status", 0, 2));
    a.refreshed = r.boolean("refreshed");
  }
  struct Totals {
    i128 buy = 0, sell = 0, buy_ticks = 0, sell_ticks = 0;
  };
  std::vector<Totals> totals(n_accounts);  // open totals recomputed from the book
  std::uint64_t max_id = 0;
  for (Side side : {Side::kBuy, Side::kSell}) {
    std::uint64_t n = r.u64("order count");
    if (n > r.remaining() / 29) return bad("order count");
    std::optional<Price> previous;
    for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
      OrderId id{r.u64_in("order id", 1, UINT64_MAX)};
      AccountId owner{r.u32("owner")};
      Price limit(r.i64("limit"));
      Qty open(r.i64_in("open quantity", 1, kMax));
      bool liquidation = r.boolean("liquidation");
      if (r.failed()) break;
      // Orders come best price first (the only order that re-encodes to the same bytes).
      bool out_of_order = previous && (side == Side::kBuy ? limit > *previous : limit < *previous);
      if (owner.value >= n_accounts || !band_.contains(limit) || out_of_order ||
          book_.find(id) != OrderBook::kNil || open.value() > (std::int64_t{1} << 31)) {
        return bad("resting order " + std::to_string(id.value) + " is inconsistent");
      }
      previous = limit;
      max_id = std::max(max_id, id.value);
      Totals& t = totals[owner.value];
      i128 ticks = static_cast<i128>(limit.value()) * open.value();
      (side == Side::kBuy ? t.buy : t.sell) += open.value();
      (side == Side::kBuy ? t.buy_ticks : t.sell_ticks) += ticks;
      book_.insert(id, owner, side, limit, open, liquidation);
    }
  }
  PFEX_RETURN_IF_ERROR(r.status());
  std::optional<Price> bid = book_.best(Side::kBuy);
  std::optional<Price> ask = book_.best(Side::kSell);
  if (bid && ask && !(*bid < *ask)) return bad("the book is crossed");
  for (std::uint32_t i = 0; i < n_accounts; ++i) {
    const Account& a = accounts_[i];
    const Totals& t = totals[i];
    if (a.open_buy.value() != t.buy || a.open_sell.value() != t.sell ||
        a.open_buy_ticks != t.buy_ticks || a.open_sell_ticks != t.sell_ticks) {
      return bad("account " + std::to_string(i) + "'s open totals do not match the book");
    }
  }
  PFEX_RETURN_IF_ERROR(decode_trade_state<std::uint32_t>(r, kMax).with_context("snapshot"));
  if (next_order_id_ <= max_id) return bad("next order id is not above every resting order");
  levy_per_contract_ = r.i64_in("levy", 0, kMax);
  gross_round_ = get_i128(r, "gross this round");
  gross_prev_ = get_i128(r, "gross at the previous close");
  if (!r.failed() && (gross_round_ < 0 || gross_prev_ < 0)) return bad("negative gross total");
  std::uint32_t n_batches = r.u32("liquidation count");
  for (std::uint32_t i = 0; i < n_batches && !r.failed(); ++i) {
    batches_.push_back(LiquidationBatch::decode(r, time_));
  }
  std::uint32_t n_defaults = r.u32("default count");
  for (std::uint32_t i = 0; i < n_defaults && !r.failed(); ++i) {
    DefaultRecord d{};
    d.account = AccountId{r.u32("defaulter")};
    d.batch = r.u32("default batch");
    d.cash = Cash(r.i64("defaulter cash"));
    d.position = r.i64("defaulter position");
    d.claimed = r.boolean("claimed");
    if (!r.failed() && (d.account.value >= n_accounts || d.batch >= batches_.size())) {
      return bad("default record");
    }
    defaults_.push_back(d);
  }
  bool has_liquidation = r.boolean("has liquidation order");
  std::uint64_t liquidation = r.u64("liquidation order");
  if (has_liquidation) liquidation_order_ = OrderId{liquidation};
  if (!has_liquidation && liquidation != 0) return bad("absent liquidation order must be 0");
  external_in_ = r.i64("money in");
  external_out_ = r.i64("money out");
  // The hold ends at its deadline in the transparent exchange: held exactly while the deadline
  // (after the close, at most D_res after it) is ahead.
  resolution_held_ = r.boolean("resolution hold");
  const std::int64_t deadline = r.i64_in("resolution deadline", 0, kMaxLedgerTimeMs);
  if (resolution_held_) resolution_deadline_ = LedgerTime(deadline);
  if (!r.failed() && (resolution_held_ ? phase_ != Phase::kTrading || deadline <= time_.value() ||
                                             deadline != window_close_.value() + spec_.resolution_ms
                                       : deadline != 0)) {
    return bad("the resolution hold and its deadline are inconsistent");
  }
  const std::uint32_t n_awaiting = r.u32("defaulters awaiting the takeover");
  if (n_awaiting > r.remaining() / 4) return bad("defaulters awaiting the takeover");
  for (std::uint32_t i = 0; i < n_awaiting && !r.failed(); ++i) {
    const AccountId id{r.u32("defaulter awaiting the takeover")};
    if (!r.failed() && (id.value == 0 || id.value >= n_accounts ||
                        accounts_[id.value].status != AccountStatus::kDefaulted ||
                        (!awaiting_takeover_.empty() && !(awaiting_takeover_.back() < id)))) {
      return bad("defaulter awaiting the takeover");
    }
    awaiting_takeover_.push_back(id);
  }
  PFEX_RETURN_IF_ERROR(r.status());
  if (!awaiting_takeover_.empty() && !resolution_held_) {
    return bad("defaulters await the takeover without a resolution deadline ahead");
  }
  // A snapshot is taken between actions, when no deadline is overdue (a halt held until the
  // resolution deadline is not overdue).
  if ((next_scheduled_ms_ != 0) != (spec_.settlement_interval_ms != 0) ||
      (next_scheduled_ms_ != 0 && phase_ == Phase::kTrading && !resolution_held_ &&
       next_scheduled_ms_ <= time_.value()) ||
      (phase_ == Phase::kRefreshWindow && window_close_ <= time_) ||
      (standing_since_ && (phase_ != Phase::kTrading || *standing_since_ > time_ ||
                           (!resolution_held_ && time_.value() - standing_since_->value() >=
                                                     spec_.breaker_window_ms)))) {
    return bad("a deadline is overdue or inconsistent");
  }
  return Status::ok();
}

}  // namespace pfex::market
