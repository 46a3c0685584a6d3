// The futures contract and the market parameters of docs/design.md section 3: tick value k, fee f,
// band half-width d, margin rate m, band widening w after a circuit breaker, circuit-breaker
// thresholds, VWAP window, refresh window, settlement schedule, bond, liquidation penalty and the
// exit period.
//
// Rates are integers in parts per million (ppm) so every computation stays in integers. A spec is
// only usable after validate(), which enforces m >= w*d (the margin covers a full move of the
// widest next band) and the size limits that keep every product inside 64 bits.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "core/units.hpp"

namespace pfex::market {

inline constexpr std::int64_t kPpm = 1'000'000;
// Ledger time saturates here (about 146 million years), so deadlines never overflow.
inline constexpr std::int64_t kMaxLedgerTimeMs = std::int64_t{1} << 62;
// No window or interval is longer than this (about 35 years).
inline constexpr std::int64_t kMaxWindowMs = std::int64_t{1} << 40;
// The resolution deadline D_res (docs/design.md section 6.4) is 1 ms to one day of ledger time,
// five minutes unless the contract says otherwise.
inline constexpr std::int64_t kMaxResolutionMs = 86'400'000;
inline constexpr std::int64_t kDefaultResolutionMs = 300'000;

struct ContractSpec {
  std::string name;         // short symbol, e.g. "HOG"
  std::string description;  // what one contract is

  // Display of prices: one tick is tick_units * 10^-price_decimals of the quoted price
  // (lean hog: 0.025 cents/lb = 25 * 10^-3). Prices inside pfex are always whole ticks.
  std::int64_t tick_units = 1;
  int price_decimals = 2;
  // Display of cash: minor units per major unit (100 cents per dollar).
  std::int64_t cash_scale = 100;
  std::string currency = "USD";

  Cash tick_value{1};        // k: cash per tick per contract
  Cash fee_per_contract{0};  // f: charged to each side per contract per fill, paid to the fund
  std::int64_t band_ppm = 40'000;      // d
  std::int64_t margin_ppm = 60'000;    // m
  std::int64_t widen_ppm = 1'500'000;  // w: the band after a circuit breaker is w*d
  std::int64_t protection_ticks = 10;  // market orders: limit this far through the best price

  Qty breaker_qty{100};                        // Q_cb
  std::int64_t breaker_window_ms = 60'000;     // T_cb
  std::int64_t vwap_window_ms = 300'000;       // T_ref
  std::int64_t refresh_window_ms = 1'800'000;  // W (default 30 min)
  std::int64_t settlement_interval_ms = 0;     // scheduled margin rounds (end of day); 0 = none

  Cash bond{0};                              // posted by every account at registration
  Cash liquidation_penalty_per_contract{0};  // taken from a defaulter's claim at exit
  // A defaulter's claim may be exited for this long after its liquidation finishes (the claim is
  // priced then); what is not claimed by then stays with the fund (docs/design.md section 6).
  std::int64_t exit_period_ms = std::int64_t{30} * 24 * 3'600'000;  // 30 days
  // D_res: a margin round's defaulters are liquidated from the window's close plus this much
  // ledger time, in both modes (the validators decrypt the private round's sums meanwhile); from
  // the halt until then no halt of any kind starts (docs/market.md, "Margin round").
  std::int64_t resolution_ms = kDefaultResolutionMs;

  Qty max_order_qty{1'000'000};

  // Checks every invariant the exchange relies on; the message says which and how to fix it.
  [[nodiscard]] Status validate() const;

  // "13.52" -> 1352 ticks with a 0.01 tick. Off-grid, malformed and negative prices are errors.
  Result<Price> parse_price(std::string_view text) const;
  std::string format_price(Price p) const;
  // "1400.50" -> 140050 cents. More decimals than the currency has is an error.
  Result<Cash> parse_cash(std::string_view text) const;
  std::string format_cash(Cash c) const;
};

// A lean-hog-like contract: 40,000 lb, quoted in cents per lb, tick 0.025 cents = $10.
ContractSpec lean_hog_preset();
// A short-rate contract like the Eurodollar: quoted as 100 minus the rate, tick 0.01 = $25.
ContractSpec short_rate_preset();
// The price-discrimination example of docs/design.md section 3: k = $0.01 per tick on a $0.01 tick
// (one unit of the good per contract), d = m = 4%, no widening.
ContractSpec seed_example_preset();

// Looks a preset up by name ("lean-hog", "short-rate", "seed-example").
Result<ContractSpec> contract_preset(std::string_view name);

// The contract's terms in the core codec (docs/codec.md): the three strings (name, description,
// currency; at most 4096 bytes each), then every number as i64 in the order of the struct (D_res
// last, after the maximum order quantity). Used by
// snapshots and by a market's genesis entry, which states its full terms. decode_contract follows
// the Reader's sticky-error rule and does not validate(); callers do.
void encode_contract(Writer& w, const ContractSpec& spec);
ContractSpec decode_contract(Reader& r);

}  // namespace pfex::market
