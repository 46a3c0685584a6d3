#include "crypto/bsgs.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace pfex::crypto {
namespace {

constexpr std::int64_t kTwo40 = std::int64_t{1} << 40;

Point times_g(std::int64_t v) {
  const Scalar abs =
      Scalar::from_u64(v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v));
  return Point::mul_base(v < 0 ? -abs : abs);
}

// The default table (2^20 baby steps), built once for the binary.
const DiscreteLogTable& full_table() {
  static const DiscreteLogTable t;
  return t;
}

TEST(DiscreteLog, ExhaustiveOnASmallTable) {
  // 16 baby steps: W = 33, so [-300, 300] crosses many giant steps in both directions.
  const DiscreteLogTable t(4);
  EXPECT_EQ(t.baby_steps(), 16u);
  EXPECT_EQ(t.memory_bytes(), 32u * 8u);
  for (std::int64_t v = -300; v <= 300; ++v) {
    auto got = t.solve_var(times_g(v), 300);
    ASSERT_TRUE(got.is_ok()) << v << ": " << got.status().to_string();
    EXPECT_EQ(*got, v);
  }
  for (std::int64_t v : {301, -301, 1000, -1000}) {
    auto got = t.solve_var(times_g(v), 300);
    EXPECT_EQ(got.status().code(), ErrorCode::kNotFound) << v;
  }
}

TEST(DiscreteLog, RangeEdgesAt2To40) {
  const DiscreteLogTable& t = full_table();
  EXPECT_EQ(t.baby_steps(), std::uint64_t{1} << 20);
  EXPECT_EQ(t.memory_bytes(), std::size_t{16} << 20);
  EXPECT_LE(t.max_giant_steps(std::uint64_t{1} << 40), (std::uint64_t{1} << 20) + 1);
  // Each search near the edge walks all 2^20 giant steps, so only a few of those.
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, kTwo40, -kTwo40 + 1,
                         std::int64_t{1} << 20, -(std::int64_t{1} << 20),
                         (std::int64_t{1} << 21) + 1, -(std::int64_t{1} << 21) - 1}) {
    auto got = t.solve_var(times_g(v));
    ASSERT_TRUE(got.is_ok()) << v << ": " << got.status().to_string();
    EXPECT_EQ(*got, v);
  }
  for (std::int64_t v : {kTwo40 + 1, -kTwo40 - 1}) {
    auto got = t.solve_var(times_g(v));
    ASSERT_EQ(got.status().code(), ErrorCode::kNotFound) << v;
    EXPECT_NE(got.status().message().find("2^40"), std::string_view::npos);
  }
  // A point that is no small multiple of G at all.
  EXPECT_EQ(t.solve_var(Point::random(), 1u << 24).status().code(), ErrorCode::kNotFound);
}

TEST(DiscreteLog, RandomValuesAndSmallerBounds) {
  const DiscreteLogTable& t = full_table();
  std::mt19937_64 rng(3);
  for (int i = 0; i < 4; ++i) {
    const auto v =
        static_cast<std::int64_t>(rng() % (2 * static_cast<std::uint64_t>(kTwo40) + 1)) - kTwo40;
    auto got = t.solve_var(times_g(v));
    ASSERT_TRUE(got.is_ok()) << v;
    EXPECT_EQ(*got, v);
  }
  EXPECT_EQ(*t.solve_var(times_g(999), 999), 999);
  EXPECT_EQ(t.solve_var(times_g(1000), 999).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(t.solve_var(times_g(-1000), 999).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(t.solve_var(times_g(5), (std::uint64_t{1} << 62) + 1).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(DiscreteLog, AnyRepresentativeOfTheElement) {
  // Decoded points and sums may hold a representative that differs from v*B by 4-torsion; the
  // search must not depend on it.
  const DiscreteLogTable t(10);
  for (std::int64_t v : {std::int64_t{77}, std::int64_t{-123456}, std::int64_t{5'000'000}}) {
    const Point direct = times_g(v);
    auto decoded = Point::decode(direct.encode());
    ASSERT_TRUE(decoded.is_ok());
    const Point r = Point::random();
    const Point roundabout = (direct + r) - r;
    for (const Point& p : {direct, *decoded, roundabout, -(-direct)}) {
      auto got = t.solve_var(p, 1u << 24);
      ASSERT_TRUE(got.is_ok()) << v;
      EXPECT_EQ(*got, v);
    }
  }
}

}  // namespace
}  // namespace pfex::crypto
