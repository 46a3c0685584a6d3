// Recodings of a canonical scalar (< l < 2^253) into signed digits, shared by scalar
// multiplication and MSM: internal to src/crypto.
//
//   radix16: 64 digits in [-8, 8] with s = sum d_i 16^i. Constant time.
//   wnaf_var: width-w non-adjacent form, 256 digits, each zero or odd in (-2^(w-1), 2^(w-1)),
//             nonzero digits at least w apart. Variable time.
//   radix_2c_var: radix_2c_digits(c) = ceil(253/c) digits with s = sum d_i 2^(c i), for
//             Pippenger buckets: all but the top one in [-2^(c-1), 2^(c-1)), the top one in
//             [0, 2^t] with t = radix_2c_top_bits(c) <= c. Stopping at bit 253 (s < l < 2^253)
//             saves a window that would hold only the last carry. Variable time.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace pfex::crypto::detail {

std::array<std::int8_t, 64> radix16(std::span<const std::uint8_t, 32> s);
std::array<std::int8_t, 256> wnaf_var(std::span<const std::uint8_t, 32> s, int w);
int radix_2c_digits(int c);
int radix_2c_top_bits(int c);
// Writes radix_2c_digits(c) digits to out (which must hold that many), 1 <= c <= 16.
void radix_2c_var(std::span<const std::uint8_t, 32> s, int c, std::int32_t* out);

}  // namespace pfex::crypto::detail
