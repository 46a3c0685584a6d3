#include "core/status.hpp"

#include <gtest/gtest.h>

namespace pfex {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return Status::invalid_argument("x must be positive, got " + std::to_string(x));
  return x;
}

Result<int> doubled(int x) {
  PFEX_ASSIGN_OR_RETURN(int v, parse_positive(x));
  return 2 * v;
}

TEST(Status, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kOk);
  EXPECT_EQ(s.to_string(), "ok");
}

TEST(Status, ErrorCarriesCodeMessageAndContext) {
  Status s = Status::insolvent("E_L would be -5").with_context("order 7");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kInsolvent);
  EXPECT_EQ(s.to_string(), "insolvent: order 7: E_L would be -5");
  Status copy = s;  // NOLINT(performance-unnecessary-copy-initialization): copying is the test
  EXPECT_EQ(copy.message(), s.message());
}

TEST(Result, PropagatesErrorsThroughAssignOrReturn) {
  EXPECT_EQ(*doubled(4), 8);
  Result<int> bad = doubled(-1);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "x must be positive, got -1");
}

TEST(Result, FromOkStatusIsAnError) {
  Result<int> r = Status::ok();
  EXPECT_FALSE(r.is_ok());
}

}  // namespace
}  // namespace pfex
