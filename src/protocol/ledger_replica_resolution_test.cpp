// The validators' generated key for every encryption, and a margin round resolved by threshold
// decryption through the log (docs/protocol/private.md section 14, docs/design.md section 6.3):
// three validators (t = 2) run the key generation through the log; deposits wait for its key and
// encrypt to it; at a refresh window's close with one defaulter the validators' decryption shares
// arrive as entries, and the resolution equals what the wallets' openings give. Late, duplicate,
// foreign and badly proved shares are refused by name and change nothing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "crypto/dkg.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/private/resolution.hpp"
#include "protocol/private/wallet.hpp"
#include "protocol/private_test_util.hpp"

namespace pfex::protocol {
namespace {

using priv::OrderKind;
using priv::PrivateTx;
using priv::PrivateWallet;
using priv::Side;

constexpr std::int64_t kStart = 1'000'000;
constexpr std::int64_t kRound = 1'000;
constexpr std::int64_t kResolutionMs = 5'000;

const std::shared_ptr<const priv::PrivateGens>& shared_gens() {
  static const auto gens = std::make_shared<const priv::PrivateGens>();
  return gens;
}

// A private market with a fee, started with a key generation among three validators (t = 2).
struct Market {
  SigningKey issuer = testing::fixed_issuer();
  LedgerReplica replica{shared_gens()};
  std::vector<LedgerEntry> entries;
  std::vector<crypto::Ed25519SigningKey> identity;
  std::vector<crypto::X25519SecretKey> share_key;
  std::int64_t now = kStart;
  std::uint64_t mint_sequence = 0;
  std::uint64_t advance_sequence = 0;
  crypto::Point genesis_key = crypto::Point::mul_base(crypto::Scalar::from_u64(0x5eed));

  Market() {
    market::ContractSpec spec = market::seed_example_preset();
    spec.fee_per_contract = Cash(2);
    spec.resolution_ms = kResolutionMs;
    Genesis g{spec, Price(testing::kReference), issuer.public_key()};
    g.private_terms = PrivateGenesisTerms{3, genesis_key};
    priv::DkgGenesis dkg;
    dkg.threshold = 2;
    dkg.dealing_ms = dkg.complaint_ms = dkg.justification_ms = kRound;
    for (std::uint8_t j = 1; j <= 3; ++j) {
      std::array<std::uint8_t, 32> seed{};
      seed.fill(static_cast<std::uint8_t>(0x10 + j));
      identity.push_back(crypto::Ed25519SigningKey::from_seed(seed));
      seed.fill(static_cast<std::uint8_t>(0x50 + j));
      share_key.push_back(crypto::X25519SecretKey::from_bytes(seed));
      dkg.validators.push_back({identity.back().public_key(), share_key.back().public_key()});
    }
    g.key_generation = dkg;
    EXPECT_TRUE(add(encode_entry(g), kStart).accepted);
  }

  const priv::PrivateLedger& ledger() const { return *replica.private_ledger(); }
  const priv::DkgSession& session() const { return *replica.key_generation(); }

  EntryOutcome add(Bytes payload, std::int64_t at = 0) {
    now = at > 0 ? at : now + 1;
    entries.push_back(LedgerEntry{entries.size() + 1, LedgerTime(now), std::move(payload)});
    Result<EntryOutcome> out = replica.apply(entries.back());
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
    return *out;
  }
  // An entry every replica must refuse with `why` in its reason, the ledger's state hash
  // unchanged (the market's state hash moves with the key generation's clock on every entry).
  void refused(Bytes payload, std::string_view why, std::int64_t at = 0) {
    const Digest32 before = ledger().state_hash();
    const EntryOutcome out = add(std::move(payload), at);
    EXPECT_FALSE(out.accepted) << why;
    EXPECT_NE(out.reason.to_string().find(why), std::string::npos) << out.reason.to_string();
    EXPECT_EQ(ledger().state_hash(), before) << why;
  }
  template <class Tx>
  void ok(PrivateWallet& w, const Result<Tx>& tx) {
    ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
    const EntryOutcome out = add(encode_entry(PrivateEntry{PrivateTx(*tx)}));
    ASSERT_TRUE(out.accepted) << out.reason.to_string();
    ASSERT_TRUE(w.confirm(*out.private_result).is_ok());
  }
  EntryOutcome advance(std::int64_t at) {
    return add(
        sign_transparent(issuer, *replica.market_id(), ++advance_sequence, market::AdvanceAction{}),
        at);
  }
  std::unique_ptr<PrivateWallet> registered(std::int64_t cash) {
    auto w = std::make_unique<PrivateWallet>(*shared_gens());
    ok(*w, w->build_register(ledger(), 1, ledger().terms().bond));
    priv::MintTx mint;
    mint.account = w->identity();
    mint.amount = cash;
    mint.sequence = ++mint_sequence;
    mint.signature = issuer.sign(priv::mint_signed_bytes(ledger().terms().market_id, mint));
    EXPECT_TRUE(add(encode_entry(PrivateEntry{PrivateTx(mint)})).accepted);
    w->on_mint(static_cast<std::uint64_t>(cash));
    return w;
  }

  // Every validator deals; the rounds end with nobody complaining.
  void run_key_generation() {
    const crypto::DkgParams& params = session().params();
    for (std::uint32_t j = 1; j <= 3; ++j) {
      auto dealer = crypto::Dealer::create(params, j);
      ASSERT_TRUE(dealer.is_ok());
      const Bytes body = dealer->deal().encode();
      const EntryOutcome out = add(encode_entry(DkgMessage{priv::sign_dkg_entry(
          identity[j - 1], session().session_id(), priv::DkgEntryKind::kDealing, j, body)}));
      ASSERT_TRUE(out.accepted) << out.reason.to_string();
    }
  }
  void finish_key_generation() {
    ASSERT_TRUE(advance(kStart + 3 * kRound).accepted);
    ASSERT_EQ(session().phase(), priv::DkgSession::Phase::kDone) << session().failure();
  }

  crypto::Scalar secret_share(std::uint32_t j) const {
    Result<crypto::Scalar> s = session().dkg().secret_share(j, share_key[j - 1]);
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    return *s;
  }
  // Validator j's shares entry for the round of `epoch`, made with `secret` (its own by default)
  // and signed by `signer` (itself by default).
  Bytes shares(std::uint32_t j, std::uint64_t epoch, std::optional<crypto::Scalar> secret = {},
               const crypto::Ed25519SigningKey* signer = nullptr) const {
    const priv::RoundToResolve* round = ledger().resolutions().pending(epoch);
    EXPECT_NE(round, nullptr);
    Result<Bytes> e =
        priv::build_share_entry(signer ? *signer : identity[j - 1], session().session_id(), j,
                                secret ? *secret : secret_share(j), *round);
    EXPECT_TRUE(e.is_ok()) << e.status().to_string();
    return encode_entry(DecryptionShares{*e});
  }
};

// A and B, both funded through the generated key, trade one contract at the band's top; the bid
// standing there halts the market; A settles and refreshes, B settles and does not refresh, and
// the window closes with B the one defaulter.
struct Round {
  Market m;
  std::unique_ptr<PrivateWallet> a, b;
  std::int64_t close = 0;

  Round() {
    m.run_key_generation();
    a = m.registered(1'000'000);
    b = m.registered(1'000'000);
    m.finish_key_generation();
    m.ok(*a, a->build_deposit(m.ledger(), 1'000'000));
    m.ok(*b, b->build_deposit(m.ledger(), 1'000'000));
    const std::int64_t high = m.ledger().terms().high;
    m.ok(*a, a->build_post(m.ledger(), Side::kBuy, OrderKind::kLimit, high, 2));
    const std::int64_t standing = m.now;
    m.ok(*b, b->build_post(m.ledger(), Side::kSell, OrderKind::kLimit, high, 1));
    EXPECT_TRUE(m.advance(standing + 60'000).accepted);  // T_cb: the halt
    EXPECT_TRUE(m.ledger().in_refresh_window());
    m.ok(*a, a->build_settle(m.ledger()));
    m.ok(*a, a->build_refresh(m.ledger(), 0));
    m.ok(*b, b->build_settle(m.ledger()));  // B's token now holds its fill; it never refreshes
    close = m.replica.private_book()->window_close().value();
    EXPECT_TRUE(m.advance(close).accepted);
    EXPECT_TRUE(m.ledger().defaulted(b->identity()));
  }

  // What the wallets' openings give: B's position and cash, A's gross position, and B's equity
  // at the new reference price.
  priv::Resolution expected() const {
    priv::Resolution r;
    r.epoch = 0;
    const priv::Attributes& tb = b->attributes();
    const priv::Attributes& ta = a->attributes();
    r.position = static_cast<std::int64_t>(tb.vp) - static_cast<std::int64_t>(tb.vm);
    r.cash = tb.c;
    r.gross = ta.vp + ta.vm;
    const std::int64_t reference = m.replica.private_book()->band().reference.value();
    r.equity = r.cash + reference * m.ledger().terms().tick_value * r.position;
    return r;
  }
};

TEST(ReplicaKeyGeneration, DepositsWaitForTheGeneratedKeyAndEncryptToIt) {
  Market m;
  m.run_key_generation();
  auto a = m.registered(1'000'000);
  EXPECT_EQ(m.ledger().key_state(), priv::PrivateLedger::KeyState::kAwaiting);
  // Built against the genesis's key while the key generation runs: refused now, and after it.
  auto early = a->build_deposit(m.ledger(), 1'000);
  ASSERT_TRUE(early.is_ok()) << early.status().to_string();
  const Bytes early_entry = encode_entry(PrivateEntry{PrivateTx(*early)});
  m.refused(early_entry, "no validators' key yet");
  m.finish_key_generation();
  EXPECT_EQ(m.ledger().key_state(), priv::PrivateLedger::KeyState::kGenerated);
  EXPECT_EQ(m.ledger().terms().validators_key, m.session().key()->public_key);
  EXPECT_FALSE(m.ledger().terms().validators_key == m.genesis_key);
  m.refused(early_entry, "");  // its Enc(a) and transcript are under the genesis's key
  // A wallet builds against the key in the state: accepted.
  m.ok(*a, a->build_deposit(m.ledger(), 1'000));
  // The key state is in the snapshot and restored with the session.
  auto restored = LedgerReplica::restore(m.replica.snapshot(), shared_gens());
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  EXPECT_EQ(restored->state_hash(), m.replica.state_hash());
  EXPECT_EQ(restored->private_ledger()->terms().validators_key, m.session().key()->public_key);
}

TEST(ReplicaKeyGeneration, AGenesisWithoutKeyGenerationKeepsItsKey) {
  Market plain;  // only for its issuer; a market of its own without key generation
  LedgerReplica v(shared_gens());
  ASSERT_TRUE(v.apply(LedgerEntry{1, LedgerTime(kStart),
                                  encode_entry(testing::private_genesis(
                                      testing::fixed_issuer().public_key()))})
                  ->accepted);
  EXPECT_EQ(v.private_ledger()->key_state(), priv::PrivateLedger::KeyState::kGenesis);
  EXPECT_EQ(v.private_ledger()->terms().validators_key, plain.genesis_key);
}

TEST(ReplicaResolution, SharesFromTValidatorsResolveTheRoundAtItsDeadline) {
  Round r;
  Market& m = r.m;
  ASSERT_NE(m.ledger().resolutions().pending(0), nullptr);
  const std::int64_t deadline = r.close + kResolutionMs;
  EXPECT_EQ(m.ledger().resolutions().pending(0)->deadline.value(), deadline);

  const Bytes first = m.shares(1, 0);
  ASSERT_TRUE(m.add(first).accepted);
  m.refused(m.shares(1, 0), "validator 1 already gave its decryption shares");
  // Validator 2's shares made with another secret: the DLEQ proofs fail.
  m.refused(m.shares(2, 0, m.secret_share(2) + crypto::Scalar::from_u64(1)), "bad DLEQ proof");
  // Signed by validator 3 for validator 2, and by a key that is no validator's.
  m.refused(m.shares(2, 0, {}, &m.identity[2]), "not signed by validator 2");
  m.refused(m.shares(4, 0, m.secret_share(2), &m.identity[0]), "foreign decryption shares");
  // A round nobody closed.
  {
    priv::RoundToResolve other = *m.ledger().resolutions().pending(0);
    other.epoch = 1;
    auto e = priv::build_share_entry(m.identity[1], m.session().session_id(), 2, m.secret_share(2),
                                     other);
    ASSERT_TRUE(e.is_ok());
    m.refused(encode_entry(DecryptionShares{*e}), "no round of epoch 1 awaits");
  }
  ASSERT_TRUE(m.add(m.shares(2, 0)).accepted);  // the t-th, before the deadline
  EXPECT_TRUE(m.ledger().resolutions().recorded().empty());
  m.refused(m.shares(3, 0), "late decryption shares");  // the round has its t shares

  ASSERT_TRUE(m.advance(deadline - 1).accepted);
  EXPECT_TRUE(m.ledger().resolutions().recorded().empty());
  ASSERT_TRUE(m.advance(deadline).accepted);
  ASSERT_EQ(m.ledger().resolutions().recorded().size(), 1U);
  priv::Resolution got = m.ledger().resolutions().recorded().at(0);
  priv::Resolution want = r.expected();
  want.at = LedgerTime(deadline);
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.position, -1);
  EXPECT_EQ(got.gross, 1U);
  EXPECT_EQ(m.ledger().resolutions().pending_count(), 0U);

  // After the resolution, a share is late.
  const EntryOutcome late = m.add(encode_entry(DecryptionShares{[&] {
    priv::RoundToResolve round;  // the round is gone from the state; any shares will do
    round.epoch = 0;
    return *priv::build_share_entry(m.identity[2], m.session().session_id(), 3, m.secret_share(3),
                                    round);
  }()}));
  EXPECT_FALSE(late.accepted);
  EXPECT_NE(late.reason.to_string().find("already resolved"), std::string::npos)
      << late.reason.to_string();

  // Every replica replaying the log, in one batch or from a snapshot, ends the same.
  LedgerReplica v(shared_gens());
  ASSERT_TRUE(v.apply_batch(m.entries, 2).is_ok());
  EXPECT_EQ(v.chain(), m.replica.chain());
  EXPECT_EQ(v.state_hash(), m.replica.state_hash());
  auto restored = LedgerReplica::restore(m.replica.snapshot(), shared_gens());
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  EXPECT_EQ(restored->state_hash(), m.replica.state_hash());
  EXPECT_EQ(restored->private_ledger()->resolutions().recorded().at(0), got);

  // The replica fuzz target's seed of this entry type (its market has no key generation, so the
  // entry decodes and is refused there): PFEX_WRITE_FUZZ_SEEDS=1 rewrites it.
  const std::filesystem::path seed_path = std::filesystem::path(PFEX_SOURCE_DIR) /
                                          "fuzz/corpus/pfex_fuzz_replica_private/decryption-shares";
  const char* write = std::getenv("PFEX_WRITE_FUZZ_SEEDS");
  if (write != nullptr && std::string_view(write) == "1") {
    const Bytes seed = testing::join_chunks({first});
    std::ofstream out(seed_path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(seed.data()),
              static_cast<std::streamsize>(seed.size()));
  }
  std::ifstream in(seed_path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing seed " << seed_path;
  const Bytes seed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<Bytes> chunks = testing::split_chunks(seed);
  ASSERT_EQ(chunks.size(), 1U);
  auto decoded = decode_entry(chunks[0], MarketContext{Mode::kPrivate, 3});
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_TRUE(std::holds_alternative<DecryptionShares>(*decoded));
}

TEST(ReplicaResolution, FewerThanTSharesByTheDeadlineResolveAtTheEntryCarryingTheTth) {
  Round r;
  Market& m = r.m;
  const std::int64_t deadline = r.close + kResolutionMs;
  ASSERT_TRUE(m.add(m.shares(3, 0)).accepted);
  // A snapshot with one share in: restored, it continues identically.
  const Bytes snapshot = m.replica.snapshot();
  ASSERT_TRUE(m.advance(deadline + 1'000).accepted);
  EXPECT_TRUE(m.ledger().resolutions().recorded().empty());
  const std::size_t cut = m.entries.size();
  const EntryOutcome tth = m.add(m.shares(1, 0), deadline + 2'000);
  ASSERT_TRUE(tth.accepted) << tth.reason.to_string();
  ASSERT_EQ(m.ledger().resolutions().recorded().size(), 1U);
  priv::Resolution want = r.expected();
  want.at = LedgerTime(deadline + 2'000);
  EXPECT_EQ(m.ledger().resolutions().recorded().at(0), want);

  auto restored = LedgerReplica::restore(snapshot, shared_gens());
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  ASSERT_TRUE(restored->apply_batch(std::span(m.entries).subspan(cut - 1)).is_ok());
  EXPECT_EQ(restored->chain(), m.replica.chain());
  EXPECT_EQ(restored->state_hash(), m.replica.state_hash());
}

}  // namespace
}  // namespace pfex::protocol
