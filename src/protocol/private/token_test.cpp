#include "protocol/private/token.hpp"

#include <gtest/gtest.h>

#include <set>

#include "crypto/msm.hpp"
#include "protocol/private/test_util.hpp"

namespace pfex::priv {
namespace {

using testing::gens;

TEST(Token, CommitsToEveryAttributeOverItsOwnGenerator) {
  TokenOpening t;
  t.r = Scalar::random();
  t.kappa = Scalar::random();
  t.sn = random_nonzero_scalar();
  t.a.c = -1234;
  t.a.vp = 5;
  t.a.vm = 0;
  t.a.B = 7;
  t.a.S = 8;
  t.a.QB = 700;
  t.a.QS = 900;
  const auto& g = gens();
  const Point expected =
      t.r * g.H() + t.kappa * g.kappa() + t.sn * g.sn() +
      (-Scalar::from_u64(1234)) * g.attributes()[0] + Scalar::from_u64(5) * g.attributes()[1] +
      Scalar::from_u64(7) * g.attributes()[3] + Scalar::from_u64(8) * g.attributes()[4] +
      Scalar::from_u64(700) * g.attributes()[5] + Scalar::from_u64(900) * g.attributes()[6];
  EXPECT_EQ(t.commit(g), expected);
  // Each attribute moves the commitment.
  for (int i = 0; i < 7; ++i) {
    TokenOpening u = t;
    std::uint64_t* fields[6] = {&u.a.vp, &u.a.vm, &u.a.B, &u.a.S, &u.a.QB, &u.a.QS};
    if (i == 0)
      u.a.c += 1;
    else
      *fields[i - 1] += 1;
    EXPECT_NE(u.commit(g), t.commit(g)) << "attribute " << i;
  }
}

TEST(Token, GeneratorsAndDummyPointsAreDistinct) {
  const auto& g = gens();
  std::set<Point::Encoding> seen;
  auto add = [&](const Point& p) {
    EXPECT_FALSE(p.is_identity());
    EXPECT_TRUE(seen.insert(p.encode()).second);
  };
  add(g.G());
  add(g.H());
  add(g.kappa());
  add(g.sn());
  for (const Point& p : g.attributes())
    add(p);
  add(g.tag_kappa());
  add(g.tag_secret());
  add(g.G_J());
  for (std::uint64_t epoch = 0; epoch < 3; ++epoch)
    for (std::uint32_t i = 0; i < 16; ++i)
      add(dummy_point(epoch, i));
  EXPECT_EQ(dummy_point(2, 5), dummy_point(2, 5));
}

TEST(Window, LimitsOnLengthStartAndList) {
  const std::size_t N = 8;
  EXPECT_FALSE(check_window({1, 0, 0}, 5, N).is_ok());  // t = 0
  EXPECT_TRUE(check_window({1, 0, 1}, 5, N).is_ok());
  EXPECT_TRUE(check_window({1, 0, 5}, 5, N).is_ok());  // t = length
  EXPECT_EQ(check_window({1, 0, 6}, 5, N).code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(check_window({1, 1, 4}, 5, N).code(), ErrorCode::kInvalidArgument);  // short, s != 0
  EXPECT_TRUE(check_window({1, 4, 8}, 12, N).is_ok());                           // s + N = length
  EXPECT_EQ(check_window({1, 5, 8}, 12, N).code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(check_window({1, 0, 9}, 12, N).code(), ErrorCode::kInvalidArgument);  // t = N + 1
  EXPECT_EQ(check_window({1, UINT64_MAX, 8}, 12, N).code(), ErrorCode::kFailedPrecondition);
}

TEST(Window, ShortWindowIsPaddedWithDummyPoints) {
  std::vector<Point> list = {Point::random(), Point::random(), Point::random()};
  auto points = window_points({4, 0, 2}, list, 8);
  ASSERT_TRUE(points.is_ok());
  ASSERT_EQ(points->size(), 8u);
  EXPECT_EQ((*points)[0], list[0]);
  EXPECT_EQ((*points)[1], list[1]);
  for (std::uint32_t i = 2; i < 8; ++i)
    EXPECT_EQ((*points)[i], dummy_point(4, i));
  // Appending to the list does not change a window already named.
  list.push_back(Point::random());
  EXPECT_EQ(*window_points({4, 0, 2}, list, 8), *points);
}

TEST(Window, NewestWindowHoldsTheToken) {
  EXPECT_EQ(newest_window(1, 2, 5, 8), (Window{1, 0, 5}));
  EXPECT_EQ(newest_window(1, 11, 12, 8), (Window{1, 4, 8}));
  EXPECT_EQ(newest_window(1, 4, 12, 8), (Window{1, 4, 8}));
  EXPECT_EQ(newest_window(1, 3, 20, 8), (Window{1, 0, 8}));  // old token: its aligned block
  EXPECT_EQ(newest_window(1, 9, 20, 8), (Window{1, 8, 8}));
}

TEST(Window, DecodingIsStrict) {
  auto decode = [](const Window& w) {
    Bytes b;
    Writer wr(&b);
    w.encode(wr);
    Reader r(b);
    const Window out = Window::decode(r, 8);
    return std::make_pair(r.finish(), out);
  };
  EXPECT_TRUE(decode({1, 0, 3}).first.is_ok());
  EXPECT_EQ(decode({1, 0, 3}).second, (Window{1, 0, 3}));
  EXPECT_FALSE(decode({1, 0, 0}).first.is_ok());
  EXPECT_FALSE(decode({1, 0, 9}).first.is_ok());
  EXPECT_FALSE(decode({1, 2, 3}).first.is_ok());
  EXPECT_TRUE(decode({1, 2, 8}).first.is_ok());
}

}  // namespace
}  // namespace pfex::priv
