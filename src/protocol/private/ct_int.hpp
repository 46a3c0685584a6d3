// Branch-free integer tests for the wallet's secret values (the token's attributes, amounts):
// each returns 0 or 1 computed with shifts and masks only, so that a prover can combine them into
// one verdict, make only that verdict public (crypto::declassify) and branch on it. Checked under
// valgrind by scripts/ctime-check (src/protocol/private/ctime_check.cpp).
#pragma once

#include <cstdint>

#include "core/checked.hpp"

namespace pfex::priv::ct {

// 1 if x != 0.
inline std::uint64_t nonzero(std::uint64_t x) {
  return (x | (std::uint64_t{0} - x)) >> 63;
}

// 1 if x < 0.
inline std::uint64_t negative(i128 x) {
  return static_cast<std::uint64_t>(static_cast<u128>(x) >> 127);
}

// 1 if x is outside [0, 2^64).
inline std::uint64_t outside_u64(i128 x) {
  return nonzero(static_cast<std::uint64_t>(static_cast<u128>(x) >> 64));
}

// 1 if x is outside [-2^63, 2^63), for |x| < 2^126.
inline std::uint64_t outside_i64(i128 x) {
  return outside_u64(x + (i128{1} << 63));
}

// min(a, b) for |a|, |b| < 2^126.
inline i128 min(i128 a, i128 b) {
  const i128 d = a - b;
  return b + (d & (d >> 127));  // d >> 127 is all ones when a < b (arithmetic shift)
}

}  // namespace pfex::priv::ct
