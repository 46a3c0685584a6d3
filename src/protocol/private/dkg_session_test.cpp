#include "protocol/private/dkg_session.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/test_util.hpp"
#include "crypto/threshold.hpp"

namespace pfex::priv {
namespace {

using crypto::Complaint;
using crypto::DealerMessage;
using crypto::Justification;
using crypto::Point;
using crypto::Scalar;
using Phase = DkgSession::Phase;

// Every key and coefficient comes from one seeded generator: each test is the same run every
// time (reseed() at its start).
crypto::testing::TestRng& rng() {
  static crypto::testing::TestRng r(1);
  return r;
}
void reseed(std::uint64_t seed) {
  rng() = crypto::testing::TestRng(seed);
}
crypto::X25519SecretKey x25519_key() {
  return crypto::X25519SecretKey::from_bytes(rng().bytes<32>());
}

constexpr std::int64_t kStart = 5'000;  // the genesis's ledger time
constexpr std::int64_t kRound = 1'000;  // each round's length
LedgerTime at(std::int64_t ms) {
  return LedgerTime(kStart + ms);
}

Digest32 market_id(std::uint8_t b) {
  Digest32 id{};
  id.fill(b);
  return id;
}

// n validators with their identity and share keys, and a genesis listing them.
struct Validators {
  std::vector<crypto::Ed25519SigningKey> identity;
  std::vector<crypto::X25519SecretKey> share;
  DkgGenesis genesis;

  static Validators make(std::uint32_t n, std::uint32_t t) {
    Validators v;
    v.genesis.threshold = t;
    v.genesis.dealing_ms = v.genesis.complaint_ms = v.genesis.justification_ms = kRound;
    for (std::uint32_t j = 0; j < n; ++j) {
      v.identity.push_back(crypto::Ed25519SigningKey::from_seed(rng().bytes<32>()));
      v.share.push_back(x25519_key());
      v.genesis.validators.push_back({v.identity.back().public_key(), v.share.back().public_key()});
    }
    return v;
  }
  const crypto::Ed25519SigningKey& key(std::uint32_t j) const { return identity[j - 1]; }
  const crypto::X25519SecretKey& sk(std::uint32_t j) const { return share[j - 1]; }
};

DkgSession open(const Validators& v, std::uint8_t market = 1) {
  Result<DkgSession> s = DkgSession::open(market_id(market), v.genesis, LedgerTime(kStart));
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return std::move(s).value();
}

Bytes entry(const Validators& v, const DkgSession& s, DkgEntryKind kind, std::uint32_t j,
            ByteSpan body) {
  return sign_dkg_entry(v.key(j), s.session_id(), kind, j, body);
}

Scalar evaluate(const std::vector<Scalar>& coefficients, std::uint32_t j) {
  Scalar s;
  for (std::size_t k = coefficients.size(); k-- > 0;)
    s = s * Scalar::from_u64(j) + coefficients[k];
  return s;
}

// Dealer i's dealing of the polynomial `coefficients`; the share to `wrong_to` is off by one.
DealerMessage dealing_of(const crypto::DkgParams& params, std::uint32_t i,
                         const std::vector<Scalar>& coefficients, std::uint32_t wrong_to = 0) {
  DealerMessage m;
  m.dealer = i;
  for (const Scalar& a : coefficients)
    m.commitments.push_back(Point::mul_base(a));
  const crypto::X25519SecretKey esk = x25519_key();
  m.ephemeral_key = esk.public_key();
  for (std::uint32_t j = 1; j <= params.n(); ++j) {
    Scalar s = evaluate(coefficients, j);
    if (j == wrong_to) s += Scalar::one();
    m.encrypted_shares.push_back(crypto::seal_dkg_share(params, esk, i, j, m.commitments, s));
  }
  return m;
}

std::vector<Scalar> random_polynomial(std::uint32_t t) {
  std::vector<Scalar> c;
  for (std::uint32_t k = 0; k < t; ++k)
    c.push_back(Scalar::from_bytes_mod_order_wide(rng().bytes<64>()));
  return c;
}

// One market start's log: every validator deals (dealer `bad` sends validator `victim` a wrong
// share), every validator complains about what does not open, and the bad dealer justifies its
// share if `justify`. The entries in log order with their ledger times.
struct StartLog {
  std::vector<std::pair<Bytes, LedgerTime>> log;
  std::vector<DealerMessage> dealings;
  std::vector<Complaint> complaints;
  std::vector<std::vector<Scalar>> polynomials;
};

StartLog run_start(const Validators& v, std::uint32_t bad, std::uint32_t victim, bool justify) {
  DkgSession s = open(v);
  StartLog run;
  const std::uint32_t n = s.params().n();
  for (std::uint32_t i = 1; i <= n; ++i) {
    run.polynomials.push_back(random_polynomial(s.params().t()));
    run.dealings.push_back(
        dealing_of(s.params(), i, run.polynomials.back(), i == bad ? victim : 0));
    run.log.emplace_back(entry(v, s, DkgEntryKind::kDealing, i, run.dealings.back().encode()),
                         at(10 * std::int64_t{i}));
    EXPECT_TRUE(s.apply(run.log.back().first, run.log.back().second).is_ok());
  }
  s.advance(at(kRound));
  for (std::uint32_t j = 1; j <= n; ++j) {
    for (const Complaint& c : s.dkg().complaints_for(j, v.sk(j))) {
      run.complaints.push_back(c);
      run.log.emplace_back(entry(v, s, DkgEntryKind::kComplaint, j, c.encode()),
                           at(kRound + 10 * std::int64_t{j}));
      EXPECT_TRUE(s.apply(run.log.back().first, run.log.back().second).is_ok());
    }
  }
  if (justify && bad != 0) {
    const Justification jst{bad, victim, evaluate(run.polynomials[bad - 1], victim)};
    run.log.emplace_back(entry(v, s, DkgEntryKind::kJustification, bad, jst.encode()),
                         at(2 * kRound + 5));
  }
  return run;
}

// Feeds a run's log to a fresh session and closes the last round.
DkgSession replay(const Validators& v, const StartLog& run) {
  DkgSession s = open(v);
  for (const auto& [bytes, time] : run.log) {
    Status st = s.apply(bytes, time);
    EXPECT_TRUE(st.is_ok()) << st.to_string();
  }
  s.advance(at(3 * kRound));
  return s;
}

// The key the crypto DKG gives for the same messages, without the log.
crypto::DkgOutcome crypto_outcome(const DkgSession& s, const StartLog& run, bool justify,
                                  std::uint32_t bad, std::uint32_t victim) {
  crypto::DkgSession direct(s.params());
  for (const DealerMessage& m : run.dealings)
    EXPECT_TRUE(direct.add_dealing(m).is_ok());
  direct.close_dealings();
  for (const Complaint& c : run.complaints)
    EXPECT_TRUE(direct.add_complaint(c).is_ok());
  direct.close_complaints();
  if (justify) {
    EXPECT_TRUE(direct
                    .add_justification(
                        Justification{bad, victim, evaluate(run.polynomials[bad - 1], victim)})
                    .is_ok());
  }
  Result<crypto::DkgOutcome> out = direct.finalize();
  EXPECT_TRUE(out.is_ok()) << out.status().to_string();
  return *out;
}

// Any t validators' shares interpolate to the secret of PK.
void expect_shares_open_the_key(const Validators& v, const DkgSession& s,
                                std::vector<std::uint32_t> signers) {
  std::vector<Scalar> shares;
  for (std::uint32_t j : signers) {
    Result<Scalar> share = s.dkg().secret_share(j, v.sk(j));
    ASSERT_TRUE(share.is_ok()) << share.status().to_string();
    EXPECT_EQ(Point::mul_base(*share), s.key()->verification_keys[j - 1]);
    shares.push_back(*share);
  }
  auto lambda = crypto::lagrange_coefficients_at_zero(signers);
  ASSERT_TRUE(lambda.is_ok());
  Scalar x;
  for (std::size_t a = 0; a < signers.size(); ++a)
    x += (*lambda)[a] * shares[a];
  EXPECT_EQ(Point::mul_base(x), s.key()->public_key);
}

TEST(DkgSession, FiveValidatorsThresholdThreeExcludeTheBadDealer) {
  reseed(1);
  const Validators v = Validators::make(5, 3);
  const StartLog run = run_start(v, /*bad=*/4, /*victim=*/2, /*justify=*/false);
  ASSERT_EQ(run.complaints.size(), 1U);
  EXPECT_EQ(run.complaints[0].dealer, 4U);
  EXPECT_EQ(run.complaints[0].complainer, 2U);

  DkgSession s = open(v);
  for (std::size_t e = 0; e < run.log.size(); ++e) {
    ASSERT_TRUE(s.apply(run.log[e].first, run.log[e].second).is_ok());
  }
  EXPECT_EQ(s.phase(), Phase::kComplaints);
  s.advance(at(3 * kRound - 1));
  EXPECT_EQ(s.phase(), Phase::kJustifications);
  EXPECT_FALSE(s.key().has_value());
  s.advance(at(3 * kRound));
  ASSERT_EQ(s.phase(), Phase::kDone) << s.failure();
  ASSERT_TRUE(s.key().has_value());
  EXPECT_EQ(s.key()->qualified, (std::vector<std::uint32_t>{1, 2, 3, 5}));

  // The same key as the crypto DKG fed the same messages, and the sum of the honest A_{i,0}.
  const crypto::DkgOutcome direct = crypto_outcome(s, run, false, 4, 2);
  EXPECT_EQ(s.key()->qualified, direct.qualified);
  EXPECT_EQ(s.key()->public_key, direct.public_key);
  EXPECT_EQ(s.key()->verification_keys, direct.verification_keys);
  Point pk;
  for (std::uint32_t i : {1U, 2U, 3U, 5U})
    pk += run.dealings[i - 1].commitments[0];
  EXPECT_EQ(s.key()->public_key, pk);
  EXPECT_EQ(s.key()->transcript_hash, s.transcript_hash());
  expect_shares_open_the_key(v, s, {1, 3, 4});
  expect_shares_open_the_key(v, s, {2, 4, 5});  // the victim's share holds without dealer 4
}

TEST(DkgSession, AJustifiedDealerStaysQualified) {
  reseed(2);
  const Validators v = Validators::make(5, 3);
  const StartLog run = run_start(v, 4, 2, /*justify=*/true);
  const DkgSession s = replay(v, run);
  ASSERT_EQ(s.phase(), Phase::kDone) << s.failure();
  EXPECT_EQ(s.key()->qualified, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(s.key()->public_key, crypto_outcome(s, run, true, 4, 2).public_key);
  expect_shares_open_the_key(v, s, {2, 3, 5});
}

// 2t - 1 <= n: with 4 validators the threshold is at most 2; t = 3 needs 5.
TEST(DkgSession, FourValidatorsTakeThresholdTwoNotThree) {
  reseed(3);
  Validators v = Validators::make(4, 3);
  Status st = v.genesis.validate();
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("2t - 1 <= n"), std::string::npos) << st.message();
  EXPECT_FALSE(DkgSession::open(market_id(1), v.genesis, LedgerTime(kStart)).is_ok());

  v.genesis.threshold = 2;
  const StartLog run = run_start(v, 3, 1, false);
  const DkgSession s = replay(v, run);
  ASSERT_EQ(s.phase(), Phase::kDone) << s.failure();
  EXPECT_EQ(s.key()->qualified, (std::vector<std::uint32_t>{1, 2, 4}));
  EXPECT_EQ(s.key()->public_key, crypto_outcome(s, run, false, 3, 1).public_key);
  expect_shares_open_the_key(v, s, {1, 3});
}

TEST(DkgSession, TwoSessionsFedTheSameEntriesGiveTheSameBytes) {
  reseed(4);
  const Validators v = Validators::make(5, 3);
  const StartLog run = run_start(v, 4, 2, true);
  const DkgSession a = replay(v, run);
  const DkgSession b = replay(v, run);
  ASSERT_EQ(a.phase(), Phase::kDone);
  EXPECT_EQ(a.encode_state(), b.encode_state());
  EXPECT_EQ(a.state_hash(), b.state_hash());
  EXPECT_EQ(a.key()->transcript_hash, b.key()->transcript_hash);

  // Another log order of the same messages is another transcript (and state), the same key.
  StartLog swapped = run;
  std::swap(swapped.log[0], swapped.log[1]);
  const DkgSession c = replay(v, swapped);
  EXPECT_EQ(c.key()->public_key, a.key()->public_key);
  EXPECT_NE(c.transcript_hash(), a.transcript_hash());
  EXPECT_NE(c.state_hash(), a.state_hash());
}

TEST(DkgSession, TheSnapshotRestoresTheSameSessionAtEveryStep) {
  reseed(5);
  const Validators v = Validators::make(5, 3);
  const StartLog run = run_start(v, 4, 2, true);
  const DkgSession whole = replay(v, run);
  // Snapshot after each entry, restore, go on: the same bytes at the end.
  for (std::size_t cut = 0; cut <= run.log.size(); ++cut) {
    DkgSession s = open(v);
    for (std::size_t e = 0; e < cut; ++e)
      ASSERT_TRUE(s.apply(run.log[e].first, run.log[e].second).is_ok());
    Result<DkgSession> restored = DkgSession::decode_state(s.encode_state());
    ASSERT_TRUE(restored.is_ok()) << cut << ": " << restored.status().to_string();
    EXPECT_EQ(restored->encode_state(), s.encode_state()) << cut;
    EXPECT_EQ(restored->phase(), s.phase()) << cut;
    EXPECT_EQ(restored->transcript_hash(), s.transcript_hash()) << cut;
    for (std::size_t e = cut; e < run.log.size(); ++e)
      ASSERT_TRUE(restored->apply(run.log[e].first, run.log[e].second).is_ok()) << cut;
    restored->advance(at(3 * kRound));
    EXPECT_EQ(restored->encode_state(), whole.encode_state()) << cut;
    ASSERT_TRUE(restored->key().has_value());
    EXPECT_EQ(restored->key()->public_key, whole.key()->public_key);
  }
  // Strict: every truncation, a trailing byte and another version are refused.
  const Bytes state = whole.encode_state();
  for (std::size_t n = 0; n < state.size(); n += 97) {
    EXPECT_FALSE(DkgSession::decode_state(ByteSpan(state.data(), n)).is_ok()) << n;
  }
  Bytes longer = state;
  longer.push_back(0);
  EXPECT_EQ(DkgSession::decode_state(longer).status().code(), ErrorCode::kCorruption);
  Bytes v2 = state;
  v2[0] = kDkgStateVersion + 1;
  EXPECT_FALSE(DkgSession::decode_state(v2).is_ok());
}

TEST(DkgSession, BadEntriesAreRefusedWithTheirReasonAndChangeNothing) {
  reseed(6);
  const Validators v = Validators::make(5, 3);
  DkgSession s = open(v);
  const crypto::DkgParams& p = s.params();
  const Bytes good1 =
      entry(v, s, DkgEntryKind::kDealing, 1, dealing_of(p, 1, random_polynomial(3)).encode());
  ASSERT_TRUE(s.apply(good1, at(1)).is_ok());

  const Bytes deal2 = dealing_of(p, 2, random_polynomial(3)).encode();
  const DkgSession other_market = open(v, 2);
  Bytes truncated = entry(v, s, DkgEntryKind::kDealing, 2, deal2);
  truncated.pop_back();
  Bytes trailing = entry(v, s, DkgEntryKind::kDealing, 2, deal2);
  trailing.push_back(0);
  Bytes version = entry(v, s, DkgEntryKind::kDealing, 2, deal2);
  version[0] = 2;
  Bytes kind = entry(v, s, DkgEntryKind::kDealing, 2, deal2);
  kind[1] = 3;
  {
    const Bytes good2 = entry(v, s, DkgEntryKind::kDealing, 2, deal2);
    Result<DkgEntry> framed = DkgEntry::decode(good2);
    ASSERT_TRUE(framed.is_ok()) << framed.status().to_string();
    EXPECT_EQ(framed->encode(), good2);
    EXPECT_EQ(framed->validator, 2U);
  }
  Bytes flipped = entry(v, s, DkgEntryKind::kDealing, 2, deal2);
  flipped[40] ^= 1;
  Bytes cut_dealing = deal2;  // one byte short of its parameters' length
  cut_dealing.pop_back();
  struct Case {
    std::string name;
    Bytes bytes;
    ErrorCode code;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"empty", {}, ErrorCode::kCorruption, "truncated"},
      {"truncated", truncated, ErrorCode::kCorruption, "truncated"},
      {"trailing byte", trailing, ErrorCode::kCorruption, "trailing"},
      {"unknown version", version, ErrorCode::kInvalidArgument, "DKG entry version"},
      {"unknown kind", kind, ErrorCode::kInvalidArgument, "DKG entry kind"},
      {"no such validator",
       sign_dkg_entry(v.key(1), s.session_id(), DkgEntryKind::kDealing, 6, deal2),
       ErrorCode::kInvalidArgument, "no such validator"},
      {"signed by another validator",
       sign_dkg_entry(v.key(1), s.session_id(), DkgEntryKind::kDealing, 2, deal2),
       ErrorCode::kInvalidProof, "bad signature"},
      {"signed for another market", entry(v, other_market, DkgEntryKind::kDealing, 2, deal2),
       ErrorCode::kInvalidProof, "bad signature"},
      {"a flipped byte", flipped, ErrorCode::kInvalidProof, "bad signature"},
      {"dealing as another validator", entry(v, s, DkgEntryKind::kDealing, 3, deal2),
       ErrorCode::kInvalidArgument, "deals as validator 2"},
      {"dealing that does not fit", entry(v, s, DkgEntryKind::kDealing, 2, cut_dealing),
       ErrorCode::kCorruption, "DKG dealing from validator 2: truncated"},
      {"second dealing of dealer 1", good1, ErrorCode::kAlreadyExists, "has dealt already"},
      {"complaint in the dealing round",
       entry(v, s, DkgEntryKind::kComplaint, 2, Complaint{1, 2}.encode()),
       ErrorCode::kFailedPrecondition, "not open yet"},
  };
  s.advance(at(2));  // a refused entry still moves ledger time (apply's first step)
  for (const Case& c : cases) {
    const Bytes before = s.encode_state();
    Status st = s.apply(c.bytes, at(2));
    EXPECT_EQ(st.code(), c.code) << c.name << ": " << st.to_string();
    EXPECT_NE(st.message().find(c.reason), std::string::npos) << c.name << ": " << st.message();
    EXPECT_EQ(s.encode_state(), before) << c.name;
  }

  // A dealing at the last millisecond of its round counts; one at the deadline is late.
  ASSERT_TRUE(s.apply(entry(v, s, DkgEntryKind::kDealing, 2, deal2), at(kRound - 1)).is_ok());
  s.advance(at(kRound));
  const Bytes late =
      entry(v, s, DkgEntryKind::kDealing, 3, dealing_of(p, 3, random_polynomial(3)).encode());
  const Bytes before = s.encode_state();
  Status st = s.apply(late, at(kRound));
  EXPECT_EQ(st.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("round is closed"), std::string::npos) << st.message();
  EXPECT_EQ(s.encode_state(), before);

  // Complaints: against a dealer that has not dealt; twice; as someone else.
  EXPECT_EQ(
      s.apply(entry(v, s, DkgEntryKind::kComplaint, 2, Complaint{3, 2}.encode()), at(kRound + 1))
          .code(),
      ErrorCode::kNotFound);
  ASSERT_TRUE(
      s.apply(entry(v, s, DkgEntryKind::kComplaint, 2, Complaint{1, 2}.encode()), at(kRound + 2))
          .is_ok());
  EXPECT_EQ(
      s.apply(entry(v, s, DkgEntryKind::kComplaint, 2, Complaint{1, 2}.encode()), at(kRound + 3))
          .code(),
      ErrorCode::kAlreadyExists);
  EXPECT_EQ(
      s.apply(entry(v, s, DkgEntryKind::kComplaint, 3, Complaint{1, 2}.encode()), at(kRound + 3))
          .code(),
      ErrorCode::kInvalidArgument);

  // A justification that fails Feldman's check is refused; dealer 1 never answers, so it is out.
  s.advance(at(2 * kRound + 1));
  const Bytes before_j = s.encode_state();
  st = s.apply(
      entry(v, s, DkgEntryKind::kJustification, 1, Justification{1, 2, Scalar::one()}.encode()),
      at(2 * kRound + 1));
  EXPECT_EQ(st.code(), ErrorCode::kInvalidProof) << st.to_string();
  EXPECT_NE(st.message().find("fails Feldman's check"), std::string::npos) << st.message();
  EXPECT_EQ(s.encode_state(), before_j);
  EXPECT_EQ(s.apply(entry(v, s, DkgEntryKind::kJustification, 2,
                          Justification{2, 3, Scalar::one()}.encode()),
                    at(2 * kRound + 1))
                .code(),
            ErrorCode::kNotFound);
  s.advance(at(3 * kRound));
  ASSERT_EQ(s.phase(), Phase::kDone);
  EXPECT_EQ(s.key()->qualified, (std::vector<std::uint32_t>{2}));
  // After the key is fixed, every entry is late.
  EXPECT_EQ(s.apply(good1, at(3 * kRound + 1)).code(), ErrorCode::kFailedPrecondition);
}

TEST(DkgSession, WithoutAQualifiedDealerTheSessionFailsAndSaysWhy) {
  reseed(7);
  const Validators v = Validators::make(3, 2);
  DkgSession s = open(v);
  s.advance(at(3 * kRound));
  EXPECT_EQ(s.phase(), Phase::kFailed);
  EXPECT_FALSE(s.key().has_value());
  EXPECT_NE(s.failure().find("no dealer qualified"), std::string::npos) << s.failure();
  Result<DkgSession> restored = DkgSession::decode_state(s.encode_state());
  ASSERT_TRUE(restored.is_ok());
  EXPECT_EQ(restored->phase(), Phase::kFailed);
}

TEST(DkgSession, TheGenesisIsCanonicalAndItsLimitsHold) {
  reseed(8);
  Validators v = Validators::make(5, 3);
  const Bytes bytes = v.genesis.encode();
  Reader r(bytes);
  Result<DkgGenesis> back = DkgGenesis::decode(r);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  ASSERT_TRUE(r.finish().is_ok());
  EXPECT_EQ(back->encode(), bytes);

  // Round lengths: 1 .. kMaxDkgRoundMs.
  for (auto [ms, ok] : {std::pair<std::int64_t, bool>{0, false},
                        {1, true},
                        {kMaxDkgRoundMs - 1, true},
                        {kMaxDkgRoundMs, true},
                        {kMaxDkgRoundMs + 1, false}}) {
    DkgGenesis g = v.genesis;
    g.complaint_ms = ms;
    EXPECT_EQ(g.validate().is_ok(), ok) << ms;
  }
  // D_res is the contract's now: version 2, which carried it after the rounds, is refused with
  // its name, and so is version 1.
  for (const std::uint8_t version : {std::uint8_t{1}, std::uint8_t{2}}) {
    Bytes old = bytes;
    old[0] = version;
    if (version == 2) {
      for (int i = 0; i < 8; ++i)
        old.push_back(0);  // its resolution_ms
    }
    Reader rd(old);
    const Result<DkgGenesis> refused = DkgGenesis::decode(rd);
    ASSERT_FALSE(refused.is_ok()) << int{version};
    EXPECT_NE(refused.status().message().find("DKG genesis version"), std::string::npos)
        << refused.status().message();
  }
  // Repeated keys; a low-order share key.
  DkgGenesis g = v.genesis;
  g.validators[3].identity = g.validators[1].identity;
  EXPECT_NE(g.validate().message().find("repeats an identity key"), std::string::npos);
  g = v.genesis;
  g.validators[4].share_key = g.validators[0].share_key;
  EXPECT_NE(g.validate().message().find("repeats a share key"), std::string::npos);
  g = v.genesis;
  g.validators[2].share_key = crypto::X25519PublicKey{};
  EXPECT_NE(g.validate().message().find("low order"), std::string::npos) << g.validate().message();
  // Threshold: 1 .. (n + 1) / 2.
  for (auto [t, ok] :
       {std::pair<std::uint32_t, bool>{0, false}, {1, true}, {3, true}, {4, false}}) {
    g = v.genesis;
    g.threshold = t;
    EXPECT_EQ(g.validate().is_ok(), ok) << t;
  }
  // Deadlines past the end of ledger time.
  EXPECT_EQ(
      DkgSession::open(market_id(1), v.genesis, LedgerTime(INT64_MAX - 2 * kRound)).status().code(),
      ErrorCode::kOverflow);
}

TEST(DkgSession, AtMost256Validators) {
  reseed(9);
  Validators v = Validators::make(257, 1);
  for (std::uint32_t n : {255U, 256U, 257U}) {
    DkgGenesis g = v.genesis;
    g.validators.resize(n);
    const bool ok = n <= crypto::kMaxDkgValidators;
    EXPECT_EQ(g.validate().is_ok(), ok) << n;
    const Bytes bytes = g.encode();
    Reader r(bytes);
    EXPECT_EQ(DkgGenesis::decode(r).is_ok(), ok) << n;
  }
}

}  // namespace
}  // namespace pfex::priv
