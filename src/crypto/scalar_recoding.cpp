#include "crypto/scalar_recoding.hpp"

namespace pfex::crypto::detail {
namespace {

// Bits [pos, pos + n) of s as an unsigned integer, n <= 32; bits past 255 read as zero.
std::uint32_t bits_at(std::span<const std::uint8_t, 32> s, int pos, int n) {
  std::uint64_t acc = 0;
  const int first = pos / 8;
  for (int i = 0; i < 6; ++i) {
    const int byte = first + i;
    if (byte < 32) acc |= std::uint64_t{s[static_cast<std::size_t>(byte)]} << (8 * i);
  }
  acc >>= (pos % 8);
  return static_cast<std::uint32_t>(acc & ((std::uint64_t{1} << n) - 1));
}

}  // namespace

std::array<std::int8_t, 64> radix16(std::span<const std::uint8_t, 32> s) {
  std::array<std::int8_t, 64> e{};
  for (std::size_t i = 0; i < 32; ++i) {
    e[2 * i] = static_cast<std::int8_t>(s[i] & 15);
    e[2 * i + 1] = static_cast<std::int8_t>(s[i] >> 4);
  }
  // Re-centre each digit into [-8, 8) and carry; arithmetic shifts, no branches. The top digit
  // absorbs the last carry and stays <= 8 because s < 2^253.
  std::int32_t carry = 0;
  for (std::size_t i = 0; i < 63; ++i) {
    const std::int32_t v = e[i] + carry;
    carry = (v + 8) >> 4;
    e[i] = static_cast<std::int8_t>(v - carry * 16);
  }
  e[63] = static_cast<std::int8_t>(e[63] + carry);
  return e;
}

std::array<std::int8_t, 256> wnaf_var(std::span<const std::uint8_t, 32> s, int w) {
  std::array<std::int8_t, 256> naf{};
  const std::int32_t width = std::int32_t{1} << w;
  const std::int32_t half = width / 2;
  std::int32_t carry = 0;
  int pos = 0;
  while (pos < 256) {
    const std::int32_t window = static_cast<std::int32_t>(bits_at(s, pos, w)) + carry;
    if ((window & 1) == 0) {
      // The low bit of s + carry is zero here: digit zero, and the carry (if any) moves up.
      ++pos;
      continue;
    }
    if (window < half) {
      naf[static_cast<std::size_t>(pos)] = static_cast<std::int8_t>(window);
      carry = 0;
    } else {
      naf[static_cast<std::size_t>(pos)] = static_cast<std::int8_t>(window - width);
      carry = 1;
    }
    pos += w;
  }
  return naf;
}

void radix_2c_var(std::span<const std::uint8_t, 32> s, int c, std::int32_t* out) {
  const int digits = (256 + c - 1) / c;
  const std::int32_t half = std::int32_t{1} << (c - 1);
  std::int32_t carry = 0;
  for (int i = 0; i < digits; ++i) {
    const int width = (i * c + c <= 256) ? c : 256 - i * c;
    std::int32_t v = static_cast<std::int32_t>(bits_at(s, i * c, width)) + carry;
    if (i + 1 < digits) {
      carry = (v + half) >> c;
      v -= carry << c;
    }
    out[i] = v;
  }
}

}  // namespace pfex::crypto::detail
