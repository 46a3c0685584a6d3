#include "crypto/scalar_recoding.hpp"

namespace pfex::crypto::detail {
namespace {

// The scalar as four little-endian 64-bit words and a zero fifth, so that a window read near the
// top needs no bounds check.
struct Words {
  std::uint64_t w[5];
};

Words load_words(std::span<const std::uint8_t, 32> s) {
  Words r{};
  for (std::size_t i = 0; i < 32; ++i)
    r.w[i / 8] |= std::uint64_t{s[i]} << (8 * (i % 8));
  return r;
}

// Bits [pos, pos + n) as an unsigned integer, 1 <= n <= 32, pos < 256; bits past 255 are zero.
std::uint32_t bits_at(const Words& s, int pos, int n) {
  if (n < 1 || n > 32 || pos < 0 || pos >= 256) return 0;  // public widths: never taken
  const auto word = static_cast<std::size_t>(pos / 64);
  const int off = pos % 64;
  std::uint64_t v = s.w[word] >> off;
  if (off + n > 64) v |= s.w[word + 1] << (64 - off);
  return static_cast<std::uint32_t>(v & ((std::uint64_t{1} << n) - 1));
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
  const Words words = load_words(s);
  const std::int32_t width = std::int32_t{1} << w;
  const std::int32_t half = width / 2;
  std::int32_t carry = 0;
  int pos = 0;
  while (pos < 256) {
    const std::int32_t window = static_cast<std::int32_t>(bits_at(words, pos, w)) + carry;
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

int radix_2c_digits(int c) {
  return (253 + c - 1) / c;
}

int radix_2c_top_bits(int c) {
  return 253 - (radix_2c_digits(c) - 1) * c;
}

void radix_2c_var(std::span<const std::uint8_t, 32> s, int c, std::int32_t* out) {
  const int digits = radix_2c_digits(c);
  const Words words = load_words(s);
  const std::int32_t half = std::int32_t{1} << (c - 1);
  std::int32_t carry = 0;
  for (int i = 0; i + 1 < digits; ++i) {
    const std::int32_t v = static_cast<std::int32_t>(bits_at(words, i * c, c)) + carry;
    carry = (v + half) >> c;
    out[i] = v - (carry << c);
  }
  // The top digit takes the remaining bits (s < 2^253) and the last carry, unsigned.
  const int top = digits - 1;
  out[top] = static_cast<std::int32_t>(bits_at(words, top * c, radix_2c_top_bits(c))) + carry;
}

}  // namespace pfex::crypto::detail
