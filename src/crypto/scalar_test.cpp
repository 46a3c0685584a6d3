#include "crypto/scalar.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdint>
#include <span>

#include "crypto/scalar_recoding.hpp"
#include "crypto/test_util.hpp"

namespace pfex::crypto {
namespace {

using testing::TestRng;

Scalar::Encoding order_bytes() {
  return testing::hex_array<32>("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
}

// A reduced scalar from random bytes, via libsodium (the reference).
Scalar::Encoding sodium_random_scalar(TestRng& rng) {
  const auto wide = rng.bytes<64>();
  Scalar::Encoding out;
  crypto_core_ristretto255_scalar_reduce(out.data(), wide.data());
  return out;
}

TEST(Scalar, DecodeAcceptsCanonicalAndRejectsTheRest) {
  auto l = order_bytes();
  EXPECT_FALSE(Scalar::decode(l).is_ok());
  l[0] -= 1;  // l - 1
  ASSERT_TRUE(Scalar::decode(l).is_ok());
  EXPECT_EQ(*Scalar::decode(l) + Scalar::one(), Scalar::zero());
  l[0] += 2;  // l + 1
  EXPECT_FALSE(Scalar::decode(l).is_ok());
  Scalar::Encoding ff;
  ff.fill(0xff);
  EXPECT_FALSE(Scalar::decode(ff).is_ok());
  auto top = Scalar::Encoding{};
  top[31] = 0x80;
  EXPECT_FALSE(Scalar::decode(top).is_ok());
  EXPECT_FALSE(Scalar::decode(ByteSpan(ff.data(), 31)).is_ok());
  EXPECT_FALSE(Scalar::decode(Bytes(33, 0)).is_ok());
  EXPECT_EQ(Scalar::decode(l).status().code(), ErrorCode::kInvalidArgument);
}

TEST(Scalar, DecodeIsExactlyTheCanonicalRangeOnRandomInputs) {
  TestRng rng(10);
  for (int i = 0; i < 2000; ++i) {
    auto b = rng.bytes<32>();
    b[31] &= 0x1f;  // around l, so both outcomes are frequent
    Bytes wide(b.begin(), b.end());
    wide.resize(64, 0);
    Scalar::Encoding reduced;
    crypto_core_ristretto255_scalar_reduce(reduced.data(), wide.data());
    const bool canonical = reduced == b;
    const auto s = Scalar::decode(b);
    ASSERT_EQ(s.is_ok(), canonical);
    if (canonical) {
      EXPECT_EQ(s->bytes(), b);
    }
  }
}

TEST(Scalar, ArithmeticMatchesLibsodium) {
  TestRng rng(11);
  for (int i = 0; i < 2000; ++i) {
    const auto a = sodium_random_scalar(rng);
    const auto b = sodium_random_scalar(rng);
    const Scalar sa = *Scalar::decode(a);
    const Scalar sb = *Scalar::decode(b);
    Scalar::Encoding want;
    crypto_core_ristretto255_scalar_add(want.data(), a.data(), b.data());
    ASSERT_EQ((sa + sb).bytes(), want);
    crypto_core_ristretto255_scalar_sub(want.data(), a.data(), b.data());
    ASSERT_EQ((sa - sb).bytes(), want);
    crypto_core_ristretto255_scalar_mul(want.data(), a.data(), b.data());
    ASSERT_EQ((sa * sb).bytes(), want);
    crypto_core_ristretto255_scalar_negate(want.data(), a.data());
    ASSERT_EQ((-sa).bytes(), want);
    if (i % 10 == 0) {
      crypto_core_ristretto255_scalar_invert(want.data(), a.data());
      ASSERT_EQ(sa.invert()->bytes(), want);
    }
    const auto wide = rng.bytes<64>();
    crypto_core_ristretto255_scalar_reduce(want.data(), wide.data());
    ASSERT_EQ(Scalar::from_bytes_mod_order_wide(wide).bytes(), want);
  }
}

TEST(Scalar, HashIsReducedSha512) {
  const Bytes msg = {'p', 'f', 'e', 'x'};
  const Digest64 d = sha512(msg);
  Scalar::Encoding want;
  crypto_core_ristretto255_scalar_reduce(want.data(), d.data());
  EXPECT_EQ(Scalar::hash(msg).bytes(), want);
}

TEST(Scalar, InvertAndBatchInvert) {
  EXPECT_FALSE(Scalar::zero().invert().is_ok());
  std::vector<Scalar> v;
  v.reserve(22);
  for (int i = 0; i < 20; ++i)
    v.push_back(Scalar::random());
  v.push_back(Scalar::one());
  v.push_back(-Scalar::one());
  auto inv = v;
  ASSERT_TRUE(Scalar::batch_invert(inv).is_ok());
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(inv[i] * v[i], Scalar::one());
    EXPECT_EQ(inv[i], *v[i].invert());
  }
  auto with_zero = v;
  with_zero[3] = Scalar::zero();
  const auto before = with_zero;
  EXPECT_FALSE(Scalar::batch_invert(with_zero).is_ok());
  for (std::size_t i = 0; i < v.size(); ++i)
    EXPECT_EQ(with_zero[i], before[i]);
  std::vector<Scalar> empty;
  EXPECT_TRUE(Scalar::batch_invert(empty).is_ok());
}

TEST(Scalar, FromU64AndZero) {
  EXPECT_TRUE(Scalar::zero().is_zero());
  EXPECT_FALSE(Scalar::one().is_zero());
  EXPECT_EQ(Scalar::from_u64(3) * Scalar::from_u64(5), Scalar::from_u64(15));
  EXPECT_EQ(Scalar::from_u64(~std::uint64_t{0}) + Scalar::one(),
            Scalar::from_u64(std::uint64_t{1} << 63) * Scalar::from_u64(2));
}

// Reconstructs sum d_i * radix^i mod l from signed digits (int8_t digits are small integers,
// never characters).
template <class Digit>
Scalar from_digits(std::span<const Digit> d, const Scalar& radix) {
  Scalar acc;
  for (std::size_t i = d.size(); i-- > 0;) {
    acc *= radix;
    const Scalar mag = Scalar::from_u64(static_cast<std::uint64_t>(d[i] < 0 ? -d[i] : d[i]));
    acc += d[i] < 0 ? -mag : mag;
  }
  return acc;
}

TEST(ScalarRecoding, AllRecodingsReconstructTheScalar) {
  TestRng rng(12);
  std::vector<Scalar> cases = {Scalar::zero(),       Scalar::one(),       -Scalar::one(),
                               -Scalar::from_u64(2), Scalar::from_u64(8), Scalar::from_u64(15)};
  for (int i = 0; i < 300; ++i)
    cases.push_back(*Scalar::decode(sodium_random_scalar(rng)));
  for (const Scalar& s : cases) {
    const auto r16 = detail::radix16(s.bytes());
    for (std::size_t i = 0; i < 64; ++i) {
      ASSERT_GE(r16[i], -8);
      ASSERT_LE(r16[i], 8);
    }
    ASSERT_EQ(from_digits<std::int8_t>(r16, Scalar::from_u64(16)), s);

    for (int w = 2; w <= 8; ++w) {
      const auto naf = detail::wnaf_var(s.bytes(), w);
      int last = -1000;
      for (std::size_t i = 0; i < 256; ++i) {
        if (naf[i] == 0) continue;
        ASSERT_EQ(naf[i] & 1, 1) << "wNAF digits are odd";
        ASSERT_LT(std::abs(naf[i]), 1 << (w - 1));
        ASSERT_GE(static_cast<int>(i) - last, w);
        last = static_cast<int>(i);
      }
      ASSERT_EQ(from_digits<std::int8_t>(naf, Scalar::from_u64(2)), s) << "w=" << w;
    }

    std::int32_t d[256];
    for (int c = 1; c <= 16; ++c) {
      const int n = detail::radix_2c_digits(c);
      ASSERT_GE(n * c, 253);
      ASSERT_LT((n - 1) * c, 253);
      detail::radix_2c_var(s.bytes(), c, d);
      for (int i = 0; i + 1 < n; ++i) {
        ASSERT_GE(d[i], -(1 << (c - 1))) << "c=" << c << " i=" << i;
        ASSERT_LT(d[i], 1 << (c - 1)) << "c=" << c << " i=" << i;
      }
      ASSERT_GE(d[n - 1], 0) << "c=" << c;
      ASSERT_LE(d[n - 1], 1 << detail::radix_2c_top_bits(c)) << "c=" << c;
      ASSERT_EQ(from_digits<std::int32_t>(std::span(d, static_cast<std::size_t>(n)),
                                          Scalar::from_u64(std::uint64_t{1} << c)),
                s)
          << "c=" << c;
    }
  }
}

}  // namespace
}  // namespace pfex::crypto
