#include "core/checked.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <limits>

namespace pfex {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

TEST(Checked, DetectsOverflowAtTheEdges) {
  EXPECT_FALSE(checked_add(kMax, 1, "x").is_ok());
  EXPECT_FALSE(checked_sub(kMin, 1, "x").is_ok());
  EXPECT_FALSE(checked_mul(kMax / 2 + 1, 2, "x").is_ok());
  EXPECT_FALSE(checked_mul(kMin, -1, "x").is_ok());
  EXPECT_EQ(*checked_add(kMax - 1, 1, "x"), kMax);
  EXPECT_EQ(*checked_mul(-(kMax / 2), 2, "x"), -(kMax / 2) * 2);
  Result<std::int64_t> r = checked_add(kMax, kMax, "cash");
  EXPECT_EQ(r.status().code(), ErrorCode::kOverflow);
  EXPECT_EQ(r.status().message(), "cash does not fit in 64 bits");
}

TEST(Checked, OverflowIsStickyThroughAFormula) {
  Checked<std::int64_t> x = Checked<std::int64_t>(kMax) + 1 - 5;
  EXPECT_TRUE(x.overflowed());
  Checked<i128> wide = Checked<i128>(kMax) * kMax * 4;  // ~2^128: overflows i128
  EXPECT_TRUE(wide.overflowed());
  Checked<i128> fits = Checked<i128>(kMax) * kMax;
  EXPECT_FALSE(fits.overflowed());
  EXPECT_FALSE(to_int64(fits, "product").is_ok());
  EXPECT_EQ(*to_int64(Checked<i128>(-7) * 3, "p"), -21);
}

TEST(Checked, FloorAndCeilDivision) {
  EXPECT_EQ(floor_div(std::int64_t{7}, 2), 3);
  EXPECT_EQ(floor_div(std::int64_t{-7}, 2), -4);
  EXPECT_EQ(ceil_div(std::int64_t{7}, 2), 4);
  EXPECT_EQ(ceil_div(std::int64_t{-7}, 2), -3);
  EXPECT_EQ(ceil_div(std::int64_t{8}, 2), 4);
}

RC_GTEST_PROP(Checked, AgreesWithWideArithmetic, (std::int64_t a, std::int64_t b)) {
  i128 sum = static_cast<i128>(a) + b;
  i128 prod = static_cast<i128>(a) * b;
  bool sum_fits = sum >= kMin && sum <= kMax;
  bool prod_fits = prod >= kMin && prod <= kMax;
  RC_ASSERT(checked_add(a, b, "s").is_ok() == sum_fits);
  RC_ASSERT(checked_mul(a, b, "p").is_ok() == prod_fits);
  if (sum_fits) RC_ASSERT(static_cast<i128>(*checked_add(a, b, "s")) == sum);
  if (prod_fits) RC_ASSERT(static_cast<i128>(*checked_mul(a, b, "p")) == prod);
}

}  // namespace
}  // namespace pfex
