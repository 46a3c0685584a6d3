// Tests of crc32c.hpp against the check values of RFC 3720 appendix B.4.
#include "ledger/crc32c.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace pfex::ledger {
namespace {

ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Crc32c, Rfc3720Vectors) {
  EXPECT_EQ(crc32c(as_bytes("123456789")), 0xE3069283u);
  Bytes zeros(32, 0x00);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  Bytes ones(32, 0xFF);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  Bytes ascending(32);
  for (std::size_t i = 0; i < ascending.size(); ++i)
    ascending[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c({}), 0u);
}

TEST(Crc32c, ContinuesAcrossChunks) {
  auto all = as_bytes("The quick brown fox jumps over the lazy dog");
  for (std::size_t cut = 0; cut <= all.size(); ++cut) {
    EXPECT_EQ(crc32c(all.subspan(cut), crc32c(all.first(cut))), crc32c(all)) << cut;
  }
}

}  // namespace
}  // namespace pfex::ledger
