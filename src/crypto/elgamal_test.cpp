#include "crypto/elgamal.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace pfex::crypto {
namespace {

// One table for the whole test binary (building it takes a fraction of a second).
const DiscreteLogTable& table() {
  static const DiscreteLogTable t(16);
  return t;
}

TEST(ElGamal, PositionToScalarIsVModL) {
  EXPECT_EQ(position_to_scalar(0), Scalar::zero());
  EXPECT_EQ(position_to_scalar(5), Scalar::from_u64(5));
  EXPECT_EQ(position_to_scalar(-5), -Scalar::from_u64(5));
  EXPECT_EQ(position_to_scalar(-5) + Scalar::from_u64(5), Scalar::zero());
  EXPECT_EQ(position_to_scalar(std::numeric_limits<std::int64_t>::max()),
            Scalar::from_u64(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(position_to_scalar(std::numeric_limits<std::int64_t>::min()),
            -Scalar::from_u64(std::uint64_t{1} << 63));
  // l - |v| as bytes: l - 1 ends in ...0x10 at byte 31 and starts with 0xec.
  EXPECT_EQ(position_to_scalar(-1).bytes()[0], 0xec);
  EXPECT_EQ(position_to_scalar(-1).bytes()[31], 0x10);
}

TEST(ElGamal, EncryptIsRhoGAndVGPlusRhoPK) {
  const Scalar x = Scalar::random();
  const Point pk = x * Point::base();
  const Scalar v = position_to_scalar(-42);
  const Scalar rho = Scalar::random();
  const Ciphertext ct = encrypt(pk, v, rho);
  EXPECT_EQ(ct.R, rho * Point::base());
  EXPECT_EQ(ct.E, v * Point::base() + rho * pk);
}

TEST(ElGamal, DecryptRoundTripIncludingNegativeValues) {
  const Scalar x = Scalar::random();
  const Point pk = x * Point::base();
  std::mt19937_64 rng(7);
  std::vector<std::int64_t> values = {0,
                                      1,
                                      -1,
                                      65535,
                                      -65536,
                                      1'000'000'007,
                                      -1'000'000'007,
                                      (std::int64_t{1} << 32) + 3,
                                      -(std::int64_t{1} << 32)};
  for (int i = 0; i < 10; ++i)
    values.push_back(static_cast<std::int64_t>(rng() % (1u << 30)) - (1 << 29));
  for (std::int64_t v : values) {
    const Ciphertext ct = encrypt(pk, position_to_scalar(v), Scalar::random());
    auto got = decrypt_with_key_var(x, ct, table(), std::uint64_t{1} << 33);
    ASSERT_TRUE(got.is_ok()) << v << ": " << got.status().to_string();
    EXPECT_EQ(*got, v);
  }
  // A wrong key decrypts to garbage, which is out of range.
  const Ciphertext ct = encrypt(pk, position_to_scalar(9), Scalar::random());
  auto wrong = decrypt_with_key_var(x + Scalar::one(), ct, table(), 1u << 20);
  EXPECT_EQ(wrong.status().code(), ErrorCode::kNotFound);
}

TEST(ElGamal, HomomorphicSumOfManyCiphertexts) {
  const Scalar x = Scalar::random();
  const Point pk = x * Point::base();
  std::mt19937_64 rng(11);
  std::vector<Ciphertext> cts;
  std::int64_t sum = 0;
  for (int i = 0; i < 500; ++i) {
    const std::int64_t v =
        static_cast<std::int64_t>(rng() % (std::uint64_t{1} << 28)) - (std::int64_t{1} << 27);
    sum += v;
    cts.push_back(encrypt(pk, position_to_scalar(v), Scalar::random()));
  }
  const Ciphertext total = sum_ciphertexts(cts);
  auto got = decrypt_with_key_var(x, total, table(), std::uint64_t{1} << 40);
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_EQ(*got, sum);
  // Sum of nothing: the encryption of 0.
  EXPECT_EQ(sum_ciphertexts({}), Ciphertext::zero());
  auto zero = decrypt_with_key_var(x, Ciphertext::zero(), table());
  ASSERT_TRUE(zero.is_ok());
  EXPECT_EQ(*zero, 0);
  // Opposite positions cancel.
  const Ciphertext a = encrypt(pk, position_to_scalar(1234), Scalar::random());
  const Ciphertext b = encrypt(pk, position_to_scalar(-1234), Scalar::random());
  auto cancel = decrypt_with_key_var(x, a + b, table());
  ASSERT_TRUE(cancel.is_ok());
  EXPECT_EQ(*cancel, 0);
}

TEST(ElGamal, CiphertextEncodingIsStrict) {
  const Point pk = Point::random();
  const Ciphertext ct = encrypt(pk, position_to_scalar(-3), Scalar::random());
  const Bytes bytes = ct.encode();
  ASSERT_EQ(bytes.size(), Ciphertext::kBytes);
  auto back = Ciphertext::decode(bytes);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, ct);
  EXPECT_EQ(back->encode(), bytes);

  Bytes shorter(bytes.begin(), bytes.end() - 1);
  EXPECT_FALSE(Ciphertext::decode(shorter).is_ok());
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(Ciphertext::decode(longer).is_ok());
  for (std::size_t at : {std::size_t{31}, std::size_t{63}}) {
    Bytes bad = bytes;
    bad[at] |= 0x80;  // top bit set: never canonical
    EXPECT_FALSE(Ciphertext::decode(bad).is_ok()) << at;
  }
  // The identity is a valid R and E (the sum of zero ciphertexts).
  EXPECT_TRUE(Ciphertext::decode(Bytes(64, 0)).is_ok());
}

// The refresh's statement with a consistent witness.
struct Refresh {
  PedersenGens gens;
  Scalar x = Scalar::random();
  Point pk = x * Point::base();
  std::int64_t v = -17;
  Scalar r = Scalar::random();
  Scalar rho = Scalar::random();
  Point V = gens.commit(position_to_scalar(v), r);
  Ciphertext ct = encrypt(pk, position_to_scalar(v), rho);

  EncryptionProof prove(std::string_view domain = "pfex/v1/test") const {
    Transcript t(domain);
    auto p = prove_encryption(gens, pk, V, ct, position_to_scalar(v), r, rho, t);
    EXPECT_TRUE(p.is_ok()) << p.status().to_string();
    return *p;
  }
  Status verify(const EncryptionProof& p, std::string_view domain = "pfex/v1/test") const {
    Transcript t(domain);
    return verify_encryption(gens, pk, V, ct, p, t);
  }
};

TEST(EncryptionProof, HonestProofVerifies) {
  const Refresh f;
  const EncryptionProof p = f.prove();
  EXPECT_TRUE(f.verify(p).is_ok());
  const Bytes bytes = p.encode();
  EXPECT_EQ(bytes.size(), EncryptionProof::kBytes);
  auto back = EncryptionProof::decode(bytes);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->encode(), bytes);
  EXPECT_TRUE(f.verify(*back).is_ok());
}

TEST(EncryptionProof, FlippedBytesAreRejected) {
  const Refresh f;
  const Bytes bytes = f.prove().encode();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (std::uint8_t bit : {std::uint8_t{0x01}, std::uint8_t{0x40}}) {
      Bytes bad = bytes;
      bad[i] ^= bit;
      auto p = EncryptionProof::decode(bad);
      if (!p.is_ok()) continue;  // no longer canonical
      EXPECT_EQ(f.verify(*p).code(), ErrorCode::kInvalidProof) << "byte " << i;
    }
  }
  EXPECT_FALSE(EncryptionProof::decode(Bytes(bytes.begin(), bytes.end() - 1)).is_ok());
  Bytes longer = bytes;
  longer.push_back(1);
  EXPECT_FALSE(EncryptionProof::decode(longer).is_ok());
}

TEST(EncryptionProof, CiphertextOfAnotherValueIsRejected) {
  Refresh f;
  // The prover refuses a ciphertext of v + 1 against a commitment to v.
  const Ciphertext other = encrypt(f.pk, position_to_scalar(f.v + 1), f.rho);
  Transcript t("pfex/v1/test");
  auto refused = prove_encryption(f.gens, f.pk, f.V, other, position_to_scalar(f.v), f.r, f.rho, t);
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  // An honest proof does not transfer to another ciphertext, commitment or key.
  const EncryptionProof p = f.prove();
  Refresh g = f;
  g.ct = other;
  EXPECT_EQ(g.verify(p).code(), ErrorCode::kInvalidProof);
  g = f;
  g.ct.E += Point::base();  // same rho, plaintext v + 1
  EXPECT_EQ(g.verify(p).code(), ErrorCode::kInvalidProof);
  g = f;
  g.V = f.gens.commit(position_to_scalar(f.v + 1), f.r);
  EXPECT_EQ(g.verify(p).code(), ErrorCode::kInvalidProof);
  g = f;
  g.pk = Point::random();
  EXPECT_EQ(g.verify(p).code(), ErrorCode::kInvalidProof);
  // A ciphertext of v + 1 with its own proof for a commitment to v + 1 is fine, and does not
  // verify against the commitment to v.
  g = f;
  g.v = f.v + 1;
  g.V = g.gens.commit(position_to_scalar(g.v), g.r);
  g.ct = encrypt(g.pk, position_to_scalar(g.v), g.rho);
  const EncryptionProof q = g.prove();
  EXPECT_TRUE(g.verify(q).is_ok());
  Refresh h = g;
  h.V = f.V;
  EXPECT_EQ(h.verify(q).code(), ErrorCode::kInvalidProof);
}

TEST(EncryptionProof, TranscriptPrefixIsBound) {
  const Refresh f;
  const EncryptionProof p = f.prove("pfex/v1/test");
  EXPECT_EQ(f.verify(p, "pfex/v1/other").code(), ErrorCode::kInvalidProof);
  // A transaction field absorbed before the proof binds it.
  auto with_field = [&](std::uint64_t field) {
    Transcript t("pfex/v1/test");
    t.append_u64("epoch", field);
    return t;
  };
  Transcript tp = with_field(7);
  auto q = prove_encryption(f.gens, f.pk, f.V, f.ct, position_to_scalar(f.v), f.r, f.rho, tp);
  ASSERT_TRUE(q.is_ok());
  Transcript same = with_field(7);
  EXPECT_TRUE(verify_encryption(f.gens, f.pk, f.V, f.ct, *q, same).is_ok());
  Transcript other = with_field(8);
  EXPECT_EQ(verify_encryption(f.gens, f.pk, f.V, f.ct, *q, other).code(), ErrorCode::kInvalidProof);
}

TEST(EncryptionProof, BatchVerificationTerms) {
  const Refresh a;
  const Refresh b;
  const EncryptionProof pa = a.prove();
  const EncryptionProof pb = b.prove();
  auto batch = [&](const EncryptionProof& qb) {
    VerificationTerms terms;
    Transcript ta("pfex/v1/test");
    Transcript tb("pfex/v1/test");
    EXPECT_TRUE(append_encryption_verification_terms(a.gens, a.pk, a.V, a.ct, pa, ta,
                                                     Scalar::random(), terms)
                    .is_ok());
    EXPECT_TRUE(append_encryption_verification_terms(b.gens, b.pk, b.V, b.ct, qb, tb,
                                                     Scalar::random(), terms)
                    .is_ok());
    return terms.is_identity_var();
  };
  EXPECT_TRUE(batch(pb));
  EXPECT_FALSE(batch(pa));  // a's proof against b's statement
}

}  // namespace
}  // namespace pfex::crypto
