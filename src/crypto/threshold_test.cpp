#include "crypto/threshold.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "crypto/dkg.hpp"

namespace pfex::crypto {
namespace {

const DiscreteLogTable& table() {
  static const DiscreteLogTable t(16);
  return t;
}

// A finished 3-of-5 key generation: the outcome and every validator's share.
struct Committee {
  DkgOutcome outcome;
  std::vector<Scalar> shares;  // s_j at [j-1]

  static Committee make(std::uint32_t n = 5, std::uint32_t t = 3) {
    std::vector<X25519SecretKey> keys;
    std::vector<X25519PublicKey> pks;
    for (std::uint32_t j = 0; j < n; ++j) {
      keys.push_back(X25519SecretKey::generate());
      pks.push_back(keys.back().public_key());
    }
    const Bytes sid = {'c', 'o', 'm'};
    const DkgParams params = *DkgParams::create(n, t, sid, pks);
    DkgSession s(params);
    for (std::uint32_t i = 1; i <= n; ++i)
      EXPECT_TRUE(s.add_dealing(Dealer::create(params, i)->deal()).is_ok());
    s.close_complaints();
    Committee c{*s.finalize(), {}};
    for (std::uint32_t j = 1; j <= n; ++j)
      c.shares.push_back(*s.secret_share(j, keys[j - 1]));
    return c;
  }
  std::uint32_t n() const { return static_cast<std::uint32_t>(shares.size()); }
};

Transcript prefix() {
  Transcript t("pfex/v1/test");
  t.append_u64("epoch", 12);
  return t;
}

DecryptionShare share_of(const Committee& c, std::uint32_t j, const Ciphertext& ct) {
  Transcript t = prefix();
  auto s = create_decryption_share(j, c.shares[j - 1], ct, t);
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return *s;
}

// Sum of `count` ciphertexts of random positions in [-2^20, 2^20].
struct Sum {
  Ciphertext ct;
  std::int64_t value = 0;
};
Sum encrypted_sum(const Point& pk, int count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Sum s;
  for (int i = 0; i < count; ++i) {
    const std::int64_t v = static_cast<std::int64_t>(rng() % (2u << 20)) - (1 << 20);
    s.value += v;
    s.ct += encrypt(pk, position_to_scalar(v), Scalar::random());
  }
  return s;
}

TEST(Threshold, LagrangeCoefficients) {
  const std::uint32_t idx[] = {1, 2, 3};
  auto l = lagrange_coefficients_at_zero(idx);
  ASSERT_TRUE(l.is_ok());
  EXPECT_EQ((*l)[0], Scalar::from_u64(3));
  EXPECT_EQ((*l)[1], -Scalar::from_u64(3));
  EXPECT_EQ((*l)[2], Scalar::one());
  const std::uint32_t dup[] = {1, 2, 1};
  EXPECT_FALSE(lagrange_coefficients_at_zero(dup).is_ok());
  const std::uint32_t zero[] = {0, 2};
  EXPECT_FALSE(lagrange_coefficients_at_zero(zero).is_ok());
}

TEST(Threshold, AnyThreeOfFiveDecryptTheSum) {
  const Committee c = Committee::make();
  const Sum sum = encrypted_sum(c.outcome.public_key, 40, 1);
  std::vector<DecryptionShare> all;
  for (std::uint32_t j = 1; j <= 5; ++j) {
    all.push_back(share_of(c, j, sum.ct));
    EXPECT_EQ(all.back().D, c.shares[j - 1] * sum.ct.R);
    Transcript t = prefix();
    EXPECT_TRUE(
        verify_decryption_share(all.back(), c.outcome.verification_key(j), sum.ct, t).is_ok());
  }
  for (std::uint32_t a = 1; a <= 5; ++a)
    for (std::uint32_t b = a + 1; b <= 5; ++b)
      for (std::uint32_t d = b + 1; d <= 5; ++d) {
        const std::vector<DecryptionShare> three = {all[a - 1], all[b - 1], all[d - 1]};
        auto m = combine_decryption_shares_var(three, 3, sum.ct);
        ASSERT_TRUE(m.is_ok());
        auto v = table().solve_var(*m);
        ASSERT_TRUE(v.is_ok()) << a << b << d;
        EXPECT_EQ(*v, sum.value);
      }
  auto res = decrypt_threshold(c.outcome.verification_keys, 3, sum.ct, all, prefix(), table());
  ASSERT_TRUE(res.is_ok()) << res.status().to_string();
  EXPECT_EQ(res->value, sum.value);
  EXPECT_EQ(res->used, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_TRUE(res->rejected.empty());
}

TEST(Threshold, TwoSharesCannotDecrypt) {
  const Committee c = Committee::make();
  const Sum sum = encrypted_sum(c.outcome.public_key, 10, 2);
  const std::vector<DecryptionShare> two = {share_of(c, 2, sum.ct), share_of(c, 5, sum.ct)};
  auto res = decrypt_threshold(c.outcome.verification_keys, 3, sum.ct, two, prefix(), table());
  EXPECT_EQ(res.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(combine_decryption_shares_var(two, 3, sum.ct).status().code(),
            ErrorCode::kInvalidArgument);
  // Interpolating two shares as if t were 2 gives a point that is not the plaintext.
  auto m = combine_decryption_shares_var(two, 2, sum.ct);
  ASSERT_TRUE(m.is_ok());
  EXPECT_FALSE(*m == Point::mul_base(position_to_scalar(sum.value)));
}

TEST(Threshold, BadSharesAreRejectedAndExcluded) {
  const Committee c = Committee::make();
  const Sum sum = encrypted_sum(c.outcome.public_key, 10, 3);
  std::vector<DecryptionShare> shares;
  for (std::uint32_t j = 1; j <= 5; ++j)
    shares.push_back(share_of(c, j, sum.ct));

  // Validator 1 uses a wrong s_j (its proof is honest for s_j + 1, so Y_1 does not match).
  {
    Transcript t = prefix();
    shares[0] = *create_decryption_share(1, c.shares[0] + Scalar::one(), sum.ct, t);
  }
  // Validator 3's D is altered after proving (the DLEQ no longer holds).
  shares[2].D += Point::base();
  for (std::uint32_t j : {1u, 3u}) {
    Transcript t = prefix();
    EXPECT_EQ(
        verify_decryption_share(shares[j - 1], c.outcome.verification_key(j), sum.ct, t).code(),
        ErrorCode::kInvalidProof);
  }
  auto res = decrypt_threshold(c.outcome.verification_keys, 3, sum.ct, shares, prefix(), table());
  ASSERT_TRUE(res.is_ok()) << res.status().to_string();
  EXPECT_EQ(res->value, sum.value);
  EXPECT_EQ(res->rejected, (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(res->used, (std::vector<std::uint32_t>{2, 4, 5}));
  // Combining the bad shares gives a wrong plaintext: verification is what protects the result.
  auto wrong = combine_decryption_shares_var(
      std::vector<DecryptionShare>{shares[0], shares[1], shares[2]}, 3, sum.ct);
  ASSERT_TRUE(wrong.is_ok());
  EXPECT_FALSE(*wrong == Point::mul_base(position_to_scalar(sum.value)));

  // A third bad share leaves two valid ones: no result.
  shares[4].proof = shares[3].proof;
  res = decrypt_threshold(c.outcome.verification_keys, 3, sum.ct, shares, prefix(), table());
  EXPECT_EQ(res.status().code(), ErrorCode::kFailedPrecondition);
}

TEST(Threshold, DuplicateAndOutOfRangeIndices) {
  const Committee c = Committee::make();
  const Sum sum = encrypted_sum(c.outcome.public_key, 3, 4);
  const DecryptionShare s1 = share_of(c, 1, sum.ct);
  const DecryptionShare s2 = share_of(c, 2, sum.ct);
  const DecryptionShare s3 = share_of(c, 3, sum.ct);
  auto dup = decrypt_threshold(c.outcome.verification_keys, 3, sum.ct,
                               std::vector<DecryptionShare>{s1, s2, s2, s3}, prefix(), table());
  EXPECT_EQ(dup.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(combine_decryption_shares_var(std::vector<DecryptionShare>{s1, s2, s2}, 3, sum.ct)
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  DecryptionShare s9 = s3;
  s9.index = 9;
  auto range = decrypt_threshold(c.outcome.verification_keys, 3, sum.ct,
                                 std::vector<DecryptionShare>{s1, s2, s9}, prefix(), table());
  EXPECT_EQ(range.status().code(), ErrorCode::kInvalidArgument);
  Transcript t = prefix();
  EXPECT_FALSE(create_decryption_share(0, c.shares[0], sum.ct, t).is_ok());
}

TEST(Threshold, SumOutOfRangeIsAClearError) {
  const Committee c = Committee::make();
  // One ciphertext of 2^40 + 1.
  Ciphertext ct = encrypt(c.outcome.public_key, position_to_scalar((std::int64_t{1} << 40) + 1),
                          Scalar::random());
  std::vector<DecryptionShare> shares;
  for (std::uint32_t j = 1; j <= 3; ++j)
    shares.push_back(share_of(c, j, ct));
  // A smaller bound keeps the test fast; the default table reaches 2^40 (bsgs_test).
  auto res = decrypt_threshold(c.outcome.verification_keys, 3, ct, shares, prefix(), table(),
                               std::uint64_t{1} << 30);
  EXPECT_EQ(res.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(res.status().message().find("2^30"), std::string_view::npos);
}

TEST(Threshold, TranscriptPrefixAndCiphertextAreBound) {
  const Committee c = Committee::make();
  const Sum sum = encrypted_sum(c.outcome.public_key, 5, 5);
  const DecryptionShare s = share_of(c, 2, sum.ct);
  const Point& y = c.outcome.verification_key(2);
  {
    Transcript t("pfex/v1/test");
    t.append_u64("epoch", 13);
    EXPECT_EQ(verify_decryption_share(s, y, sum.ct, t).code(), ErrorCode::kInvalidProof);
  }
  {
    Ciphertext other = sum.ct;
    other.E += Point::base();  // same R: D is still s_j*R, but the share names another E
    Transcript t = prefix();
    EXPECT_EQ(verify_decryption_share(s, y, other, t).code(), ErrorCode::kInvalidProof);
  }
  {
    DecryptionShare renamed = s;
    renamed.index = 3;
    Transcript t = prefix();
    EXPECT_EQ(verify_decryption_share(renamed, c.outcome.verification_key(3), sum.ct, t).code(),
              ErrorCode::kInvalidProof);
  }
}

TEST(Threshold, ShareEncodingIsStrict) {
  const Committee c = Committee::make();
  const Sum sum = encrypted_sum(c.outcome.public_key, 2, 6);
  const DecryptionShare s = share_of(c, 4, sum.ct);
  const Bytes bytes = s.encode();
  ASSERT_EQ(bytes.size(), DecryptionShare::kBytes);
  auto back = DecryptionShare::decode(bytes);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->encode(), bytes);
  const Point& y = c.outcome.verification_key(4);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    Bytes bad = bytes;
    bad[i] ^= 0x01;
    auto d = DecryptionShare::decode(bad);
    if (!d.is_ok()) continue;
    Transcript t = prefix();
    const Point& key = d->index >= 1 && d->index <= 5 ? c.outcome.verification_key(d->index) : y;
    EXPECT_FALSE(verify_decryption_share(*d, key, sum.ct, t).is_ok()) << "byte " << i;
  }
  EXPECT_FALSE(DecryptionShare::decode(Bytes(bytes.begin(), bytes.end() - 1)).is_ok());
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(DecryptionShare::decode(longer).is_ok());
  Bytes zero_index = bytes;
  zero_index[0] = 0;
  zero_index[1] = 0;
  EXPECT_FALSE(DecryptionShare::decode(zero_index).is_ok());
}

TEST(Threshold, BatchVerificationOfShares) {
  const Committee c = Committee::make();
  const Sum sum = encrypted_sum(c.outcome.public_key, 4, 7);
  std::vector<DecryptionShare> shares;
  for (std::uint32_t j = 1; j <= 5; ++j)
    shares.push_back(share_of(c, j, sum.ct));
  auto batch = [&](const std::vector<DecryptionShare>& ss) {
    VerificationTerms terms;
    for (const DecryptionShare& s : ss) {
      Transcript t = prefix();
      EXPECT_TRUE(append_decryption_share_verification_terms(s, c.outcome.verification_key(s.index),
                                                             sum.ct, t, Scalar::random(), terms)
                      .is_ok());
    }
    return terms.is_identity_var();
  };
  EXPECT_TRUE(batch(shares));
  shares[3].D += Point::base();
  EXPECT_FALSE(batch(shares));
}

TEST(Threshold, BatchOfVerifiedSharesOfAnEmptySum) {
  // The sum of no ciphertexts: R is the identity, every D_j too, and the proofs still verify.
  const Committee c = Committee::make();
  const Ciphertext zero = Ciphertext::zero();
  std::vector<DecryptionShare> shares;
  for (std::uint32_t j = 1; j <= 5; ++j)
    shares.push_back(share_of(c, j, zero));
  auto res = decrypt_threshold(c.outcome.verification_keys, 3, zero, shares, prefix(), table());
  ASSERT_TRUE(res.is_ok()) << res.status().to_string();
  EXPECT_EQ(res->value, 0);
}

}  // namespace
}  // namespace pfex::crypto
