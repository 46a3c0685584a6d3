// Strong integer types for the exchange's quantities: prices in ticks, quantities in contracts,
// cash in minor currency units, and ledger time in milliseconds.
//
// They are plain int64 values that cannot be mixed by accident (a Price is not a Qty). They carry
// no arithmetic operators on purpose: every computation that could overflow goes through the
// checked arithmetic of core/checked.hpp, so overflow is an error and never undefined behaviour.
#pragma once

#include <compare>
#include <cstdint>

namespace pfex {

template <class Tag>
class Unit {
 public:
  constexpr Unit() = default;
  constexpr explicit Unit(std::int64_t v) : v_(v) {}
  constexpr std::int64_t value() const { return v_; }
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend constexpr auto operator<=>(Unit, Unit) = default;

 private:
  std::int64_t v_ = 0;
};

struct PriceTag;
struct QtyTag;
struct CashTag;
struct TimeTag;

using Price = Unit<PriceTag>;      // ticks
using Qty = Unit<QtyTag>;          // contracts
using Cash = Unit<CashTag>;        // minor currency units (cents)
using LedgerTime = Unit<TimeTag>;  // milliseconds of ledger time

constexpr std::int64_t kMillisPerSecond = 1000;

}  // namespace pfex
