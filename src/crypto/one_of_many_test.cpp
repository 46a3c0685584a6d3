#include "crypto/one_of_many.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <vector>

#include "crypto/pedersen.hpp"
#include "crypto/test_util.hpp"

namespace pfex::crypto {
namespace {

using testing::random_points;

constexpr std::string_view kDomain = "pfex/v1/test";

// A true statement: random set points, C_index = O + r*H for a random offset O.
struct Statement {
  OneOfManySet set;
  Point offset;
  std::size_t index;
  Scalar r;
};

Statement make_statement(std::vector<Point> points, std::size_t index) {
  const Scalar r = Scalar::random();
  const Point offset = points[index] - r * blinding_generator();
  auto set = OneOfManySet::create(std::move(points));
  EXPECT_TRUE(set.is_ok()) << set.status().to_string();
  return Statement{std::move(set).value(), offset, index, r};
}

Statement make_statement(std::size_t n, std::size_t index) {
  return make_statement(random_points(std::size_t{1} << n), index);
}

// A transcript that has absorbed something before the proof, as a transaction's does.
Transcript prefixed_transcript(std::string_view domain = kDomain, std::uint64_t tx = 7) {
  Transcript t(domain);
  t.append_u64("tx", tx);
  return t;
}

OneOfManyProof prove(const OneOfManyGens& gens, const Statement& s) {
  Transcript t = prefixed_transcript();
  auto proof = OneOfManyProof::prove(gens, t, s.set, s.offset, s.index, s.r);
  EXPECT_TRUE(proof.is_ok()) << proof.status().to_string();
  return std::move(proof).value();
}

Status verify(const OneOfManyGens& gens, const OneOfManyProof& proof, const OneOfManySet& set,
              const Point& offset) {
  Transcript t = prefixed_transcript();
  return proof.verify(gens, t, set, offset);
}

const OneOfManyGens& gens() {
  static const OneOfManyGens g;
  return g;
}

TEST(OneOfManyGens, AreDerivedFromTheirLabel) {
  EXPECT_EQ(gens().label(), kOneOfManyGeneratorLabel);
  ASSERT_EQ(gens().E().size(), kOneOfManyMaxLogSize);
  for (std::uint32_t j = 0; j < kOneOfManyMaxLogSize; ++j)
    EXPECT_EQ(gens().E()[j], derive_generator("one-of-many/E", j));
  EXPECT_EQ(gens().H(), blinding_generator());
}

TEST(OneOfManySet, SizeMustBeAPowerOfTwoInRange) {
  for (std::size_t count : {0u, 1u, 3u, 5u, 6u, 7u, 12u, 1000u}) {
    auto set = OneOfManySet::create(random_points(count));
    ASSERT_FALSE(set.is_ok()) << count;
    EXPECT_EQ(set.status().code(), ErrorCode::kInvalidArgument);
  }
  for (std::size_t n = 1; n <= 6; ++n) {
    auto set = OneOfManySet::create(random_points(std::size_t{1} << n));
    ASSERT_TRUE(set.is_ok());
    EXPECT_EQ(set->log_size(), n);
    EXPECT_EQ(set->size(), std::size_t{1} << n);
  }
}

TEST(OneOfManySet, DigestBindsEveryPointAndTheOrder) {
  const std::vector<Point> points = random_points(8);
  const auto digest = OneOfManySet::create(points)->digest();
  EXPECT_EQ(OneOfManySet::create(points)->digest(), digest);
  for (std::size_t i = 0; i < points.size(); ++i) {
    std::vector<Point> changed = points;
    changed[i] = Point::random();
    EXPECT_NE(OneOfManySet::create(changed)->digest(), digest) << i;
  }
  std::vector<Point> swapped = points;
  std::swap(swapped[2], swapped[5]);
  EXPECT_NE(OneOfManySet::create(swapped)->digest(), digest);
}

TEST(OneOfManySet, DigestFromEncodingsIsTheSetsDigest) {
  const std::vector<Point> points = random_points(16);
  std::vector<Point::Encoding> encodings;
  encodings.reserve(points.size());
  for (const Point& p : points)
    encodings.push_back(p.encode());
  const Digest32 digest = one_of_many_set_digest(
      points.size(), [&](std::size_t i) -> const Point::Encoding& { return encodings[i]; });
  EXPECT_EQ(digest, OneOfManySet::create(points)->digest());
}

// The unplaced form: the set's coefficients come back to the caller, who may put the points
// anywhere (here, inside a longer run with another proof's set): the same verdicts.
TEST(OneOfManyProof, UnplacedTermsVerifyWhereverTheCallerPutsThePoints) {
  std::vector<Point> run = random_points(12);
  const std::vector<Point> first(run.begin(), run.begin() + 8);
  const std::vector<Point> second(run.begin() + 4, run.end());
  const Statement a = make_statement(first, 5);
  const Statement b = make_statement(second, 1);  // run[5] too: the sets overlap
  const OneOfManyProof pa = prove(gens(), a);
  const OneOfManyProof pb = prove(gens(), b);
  auto append = [&](VerificationTerms& terms, const OneOfManyProof& p, const Statement& s,
                    std::size_t at) {
    terms.begin_entry();
    Transcript t = prefixed_transcript();
    std::vector<Scalar> coefficients;
    ASSERT_TRUE(p.append_verification_terms_unplaced(gens(), t, s.set.log_size(), s.set.digest(),
                                                     s.offset, Scalar::random(), terms,
                                                     coefficients)
                    .is_ok());
    ASSERT_EQ(coefficients.size(), 8u);
    std::span<Scalar> slots = terms.add_shared_slots(std::span<const Point>(run).first(at + 8));
    std::copy(coefficients.begin(), coefficients.end(),
              slots.begin() + static_cast<std::ptrdiff_t>(at));
  };
  VerificationTerms terms;
  append(terms, pa, a, 0);
  append(terms, pb, b, 4);
  EXPECT_TRUE(terms.is_identity_var());
  VerificationTerms shifted;  // b's points placed one off: b fails, a still holds
  append(shifted, pa, a, 0);
  append(shifted, pb, b, 3);
  EXPECT_EQ(shifted.failing_entries_var(), std::vector<std::size_t>{1});
  // A proof for another set size is refused (the entry fails closed).
  VerificationTerms wrong;
  Transcript t = prefixed_transcript();
  std::vector<Scalar> coefficients;
  EXPECT_EQ(pa.append_verification_terms_unplaced(gens(), t, 4, a.set.digest(), a.offset,
                                                  Scalar::one(), wrong, coefficients)
                .code(),
            ErrorCode::kInvalidProof);
  EXPECT_TRUE(wrong.any_refused());
}

// The verifier's weights w, u, v are derived from the proof's bytes and the caller's weight: a
// false statement appended twice gives the same terms, so one copy cancels the other.
TEST(OneOfManyProof, VerifierWeightsAreAFunctionOfTheBytes) {
  const Statement s = make_statement(3, 5);
  const OneOfManyProof p = prove(gens(), s);
  const Point wrong = s.offset + Point::base();  // the membership equation fails
  const Scalar weight = Scalar::from_u64(3);
  VerificationTerms first, second;
  Transcript t1 = prefixed_transcript(), t2 = prefixed_transcript();
  ASSERT_TRUE(p.append_verification_terms(gens(), t1, s.set, wrong, weight, first).is_ok());
  ASSERT_TRUE(p.append_verification_terms(gens(), t2, s.set, wrong, weight, second).is_ok());
  EXPECT_FALSE(first.is_identity_var());
  first.append_weighted(second, -Scalar::one());
  EXPECT_TRUE(first.is_identity_var());
}

TEST(OneOfManyProof, CompleteForEveryIndexOfSmallSets) {
  for (std::size_t n = 1; n <= 3; ++n) {
    const std::vector<Point> points = random_points(std::size_t{1} << n);
    for (std::size_t index = 0; index < points.size(); ++index) {
      const Statement s = make_statement(points, index);
      const OneOfManyProof proof = prove(gens(), s);
      EXPECT_TRUE(verify(gens(), proof, s.set, s.offset).is_ok()) << n << " " << index;
    }
  }
}

TEST(OneOfManyProof, CompleteUpToN1024AtFirstLastAndRandomIndices) {
  std::mt19937_64 rng(42);
  for (std::size_t n = 1; n <= 10; ++n) {
    const std::size_t N = std::size_t{1} << n;
    const std::vector<Point> points = random_points(N);
    for (std::size_t index : {std::size_t{0}, N - 1, static_cast<std::size_t>(rng() % N)}) {
      const Statement s = make_statement(points, index);
      const OneOfManyProof proof = prove(gens(), s);
      EXPECT_EQ(proof.log_size(), n);
      EXPECT_EQ(proof.encode().size(), OneOfManyProof::encoded_size(n));
      EXPECT_TRUE(verify(gens(), proof, s.set, s.offset).is_ok()) << n << " " << index;
    }
  }
}

TEST(OneOfManyProof, CompleteAtN4096) {
  const Statement s = make_statement(12, 3001);
  const OneOfManyProof proof = prove(gens(), s);
  EXPECT_TRUE(verify(gens(), proof, s.set, s.offset).is_ok());
}

// The prover and the verifier leave the transcript in the same state, so the next proof of a
// transaction sees the same challenges.
TEST(OneOfManyProof, ProverAndVerifierTranscriptsStayInStep) {
  const Statement s = make_statement(3, 5);
  Transcript tp = prefixed_transcript();
  auto proof = OneOfManyProof::prove(gens(), tp, s.set, s.offset, s.index, s.r);
  ASSERT_TRUE(proof.is_ok());
  Transcript tv = prefixed_transcript();
  ASSERT_TRUE(proof->verify(gens(), tv, s.set, s.offset).is_ok());
  EXPECT_EQ(tp.challenge_scalar("next"), tv.challenge_scalar("next"));
}

TEST(OneOfManyProof, ProverRefusesFalseStatements) {
  const Statement s = make_statement(4, 9);
  const auto refused = [&](std::size_t index, const Scalar& r, const Point& offset) {
    Transcript t = prefixed_transcript();
    auto proof = OneOfManyProof::prove(gens(), t, s.set, offset, index, r);
    return !proof.is_ok() && proof.status().code() == ErrorCode::kInvalidArgument;
  };
  EXPECT_TRUE(refused(16, s.r, s.offset));                                 // out of range
  EXPECT_TRUE(refused(std::size_t{1} << 40, s.r, s.offset));               // far out of range
  EXPECT_TRUE(refused(8, s.r, s.offset));                                  // wrong index
  EXPECT_TRUE(refused(9, s.r + Scalar::one(), s.offset));                  // wrong opening
  EXPECT_TRUE(refused(9, s.r, s.offset + Point::random()));                // wrong offset
  EXPECT_TRUE(refused(9, s.r, s.offset + Scalar::one() * Point::base()));  // hides a G component
  EXPECT_FALSE(refused(9, s.r, s.offset));
}

// Proofs of false statements, made with the prover's steps 1-8 (no statement check) or taken from
// another statement, do not verify.
TEST(OneOfManyProof, VerifierRejectsProofsOfFalseStatements) {
  const Statement s = make_statement(4, 6);
  for (const Scalar& r : {s.r + Scalar::one(), Scalar::zero(), Scalar::random()}) {
    Transcript t = prefixed_transcript();
    auto forged = detail_prove_unchecked(gens(), t, s.set, s.offset, s.index, r);
    ASSERT_TRUE(forged.is_ok());
    const Status st = verify(gens(), *forged, s.set, s.offset);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidProof);
  }
  // The right r at the wrong index.
  for (std::size_t index : {std::size_t{0}, std::size_t{5}, std::size_t{7}, std::size_t{15}}) {
    Transcript t = prefixed_transcript();
    auto forged = detail_prove_unchecked(gens(), t, s.set, s.offset, index, s.r);
    ASSERT_TRUE(forged.is_ok());
    EXPECT_EQ(verify(gens(), *forged, s.set, s.offset).code(), ErrorCode::kInvalidProof) << index;
  }
  // A valid proof for another offset (another member of the same set).
  std::vector<Point> points(s.set.points().begin(), s.set.points().end());
  const Statement other = make_statement(points, 11);
  const OneOfManyProof proof = prove(gens(), other);
  EXPECT_TRUE(verify(gens(), proof, other.set, other.offset).is_ok());
  EXPECT_EQ(verify(gens(), proof, s.set, s.offset).code(), ErrorCode::kInvalidProof);
}

TEST(OneOfManyProof, AnyChangeToTheStatementIsRejected) {
  const Statement s = make_statement(3, 2);
  const OneOfManyProof proof = prove(gens(), s);
  ASSERT_TRUE(verify(gens(), proof, s.set, s.offset).is_ok());

  // Every set element, the prover's own included.
  for (std::size_t i = 0; i < s.set.size(); ++i) {
    std::vector<Point> points(s.set.points().begin(), s.set.points().end());
    points[i] = Point::random();
    const auto changed = OneOfManySet::create(points);
    EXPECT_EQ(verify(gens(), proof, *changed, s.offset).code(), ErrorCode::kInvalidProof) << i;
  }
  // The same points in another order.
  std::vector<Point> reversed(s.set.points().rbegin(), s.set.points().rend());
  EXPECT_FALSE(verify(gens(), proof, *OneOfManySet::create(reversed), s.offset).is_ok());
  // The offset.
  EXPECT_FALSE(verify(gens(), proof, s.set, s.offset + Point::random()).is_ok());
  EXPECT_FALSE(verify(gens(), proof, s.set, -s.offset).is_ok());
  // The generators' label.
  const OneOfManyGens other_gens("one-of-many/E2");
  EXPECT_FALSE(verify(other_gens, proof, s.set, s.offset).is_ok());
  // The transcript before the proof: its domain, or what it absorbed.
  {
    Transcript t = prefixed_transcript("pfex/v1/other");
    EXPECT_FALSE(proof.verify(gens(), t, s.set, s.offset).is_ok());
  }
  {
    Transcript t = prefixed_transcript(kDomain, 8);
    EXPECT_FALSE(proof.verify(gens(), t, s.set, s.offset).is_ok());
  }
  {
    Transcript t(kDomain);  // nothing absorbed
    EXPECT_FALSE(proof.verify(gens(), t, s.set, s.offset).is_ok());
  }
}

TEST(OneOfManyProof, SetOfAnotherSizeIsAnArgumentError) {
  const Statement s = make_statement(3, 1);
  const OneOfManyProof proof = prove(gens(), s);
  const auto bigger = OneOfManySet::create(random_points(16));
  const Status st = verify(gens(), proof, *bigger, s.offset);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
}

TEST(OneOfManyProof, EveryByteFlipIsRejected) {
  const Statement s = make_statement(2, 3);
  const OneOfManyProof proof = prove(gens(), s);
  const Bytes bytes = proof.encode();
  ASSERT_EQ(bytes.size(), OneOfManyProof::encoded_size(2));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      Bytes changed = bytes;
      changed[i] ^= mask;
      auto decoded = OneOfManyProof::decode(changed, 2);
      if (!decoded.is_ok()) continue;  // rejected at decoding
      EXPECT_EQ(verify(gens(), *decoded, s.set, s.offset).code(), ErrorCode::kInvalidProof)
          << "byte " << i << " mask " << int{mask};
    }
  }
}

TEST(OneOfManyProof, EncodingRoundTripsAndSizesArePinned) {
  EXPECT_EQ(OneOfManyProof::encoded_size(1), 288u);
  EXPECT_EQ(OneOfManyProof::encoded_size(4), 480u);
  EXPECT_EQ(OneOfManyProof::encoded_size(10), 864u);
  EXPECT_EQ(OneOfManyProof::encoded_size(12), 992u);
  const Statement s = make_statement(4, 13);
  const OneOfManyProof proof = prove(gens(), s);
  const Bytes bytes = proof.encode();
  EXPECT_EQ(bytes.size(), 480u);
  auto decoded = OneOfManyProof::decode(bytes, 4);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->encode(), bytes);
  EXPECT_TRUE(verify(gens(), *decoded, s.set, s.offset).is_ok());

  // The Reader form inside a larger message.
  Bytes framed;
  Writer w(&framed);
  w.u32(99);
  proof.encode(w);
  w.u8(1);
  Reader r(framed);
  EXPECT_EQ(r.u32("before"), 99u);
  auto inner = OneOfManyProof::decode(r, 4);
  ASSERT_TRUE(inner.is_ok());
  EXPECT_EQ(r.u8("after"), 1u);
  EXPECT_TRUE(r.finish().is_ok());
  EXPECT_EQ(inner->encode(), bytes);
}

TEST(OneOfManyProof, DecodingIsStrict) {
  const Statement s = make_statement(2, 0);
  const Bytes bytes = prove(gens(), s).encode();
  ASSERT_TRUE(OneOfManyProof::decode(bytes, 2).is_ok());
  // Another n: the length is wrong either way.
  EXPECT_FALSE(OneOfManyProof::decode(bytes, 1).is_ok());
  EXPECT_FALSE(OneOfManyProof::decode(bytes, 3).is_ok());
  // n out of range.
  EXPECT_EQ(OneOfManyProof::decode(bytes, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(OneOfManyProof::decode(bytes, kOneOfManyMaxLogSize + 1).status().code(),
            ErrorCode::kInvalidArgument);
  // Trailing bytes and every truncation.
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(OneOfManyProof::decode(longer, 2).is_ok());
  for (std::size_t len = 0; len < bytes.size(); ++len)
    EXPECT_FALSE(OneOfManyProof::decode(ByteSpan(bytes).first(len), 2).is_ok()) << len;
  // Non-canonical elements: every point slot (6 for n = 2) and every scalar slot (5).
  for (std::size_t slot = 0; slot < 11; ++slot) {
    Bytes bad = bytes;
    for (std::size_t k = 0; k < 32; ++k)
      bad[32 * slot + k] = 0xff;  // neither a canonical point nor a canonical scalar
    EXPECT_FALSE(OneOfManyProof::decode(bad, 2).is_ok()) << slot;
  }
  // A scalar equal to l (the group order) is non-canonical.
  const std::uint8_t order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                  0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                  0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
  Bytes with_order = bytes;
  std::copy(std::begin(order), std::end(order), with_order.begin() + std::ptrdiff_t{32} * 10);
  EXPECT_FALSE(OneOfManyProof::decode(with_order, 2).is_ok());
}

TEST(OneOfManyProof, IdentityFirstMessagePointsAreRejected) {
  const Statement s = make_statement(2, 1);
  const Bytes bytes = prove(gens(), s).encode();
  for (std::size_t slot = 0; slot < 4; ++slot) {  // A, B, C, D
    Bytes bad = bytes;
    std::fill(bad.begin() + static_cast<std::ptrdiff_t>(32 * slot),
              bad.begin() + static_cast<std::ptrdiff_t>(32 * slot + 32), 0);
    auto decoded = OneOfManyProof::decode(bad, 2);
    ASSERT_TRUE(decoded.is_ok());  // the identity is a valid encoding
    EXPECT_EQ(verify(gens(), *decoded, s.set, s.offset).code(), ErrorCode::kInvalidProof);
  }
}

// 64 proofs over one set, each with its own offset and transcript.
struct Batch {
  std::vector<Point> offsets;
  std::vector<OneOfManyProof> proofs;
  std::vector<std::uint64_t> tx;  // what each proof's transcript absorbed first
};

Batch make_batch(const OneOfManySet& set, const std::vector<Scalar>& r, std::size_t count) {
  Batch b;
  for (std::size_t t = 0; t < count; ++t) {
    const std::size_t index = (7 * t + 3) % set.size();
    const Point offset = set.points()[index] - r[index] * blinding_generator();
    Transcript tr = prefixed_transcript(kDomain, 1000 + t);
    auto proof = OneOfManyProof::prove(gens(), tr, set, offset, index, r[index]);
    EXPECT_TRUE(proof.is_ok());
    b.offsets.push_back(offset);
    b.proofs.push_back(std::move(proof).value());
    b.tx.push_back(1000 + t);
  }
  return b;
}

// A set whose every member i is O_i + r_i*H for known r_i, so many proofs can be made over it.
struct SharedSet {
  std::vector<Scalar> r;
  OneOfManySet set;
};
SharedSet make_shared_set(std::size_t n) {
  std::vector<Point> points = random_points(std::size_t{1} << n);
  std::vector<Scalar> r(points.size());
  for (Scalar& ri : r)
    ri = Scalar::random();
  return SharedSet{std::move(r), std::move(OneOfManySet::create(std::move(points))).value()};
}

Status add_all(OneOfManyBatch& batch, const Batch& b) {
  for (std::size_t t = 0; t < b.proofs.size(); ++t) {
    Transcript tr = prefixed_transcript(kDomain, b.tx[t]);
    PFEX_RETURN_IF_ERROR(batch.add(tr, b.offsets[t], b.proofs[t]));
  }
  return Status::ok();
}

TEST(OneOfManyBatch, SixtyFourGoodProofsVerify) {
  const SharedSet shared = make_shared_set(4);
  const Batch b = make_batch(shared.set, shared.r, 64);
  OneOfManyBatch batch(gens(), shared.set);
  ASSERT_TRUE(add_all(batch, b).is_ok());
  EXPECT_EQ(batch.size(), 64u);
  EXPECT_TRUE(batch.verify().is_ok());
  EXPECT_TRUE(batch.invalid_positions().empty());
  // The same proofs one by one.
  for (std::size_t t = 0; t < 64; ++t) {
    Transcript tr = prefixed_transcript(kDomain, b.tx[t]);
    EXPECT_TRUE(b.proofs[t].verify(gens(), tr, shared.set, b.offsets[t]).is_ok());
  }
}

TEST(OneOfManyBatch, OneBadProofAmongSixtyFourIsNamed) {
  const SharedSet shared = make_shared_set(4);
  Batch b = make_batch(shared.set, shared.r, 64);
  for (std::size_t bad : {std::size_t{0}, std::size_t{37}, std::size_t{63}}) {
    Batch changed = b;
    changed.offsets[bad] += Point::random();  // the proof is for another offset
    OneOfManyBatch batch(gens(), shared.set);
    ASSERT_TRUE(add_all(batch, changed).is_ok());
    EXPECT_EQ(batch.invalid_positions(), std::vector<std::size_t>{bad});
    const Status st = batch.verify();
    EXPECT_EQ(st.code(), ErrorCode::kInvalidProof);
    EXPECT_NE(st.message().find("proof " + std::to_string(bad) + " does not verify"),
              std::string_view::npos)
        << st.message();
  }
}

TEST(OneOfManyBatch, SeveralBadProofsAreAllNamed) {
  const SharedSet shared = make_shared_set(3);
  Batch b = make_batch(shared.set, shared.r, 20);
  b.tx[4] += 1;  // verified on another transcript
  b.offsets[5] = -b.offsets[5];
  b.offsets[19] += Point::base();
  OneOfManyBatch batch(gens(), shared.set);
  ASSERT_TRUE(add_all(batch, b).is_ok());
  EXPECT_EQ(batch.invalid_positions(), (std::vector<std::size_t>{4, 5, 19}));
  const Status st = batch.verify();
  EXPECT_EQ(st.code(), ErrorCode::kInvalidProof);
  EXPECT_NE(st.message().find("proofs 4, 5, 19 do not verify"), std::string_view::npos)
      << st.message();
}

TEST(OneOfManyBatch, MalformedProofKeepsItsPosition) {
  const SharedSet shared = make_shared_set(3);
  const Batch b = make_batch(shared.set, shared.r, 4);
  const SharedSet other = make_shared_set(2);
  const Batch small = make_batch(other.set, other.r, 1);
  Bytes identity_A = b.proofs[2].encode();
  std::fill(identity_A.begin(), identity_A.begin() + 32, 0);

  OneOfManyBatch batch(gens(), shared.set);
  for (std::size_t t = 0; t < 4; ++t) {
    Transcript tr = prefixed_transcript(kDomain, b.tx[t]);
    if (t == 1) {
      EXPECT_EQ(batch.add(tr, b.offsets[t], small.proofs[0]).code(), ErrorCode::kInvalidProof);
    } else if (t == 2) {
      const Status st = batch.add(tr, b.offsets[t], *OneOfManyProof::decode(identity_A, 3));
      EXPECT_EQ(st.code(), ErrorCode::kInvalidProof);
    } else {
      EXPECT_TRUE(batch.add(tr, b.offsets[t], b.proofs[t]).is_ok());
    }
  }
  EXPECT_EQ(batch.invalid_positions(), (std::vector<std::size_t>{1, 2}));
  const Status st = batch.verify();
  EXPECT_EQ(st.code(), ErrorCode::kInvalidProof);
  EXPECT_NE(st.message().find("proofs 1, 2 do not verify"), std::string_view::npos) << st.message();
}

// A caller that drops add()'s status still gets a failing check: the refused proof is not
// silently left out of append_terms() (it was, and the rest summed to the identity).
TEST(OneOfManyBatch, RefusedProofFailsClosedEvenIfAddIsIgnored) {
  const SharedSet shared = make_shared_set(3);
  const Batch b = make_batch(shared.set, shared.r, 3);
  const SharedSet other = make_shared_set(2);
  const Batch small = make_batch(other.set, other.r, 1);
  OneOfManyBatch batch(gens(), shared.set);
  for (std::size_t t = 0; t < 3; ++t) {
    Transcript tr = prefixed_transcript(kDomain, b.tx[t]);
    (void)batch.add(tr, b.offsets[t], t == 1 ? small.proofs[0] : b.proofs[t]);
  }
  VerificationTerms terms;
  terms.begin_entry();
  terms.add(Scalar::from_u64(3), Point::base());  // another entry, true: 3G - 3G
  terms.add(-Scalar::from_u64(3), Point::base());
  terms.begin_entry();
  batch.append_terms(terms, Scalar::random());
  EXPECT_FALSE(terms.is_identity_var());
  EXPECT_EQ(terms.failing_entries_var(), std::vector<std::size_t>{1});
  EXPECT_EQ(terms.check_var("block").code(), ErrorCode::kInvalidProof);
  EXPECT_FALSE(batch.verify().is_ok());

  // The same with a single proof appended straight to the terms: the refusal sticks.
  VerificationTerms direct;
  Transcript tr = prefixed_transcript(kDomain, b.tx[0]);
  (void)small.proofs[0].append_verification_terms(gens(), tr, shared.set, b.offsets[0],
                                                  Scalar::one(), direct);
  EXPECT_EQ(direct.size(), 0u);
  EXPECT_FALSE(direct.is_identity_var());
}

TEST(OneOfManyBatch, TermsCombineWithOtherEquations) {
  const SharedSet shared = make_shared_set(3);
  const Batch b = make_batch(shared.set, shared.r, 5);
  OneOfManyBatch batch(gens(), shared.set);
  ASSERT_TRUE(add_all(batch, b).is_ok());
  VerificationTerms terms;
  terms.add(Scalar::from_u64(3), Point::base());  // another equation's true terms: 3G - 3G
  terms.add(-Scalar::from_u64(3), Point::base());
  batch.append_terms(terms, Scalar::random());
  // N set points once, n E_j, H, and n + 5 per proof.
  EXPECT_EQ(terms.size(), 2 + 8 + 3 + 1 + 5 * (3 + 5));
  EXPECT_TRUE(terms.is_identity_var());

  Batch changed = b;
  changed.offsets[3] += Point::random();
  OneOfManyBatch bad(gens(), shared.set);
  ASSERT_TRUE(add_all(bad, changed).is_ok());
  VerificationTerms bad_terms;
  bad.append_terms(bad_terms, Scalar::random());
  EXPECT_FALSE(bad_terms.is_identity_var());
}

TEST(OneOfManyBatch, EmptyBatchVerifies) {
  const SharedSet shared = make_shared_set(2);
  OneOfManyBatch batch(gens(), shared.set);
  EXPECT_TRUE(batch.verify().is_ok());
}

}  // namespace
}  // namespace pfex::crypto
