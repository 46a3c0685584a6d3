// A trader's inventory on the transparent exchange and the two solvency constraints of
// docs/design.md section 3 that every action must keep:
//
//   E_L = c - QB*k - f*(B + S) + (v + B)*L*k - M*(v+ + B)  >= 0   (every open buy fills, at L)
//   E_H = c + QS*k - f*(B + S) + (v - S)*H*k - M*(v- + S)  >= 0   (every open sell fills, at H)
//
// Both reserve the fee of every open order, buys and sells alike: then no fill (at the limit or
// better) lowers either constraint, so an account that passed stays solvent through its fills.
//
// The private protocol range-proves E_L and E_H in [0, 2^64), so the transparent exchange accepts
// exactly that range too: both modes must accept the same actions.
#pragma once

#include <cstdint>
#include <string>

#include "core/checked.hpp"
#include "core/status.hpp"
#include "core/units.hpp"
#include "market/band.hpp"
#include "market/contract.hpp"

namespace pfex::market {

enum class AccountStatus : std::uint8_t {
  kActive = 0,     // may trade when refreshed for the current epoch
  kDefaulted = 1,  // missed a margin round: position and cash taken over by the insurance fund
  kExited = 2,     // a defaulter that has claimed what was left; may only withdraw
};

struct Account {
  Cash cash;                         // c, may be negative
  std::int64_t position = 0;         // v = v+ - v-
  Qty open_buy;                      // B
  Qty open_sell;                     // S
  std::int64_t open_buy_ticks = 0;   // QB: sum of limit price x quantity over open buys
  std::int64_t open_sell_ticks = 0;  // QS
  Cash bond;
  AccountStatus status = AccountStatus::kActive;
  bool refreshed = true;  // refreshed for the current epoch (false only inside a margin round)

  std::int64_t long_qty() const { return position > 0 ? position : 0; }    // v+
  std::int64_t short_qty() const { return position < 0 ? -position : 0; }  // v-
  bool has_open_orders() const { return open_buy.value() != 0 || open_sell.value() != 0; }
};

struct Solvency {
  Checked<i128> e_low;   // E_L
  Checked<i128> e_high;  // E_H
};

Solvency evaluate_solvency(const Account& a, const Band& band, const ContractSpec& spec);

// Ok when both constraints hold in [0, 2^64) and every value an account can reach by filling its
// open orders fits in 64 bits; otherwise an insolvent/overflow error that says which constraint
// failed and by how much.
[[nodiscard]] Status check_solvency(const Account& a, const Band& band, const ContractSpec& spec);

// Smallest deposit that makes the account satisfy both constraints (0 if it already does).
Result<Cash> margin_shortfall(const Account& a, const Band& band, const ContractSpec& spec);

}  // namespace pfex::market
