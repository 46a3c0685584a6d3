#include "crypto/dkg.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "crypto/elgamal.hpp"
#include "crypto/threshold.hpp"

namespace pfex::crypto {
namespace {

constexpr std::array<std::uint8_t, 8> kSession = {'t', 'e', 's', 't', '/', 'd', 'k', 'g'};

// n validators with their X25519 keys and the parameters.
struct Validators {
  std::vector<X25519SecretKey> keys;
  DkgParams params;

  static Validators make(std::uint32_t n, std::uint32_t t) {
    std::vector<X25519SecretKey> keys;
    std::vector<X25519PublicKey> pks;
    for (std::uint32_t j = 0; j < n; ++j) {
      keys.push_back(X25519SecretKey::generate());
      pks.push_back(keys.back().public_key());
    }
    auto params = DkgParams::create(n, t, kSession, pks);
    EXPECT_TRUE(params.is_ok()) << params.status().to_string();
    return {std::move(keys), *params};
  }
  const X25519SecretKey& key(std::uint32_t j) const { return keys[j - 1]; }
};

// A dealing by a dealer that knows f (its coefficients) but sends `wrong_to` the share f(j) + 1.
DealerMessage dishonest_dealing(const DkgParams& params, std::uint32_t dealer,
                                const std::vector<Scalar>& coefficients, std::uint32_t wrong_to) {
  DealerMessage m;
  m.dealer = dealer;
  for (const Scalar& a : coefficients)
    m.commitments.push_back(Point::mul_base(a));
  const X25519SecretKey esk = X25519SecretKey::generate();
  m.ephemeral_key = esk.public_key();
  for (std::uint32_t j = 1; j <= params.n(); ++j) {
    Scalar s;
    for (std::size_t k = coefficients.size(); k-- > 0;)
      s = s * Scalar::from_u64(j) + coefficients[k];
    if (j == wrong_to) s += Scalar::one();
    m.encrypted_shares.push_back(seal_dkg_share(params, esk, dealer, j, m.commitments, s));
  }
  return m;
}

std::vector<Scalar> random_coefficients(std::uint32_t t) {
  std::vector<Scalar> c;
  for (std::uint32_t k = 0; k < t; ++k)
    c.push_back(Scalar::random());
  return c;
}

// Runs the complaint round: every validator complains about every share that does not open.
void complain_all(DkgSession& s, const Validators& v) {
  s.close_dealings();
  for (std::uint32_t j = 1; j <= v.params.n(); ++j) {
    for (const Complaint& c : s.complaints_for(j, v.key(j)))
      EXPECT_TRUE(s.add_complaint(c).is_ok());
  }
  s.close_complaints();
}

// x from t shares by Lagrange interpolation at 0.
Scalar interpolate(const std::vector<std::uint32_t>& idx, const std::vector<Scalar>& shares) {
  auto lambda = lagrange_coefficients_at_zero(idx);
  EXPECT_TRUE(lambda.is_ok());
  Scalar x;
  for (std::size_t a = 0; a < idx.size(); ++a)
    x += (*lambda)[a] * shares[a];
  return x;
}

TEST(Dkg, ParamsAreChecked) {
  const Validators v = Validators::make(5, 3);
  std::vector<X25519PublicKey> pks;
  for (const auto& k : v.keys)
    pks.push_back(k.public_key());
  EXPECT_TRUE(DkgParams::create(5, 3, kSession, pks).is_ok());
  EXPECT_TRUE(DkgParams::create(5, 1, kSession, pks).is_ok());
  EXPECT_FALSE(DkgParams::create(5, 4, kSession, pks).is_ok());  // 2t - 1 > n
  EXPECT_FALSE(DkgParams::create(5, 0, kSession, pks).is_ok());
  EXPECT_FALSE(DkgParams::create(4, 2, kSession, pks).is_ok());  // 5 keys for n = 4
  EXPECT_FALSE(DkgParams::create(5, 3, Bytes{}, pks).is_ok());
  EXPECT_FALSE(DkgParams::create(5, 3, Bytes(257, 1), pks).is_ok());
  pks[2] = X25519PublicKey{};  // the all-zero key has low order
  EXPECT_FALSE(DkgParams::create(5, 3, kSession, pks).is_ok());
  EXPECT_FALSE(Dealer::create(v.params, 0).is_ok());
  EXPECT_FALSE(Dealer::create(v.params, 6).is_ok());
}

TEST(Dkg, HonestRunFiveValidatorsThresholdThree) {
  const Validators v = Validators::make(5, 3);
  DkgSession s(v.params);
  std::vector<Dealer> dealers;
  Point want_pk;
  for (std::uint32_t i = 1; i <= 5; ++i) {
    dealers.push_back(*Dealer::create(v.params, i));
    const DealerMessage m = dealers.back().deal();
    want_pk += m.commitments[0];
    // Through the wire, as the log carries it.
    const Bytes bytes = m.encode();
    ASSERT_EQ(bytes.size(), DealerMessage::encoded_size(v.params));
    auto decoded = DealerMessage::decode(bytes, v.params);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    ASSERT_TRUE(s.add_dealing(*decoded).is_ok());
  }
  complain_all(s, v);
  auto out = s.finalize();
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(out->qualified, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(out->public_key, want_pk);
  ASSERT_EQ(out->verification_keys.size(), 5u);

  std::vector<Scalar> shares;
  for (std::uint32_t j = 1; j <= 5; ++j) {
    auto sj = s.secret_share(j, v.key(j));
    ASSERT_TRUE(sj.is_ok()) << sj.status().to_string();
    EXPECT_EQ(Point::mul_base(*sj), out->verification_key(j));
    shares.push_back(*sj);
  }
  // Another validator's X25519 key does not open j's shares.
  EXPECT_FALSE(s.secret_share(1, v.key(2)).is_ok());

  // Any 3 of the 5 shares interpolate to the key; 2 do not.
  for (std::uint32_t a = 1; a <= 5; ++a)
    for (std::uint32_t b = a + 1; b <= 5; ++b)
      for (std::uint32_t c = b + 1; c <= 5; ++c) {
        const Scalar x = interpolate({a, b, c}, {shares[a - 1], shares[b - 1], shares[c - 1]});
        EXPECT_EQ(Point::mul_base(x), out->public_key) << a << b << c;
      }
  for (std::uint32_t a = 1; a <= 5; ++a)
    for (std::uint32_t b = a + 1; b <= 5; ++b) {
      const Scalar x = interpolate({a, b}, {shares[a - 1], shares[b - 1]});
      EXPECT_FALSE(Point::mul_base(x) == out->public_key) << a << b;
    }
}

TEST(Dkg, SameMessagesSameOutcome) {
  const Validators v = Validators::make(3, 2);
  std::vector<DealerMessage> msgs;
  for (std::uint32_t i = 1; i <= 3; ++i)
    msgs.push_back(Dealer::create(v.params, i)->deal());
  auto run = [&] {
    DkgSession s(v.params);
    for (const auto& m : msgs)
      EXPECT_TRUE(s.add_dealing(m).is_ok());
    s.close_complaints();
    return *s.finalize();
  };
  const DkgOutcome a = run();
  const DkgOutcome b = run();
  EXPECT_EQ(a.public_key, b.public_key);
  EXPECT_EQ(a.qualified, b.qualified);
  for (std::uint32_t j = 1; j <= 3; ++j)
    EXPECT_EQ(a.verification_key(j), b.verification_key(j));
}

TEST(Dkg, CheatingDealerCaughtByFeldmanAndJustified) {
  // Dealer 2 sends validator 4 a wrong share; 4 complains; 2 answers with the right share in
  // public and stays qualified; 4 uses the published share.
  const Validators v = Validators::make(5, 3);
  DkgSession s(v.params);
  const std::vector<Scalar> f2 = random_coefficients(3);
  for (std::uint32_t i = 1; i <= 5; ++i) {
    const DealerMessage m =
        i == 2 ? dishonest_dealing(v.params, 2, f2, 4) : Dealer::create(v.params, i)->deal();
    ASSERT_TRUE(s.add_dealing(m).is_ok());
  }
  auto opened = s.open_share(2, 4, v.key(4));
  EXPECT_EQ(opened.status().code(), ErrorCode::kInvalidProof);
  EXPECT_NE(opened.status().message().find("Feldman"), std::string_view::npos);
  EXPECT_TRUE(s.open_share(2, 3, v.key(3)).is_ok());

  s.close_dealings();
  const auto complaints = s.complaints_for(4, v.key(4));
  ASSERT_EQ(complaints.size(), 1u);
  EXPECT_EQ(complaints[0].dealer, 2u);
  EXPECT_EQ(complaints[0].complainer, 4u);
  ASSERT_TRUE(s.add_complaint(complaints[0]).is_ok());
  EXPECT_EQ(s.add_complaint(complaints[0]).code(), ErrorCode::kAlreadyExists);
  s.close_complaints();

  // A wrong justification is refused; the right one counts.
  Scalar right;
  for (std::size_t k = f2.size(); k-- > 0;)
    right = right * Scalar::from_u64(4) + f2[k];
  EXPECT_EQ(s.add_justification({2, 4, right + Scalar::one()}).code(), ErrorCode::kInvalidProof);
  EXPECT_EQ(s.add_justification({2, 3, right}).code(), ErrorCode::kNotFound);
  ASSERT_TRUE(s.add_justification({2, 4, right}).is_ok());
  EXPECT_EQ(s.add_justification({2, 4, right}).code(), ErrorCode::kAlreadyExists);

  auto out = s.finalize();
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out->qualified, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  for (std::uint32_t j = 1; j <= 5; ++j) {
    auto sj = s.secret_share(j, v.key(j));
    ASSERT_TRUE(sj.is_ok()) << j << ": " << sj.status().to_string();
    EXPECT_EQ(Point::mul_base(*sj), out->verification_key(j));
  }
}

TEST(Dkg, UnansweredComplaintDisqualifiesTheDealer) {
  const Validators v = Validators::make(5, 3);
  DkgSession s(v.params);
  std::vector<DealerMessage> msgs;
  for (std::uint32_t i = 1; i <= 5; ++i) {
    msgs.push_back(i == 3 ? dishonest_dealing(v.params, 3, random_coefficients(3), 1)
                          : Dealer::create(v.params, i)->deal());
    ASSERT_TRUE(s.add_dealing(msgs.back()).is_ok());
  }
  complain_all(s, v);
  auto out = s.finalize();
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out->qualified, (std::vector<std::uint32_t>{1, 2, 4, 5}));
  Point want;
  for (std::uint32_t i : {1u, 2u, 4u, 5u})
    want += msgs[i - 1].commitments[0];
  EXPECT_EQ(out->public_key, want);
  for (std::uint32_t j = 1; j <= 5; ++j) {
    auto sj = s.secret_share(j, v.key(j));
    ASSERT_TRUE(sj.is_ok()) << j << ": " << sj.status().to_string();
    EXPECT_EQ(Point::mul_base(*sj), out->verification_key(j));
  }
}

TEST(Dkg, EndToEndDecryptionAfterADisqualificationAndAJustification) {
  // Dealer 1 cheats validator 2 and answers the complaint; dealer 5 cheats validator 3 and does
  // not. The key of the remaining qualified dealers decrypts a sum with any three validators.
  const Validators v = Validators::make(5, 3);
  DkgSession s(v.params);
  const std::vector<Scalar> f1 = random_coefficients(3);
  for (std::uint32_t i = 1; i <= 5; ++i) {
    const DealerMessage m = i == 1   ? dishonest_dealing(v.params, 1, f1, 2)
                            : i == 5 ? dishonest_dealing(v.params, 5, random_coefficients(3), 3)
                                     : Dealer::create(v.params, i)->deal();
    ASSERT_TRUE(s.add_dealing(*DealerMessage::decode(m.encode(), v.params)).is_ok());
  }
  s.close_dealings();
  for (std::uint32_t j = 1; j <= 5; ++j)
    for (const Complaint& c : s.complaints_for(j, v.key(j)))
      ASSERT_TRUE(s.add_complaint(*Complaint::decode(c.encode(), v.params)).is_ok());
  s.close_complaints();
  Scalar f1_at_2;
  for (std::size_t k = f1.size(); k-- > 0;)
    f1_at_2 = f1_at_2 * Scalar::from_u64(2) + f1[k];
  const Justification answer{1, 2, f1_at_2};
  ASSERT_TRUE(s.add_justification(*Justification::decode(answer.encode(), v.params)).is_ok());
  auto out = s.finalize();
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out->qualified, (std::vector<std::uint32_t>{1, 2, 3, 4}));

  std::vector<Scalar> shares;
  for (std::uint32_t j = 1; j <= 5; ++j)
    shares.push_back(*s.secret_share(j, v.key(j)));
  Ciphertext sum;
  std::int64_t want = 0;
  for (std::int64_t p = -50; p < 50; p += 3) {
    want += p * 1001;
    sum += encrypt(out->public_key, position_to_scalar(p * 1001), Scalar::random());
  }
  const DiscreteLogTable table(12);
  for (const std::vector<std::uint32_t>& who :
       {std::vector<std::uint32_t>{1, 2, 3}, {2, 4, 5}, {1, 3, 5}}) {
    std::vector<DecryptionShare> ds;
    for (std::uint32_t j : who) {
      Transcript t("pfex/v1/test");
      ds.push_back(*create_decryption_share(j, shares[j - 1], sum, t));
    }
    auto res = decrypt_threshold(out->verification_keys, 3, sum, ds, Transcript("pfex/v1/test"),
                                 table, 1u << 24);
    ASSERT_TRUE(res.is_ok()) << res.status().to_string();
    EXPECT_EQ(res->value, want);
  }
}

TEST(Dkg, TamperedCiphertextLeadsToAComplaint) {
  const Validators v = Validators::make(3, 2);
  DkgSession s(v.params);
  for (std::uint32_t i = 1; i <= 3; ++i) {
    DealerMessage m = Dealer::create(v.params, i)->deal();
    if (i == 1) m.encrypted_shares[1][5] ^= 1;  // to validator 2
    ASSERT_TRUE(s.add_dealing(m).is_ok());
  }
  EXPECT_EQ(s.open_share(1, 2, v.key(2)).status().code(), ErrorCode::kInvalidProof);
  s.close_dealings();
  const auto c = s.complaints_for(2, v.key(2));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].dealer, 1u);
  // A validator that did not complain about a share it cannot open has no share.
  ASSERT_TRUE(s.add_complaint(c[0]).is_ok());
  s.close_complaints();
  auto out = s.finalize();
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out->qualified, (std::vector<std::uint32_t>{2, 3}));
  EXPECT_TRUE(s.secret_share(2, v.key(2)).is_ok());
}

TEST(Dkg, MissedComplaintMeansNoShare) {
  const Validators v = Validators::make(3, 2);
  DkgSession s(v.params);
  for (std::uint32_t i = 1; i <= 3; ++i) {
    DealerMessage m = Dealer::create(v.params, i)->deal();
    if (i == 1) m.encrypted_shares[1][5] ^= 1;
    ASSERT_TRUE(s.add_dealing(m).is_ok());
  }
  s.close_complaints();  // nobody complained: dealer 1 qualifies
  auto out = s.finalize();
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out->qualified.size(), 3u);
  EXPECT_FALSE(s.secret_share(2, v.key(2)).is_ok());
  EXPECT_TRUE(s.secret_share(3, v.key(3)).is_ok());
}

TEST(Dkg, PhasesAndDuplicates) {
  const Validators v = Validators::make(3, 2);
  DkgSession s(v.params);
  const DealerMessage m1 = Dealer::create(v.params, 1)->deal();
  ASSERT_TRUE(s.add_dealing(m1).is_ok());
  EXPECT_EQ(s.add_dealing(Dealer::create(v.params, 1)->deal()).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(s.add_complaint({1, 2}).code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s.finalize().status().code(), ErrorCode::kFailedPrecondition);
  s.close_dealings();
  EXPECT_EQ(s.add_dealing(Dealer::create(v.params, 2)->deal()).code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(s.add_complaint({2, 1}).code(), ErrorCode::kNotFound);  // 2 never dealt
  EXPECT_EQ(s.add_complaint({1, 4}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.add_justification({1, 2, Scalar::one()}).code(), ErrorCode::kFailedPrecondition);
  s.close_complaints();
  auto out = s.finalize();
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out->qualified, (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(out->public_key, m1.commitments[0]);
}

TEST(Dkg, NoQualifiedDealerIsAnError) {
  const Validators v = Validators::make(3, 2);
  DkgSession s(v.params);
  s.close_complaints();
  EXPECT_EQ(s.finalize().status().code(), ErrorCode::kFailedPrecondition);
}

TEST(Dkg, MessageEncodingsAreStrict) {
  const Validators v = Validators::make(5, 3);
  const Dealer d = *Dealer::create(v.params, 4);
  const DealerMessage m = d.deal();
  const Bytes bytes = m.encode();
  EXPECT_EQ(bytes.size(), 1u + 2 + 3 * 32 + 32 + 5 * 48);
  auto back = DealerMessage::decode(bytes, v.params);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->encode(), bytes);

  EXPECT_FALSE(DealerMessage::decode(Bytes(bytes.begin(), bytes.end() - 1), v.params).is_ok());
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(DealerMessage::decode(longer, v.params).is_ok());
  Bytes bad = bytes;
  bad[0] = 2;  // version
  EXPECT_FALSE(DealerMessage::decode(bad, v.params).is_ok());
  bad = bytes;
  bad[1] = 0;  // dealer 0
  bad[2] = 0;
  EXPECT_FALSE(DealerMessage::decode(bad, v.params).is_ok());
  bad = bytes;
  bad[1] = 6;  // dealer 6 > n
  EXPECT_FALSE(DealerMessage::decode(bad, v.params).is_ok());
  bad = bytes;
  bad[3 + 31] |= 0x80;  // A_0 not canonical
  EXPECT_FALSE(DealerMessage::decode(bad, v.params).is_ok());
  // Parameters with another t read another length.
  const Validators v2 = Validators::make(5, 2);
  EXPECT_FALSE(DealerMessage::decode(bytes, v2.params).is_ok());

  const Complaint c{2, 5};
  ASSERT_EQ(c.encode().size(), Complaint::kBytes);
  auto cb = Complaint::decode(c.encode(), v.params);
  ASSERT_TRUE(cb.is_ok());
  EXPECT_EQ(cb->dealer, 2u);
  EXPECT_EQ(cb->complainer, 5u);
  EXPECT_FALSE(Complaint::decode(Complaint{2, 6}.encode(), v.params).is_ok());

  auto jst = d.justify(2);
  ASSERT_TRUE(jst.is_ok());
  const Bytes jb = jst->encode();
  ASSERT_EQ(jb.size(), Justification::kBytes);
  auto jback = Justification::decode(jb, v.params);
  ASSERT_TRUE(jback.is_ok());
  EXPECT_EQ(jback->share, jst->share);
  Bytes jbad = jb;
  jbad[35] = 0xff;  // share >= l
  EXPECT_FALSE(Justification::decode(jbad, v.params).is_ok());
  EXPECT_FALSE(d.justify(0).is_ok());
}

}  // namespace
}  // namespace pfex::crypto
