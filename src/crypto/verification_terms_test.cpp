#include "crypto/verification_terms.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace pfex::crypto {
namespace {

// Every subset of bad items among n <= 9: the bisection finds exactly them, and clears a group
// that holds with a single check.
TEST(FindFailing, FindsExactlyTheBadPositionsForEverySubset) {
  for (std::size_t n = 1; n <= 9; ++n) {
    std::vector<std::size_t> positions(n);
    std::iota(positions.begin(), positions.end(),
              std::size_t{10});  // positions need not start at 0
    for (std::uint32_t mask = 0; mask < (1u << n); ++mask) {
      std::vector<std::size_t> want;
      for (std::size_t i = 0; i < n; ++i)
        if (mask >> i & 1u) want.push_back(10 + i);
      std::size_t checks = 0;
      auto holds = [&](std::span<const std::size_t> group) {
        ++checks;
        for (std::size_t p : group)
          if (mask >> (p - 10) & 1u) return false;
        return true;
      };
      EXPECT_EQ(find_failing(positions, holds), want) << "n " << n << " mask " << mask;
      if (mask == 0) {
        EXPECT_EQ(checks, 1u);
      }
    }
  }
  EXPECT_TRUE(find_failing({}, [](std::span<const std::size_t>) { return false; }).empty());
}

TEST(FindFailing, DescribesTheFailures) {
  const std::vector<std::size_t> one = {7};
  const std::vector<std::size_t> two = {3, 17};
  EXPECT_EQ(describe_failing(one), "proof 7 does not verify");
  EXPECT_EQ(describe_failing(two), "proofs 3, 17 do not verify");
}

// A batch of equations: one MSM for all, and any false one breaks it.
TEST(VerificationTerms, WeightedSumOfEquations) {
  const Point P = Point::random();
  const Scalar x = Scalar::random();
  VerificationTerms good;  // x*P - (x*P) = 0
  good.add(x, P);
  good.add(-Scalar::one(), x * P);
  VerificationTerms bad;  // x*P - P != 0
  bad.add(x, P);
  bad.add(-Scalar::one(), P);
  VerificationTerms all;
  all.append_weighted(good, Scalar::random());
  all.append_weighted(good, Scalar::random());
  EXPECT_TRUE(all.is_identity_var());
  all.append_weighted(bad, Scalar::random());
  EXPECT_FALSE(all.is_identity_var());
  EXPECT_EQ(all.size(), 6u);
}

// Entries built apart (on other threads) and appended keep their numbers, shared generators and
// refusals: the bisection names the same entries as if they had been built in one object.
TEST(VerificationTerms, AppendEntriesKeepsEntriesSharedTermsAndRefusals) {
  const std::vector<Point> gens = {Point::random(), Point::random(), Point::random()};
  const Scalar x = Scalar::random();
  // Entry: x*G_0 + x*G_1 + G_2 (shared, one of them as a constant run) minus the same, own.
  auto good = [&](VerificationTerms& t) {
    t.begin_entry();
    const std::vector<Scalar> c = {x, x};
    t.add_shared(std::span<const Point>(gens).first(2), c);
    t.add_shared_constant(std::span<const Point>(gens).subspan(2), Scalar::one());
    t.add(-x, gens[0] + gens[1]);
    t.add(-Scalar::one(), gens[2]);
  };
  auto bad = [&](VerificationTerms& t) {
    t.begin_entry();
    t.add_shared(gens[0], x);
    t.add(-x, gens[1]);
  };
  VerificationTerms first, second, all;
  good(first);
  bad(first);
  good(second);
  second.begin_entry();
  second.refuse(Status::invalid_proof("malformed"));
  good(second);
  all.append_entries(first);
  all.append_entries(second);
  ASSERT_EQ(all.num_entries(), 5u);
  EXPECT_FALSE(all.is_identity_var());
  EXPECT_EQ(all.failing_entries_var(), (std::vector<std::size_t>{1, 3}));
  EXPECT_NE(all.first_refusal().message().find("malformed"), std::string_view::npos);
  EXPECT_EQ(all.size(), 3u + 3u + 2u + 2u);  // three shared points, each entry's own terms

  VerificationTerms goods;
  VerificationTerms part;
  good(part);
  good(part);
  goods.append_entries(part);
  goods.append_entries(part);
  EXPECT_EQ(goods.num_entries(), 4u);
  EXPECT_TRUE(goods.is_identity_var());
}

}  // namespace
}  // namespace pfex::crypto
