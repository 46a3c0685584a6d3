#include "crypto/pedersen.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "core/hash.hpp"

namespace pfex::crypto {
namespace {

TEST(Pedersen, BlindingGeneratorIsTheDerivedH) {
  EXPECT_EQ(blinding_generator(), derive_generator("H", 0));
  const PedersenGens gens;
  EXPECT_EQ(gens.G(), Point::base());
  EXPECT_EQ(gens.H(), blinding_generator());
}

TEST(Pedersen, CommitIsXGPlusRH) {
  const PedersenGens gens;
  for (int i = 0; i < 20; ++i) {
    const Scalar x = i < 3 ? Scalar::from_u64(static_cast<std::uint64_t>(i)) : Scalar::random();
    const Scalar r = Scalar::random();
    const Point c = gens.commit(x, r);
    EXPECT_EQ(c, x * Point::base() + r * blinding_generator());
    EXPECT_TRUE(gens.opens_var(c, x, r));
    EXPECT_FALSE(gens.opens_var(c, x + Scalar::one(), r));
    EXPECT_FALSE(gens.opens_var(c, x, r + Scalar::one()));
    EXPECT_EQ(gens.blind(r), r * blinding_generator());
  }
}

TEST(Pedersen, CommitmentsAreAdditivelyHomomorphic) {
  const PedersenGens gens;
  const Scalar x1 = Scalar::random(), r1 = Scalar::random();
  const Scalar x2 = Scalar::random(), r2 = Scalar::random();
  EXPECT_EQ(gens.commit(x1, r1) + gens.commit(x2, r2), gens.commit(x1 + x2, r1 + r2));
  EXPECT_EQ(gens.commit(x1, r1) - gens.commit(x2, r2), gens.commit(x1 - x2, r1 - r2));
}

TEST(VectorPedersen, CommitIsSumOverDerivedGenerators) {
  const VectorPedersenGens gens("test/vec", 5);
  std::vector<Scalar> a;
  a.reserve(5);
  for (int i = 0; i < 5; ++i)
    a.push_back(Scalar::random());
  const Scalar r = Scalar::random();
  Point want = r * blinding_generator();
  for (std::uint32_t i = 0; i < 5; ++i)
    want += a[i] * derive_generator("test/vec", i);
  auto c = gens.commit(a, r);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(*c, want);

  // Fewer values: the missing ones are zero.
  auto c2 = gens.commit(std::span<const Scalar>(a).first(2), r);
  ASSERT_TRUE(c2.is_ok());
  EXPECT_EQ(*c2, r * blinding_generator() + a[0] * derive_generator("test/vec", 0) +
                     a[1] * derive_generator("test/vec", 1));
  // Another label, another commitment.
  const VectorPedersenGens other("test/vec2", 5);
  EXPECT_NE(*other.commit(a, r), want);
}

TEST(VectorPedersen, TooManyValuesIsAnError) {
  const VectorPedersenGens gens("test/vec", 2);
  const std::vector<Scalar> a(3, Scalar::one());
  auto c = gens.commit(a, Scalar::one());
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace pfex::crypto
