#include "sim/stress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace pfex::sim::stress {

using market::Account;
using market::AccountId;
using market::AccountStatus;
using market::Band;
using market::ContractSpec;
using market::Event;
using market::Exchange;
using market::OrderBook;
using market::OrderId;
using market::OrderOutcome;
using market::OrderRequest;
using market::OrderType;
using market::Phase;
using market::Side;

namespace {

std::string i128_text(i128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  std::string out;
  while (v != 0) {
    int digit = static_cast<int>(v % 10);
    out.insert(out.begin(), static_cast<char>('0' + (neg ? -digit : digit)));
    v /= 10;
  }
  if (neg) out.insert(out.begin(), '-');
  return out;
}

i128 abs128(i128 x) {
  return x < 0 ? -x : x;
}

// The design's constraints (docs/design.md section 3), fee reserved for every open order in both.
struct Constraints {
  i128 e_low = 0;
  i128 e_high = 0;
};

Constraints design_constraints(const Account& a, const Band& band, const ContractSpec& spec) {
  const i128 k = spec.tick_value.value();
  const i128 f = spec.fee_per_contract.value();
  const i128 m = band.margin.value();
  const i128 c = a.cash.value();
  const i128 v = a.position;
  const i128 b = a.open_buy.value();
  const i128 s = a.open_sell.value();
  const i128 fee = f * (b + s);
  Constraints out;
  out.e_low = c - i128{a.open_buy_ticks} * k - fee + (v + b) * band.low.value() * k -
              m * (i128{a.long_qty()} + b);
  out.e_high = c + i128{a.open_sell_ticks} * k - fee + (v - s) * band.high.value() * k -
               m * (i128{a.short_qty()} + s);
  return out;
}

void add_order(Account& a, Side side, Price limit, std::int64_t qty) {
  if (side == Side::kBuy) {
    a.open_buy = Qty(a.open_buy.value() + qty);
    a.open_buy_ticks += limit.value() * qty;
  } else {
    a.open_sell = Qty(a.open_sell.value() + qty);
    a.open_sell_ticks += limit.value() * qty;
  }
}

// splitmix64: small, fast, and the same on every machine.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : x_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (x_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi].
  std::int64_t in(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(int percent) { return in(0, 99) < percent; }

 private:
  std::uint64_t x_;
};

bool names_account(StepKind kind) {
  return kind != StepKind::kRegister && kind != StepKind::kAdvance &&
         kind != StepKind::kSettleFinal;
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  Rng r(a * 0x2545f4914f6cdd1dull + b);
  r.next();
  return r.next();
}

const char* side_code(Side s) {
  return s == Side::kBuy ? "Side::kBuy" : "Side::kSell";
}

const char* type_code(OrderType t) {
  switch (t) {
    case OrderType::kLimit:
      return "OrderType::kLimit";
    case OrderType::kImmediateOrCancel:
      return "OrderType::kImmediateOrCancel";
    case OrderType::kFillOrKill:
      return "OrderType::kFillOrKill";
    case OrderType::kPostOnly:
      return "OrderType::kPostOnly";
    case OrderType::kMarket:
      return "OrderType::kMarket";
  }
  return "?";
}

std::string request_code(const OrderRequest& r) {
  return fmt::format("OrderRequest{{{}, {}, {}, Qty({})}}", side_code(r.side), type_code(r.type),
                     r.limit ? fmt::format("Price({})", r.limit->value()) : "std::nullopt",
                     r.qty.value());
}

// The listed defects of the engine each rule guards against (named in violations).
std::string rule_note(const std::string& check) {
  static const std::map<std::string, std::string> notes = {
      {"solvency-after-fill", "fills break the solvency constraints (fee reserve f*(B+S) in both)"},
      {"solvency", "an action was accepted below a constraint (the fee reserve f*(B+S) in both)"},
      {"accepted-beyond-constraints",
       "the fee of every open order must be reserved in both constraints"},
      {"replace-differs-from-cancel-then-submit",
       "replace must take the old order out of the book before matching the new one"},
      {"fok-partial", "a fill-or-kill order filled partly"},
      {"market-without-fill",
       "a market order without a reservation price filled nothing against a resting opposite "
       "order"},
      {"halt-before-liquidation", "no halt of any kind before the defaulters' liquidation starts"},
      {"breaker-during-liquidation",
       "no breaker may lock the market while a liquidation order rests at the edge"},
      {"fund-negative-after-settlement",
       "the fund ended negative after the final settlement while a survivor kept money (the final "
       "levy: per contract up to M, the rest pro rata to the survivors' equity)"},
      {"final-levy",
       "the final levy: min(ceil(D / G), M) per contract on the gross at settlement, then "
       "ceil(R * e_i / E) of each survivor's equity"},
      {"survivor-negative-after-settlement",
       "the final levy must not charge a survivor more than its equity (no deficit hidden in a "
       "survivor's account)"},
      {"hidden-deficit", "claims owed are fund liabilities; a deficit must be levied"},
      {"kept-position-not-worked-off",
       "the fund's kept position must be worked off at the adverse edge in every later epoch"},
      {"levy-rate",
       "lambda = ceil(deficit / G_prev), G_prev the survivors' gross at the "
       "previous close"},
  };
  auto it = notes.find(check);
  return it == notes.end() ? "" : it->second;
}

}  // namespace

// ---- contract specs
// ------------------------------------------------------------------------------

std::vector<MarketCase> market_cases() {
  std::vector<MarketCase> out;
  out.push_back({"lean-hog", market::lean_hog_preset(), Price(3200)});
  out.push_back({"short-rate", market::short_rate_preset(), Price(9500)});
  out.push_back({"seed-example", market::seed_example_preset(), Price(1300)});

  ContractSpec small;
  small.name = "TEST";
  small.tick_value = Cash(10);
  small.fee_per_contract = Cash(1);
  small.band_ppm = 50'000;
  small.margin_ppm = 80'000;
  small.widen_ppm = 1'500'000;
  small.protection_ticks = 5;
  small.breaker_qty = Qty(10);
  small.breaker_window_ms = 10'000;
  small.vwap_window_ms = 10'000;
  small.refresh_window_ms = 60'000;
  small.settlement_interval_ms = 120'000;
  small.bond = Cash(100);
  small.liquidation_penalty_per_contract = Cash(5);
  out.push_back({"small", small, Price(1000)});

  ContractSpec exact = small;  // m = w*d exactly
  exact.name = "EXACT";
  exact.tick_value = Cash(100);
  exact.fee_per_contract = Cash(5);
  exact.band_ppm = 40'000;
  exact.widen_ppm = 1'500'000;
  exact.margin_ppm = 60'000;
  out.push_back({"m-equals-w-d", exact, Price(2000)});

  ContractSpec tiny = small;  // one minor unit per tick, no fee
  tiny.name = "TINY";
  tiny.tick_value = Cash(1);
  tiny.fee_per_contract = Cash(0);
  tiny.band_ppm = 100'000;
  tiny.margin_ppm = 150'000;
  tiny.bond = Cash(0);
  tiny.liquidation_penalty_per_contract = Cash(0);
  out.push_back({"tiny-tick", tiny, Price(500)});

  ContractSpec huge = small;  // the largest tick value validate() accepts
  huge.name = "HUGE";
  huge.tick_value = Cash(std::int64_t{1} << 32);
  huge.fee_per_contract = Cash(1000);
  huge.band_ppm = 20'000;
  huge.margin_ppm = 30'000;
  huge.bond = Cash(std::int64_t{1} << 33);
  huge.liquidation_penalty_per_contract = Cash(std::int64_t{1} << 30);
  out.push_back({"huge-tick", huge, Price(200)});

  // A fee equal to, then twice, the first band's margin per contract (M = 850 on small).
  ContractSpec fee_at = small;
  fee_at.name = "FEEM";
  fee_at.fee_per_contract = Cash(850);
  out.push_back({"fee-at-margin", fee_at, Price(1000)});
  ContractSpec fee_above = small;
  fee_above.name = "FEE2M";
  fee_above.fee_per_contract = Cash(1700);
  out.push_back({"fee-above-margin", fee_above, Price(1000)});

  ContractSpec tight = small;  // m = d, no widening: the seed's walk-up ground
  tight.name = "TIGHT";
  tight.band_ppm = 20'000;
  tight.margin_ppm = 20'000;
  tight.widen_ppm = 1'000'000;
  tight.fee_per_contract = Cash(0);
  out.push_back({"tight-no-widening", tight, Price(1500)});

  ContractSpec fast = small;  // breakers and rounds all the time
  fast.name = "FAST";
  fast.breaker_qty = Qty(2);
  fast.breaker_window_ms = 1'000;
  fast.vwap_window_ms = 2'000;
  fast.refresh_window_ms = 5'000;
  fast.settlement_interval_ms = 20'000;
  fast.bond = Cash(0);
  fast.liquidation_penalty_per_contract = Cash(400);
  fast.exit_period_ms = 30'000;  // claims lapse: exits come both before and after the deadline
  out.push_back({"fast-rounds", fast, Price(1000)});

  ContractSpec wide = small;  // the widest band, tiny prices, small maximum order
  wide.name = "WIDE";
  wide.band_ppm = 500'000;
  wide.margin_ppm = 500'000;
  wide.widen_ppm = 1'000'000;
  wide.max_order_qty = Qty(5);
  wide.protection_ticks = 0;
  out.push_back({"wide-band", wide, Price(8)});
  return out;
}

// ---- counters
// ------------------------------------------------------------------------------------

void Counters::add(const Counters& o) {
  markets += o.markets;
  actions += o.actions;
  accepted += o.accepted;
  trades += o.trades;
  halts_volume += o.halts_volume;
  halts_standing += o.halts_standing;
  halts_scheduled += o.halts_scheduled;
  rounds += o.rounds;
  defaults += o.defaults;
  liquidations_completed += o.liquidations_completed;
  liquidations_partial += o.liquidations_partial;
  liquidations_kept += o.liquidations_kept;
  liquidations_empty += o.liquidations_empty;
  levies += o.levies;
  exits += o.exits;
  refreshes_at_call += o.refreshes_at_call;
  refreshes_one_short += o.refreshes_one_short;
  registrations_in_window += o.registrations_in_window;
  replaces += o.replaces;
  final_settlements += o.final_settlements;
  haircuts += o.haircuts;
  claims_lapsed += o.claims_lapsed;
  fund_worst_final = std::min(fund_worst_final, o.fund_worst_final);
  uncovered += o.uncovered;
  violations += o.violations;
}

std::string format_counters(const Counters& c) {
  return fmt::format(
      "markets {}, actions {} ({} accepted), trades {}, halts {} (volume {}, standing {}, "
      "scheduled {}), rounds {}, defaults {}, liquidations {} (completed {}, partial {}, kept {}, "
      "netted {}), levies {}, exits {}, refreshes at the call {} (one short refused {}), "
      "registrations in windows {}, replaces {}, final settlements {} (haircuts {}, the fund's "
      "worst result {}, uncovered {}), claims lapsed {}, violations {}",
      c.markets, c.actions, c.accepted, c.trades, c.halts(), c.halts_volume, c.halts_standing,
      c.halts_scheduled, c.rounds, c.defaults,
      c.liquidations_completed + c.liquidations_partial + c.liquidations_kept +
          c.liquidations_empty,
      c.liquidations_completed, c.liquidations_partial, c.liquidations_kept, c.liquidations_empty,
      c.levies, c.exits, c.refreshes_at_call, c.refreshes_one_short, c.registrations_in_window,
      c.replaces, c.final_settlements, c.haircuts,
      c.fund_worst_final == std::numeric_limits<std::int64_t>::max()
          ? std::string("none")
          : std::to_string(c.fund_worst_final),
      c.uncovered, c.claims_lapsed, c.violations);
}

// ---- the driver
// ----------------------------------------------------------------------------------

Driver::Driver(const MarketCase& market, Checks checks)
    : market_(market),
      checks_(std::move(checks)),
      ex_(*Exchange::open(market.spec, market.reference, LedgerTime(0))) {
  shadow_.push_back({});  // the fund
  band_ = ex_.band();
  ex_.clear_events();
}

Violation Driver::violation(std::string check, std::string detail) const {
  std::string note = rule_note(check);
  if (!note.empty()) detail += " [" + note + "]";
  return Violation{std::move(check), std::move(detail), step_index_};
}

std::optional<AccountId> Driver::account_of(std::uint32_t step_id) const {
  auto it = accounts_.find(step_id);
  if (it == accounts_.end()) return std::nullopt;
  return it->second;
}

std::optional<OrderId> Driver::order_of(std::uint32_t step_id) const {
  auto it = orders_.find(step_id);
  if (it == orders_.end()) return std::nullopt;
  return it->second;
}

i128 Driver::shortfall(AccountId id) const {
  Result<Account> a = ex_.account(id);
  if (!a.is_ok()) return 0;
  Account charged = *a;
  if (ex_.phase() == Phase::kRefreshWindow && !a->refreshed) {
    charged.cash = Cash(a->cash.value() - levy_per_contract_ * std::abs(a->position));
  }
  Constraints c = design_constraints(charged, ex_.band(), ex_.spec());
  return std::max<i128>({0, -c.e_low, -c.e_high});
}

std::int64_t Driver::max_leverage_qty(AccountId id, Side side, Price limit) const {
  Result<Account> a = ex_.account(id);
  if (!a.is_ok()) return 0;
  const ContractSpec& s = ex_.spec();
  const Band& b = ex_.band();
  Constraints c = design_constraints(*a, b, s);
  if (c.e_low < 0 || c.e_high < 0) return 0;
  const i128 k = s.tick_value.value();
  const i128 f = s.fee_per_contract.value();
  const i128 m = b.margin.value();
  // Per contract: the constraint at the order's own edge loses the move to the edge, the fee and
  // the margin; the other one loses the fee.
  i128 per_own = side == Side::kBuy ? (limit.value() - b.low.value()) * k + f + m
                                    : (b.high.value() - limit.value()) * k + f + m;
  i128 own = side == Side::kBuy ? c.e_low : c.e_high;
  i128 other = side == Side::kBuy ? c.e_high : c.e_low;
  i128 q = per_own > 0 ? own / per_own : s.max_order_qty.value();
  if (f > 0) q = std::min(q, other / f);
  return static_cast<std::int64_t>(std::clamp<i128>(q, 0, s.max_order_qty.value()));
}

std::optional<Price> Driver::market_limit(Side side) const {
  return market::market_reservation(ex_.spec(), ex_.band().low, ex_.band().high, side,
                                    ex_.book().best(market::opposite(side)));
}

i128 Driver::claim_of(const DefaultShadow& d) const {
  const BatchShadow& b = batches_[d.batch];
  const ContractSpec& s = ex_.spec();
  i128 value =
      floor_div(i128{d.cash} * b.den + i128{d.position} * s.tick_value.value() * b.num, b.den);
  value -= i128{s.liquidation_penalty_per_contract.value()} * abs128(d.position);
  return std::max<i128>(0, value);
}

bool Driver::lapsed(const DefaultShadow& d) const {
  const BatchShadow& b = batches_[d.batch];
  return b.finished && ex_.time().value() - b.finished_at >= ex_.spec().exit_period_ms;
}
// What the fund owes (docs/design.md section 6.5): per round of defaulters, once priced and until
// its exit period lapses, their aggregate equity at the batch's price less the claims paid from
// it, never below 0.
i128 Driver::outstanding_claims() const {
  const ContractSpec& s = ex_.spec();
  i128 total = 0;
  for (std::size_t i = 0; i < batches_.size(); ++i) {
    const BatchShadow& b = batches_[i];
    i128 cash = 0, position = 0, paid = 0;
    bool any = false, live = false;
    for (const DefaultShadow& d : defaults_) {
      if (d.batch != i) continue;
      any = true;
      live = !lapsed(d);
      cash += d.cash;
      position += d.position;
      if (d.claimed) paid += claim_of(d);
    }
    if (!any || !b.finished || !live) continue;
    const i128 equity = floor_div(cash * b.den + position * s.tick_value.value() * b.num, b.den);
    total += std::max<i128>(0, equity - paid);
  }
  return total;
}

std::optional<Violation> Driver::apply(const Step& step) {
  std::optional<Violation> v = apply_checked(step);
  if (v && ignored(v->check)) {
    ++ignored_counts_[v->check];
    return std::nullopt;
  }
  return v;
}

std::optional<Violation> Driver::apply_checked(const Step& step) {
  // Steps naming what this run does not have are skipped (shrinking removes what they named).
  if (names_account(step.kind) && !accounts_.count(step.account)) return std::nullopt;
  if ((step.kind == StepKind::kCancel || step.kind == StepKind::kReplace) &&
      !orders_.count(step.order)) {
    return std::nullopt;
  }
  ++step_index_;
  ++counters_.actions;
  traded_.clear();
  // Deadlines first, exactly as the action itself would process them; then check what they did.
  if (step.at_ms > ex_.time().value()) {
    ex_.advance(LedgerTime(step.at_ms));
    if (auto v = process_events()) return v;
    if (auto v = check_state()) return v;
  }
  traded_.clear();
  if (auto v = apply_action(step)) return v;
  if (auto v = process_events()) return v;
  if (auto v = check_state()) return v;
  if (checks_.extra) {
    if (std::optional<std::string> what = checks_.extra(ex_)) return violation("extra", *what);
  }
  // Now and then: a snapshot restores to the same state.
  if (step_index_ % 512 == 0) {
    Result<Exchange> restored = Exchange::restore(ex_.snapshot());
    if (!restored.is_ok() || restored->state_hash() != ex_.state_hash()) {
      return violation("snapshot-roundtrip",
                       restored.is_ok() ? "the restored state hashes differently"
                                        : "restore refused: " + restored.status().to_string());
    }
  }
  return std::nullopt;
}

std::string Driver::step_code(const std::string& call, const Status& outcome,
                              const std::string& result) const {
  std::string comment = outcome.is_ok() ? result : "refused: " + outcome.to_string();
  return "  " + call + ";" + (comment.empty() ? "" : "  // " + comment);
}

std::optional<Violation> Driver::apply_action(const Step& step) {
  const LedgerTime t = ex_.time();
  const std::string at = fmt::format("LedgerTime({})", t.value());
  const AccountId id = names_account(step.kind) ? accounts_.at(step.account) : AccountId{};
  const std::string who = fmt::format("AccountId{{{}}}", id.value);
  auto record = [&](const std::string& call, const Status& st, const std::string& result = "") {
    if (st.is_ok()) ++counters_.accepted;
    if (!st.is_ok()) refused_.push_back(step.id);
    if (record_) code_.push_back(step_code(call, st, result));
  };
  switch (step.kind) {
    case StepKind::kRegister: {
      const bool in_window = ex_.phase() == Phase::kRefreshWindow;
      Result<AccountId> r = ex_.register_account(t);
      if (r.is_ok()) {
        accounts_[step.id] = *r;
        if (in_window) ++counters_.registrations_in_window;
      }
      record(fmt::format("(void)ex.register_account({})", at), r.status(),
             r.is_ok() ? fmt::format("account {}", r->value) : "");
      return std::nullopt;
    }
    case StepKind::kDeposit: {
      i128 amount = step.amount;
      if (step.rule == Rule::kShortfall) amount = shortfall(id) + step.amount;
      if (amount <= 0 || amount > (i128{1} << 60)) return std::nullopt;
      Status st = ex_.deposit(t, id, Cash(static_cast<std::int64_t>(amount)));
      record(fmt::format("(void)ex.deposit({}, {}, Cash({}))", at, who, i128_text(amount)), st);
      return std::nullopt;
    }
    case StepKind::kWithdraw: {
      Status st = ex_.withdraw(t, id, Cash(step.amount));
      record(fmt::format("(void)ex.withdraw({}, {}, Cash({}))", at, who, step.amount), st);
      return std::nullopt;
    }
    case StepKind::kSubmit:
    case StepKind::kReplace: {
      OrderRequest r = step.request;
      if (step.rule == Rule::kMaxLeverage) {
        std::optional<Price> limit = r.type == OrderType::kMarket ? market_limit(r.side) : r.limit;
        std::int64_t q = limit ? max_leverage_qty(id, r.side, *limit) + step.amount : 1;
        if (q < 1) return std::nullopt;
        r.qty = Qty(q);
      }
      Account before = *ex_.account(id);
      const Band band = ex_.band();  // the action may halt the market and open the next band
      if (step.kind == StepKind::kSubmit) {
        ex_.advance(t);  // the deadlines first: a halt empties the book
        opposite_before_ = ex_.book().best(market::opposite(r.side)).has_value();
        Result<OrderOutcome> out = ex_.submit(t, id, r);
        if (out.is_ok()) orders_[step.id] = out->id;
        record(fmt::format("(void)ex.submit({}, {}, {})", at, who, request_code(r)), out.status(),
               out.is_ok() ? fmt::format("order {}: filled {}, resting {}", out->id.value,
                                         out->filled.value(), out->resting.value())
                           : "");
        return check_order_outcome(step, r, out, before, band, std::nullopt);
      }
      ++counters_.replaces;
      const OrderId old = orders_.at(step.order);
      std::optional<OrderBook::Order> replaced;
      if (OrderBook::Slot s = ex_.book().find(old); s != OrderBook::kNil) {
        replaced = ex_.book().at(s);
      }
      // The oracle: the same replace as a cancel followed by a submit, on a copy.
      Exchange copy = ex_;
      Status cancelled = copy.cancel(t, id, old);
      Result<OrderOutcome> alt =
          cancelled.is_ok() ? copy.submit(t, id, r) : Result<OrderOutcome>(cancelled);
      Result<OrderOutcome> out = ex_.replace(t, id, old, r);
      if (out.is_ok()) orders_[step.id] = out->id;
      record(fmt::format("(void)ex.replace({}, {}, OrderId{{{}}}, {})", at, who, old.value,
                         request_code(r)),
             out.status(),
             out.is_ok() ? fmt::format("order {}: filled {}, resting {}", out->id.value,
                                       out->filled.value(), out->resting.value())
                         : "");
      auto text = [](const Result<OrderOutcome>& o) {
        return o.is_ok() ? fmt::format("accepted, filled {}, resting {}", o->filled.value(),
                                       o->resting.value())
                         : "refused (" + o.status().to_string() + ")";
      };
      if (out.is_ok() != alt.is_ok() ||
          (out.is_ok() && (out->filled != alt->filled || out->resting != alt->resting))) {
        return violation("replace-differs-from-cancel-then-submit",
                         fmt::format("replace of order {} by {}: {}; cancel then submit: {}",
                                     old.value, request_code(r), text(out), text(alt)));
      }
      return check_order_outcome(step, r, out, before, band,
                                 replaced && replaced->owner == id ? replaced : std::nullopt);
    }
    case StepKind::kCancel: {
      const OrderId o = orders_.at(step.order);
      Status st = ex_.cancel(t, id, o);
      record(fmt::format("(void)ex.cancel({}, {}, OrderId{{{}}})", at, who, o.value), st);
      return std::nullopt;
    }
    case StepKind::kRefresh: {
      i128 amount = step.amount;
      i128 need = 0;
      if (step.rule == Rule::kShortfall) {
        need = shortfall(id);
        amount = need + step.amount;
        if (amount < 0) return std::nullopt;
      }
      Account before = *ex_.account(id);
      const bool called = step.rule == Rule::kShortfall && ex_.phase() == Phase::kRefreshWindow &&
                          before.status == AccountStatus::kActive && !before.refreshed;
      Status st = ex_.refresh(t, id, Cash(static_cast<std::int64_t>(amount)));
      record(fmt::format("(void)ex.refresh({}, {}, Cash({}))", at, who, i128_text(amount)), st);
      if (!called) return std::nullopt;
      if (step.amount < 0 && st.is_ok()) {
        return violation("refresh-one-short-accepted",
                         fmt::format("account {} refreshed with {} against a shortfall of {}",
                                     id.value, i128_text(amount), i128_text(need)));
      }
      // The market's cash supply cap (an overflow) may refuse any deposit.
      if (step.amount >= 0 && !st.is_ok() && st.code() != ErrorCode::kOverflow) {
        return violation("refresh-at-call-refused",
                         fmt::format("account {} refreshed with {} (shortfall {}) and was "
                                     "refused: {}",
                                     id.value, i128_text(amount), i128_text(need), st.to_string()));
      }
      if (step.amount < 0) ++counters_.refreshes_one_short;
      if (step.amount == 0 && need > 0) ++counters_.refreshes_at_call;
      return std::nullopt;
    }
    case StepKind::kExit: {
      ex_.advance(t);  // the deadlines first, so that the oracle sees the same clock
      auto open = std::find_if(defaults_.begin(), defaults_.end(), [&](const DefaultShadow& d) {
        return d.account == id && !d.claimed;
      });
      const bool lapsed_now = open != defaults_.end() && lapsed(*open);
      Result<Cash> r = ex_.exit(t, id);
      const bool refused_as_lapsed =
          !r.is_ok() && r.status().message().find("exit period ended") != std::string_view::npos;
      if (refused_as_lapsed) ++counters_.claims_lapsed;
      if (refused_as_lapsed != lapsed_now && !(lapsed_now && r.is_ok())) {
        return violation("exit-period",
                         fmt::format("account {}'s exit at {} ms was {} ({}); by the oracle its "
                                     "claim {}",
                                     id.value, t.value(), r.is_ok() ? "accepted" : "refused",
                                     r.is_ok() ? "" : r.status().message(),
                                     lapsed_now ? "had lapsed" : "was still open"));
      }
      record(fmt::format("(void)ex.exit({}, {})", at, who), r.status(),
             r.is_ok() ? fmt::format("claim {}", r->value()) : "");
      return std::nullopt;
    }
    case StepKind::kAdvance:
      ex_.advance(t);
      if (record_) code_.push_back(fmt::format("  ex.advance({});", at));
      return std::nullopt;
    case StepKind::kSettleFinal: {
      // The deadlines up to `t` first (as settle_final would), so that the accounts seen here are
      // those the final levy charges.
      ex_.advance(t);
      const bool in_window = ex_.phase() == Phase::kRefreshWindow;
      before_settlement_.clear();
      for (std::uint32_t i = 0; i < ex_.account_count(); ++i) {
        before_settlement_.push_back(*ex_.account(AccountId{i}));
      }
      settlement_margin_ = ex_.band().margin.value();
      Status st = ex_.settle_final(t, step.price);
      record(fmt::format("(void)ex.settle_final({}, Price({}))", at, step.price.value()), st);
      if (in_window && st.is_ok()) {
        return violation("halt-before-liquidation",
                         "the final settlement halted the market inside a refresh window, "
                         "before its defaulters' liquidation started");
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<Violation> Driver::check_order_outcome(const Step& step, const OrderRequest& r,
                                                     const Result<OrderOutcome>& out,
                                                     const Account& before, const Band& band,
                                                     std::optional<OrderBook::Order> replaced) {
  const ContractSpec& spec = ex_.spec();
  const std::uint32_t who = accounts_.at(step.account).value;
  Account with = before;
  if (replaced) {
    const std::int64_t q = replaced->open.value();
    add_order(with, replaced->side, replaced->limit, -q);
  }
  if (!out.is_ok()) {
    // A plain limit order inside the band that keeps both constraints must be accepted.
    if (step.kind != StepKind::kSubmit || r.type != OrderType::kLimit ||
        out.status().code() != ErrorCode::kInsolvent || !r.limit || !band.contains(*r.limit)) {
      return std::nullopt;
    }
    add_order(with, r.side, *r.limit, r.qty.value());
    Constraints c = design_constraints(with, band, spec);
    if (c.e_low >= 0 && c.e_high >= 0 && c.e_low < (i128{1} << 62) && c.e_high < (i128{1} << 62)) {
      return violation("refused-within-constraints",
                       fmt::format("{} by account {} refused ({}) with E_L = {}, E_H = {} after it",
                                   request_code(r), who, out.status().to_string(),
                                   i128_text(c.e_low), i128_text(c.e_high)));
    }
    return std::nullopt;
  }
  const std::string what = fmt::format("{} (order {})", request_code(r), out->id.value);
  std::optional<Price> limit;
  for (const Event& e : ex_.events()) {
    if (const auto* a = std::get_if<market::OrderAccepted>(&e.body); a && a->id == out->id) {
      limit = a->limit;
    }
  }
  if (!limit) return violation("order-bookkeeping", what + " accepted without an OrderAccepted");
  // A fill-or-kill fills completely or is killed with nothing done.
  if (r.type == OrderType::kFillOrKill && out->filled != r.qty && out->filled.value() != 0) {
    return violation("fok-partial",
                     fmt::format("{} accepted with {} filled", what, out->filled.value()));
  }
  if ((r.type == OrderType::kFillOrKill || r.type == OrderType::kImmediateOrCancel ||
       r.type == OrderType::kMarket) &&
      out->resting.value() != 0) {
    return violation("immediate-order-rests", what + " rests in the book");
  }
  if (r.type == OrderType::kPostOnly && out->filled.value() != 0) {
    return violation("post-only-filled", what + " traded");
  }
  // Its reservation price is at least the protection limit through the best opposite order.
  if (r.type == OrderType::kMarket && !r.limit && step.kind == StepKind::kSubmit &&
      opposite_before_ && out->filled.value() == 0) {
    return violation("market-without-fill", what + " accepted and filled nothing");
  }
  add_order(with, r.side, *limit, r.qty.value());
  Constraints c = design_constraints(with, band, spec);
  if (c.e_low < 0 || c.e_high < 0) {
    return violation("accepted-beyond-constraints",
                     fmt::format("{} by account {} accepted with E_L = {}, E_H = {} before "
                                 "matching",
                                 what, who, i128_text(c.e_low), i128_text(c.e_high)));
  }
  return std::nullopt;
}

std::optional<Violation> Driver::process_events() {
  const ContractSpec& spec = ex_.spec();
  const std::int64_t k = spec.tick_value.value();
  std::optional<Violation> found;
  auto flag = [&](std::string check, std::string detail) {
    if (found) return;
    if (ignored(check)) {
      ++ignored_counts_[check];
      return;
    }
    found = violation(std::move(check), std::move(detail));
  };
  bool opened = false;      // an epoch opened in this batch of events
  bool open_clean = false;  // and only margin calls, refreshes and its levy came after it
  std::int64_t levies_after_open = 0;
  std::optional<market::ShortfallLevied> levied;
  std::vector<market::MarginCall> calls;
  std::int64_t gross_prev_at_open = 0;
  std::int64_t gross_close_at_open = 0;
  bool prev_close_at_open = false;
  bool settled = false;
  Price settle_price;
  bool batch_open_for_close = false;
  for (const Event& e : ex_.events()) {
    take_over_due(e.time.value());
    const bool after_open_ok = std::holds_alternative<market::MarginCall>(e.body) ||
                               std::holds_alternative<market::Refreshed>(e.body) ||
                               std::holds_alternative<market::ShortfallLevied>(e.body);
    if (opened && !after_open_ok) open_clean = false;
    std::visit(
        [&](const auto& b) {
          using T = std::decay_t<decltype(b)>;
          if constexpr (std::is_same_v<T, market::OrderAccepted>) {
            if (b.liquidation) live_liquidation_ = b.id;
          } else if constexpr (std::is_same_v<T, market::Trade>) {
            ++counters_.trades;
            const bool taker_buys = b.taker_side == Side::kBuy;
            AccountId buyer = taker_buys ? b.taker_owner : b.maker_owner;
            AccountId seller = taker_buys ? b.maker_owner : b.taker_owner;
            shadow_[buyer.value].position += b.qty.value();
            shadow_[seller.value].position -= b.qty.value();
            traded_.push_back(buyer.value);
            traded_.push_back(seller.value);
            if (b.liquidation && !batches_.empty() && !batches_.back().finished) {
              BatchShadow& batch = batches_.back();
              const std::int64_t take =
                  std::min(b.qty.value(), std::abs(batch.aggregate) - batch.filled);
              batch.notional += i128{b.price.value()} * take;
              batch.filled += take;
            }
          } else if constexpr (std::is_same_v<T, market::OrderClosed>) {
            if (live_liquidation_ && *live_liquidation_ == b.id) live_liquidation_.reset();
          } else if constexpr (std::is_same_v<T, market::AccountRegistered>) {
            if (b.account.value != shadow_.size()) {
              flag("account-bookkeeping", fmt::format("account {} registered as number {}",
                                                      b.account.value, shadow_.size()));
            }
            shadow_.push_back({});
          } else if constexpr (std::is_same_v<T, market::MarketHalted>) {
            if (b.reason == market::HaltReason::kBreakerVolume) ++counters_.halts_volume;
            if (b.reason == market::HaltReason::kBreakerStanding) ++counters_.halts_standing;
            if (b.reason == market::HaltReason::kScheduled) ++counters_.halts_scheduled;
            const bool breaker = b.reason == market::HaltReason::kBreakerVolume ||
                                 b.reason == market::HaltReason::kBreakerStanding;
            if (breaker && live_liquidation_) {
              flag("breaker-during-liquidation",
                   fmt::format(
                       "epoch {} halted by the {} breaker while liquidation order {} "
                       "rested",
                       b.epoch,
                       b.reason == market::HaltReason::kBreakerVolume ? "volume" : "standing-quote",
                       live_liquidation_->value));
            }
          } else if constexpr (std::is_same_v<T, market::EpochOpened>) {
            band_ = b.band;
            if (b.epoch > 0) {
              ++counters_.rounds;
              opened = true;
              open_clean = true;
              levies_after_open = 0;
              levied.reset();
              gross_prev_at_open = gross_prev_;
              gross_close_at_open = gross_at_close_;
              prev_close_at_open = have_prev_close_;
              levy_per_contract_ = 0;
              gross_this_round_ = 0;
              for (std::size_t i = 1; i < shadow_.size(); ++i) {
                if (shadow_[i].active) shadow_[i].refreshed = false;
              }
            }
          } else if constexpr (std::is_same_v<T, market::MarginCall>) {
            calls.push_back(b);
          } else if constexpr (std::is_same_v<T, market::Refreshed>) {
            shadow_[b.account.value].refreshed = true;
            gross_this_round_ += std::abs(shadow_[b.account.value].position);
            if (opened) levies_after_open += b.levy.value();
          } else if constexpr (std::is_same_v<T, market::ShortfallHaircut>) {
            ++counters_.haircuts;
            counters_.uncovered += b.uncovered.value();
          } else if constexpr (std::is_same_v<T, market::ShortfallLevied>) {
            ++counters_.levies;
            levy_per_contract_ = b.per_contract.value();
            levied = b;
          } else if constexpr (std::is_same_v<T, market::WindowClosed>) {
            batch_open_for_close = false;
            gross_prev_ = gross_this_round_;
            gross_at_close_ = 0;
            for (std::size_t i = 1; i < shadow_.size(); ++i) {
              if (shadow_[i].active && shadow_[i].refreshed) {
                gross_at_close_ += std::abs(shadow_[i].position);
              }
            }
            have_prev_close_ = true;
            takeover_at_ = e.time.value() + ex_.spec().resolution_ms;
          } else if constexpr (std::is_same_v<T, market::Defaulted>) {
            ++counters_.defaults;
            if (!batch_open_for_close) {
              batches_.push_back({});
              batches_.back().band = band_;
              batch_open_for_close = true;
            }
            batches_.back().aggregate += b.position;
            AccountShadow& a = shadow_[b.account.value];
            if (a.position != b.position) {
              flag("position-shadow", fmt::format("account {} defaulted with position {}, the "
                                                  "trades say {}",
                                                  b.account.value, b.position, a.position));
            }
            awaiting_takeover_.emplace_back(b.account.value, b.position);
            a.active = false;
            defaults_.push_back({b.account, batches_.size() - 1, b.cash.value(), b.position});
          } else if constexpr (std::is_same_v<T, market::LiquidationFinished>) {
            if (b.batch >= batches_.size()) {
              flag("liquidation-bookkeeping",
                   fmt::format("liquidation {} finished; {} batches known", b.batch,
                               batches_.size()));
              return;
            }
            BatchShadow& batch = batches_[b.batch];
            batch.finished = true;
            batch.finished_at = e.time.value();
            const std::int64_t total = b.filled.value() + b.kept.value();
            if (batch.filled != b.filled.value()) {
              flag("liquidation-bookkeeping",
                   fmt::format("liquidation {} reports {} filled, its trades {}", b.batch,
                               b.filled.value(), batch.filled));
            }
            if (total == 0) {
              batch.num = band_.reference.value();
              batch.den = 1;
              ++counters_.liquidations_empty;
            } else {
              const Price edge = batch.aggregate > 0 ? batch.band.low : batch.band.high;
              batch.num = batch.notional + i128{b.kept.value()} * edge.value();
              batch.den = total;
              if (b.kept.value() == 0)
                ++counters_.liquidations_completed;
              else if (b.filled.value() == 0)
                ++counters_.liquidations_kept;
              else
                ++counters_.liquidations_partial;
            }
            // Each defaulter was solvent over its last band, so at any price inside the next one
            // its equity is >= 0: the fund loses nothing (fees and bonds aside).
            for (const DefaultShadow& d : defaults_) {
              if (d.batch != b.batch) continue;
              i128 value = i128{d.cash} * batch.den + i128{d.position} * k * batch.num;
              if (value < 0) {
                flag("liquidation-cost-fund",
                     fmt::format("liquidation {} ({} filled, {} kept) at {}/{} ticks: defaulter "
                                 "{} (cash {}, position {}) is worth {}/{} < 0 to the fund",
                                 b.batch, b.filled.value(), b.kept.value(), i128_text(batch.num),
                                 i128_text(batch.den), d.account.value, d.cash, d.position,
                                 i128_text(value), i128_text(batch.den)));
              }
            }
          } else if constexpr (std::is_same_v<T, market::Exited>) {
            ++counters_.exits;
            auto d = std::find_if(defaults_.begin(), defaults_.end(), [&](const DefaultShadow& x) {
              return x.account == b.account && !x.claimed;
            });
            if (d == defaults_.end()) {
              flag("exit-bookkeeping",
                   fmt::format("account {} exited without an open default", b.account.value));
              return;
            }
            if (!batches_[d->batch].finished) {
              flag("exit-while-liquidating",
                   fmt::format("account {} exited while its liquidation ran", b.account.value));
            } else if (lapsed(*d)) {
              flag("exit-period",
                   fmt::format("account {} exited at {} ms, its claim lapsed at {}",
                               b.account.value, e.time.value(),
                               batches_[d->batch].finished_at + ex_.spec().exit_period_ms));
            } else if (i128 want = claim_of(*d); want != b.claim.value()) {
              flag("exit-claim", fmt::format("account {} (cash {}, position {}) claimed {}, the "
                                             "rule gives {}",
                                             b.account.value, d->cash, d->position, b.claim.value(),
                                             i128_text(want)));
            }
            d->claimed = true;
          } else if constexpr (std::is_same_v<T, market::FinalSettlement>) {
            ++counters_.final_settlements;
            settled = true;
            settle_price = b.price;
            for (AccountShadow& a : shadow_)
              a.position = 0;
          }
        },
        e.body);
  }
  ex_.clear_events();
  if (found) return found;

  const Account& fund = ex_.fund();
  // The fund's deficit at the new reference price, claims owed counted: levied on the survivors'
  // gross at the previous close (docs/design.md section 6).
  if (opened && open_clean) {
    i128 equity = i128{fund.cash.value()} - levies_after_open +
                  i128{fund.position} * band_.reference.value() * k - outstanding_claims();
    i128 deficit = equity < 0 ? -equity : 0;
    if (deficit > 0 && prev_close_at_open &&
        std::min(gross_prev_at_open, gross_close_at_open) > 0 &&
        (!levied || levied->fund_deficit.value() < deficit)) {
      return violation("hidden-deficit",
                       fmt::format("epoch {} opened with fund equity {} (claims owed {}) and {}",
                                   ex_.epoch(), i128_text(equity), i128_text(outstanding_claims()),
                                   levied ? fmt::format("a levy on a deficit of only {}",
                                                        levied->fund_deficit.value())
                                          : std::string("no levy")));
    }
    // Each margin call asks for exactly the design's shortfall in the new band, levy included.
    for (const market::MarginCall& call : calls) {
      const Account a = *ex_.account(call.account);
      if (a.status != AccountStatus::kActive || a.refreshed) continue;
      if (i128 need = shortfall(call.account); need != call.amount.value()) {
        return violation(
            "margin-call-amount",
            fmt::format("epoch {}: account {} was called for {}; its shortfall is {}", ex_.epoch(),
                        call.account.value, call.amount.value(), i128_text(need)));
      }
    }
    if (levied) {
      const i128 d = levied->fund_deficit.value();
      auto rate = [&](std::int64_t g) { return g > 0 ? ceil_div(d, i128{g}) : i128{0}; };
      const i128 got = levied->per_contract.value();
      // No previous close: no base, lambda = 0.
      const std::int64_t at_refresh = prev_close_at_open ? gross_prev_at_open : 0;
      const std::int64_t at_close = prev_close_at_open ? gross_close_at_open : 0;
      if (got != rate(at_refresh) && got != rate(at_close)) {
        return violation("levy-rate",
                         fmt::format("epoch {}: levy {} per contract on a deficit of {}; the "
                                     "survivors' gross at the previous close was {} (at their "
                                     "refreshes {}){}",
                                     ex_.epoch(), i128_text(got), i128_text(d), gross_close_at_open,
                                     gross_prev_at_open,
                                     prev_close_at_open ? "" : " (there was no previous close)"));
      }
    }
  }
  if (settled) return check_final_levy(settle_price);
  return std::nullopt;
}

// The final levy by the oracle's own formulas (docs/market.md, "Final settlement"), from the
// accounts as they stood before the settlement: the fund's deficit at the settlement price net of
// the claims it owes, lambda = min(ceil(D / G), M) on the survivors' gross G, then the rest R as
// ceil(R * e_i / E) of each survivor's equity e_i after closing (all of it when R >= E).
std::optional<Violation> Driver::check_final_levy(Price price) {
  const std::vector<Account>& before = before_settlement_;
  if (before.size() != ex_.account_count()) {
    return violation("final-levy", "accounts registered during the final settlement");
  }
  const i128 k = ex_.spec().tick_value.value();
  const i128 p = price.value();
  const i128 deficit =
      -(i128{before[0].cash.value()} + i128{before[0].position} * p * k - outstanding_claims());
  i128 gross = 0;
  for (std::size_t i = 1; i < before.size(); ++i) {
    if (before[i].status == AccountStatus::kActive) gross += abs128(before[i].position);
  }
  i128 lambda = 0;
  if (deficit > 0 && gross > 0)
    lambda = std::min<i128>(ceil_div(deficit, gross), settlement_margin_);
  std::vector<i128> equity(before.size(), 0);
  i128 total = 0;
  for (std::size_t i = 1; i < before.size(); ++i) {
    if (before[i].status != AccountStatus::kActive) continue;
    const Account& a = before[i];
    equity[i] = i128{a.cash.value()} + i128{a.position} * p * k - lambda * abs128(a.position);
    total += std::max<i128>(0, equity[i]);
  }
  const i128 rest = deficit > 0 ? deficit - lambda * gross : 0;
  bool survivor_has_money = false;
  for (std::size_t i = 1; i < before.size(); ++i) {
    if (before[i].status != AccountStatus::kActive) continue;
    const i128 e = std::max<i128>(0, equity[i]);
    i128 want = equity[i];
    if (rest > 0) want -= rest >= total ? e : ceil_div(rest * e, total);
    const i128 got = ex_.account(AccountId{static_cast<std::uint32_t>(i)})->cash.value();
    if (got != want) {
      return violation(
          "final-levy",
          fmt::format("account {} (cash {}, position {}) ended the settlement at {} "
                      "with {}; the rule gives {} (deficit {}, gross {}, lambda {}, "
                      "rest {} on equity {})",
                      i, before[i].cash.value(), before[i].position, price.value(), i128_text(got),
                      i128_text(want), i128_text(deficit), i128_text(gross), i128_text(lambda),
                      i128_text(rest), i128_text(total)));
    }
    if (got < 0) {
      return violation("survivor-negative-after-settlement",
                       fmt::format("account {} ended the settlement with {}", i, i128_text(got)));
    }
    survivor_has_money |= got > 0;
  }
  const i128 result = i128{ex_.fund().cash.value()} - outstanding_claims();
  counters_.fund_worst_final = static_cast<std::int64_t>(
      std::min<i128>(counters_.fund_worst_final, std::max<i128>(result, INT64_MIN)));
  if (result < 0 && survivor_has_money) {
    return violation("fund-negative-after-settlement",
                     fmt::format("after the final settlement the fund holds {} and owes {} in "
                                 "claims while survivors kept money",
                                 ex_.fund().cash.value(), i128_text(outstanding_claims())));
  }
  return std::nullopt;
}

void Driver::take_over_due(std::int64_t now) {
  if (awaiting_takeover_.empty() || now < takeover_at_) return;
  for (const auto& [account, position] : awaiting_takeover_) {
    shadow_[0].position += position;
    shadow_[account].position -= position;
  }
  awaiting_takeover_.clear();
}

std::optional<Violation> Driver::check_state() {
  take_over_due(ex_.time().value());
  const Exchange& ex = ex_;
  const ContractSpec& spec = ex.spec();
  const Band& band = ex.band();
  const i128 k = spec.tick_value.value();
  const i128 f = spec.fee_per_contract.value();
  const std::size_t n = ex.account_count();

  std::optional<Price> bid = ex.book().best(Side::kBuy);
  std::optional<Price> ask = ex.book().best(Side::kSell);
  if (bid && ask && *bid >= *ask) {
    return violation("book-crossed",
                     fmt::format("best bid {} >= best ask {}", bid->value(), ask->value()));
  }
  struct Open {
    std::int64_t b = 0, s = 0, qb = 0, qs = 0;
    i128 worst_low = 0, worst_high = 0;  // equity change at L / H of the worst subset of fills
  };
  std::vector<Open> open(n);
  std::optional<Violation> found;
  for (Side side : {Side::kBuy, Side::kSell}) {
    ex.book().for_each(side, [&](const OrderBook::Order& o) {
      if (!band.contains(o.limit) && !found) {
        found = violation("order-outside-band",
                          fmt::format("order {} at {} outside [{}, {}]", o.id.value,
                                      o.limit.value(), band.low.value(), band.high.value()));
      }
      if (o.owner.value >= n) return;
      Open& a = open[o.owner.value];
      const i128 q = o.open.value();
      const i128 p = o.limit.value();
      if (side == Side::kBuy) {
        a.b += o.open.value();
        a.qb += o.limit.value() * o.open.value();
        a.worst_low += std::min<i128>(0, q * ((band.low.value() - p) * k - f));
        a.worst_high += std::min<i128>(0, q * ((band.high.value() - p) * k - f));
      } else {
        a.s += o.open.value();
        a.qs += o.limit.value() * o.open.value();
        a.worst_low += std::min<i128>(0, q * ((p - band.low.value()) * k - f));
        a.worst_high += std::min<i128>(0, q * ((p - band.high.value()) * k - f));
      }
    });
  }
  if (found) return found;

  i128 money = 0;
  i128 positions = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const Account a = *ex.account(AccountId{i});
    money += i128{a.cash.value()} + a.bond.value();
    positions += a.position;
    const Open& o = open[i];
    if (a.open_buy.value() != o.b || a.open_sell.value() != o.s || a.open_buy_ticks != o.qb ||
        a.open_sell_ticks != o.qs) {
      return violation("open-totals-match-book",
                       fmt::format("account {}: B {} S {} QB {} QS {}; the book holds B {} S {} "
                                   "QB {} QS {}",
                                   i, a.open_buy.value(), a.open_sell.value(), a.open_buy_ticks,
                                   a.open_sell_ticks, o.b, o.s, o.qb, o.qs));
    }
    if (i < shadow_.size() && shadow_[i].position != a.position) {
      return violation("position-shadow", fmt::format("account {} holds {}, its trades say {}", i,
                                                      a.position, shadow_[i].position));
    }
    if (i == 0 || a.status != AccountStatus::kActive || !a.refreshed ||
        ex.phase() == Phase::kClosed) {
      continue;
    }
    Constraints c = design_constraints(a, band, spec);
    if (c.e_low < 0 || c.e_high < 0) {
      const bool filled = std::find(traded_.begin(), traded_.end(), i) != traded_.end();
      return violation(
          filled ? "solvency-after-fill" : "solvency",
          fmt::format("account {} (cash {}, position {}, B {} S {} QB {} QS {}) in "
                      "band [{}, {}] M {}: E_L = {}, E_H = {}",
                      i, a.cash.value(), a.position, a.open_buy.value(), a.open_sell.value(),
                      a.open_buy_ticks, a.open_sell_ticks, band.low.value(), band.high.value(),
                      band.margin.value(), i128_text(c.e_low), i128_text(c.e_high)));
    }
    const i128 at_low =
        i128{a.cash.value()} + i128{a.position} * band.low.value() * k + o.worst_low;
    const i128 at_high =
        i128{a.cash.value()} + i128{a.position} * band.high.value() * k + o.worst_high;
    if (at_low < 0 || at_high < 0) {
      return violation("edge-equity",
                       fmt::format("account {}: equity with the worst subset of its orders "
                                   "filled is {} at L and {} at H",
                                   i, i128_text(at_low), i128_text(at_high)));
    }
  }
  if (money != ex.external_balance().value()) {
    return violation("conservation", fmt::format("accounts hold {} (bonds included), {} came in "
                                                 "net",
                                                 i128_text(money), ex.external_balance().value()));
  }
  if (positions != 0) {
    return violation("positions-sum-to-zero",
                     fmt::format("positions sum to {}", i128_text(positions)));
  }
  // A position the fund kept is worked off at the adverse edge in every later epoch (once it has
  // taken the round's defaulters over, at close + D_res, when there are any).
  const Account& fund = ex.fund();
  if (fund.position != 0 && ex.phase() == Phase::kTrading && !batches_.empty() &&
      awaiting_takeover_.empty()) {
    const std::int64_t working = fund.position > 0 ? fund.open_sell.value() : fund.open_buy.value();
    if (working != std::abs(fund.position)) {
      return violation("kept-position-not-worked-off",
                       fmt::format("epoch {}: the fund holds {} and works off {}", ex.epoch(),
                                   fund.position, working));
    }
  }
  return std::nullopt;
}

// ---- generation
// ----------------------------------------------------------------------------------

namespace {

enum class Role : std::uint8_t {
  kMaker,         // quotes around the reference, replaces and cancels
  kLeveraged,     // trades at maximum leverage, pays exactly its margin calls
  kVolume,        // locks an edge by trading Q_cb there with its partner
  kStanding,      // locks an edge by a standing bid at H (ask at L), 1 lot behind anything
  kOfflineShort,  // goes short at maximum leverage and never refreshes: defaults
  kWalkUp,        // the seed's walk-up: a wash trade at H and a standing bid there, every epoch
  kNoise,         // every order type, replaces, cancels, invalid requests
};

struct Trader {
  std::uint32_t ref = 0;  // Step::account
  Role role = Role::kNoise;
  std::uint32_t partner = 0;
  std::vector<std::uint32_t> orders;  // Step::order of the orders it created
  bool gone = false;                  // exited and withdrew
  bool online = true;                 // its node refreshes at every margin round
  int exit_attempts = 0;
};

class Generator {
 public:
  Generator(const MarketCase& market, std::uint64_t seed, MarketRun& run, const Checks& checks)
      : driver_(market, checks), rng_(seed), run_(run) {}

  void run(std::size_t max_steps) {
    setup();
    for (std::size_t i = 0; i < max_steps && !run_.violation; ++i) {
      if (ex().phase() == Phase::kClosed) break;
      serve_nodes();
      const std::int64_t r = rng_.in(0, 99);
      if (r < 14) {
        advance();
      } else if (r < 17 || (ex().phase() == Phase::kRefreshWindow && r < 22)) {
        if (traders_.size() < 40) (void)add_trader(rng_.chance(50) ? Role::kNoise : Role::kMaker);
      } else if (!traders_.empty()) {
        act(traders_[static_cast<std::size_t>(
            rng_.in(0, static_cast<std::int64_t>(traders_.size()) - 1))]);
      }
    }
    finish();
    run_.counters = driver_.counters();
    run_.ignored_counts = driver_.ignored_counts();
    run_.counters.markets = 1;
    if (run_.violation) run_.counters.violations = 1;
  }

 private:
  const Exchange& ex() const { return driver_.exchange(); }
  const Band& band() const { return ex().band(); }
  AccountId id_of(const Trader& t) const { return *driver_.account_of(t.ref); }
  Account account(const Trader& t) const { return *ex().account(id_of(t)); }
  std::int64_t unit() const { return band().margin.value(); }

  bool emit(Step s) {
    if (run_.violation) return false;
    s.at_ms = std::max(s.at_ms, now_);
    now_ = s.at_ms;
    s.id = static_cast<std::uint32_t>(run_.steps.size());
    run_.steps.push_back(s);
    if (auto v = driver_.apply(s)) {
      run_.violation = v;
      return false;
    }
    if (driver_.order_of(s.id)) {
      all_orders_.push_back(s.id);
      if (current_ != nullptr) current_->orders.push_back(s.id);
    }
    last_id_ = s.id;
    return true;
  }
  Step step(StepKind kind, const Trader* t = nullptr) {
    Step s;
    s.kind = kind;
    now_ += rng_.chance(30) ? 0 : rng_.in(1, 400);
    s.at_ms = now_;
    if (t) s.account = t->ref;
    return s;
  }

  // Registers a trader of `role` and funds it; false when the registration was refused (the
  // bond would pass the market's cash cap).
  bool add_trader(Role role) {
    const auto id = static_cast<std::uint32_t>(run_.steps.size());
    if (!emit(step(StepKind::kRegister)) || !driver_.account_of(id)) return false;
    Trader t;
    t.ref = id;
    t.role = role;
    traders_.push_back(t);
    Trader& added = traders_.back();
    std::int64_t factor = 0;
    switch (role) {
      case Role::kMaker:
        factor = rng_.in(40, 400);
        break;
      case Role::kLeveraged:
        factor = rng_.in(1, 12);
        break;
      case Role::kVolume:
        factor = rng_.in(60, 200);
        break;
      case Role::kStanding:
        factor = rng_.in(5, 40);
        break;
      case Role::kOfflineShort:
        factor = rng_.in(2, 20);
        break;
      case Role::kWalkUp:
        factor = rng_.in(100, 300);
        break;
      case Role::kNoise:
        factor = rng_.in(0, 60);
        break;
    }
    if (factor > 0) {
      Step d = step(StepKind::kDeposit, &added);
      d.amount = factor * unit() + rng_.in(0, unit());
      emit(d);
    }
    // Online traders' nodes refresh at every margin round (serve_nodes); offline ones do not.
    added.online = !(role == Role::kOfflineShort || (role == Role::kLeveraged && rng_.chance(60)));
    return true;
  }

  void setup() {
    const Role roles[] = {Role::kMaker,        Role::kMaker,    Role::kLeveraged, Role::kLeveraged,
                          Role::kOfflineShort, Role::kStanding, Role::kNoise,     Role::kNoise};
    for (Role r : roles) {
      if (rng_.chance(85)) (void)add_trader(r);
    }
    for (Role pair : {Role::kVolume, Role::kWalkUp}) {
      if (!rng_.chance(70)) continue;
      const std::size_t a = traders_.size();
      if (!add_trader(pair)) continue;
      const std::size_t b = add_trader(pair) ? a + 1 : a;  // alone, it trades with itself
      traders_[a].partner = static_cast<std::uint32_t>(b);
      traders_[b].partner = static_cast<std::uint32_t>(a);
    }
    if (traders_.empty()) (void)add_trader(Role::kNoise);
  }

  void advance() {
    const market::ContractSpec& s = ex().spec();
    Step a = step(StepKind::kAdvance);
    const std::int64_t r = rng_.in(0, 9);
    if (ex().phase() == Phase::kRefreshWindow && r < 4) {
      // At the window's close, one millisecond before it, or just after.
      a.at_ms = ex().window_close().value() + rng_.in(-1, 1);
    } else if (r < 6) {
      a.at_ms = now_ + s.breaker_window_ms + rng_.in(-1, 1);
    } else if (r < 8) {
      a.at_ms = now_ + rng_.in(1, s.breaker_window_ms);
    } else {
      a.at_ms = now_ + rng_.in(1, s.refresh_window_ms);
    }
    emit(a);
  }

  Price clamp(std::int64_t p) const {
    return Price(std::clamp(p, band().low.value(), band().high.value()));
  }
  Price edge(bool high) const { return high ? band().high : band().low; }

  void submit(Trader& t, Side side, OrderType type, std::optional<Price> limit, std::int64_t qty,
              Rule rule = Rule::kFixed) {
    Step s = step(StepKind::kSubmit, &t);
    s.request =
        OrderRequest{side, type, type == OrderType::kMarket ? std::nullopt : limit, Qty(qty)};
    s.rule = rule;
    if (rule == Rule::kMaxLeverage) s.amount = qty;  // the delta
    current_ = &t;
    emit(s);
    current_ = nullptr;
  }
  void replace(Trader& t, std::uint32_t order, const OrderRequest& r, Rule rule = Rule::kFixed,
               std::int64_t delta = 0) {
    Step s = step(StepKind::kReplace, &t);
    s.order = order;
    s.request = r;
    s.rule = rule;
    s.amount = delta;
    current_ = &t;
    emit(s);
    current_ = nullptr;
  }
  void cancel_some(Trader& t) {
    if (t.orders.empty()) return;
    Step s = step(StepKind::kCancel, &t);
    s.order = t.orders[static_cast<std::size_t>(
        rng_.in(0, static_cast<std::int64_t>(t.orders.size()) - 1))];
    emit(s);
  }
  std::uint32_t some_order(const Trader& t) {
    if (!t.orders.empty() && rng_.chance(80)) {
      return t.orders[static_cast<std::size_t>(
          rng_.in(0, static_cast<std::int64_t>(t.orders.size()) - 1))];
    }
    const auto n = static_cast<std::int64_t>(all_orders_.size());
    return n == 0 ? 0 : all_orders_[static_cast<std::size_t>(rng_.in(0, n - 1))];
  }
  OrderType random_type() { return static_cast<OrderType>(rng_.in(0, market::kMaxOrderType)); }

  // What online traders' nodes do when a margin round opens: refresh, with the shortfall and
  // some cushion (traders at maximum leverage pay exactly the call).
  void serve_nodes() {
    if (ex().phase() != Phase::kRefreshWindow || served_epoch_ == ex().epoch()) return;
    served_epoch_ = ex().epoch();
    for (std::size_t i = 0; i < traders_.size() && !run_.violation; ++i) {
      Trader& t = traders_[i];
      if (t.gone || !t.online) continue;
      const Account a = account(t);
      if (a.status != AccountStatus::kActive || a.refreshed || rng_.chance(3)) continue;
      if (t.role == Role::kLeveraged) {
        answer_call(t);
        continue;
      }
      Step s = step(StepKind::kRefresh, &t);
      s.rule = Rule::kShortfall;
      s.amount = rng_.chance(50) ? 0 : rng_.in(1, unit());
      emit(s);
    }
  }

  // A margin call: pay exactly the shortfall, after trying one unit less (which must be refused).
  void answer_call(Trader& t) {
    const i128 need = driver_.shortfall(id_of(t));
    Step s = step(StepKind::kRefresh, &t);
    s.rule = Rule::kShortfall;
    if (need > 0 && rng_.chance(70)) {
      s.amount = -1;
      emit(s);
    }
    s.amount = rng_.chance(85) ? 0 : rng_.in(1, unit());
    emit(s);
  }

  void act(Trader& t) {
    if (t.gone) return;
    const Account a = account(t);
    if (a.status == AccountStatus::kDefaulted) {
      emit(step(StepKind::kExit, &t));  // refused while its liquidation runs
      // A claim the penalty makes negative is refused for good: the fund keeps that equity.
      if (++t.exit_attempts > 8 && account(t).status == AccountStatus::kDefaulted) {
        t.gone = true;
        if (traders_.size() < 60) (void)add_trader(t.role);
      }
      return;
    }
    if (a.status == AccountStatus::kExited) {
      if (a.cash.value() > 0) {
        Step w = step(StepKind::kWithdraw, &t);
        w.amount = a.cash.value();
        emit(w);
      }
      t.gone = true;
      if (traders_.size() < 60)
        (void)add_trader(t.role == Role::kVolume || t.role == Role::kWalkUp ? Role::kLeveraged
                                                                            : t.role);
      return;
    }
    if (ex().phase() == Phase::kRefreshWindow && !a.refreshed) {
      if (t.role == Role::kOfflineShort && rng_.chance(90)) return;  // it is offline: defaults
      if (rng_.chance(15)) return;
      answer_call(t);
      return;
    }
    switch (t.role) {
      case Role::kMaker:
        return act_maker(t);
      case Role::kLeveraged:
        return act_leveraged(t, a);
      case Role::kVolume:
        return act_volume(t);
      case Role::kStanding:
        return act_standing(t);
      case Role::kOfflineShort:
        return act_offline_short(t, a);
      case Role::kWalkUp:
        return act_walk_up(t);
      case Role::kNoise:
        return act_noise(t);
    }
  }

  void act_maker(Trader& t) {
    const std::int64_t r = rng_.in(0, 99);
    const Side side = rng_.chance(50) ? Side::kBuy : Side::kSell;
    const std::int64_t off = rng_.in(0, 6);
    const Price p = clamp(band().reference.value() + (side == Side::kBuy ? -off : off));
    const OrderType type = rng_.chance(70) ? OrderType::kLimit : OrderType::kPostOnly;
    const std::int64_t qty = rng_.in(1, 12);
    if (r < 50 || t.orders.empty()) {
      submit(t, side, type, p, qty);
    } else if (r < 80) {
      replace(t, some_order(t), OrderRequest{side, type, p, Qty(qty)});
    } else if (r < 95) {
      cancel_some(t);
    } else {
      Step d = step(StepKind::kDeposit, &t);
      d.amount = rng_.in(1, 20) * unit();
      emit(d);
    }
  }

  void act_leveraged(Trader& t, const Account& a) {
    const std::int64_t r = rng_.in(0, 99);
    const Side side = rng_.chance(50) ? Side::kBuy : Side::kSell;
    const std::int64_t delta = rng_.chance(20) ? 1 : 0;  // one more than allowed: refused
    if (r < 30) {
      submit(t, side, OrderType::kLimit, clamp(band().reference.value() + rng_.in(-3, 3)), delta,
             Rule::kMaxLeverage);
    } else if (r < 50) {
      std::optional<Price> best = ex().book().best(market::opposite(side));
      submit(t, side, rng_.chance(50) ? OrderType::kImmediateOrCancel : OrderType::kFillOrKill,
             best ? *best : edge(side == Side::kBuy), delta, Rule::kMaxLeverage);
    } else if (r < 60) {
      submit(t, side, OrderType::kMarket, std::nullopt, delta, Rule::kMaxLeverage);
    } else if (r < 68 && !t.orders.empty()) {
      OrderRequest req{side, OrderType::kLimit, clamp(band().reference.value() + rng_.in(-3, 3)),
                       Qty(1)};
      replace(t, some_order(t), req, Rule::kMaxLeverage, delta);
    } else if (r < 78) {
      cancel_some(t);
    } else if (r < 88 && a.position != 0) {
      // Close the position into the book.
      const Side close = a.position > 0 ? Side::kSell : Side::kBuy;
      submit(t, close, OrderType::kImmediateOrCancel, edge(close == Side::kBuy),
             std::min<std::int64_t>(std::abs(a.position), ex().spec().max_order_qty.value()));
    } else if (r < 94) {
      Step w = step(StepKind::kWithdraw, &t);
      w.amount = rng_.in(1, unit());
      emit(w);
    } else {
      Step d = step(StepKind::kDeposit, &t);
      d.amount = rng_.in(1, 3) * unit();
      emit(d);
    }
  }

  void act_volume(Trader& t) {
    if (ex().phase() != Phase::kTrading && rng_.chance(70)) return;
    Trader& partner = traders_[t.partner];
    const bool high = rng_.chance(60);
    const std::int64_t q = rng_.chance(25) ? 1 : ex().spec().breaker_qty.value();
    const std::int64_t qty = std::min(q, ex().spec().max_order_qty.value());
    // t rests at the edge, the partner takes it: a wash trade of q at the edge.
    submit(t, high ? Side::kSell : Side::kBuy, OrderType::kLimit, edge(high), qty);
    submit(partner, high ? Side::kBuy : Side::kSell, OrderType::kImmediateOrCancel, edge(high),
           qty);
  }

  void act_standing(Trader& t) {
    const std::int64_t r = rng_.in(0, 99);
    if (r < 60) {
      const bool high = rng_.chance(65);
      submit(t, high ? Side::kBuy : Side::kSell, OrderType::kLimit, edge(high), rng_.in(1, 3));
    } else if (r < 80) {
      cancel_some(t);
    } else {
      advance();
    }
  }

  void act_offline_short(Trader& t, const Account& a) {
    const std::int64_t r = rng_.in(0, 99);
    if (r < 40 || a.position == 0) {
      submit(t, Side::kSell, OrderType::kLimit, clamp(band().reference.value() + rng_.in(0, 2)), 0,
             Rule::kMaxLeverage);
    } else if (r < 70) {
      std::optional<Price> bid = ex().book().best(Side::kBuy);
      if (bid) submit(t, Side::kSell, OrderType::kImmediateOrCancel, *bid, 0, Rule::kMaxLeverage);
    } else if (r < 85) {
      cancel_some(t);
    } else {
      Step s = step(StepKind::kRefresh, &t);  // by hand, without a deposit: may be refused
      emit(s);
    }
  }

  void act_walk_up(Trader& t) {
    Trader& partner = traders_[t.partner];
    // The partner bids at H and keeps it standing; t sells it one lot, so the VWAP is H.
    submit(partner, Side::kBuy, OrderType::kLimit, band().high, rng_.in(2, 4));
    submit(t, Side::kSell, OrderType::kImmediateOrCancel, band().high, 1);
    if (rng_.chance(50)) advance();
  }

  void act_noise(Trader& t) {
    const std::int64_t r = rng_.in(0, 99);
    const market::ContractSpec& s = ex().spec();
    const Side side = rng_.chance(50) ? Side::kBuy : Side::kSell;
    const std::int64_t width = band().high.value() - band().low.value();
    auto request = [&]() {
      OrderType type = random_type();
      std::optional<Price> limit =
          Price(std::max<std::int64_t>(1, band().reference.value() + rng_.in(-width, width)));
      if (type == OrderType::kMarket && !rng_.chance(5)) limit.reset();
      if (type != OrderType::kMarket && rng_.chance(2)) limit.reset();
      std::int64_t qty = rng_.in(-1, 30);
      if (rng_.chance(2)) qty = s.max_order_qty.value() + rng_.in(0, 1);
      return OrderRequest{side, type, limit, Qty(qty)};
    };
    if (r < 40) {
      OrderRequest req = request();
      Step st = step(StepKind::kSubmit, &t);
      st.request = req;
      current_ = &t;
      emit(st);
      current_ = nullptr;
    } else if (r < 52) {
      if (all_orders_.empty()) return;
      Step st = step(StepKind::kCancel, &t);
      st.order = some_order(t);
      emit(st);
    } else if (r < 64) {
      if (all_orders_.empty()) return;
      replace(t, some_order(t), request());
    } else if (r < 72) {
      Step d = step(StepKind::kDeposit, &t);
      d.amount = rng_.in(-1, 10 * unit());
      emit(d);
    } else if (r < 80) {
      Step w = step(StepKind::kWithdraw, &t);
      w.amount = rng_.in(-1, 10 * unit());
      emit(w);
    } else if (r < 84) {
      Step st = step(StepKind::kRefresh, &t);
      st.amount = rng_.in(-1, unit());
      emit(st);
    } else if (r < 86) {
      emit(step(StepKind::kExit, &t));
    } else if (r < 90) {
      t.online = rng_.chance(70);  // its node goes offline (or back online)
    } else {
      submit(t, side, rng_.chance(50) ? OrderType::kLimit : OrderType::kImmediateOrCancel,
             clamp(band().reference.value() + rng_.in(-width, width)), rng_.chance(30) ? 1 : 0,
             Rule::kMaxLeverage);
    }
  }

  // The final settlement, then every defaulter exits and every account withdraws what it holds.
  void finish() {
    if (run_.violation || ex().phase() == Phase::kClosed) return;
    if (rng_.chance(10)) {
      Step bad = step(StepKind::kSettleFinal);
      bad.price = Price(band().high.value() + 1);
      emit(bad);
    }
    if (ex().phase() == Phase::kRefreshWindow) {
      if (rng_.chance(30)) {  // refused: no halt before the defaulters' liquidation starts
        Step early = step(StepKind::kSettleFinal);
        early.price = band().reference;
        emit(early);
      }
      Step close = step(StepKind::kAdvance);
      close.at_ms = ex().window_close().value();
      emit(close);
      if (ex().phase() != Phase::kTrading) return;
    }
    Step s = step(StepKind::kSettleFinal);
    switch (rng_.in(0, 3)) {
      case 0:
        s.price = band().low;
        break;
      case 1:
        s.price = band().high;
        break;
      case 2:
        s.price = band().reference;
        break;
      default:
        s.price = Price(rng_.in(band().low.value(), band().high.value()));
    }
    if (!emit(s)) return;
    for (Trader& t : traders_) {
      if (t.gone) continue;
      Account a = account(t);
      if (a.status == AccountStatus::kDefaulted && !emit(step(StepKind::kExit, &t))) return;
      a = account(t);
      if (a.cash.value() > 0) {
        Step w = step(StepKind::kWithdraw, &t);
        w.amount = a.cash.value();
        if (!emit(w)) return;
      }
    }
    if (!traders_.empty()) submit(traders_[0], Side::kBuy, OrderType::kLimit, band().low, 1);
  }

  Driver driver_;
  Rng rng_;
  MarketRun& run_;
  std::vector<Trader> traders_;
  std::int64_t now_ = 0;
  Trader* current_ = nullptr;
  std::uint32_t served_epoch_ = 0;
  std::vector<std::uint32_t> all_orders_;  // ids of the steps that created orders
  std::uint32_t last_id_ = 0;
};

}  // namespace

MarketRun run_market(const MarketCase& market, std::uint64_t seed, std::size_t max_steps,
                     const Checks& checks) {
  MarketRun run;
  Generator g(market, seed, run, checks);
  g.run(max_steps);
  return run;
}

std::optional<Violation> replay(const MarketCase& market, std::span<const Step> steps,
                                const Checks& checks) {
  Driver d(market, checks);
  for (const Step& s : steps) {
    if (auto v = d.apply(s)) return v;
  }
  return std::nullopt;
}

std::vector<Step> shrink(const MarketCase& market, std::vector<Step> steps,
                         const std::string& check, const Checks& checks, std::size_t* replays,
                         double max_seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(max_seconds));
  std::function<bool(const std::vector<Step>&)> fails = [&](const std::vector<Step>& s) {
    // Past the deadline nothing more is removed: ddmin then ends at once with what it has.
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::optional<Violation> v = replay(market, s, checks);
    return v && v->check == check;
  };
  // First, in one replay: without the refused actions (they changed nothing but the clock).
  Driver d(market, checks);
  for (const Step& s : steps) {
    if (d.apply(s)) break;
  }
  const std::set<std::uint32_t> refused(d.refused().begin(), d.refused().end());
  std::vector<Step> accepted;
  for (const Step& s : steps) {
    if (!refused.count(s.id)) accepted.push_back(s);
  }
  std::size_t tests = 0;
  if (accepted.size() < steps.size() && fails(accepted)) {
    steps = std::move(accepted);
    tests = 1;
  }
  std::vector<Step> out = ddmin(std::move(steps), fails, 20'000, replays);
  if (replays != nullptr) *replays += tests + 1;
  return out;
}

namespace {

std::string spec_code(const ContractSpec& s) {
  std::string out;
  out += fmt::format("  ContractSpec s;\n  s.name = \"{}\";\n", s.name);
  out += fmt::format("  s.tick_value = Cash({});\n", s.tick_value.value());
  out += fmt::format("  s.fee_per_contract = Cash({});\n", s.fee_per_contract.value());
  out += fmt::format("  s.band_ppm = {};\n  s.margin_ppm = {};\n  s.widen_ppm = {};\n", s.band_ppm,
                     s.margin_ppm, s.widen_ppm);
  out += fmt::format("  s.protection_ticks = {};\n  s.breaker_qty = Qty({});\n", s.protection_ticks,
                     s.breaker_qty.value());
  out += fmt::format("  s.breaker_window_ms = {};\n  s.vwap_window_ms = {};\n", s.breaker_window_ms,
                     s.vwap_window_ms);
  out += fmt::format("  s.refresh_window_ms = {};\n  s.settlement_interval_ms = {};\n",
                     s.refresh_window_ms, s.settlement_interval_ms);
  out += fmt::format("  s.bond = Cash({});\n  s.liquidation_penalty_per_contract = Cash({});\n",
                     s.bond.value(), s.liquidation_penalty_per_contract.value());
  out += fmt::format("  s.exit_period_ms = {};\n", s.exit_period_ms);
  out += fmt::format("  s.max_order_qty = Qty({});\n", s.max_order_qty.value());
  return out;
}

}  // namespace

std::string reproducer(const MarketCase& market, std::span<const Step> steps, const Checks& checks,
                       const std::string& test_name) {
  Driver d(market, checks);
  d.record_code(true);
  std::optional<Violation> v;
  for (const Step& s : steps) {
    v = d.apply(s);
    if (v) break;
  }
  std::string out = fmt::format("// Found by `pfex stress` on the {} market.\n", market.label);
  out += fmt::format("TEST(MarketStress, {}) {{\n", test_name);
  out += spec_code(market.spec);
  out += fmt::format("  Exchange ex = *Exchange::open(s, Price({}), LedgerTime(0));\n",
                     market.reference.value());
  for (const std::string& line : d.code())
    out += line + "\n";
  out += v ? fmt::format("  // violated: {}: {}\n", v->check, v->detail)
           : std::string("  // (no violation on replay)\n");
  out += "}\n";
  return out;
}

StressReport run_stress(const StressOptions& options,
                        const std::function<void(const StressReport&)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<MarketCase> cases = market_cases();
  StressReport report;
  std::set<std::string> seen;
  for (std::uint64_t i = 0; i < options.max_markets; ++i) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.seconds = elapsed;
    if (elapsed >= options.seconds) break;
    const MarketCase& market = cases[i % cases.size()];
    const std::uint64_t seed = mix(options.seed, i);
    const std::size_t span = options.max_steps - std::min(options.min_steps, options.max_steps);
    const std::size_t steps = options.min_steps + static_cast<std::size_t>(seed % (span + 1));
    MarketRun run = run_market(market, seed, steps, options.checks);
    report.counters.add(run.counters);
    for (const auto& [check, n] : run.ignored_counts)
      report.ignored_counts[check] += n;
    if (run.violation && seen.insert(run.violation->check).second) {
      Finding f;
      f.violation = *run.violation;
      f.market = market.label;
      f.seed = seed;
      f.original_steps = run.steps.size();
      f.minimal = options.shrink ? shrink(market, run.steps, run.violation->check, options.checks,
                                          &f.replays, options.shrink_seconds)
                                 : run.steps;
      if (std::optional<Violation> again = replay(market, f.minimal, options.checks)) {
        f.violation = *again;
      }
      f.code = reproducer(market, f.minimal, options.checks,
                          fmt::format("Repro_{}_{}", market.spec.name, f.violation.step));
      report.findings.push_back(std::move(f));
    }
    if (progress) progress(report);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace pfex::sim::stress
