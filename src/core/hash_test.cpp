#include "core/hash.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace pfex {
namespace {

ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Hash, KnownVectors) {
  EXPECT_EQ(to_hex(sha256(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha512(as_bytes("abc"))),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(to_hex(blake2b_256(as_bytes(""))),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST(Hash, DomainSeparatesStreamingHashes) {
  Hasher a("pfex/v1/state");
  a.update(as_bytes("x"));
  Hasher b("pfex/v1/tx");
  b.update(as_bytes("x"));
  EXPECT_NE(a.finish(), b.finish());
}

TEST(Hash, HexRoundTripAndErrors) {
  Bytes b{0x00, 0xab, 0xff};
  EXPECT_EQ(to_hex(b), "00abff");
  EXPECT_EQ(*from_hex("00ABff"), b);
  EXPECT_FALSE(from_hex("abc").is_ok());
  EXPECT_FALSE(from_hex("zz").is_ok());
}

}  // namespace
}  // namespace pfex
