#include "crypto/msm.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "crypto/test_util.hpp"

namespace pfex::crypto {
namespace {

using testing::TestRng;

// A pool of terms mixing the awkward cases (zero scalars, scalars near l, repeated points, the
// identity, negated points), with prefix sums of the naive s_i * P_i so that MSM over the first
// n terms can be checked for every n cheaply.
struct Pool {
  std::vector<Scalar> scalars;
  std::vector<Point> points;
  std::vector<Point> prefix;  // prefix[n] = sum_{i<n} s_i * P_i
};

Pool make_pool(std::size_t n, std::uint64_t seed) {
  TestRng rng(seed);
  Pool pool;
  for (std::size_t i = 0; i < n; ++i) {
    Scalar s = Scalar::from_bytes_mod_order_wide(rng.bytes<64>());
    if (i % 7 == 3) s = Scalar::zero();
    if (i % 13 == 5) s = -Scalar::from_u64(1 + i % 4);  // l - 1 .. l - 4
    if (i % 17 == 6) s = Scalar::from_u64(i % 3);
    Point p = Point::from_uniform_bytes(rng.bytes<64>());
    if (i % 11 == 2) p = Point::identity();
    if (i % 5 == 4 && i > 0) p = pool.points[i - 1];
    if (i % 19 == 8 && i > 0) p = -pool.points[i - 1];
    pool.scalars.push_back(s);
    pool.points.push_back(p);
  }
  pool.prefix.push_back(Point::identity());
  for (std::size_t i = 0; i < n; ++i) {
    pool.prefix.push_back(pool.prefix.back() + pool.scalars[i] * pool.points[i]);
  }
  return pool;
}

const Pool& pool() {
  static const Pool p = make_pool(3000, 30);
  return p;
}

std::vector<std::size_t> sizes_to_check() {
  std::vector<std::size_t> sizes;
  for (std::size_t n = 0; n <= 70; ++n)
    sizes.push_back(n);
  for (std::size_t n = 71; n <= 400; n += 13)
    sizes.push_back(n);
  for (std::size_t n :
       {127u, 128u, 129u, 159u, 160u, 161u, 255u, 256u, 257u, 511u, 1024u, 2047u, 3000u}) {
    sizes.push_back(n);
  }
  return sizes;
}

TEST(Msm, VartimeEqualsNaiveSumForManySizes) {
  const Pool& p = pool();
  for (std::size_t n : sizes_to_check()) {
    const std::span<const Scalar> s(p.scalars.data(), n);
    const std::span<const Point> q(p.points.data(), n);
    const auto got = msm_var(s, q);
    ASSERT_TRUE(got.is_ok());
    ASSERT_EQ(*got, p.prefix[n]) << "n=" << n;
    if (n <= 300) {
      ASSERT_EQ(msm_straus_var(s, q), p.prefix[n]) << "straus n=" << n;
      ASSERT_EQ(msm_pippenger_var(s, q), p.prefix[n]) << "pippenger n=" << n;
    }
  }
}

TEST(Msm, ConstantTimeEqualsNaiveSumForManySizes) {
  const Pool& p = pool();
  for (std::size_t n : sizes_to_check()) {
    if (n > 600 && n != 1024) continue;  // the const-time path is chunked at 128: covered below
    const auto got = msm(std::span(p.scalars.data(), n), std::span(p.points.data(), n));
    ASSERT_TRUE(got.is_ok());
    ASSERT_EQ(*got, p.prefix[n]) << "n=" << n;
  }
}

TEST(Msm, TablesSumAnyConsecutiveRun) {
  const Pool& p = pool();
  const std::span<const Point> points(p.points.data(), 300);
  const MsmTables tables(points);
  ASSERT_EQ(tables.size(), 300u);
  for (std::size_t first : {0u, 1u, 37u, 128u, 299u, 300u}) {
    for (std::size_t n : {0u, 1u, 2u, 63u, 129u}) {
      if (first + n > 300) continue;
      const auto got = tables.msm(std::span(p.scalars.data() + first, n), first);
      ASSERT_TRUE(got.is_ok());
      ASSERT_EQ(*got, p.prefix[first + n] - p.prefix[first]) << first << "+" << n;
    }
  }
  // The same tables serve many sums: the whole list, ending exactly at the last point.
  ASSERT_EQ(*tables.msm(std::span(p.scalars.data(), 300)), p.prefix[300]);
}

TEST(Msm, TablesRefuseTermsPastTheLastPoint) {
  const Pool& p = pool();
  const MsmTables tables(std::span(p.points.data(), 10));
  const std::span<const Scalar> s(p.scalars.data(), 11);
  EXPECT_TRUE(tables.msm(s.first(9), 1).is_ok());   // ends at point 9: the last
  EXPECT_TRUE(tables.msm(s.first(10), 0).is_ok());  // all ten
  EXPECT_EQ(tables.msm(s.first(10), 1).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(tables.msm(s.first(11), 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(tables.msm(s.first(0), 11).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(tables.msm(s.first(0), 10).is_ok());  // empty, at the end: the identity
}

TEST(Msm, PippengerEveryWindowWidth) {
  const Pool& p = pool();
  for (std::size_t n : {1u, 2u, 37u, 200u}) {
    for (int c = 1; c <= 12; ++c) {
      ASSERT_EQ(msm_pippenger_var(std::span(p.scalars.data(), n), std::span(p.points.data(), n), c),
                p.prefix[n])
          << "n=" << n << " c=" << c;
    }
  }
}

TEST(Msm, IdentityCheck) {
  const Pool& p = pool();
  // sum s_i P_i - 1 * S == identity, where S is the naive sum.
  for (std::size_t n : {0u, 1u, 5u, 64u, 300u}) {
    std::vector<Scalar> s(p.scalars.begin(), p.scalars.begin() + static_cast<std::ptrdiff_t>(n));
    std::vector<Point> q(p.points.begin(), p.points.begin() + static_cast<std::ptrdiff_t>(n));
    s.push_back(-Scalar::one());
    q.push_back(p.prefix[n]);
    EXPECT_TRUE(*msm_is_identity_var(s, q)) << n;
    s.back() = -Scalar::from_u64(2);
    EXPECT_EQ(*msm_is_identity_var(s, q), p.prefix[n].is_identity()) << n;
  }
}

TEST(Msm, AllZeroScalarsAllIdentityPointsAndSameScalarRepeated) {
  std::vector<Scalar> zeros(300);
  std::vector<Point> pts;
  pts.reserve(300);
  for (int i = 0; i < 300; ++i)
    pts.push_back(Point::random());
  EXPECT_TRUE(msm_var(zeros, pts)->is_identity());
  EXPECT_TRUE(msm(zeros, pts)->is_identity());
  std::vector<Scalar> minus_one(300, -Scalar::one());
  std::vector<Point> same(300, Point::base());
  const Point want = Scalar::from_u64(300) * -Point::base();
  EXPECT_EQ(*msm_var(minus_one, same), want);
  EXPECT_EQ(*msm(minus_one, same), want);
  std::vector<Point> ids(300);
  EXPECT_TRUE(msm_var(minus_one, ids)->is_identity());
  EXPECT_TRUE(msm(minus_one, ids)->is_identity());
}

TEST(Msm, MismatchedLengthsAreAnError) {
  std::vector<Scalar> s(3);
  std::vector<Point> q(2);
  EXPECT_EQ(msm(s, q).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(msm_var(s, q).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(msm_is_identity_var(s, q).status().code(), ErrorCode::kInvalidArgument);
}

TEST(Msm, WindowGrowsWithSize) {
  int last = 0;
  for (std::size_t n = 1; n <= (1u << 20); n *= 2) {
    const int c = pippenger_window(n);
    EXPECT_GE(c, last);
    EXPECT_GE(c, 4);
    EXPECT_LE(c, 16);
    last = c;
  }
}

}  // namespace
}  // namespace pfex::crypto
