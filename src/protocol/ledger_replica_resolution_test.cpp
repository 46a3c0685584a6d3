// The validators' generated key for every encryption, and a margin round resolved by threshold
// decryption through the log (docs/protocol/private.md section 14, docs/design.md section 6.3):
// three validators (t = 2) run the key generation through the log; deposits wait for its key and
// encrypt to it; at a refresh window's close with one defaulter the validators' decryption shares
// arrive as entries, and the resolution equals what the wallets' openings give. Late, duplicate,
// foreign and badly proved shares are refused by name and change nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/dkg.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/private/resolution.hpp"
#include "protocol/private/wallet.hpp"
#include "protocol/private_test_util.hpp"
#include "protocol/private_venue_test_util.hpp"

namespace pfex::protocol {
namespace {

using priv::OrderKind;
using priv::PrivateTx;
using priv::PrivateWallet;
using priv::Side;

constexpr std::int64_t kStart = 1'000'000;
constexpr std::int64_t kRound = 1'000;
constexpr std::int64_t kResolutionMs = 5'000;

using testing::shared_gens;

// A private market with a fee, started with a key generation among three validators (t = 2).
struct Market : testing::PrivateVenue {
  std::vector<crypto::Ed25519SigningKey> identity;
  std::vector<crypto::X25519SecretKey> share_key;
  crypto::Point genesis_key = crypto::Point::mul_base(crypto::Scalar::from_u64(0x5eed));

  // With `settlement_interval_ms`, a margin round is also scheduled every that many ms.
  // Without `key_generation`, the genesis keeps its own validators' key (nothing decrypts).
  // `bond`: the contract's bond (the seed example's by default).
  explicit Market(std::int64_t settlement_interval_ms = 0, bool key_generation = true,
                  std::optional<std::int64_t> bond = std::nullopt) {
    market::ContractSpec spec = market::seed_example_preset();
    spec.fee_per_contract = Cash(2);
    if (bond) spec.bond = Cash(*bond);
    spec.settlement_interval_ms = settlement_interval_ms;
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
    if (key_generation) g.key_generation = dkg;
    EXPECT_TRUE(add(encode_entry(g), kStart).accepted);
  }

  const priv::DkgSession& session() const { return *replica.key_generation(); }

  // An entry every replica must refuse with `why` in its reason, the ledger's state hash
  // unchanged (the market's state hash moves with the key generation's clock on every entry).
  void refused(Bytes payload, std::string_view why, std::int64_t at = 0) {
    const Digest32 before = ledger().state_hash();
    const EntryOutcome out = add(std::move(payload), at);
    EXPECT_FALSE(out.accepted) << why;
    EXPECT_NE(out.reason.to_string().find(why), std::string::npos) << out.reason.to_string();
    EXPECT_EQ(ledger().state_hash(), before) << why;
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

  // `before_close` runs just before the window's close (to install a stand-in).
  explicit Round(const std::function<void(Round&)>& before_close = {}) {
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
    if (before_close) before_close(*this);
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

// Two rounds with defaulters through real decryption shares, the second while the fund still holds
// part of what it took over in the first (docs/design.md section 6.3): the fund's position and
// market cash at the second halt enter the second round's equity sum, and the decrypted figures
// and the fund's takeover equal what the wallets' openings give. Fee 2 per contract on each side,
// k = 1 cent a tick, bond 1,000; a margin round is also scheduled at start + 1,000,000 ms.
struct TwoRounds {
  static constexpr std::int64_t kInterval = 1'000'000;
  Market m{kInterval};
  std::unique_ptr<PrivateWallet> a, b, c, d;

  // Shares from validators 1 and 2 for the round of `epoch`, then its deadline.
  void resolve(std::uint64_t epoch) {
    const priv::RoundToResolve* round = m.ledger().resolutions().pending(epoch);
    ASSERT_NE(round, nullptr);
    const std::int64_t deadline = round->deadline.value();
    ASSERT_TRUE(m.add(m.shares(1, epoch)).accepted);
    ASSERT_TRUE(m.add(m.shares(2, epoch)).accepted);
    ASSERT_TRUE(m.advance(deadline).accepted);
    ASSERT_EQ(m.ledger().resolutions().recorded().count(epoch), 1U);
  }
};

TEST(ReplicaResolution, ASecondRoundResolvesWhileTheFundHoldsTheFirstRoundsPosition) {
  TwoRounds r;
  Market& m = r.m;
  const PrivateBook& book = *m.replica.private_book();
  m.run_key_generation();
  r.a = m.registered(1'000'000);
  r.b = m.registered(1'000'000);
  r.c = m.registered(1'000'000);
  r.d = m.registered(1'000'000);
  m.finish_key_generation();
  for (PrivateWallet* w : {r.a.get(), r.b.get(), r.c.get(), r.d.get()})
    m.ok(*w, w->build_deposit(m.ledger(), 1'000'000));

  // Epoch 0, band [960, 1040]: A bids 4 at 1040, B sells 2 and C sells 1 into it; A's last
  // contract stands at the top and the breaker halts the market (reference 1040).
  const std::int64_t high0 = m.ledger().terms().high;
  ASSERT_EQ(high0, 1040);
  m.ok(*r.a, r.a->build_post(m.ledger(), Side::kBuy, OrderKind::kLimit, high0, 4));
  const std::int64_t standing = m.now;
  m.ok(*r.b, r.b->build_post(m.ledger(), Side::kSell, OrderKind::kLimit, high0, 2));
  m.ok(*r.c, r.c->build_post(m.ledger(), Side::kSell, OrderKind::kLimit, high0, 1));
  ASSERT_TRUE(m.advance(standing + 60'000).accepted);
  ASSERT_TRUE(m.ledger().in_refresh_window());
  // The fund holds only the fees: 2 sides x 2 x (2 + 1) contracts = 12; tokens paid all 12.
  EXPECT_EQ(book.fund().cash, 12);
  EXPECT_EQ(m.ledger().fees_charged(), 12);
  EXPECT_EQ(book.halt_fund_position(), 0);
  EXPECT_EQ(book.halt_fund_cash(), 0);  // 12 - 0 bonds taken + 0 exits paid - 12 fees
  m.ok(*r.a, r.a->build_settle(m.ledger()));
  m.ok(*r.a, r.a->build_refresh(m.ledger(), 0));
  m.ok(*r.c, r.c->build_settle(m.ledger()));
  m.ok(*r.c, r.c->build_refresh(m.ledger(), 0));
  m.ok(*r.d, r.d->build_refresh(m.ledger(), 0));
  m.ok(*r.b, r.b->build_settle(m.ledger()));  // B holds its fills and never refreshes
  ASSERT_TRUE(m.advance(book.window_close().value()).accepted);
  ASSERT_TRUE(m.ledger().defaulted(r.b->identity()));
  ASSERT_EQ(m.ledger().resolutions().pending(0)->fund_position, 0);
  r.resolve(0);

  // Round 1: B is short 2, with cash 1,000,000 + 2 x 1040 - 2 x 2 fee = 1,002,076.
  //   v_D = -2, c_D = 1,002,076, E_D = 1,002,076 + 1040 x (-2) = 999,996,
  //   g_S = A's 3 + C's 1 + D's 0 = 4.
  // The fund: 12 fees + 1,002,076 + B's bond 1,000 = 1,003,088, position -2, and its bid of 2
  // at the new band's top (reference 1040: [998, 1082]).
  const priv::Resolution first = m.ledger().resolutions().recorded().at(0);
  EXPECT_EQ(first.position, -2);
  EXPECT_EQ(first.cash, 1'002'076);
  EXPECT_EQ(first.cash, r.b->attributes().c);
  EXPECT_EQ(first.equity, 999'996);
  EXPECT_EQ(first.gross, 4U);
  EXPECT_EQ(book.fund().cash, 1'003'088);
  EXPECT_EQ(book.fund().position, -2);
  const std::int64_t high1 = m.ledger().terms().high;
  ASSERT_EQ(high1, 1082);

  // Epoch 1: D sells 1 into the fund's bid at 1082. The fund pays 1082 + its fee 2 and collects
  // both sides' fees 4: 1,003,088 - 1,084 + 4 = 1,002,008, position -1; the batch has 1 of 2.
  // Its bid at the top keeps the breaker off there; the scheduled round halts the market.
  m.ok(*r.d, r.d->build_post(m.ledger(), Side::kSell, OrderKind::kLimit, high1, 1));
  EXPECT_EQ(book.fund().cash, 1'002'008);
  EXPECT_EQ(book.fund().position, -1);
  ASSERT_TRUE(m.advance(kStart + TwoRounds::kInterval).accepted);
  ASSERT_TRUE(m.ledger().in_refresh_window());
  // The halt figures: position -1; cash 1,002,008 - 1,000 bonds taken + 0 exits paid - 14 fees
  // tokens paid (12 + D's 2) = 1,000,994 (= B's 1,002,076 - the 1,082 the fund paid; the fund's
  // own fee went to itself).
  EXPECT_EQ(m.ledger().fees_charged(), 14);
  EXPECT_EQ(book.halt_fund_position(), -1);
  EXPECT_EQ(book.halt_fund_cash(), 1'000'994);
  // At the halt the first batch ends: 1 contract at 1082, the rest marked at the edge 1082.
  ASSERT_EQ(book.liquidations().size(), 1U);
  EXPECT_TRUE(book.liquidations()[0].finished);
  EXPECT_EQ(book.liquidations()[0].price_num, i128{1082} * book.liquidations()[0].price_den);

  m.ok(*r.a, r.a->build_refresh(m.ledger(), 0));
  m.ok(*r.d, r.d->build_settle(m.ledger()));
  m.ok(*r.d, r.d->build_refresh(m.ledger(), 0));
  ASSERT_TRUE(m.advance(book.window_close().value()).accepted);  // C never refreshes
  ASSERT_TRUE(m.ledger().defaulted(r.c->identity()));
  ASSERT_EQ(m.ledger().resolutions().pending(1)->fund_position, -1);
  const Digest32 awaiting = m.replica.state_hash();
  r.resolve(1);
  EXPECT_NE(m.replica.state_hash(), awaiting);

  // Round 2 (reference 1082, the last trade): C is short 1 with 1,000,000 + 1040 - 2 = 1,001,038.
  //   v_D = -sum_S v - v_fund = -(A's 3 + D's -1) - (-1) = -1, c_D = 1,001,038,
  //   E_D = 1,001,038 + 1082 x (-1) = 999,956, g_S = A's 3 + D's 1 = 4.
  // The fund takes it over: 1,002,008 + 1,001,038 + C's bond 1,000 = 2,004,046, position -2.
  const priv::Resolution second = m.ledger().resolutions().recorded().at(1);
  EXPECT_EQ(second.position, -1);
  EXPECT_EQ(second.cash, 1'001'038);
  EXPECT_EQ(second.cash, r.c->attributes().c);
  EXPECT_EQ(second.equity, 999'956);
  EXPECT_EQ(second.gross, 4U);
  EXPECT_EQ(book.fund().cash, 2'004'046);
  EXPECT_EQ(book.fund().position, -2);
  EXPECT_EQ(book.gross_prev(), 4U);
  ASSERT_EQ(book.liquidations().size(), 2U);
  EXPECT_FALSE(book.liquidations()[1].finished);  // the fund's bid of 2 works it off
  EXPECT_EQ(book.liquidations()[1].total.value(), 1);

  // Every replica replaying the log in one batch, or from a snapshot, ends the same.
  LedgerReplica v(shared_gens());
  ASSERT_TRUE(v.apply_batch(m.entries, 2).is_ok());
  EXPECT_EQ(v.state_hash(), m.replica.state_hash());
  auto restored = LedgerReplica::restore(m.replica.snapshot(), shared_gens());
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  EXPECT_EQ(restored->state_hash(), m.replica.state_hash());
  EXPECT_EQ(restored->private_book()->halt_fund_cash(), 1'000'994);
}

// A private market whose genesis starts no key generation: nobody holds the key its sums are
// under, so a round with a defaulter is never resolved. What happens, through the log: the
// default is recorded and the bond forfeited, no round awaits shares, shares are refused, the
// fund takes nothing over, and the market keeps trading (docs/protocol/private.md section 14).
TEST(ReplicaResolution, WithoutKeyGenerationADefaultIsRecordedAndNeverResolved) {
  Market m(0, false);
  EXPECT_EQ(m.ledger().key_state(), priv::PrivateLedger::KeyState::kGenesis);
  auto a = m.registered(1'000'000);
  auto b = m.registered(1'000'000);
  m.ok(*a, a->build_deposit(m.ledger(), 1'000'000));
  m.ok(*b, b->build_deposit(m.ledger(), 1'000'000));
  const std::int64_t high = m.ledger().terms().high;
  m.ok(*a, a->build_post(m.ledger(), Side::kBuy, OrderKind::kLimit, high, 2));
  const std::int64_t standing = m.now;
  m.ok(*b, b->build_post(m.ledger(), Side::kSell, OrderKind::kLimit, high, 1));
  ASSERT_TRUE(m.advance(standing + 60'000).accepted);
  m.ok(*a, a->build_settle(m.ledger()));
  m.ok(*a, a->build_refresh(m.ledger(), 0));
  m.ok(*b, b->build_settle(m.ledger()));
  const PrivateBook& book = *m.replica.private_book();
  ASSERT_TRUE(m.advance(book.window_close().value()).accepted);
  ASSERT_TRUE(m.ledger().defaulted(b->identity()));
  EXPECT_EQ(m.ledger().fund().bonds_forfeited, m.ledger().terms().bond);
  EXPECT_EQ(m.ledger().resolutions().pending_count(), 0U);
  EXPECT_EQ(book.awaiting_resolution(), std::optional<std::uint32_t>(1));
  // Shares made with any key are refused: the market has no key generation to check them by.
  priv::RoundToResolve round;
  const Result<Bytes> e =
      priv::build_share_entry(m.identity[0], Digest32{}, 1, crypto::Scalar::from_u64(7), round);
  ASSERT_TRUE(e.is_ok());
  m.refused(encode_entry(DecryptionShares{*e}), "started no key generation");
  // Long after any deadline the round is still unresolved and the fund holds only the fees
  // (2 sides x 2 x 1 contract): B's position, cash and bond stay with nobody.
  ASSERT_TRUE(m.advance(book.window_close().value() + 10 * kResolutionMs).accepted);
  EXPECT_TRUE(m.ledger().resolutions().recorded().empty());
  EXPECT_EQ(book.awaiting_resolution(), std::optional<std::uint32_t>(1));
  EXPECT_EQ(book.fund().position, 0);
  EXPECT_EQ(book.fund().cash, 4);
  // The market keeps trading: A posts in the new epoch.
  m.ok(*a, a->build_post(m.ledger(), Side::kBuy, OrderKind::kLimit, m.ledger().terms().low, 1));
}

// A margin round with a levy, resolved through the validators' shares. B (bond 0, funded to the
// least its order needs) sells 2 at the band's top and defaults. The fund buys 1 back from A at
// the next band's top H1 and keeps 1, so the batch is priced at H1, where B has little equity
// left: that much is owed to B's round. Epoch 2 opens at H1 (a scheduled round) and the fund buys
// its last 1 from A at that band's top H2: at the round after, the fund's equity is below 0, a
// deficit levied per contract on the survivors' gross at the previous round. That round has no
// defaulters, so its decrypted equity sum must be 0, which it is only with the levy the refreshes
// paid subtracted (-lambda*g_S; the other sign gives 2*lambda*g_S of cash for nobody, and the book
// would refuse the resolution and stop the replica). The fund is credited lambda*g_S then.
TEST(ReplicaResolution, ALevyRoundResolvesThroughTheSharesToNoDefaulters) {
  constexpr std::int64_t kInterval = 1'000'000;  // scheduled rounds at the genesis + 1000 s, 2000 s
  Market m(kInterval, true, 0);
  m.run_key_generation();
  auto a = m.registered(1'000'000);
  auto b = m.registered(10'000);
  auto c = m.registered(1'000'000);
  m.finish_key_generation();
  m.ok(*a, a->build_deposit(m.ledger(), 1'000'000));
  m.ok(*c, c->build_deposit(m.ledger(), 1'000'000));
  const std::int64_t high = m.ledger().terms().high;
  m.ok(*a, a->build_post(m.ledger(), Side::kBuy, OrderKind::kLimit, high, 4));
  const std::int64_t standing = m.now;
  // B deposits exactly what its sell of 2 at the top needs (E_L, then E_H, short by what the
  // wallet says).
  m.ok(*b, b->build_deposit(m.ledger(), 1));
  for (int tries = 0;; ++tries) {
    ASSERT_LT(tries, 3);
    Result<priv::SpendTx> post = b->build_post(m.ledger(), Side::kSell, OrderKind::kLimit, high, 2);
    if (post.is_ok()) {
      m.ok(*b, post);
      break;
    }
    ASSERT_EQ(post.status().code(), ErrorCode::kInsolvent) << post.status().to_string();
    const std::string why(post.status().message());
    const std::size_t at = why.find("short by ");
    ASSERT_NE(at, std::string::npos) << why;
    const auto need = static_cast<std::uint64_t>(std::stoll(why.substr(at + 9)));
    m.ok(*b, b->build_deposit(m.ledger(), need));
  }
  m.ok(*c, c->build_post(m.ledger(), Side::kSell, OrderKind::kLimit, high, 1));  // A: 1 stands
  const PrivateBook& book = *m.replica.private_book();
  // A settle, when the wallet has fills to claim or orders to release.
  auto settle = [&](PrivateWallet& w) {
    Result<priv::SpendTx> tx = w.build_settle(m.ledger());
    if (tx.is_ok()) {
      m.ok(w, tx);
    } else {
      ASSERT_EQ(tx.status().message(), "nothing to settle");
    }
  };
  // One margin round: the halt by the bid standing at the top, A and C refresh, the close, the
  // shares of validators `j` and `k`, the resolution at the deadline.
  auto round = [&](std::int64_t halt, std::uint64_t epoch, std::uint32_t j, std::uint32_t k) {
    ASSERT_TRUE(m.advance(halt).accepted);
    ASSERT_TRUE(m.ledger().in_refresh_window());
    for (PrivateWallet* w : {a.get(), c.get()}) {
      settle(*w);
      m.ok(*w, w->build_refresh(m.ledger(), 0));
    }
    const std::int64_t close = book.window_close().value();
    ASSERT_TRUE(m.advance(close).accepted);
    ASSERT_TRUE(m.add(m.shares(j, epoch)).accepted);
    ASSERT_TRUE(m.add(m.shares(k, epoch)).accepted);
    const EntryOutcome resolved = m.advance(close + kResolutionMs);
    ASSERT_TRUE(resolved.accepted) << resolved.reason.to_string();
    ASSERT_EQ(m.ledger().resolutions().recorded().count(epoch), 1U);
    ASSERT_TRUE(book.fault().is_ok()) << book.fault().to_string();
  };
  round(standing + 60'000, 0, 1, 2);  // B defaults: the fund is short 2, bidding at H1
  ASSERT_TRUE(m.ledger().defaulted(b->identity()));
  ASSERT_EQ(book.fund().position, -2);
  EXPECT_EQ(m.ledger().levy(), 0);
  // Epoch 1: A sells 1 to the fund at H1 within T_ref of the scheduled round.
  const std::int64_t h1 = book.band().high.value();
  ASSERT_TRUE(m.advance(kStart + kInterval - 10'000).accepted);
  m.ok(*a, a->build_post(m.ledger(), Side::kSell, OrderKind::kLimit, h1, 1));
  ASSERT_EQ(book.fund().position, -1);
  round(kStart + kInterval, 1, 2, 3);  // the batch is priced at H1; epoch 2 opens there
  ASSERT_EQ(book.liquidations().size(), 1U);
  ASSERT_TRUE(book.liquidations()[0].finished);
  EXPECT_EQ(book.band().reference.value(), h1);
  EXPECT_EQ(m.ledger().levy(), 0);
  const std::int64_t h2 = book.band().high.value();
  ASSERT_TRUE(m.advance(kStart + 2 * kInterval - 10'000).accepted);
  m.ok(*a, a->build_post(m.ledger(), Side::kSell, OrderKind::kLimit, h2, 1));
  ASSERT_EQ(book.fund().position, 0);
  const std::int64_t fund_cash = book.fund().cash;
  const std::uint64_t gross = book.gross_prev();
  ASSERT_GT(gross, 0U);
  // The round at H2: the fund is flat and owes B's round what is left of B's equity at H1 (k = 1).
  ASSERT_TRUE(m.advance(kStart + 2 * kInterval).accepted);
  ASSERT_EQ(book.owed()[0].position, -2);
  const std::int64_t owed = std::max<std::int64_t>(0, book.owed()[0].cash - 2 * h1);
  const std::int64_t equity = fund_cash - owed;
  ASSERT_EQ(book.fund_equity(book.band().reference), equity);
  ASSERT_LT(equity, 0) << "H1 " << h1 << ", H2 " << h2;
  const auto g = static_cast<std::int64_t>(gross);
  const std::int64_t levy = (-equity + g - 1) / g;
  EXPECT_EQ(m.ledger().levy(), levy);
  ASSERT_GT(levy, 0);
  std::uint64_t gross_now = 0;
  for (PrivateWallet* w : {a.get(), c.get()}) {
    settle(*w);
    const std::int64_t before = w->attributes().c;
    m.ok(*w, w->build_refresh(m.ledger(), 0));
    const std::uint64_t held = w->attributes().vp + w->attributes().vm;
    EXPECT_EQ(w->attributes().c, before - levy * static_cast<std::int64_t>(held));
    gross_now += held;
  }
  ASSERT_GT(gross_now, 0U);
  const std::int64_t close = book.window_close().value();
  ASSERT_TRUE(m.advance(close).accepted);
  ASSERT_TRUE(m.add(m.shares(1, 2)).accepted);
  ASSERT_TRUE(m.add(m.shares(3, 2)).accepted);
  const EntryOutcome resolved = m.advance(close + kResolutionMs);
  ASSERT_TRUE(resolved.accepted) << resolved.reason.to_string();
  ASSERT_EQ(m.ledger().resolutions().recorded().count(2), 1U);
  const priv::Resolution& r = m.ledger().resolutions().recorded().at(2);
  EXPECT_EQ(r.position, 0);
  EXPECT_EQ(r.equity, 0);
  EXPECT_EQ(r.cash, 0);
  EXPECT_EQ(r.gross, gross_now);
  EXPECT_TRUE(book.fault().is_ok()) << book.fault().to_string();
  EXPECT_EQ(book.fund().cash, fund_cash + levy * static_cast<std::int64_t>(gross_now));
  EXPECT_FALSE(book.awaiting_resolution().has_value());
}

// A resolution the book refuses: a stand-in resolves the round at its deadline first, so when the
// validators' shares resolve it the book awaits nothing. The book is faulted with the reason, the
// replica stops at that entry, and the ledger records no resolution: once at the entry carrying
// the t-th share after the deadline (ledger and book unchanged by that entry), once at the entry
// reaching the deadline with both shares in (the stand-in takes the round over in that same
// entry, just before the shares' resolution is refused, so that entry changed both).
Bytes book_state(const Market& m) {
  Bytes out;
  Writer w(&out);
  m.replica.private_book()->encode_state(w);
  return out;
}

void install_stand_in(Round& r) {
  r.m.replica.set_resolution_stand_in([&r](std::uint32_t) {
    return std::optional<DefaultsResolution>(
        DefaultsResolution{-1, r.b->attributes().c, r.a->attributes().vp});
  });
}

void expect_stopped(Market& m, Bytes payload, std::int64_t at, bool unchanged = true) {
  const Digest32 ledger_before = m.ledger().state_hash();
  const Bytes book_before = book_state(m);
  m.entries.push_back(LedgerEntry{m.entries.size() + 1, LedgerTime(at), std::move(payload)});
  const Result<EntryOutcome> out = m.replica.apply(m.entries.back());
  ASSERT_FALSE(out.is_ok());
  const std::string why = out.status().to_string();
  EXPECT_NE(why.find("the round's resolution"), std::string::npos) << why;
  EXPECT_NE(why.find("no round awaits its resolution at epoch 1"), std::string::npos) << why;
  EXPECT_NE(why.find("this replica stops"), std::string::npos) << why;
  EXPECT_FALSE(m.replica.private_book()->fault().is_ok());
  if (unchanged) {  // else the stand-in's takeover in the same entry changed both
    EXPECT_EQ(m.ledger().state_hash(), ledger_before);
    EXPECT_EQ(book_state(m), book_before);
  }
  EXPECT_NE(m.ledger().resolutions().pending(0), nullptr);
  EXPECT_TRUE(m.ledger().resolutions().recorded().empty());
  // Stopped: every later entry is refused with the same reason.
  m.entries.push_back(LedgerEntry{m.entries.size() + 1, LedgerTime(at + 1), Bytes{}});
  const Result<EntryOutcome> after = m.replica.apply(m.entries.back());
  ASSERT_FALSE(after.is_ok());
  EXPECT_EQ(after.status().to_string(), why);
}

TEST(ReplicaResolution, AResolutionTheBookRefusesStopsTheReplicaAndIsNotRecorded) {
  {
    Round r(install_stand_in);
    Market& m = r.m;
    const std::int64_t deadline = r.close + kResolutionMs;
    ASSERT_TRUE(m.advance(deadline).accepted);
    ASSERT_EQ(m.replica.private_book()->awaiting_resolution(), std::nullopt);  // the stand-in's
    ASSERT_EQ(m.replica.private_book()->fund().position, -1);
    ASSERT_TRUE(m.add(m.shares(1, 0), deadline).accepted);
    expect_stopped(m, m.shares(2, 0), deadline + 1);  // the t-th share, after the deadline
  }
  {
    Round r(install_stand_in);
    Market& m = r.m;
    ASSERT_TRUE(m.add(m.shares(1, 0)).accepted);
    ASSERT_TRUE(m.add(m.shares(2, 0)).accepted);  // before the deadline: nothing recorded yet
    const Market& cm = m;
    expect_stopped(m,
                   sign_transparent(cm.issuer, *cm.replica.market_id(), ++m.advance_sequence,
                                    market::AdvanceAction{}),
                   r.close + kResolutionMs, /*unchanged=*/false);
  }
}

}  // namespace
}  // namespace pfex::protocol
