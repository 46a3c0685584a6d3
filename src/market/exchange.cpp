#include "market/exchange.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "core/checked.hpp"
#include "core/codec.hpp"
#include "market/names.hpp"

namespace pfex::market {
namespace {

std::string id_text(AccountId id) {
  return "account " + std::to_string(id.value);
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

// ---- construction ------------------------------------------------------------------------------

Exchange::Exchange(ContractSpec spec, Band band, LedgerTime start)
    : MatchingEngine(std::move(spec), band, start) {
  accounts_.emplace_back();  // the insurance fund
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
  // The private mode's token of the old epoch may only settle or refresh, so its deposit can
  // only be the refresh's own: both modes take it there.
  if (!a->refreshed) {
    return Status::failed_precondition(id_text(id) +
                                       " has not refreshed in this margin round: deposit with "
                                       "the refresh");
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

Result<OrderOutcome> Exchange::submit(LedgerTime now, AccountId id, const OrderRequest& request) {
  advance_to(now);
  return place(id, request, std::nullopt);
}

Result<OrderOutcome> Exchange::replace(LedgerTime now, AccountId id, OrderId order,
                                       const OrderRequest& request) {
  advance_to(now);
  return place(id, request, order);
}

Result<OrderOutcome> Exchange::reduce(LedgerTime now, AccountId id, OrderId order, Qty by) {
  advance_to(now);
  PFEX_ASSIGN_OR_RETURN(Account * a, trader(id));
  PFEX_RETURN_IF_ERROR(check_can_trade(*a));
  return reduce_order(id, order, by);
}

Result<OrderOutcome> Exchange::place(AccountId id, const OrderRequest& r,
                                     std::optional<OrderId> replaced) {
  PFEX_ASSIGN_OR_RETURN(Account * a, trader(id));
  PFEX_RETURN_IF_ERROR(check_can_trade(*a));
  return place_order(id, r, replaced);
}

// Solvency assuming the new order fills completely at its limit, with the replaced order's
// remainder released first (docs/design.md section 3).
Status Exchange::admit(AccountId id, Side side, Price limit, Qty qty,
                       const OrderBook::Order* replaced) {
  Account& a = accounts_[id.value];
  Account after = a;
  if (replaced) release(after, replaced->side, replaced->limit, replaced->open);
  Checked<std::int64_t> notional = Checked<std::int64_t>(limit.value()) * qty.value();
  if (side == Side::kBuy) {
    Checked<std::int64_t> b = Checked<std::int64_t>(after.open_buy.value()) + qty.value();
    Checked<std::int64_t> qb = Checked<std::int64_t>(after.open_buy_ticks) + notional;
    if (b.overflowed() || qb.overflowed()) return Status::overflow("open buy totals overflow");
    after.open_buy = Qty(b.value());
    after.open_buy_ticks = qb.value();
  } else {
    Checked<std::int64_t> s = Checked<std::int64_t>(after.open_sell.value()) + qty.value();
    Checked<std::int64_t> qs = Checked<std::int64_t>(after.open_sell_ticks) + notional;
    if (s.overflowed() || qs.overflowed()) return Status::overflow("open sell totals overflow");
    after.open_sell = Qty(s.value());
    after.open_sell_ticks = qs.value();
  }
  PFEX_RETURN_IF_ERROR(check_solvency(after, band_, spec_));
  a = after;
  return Status::ok();
}

Status Exchange::cancel(LedgerTime now, AccountId id, OrderId order) {
  advance_to(now);
  PFEX_ASSIGN_OR_RETURN(Account * a, trader(id));
  if (a->status != AccountStatus::kActive) {
    return Status::failed_precondition(id_text(id) + " defaulted");
  }
  return cancel_order(id, order);
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

// Both accounts proved solvency with these orders filling at their limits, and check_solvency
// bounded every reachable value to 64 bits, so nothing here can overflow. The fund's liquidation
// fills go to this round's batch first; the rest works off what it kept before.
void Exchange::on_fill(const Fill<AccountId>& f) {
  const Price price = f.maker_limit;
  const std::int64_t q = f.qty.value();
  const std::int64_t k = spec_.tick_value.value();
  const std::int64_t fee = spec_.fee_per_contract.value() * q;
  const std::int64_t cash = price.value() * q * k;
  const bool taker_buys = f.taker_side == Side::kBuy;
  Account& buyer = accounts_[(taker_buys ? f.taker_owner : f.maker_owner).value];
  Price buyer_limit = taker_buys ? f.taker_limit : f.maker_limit;
  buyer.cash = Cash(buyer.cash.value() - cash - fee);
  buyer.position += q;
  buyer.open_buy = Qty(buyer.open_buy.value() - q);
  buyer.open_buy_ticks -= buyer_limit.value() * q;
  Account& seller = accounts_[(taker_buys ? f.maker_owner : f.taker_owner).value];
  Price seller_limit = taker_buys ? f.maker_limit : f.taker_limit;
  seller.cash = Cash(seller.cash.value() + cash - fee);
  seller.position -= q;
  seller.open_sell = Qty(seller.open_sell.value() - q);
  seller.open_sell_ticks -= seller_limit.value() * q;
  accounts_[0].cash = Cash(accounts_[0].cash.value() + 2 * fee);
  if (f.liquidation && !batches_.empty() && !batches_.back().finished &&
      batches_.back().credit(price, q)) {
    finish_liquidation(static_cast<std::uint32_t>(batches_.size() - 1));
  }
}

// ---- margin rounds -----------------------------------------------------------------------------

// Every resting order has expired: an unfinished liquidation ends (the fund keeps the rest).
void Exchange::on_halt(HaltReason) {
  for (std::uint32_t i = 0; i < batches_.size(); ++i) {
    if (!batches_[i].finished) finish_liquidation(i);
  }
}

void Exchange::on_epoch_opened() {
  // The fund is margined like any account, what it owes the defaulters counted as liabilities: a
  // deficit at the new reference price is levied per contract on every survivor's gross position
  // at its refresh, lambda = ceil(deficit / G_prev) (docs/design.md section 6). What lambda * g_S
  // does not cover stays in the fund's equity and so carries forward to the next round.
  gross_round_ = 0;
  const i128 equity = fund_equity(band_.reference);
  levy_per_contract_ = shortfall_levy(equity, gross_prev_, kMaxLevyPerContract);
  if (levy_per_contract_ > 0) {
    emit(ShortfallLevied{Cash(saturate_i64(-equity)), Cash(levy_per_contract_)});
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

// The absentees default at the close; the fund takes them over at the resolution deadline
// (on_resolution_deadline), when the private mode's validators have decrypted the round. Without
// defaulters the fund offers what it kept from earlier rounds at once, as the private mode does.
void Exchange::on_window_closed() {
  levy_per_contract_ = 0;
  gross_prev_ = gross_round_;  // the survivors' gross at their refreshes: the next round's base
  for (std::size_t i = 1; i < accounts_.size(); ++i) {
    Account& a = accounts_[i];
    if (a.status != AccountStatus::kActive || a.refreshed) continue;
    AccountId id{static_cast<std::uint32_t>(i)};
    emit(Defaulted{id, a.cash, a.position, a.bond});
    a.status = AccountStatus::kDefaulted;
    a.refreshed = true;
    awaiting_takeover_.push_back(id);
  }
  if (awaiting_takeover_.empty() && accounts_[0].position != 0) start_liquidation();
}

// The fund takes over the defaulters' cash, positions and bonds and works off its whole position
// (this round's defaulters and whatever it kept from earlier rounds) at the adverse edge of this
// epoch. No halt came in between (halts are held), so the band is the close's.
void Exchange::on_resolution_deadline() {
  if (!awaiting_takeover_.empty()) {
    std::int64_t aggregate = 0;
    auto batch = static_cast<std::uint32_t>(batches_.size());
    for (AccountId id : awaiting_takeover_) {
      Account& a = accounts_[id.value];
      Account& f = accounts_[0];
      f.cash = Cash(f.cash.value() + a.cash.value() + a.bond.value());
      f.position += a.position;
      aggregate += a.position;
      defaults_.push_back({id, batch, a.cash, a.position, false});
      a.cash = Cash(0);
      a.position = 0;
      a.bond = Cash(0);
    }
    awaiting_takeover_.clear();
    batches_.push_back(LiquidationBatch::open(epoch_, aggregate, band_));
    if (!LiquidationBatch::worked_off(aggregate, accounts_[0].position)) finish_liquidation(batch);
    if (accounts_[0].position != 0) start_liquidation();
  }
  end_resolution_hold();
}

void Exchange::start_liquidation() {
  Account& f = accounts_[0];
  const std::optional<LiquidationOrder> order = liquidation_order(f.position, band_);
  if (!order) return;
  const std::int64_t ticks = order->edge.value() * order->qty.value();
  if (order->side == Side::kBuy) {
    f.open_buy = Qty(f.open_buy.value() + order->qty.value());
    f.open_buy_ticks += ticks;
  } else {
    f.open_sell = Qty(f.open_sell.value() + order->qty.value());
    f.open_sell_ticks += ticks;
  }
  post_liquidation(kInsuranceFund, order->side, order->edge, order->qty);
}

void Exchange::finish_liquidation(std::uint32_t index) {
  emit(batches_[index].finish(index, time_, band_.reference));
}

i128 Exchange::claim_value(const DefaultRecord& rec) const {
  return exit_claim(batches_[rec.batch], rec.cash.value(), rec.position, spec_.tick_value,
                    spec_.liquidation_penalty_per_contract);
}

// The exit period runs from the moment the claim is priced (its liquidation finished), so every
// defaulter has all of it to exit, however long its liquidation ran.
bool Exchange::claim_lapsed(const DefaultRecord& rec) const {
  return batches_[rec.batch].lapsed(time_, spec_.exit_period_ms);
}

// The fund's equity at `price` net of what it owes the defaulters: per round of defaulters (one
// batch) their aggregate equity at the batch's price less the claims paid from it, until the
// batch's exit period lapses (batch_liability, the rule the private mode applies to its
// resolution's sums: it never learns one defaulter's equity before that defaulter exits).
i128 Exchange::fund_equity(Price price) const {
  const Account& f = accounts_[0];
  i128 equity = static_cast<i128>(f.cash.value()) +
                static_cast<i128>(f.position) * price.value() * spec_.tick_value.value();
  for (std::uint32_t b = 0; b < batches_.size(); ++b) {
    i128 cash = 0, position = 0, paid = 0;
    for (const DefaultRecord& rec : defaults_) {
      if (rec.batch != b) continue;
      cash += rec.cash.value();
      position += rec.position;
      if (rec.claimed) paid += claim_value(rec);  // a paid claim was >= 0
    }
    equity -= batch_liability(batches_[b], cash, position, spec_.tick_value, paid, time_,
                              spec_.exit_period_ms);
  }
  return equity;
}

Result<Cash> Exchange::exit(LedgerTime now, AccountId id) {
  advance_to(now);
  PFEX_ASSIGN_OR_RETURN(Account * a, trader(id));
  if (a->status != AccountStatus::kDefaulted) {
    return Status::failed_precondition(id_text(id) + " has not defaulted; nothing to exit");
  }
  if (std::find(awaiting_takeover_.begin(), awaiting_takeover_.end(), id) !=
      awaiting_takeover_.end()) {
    return Status::failed_precondition(
        "the liquidation of " + id_text(id) + "'s position starts at the resolution deadline (" +
        std::to_string(resolution_deadline_ ? resolution_deadline_->value() : time_.value()) +
        " ms of ledger time); exit after it finishes");
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
  if (resolution_held_) {
    return Status::failed_precondition(
        "the margin round's defaulters are liquidated from the resolution deadline (" +
        std::to_string(resolution_deadline_ ? resolution_deadline_->value() : time_.value()) +
        " ms of ledger time); final settlement waits for it");
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
