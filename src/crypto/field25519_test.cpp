#include "crypto/field25519.hpp"

#include <gtest/gtest.h>

#include "crypto/test_util.hpp"

namespace pfex::crypto::detail {
namespace {

using testing::TestRng;

Fe small(std::uint64_t v) {
  return Fe{{v, 0, 0, 0, 0}};
}

TEST(Field25519, ConstantsHaveTheirDefiningProperties) {
  // d = -121665 / 121666
  EXPECT_EQ(fe_eq(fe_mul(fe_d(), small(121666)), fe_neg(small(121665))), 1u);
  EXPECT_EQ(fe_eq(fe_d2(), fe_add(fe_d(), fe_d())), 1u);
  EXPECT_EQ(fe_eq(fe_sq(fe_sqrt_m1()), fe_neg(fe_one())), 1u);
  EXPECT_EQ(fe_is_negative(fe_sqrt_m1()), 0u);
  // INVSQRT_A_MINUS_D^2 * (a - d) = 1 with a = -1
  EXPECT_EQ(
      fe_eq(fe_mul(fe_sq(fe_invsqrt_a_minus_d()), fe_sub(fe_neg(fe_one()), fe_d())), fe_one()), 1u);
  // SQRT_AD_MINUS_ONE^2 = a*d - 1
  EXPECT_EQ(fe_eq(fe_sq(fe_sqrt_ad_minus_one()), fe_sub(fe_neg(fe_d()), fe_one())), 1u);
  EXPECT_EQ(fe_eq(fe_one_minus_d_sq(), fe_sub(fe_one(), fe_sq(fe_d()))), 1u);
  EXPECT_EQ(fe_eq(fe_d_minus_one_sq(), fe_sq(fe_sub(fe_d(), fe_one()))), 1u);
}

TEST(Field25519, BytesRoundTripAndCanonicalReduction) {
  TestRng rng(1);
  for (int i = 0; i < 1000; ++i) {
    auto b = rng.bytes<32>();
    b[31] &= 0x7f;
    const auto out = fe_to_bytes(fe_from_bytes(b));
    // Values in [p, 2^255) reduce; everything else round-trips.
    const Fe f = fe_from_bytes(b);
    EXPECT_EQ(fe_to_bytes(fe_from_bytes(out)), out);
    EXPECT_EQ(fe_eq(fe_from_bytes(out), f), 1u);
  }
  // p itself encodes as zero, p + 1 as one.
  auto p =
      testing::hex_array<32>("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  EXPECT_EQ(fe_to_bytes(fe_from_bytes(p)), fe_to_bytes(fe_zero()));
  p[0] = 0xee;
  EXPECT_EQ(fe_to_bytes(fe_from_bytes(p)), fe_to_bytes(fe_one()));
  // 2^255 - 1 (top bit masked) = p + 18.
  const auto all =
      testing::hex_array<32>("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  EXPECT_EQ(fe_to_bytes(fe_from_bytes(all)), fe_to_bytes(small(18)));
}

TEST(Field25519, RingLawsOnRandomElements) {
  TestRng rng(2);
  for (int i = 0; i < 500; ++i) {
    const Fe a = fe_from_bytes(rng.bytes<32>());
    const Fe b = fe_from_bytes(rng.bytes<32>());
    const Fe c = fe_from_bytes(rng.bytes<32>());
    EXPECT_EQ(fe_eq(fe_mul(a, fe_add(b, c)), fe_add(fe_mul(a, b), fe_mul(a, c))), 1u);
    EXPECT_EQ(fe_eq(fe_sq(a), fe_mul(a, a)), 1u);
    EXPECT_EQ(fe_eq(fe_sub(fe_add(a, b), b), a), 1u);
    EXPECT_EQ(fe_eq(fe_mul(a, fe_invert(a)), fe_one()), fe_is_zero(a) ? 0u : 1u);
  }
  EXPECT_EQ(fe_is_zero(fe_invert(fe_zero())), 1u);
}

TEST(Field25519, SqrtRatioM1) {
  Fe r;
  EXPECT_EQ(fe_sqrt_ratio_m1(r, fe_zero(), fe_zero()), 1u);
  EXPECT_EQ(fe_is_zero(r), 1u);
  EXPECT_EQ(fe_sqrt_ratio_m1(r, fe_one(), fe_zero()), 0u);
  EXPECT_EQ(fe_sqrt_ratio_m1(r, small(4), fe_one()), 1u);
  EXPECT_EQ(fe_eq(r, small(2)), 1u);
  // 2 is a non-square: r = sqrt(2i), non-negative.
  EXPECT_EQ(fe_sqrt_ratio_m1(r, small(2), fe_one()), 0u);
  EXPECT_EQ(fe_eq(fe_sq(r), fe_mul(small(2), fe_sqrt_m1())), 1u);
  EXPECT_EQ(fe_is_negative(r), 0u);
  TestRng rng(3);
  for (int i = 0; i < 200; ++i) {
    const Fe u = fe_from_bytes(rng.bytes<32>());
    const Fe v = fe_from_bytes(rng.bytes<32>());
    const std::uint64_t sq = fe_sqrt_ratio_m1(r, u, v);
    const Fe lhs = fe_mul(v, fe_sq(r));
    EXPECT_EQ(fe_eq(lhs, sq ? u : fe_mul(u, fe_sqrt_m1())), 1u);
    EXPECT_EQ(fe_is_negative(r), 0u);
  }
}

TEST(Field25519, BatchInvertMatchesSingleAndKeepsZeros) {
  TestRng rng(4);
  std::vector<Fe> v;
  v.reserve(33);
  for (int i = 0; i < 33; ++i)
    v.push_back(fe_from_bytes(rng.bytes<32>()));
  v[5] = fe_zero();
  v[32] = fe_zero();
  auto inv = v;
  fe_batch_invert(inv);
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(fe_eq(inv[i], fe_invert(v[i])), 1u) << i;
  }
}

}  // namespace
}  // namespace pfex::crypto::detail
