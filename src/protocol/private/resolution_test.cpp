// The decryption-share entry's strict codec and the resolutions' state codec
// (resolution.hpp, docs/protocol/private.md section 14). The rules a replica applies to shares are
// tested through the log in src/protocol/ledger_replica_resolution_test.cpp.
#include "protocol/private/resolution.hpp"

#include <gtest/gtest.h>

#include <array>

namespace pfex::priv {
namespace {

using crypto::Point;
using crypto::Scalar;

crypto::Ed25519SigningKey validator_key() {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(0x33);
  return crypto::Ed25519SigningKey::from_seed(seed);
}

RoundToResolve a_round() {
  RoundToResolve r;
  r.epoch = 7;
  r.deadline = LedgerTime(123'456);
  const Point pk = Point::mul_base(Scalar::from_u64(99));
  r.sums = {crypto::encrypt(pk, Scalar::from_u64(5), Scalar::from_u64(11)),
            crypto::encrypt(pk, Scalar::from_u64(6), Scalar::from_u64(12)),
            crypto::encrypt(pk, Scalar::from_u64(7), Scalar::from_u64(13))};
  r.reference = 1000;
  r.tick_value = 1;
  return r;
}

TEST(ShareEntry, RoundTripsAndDecodesStrictly) {
  const Digest32 session{};
  Result<Bytes> bytes =
      build_share_entry(validator_key(), session, 2, Scalar::from_u64(42), a_round());
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().to_string();
  ASSERT_EQ(bytes->size(), ShareEntry::kBytes);
  Result<ShareEntry> e = ShareEntry::decode(*bytes);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  EXPECT_EQ(e->epoch, 7U);
  EXPECT_EQ(e->validator, 2U);
  EXPECT_EQ(e->encode(), *bytes);
  // Each share verifies on its sum's transcript, and only there.
  const Point y = Point::mul_base(Scalar::from_u64(42));
  for (std::size_t k = 0; k < kRoundSums; ++k) {
    crypto::Transcript t = share_transcript(session, 7, static_cast<RoundSum>(k));
    EXPECT_TRUE(crypto::verify_decryption_share(e->shares[k], y, a_round().sums[k], t).is_ok());
    crypto::Transcript other = share_transcript(session, 8, static_cast<RoundSum>(k));
    EXPECT_FALSE(
        crypto::verify_decryption_share(e->shares[k], y, a_round().sums[k], other).is_ok());
  }
  // Truncation, a trailing byte, another version, a share of another validator.
  for (std::size_t n = 0; n < bytes->size(); ++n)
    EXPECT_FALSE(ShareEntry::decode(ByteSpan(*bytes).first(n)).is_ok()) << n;
  Bytes longer = *bytes;
  longer.push_back(0);
  EXPECT_FALSE(ShareEntry::decode(longer).is_ok());
  Bytes version = *bytes;
  version[0] = 2;
  EXPECT_FALSE(ShareEntry::decode(version).is_ok());
  Bytes index = *bytes;
  index[1 + 8 + 2] ^= 0x01;  // the first share's index: 3, not the entry's validator 2
  Result<ShareEntry> mismatch = ShareEntry::decode(index);
  ASSERT_FALSE(mismatch.is_ok());
  EXPECT_NE(mismatch.status().to_string().find("not the entry's validator"), std::string::npos);
}

TEST(Resolutions, StateRoundTripsAndRefusesDisorder) {
  Resolutions r;
  ASSERT_TRUE(r.open(a_round()).is_ok());
  EXPECT_EQ(r.open(a_round()).code(), ErrorCode::kAlreadyExists);
  RoundToResolve later = a_round();
  later.epoch = 9;
  ASSERT_TRUE(r.open(later).is_ok());
  Bytes bytes;
  Writer w(&bytes);
  r.encode(w);
  Reader reader(bytes);
  Result<Resolutions> back = Resolutions::decode(reader);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  ASSERT_TRUE(reader.finish().is_ok());
  Bytes again;
  Writer w2(&again);
  back->encode(w2);
  EXPECT_EQ(again, bytes);
  EXPECT_EQ(back->pending_count(), 2U);
  // Nothing recorded before the shares: the deadline alone resolves nothing.
  EXPECT_TRUE(r.advance(LedgerTime(1'000'000))->empty());
  // Rounds swapped: out of order.
  Bytes swapped = bytes;
  swapped[4] = 9;  // the first round's epoch (after the u32 count)
  Reader bad(swapped);
  EXPECT_FALSE(Resolutions::decode(bad).is_ok());
}

// One validator (t = 1) with secret share 42: a round whose sums are in their bounds resolves at
// its deadline; a round whose position sum is outside [-2^40, 2^40] is refused with kOverflow
// (a replica stops there: validator_stages.cpp) and the state is unchanged.
TEST(Resolutions, SharesOfASumOutsideItsBoundAreRefusedAndChangeNothing) {
  const Scalar secret = Scalar::from_u64(42);
  DkgKey key;
  key.qualified = {1};
  key.public_key = Point::mul_base(secret);
  key.verification_keys = {key.public_key};
  DkgGenesis genesis;
  genesis.threshold = 1;
  genesis.validators.push_back({validator_key().public_key(), {}});
  const Digest32 session{};
  auto round_of = [&](std::uint64_t epoch, std::uint64_t position) {
    RoundToResolve r = a_round();
    r.epoch = epoch;
    r.sums = {crypto::encrypt(key.public_key, Scalar::from_u64(position), Scalar::from_u64(11)),
              crypto::encrypt(key.public_key, Scalar::from_u64(1'000), Scalar::from_u64(12)),
              crypto::encrypt(key.public_key, Scalar::from_u64(4), Scalar::from_u64(13))};
    return r;
  };
  auto state = [](const Resolutions& r) {
    Bytes out;
    Writer w(&out);
    r.encode(w);
    return out;
  };
  const LedgerTime after = LedgerTime(a_round().deadline.value() + 1);

  // At the bound: solved (v_D = -position - v_fund = -2^40).
  Resolutions in_bound;
  ASSERT_TRUE(in_bound.open(round_of(7, kPositionSumBound)).is_ok());
  Result<Bytes> entry =
      build_share_entry(validator_key(), session, 1, secret, round_of(7, kPositionSumBound));
  ASSERT_TRUE(entry.is_ok()) << entry.status().to_string();
  Result<std::optional<Resolution>> got = in_bound.apply(*entry, after, key, genesis, session);
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->position, -static_cast<std::int64_t>(kPositionSumBound));
  EXPECT_EQ((*got)->equity, 1'000);
  EXPECT_EQ((*got)->gross, 4U);

  // One beyond it: refused, nothing changes, and every later attempt is refused the same way.
  Resolutions beyond;
  ASSERT_TRUE(beyond.open(round_of(7, kPositionSumBound + 1)).is_ok());
  const Bytes before = state(beyond);
  entry =
      build_share_entry(validator_key(), session, 1, secret, round_of(7, kPositionSumBound + 1));
  ASSERT_TRUE(entry.is_ok()) << entry.status().to_string();
  for (int attempt = 0; attempt < 2; ++attempt) {
    got = beyond.apply(*entry, after, key, genesis, session);
    ASSERT_FALSE(got.is_ok());
    EXPECT_EQ(got.status().code(), ErrorCode::kOverflow);
    EXPECT_NE(got.status().to_string().find("position sum"), std::string::npos)
        << got.status().to_string();
    EXPECT_NE(got.status().to_string().find("cannot be resolved"), std::string::npos);
    EXPECT_EQ(state(beyond), before);
    EXPECT_TRUE(beyond.shares_from(7).empty());
    EXPECT_TRUE(beyond.recorded().empty());
  }
}

}  // namespace
}  // namespace pfex::priv
