#include "market/contract.hpp"

#include <array>
#include <cstdlib>

#include "core/checked.hpp"

namespace pfex::market {
namespace {

constexpr std::int64_t kMaxTickValue = std::int64_t{1} << 32;
constexpr std::int64_t kMaxOrderQtyLimit = std::int64_t{1} << 31;

std::int64_t pow10(int n) {
  std::int64_t r = 1;
  for (int i = 0; i < n; ++i)
    r *= 10;
  return r;
}

// Parses an unsigned decimal "123.45" into an integer scaled by 10^decimals.
Result<std::int64_t> parse_scaled(std::string_view text, int decimals, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return Status::invalid_argument(std::string(what) + " \"" + std::string(text) + "\" " +
                                    std::string(why));
  };
  if (text.empty()) return bad("is empty");
  std::int64_t whole = 0;
  std::int64_t frac = 0;
  int frac_digits = 0;
  bool seen_dot = false;
  bool seen_digit = false;
  for (char ch : text) {
    if (ch == '.') {
      if (seen_dot) return bad("has two decimal points");
      seen_dot = true;
      continue;
    }
    if (ch < '0' || ch > '9') return bad("is not a non-negative decimal number");
    seen_digit = true;
    int digit = ch - '0';
    if (!seen_dot) {
      Checked<std::int64_t> w = Checked<std::int64_t>(whole) * 10 + digit;
      if (w.overflowed() || w.value() > (std::int64_t{1} << 50)) return bad("is too large");
      whole = w.value();
    } else {
      ++frac_digits;
      if (frac_digits > decimals) {
        if (digit != 0) {
          return bad("has more than " + std::to_string(decimals) + " decimal places");
        }
        continue;
      }
      frac = frac * 10 + digit;
    }
  }
  if (!seen_digit) return bad("has no digits");
  for (int i = frac_digits; i < decimals; ++i)
    frac *= 10;
  Checked<std::int64_t> scaled = Checked<std::int64_t>(whole) * pow10(decimals) + frac;
  return to_int64(scaled, what);
}

std::string format_scaled(std::int64_t value, int decimals) {
  std::string sign = value < 0 ? "-" : "";
  // Magnitude in unsigned so that INT64_MIN formats correctly.
  std::uint64_t mag = value < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(value)
                                : static_cast<std::uint64_t>(value);
  if (decimals == 0) return sign + std::to_string(mag);
  auto scale = static_cast<std::uint64_t>(pow10(decimals));
  std::string frac = std::to_string(mag % scale);
  frac.insert(0, static_cast<std::size_t>(decimals) - frac.size(), '0');
  return sign + std::to_string(mag / scale) + "." + frac;
}

}  // namespace

Status ContractSpec::validate() const {
  auto bad = [&](const std::string& why) {
    return Status::invalid_argument("contract " + name + ": " + why);
  };
  if (name.empty()) return bad("needs a name");
  if (tick_units < 1 || tick_units > 1'000'000) return bad("tick_units must be in [1, 10^6]");
  if (price_decimals < 0 || price_decimals > 9) return bad("price_decimals must be in [0, 9]");
  if (cash_scale < 1 || cash_scale > 1'000'000) return bad("cash_scale must be in [1, 10^6]");
  if (tick_value.value() < 1 || tick_value.value() > kMaxTickValue) {
    return bad("tick value k must be in [1, 2^32] minor units");
  }
  if (fee_per_contract.value() < 0 || fee_per_contract.value() > kMaxTickValue) {
    return bad("fee must be in [0, 2^32] minor units");
  }
  if (band_ppm <= 0 || band_ppm > kPpm / 2) return bad("band half-width d must be in (0, 50%]");
  if (widen_ppm < kPpm || widen_ppm > 4 * kPpm) return bad("band widening w must be in [1, 4]");
  std::int64_t widest = ceil_div(band_ppm * widen_ppm, kPpm);
  if (margin_ppm < widest) {
    return bad("margin rate m = " + std::to_string(margin_ppm) +
               " ppm must be at least w*d = " + std::to_string(widest) +
               " ppm, so that the margin covers a full move of the widest next band");
  }
  if (margin_ppm > kPpm) return bad("margin rate m must be at most 100%");
  if (protection_ticks < 0) return bad("market-order protection must be >= 0 ticks");
  if (breaker_qty.value() < 1) return bad("circuit-breaker quantity Q_cb must be >= 1");
  if (breaker_window_ms < 1 || vwap_window_ms < 1 || refresh_window_ms < 1 || exit_period_ms < 1) {
    return bad("the breaker, VWAP and refresh windows and the exit period must be positive");
  }
  if (resolution_ms < 1 || resolution_ms > kMaxResolutionMs) {
    return bad("the resolution deadline D_res must be in [1, " + std::to_string(kMaxResolutionMs) +
               "] ms (one day)");
  }
  if (settlement_interval_ms < 0) return bad("settlement interval must be >= 0 (0 = none)");
  for (std::int64_t w : {breaker_window_ms, vwap_window_ms, refresh_window_ms,
                         settlement_interval_ms, exit_period_ms}) {
    if (w > kMaxWindowMs) return bad("windows and intervals must be at most 2^40 ms");
  }
  if (settlement_interval_ms > 0 && settlement_interval_ms <= refresh_window_ms) {
    return bad("settlement interval must be longer than the refresh window");
  }
  if (bond.value() < 0 || liquidation_penalty_per_contract.value() < 0) {
    return bad("bond and liquidation penalty must be >= 0");
  }
  if (max_order_qty.value() < 1 || max_order_qty.value() > kMaxOrderQtyLimit) {
    return bad("max order quantity must be in [1, 2^31]");
  }
  return Status::ok();
}

Result<Price> ContractSpec::parse_price(std::string_view text) const {
  PFEX_ASSIGN_OR_RETURN(std::int64_t scaled, parse_scaled(text, price_decimals, "price"));
  if (scaled % tick_units != 0) {
    return Status::invalid_argument("price " + std::string(text) +
                                    " is not on the tick grid (tick " +
                                    format_scaled(tick_units, price_decimals) + ")");
  }
  return Price(scaled / tick_units);
}

std::string ContractSpec::format_price(Price p) const {
  return format_scaled(p.value() * tick_units, price_decimals);
}

Result<Cash> ContractSpec::parse_cash(std::string_view text) const {
  int decimals = 0;
  for (std::int64_t s = cash_scale; s > 1; s /= 10)
    ++decimals;
  PFEX_ASSIGN_OR_RETURN(std::int64_t v, parse_scaled(text, decimals, "amount"));
  return Cash(v);
}

std::string ContractSpec::format_cash(Cash c) const {
  int decimals = 0;
  for (std::int64_t s = cash_scale; s > 1; s /= 10)
    ++decimals;
  return format_scaled(c.value(), decimals);
}

ContractSpec lean_hog_preset() {
  ContractSpec s;
  s.name = "HOG";
  s.description = "lean hogs, 40,000 lb, quoted in cents/lb, tick 0.025 cents/lb = $10";
  s.tick_units = 25;
  s.price_decimals = 3;
  s.tick_value = Cash(1000);      // $10.00
  s.fee_per_contract = Cash(50);  // $0.50
  s.band_ppm = 40'000;            // 4%
  s.margin_ppm = 70'000;          // 7% >= 1.5 * 4%
  s.widen_ppm = 1'500'000;
  s.protection_ticks = 20;
  s.breaker_qty = Qty(50);
  s.breaker_window_ms = 60'000;
  s.vwap_window_ms = 300'000;
  s.refresh_window_ms = 1'800'000;
  s.settlement_interval_ms = std::int64_t{24} * 3'600'000;
  s.bond = Cash(10'000);  // $100
  s.liquidation_penalty_per_contract = Cash(500);
  return s;
}

ContractSpec short_rate_preset() {
  ContractSpec s;
  s.name = "SR3";
  s.description = "three-month short rate, $1,000,000 notional, quoted 100 - rate, tick 0.01 = $25";
  s.tick_units = 1;
  s.price_decimals = 2;
  s.tick_value = Cash(2500);  // $25.00
  s.fee_per_contract = Cash(25);
  s.band_ppm = 5'000;    // 0.5% of ~95.00: about 47 ticks
  s.margin_ppm = 8'000;  // 0.8% >= 1.5 * 0.5%
  s.widen_ppm = 1'500'000;
  s.protection_ticks = 5;
  s.breaker_qty = Qty(500);
  s.breaker_window_ms = 60'000;
  s.vwap_window_ms = 300'000;
  s.refresh_window_ms = 1'800'000;
  s.settlement_interval_ms = std::int64_t{24} * 3'600'000;
  s.bond = Cash(50'000);
  s.liquidation_penalty_per_contract = Cash(1000);
  return s;
}

ContractSpec seed_example_preset() {
  ContractSpec s;
  s.name = "SEED";
  s.description = "the seed paper's example: one unit per contract, quoted in dollars, tick $0.01";
  s.tick_units = 1;
  s.price_decimals = 2;
  s.tick_value = Cash(1);  // one cent per tick per contract
  s.fee_per_contract = Cash(0);
  s.band_ppm = 40'000;
  s.margin_ppm = 40'000;
  s.widen_ppm = 1'000'000;
  s.protection_ticks = 10;
  s.breaker_qty = Qty(20);
  s.breaker_window_ms = 60'000;
  s.vwap_window_ms = 60'000;
  s.refresh_window_ms = 600'000;
  s.settlement_interval_ms = 0;
  s.bond = Cash(1000);
  s.liquidation_penalty_per_contract = Cash(0);
  return s;
}

Result<ContractSpec> contract_preset(std::string_view name) {
  if (name == "lean-hog") return lean_hog_preset();
  if (name == "short-rate") return short_rate_preset();
  if (name == "seed-example") return seed_example_preset();
  return Status::not_found("no contract preset \"" + std::string(name) +
                           "\" (known: lean-hog, short-rate, seed-example)");
}

namespace {
constexpr std::uint32_t kMaxContractText = 4096;
}  // namespace

void encode_contract(Writer& w, const ContractSpec& s) {
  w.string(s.name);
  w.string(s.description);
  w.string(s.currency);
  w.i64(s.tick_units);
  w.i64(s.price_decimals);
  w.i64(s.cash_scale);
  for (std::int64_t x :
       {s.tick_value.value(), s.fee_per_contract.value(), s.band_ppm, s.margin_ppm, s.widen_ppm,
        s.protection_ticks, s.breaker_qty.value(), s.breaker_window_ms, s.vwap_window_ms,
        s.refresh_window_ms, s.settlement_interval_ms, s.bond.value(),
        s.liquidation_penalty_per_contract.value(), s.exit_period_ms, s.max_order_qty.value(),
        s.resolution_ms}) {
    w.i64(x);
  }
}

ContractSpec decode_contract(Reader& r) {
  ContractSpec s;
  s.name = r.string("contract name", kMaxContractText);
  s.description = r.string("contract description", kMaxContractText);
  s.currency = r.string("currency", kMaxContractText);
  s.tick_units = r.i64("tick units");
  s.price_decimals = static_cast<int>(r.i64_in("price decimals", 0, 9));
  s.cash_scale = r.i64("cash scale");
  s.tick_value = Cash(r.i64("tick value"));
  s.fee_per_contract = Cash(r.i64("fee"));
  s.band_ppm = r.i64("band");
  s.margin_ppm = r.i64("margin rate");
  s.widen_ppm = r.i64("widening");
  s.protection_ticks = r.i64("protection");
  s.breaker_qty = Qty(r.i64("breaker quantity"));
  s.breaker_window_ms = r.i64("breaker window");
  s.vwap_window_ms = r.i64("vwap window");
  s.refresh_window_ms = r.i64("refresh window");
  s.settlement_interval_ms = r.i64("settlement interval");
  s.bond = Cash(r.i64("bond"));
  s.liquidation_penalty_per_contract = Cash(r.i64("penalty"));
  s.exit_period_ms = r.i64("exit period");
  s.max_order_qty = Qty(r.i64("max order quantity"));
  s.resolution_ms = r.i64("resolution deadline");
  return s;
}

}  // namespace pfex::market
