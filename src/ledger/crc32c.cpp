// CRC-32C, byte-at-a-time with a 256-entry table built at compile time. See crc32c.hpp.
#include "ledger/crc32c.hpp"

#include <array>

namespace pfex::ledger {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78u;  // Castagnoli, bit-reflected

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1u) ? (c >> 1) ^ kPolynomial : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kTable = make_table();

}  // namespace

std::uint32_t crc32c(ByteSpan data, std::uint32_t crc) {
  std::uint32_t c = ~crc;
  for (std::uint8_t b : data)
    c = kTable[(c ^ b) & 0xFFu] ^ (c >> 8);
  return ~c;
}

}  // namespace pfex::ledger
