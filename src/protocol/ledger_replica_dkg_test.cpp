// The validators' key generation through the log (docs/protocol/transactions.md, type 4): a
// private genesis lists three validators (t = 2); their signed dealings are log entries; the
// replica advances the session with ledger time and ends with the key and transcript hash in its
// state and snapshot. Malformed, foreign, repeated and late entries are rejected with the reason.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "crypto/dkg.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/private_test_util.hpp"

namespace pfex::protocol {
namespace {

constexpr std::int64_t kStart = 1'000;  // the genesis's ledger time
constexpr std::int64_t kRound = 1'000;

struct DkgLog {
  std::shared_ptr<const priv::PrivateGens> gens = std::make_shared<const priv::PrivateGens>();
  std::vector<crypto::Ed25519SigningKey> identity;
  std::vector<crypto::X25519SecretKey> share;
  std::vector<crypto::DealerMessage> dealings;
  std::vector<LedgerEntry> entries;
  std::vector<bool> accepted;
  std::vector<std::string> reasons;
  LedgerReplica builder{gens};

  void add(Bytes payload, std::int64_t time, bool ok, std::string_view why = "") {
    entries.push_back(LedgerEntry{entries.size() + 1, LedgerTime(time), std::move(payload)});
    auto out = builder.apply(entries.back());
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    accepted.push_back(out->accepted);
    reasons.push_back(out->reason.to_string());
    EXPECT_EQ(out->accepted, ok) << entries.size() << ": " << out->reason.to_string();
    EXPECT_NE(out->reason.to_string().find(why), std::string::npos) << out->reason.to_string();
  }
  Bytes dkg_entry(std::uint32_t signer, priv::DkgEntryKind kind, std::uint32_t validator,
                  ByteSpan body) const {
    return encode_entry(DkgMessage{priv::sign_dkg_entry(
        identity[signer - 1], builder.key_generation()->session_id(), kind, validator, body)});
  }

  DkgLog() {
    Genesis g = testing::private_genesis(testing::fixed_issuer().public_key());
    priv::DkgGenesis dkg;
    dkg.threshold = 2;
    dkg.dealing_ms = dkg.complaint_ms = dkg.justification_ms = kRound;
    for (std::uint8_t j = 1; j <= 3; ++j) {
      std::array<std::uint8_t, 32> seed{};
      seed.fill(j);
      identity.push_back(crypto::Ed25519SigningKey::from_seed(seed));
      seed.fill(static_cast<std::uint8_t>(0x40 + j));
      share.push_back(crypto::X25519SecretKey::from_bytes(seed));
      dkg.validators.push_back({identity.back().public_key(), share.back().public_key()});
    }
    g.key_generation = dkg;
    add(encode_entry(g), kStart, true);
    const crypto::DkgParams& params = builder.key_generation()->params();
    for (std::uint32_t i = 1; i <= 3; ++i) {
      auto dealer = crypto::Dealer::create(params, i);
      EXPECT_TRUE(dealer.is_ok());
      dealings.push_back(dealer->deal());
    }
    using Kind = priv::DkgEntryKind;
    add(dkg_entry(1, Kind::kDealing, 1, dealings[0].encode()), kStart + 10, true);
    add(dkg_entry(2, Kind::kDealing, 3, dealings[2].encode()), kStart + 20, false,
        "signature");  // validator 2 signs as validator 3
    add(dkg_entry(1, Kind::kDealing, 1, dealings[0].encode()), kStart + 30, false);  // repeat
    add(dkg_entry(2, Kind::kDealing, 2, dealings[1].encode()), kStart + 40, true);
    add(dkg_entry(3, Kind::kDealing, 3, dealings[2].encode()), kStart + 50, true);
    // Past every round (nobody complained): the session finalizes at the entry's time; the late
    // dealing itself is refused.
    add(dkg_entry(3, Kind::kDealing, 3, dealings[2].encode()), kStart + 3 * kRound + 1, false);
  }
};

TEST(ReplicaDkg, ThreeValidatorsKeyGenerationRunsThroughTheLog) {
  DkgLog log;
  const priv::DkgSession* s = log.builder.key_generation();
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->phase(), priv::DkgSession::Phase::kDone) << s->failure();
  ASSERT_TRUE(s->key().has_value());
  EXPECT_EQ(s->key()->qualified, (std::vector<std::uint32_t>{1, 2, 3}));
  // PK is the sum of the dealers' constant terms.
  crypto::Point pk = crypto::Point::identity();
  for (const crypto::DealerMessage& m : log.dealings)
    pk = pk + m.commitments[0];
  EXPECT_EQ(s->key()->public_key, pk);
  EXPECT_EQ(s->key()->transcript_hash, s->transcript_hash());
  EXPECT_EQ(log.builder.rejected(), 3U);
  // The state hash covers the session: not the ledger's alone.
  EXPECT_NE(log.builder.state_hash(), log.builder.private_ledger()->state_hash());

  // Every replica, one entry at a time or in one batch, ends the same.
  for (unsigned threads : {1U, 2U}) {
    LedgerReplica v(log.gens);
    auto outs = v.apply_batch(log.entries, threads);
    ASSERT_TRUE(outs.is_ok());
    for (const EntryOutcome& o : *outs)
      EXPECT_EQ(o.reason.to_string(), log.reasons[o.sequence - 1]) << o.sequence;
    EXPECT_EQ(v.chain(), log.builder.chain());
    EXPECT_EQ(v.state_hash(), log.builder.state_hash());
    ASSERT_NE(v.key_generation(), nullptr);
    EXPECT_EQ(v.key_generation()->key()->public_key, pk);
  }
}

TEST(ReplicaDkg, ASnapshotMidGenerationContinuesIdentically) {
  DkgLog log;
  for (std::size_t cut : {std::size_t{1}, std::size_t{3}, log.entries.size()}) {
    LedgerReplica first(log.gens);
    const auto all = std::span(log.entries);
    ASSERT_TRUE(first.apply_batch(all.first(cut)).is_ok());
    auto restored = LedgerReplica::restore(first.snapshot(), log.gens);
    ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
    EXPECT_EQ(restored->state_hash(), first.state_hash());
    EXPECT_EQ(restored->snapshot(), first.snapshot());
    ASSERT_TRUE(restored->apply_batch(all.subspan(cut)).is_ok());
    EXPECT_EQ(restored->chain(), log.builder.chain()) << cut;
    EXPECT_EQ(restored->state_hash(), log.builder.state_hash()) << cut;
  }
}

TEST(ReplicaDkg, AKeyGenerationEntryWhereNoneWasStartedIsRejected) {
  DkgLog log;
  const auto gens = log.gens;
  LedgerReplica v(gens);
  ASSERT_TRUE(v.apply(LedgerEntry{1, LedgerTime(kStart),
                                  encode_entry(testing::private_genesis(
                                      testing::fixed_issuer().public_key()))})
                  ->accepted);
  const Digest32 before = v.state_hash();
  auto out = v.apply(LedgerEntry{2, LedgerTime(kStart + 10), log.entries[1].payload});
  ASSERT_TRUE(out.is_ok());
  EXPECT_FALSE(out->accepted);
  EXPECT_NE(out->reason.to_string().find("started no key generation"), std::string::npos)
      << out->reason.to_string();
  EXPECT_EQ(v.state_hash(), before);
  // Before any genesis and in a transparent market it does not even decode.
  EXPECT_FALSE(decode_entry(log.entries[1].payload).is_ok());
  EXPECT_FALSE(decode_entry(log.entries[1].payload, MarketContext{Mode::kTransparent, 0}).is_ok());
  // The genesis's key-generation part round-trips.
  auto g = decode_entry(log.entries[0].payload);
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  EXPECT_TRUE(std::get<Genesis>(*g).key_generation.has_value());
  EXPECT_EQ(encode_entry(*g), log.entries[0].payload);
}

}  // namespace
}  // namespace pfex::protocol
