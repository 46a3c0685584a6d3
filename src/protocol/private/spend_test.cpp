#include "protocol/private/spend.hpp"

#include <gtest/gtest.h>

#include "protocol/private/test_util.hpp"

namespace pfex::priv {
namespace {

using testing::gens;
using testing::small_terms;

TEST(Constraints, LinearFormsMatchTheDesignFormulas) {
  const MarketTerms t = small_terms();
  Attributes a;
  a.c = 50'000;
  a.vp = 3;
  a.vm = 0;
  a.B = 4;
  a.S = 2;
  a.QB = std::uint64_t{4} * 95;
  a.QS = std::uint64_t{2} * 105;
  const i128 v = i128{a.vp} - i128{a.vm};
  const i128 k = t.tick_value, f = t.fee, M = t.margin, L = t.low, H = t.high;
  const i128 B = a.B, S = a.S;
  const i128 e_low = a.c - i128{a.QB} * k - f * (B + S) + (v + B) * L * k - M * (a.vp + B);
  const i128 e_high = a.c + i128{a.QS} * k - f * (B + S) + (v - S) * H * k - M * (a.vm + S);
  const ConstraintValues e = constraint_values(a, t);
  EXPECT_TRUE(e.low == e_low);
  EXPECT_TRUE(e.high == e_high);
}

TEST(Constraints, WalletCheckSaysWhichConstraintAndByHowMuch) {
  const MarketTerms t = small_terms();
  Attributes a;
  a.B = 1;
  a.QB = 100;
  // E_L = c - 100*10 - 2 + 90*10 - 130 = c - 232; E_H = c - 2.
  a.c = 231;
  Status s = check_solvency(a, t);
  EXPECT_EQ(s.code(), ErrorCode::kInsolvent);
  EXPECT_NE(s.message().find("E_L short by 1"), std::string_view::npos) << s.to_string();
  a.c = 232;
  EXPECT_TRUE(check_solvency(a, t).is_ok());
  // E_H: a sell of 1 at 90: E_H = c + 900 - 2 - 1100 - 130 = c - 332.
  Attributes b;
  b.S = 1;
  b.QS = 90;
  b.c = 331;
  s = check_solvency(b, t);
  EXPECT_NE(s.message().find("E_H short by 1"), std::string_view::npos) << s.to_string();
  // 2^64 is out of range: c is int64, so reach it through QS.
  Attributes big;
  big.c = INT64_MAX;
  big.QS = (std::uint64_t{1} << 62);
  EXPECT_EQ(check_solvency(big, t).code(), ErrorCode::kOverflow);
}

TEST(Deltas, FollowTheTable) {
  const MarketTerms t = small_terms();
  Deltas d;
  ASSERT_TRUE(add_post(d, Side::kBuy, 95, 4).is_ok());
  EXPECT_EQ(d, (Deltas{0, 0, 0, 4, 0, 380, 0}));
  ASSERT_TRUE(add_claim(d, Side::kBuy, 95, 3, std::int64_t{3} * 93, t).is_ok());
  EXPECT_EQ(d, (Deltas{-10 * 279 - 2 * 3, 3, 0, 1, 0, 380 - 285, 0}));
  ASSERT_TRUE(add_release(d, Side::kBuy, 95, 1).is_ok());
  EXPECT_EQ(d, (Deltas{-2796, 3, 0, 0, 0, 0, 0}));
  Deltas s;
  ASSERT_TRUE(add_post(s, Side::kSell, 105, 2).is_ok());
  ASSERT_TRUE(add_claim(s, Side::kSell, 105, 2, std::int64_t{2} * 106, t).is_ok());
  EXPECT_EQ(s, (Deltas{2120 - 4, 0, 2, 0, 0, 0, 0}));
  Deltas o;
  EXPECT_EQ(add_post(o, Side::kBuy, INT64_MAX, 2).code(), ErrorCode::kOverflow);
  EXPECT_EQ(o, Deltas{});  // unchanged
}

TEST(Deltas, NextAttributesStayInRangeAndSplitCanonically) {
  Attributes a;
  a.vp = 5;
  a.B = 3;
  Deltas d;
  d.vm = 7;
  d.B = -3;
  std::uint64_t t = 0;
  auto next = next_attributes(a, d, &t);
  ASSERT_TRUE(next.is_ok());
  EXPECT_EQ(next->vp, 0u);
  EXPECT_EQ(next->vm, 2u);
  EXPECT_EQ(t, 5u);
  // B at 2^64 - 1 is fine, at 2^64 it is refused; below 0 too.
  a.B = UINT64_MAX - 1;
  d = Deltas{};
  d.B = 1;
  EXPECT_TRUE(next_attributes(a, d, &t).is_ok());
  d.B = 2;
  EXPECT_EQ(next_attributes(a, d, &t).status().code(), ErrorCode::kOverflow);
  a.B = 0;
  d.B = -1;
  EXPECT_EQ(next_attributes(a, d, &t).status().code(), ErrorCode::kOverflow);
}

// A standalone spend over a window of 8 random tokens with ours at `index`.
struct SpendFixture : ::testing::Test {
  MarketTerms terms = small_terms();
  TokenOpening token;
  std::vector<Point> list;
  std::size_t index = 5;
  std::optional<crypto::OneOfManySet> set;
  TagOpening tag = TagOpening::random();

  void SetUp() override {
    token.r = Scalar::random();
    token.kappa = Scalar::random();
    token.sn = random_nonzero_scalar();
    token.a.c = 100'000;
    for (std::size_t i = 0; i < 8; ++i)
      list.push_back(i == index ? token.commit(gens()) : Point::random());
    set = *crypto::OneOfManySet::create(list);
  }
  Deltas post_deltas() const {
    Deltas d;
    EXPECT_TRUE(add_post(d, Side::kBuy, 100, 10).is_ok());
    return d;
  }
  std::vector<Point> tags() const { return {tag.commit(gens(), token.kappa)}; }
  crypto::Transcript transcript() const { return crypto::Transcript("pfex/v1/test"); }
};

TEST_F(SpendFixture, ProvesAndVerifies) {
  const Deltas d = post_deltas();
  auto p = prepare_spend(gens(), terms, token, {1, 0, 8}, d);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  auto t = transcript();
  const std::vector<TagOpening> openings = {tag};
  auto proofs = prove_spend(gens(), terms, *p, *set, index, tags(), openings, t);
  ASSERT_TRUE(proofs.is_ok()) << proofs.status().to_string();
  auto tv = transcript();
  EXPECT_TRUE(verify_spend(gens(), terms, p->pub(), d, tags(), *set, *proofs, tv).is_ok());
  EXPECT_EQ(p->next().a.B, 10u);
  EXPECT_EQ(p->next().a.QB, 1000u);
  EXPECT_EQ(p->next().kappa, token.kappa);

  // Another verifier context: other deltas, another tag, another transcript, another set.
  Deltas other = d;
  other.B += 1;
  auto t2 = transcript();
  EXPECT_EQ(verify_spend(gens(), terms, p->pub(), other, tags(), *set, *proofs, t2).code(),
            ErrorCode::kInvalidProof);
  auto t3 = transcript();
  const std::vector<Point> foreign = {TagOpening::random().commit(gens(), Scalar::random())};
  EXPECT_EQ(verify_spend(gens(), terms, p->pub(), d, foreign, *set, *proofs, t3).code(),
            ErrorCode::kInvalidProof);
  crypto::Transcript t4("pfex/v1/other");
  EXPECT_EQ(verify_spend(gens(), terms, p->pub(), d, tags(), *set, *proofs, t4).code(),
            ErrorCode::kInvalidProof);
  auto moved = list;
  moved[index] = Point::random();
  auto other_set = *crypto::OneOfManySet::create(moved);
  auto t5 = transcript();
  Status s = verify_spend(gens(), terms, p->pub(), d, tags(), other_set, *proofs, t5);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidProof);
  EXPECT_NE(s.message().find("membership"), std::string_view::npos) << s.to_string();
  // Fields swapped between value commitments (V_B and V_S).
  SpendPublic swapped = p->pub();
  std::swap(swapped.V[SpendPublic::kB], swapped.V[SpendPublic::kS]);
  auto t6 = transcript();
  EXPECT_EQ(verify_spend(gens(), terms, swapped, d, tags(), *set, *proofs, t6).code(),
            ErrorCode::kInvalidProof);
}

TEST_F(SpendFixture, HiddenSerialComponentInCStarIsRefused) {
  const Deltas d = post_deltas();
  auto p = prepare_spend(gens(), terms, token, {1, 0, 8}, d);
  ASSERT_TRUE(p.is_ok());
  // Honest spend first.
  auto t = transcript();
  const std::vector<TagOpening> openings = {tag};
  auto honest = prove_spend(gens(), terms, *p, *set, index, tags(), openings, t);
  ASSERT_TRUE(honest.is_ok());
  // The cheater re-spends the same token revealing sn - s with s*G_sn hidden in C*.
  PreparedSpend cheat = *p;
  detail::hide_serial_component(cheat, gens(), Scalar::random());
  EXPECT_NE(cheat.pub().serial, p->pub().serial);
  auto tc = transcript();
  auto forged = prove_spend(gens(), terms, cheat, *set, index, tags(), openings, tc);
  ASSERT_FALSE(forged.is_ok());
  EXPECT_EQ(forged.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(forged.status().message().find("linear"), std::string_view::npos)
      << forged.status().to_string();
  // Its public fields with the honest proofs do not verify either.
  auto tv = transcript();
  EXPECT_EQ(verify_spend(gens(), terms, cheat.pub(), d, tags(), *set, *honest, tv).code(),
            ErrorCode::kInvalidProof);
}

TEST_F(SpendFixture, TagOfAnotherChainKeyIsRefused) {
  const Deltas d = post_deltas();
  auto p = prepare_spend(gens(), terms, token, {1, 0, 8}, d);
  ASSERT_TRUE(p.is_ok());
  // The tag was made with another kappa: knowing its o and rho is not enough.
  const std::vector<Point> foreign = {tag.commit(gens(), Scalar::random())};
  const std::vector<TagOpening> openings = {tag};
  auto t = transcript();
  auto proofs = prove_spend(gens(), terms, *p, *set, index, foreign, openings, t);
  EXPECT_EQ(proofs.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(SpendFixture, InsolventActionIsRefusedAndAHandcraftedProofFails) {
  token.a.c = 1000;  // too little for 10 at 100: E_L = 1000 - 10000 - 20 + 9000 - 1300 < 0
  list[index] = token.commit(gens());
  set = *crypto::OneOfManySet::create(list);
  const Deltas d = post_deltas();
  auto refused = prepare_spend(gens(), terms, token, {1, 0, 8}, d);
  ASSERT_EQ(refused.status().code(), ErrorCode::kInsolvent);
  EXPECT_NE(refused.status().message().find("E_L short by 1320"), std::string_view::npos)
      << refused.status().to_string();

  auto p = detail::prepare_spend_unchecked(gens(), terms, token, {1, 0, 8}, d);
  ASSERT_TRUE(p.is_ok());
  auto t = transcript();
  const std::vector<TagOpening> openings = {tag};
  auto proofs = prove_spend(gens(), terms, *p, *set, index, tags(), openings, t);
  ASSERT_TRUE(proofs.is_ok());  // the range proof is of the wrapped value, not of V_EL's
  auto tv = transcript();
  Status s = verify_spend(gens(), terms, p->pub(), d, tags(), *set, *proofs, tv);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidProof);
  EXPECT_NE(s.message().find("range"), std::string_view::npos) << s.to_string();
}

TEST_F(SpendFixture, WrongIndexIsRefused) {
  const Deltas d = post_deltas();
  auto p = prepare_spend(gens(), terms, token, {1, 0, 8}, d);
  ASSERT_TRUE(p.is_ok());
  auto t = transcript();
  const std::vector<TagOpening> openings = {tag};
  EXPECT_EQ(prove_spend(gens(), terms, *p, *set, index - 1, tags(), openings, t).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace pfex::priv
