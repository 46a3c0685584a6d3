#include "crypto/generators.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include "crypto/test_util.hpp"

namespace pfex::crypto {
namespace {

// Pinned: derive_generator("G", 0..3) and ("H", 0). These change only if the derivation (and
// so every commitment) changes; the derivation itself is cross-checked with libsodium below.
const char* const kPinnedG[4] = {
    "964af57454d5c842f223a1702bef1e034196e38930d3f60fc5c4371bf9e86861",
    "86a71a7a42536b840205d83a61077d4e3b590571fcd8abc09c720f868a0d387d",
    "120a18d21186d2f3f1433447e61c51dde6b990574588e7c0913e0569880c8f28",
    "2add1b377619dcd8d529cf1f3dbdaf2813aa43e9b2233dc7d7ab25f519d1693c",
};
const char* const kPinnedH0 = "223d874601bc6b921cc0e59d0fdc1eea0c0fedce7b4d07bdee85cb0ddce8364f";

TEST(Generators, DerivationIsHashOfPrefixLabelAndLittleEndianIndex) {
  // Independent recomputation with libsodium's hash-to-group.
  const std::string pre = "pfex/v1/bp/G";
  for (std::uint32_t i : {0u, 1u, 255u, 256u, 0x01020304u}) {
    Bytes m(pre.begin(), pre.end());
    for (int k = 0; k < 4; ++k)
      m.push_back(static_cast<std::uint8_t>(i >> (8 * k)));
    const Digest64 d = sha512(m);
    Point::Encoding want;
    crypto_core_ristretto255_from_hash(want.data(), d.data());
    EXPECT_EQ(derive_generator("bp/G", i).encode(), want) << i;
  }
}

TEST(Generators, FirstEncodingsArePinned) {
  for (std::uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(to_hex(derive_generator("G", i).encode()), kPinnedG[i]) << i;
  }
  EXPECT_EQ(to_hex(derive_generator("H", 0).encode()), kPinnedH0);
}

TEST(Generators, SetCachesAndGrows) {
  GeneratorSet set("bp/H", 3);
  EXPECT_EQ(set.size(), 3u);
  set.reserve_generators(10);
  ASSERT_EQ(set.size(), 10u);
  set.reserve_generators(5);
  EXPECT_EQ(set.size(), 10u);
  for (std::uint32_t i = 0; i < 10; ++i)
    EXPECT_EQ(set[i], derive_generator("bp/H", i));
  EXPECT_NE(set[0], set[1]);
  EXPECT_NE(set[0], derive_generator("bp/G", 0));
  EXPECT_NE(set[0], Point::base());
}

}  // namespace
}  // namespace pfex::crypto
