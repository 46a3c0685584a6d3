// Recodings of a canonical scalar (< l < 2^253) into signed digits, shared by scalar
// multiplication and MSM: internal to src/crypto.
//
//   radix16: 64 digits in [-8, 8] with s = sum d_i 16^i. Constant time.
//   wnaf_var: width-w non-adjacent form, 256 digits, each zero or odd in (-2^(w-1), 2^(w-1)),
//             nonzero digits at least w apart. Variable time.
//   radix_2c_var: ceil(256/c) digits in [-2^(c-1), 2^(c-1)] with s = sum d_i 2^(c i), for
//             Pippenger buckets. Variable time.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace pfex::crypto::detail {

std::array<std::int8_t, 64> radix16(std::span<const std::uint8_t, 32> s);
std::array<std::int8_t, 256> wnaf_var(std::span<const std::uint8_t, 32> s, int w);
// Writes ceil(256/c) digits to out (which must hold that many), 1 <= c <= 16.
void radix_2c_var(std::span<const std::uint8_t, 32> s, int c, std::int32_t* out);

}  // namespace pfex::crypto::detail
