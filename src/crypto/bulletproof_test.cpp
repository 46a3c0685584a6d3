#include "crypto/bulletproof.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/hash.hpp"
#include "crypto/bulletproof_internal.hpp"
#include "crypto/inner_product.hpp"
#include "crypto/test_util.hpp"

namespace pfex::crypto {
namespace {

using detail::RangeProofAccess;

constexpr std::uint64_t kMax = ~std::uint64_t{0};

const BulletproofGens& gens() {
  static const BulletproofGens g;
  return g;
}

Transcript fresh_transcript() {
  Transcript t("pfex/v1/test");
  t.append_message("context", ByteSpan());
  return t;
}

std::vector<Scalar> random_blindings(std::size_t m) {
  std::vector<Scalar> r(m);
  for (Scalar& s : r)
    s = Scalar::random();
  return r;
}

RangeProofWithCommitments prove_ok(std::span<const std::uint64_t> values) {
  Transcript t = fresh_transcript();
  auto proved = RangeProof::prove(gens(), t, values, random_blindings(values.size()));
  EXPECT_TRUE(proved.is_ok()) << proved.status().to_string();
  return std::move(proved).value();
}

Status verify_fresh(const RangeProof& proof, std::span<const Point> commitments,
                    const BulletproofGens& g = gens()) {
  Transcript t = fresh_transcript();
  return proof.verify(g, t, commitments);
}

// The edge values first (rotated by `offset`), then random ones.
std::vector<std::uint64_t> sample_values(std::size_t m, testing::TestRng& rng,
                                         std::size_t offset = 0) {
  const std::uint64_t edges[] = {0, 1, kMax, std::uint64_t{1} << 63, kMax - 1};
  std::vector<std::uint64_t> v(m);
  for (std::size_t j = 0; j < m; ++j)
    v[j] = j < std::size(edges) ? edges[(j + offset) % std::size(edges)] : rng.next();
  return v;
}

TEST(RangeProof, EncodedSizeIsPinned) {
  EXPECT_EQ(RangeProof::encoded_size(1), 672u);
  EXPECT_EQ(RangeProof::encoded_size(2), 736u);
  EXPECT_EQ(RangeProof::encoded_size(4), 800u);
  EXPECT_EQ(RangeProof::encoded_size(8), 864u);
  EXPECT_EQ(RangeProof::encoded_size(16), 928u);
  EXPECT_EQ(RangeProof::encoded_size(3), 0u);
  for (std::size_t m = 1; m <= 16; m *= 2) {
    const std::size_t lg = static_cast<std::size_t>(std::bit_width(64 * m) - 1);
    EXPECT_EQ(RangeProof::encoded_size(m), 32 * (9 + 2 * lg));
  }
}

// A known answer: with deterministic nonces the proof is a function of the statement, the
// generators and the transcript, so this pins the protocol (labels, order, generator derivation).
// A change here is a protocol change: bump "bulletproof/range/v2" and re-pin. The challenge drawn
// after the proof pins what the proof leaves in the transcript for later proofs: v2 absorbs the
// final a, b (v1 did not), so it changed with the proof's bytes when they were re-pinned.
TEST(RangeProof, KnownAnswer) {
  std::uint64_t counter = 0;
  const RangeProofAccess::NonceSource nonce = [&counter] {
    const std::uint64_t c = counter++;
    std::uint8_t bytes[8];
    for (std::size_t i = 0; i < 8; ++i)
      bytes[i] = static_cast<std::uint8_t>(c >> (8 * i));
    return Scalar::hash(bytes);
  };
  const std::uint64_t values[] = {1000, kMax};
  const Scalar blindings[] = {Scalar::from_u64(7), Scalar::from_u64(8)};
  Transcript t = fresh_transcript();
  auto proved = RangeProofAccess::prove_values(gens(), t, values, blindings, nonce);
  ASSERT_TRUE(proved.is_ok());
  const Bytes bytes = proved->proof.encode();
  EXPECT_EQ(to_hex(ByteSpan(bytes).first(32)),
            "7008d97e4321a039e8cb66639abfec4747ab2131de296bd532dd1526ad141058");
  EXPECT_EQ(to_hex(blake2b_256(bytes)),
            "ead56590f5e94ed34b92ecfe9ff9c0b72185795f1337843123a5e04fac416ddb");
  EXPECT_EQ(to_hex(t.challenge_scalar("after").bytes()),
            "ad645413b16389f54efa6cf47f991fa415c790abc020b43de9fe03895067f409");
  EXPECT_TRUE(verify_fresh(proved->proof, proved->commitments).is_ok());
}

// The transcript records are the ones docs/crypto/bulletproofs.md section 4 lists, ending with
// the final a, b (docs/crypto/transcript.md: every response is absorbed), replayed here by hand
// from the proof's bytes: the prover leaves its transcript in exactly this state.
TEST(RangeProof, TranscriptRecordsAreTheDocumentedOnes) {
  const std::uint64_t values[] = {42, 7};
  const std::vector<Scalar> blindings = random_blindings(2);
  Transcript prover = fresh_transcript();
  auto proved = RangeProof::prove(gens(), prover, values, blindings);
  ASSERT_TRUE(proved.is_ok());
  const Bytes bytes = proved->proof.encode();
  auto field = [&](std::size_t k) { return ByteSpan(bytes).subspan(32 * k, 32); };
  auto scalar = [&](std::size_t k) { return *Scalar::decode(field(k)); };

  Transcript t = fresh_transcript();
  t.append_domain_separator("bulletproof/range/v2");
  t.append_u64("n", 64);
  t.append_u64("m", 2);
  const std::string label = gens().label();
  t.append_message("gens",
                   ByteSpan(reinterpret_cast<const std::uint8_t*>(label.data()), label.size()));
  for (const Point& V : proved->commitments)
    t.append_point("V", V);
  t.append_message("A", field(0));
  t.append_message("S", field(1));
  (void)t.challenge_scalar("y");
  (void)t.challenge_scalar("z");
  t.append_message("T1", field(2));
  t.append_message("T2", field(3));
  (void)t.challenge_scalar("x");
  t.append_scalar("t_x", scalar(4));
  t.append_scalar("tau_x", scalar(5));
  t.append_scalar("mu", scalar(6));
  (void)t.challenge_scalar("w");
  const std::size_t rounds = 7;  // lg(64 * 2)
  for (std::size_t k = 0; k < rounds; ++k) {
    t.append_message("L", field(7 + 2 * k));
    t.append_message("R", field(8 + 2 * k));
    (void)t.challenge_scalar("u");
  }
  t.append_scalar("a", scalar(7 + 2 * rounds));
  t.append_scalar("b", scalar(8 + 2 * rounds));

  Transcript verifier = fresh_transcript();
  ASSERT_TRUE(proved->proof.verify(gens(), verifier, proved->commitments).is_ok());
  const Scalar want = t.challenge_scalar("next");
  EXPECT_EQ(prover.challenge_scalar("next"), want);
  EXPECT_EQ(verifier.challenge_scalar("next"), want);
}

TEST(RangeProof, CompleteForEveryAggregationSize) {
  testing::TestRng rng(1);
  for (std::size_t m = 1; m <= 16; m *= 2) {
    // Small m: every edge value in every position. Larger m hold them all at once.
    const std::size_t rounds = m <= 2 ? 5 : 1;
    for (std::size_t round = 0; round < rounds; ++round) {
      const std::vector<std::uint64_t> values = sample_values(m, rng, round);
      const auto proved = prove_ok(values);
      ASSERT_EQ(proved.commitments.size(), m);
      EXPECT_EQ(proved.proof.num_values(), m);
      EXPECT_TRUE(verify_fresh(proved.proof, proved.commitments).is_ok()) << "m = " << m;
      const Bytes bytes = proved.proof.encode();
      EXPECT_EQ(bytes.size(), RangeProof::encoded_size(m));
      auto decoded = RangeProof::decode(bytes, m);
      ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
      EXPECT_EQ(decoded->encode(), bytes);
      EXPECT_TRUE(verify_fresh(*decoded, proved.commitments).is_ok());
    }
  }
}

TEST(RangeProof, CommitmentsAreThePedersenCommitmentsOfTheValues) {
  const std::uint64_t values[] = {5, kMax};
  const std::vector<Scalar> blindings = random_blindings(2);
  Transcript t = fresh_transcript();
  auto proved = RangeProof::prove(gens(), t, values, blindings);
  ASSERT_TRUE(proved.is_ok());
  const PedersenGens pedersen;
  for (std::size_t j = 0; j < 2; ++j) {
    EXPECT_EQ(proved->commitments[j],
              Scalar::from_u64(values[j]) * Point::base() + blindings[j] * blinding_generator());
    EXPECT_TRUE(
        pedersen.opens_var(proved->commitments[j], Scalar::from_u64(values[j]), blindings[j]));
  }
}

TEST(RangeProof, ProverAndVerifierLeaveTheTranscriptInTheSameState) {
  const std::uint64_t values[] = {42};
  Transcript prover = fresh_transcript();
  auto proved = RangeProof::prove(gens(), prover, values, random_blindings(1));
  ASSERT_TRUE(proved.is_ok());
  Transcript verifier = fresh_transcript();
  ASSERT_TRUE(proved->proof.verify(gens(), verifier, proved->commitments).is_ok());
  EXPECT_EQ(prover.challenge_scalar("next"), verifier.challenge_scalar("next"));
}

TEST(RangeProof, IdentityCommitmentIsAllowed) {
  // v = 0 with gamma = 0 commits to the identity: in range, provable (bulletproofs.md section 1).
  const std::uint64_t values[] = {0};
  const Scalar zero[] = {Scalar::zero()};
  Transcript t = fresh_transcript();
  auto proved = RangeProof::prove(gens(), t, values, zero);
  ASSERT_TRUE(proved.is_ok());
  EXPECT_TRUE(proved->commitments[0].is_identity());
  EXPECT_TRUE(verify_fresh(proved->proof, proved->commitments).is_ok());
}

TEST(RangeProof, ArgumentErrors) {
  Transcript t = fresh_transcript();
  const std::vector<std::uint64_t> three = {1, 2, 3};
  EXPECT_EQ(RangeProof::prove(gens(), t, three, random_blindings(3)).status().code(),
            ErrorCode::kInvalidArgument);
  const std::vector<std::uint64_t> none;
  EXPECT_EQ(RangeProof::prove(gens(), t, none, {}).status().code(), ErrorCode::kInvalidArgument);
  const std::vector<std::uint64_t> many(32, 7);
  EXPECT_EQ(RangeProof::prove(gens(), t, many, random_blindings(32)).status().code(),
            ErrorCode::kInvalidArgument);
  const std::vector<std::uint64_t> two = {1, 2};
  EXPECT_EQ(RangeProof::prove(gens(), t, two, random_blindings(1)).status().code(),
            ErrorCode::kInvalidArgument);
  const BulletproofGens small("bp", 2);
  const std::vector<std::uint64_t> four = {1, 2, 3, 4};
  EXPECT_EQ(RangeProof::prove(small, t, four, random_blindings(4)).status().code(),
            ErrorCode::kInvalidArgument);

  const auto proved = prove_ok(two);
  EXPECT_EQ(verify_fresh(proved.proof, std::span(proved.commitments).first(1)).code(),
            ErrorCode::kInvalidArgument);
  std::vector<Point> four_commitments = proved.commitments;
  four_commitments.insert(four_commitments.end(), proved.commitments.begin(),
                          proved.commitments.end());
  EXPECT_EQ(verify_fresh(proved.proof, four_commitments).code(), ErrorCode::kInvalidArgument);
}

// Every single-byte change of an encoded proof is rejected, by decode or by verify.
void expect_every_byte_flip_rejected(std::size_t m) {
  testing::TestRng rng(m);
  const auto proved = prove_ok(sample_values(m, rng));
  const Bytes good = proved.proof.encode();
  for (std::size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    auto decoded = RangeProof::decode(bad, m);
    if (!decoded.is_ok()) {
      EXPECT_EQ(decoded.status().code(), ErrorCode::kInvalidArgument);
      continue;
    }
    const Status s = verify_fresh(*decoded, proved.commitments);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidProof) << "m = " << m << ", byte " << i;
  }
}

TEST(RangeProof, EveryByteFlipIsRejectedM1) {
  expect_every_byte_flip_rejected(1);
}

TEST(RangeProof, EveryByteFlipIsRejectedM2) {
  expect_every_byte_flip_rejected(2);
}

TEST(RangeProof, ChangedCommitmentsAreRejected) {
  const std::uint64_t values[] = {10, 20, 30, 40};
  const auto proved = prove_ok(values);
  for (std::size_t j = 0; j < 4; ++j) {
    std::vector<Point> changed = proved.commitments;
    changed[j] += Point::base();  // v_j + 1, still in range
    EXPECT_EQ(verify_fresh(proved.proof, changed).code(), ErrorCode::kInvalidProof) << j;
    changed = proved.commitments;
    changed[j] = Point::identity();
    EXPECT_EQ(verify_fresh(proved.proof, changed).code(), ErrorCode::kInvalidProof) << j;
  }
  std::vector<Point> swapped = proved.commitments;
  std::swap(swapped[0], swapped[1]);
  EXPECT_EQ(verify_fresh(proved.proof, swapped).code(), ErrorCode::kInvalidProof);
}

TEST(RangeProof, OtherGeneratorsAreRejected) {
  const std::uint64_t values[] = {123, 456};
  const auto proved = prove_ok(values);
  const BulletproofGens other("bp-other", 2);
  EXPECT_EQ(verify_fresh(proved.proof, proved.commitments, other).code(), ErrorCode::kInvalidProof);
  // Same label, fewer generators: the same statement, still valid.
  const BulletproofGens smaller("bp", 2);
  EXPECT_TRUE(verify_fresh(proved.proof, proved.commitments, smaller).is_ok());
}

TEST(RangeProof, AnotherStatementsTranscriptIsRejected) {
  const std::uint64_t values[] = {7};
  const auto proved = prove_ok(values);
  Transcript other_domain("pfex/v1/other");
  other_domain.append_message("context", ByteSpan());
  EXPECT_EQ(proved.proof.verify(gens(), other_domain, proved.commitments).code(),
            ErrorCode::kInvalidProof);
  Transcript other_prefix = fresh_transcript();
  other_prefix.append_u64("market", 2);
  EXPECT_EQ(proved.proof.verify(gens(), other_prefix, proved.commitments).code(),
            ErrorCode::kInvalidProof);
}

TEST(RangeProof, WrongBlindingIsRejected) {
  // The prover runs on gamma but the commitment was made with gamma + 1.
  const Scalar gamma = Scalar::random();
  const Point V[] = {gens().pedersen().commit(Scalar::from_u64(99), gamma + Scalar::one())};
  std::vector<Scalar> a_L(64);
  for (std::size_t b = 0; b < 64; ++b)
    a_L[b] = Scalar::from_u64((std::uint64_t{99} >> b) & 1);
  const Scalar gammas[] = {gamma};
  Transcript t = fresh_transcript();
  auto proof =
      RangeProofAccess::prove_bits(gens(), t, a_L, V, gammas, [] { return Scalar::random(); });
  ASSERT_TRUE(proof.is_ok());
  EXPECT_EQ(verify_fresh(*proof, V).code(), ErrorCode::kInvalidProof);
}

// Runs the prover's internals on a_L for a commitment to `value` (any scalar) and checks that the
// verifier rejects it.
void expect_false_statement_rejected(const Scalar& value, const std::vector<Scalar>& a_L,
                                     const char* what) {
  const Scalar gamma = Scalar::random();
  const Point V[] = {gens().pedersen().commit(value, gamma)};
  const Scalar gammas[] = {gamma};
  Transcript t = fresh_transcript();
  auto proof =
      RangeProofAccess::prove_bits(gens(), t, a_L, V, gammas, [] { return Scalar::random(); });
  ASSERT_TRUE(proof.is_ok()) << what;
  EXPECT_EQ(verify_fresh(*proof, V).code(), ErrorCode::kInvalidProof) << what;
}

TEST(RangeProof, ValuesOutsideTheRangeAreRejected) {
  const Scalar two64 = Scalar::from_u64(kMax) + Scalar::one();
  for (std::uint64_t k : {std::uint64_t{0}, std::uint64_t{5}, kMax}) {
    const Scalar value = two64 + Scalar::from_u64(k);  // 2^64 + k
    // The honest bits of the low 64 bits (what a prover holding a uint64 would have).
    std::vector<Scalar> low_bits(64);
    for (std::size_t b = 0; b < 64; ++b)
      low_bits[b] = Scalar::from_u64((k >> b) & 1);
    expect_false_statement_rejected(value, low_bits, "low bits");
    // A non-binary a_L with <a_L, 2^n> = 2^64 + k: all ones, then a_0 += k + 1.
    std::vector<Scalar> non_binary(64, Scalar::one());
    non_binary[0] += Scalar::from_u64(k) + Scalar::one();
    expect_false_statement_rejected(value, non_binary, "non-binary");
  }
  // -1 (= l - 1) with all bits set: <a_L, 2^n> = 2^64 - 1, not -1.
  expect_false_statement_rejected(-Scalar::one(), std::vector<Scalar>(64, Scalar::one()), "-1");
  // A bit vector with a 2: a_L o a_R != 0 although the sum matches.
  std::vector<Scalar> two_bit(64);
  two_bit[0] = Scalar::from_u64(2);
  expect_false_statement_rejected(Scalar::from_u64(2), two_bit, "digit 2");
}

TEST(RangeProof, IdentityProofPointsAreRejected) {
  const std::uint64_t values[] = {3};
  const auto proved = prove_ok(values);
  const Bytes good = proved.proof.encode();
  // Offsets of A, S, T1, T2, then L_0, R_0 (the identity encodes as 32 zero bytes).
  for (std::size_t offset : {0u, 32u, 64u, 96u, 224u, 256u}) {
    Bytes bad = good;
    std::fill(bad.begin() + static_cast<std::ptrdiff_t>(offset),
              bad.begin() + static_cast<std::ptrdiff_t>(offset + 32), 0);
    auto decoded = RangeProof::decode(bad, 1);
    ASSERT_TRUE(decoded.is_ok()) << offset;
    EXPECT_EQ(verify_fresh(*decoded, proved.commitments).code(), ErrorCode::kInvalidProof)
        << offset;
  }
}

TEST(RangeProof, DecodeIsStrict) {
  const std::uint64_t values[] = {1, 2};
  const auto proved = prove_ok(values);
  const Bytes good = proved.proof.encode();
  ASSERT_TRUE(RangeProof::decode(good, 2).is_ok());
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(RangeProof::decode(trailing, 2).status().code(), ErrorCode::kInvalidArgument);
  const Bytes truncated(good.begin(), good.end() - 1);
  EXPECT_EQ(RangeProof::decode(truncated, 2).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(RangeProof::decode(good, 1).is_ok());
  EXPECT_FALSE(RangeProof::decode(good, 4).is_ok());
  EXPECT_FALSE(RangeProof::decode(good, 3).is_ok());
  EXPECT_FALSE(RangeProof::decode({}, 1).is_ok());
  // A non-canonical scalar: t_hat (offset 128) replaced by t_hat + l.
  const auto order =
      testing::hex_array<32>("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  Bytes non_canonical = good;
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const unsigned sum = unsigned{non_canonical[128 + i]} + unsigned{order[i]} + carry;
    non_canonical[128 + i] = static_cast<std::uint8_t>(sum);
    carry = sum >> 8;
  }
  ASSERT_EQ(carry, 0u);  // t_hat + l < 2^256
  EXPECT_EQ(RangeProof::decode(non_canonical, 2).status().code(), ErrorCode::kInvalidArgument);
  // The final b replaced by l itself.
  Bytes b_is_order = good;
  std::copy(order.begin(), order.end(), b_is_order.end() - 32);
  EXPECT_EQ(RangeProof::decode(b_is_order, 2).status().code(), ErrorCode::kInvalidArgument);
  // A non-canonical point in L_0.
  Bytes bad_point = good;
  std::fill(bad_point.begin() + 224, bad_point.begin() + 256, 0xff);
  EXPECT_EQ(RangeProof::decode(bad_point, 2).status().code(), ErrorCode::kInvalidArgument);
}

TEST(RangeProof, VerificationTermsHoldWithAnyWeight) {
  const std::uint64_t values[] = {77, 88};
  const auto proved = prove_ok(values);
  VerificationTerms terms;
  Transcript t = fresh_transcript();
  ASSERT_TRUE(
      proved.proof.append_verification_terms(gens(), t, proved.commitments, Scalar::random(), terms)
          .is_ok());
  EXPECT_EQ(terms.size(), 2 * 128 + 3 + 2 + 4 + 2 * 7);
  EXPECT_TRUE(terms.is_identity_var());
  // A second, false equation in the same terms breaks the sum.
  std::vector<Point> changed = proved.commitments;
  changed[1] += Point::base();
  Transcript t2 = fresh_transcript();
  ASSERT_TRUE(
      proved.proof.append_verification_terms(gens(), t2, changed, Scalar::random(), terms).is_ok());
  EXPECT_FALSE(terms.is_identity_var());
}

// The verifier's own weight c (joining the polynomial and inner-product equations) is derived
// from the proof's bytes and the caller's weight: a false statement appended twice gives the same
// terms, so one copy cancels the other.
TEST(RangeProof, VerifierWeightsAreAFunctionOfTheBytes) {
  const std::uint64_t values[] = {77, 88};
  const auto proved = prove_ok(values);
  std::vector<Point> changed = proved.commitments;
  changed[0] += Point::base();  // the polynomial equation fails, the inner product holds
  const Scalar weight = Scalar::from_u64(5);
  VerificationTerms first, second;
  Transcript t1 = fresh_transcript(), t2 = fresh_transcript();
  ASSERT_TRUE(proved.proof.append_verification_terms(gens(), t1, changed, weight, first).is_ok());
  ASSERT_TRUE(proved.proof.append_verification_terms(gens(), t2, changed, weight, second).is_ok());
  EXPECT_FALSE(first.is_identity_var());
  first.append_weighted(second, -Scalar::one());
  EXPECT_TRUE(first.is_identity_var());
}

// A caller that drops append_verification_terms()'s status still gets a failing check: the
// refused proof refuses its entry (it used to leave the terms unchanged, so they held).
TEST(RangeProof, AppendVerificationTermsFailsClosed) {
  const std::uint64_t values[] = {5, 6};
  const auto proved = prove_ok(values);
  VerificationTerms terms;
  Transcript t = fresh_transcript();
  ASSERT_TRUE(
      proved.proof.append_verification_terms(gens(), t, proved.commitments, Scalar::random(), terms)
          .is_ok());
  EXPECT_TRUE(terms.is_identity_var());
  terms.begin_entry();
  Transcript t2 = fresh_transcript();
  const std::span<const Point> one = std::span<const Point>(proved.commitments).first(1);
  (void)proved.proof.append_verification_terms(gens(), t2, one, Scalar::random(), terms);
  EXPECT_FALSE(terms.is_identity_var());
  EXPECT_EQ(terms.failing_entries_var(), std::vector<std::size_t>{1});
}

struct Batch {
  std::vector<RangeProofWithCommitments> proofs;
  std::vector<Transcript> transcripts;
  std::vector<RangeProofBatchItem> items;

  void add(RangeProofWithCommitments p) { proofs.push_back(std::move(p)); }
  // Fresh transcripts and items (after every proof is added: items point into the vectors).
  std::span<const RangeProofBatchItem> make_items() {
    transcripts.assign(proofs.size(), fresh_transcript());
    items.clear();
    for (std::size_t k = 0; k < proofs.size(); ++k)
      items.push_back({&transcripts[k], &proofs[k].proof, proofs[k].commitments});
    return items;
  }
};

TEST(RangeProofBatch, SixtyFourProofsVerifyAndOneBadIsNamed) {
  testing::TestRng rng(64);
  Batch batch;
  for (int k = 0; k < 64; ++k)
    batch.add(prove_ok(sample_values(2, rng)));
  std::vector<std::size_t> bad = {99};
  EXPECT_TRUE(verify_batch(gens(), batch.make_items(), &bad).is_ok());
  EXPECT_TRUE(bad.empty());

  batch.proofs[37].commitments[1] += Point::base();
  const Status s = verify_batch(gens(), batch.make_items(), &bad);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidProof);
  EXPECT_EQ(bad, std::vector<std::size_t>{37});
  EXPECT_NE(s.message().find("proof 37 does not verify"), std::string_view::npos) << s.message();

  batch.proofs[5].commitments[0] += Point::base();
  EXPECT_EQ(verify_batch(gens(), batch.make_items(), &bad).code(), ErrorCode::kInvalidProof);
  EXPECT_EQ(bad, (std::vector<std::size_t>{5, 37}));
}

TEST(RangeProofBatch, MixedSizesAndMalformedItems) {
  testing::TestRng rng(3);
  Batch batch;
  for (std::size_t m : {1u, 8u, 2u, 16u, 1u})
    batch.add(prove_ok(sample_values(m, rng)));
  EXPECT_TRUE(verify_batch(gens(), batch.make_items()).is_ok());
  EXPECT_TRUE(verify_batch(gens(), {}).is_ok());

  // An identity L_0 is found while replaying the transcript, before the MSM.
  Bytes bytes = batch.proofs[2].proof.encode();
  std::fill(bytes.begin() + 224, bytes.begin() + 256, 0);
  auto decoded = RangeProof::decode(bytes, 2);
  ASSERT_TRUE(decoded.is_ok());
  batch.proofs[2].proof = std::move(*decoded);
  std::vector<std::size_t> bad;
  EXPECT_EQ(verify_batch(gens(), batch.make_items(), &bad).code(), ErrorCode::kInvalidProof);
  EXPECT_EQ(bad, std::vector<std::size_t>{2});

  // A commitment count that does not match its proof is an argument error naming the item.
  batch.proofs[4].commitments.push_back(Point::base());
  const Status s = verify_batch(gens(), batch.make_items(), &bad);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("item 4"), std::string_view::npos) << s.message();
}

TEST(InnerProduct, SCoefficientsAreProductsOfChallenges) {
  std::vector<Scalar> u(4);
  for (Scalar& v : u)
    v = Scalar::random();
  std::vector<Scalar> u_inv = u;
  ASSERT_TRUE(Scalar::batch_invert(u_inv).is_ok());
  std::vector<Scalar> u_sq(4);
  for (std::size_t k = 0; k < 4; ++k)
    u_sq[k] = u[k] * u[k];
  const std::vector<Scalar> s = inner_product_s(u_inv, u_sq);
  ASSERT_EQ(s.size(), 16u);
  for (std::size_t i = 0; i < 16; ++i) {
    Scalar want = Scalar::one();
    for (std::size_t k = 0; k < 4; ++k)
      want *= ((i >> (3 - k)) & 1) != 0 ? u[k] : u_inv[k];
    EXPECT_EQ(s[i], want) << i;
    EXPECT_EQ(s[i] * s[15 - i], Scalar::one()) << i;
  }
}

TEST(InnerProduct, ProofSatisfiesTheUnrolledEquation) {
  // P = <a, G> + <b, H'> + <a, b> Q with H'_i = h^i H_i; check the section 7 verification equation
  // directly, for every length up to 16.
  for (std::size_t n = 1; n <= 16; n *= 2) {
    std::vector<Scalar> a(n), b(n);
    Scalar ab;
    for (std::size_t i = 0; i < n; ++i) {
      a[i] = Scalar::random();
      b[i] = Scalar::random();
      ab += a[i] * b[i];
    }
    const Scalar h = Scalar::random();
    const Point Q = Point::random();
    const auto G = gens().G_vec().points().first(n);
    const auto H = gens().H_vec().points().first(n);
    Point P = ab * Q;
    Scalar h_pow = Scalar::one();
    for (std::size_t i = 0; i < n; ++i) {
      P += a[i] * G[i] + (b[i] * h_pow) * H[i];
      h_pow *= h;
    }
    Transcript prover = fresh_transcript();
    auto proof = prove_inner_product(prover, Q, G, H, h, a, b);
    ASSERT_TRUE(proof.is_ok());
    EXPECT_EQ(proof->L.size(), static_cast<std::size_t>(std::bit_width(n) - 1));
    Transcript verifier = fresh_transcript();
    auto u = inner_product_challenges(verifier, *proof);
    ASSERT_TRUE(u.is_ok());
    std::vector<Scalar> u_inv = *u;
    ASSERT_TRUE(Scalar::batch_invert(u_inv).is_ok());
    std::vector<Scalar> u_sq;
    for (const Scalar& v : *u)
      u_sq.push_back(v * v);
    const std::vector<Scalar> s = inner_product_s(u_inv, u_sq);
    Point lhs = P;
    for (std::size_t k = 0; k < proof->L.size(); ++k)
      lhs += u_sq[k] * proof->L[k].point + (u_inv[k] * u_inv[k]) * proof->R[k].point;
    Point rhs = (proof->a * proof->b) * Q;
    h_pow = Scalar::one();
    for (std::size_t i = 0; i < n; ++i) {
      rhs += (proof->a * s[i]) * G[i] + (proof->b * s[n - 1 - i] * h_pow) * H[i];
      h_pow *= h;
    }
    EXPECT_EQ(lhs, rhs) << "n = " << n;
    // And a different P does not satisfy it.
    EXPECT_NE(lhs + Q, rhs);
  }
}

TEST(InnerProduct, RejectsBadSizes) {
  Transcript t = fresh_transcript();
  const auto G = gens().G_vec().points().first(4);
  const auto H = gens().H_vec().points().first(4);
  EXPECT_EQ(prove_inner_product(t, Point::base(), G.first(3), H.first(3), Scalar::one(),
                                std::vector<Scalar>(3), std::vector<Scalar>(3))
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(prove_inner_product(t, Point::base(), G, H, Scalar::one(), std::vector<Scalar>(4),
                                std::vector<Scalar>(2))
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
}

// The fuzz target's statement (fuzz/bulletproof_verify_fuzz.cpp): V_j = (1000 + j)*G + gamma_j*H
// with gamma_j = Scalar::hash("pfex/fuzz/bulletproof/gamma" || j), transcript "pfex/v1/fuzz".
Scalar fuzz_gamma(std::uint8_t j) {
  const std::string_view prefix = "pfex/fuzz/bulletproof/gamma";
  std::vector<std::uint8_t> label(prefix.begin(), prefix.end());
  label.push_back(j);
  return Scalar::hash(label);
}

// Every seed of the fuzz target is a valid proof for its statement. With
// PFEX_WRITE_FUZZ_SEEDS=1 the test first writes them: one proof for m = 1 (first byte 0) and one
// for m = 2 (first byte 1).
TEST(RangeProofFuzzSeeds, SeedsAreValidProofs) {
  const char* root = PFEX_SOURCE_DIR;
  const std::filesystem::path dir =
      std::filesystem::path(root) / "fuzz/corpus/pfex_fuzz_bulletproof_verify";
  std::vector<Point> V;
  for (std::uint8_t j = 0; j < 2; ++j)
    V.push_back(gens().pedersen().commit(Scalar::from_u64(1000u + j), fuzz_gamma(j)));
  const char* write = std::getenv("PFEX_WRITE_FUZZ_SEEDS");
  if (write != nullptr && std::string_view(write) == "1") {
    std::filesystem::create_directories(dir);
    for (std::uint8_t m = 1; m <= 2; ++m) {
      const std::vector<std::uint64_t> values = {1000, 1001};
      const std::vector<Scalar> blindings = {fuzz_gamma(0), fuzz_gamma(1)};
      Transcript t("pfex/v1/fuzz");
      auto proved =
          RangeProof::prove(gens(), t, std::span(values).first(m), std::span(blindings).first(m));
      ASSERT_TRUE(proved.is_ok());
      Bytes seed = {static_cast<std::uint8_t>(m - 1)};
      const Bytes proof = proved->proof.encode();
      seed.insert(seed.end(), proof.begin(), proof.end());
      std::ofstream out(dir / ("valid-m" + std::to_string(m)), std::ios::binary);
      out.write(reinterpret_cast<const char*>(seed.data()),
                static_cast<std::streamsize>(seed.size()));
    }
  }
  std::size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("valid-", 0) != 0) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const Bytes seed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(seed.empty());
    const std::size_t m = (seed[0] & 1) != 0 ? 2 : 1;
    auto proof = RangeProof::decode(ByteSpan(seed).subspan(1), m);
    ASSERT_TRUE(proof.is_ok()) << entry.path() << ": " << proof.status().to_string();
    Transcript t("pfex/v1/fuzz");
    EXPECT_TRUE(proof->verify(gens(), t, std::span(V).first(m)).is_ok()) << entry.path();
    ++seen;
  }
  EXPECT_EQ(seen, 2u);
}

}  // namespace
}  // namespace pfex::crypto
