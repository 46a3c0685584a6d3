#include "market/account.hpp"

#include <algorithm>
#include <limits>

namespace pfex::market {
namespace {

constexpr i128 kTwoTo64 = static_cast<i128>(1) << 64;

std::string to_string_i128(i128 v) {
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

// Minor units as "-3801.50 USD" when they fit 64 bits (they do for any E that fails by a sane
// amount).
std::string format_money(const ContractSpec& spec, i128 v) {
  std::int64_t small = 0;
  if (__builtin_add_overflow(v, i128{0}, &small)) return to_string_i128(v) + " minor units";
  return spec.format_cash(Cash(small)) + " " + spec.currency;
}

}  // namespace

Solvency evaluate_solvency(const Account& a, const Band& band, const ContractSpec& spec) {
  using W = Checked<i128>;
  const W k = spec.tick_value.value();
  const W f = spec.fee_per_contract.value();
  const W m = band.margin.value();
  const W c = a.cash.value();
  const W v = a.position;
  const W b = a.open_buy.value();
  const W s = a.open_sell.value();
  const W qb = a.open_buy_ticks;
  const W qs = a.open_sell_ticks;
  Solvency out;
  // The fee of every open order, buys and sells alike, is reserved in both constraints, so that
  // no fill lowers either of them.
  const W fees = f * (b + s);
  out.e_low = c - qb * k - fees + (v + b) * band.low.value() * k - m * (W(a.long_qty()) + b);
  out.e_high = c + qs * k - fees + (v - s) * band.high.value() * k - m * (W(a.short_qty()) + s);
  return out;
}

Status check_solvency(const Account& a, const Band& band, const ContractSpec& spec) {
  Solvency s = evaluate_solvency(a, band, spec);
  if (s.e_low.overflowed() || s.e_high.overflowed()) {
    return Status::overflow("solvency constraints do not fit in 128 bits");
  }
  if (s.e_low.value() < 0) {
    return Status::insolvent("with every open buy filled and the price at the band's low edge " +
                             spec.format_price(band.low) + ", equity minus margin would be " +
                             format_money(spec, s.e_low.value()) + " (E_L < 0)");
  }
  if (s.e_high.value() < 0) {
    return Status::insolvent("with every open sell filled and the price at the band's high edge " +
                             spec.format_price(band.high) + ", equity minus margin would be " +
                             format_money(spec, s.e_high.value()) + " (E_H < 0)");
  }
  if (s.e_low.value() >= kTwoTo64 || s.e_high.value() >= kTwoTo64) {
    return Status::overflow("a solvency constraint value reaches 2^64, beyond its range proof");
  }
  // Every state reachable by filling open orders must fit the 64-bit account fields.
  using W = Checked<i128>;
  const W k = spec.tick_value.value();
  const W f = spec.fee_per_contract.value();
  W lowest_cash = W(a.cash.value()) - W(a.open_buy_ticks) * k -
                  f * (W(a.open_buy.value()) + a.open_sell.value());
  W highest_cash = W(a.cash.value()) + W(a.open_sell_ticks) * k;
  W highest_pos = W(a.position) + a.open_buy.value();
  W lowest_pos = W(a.position) - a.open_sell.value();
  // Compared in place rather than through to_int64: this runs for every order.
  for (const W& x : {lowest_cash, highest_cash, highest_pos, lowest_pos}) {
    if (x.overflowed() || x.value() < std::numeric_limits<std::int64_t>::min() ||
        x.value() > std::numeric_limits<std::int64_t>::max()) {
      return Status::overflow("filling the open orders would take the account beyond 64 bits");
    }
  }
  return Status::ok();
}

Result<Cash> margin_shortfall(const Account& a, const Band& band, const ContractSpec& spec) {
  Solvency s = evaluate_solvency(a, band, spec);
  if (s.e_low.overflowed() || s.e_high.overflowed()) {
    return Status::overflow("solvency constraints do not fit in 128 bits");
  }
  i128 need = std::max<i128>({0, -s.e_low.value(), -s.e_high.value()});
  PFEX_ASSIGN_OR_RETURN(std::int64_t out, to_int64(Checked<i128>(need), "margin shortfall"));
  return Cash(out);
}

}  // namespace pfex::market
