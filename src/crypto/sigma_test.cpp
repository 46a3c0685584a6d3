#include "crypto/sigma.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/generators.hpp"
#include "crypto/pedersen.hpp"

namespace pfex::crypto {
namespace {

// A random statement with `witnesses` witnesses over `bases` generators and `relations` relations,
// each relation with 1..4 terms with random coefficients, and the witnesses that satisfy it.
struct Instance {
  LinearStatement statement;
  std::vector<Scalar> witnesses;
};

Instance random_instance(std::size_t witnesses, std::size_t bases, std::size_t relations,
                         std::uint32_t seed) {
  Instance inst{LinearStatement(witnesses), {}};
  for (std::size_t i = 0; i < witnesses; ++i)
    inst.witnesses.push_back(Scalar::random());
  for (std::size_t b = 0; b < bases; ++b)
    inst.statement.add_base(derive_generator("test/sigma", static_cast<std::uint32_t>(b)));
  std::uint32_t state = seed;
  auto next = [&state](std::size_t mod) {
    state = state * 1664525u + 1013904223u;
    return static_cast<std::size_t>(state >> 8) % mod;
  };
  // Build the relations' terms first, then their left-hand sides from the witnesses.
  std::vector<std::vector<LinearStatement::Term>> terms(relations);
  for (auto& rel : terms) {
    const std::size_t count = 1 + next(4);
    for (std::size_t k = 0; k < count; ++k) {
      const Scalar a = next(3) == 0 ? Scalar::one() : Scalar::random();
      rel.push_back({static_cast<std::uint32_t>(next(witnesses)),
                     static_cast<std::uint32_t>(next(bases)), a});
    }
  }
  for (const auto& rel : terms) {
    Point P;
    for (const auto& term : rel)
      P += (term.coefficient * inst.witnesses[term.witness]) * inst.statement.base(term.base);
    const std::size_t j = inst.statement.add_relation(P);
    for (const auto& term : rel)
      EXPECT_TRUE(inst.statement.add_term(j, term.witness, term.base, term.coefficient).is_ok());
  }
  return inst;
}

Bytes encode(const LinearProof& p) {
  Bytes out;
  Writer w(&out);
  p.encode(w);
  return out;
}

Result<LinearProof> decode(ByteSpan bytes, const LinearStatement& s) {
  Reader r(bytes);
  auto p = LinearProof::decode(r, s);
  if (!p.is_ok()) return p.status();
  PFEX_RETURN_IF_ERROR(r.finish());
  return p;
}

LinearProof prove(const Instance& inst, std::string_view domain = "pfex/v1/test") {
  Transcript t(domain);
  auto p = prove_linear(inst.statement, inst.witnesses, t);
  EXPECT_TRUE(p.is_ok()) << p.status().to_string();
  return *p;
}

Status verify(const LinearStatement& s, const LinearProof& p,
              std::string_view domain = "pfex/v1/test") {
  Transcript t(domain);
  return verify_linear(s, p, t);
}

TEST(LinearProof, CompletenessOnRandomStatements) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    const std::size_t m = 1 + seed % 10, bases = 1 + seed % 6, relations = 1 + seed % 8;
    const Instance inst = random_instance(m, bases, relations, seed);
    const LinearProof p = prove(inst);
    EXPECT_EQ(p.encoded_size(), 32 * (m + relations));
    EXPECT_TRUE(verify(inst.statement, p).is_ok()) << "seed " << seed;
    auto round = decode(encode(p), inst.statement);
    ASSERT_TRUE(round.is_ok()) << round.status().to_string();
    EXPECT_TRUE(verify(inst.statement, *round).is_ok());
  }
}

TEST(LinearProof, ProverAndVerifierTranscriptsStayInStep) {
  // Two proofs in one transcript, verified in the same order: the second depends on the first.
  const Instance a = random_instance(3, 3, 2, 7);
  const Instance b = random_instance(2, 2, 2, 8);
  Transcript tp("pfex/v1/test");
  auto pa = prove_linear(a.statement, a.witnesses, tp);
  auto pb = prove_linear(b.statement, b.witnesses, tp);
  ASSERT_TRUE(pa.is_ok() && pb.is_ok());
  Transcript tv("pfex/v1/test");
  EXPECT_TRUE(verify_linear(a.statement, *pa, tv).is_ok());
  EXPECT_TRUE(verify_linear(b.statement, *pb, tv).is_ok());
  // b's proof alone, without a's history, fails.
  EXPECT_EQ(verify(b.statement, *pb).code(), ErrorCode::kInvalidProof);
  EXPECT_EQ(tp.challenge_scalar("next"), tv.challenge_scalar("next"));
}

TEST(LinearProof, ProverRefusesFalseStatementsAndWrongSizes) {
  Instance inst = random_instance(4, 3, 3, 3);
  std::vector<Scalar> wrong = inst.witnesses;
  wrong[0] += Scalar::one();
  // Witness 0 may appear in no relation for this seed; find one that it changes.
  Transcript t("pfex/v1/test");
  bool used = false;
  for (std::size_t j = 0; j < inst.statement.num_relations(); ++j)
    for (const auto& term : inst.statement.terms(j))
      used |= term.witness == 0;
  if (used) {
    auto p = prove_linear(inst.statement, wrong, t);
    ASSERT_FALSE(p.is_ok());
    EXPECT_EQ(p.status().code(), ErrorCode::kInvalidArgument);
  }
  auto short_w = prove_linear(inst.statement, std::span(inst.witnesses).first(3), t);
  EXPECT_EQ(short_w.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(inst.statement.add_term(9, 0, 0).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(inst.statement.add_term(0, 4, 0).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(inst.statement.add_term(0, 0, 3).code(), ErrorCode::kInvalidArgument);
}

TEST(LinearProof, EverySingleByteFlipIsRejected) {
  const Instance inst = random_instance(3, 4, 3, 11);
  const Bytes good = encode(prove(inst));
  for (std::size_t k = 0; k < good.size(); ++k) {
    for (const std::uint8_t bit : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      Bytes bad = good;
      bad[k] ^= bit;
      auto p = decode(bad, inst.statement);
      if (!p.is_ok()) continue;  // non-canonical after the flip: rejected at decoding
      EXPECT_EQ(verify(inst.statement, *p).code(), ErrorCode::kInvalidProof) << "byte " << k;
    }
  }
}

TEST(LinearProof, EveryPublicInputIsBound) {
  const Instance inst = random_instance(4, 3, 3, 5);
  const LinearProof p = prove(inst);
  ASSERT_TRUE(verify(inst.statement, p).is_ok());
  EXPECT_EQ(verify(inst.statement, p, "pfex/v1/other").code(), ErrorCode::kInvalidProof);

  // Copies of the statement with one thing changed at a time.
  const LinearStatement& st = inst.statement;
  const auto same_base = [&](std::size_t b) { return st.base(b); };
  const auto same_lhs = [&](std::size_t j) { return st.lhs(j); };
  const auto same_coef = [](const Scalar& a) { return a; };
  auto copy = [&](auto&& base, auto&& lhs, auto&& coef) {
    LinearStatement c(st.num_witnesses());
    for (std::size_t b = 0; b < st.num_bases(); ++b)
      c.add_base(base(b));
    for (std::size_t j = 0; j < st.num_relations(); ++j) {
      c.add_relation(lhs(j));
      for (const auto& term : st.terms(j))
        EXPECT_TRUE(c.add_term(j, term.witness, term.base, coef(term.coefficient)).is_ok());
    }
    return c;
  };
  EXPECT_TRUE(verify(copy(same_base, same_lhs, same_coef), p).is_ok());
  // Another left-hand side.
  const auto moved_lhs = [&](std::size_t j) {
    return j == 1 ? st.lhs(j) + Point::base() : st.lhs(j);
  };
  EXPECT_EQ(verify(copy(same_base, moved_lhs, same_coef), p).code(), ErrorCode::kInvalidProof);
  // One more term on an existing relation.
  LinearStatement extra = copy(same_base, same_lhs, same_coef);
  ASSERT_TRUE(extra.add_term(0, 1, 2).is_ok());
  EXPECT_EQ(verify(extra, p).code(), ErrorCode::kInvalidProof);
  // Another base: the same generators under another label.
  const auto other_base = [](std::size_t b) {
    return derive_generator("test/sigma2", static_cast<std::uint32_t>(b));
  };
  EXPECT_EQ(verify(copy(other_base, same_lhs, same_coef), p).code(), ErrorCode::kInvalidProof);
  // Another coefficient.
  const auto other_coef = [](const Scalar& a) { return a + Scalar::one(); };
  EXPECT_EQ(verify(copy(same_base, same_lhs, other_coef), p).code(), ErrorCode::kInvalidProof);
  // Sizes that do not match the statement.
  const LinearProof short_proof({p.A().begin(), p.A().end() - 1}, p.z());
  EXPECT_EQ(verify(inst.statement, short_proof).code(), ErrorCode::kInvalidArgument);
}

TEST(LinearProof, ASimulatedProofWithAGuessedChallengeFails) {
  // The honest-verifier simulator: choose z and c, set A_j = sum a z_i X_b - c P_j. It satisfies
  // the verification equation for c, but Fiat-Shamir derives c from A, so the check fails.
  const Instance inst = random_instance(3, 3, 2, 9);
  const Scalar c = Scalar::random();
  std::vector<Scalar> z;
  z.reserve(3);
  for (int i = 0; i < 3; ++i)
    z.push_back(Scalar::random());
  std::vector<Point> A;
  for (std::size_t j = 0; j < inst.statement.num_relations(); ++j) {
    Point sum = -(c * inst.statement.lhs(j));
    for (const auto& term : inst.statement.terms(j))
      sum += (term.coefficient * z[term.witness]) * inst.statement.base(term.base);
    A.push_back(sum);
  }
  EXPECT_EQ(verify(inst.statement, LinearProof(A, z)).code(), ErrorCode::kInvalidProof);
}

TEST(LinearProof, DecodingIsStrict) {
  const Instance inst = random_instance(2, 2, 2, 4);
  const Bytes good = encode(prove(inst));
  ASSERT_EQ(good.size(), 128u);
  EXPECT_FALSE(decode(ByteSpan(good).first(good.size() - 1), inst.statement).is_ok());
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_FALSE(decode(trailing, inst.statement).is_ok());
  Bytes big_scalar = good;  // z_1 = l + z_1 is not canonical: set its top byte to 0xff
  big_scalar[127] = 0xff;
  EXPECT_EQ(decode(big_scalar, inst.statement).status().code(), ErrorCode::kInvalidArgument);
  Bytes bad_point = good;  // an odd (negative) field element is never a canonical encoding
  bad_point[0] |= 1;
  EXPECT_FALSE(decode(bad_point, inst.statement).is_ok());
}

TEST(LinearProof, OneMsmChecksManyStatementsAndAnyBadOneFailsIt) {
  std::vector<Instance> instances;
  std::vector<LinearProof> proofs;
  for (std::uint32_t seed = 1; seed <= 16; ++seed) {
    instances.push_back(random_instance(10, 6, 8, seed));
    proofs.push_back(prove(instances.back()));
  }
  auto batch = [&](std::size_t bad) {
    VerificationTerms terms;
    for (std::size_t k = 0; k < proofs.size(); ++k) {
      Transcript t("pfex/v1/test");
      LinearProof p = proofs[k];
      if (k == bad) {
        std::vector<Point> A = p.A();  // every relation's commitment is checked
        A[5] += Point::base();
        p = LinearProof(A, p.z());
      }
      EXPECT_TRUE(
          append_linear_verification_terms(instances[k].statement, p, t, Scalar::random(), terms)
              .is_ok());
    }
    return terms.is_identity_var();
  };
  EXPECT_TRUE(batch(proofs.size()));
  for (std::size_t bad : {std::size_t{0}, std::size_t{7}, std::size_t{15}})
    EXPECT_FALSE(batch(bad)) << bad;
}

// A caller that drops append_linear_verification_terms()'s status still gets a failing check: a
// proof whose sizes do not match its statement refuses its entry (it used to add nothing, so the
// terms held).
TEST(LinearProof, AppendVerificationTermsFailsClosed) {
  const Instance inst = random_instance(4, 3, 3, 5);
  const LinearProof good = prove(inst);
  VerificationTerms terms;
  Transcript t("pfex/v1/test");
  ASSERT_TRUE(
      append_linear_verification_terms(inst.statement, good, t, Scalar::random(), terms).is_ok());
  EXPECT_TRUE(terms.is_identity_var());
  terms.begin_entry();
  const LinearProof malformed({}, good.z());
  Transcript t2("pfex/v1/test");
  (void)append_linear_verification_terms(inst.statement, malformed, t2, Scalar::random(), terms);
  EXPECT_FALSE(terms.is_identity_var());
  EXPECT_EQ(terms.failing_entries_var(), std::vector<std::size_t>{1});
}

TEST(LinearProof, BatchVerificationNamesEveryBadProof) {
  std::vector<Instance> instances;
  std::vector<LinearProof> proofs;
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    instances.push_back(random_instance(4, 3, 3, seed));
    proofs.push_back(prove(instances.back()));
  }
  const Transcript start("pfex/v1/test");
  auto run = [&](const std::vector<LinearProof>& ps, std::vector<std::size_t>* bad) {
    std::vector<LinearBatchItem> items;
    for (std::size_t k = 0; k < ps.size(); ++k)
      items.push_back({&instances[k].statement, &ps[k], &start});
    return verify_linear_batch(items, bad);
  };
  std::vector<std::size_t> bad;
  EXPECT_TRUE(run(proofs, &bad).is_ok());
  EXPECT_TRUE(bad.empty());
  std::vector<LinearProof> tampered = proofs;
  for (std::size_t k : {std::size_t{3}, std::size_t{4}, std::size_t{19}}) {
    std::vector<Point> A = tampered[k].A();
    A[0] += Point::base();
    tampered[k] = LinearProof(A, tampered[k].z());
  }
  tampered[11] = LinearProof({}, tampered[11].z());  // malformed: no commitments
  const Status s = run(tampered, &bad);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidProof);
  EXPECT_EQ(bad, (std::vector<std::size_t>{3, 4, 11, 19}));
  EXPECT_NE(s.message().find("proofs 3, 4, 11, 19 do not verify"), std::string_view::npos)
      << s.to_string();
}

// docs/design.md section 5: "C* opens over every generator except G_sn". A C* that keeps a serial
// component s*G_sn cannot be proved to open over the other generators, neither by the honest
// prover nor by a prover that slips G_sn into its own copy of the statement.
TEST(LinearProof, SpentTokenWithAHiddenSerialComponentIsRejected) {
  const Point H = blinding_generator();
  const Point G_kappa = derive_generator("token/kappa", 0);
  const Point G_c = derive_generator("token/c", 0);
  const Point G_sn = derive_generator("token/sn", 0);
  const Scalar r = Scalar::random(), kappa = Scalar::random(), c = Scalar::from_u64(5000);
  const Scalar hidden_sn = Scalar::random();

  auto statement = [&](const Point& c_star, bool with_sn) {
    LinearStatement s(with_sn ? 4 : 3);
    const std::size_t bh = s.add_base(H), bk = s.add_base(G_kappa), bc = s.add_base(G_c);
    const std::size_t j = s.add_relation(c_star);
    EXPECT_TRUE(s.add_term(j, 0, bh).is_ok());
    EXPECT_TRUE(s.add_term(j, 1, bk).is_ok());
    EXPECT_TRUE(s.add_term(j, 2, bc).is_ok());
    if (with_sn) {
      EXPECT_TRUE(s.add_term(j, 3, s.add_base(G_sn)).is_ok());
    }
    return s;
  };
  const Point honest = r * H + kappa * G_kappa + c * G_c;
  const Point cheating = honest + hidden_sn * G_sn;
  const std::vector<Scalar> w = {r, kappa, c};

  Transcript t1("pfex/v1/test");
  auto ok = prove_linear(statement(honest, false), w, t1);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_TRUE(verify(statement(honest, false), *ok).is_ok());

  Transcript t2("pfex/v1/test");
  EXPECT_EQ(prove_linear(statement(cheating, false), w, t2).status().code(),
            ErrorCode::kInvalidArgument);

  Transcript t3("pfex/v1/test");
  const std::vector<Scalar> w4 = {r, kappa, c, hidden_sn};
  auto forged = prove_linear(statement(cheating, true), w4, t3);
  ASSERT_TRUE(forged.is_ok());
  EXPECT_TRUE(verify(statement(cheating, true), *forged).is_ok());
  // Verified against the real statement (three witnesses, no G_sn): wrong size, and with the
  // extra response dropped, an invalid proof.
  EXPECT_EQ(verify(statement(cheating, false), *forged).code(), ErrorCode::kInvalidArgument);
  const LinearProof trimmed(forged->A(), {forged->z().begin(), forged->z().begin() + 3});
  EXPECT_EQ(verify(statement(cheating, false), trimmed).code(), ErrorCode::kInvalidProof);
}

}  // namespace
}  // namespace pfex::crypto
