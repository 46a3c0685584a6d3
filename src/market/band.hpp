// The price band of an epoch (docs/design.md section 3): reference price P, edges [L, H] rounded
// outward to whole ticks, and the maintenance margin per contract M = k * (ceil(m*H) + 1).
// Orders are accepted only at prices inside [L, H].
#pragma once

#include <cstdint>

#include "core/status.hpp"
#include "core/units.hpp"
#include "market/contract.hpp"

namespace pfex::market {

// Highest price, in ticks, the exchange accepts anywhere (keeps p*q*k inside 64 bits).
inline constexpr std::int64_t kMaxPriceTicks = std::int64_t{1} << 31;
// The book keeps one slot per tick of the band; wider bands are a configuration error.
inline constexpr std::int64_t kMaxBandTicks = std::int64_t{1} << 22;

struct Band {
  Price reference;
  Price low;                        // L
  Price high;                       // H
  Cash margin;                      // M, per contract
  std::int64_t half_width_ppm = 0;  // d of this epoch (w*d after a circuit breaker)

  bool contains(Price p) const { return p >= low && p <= high; }
  std::int64_t ticks() const { return high.value() - low.value() + 1; }
};

// Builds the band around `reference` with half-width `half_width_ppm`. Fails when the band would
// reach zero or negative prices, exceed kMaxPriceTicks, or be wider than kMaxBandTicks.
Result<Band> make_band(const ContractSpec& spec, Price reference, std::int64_t half_width_ppm);

}  // namespace pfex::market
