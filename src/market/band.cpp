#include "market/band.hpp"

#include <string>

#include "core/checked.hpp"

namespace pfex::market {

Result<Band> make_band(const ContractSpec& spec, Price reference, std::int64_t half_width_ppm) {
  if (half_width_ppm < 1 || half_width_ppm > 4 * kPpm) {
    return Status::invalid_argument("band half-width " + std::to_string(half_width_ppm) +
                                    " ppm is outside [1, 4 * 10^6]");
  }
  const std::int64_t p = reference.value();
  if (p < 1 || p > kMaxPriceTicks) {
    return Status::invalid_argument("reference price " + std::to_string(p) +
                                    " ticks is outside [1, 2^31]");
  }
  // p <= 2^31 and ppm <= 4*10^6 < 2^22, so these products fit in 64 bits.
  std::int64_t low = floor_div(p * (kPpm - half_width_ppm), kPpm);
  std::int64_t high = ceil_div(p * (kPpm + half_width_ppm), kPpm);
  if (low < 1) {
    return Status::invalid_argument("band around " + std::to_string(p) +
                                    " ticks would reach zero; raise the price or narrow the band");
  }
  if (high > kMaxPriceTicks) return Status::invalid_argument("band exceeds the maximum price");
  if (high - low + 1 > kMaxBandTicks) {
    return Status::invalid_argument("band of " + std::to_string(high - low + 1) +
                                    " ticks is wider than the book supports (2^22)");
  }
  std::int64_t margin_ticks = ceil_div(high * spec.margin_ppm, kPpm) + 1;
  PFEX_ASSIGN_OR_RETURN(std::int64_t margin,
                        checked_mul(margin_ticks, spec.tick_value.value(), "margin per contract"));
  return Band{reference, Price(low), Price(high), Cash(margin), half_width_ppm};
}

}  // namespace pfex::market
