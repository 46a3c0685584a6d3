// The LedgerReplica on a private market: the private genesis, private transactions replayed
// identically by every replica, rejections that change no state, snapshots that continue
// identically (docs/protocol/validator.md, "Private transactions").
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "protocol/ledger_replica.hpp"
#include "protocol/private/wallet.hpp"
#include "protocol/private_test_util.hpp"

namespace pfex::protocol {
namespace {

using priv::OrderKind;
using priv::PrivateTx;
using priv::PrivateWallet;
using testing::private_genesis;

Bytes private_entry(const PrivateTx& tx) {
  return encode_entry(PrivateEntry{tx});
}

// One private log, built once for the suite (proving costs ~200 ms per spend): a private
// genesis; A and B register, are minted cash, deposit; A posts and cancels and settles the
// release; B posts, cancel-replaces and reduces; A withdraws and pays B. Interleaved, entries
// every replica must reject: a replayed deposit, a post with a damaged proof, a transparent
// transaction, a second genesis, a double spend.
struct PrivateLog {
  std::shared_ptr<const priv::PrivateGens> gens = std::make_shared<const priv::PrivateGens>();
  SigningKey issuer = testing::fixed_issuer();  // the fuzz target's market
  std::vector<LedgerEntry> entries;
  std::vector<bool> accepted;  // the builder's verdict on each
  std::vector<std::string> reasons;
  Digest32 chain{}, state{};
  std::uint64_t issuer_sequence = 0;
  std::size_t middle = 0;  // an entry after which the book has open orders

  LedgerReplica builder{gens};

  const EntryOutcome add(Bytes payload) {
    const std::uint64_t seq = entries.size() + 1;
    entries.push_back(LedgerEntry{seq, LedgerTime(1'000'000 + static_cast<std::int64_t>(seq)),
                                  std::move(payload)});
    Result<EntryOutcome> out = builder.apply(entries.back());
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
    accepted.push_back(out->accepted);
    reasons.push_back(out->reason.to_string());
    return *out;
  }
  const priv::PrivateLedger& ledger() const { return *builder.private_ledger(); }

  // Adds a wallet's transaction; it must be accepted, and the wallet adopts its effect.
  template <class Tx>
  void ok(PrivateWallet& w, const Result<Tx>& tx) {
    ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
    const EntryOutcome out = add(private_entry(PrivateTx(*tx)));
    ASSERT_TRUE(out.accepted) << out.reason.to_string();
    ASSERT_TRUE(out.private_result.has_value());
    if constexpr (!std::is_same_v<Tx, priv::CancelTx>) {
      ASSERT_TRUE(w.confirm(*out.private_result).is_ok());
    }
  }
  void rejected(Bytes payload, std::string_view why) {
    const Digest32 before = builder.state_hash();
    const EntryOutcome out = add(std::move(payload));
    EXPECT_FALSE(out.accepted);
    EXPECT_NE(out.reason.to_string().find(why), std::string::npos) << out.reason.to_string();
    EXPECT_EQ(builder.state_hash(), before) << why;
  }
  void mint(PrivateWallet& w, std::int64_t amount) {
    const priv::MintTx tx = testing::signed_mint(issuer, ledger().terms().market_id, w.identity(),
                                                 amount, ++issuer_sequence);
    const EntryOutcome out = add(private_entry(PrivateTx(tx)));
    ASSERT_TRUE(out.accepted) << out.reason.to_string();
    w.on_mint(static_cast<std::uint64_t>(amount));
  }

  PrivateLog() { build(); }

 private:
  void build() {
    add(encode_entry(private_genesis(issuer.public_key())));
    EXPECT_EQ(builder.mode(), Mode::kPrivate);
    const std::int64_t price = testing::kReference;
    PrivateWallet a(*gens), b(*gens);
    ok(a, a.build_register(ledger(), 1, 0));
    ok(b, b.build_register(ledger(), 1, 0));
    mint(a, 1'000'000);
    mint(b, 1'000'000);
    auto deposit = a.build_deposit(ledger(), 500'000);
    ASSERT_TRUE(deposit.is_ok()) << deposit.status().to_string();
    const Bytes deposit_entry = private_entry(PrivateTx(*deposit));
    ok(a, deposit);
    rejected(deposit_entry, "serial already spent");
    ok(b, b.build_deposit(ledger(), 500'000));

    auto post = a.build_post(ledger(), priv::Side::kBuy, OrderKind::kLimit, price, 5);
    ASSERT_TRUE(post.is_ok()) << post.status().to_string();
    // A response of its linear proof off by one: it decodes and passes every rule, so only the
    // proof check can refuse it (a flipped byte could break the decoding instead).
    priv::SpendTx damaged = *post;
    std::vector<crypto::Scalar> z = damaged.proofs->linear.z();
    z[0] = z[0] + crypto::Scalar::one();
    damaged.proofs->linear = crypto::LinearProof(damaged.proofs->linear.A(), z);
    rejected(private_entry(PrivateTx(damaged)), "invalid proof: linear");
    ok(a, post);                                                                         // order 0
    ok(b, b.build_post(ledger(), priv::Side::kSell, OrderKind::kLimit, price + 10, 4));  // 1
    middle = entries.size();
    testing::Trader t;
    rejected(sign_transparent(t.key, ledger().terms().market_id, 1, market::RegisterAction{}),
             "a transparent transaction in a private market");
    rejected(encode_entry(private_genesis(issuer.public_key())), "already open");

    ok(a, a.build_cancel(ledger(), 0));
    auto settle = a.build_settle(ledger());  // releases order 0
    ASSERT_TRUE(settle.is_ok()) << settle.status().to_string();
    const Bytes settle_entry = private_entry(PrivateTx(*settle));
    ok(a, settle);
    rejected(settle_entry, "serial already spent");
    ok(b, b.build_cancel_replace(ledger(), 1, priv::Side::kSell, OrderKind::kLimit, price + 20,
                                 3));  // order 2
    ok(b, b.build_reduce(ledger(), 2, 1));
    ok(a, a.build_withdraw(ledger(), 100'000));
    auto transfer = a.build_transfer(ledger(), b.identity(), 1'000);
    ok(a, transfer);
    EXPECT_TRUE(b.receive(*transfer).is_ok());
    chain = builder.chain();
    state = builder.state_hash();
  }
};

class ReplicaPrivateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { suite_log = new PrivateLog(); }
  static void TearDownTestSuite() {
    delete suite_log;
    suite_log = nullptr;
  }
  static const PrivateLog& log() { return *suite_log; }

 private:
  static PrivateLog* suite_log;
};
PrivateLog* ReplicaPrivateTest::suite_log = nullptr;

TEST_F(ReplicaPrivateTest, TwoReplicasReplayingTheLogAgree) {
  // The log has every transaction type and its rejections.
  const priv::PrivateLedger& l = log().ledger();
  EXPECT_EQ(l.order_count(), 3U);
  EXPECT_TRUE(l.order(0)->closed && l.order(0)->released);
  EXPECT_TRUE(l.order(1)->closed && l.order(1)->released);
  EXPECT_EQ(l.order(2)->qty, 2);
  EXPECT_EQ(l.cash_supply(), 2'000'000);
  std::size_t rejected = 0;
  for (bool ok : log().accepted)
    rejected += ok ? 0 : 1;
  EXPECT_EQ(rejected, 5U);
  EXPECT_EQ(log().builder.rejected(), 5U);

  LedgerReplica one(log().gens);
  for (const LedgerEntry& e : log().entries) {
    auto out = one.apply(e);
    ASSERT_TRUE(out.is_ok());
    EXPECT_EQ(out->accepted, log().accepted[e.sequence - 1]) << e.sequence;
    EXPECT_EQ(out->reason.to_string(), log().reasons[e.sequence - 1]);
  }
  EXPECT_EQ(one.chain(), log().chain);
  EXPECT_EQ(one.state_hash(), log().state);
  // The whole log in one batch (its private transactions verified as one block).
  for (unsigned threads : {1U, 2U, 64U}) {
    LedgerReplica batched(log().gens);
    auto outs = batched.apply_batch(log().entries, threads);
    ASSERT_TRUE(outs.is_ok());
    for (const EntryOutcome& o : *outs) {
      EXPECT_EQ(o.accepted, log().accepted[o.sequence - 1]) << o.sequence;
      EXPECT_EQ(o.reason.to_string(), log().reasons[o.sequence - 1]) << o.sequence;
    }
    EXPECT_EQ(batched.chain(), log().chain) << threads;
    EXPECT_EQ(batched.state_hash(), log().state) << threads;
  }
  EXPECT_NE(log().state, Digest32{});
  EXPECT_EQ(one.exchange(), nullptr);
}

TEST_F(ReplicaPrivateTest, ASnapshotMidLogContinuesIdentically) {
  for (std::size_t cut : {std::size_t{1}, log().middle, log().entries.size()}) {
    LedgerReplica first(log().gens);
    const auto entries = std::span(log().entries);
    ASSERT_TRUE(first.apply_batch(entries.first(cut)).is_ok());
    const Bytes snap = first.snapshot();
    auto restored = LedgerReplica::restore(snap, log().gens);
    ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
    EXPECT_EQ(restored->state_hash(), first.state_hash());
    EXPECT_EQ(restored->chain(), first.chain());
    EXPECT_EQ(restored->snapshot(), snap);
    ASSERT_TRUE(restored->apply_batch(entries.subspan(cut)).is_ok());
    EXPECT_EQ(restored->chain(), log().chain) << cut;
    EXPECT_EQ(restored->state_hash(), log().state) << cut;
    EXPECT_EQ(restored->accepted(), log().builder.accepted());
  }
}

TEST_F(ReplicaPrivateTest, DamagedSnapshotsAndPrivateStatesAreRejected) {
  const Bytes snap = log().builder.snapshot();
  for (std::size_t i = 0; i < snap.size(); i += 97) {
    Bytes bad = snap;
    bad[i] ^= 0x40;
    EXPECT_FALSE(LedgerReplica::restore(bad, log().gens).is_ok()) << i;
  }
  EXPECT_FALSE(LedgerReplica::restore(ByteSpan(snap).first(snap.size() - 1), log().gens).is_ok());

  const priv::PrivateLedger& l = log().ledger();
  const Bytes state = l.encode_state();
  auto back = priv::PrivateLedger::decode_state(*log().gens, state);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ((*back)->state_hash(), l.state_hash());
  EXPECT_EQ((*back)->encode_state(), state);
  for (std::size_t n = 0; n < state.size(); ++n)
    ASSERT_FALSE(priv::PrivateLedger::decode_state(*log().gens, ByteSpan(state).first(n)).is_ok())
        << n;
  Bytes longer = state;
  longer.push_back(0);
  EXPECT_FALSE(priv::PrivateLedger::decode_state(*log().gens, longer).is_ok());
  // Version 1 (before the key state and the resolutions), 2 (before the exit period's end) and
  // an unknown version 4.
  for (const std::uint8_t v : {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{4}}) {
    Bytes version = state;
    version[0] = v;
    EXPECT_EQ(priv::PrivateLedger::decode_state(*log().gens, version).status().code(),
              ErrorCode::kCorruption)
        << int{v};
  }
}

TEST_F(ReplicaPrivateTest, APrivateTransactionInATransparentMarketIsRejected) {
  testing::TestMarket m;
  LedgerReplica v;
  ASSERT_TRUE(v.apply(m.entry(m.genesis))->accepted);
  EXPECT_EQ(v.mode(), Mode::kTransparent);
  const Digest32 before = v.state_hash();
  auto out = v.apply(m.entry(log().entries[1].payload));  // A's register
  ASSERT_TRUE(out.is_ok());
  EXPECT_FALSE(out->accepted);
  EXPECT_NE(out->reason.to_string().find("a private transaction in a transparent market"),
            std::string::npos)
      << out->reason.to_string();
  EXPECT_EQ(v.state_hash(), before);

  LedgerReplica none;  // before any genesis
  out = none.apply(m.entry(log().entries[1].payload));
  EXPECT_NE(out->reason.to_string().find("before any genesis"), std::string::npos);
}

TEST(PrivateGenesis, RoundTripsAndStatesItsMode) {
  const SigningKey issuer = SigningKey::generate();
  const Bytes bytes = encode_entry(private_genesis(issuer.public_key()));
  EXPECT_EQ(bytes[1], static_cast<std::uint8_t>(EntryType::kPrivateGenesis));
  auto e = decode_entry(bytes);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  const auto& g = std::get<Genesis>(*e);
  EXPECT_EQ(g.mode(), Mode::kPrivate);
  EXPECT_EQ(g.private_terms->log_window, 3);
  EXPECT_EQ(encode_entry(g), bytes);
  auto terms = private_terms_of(g, bytes);
  ASSERT_TRUE(terms.is_ok()) << terms.status().to_string();
  EXPECT_EQ(terms->market_id, market_id_of(bytes));
  EXPECT_EQ(terms->low, 960);
  EXPECT_EQ(terms->high, 1040);
  EXPECT_EQ(Genesis{}.mode(), Mode::kTransparent);
  EXPECT_FALSE(
      private_terms_of(Genesis{market::seed_example_preset(), Price(1000), {}}, bytes).is_ok());
}

TEST(PrivateGenesis, WindowSizeLimitsAndVersionAreChecked) {
  const SigningKey issuer = SigningKey::generate();
  for (int n : {0, 1, 16, 17}) {
    const Bytes bytes =
        encode_entry(private_genesis(issuer.public_key(), static_cast<std::uint8_t>(n)));
    EXPECT_EQ(decode_entry(bytes).is_ok(), n >= 1 && n <= 16) << n;
  }
  Bytes bytes = encode_entry(private_genesis(issuer.public_key()));
  bytes[2] = kPrivateGenesisVersion + 1;
  EXPECT_NE(decode_entry(bytes).status().to_string().find("private genesis version"),
            std::string::npos);
  Genesis identity = private_genesis(issuer.public_key());
  identity.private_terms->validators_key = crypto::Point::identity();
  EXPECT_FALSE(decode_entry(encode_entry(identity)).is_ok());
  Bytes trailing = encode_entry(private_genesis(issuer.public_key()));
  trailing.push_back(0);
  EXPECT_FALSE(decode_entry(trailing).is_ok());
}

// The market's bond and exit penalty are the genesis contract's bond and liquidation penalty per
// contract (private genesis version 2; version 1 ignored them and is refused).
TEST(PrivateGenesis, BondAndExitPenaltyAreTheContracts) {
  const SigningKey issuer = SigningKey::generate();
  const Bytes bytes = encode_entry(private_genesis(issuer.public_key(), 3, 12'345, 678));
  auto g = decode_entry(bytes);
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  auto terms = private_terms_of(std::get<Genesis>(*g), bytes);
  ASSERT_TRUE(terms.is_ok()) << terms.status().to_string();
  EXPECT_EQ(terms->bond, 12'345);
  EXPECT_EQ(terms->exit_penalty, 678);

  Bytes v1 = bytes;
  ASSERT_EQ(v1[2], 2);
  v1[2] = 1;
  EXPECT_NE(decode_entry(v1).status().to_string().find("private genesis version = 1"),
            std::string::npos)
      << decode_entry(v1).status().to_string();
  // A negative bond or penalty is not a contract.
  EXPECT_FALSE(decode_entry(encode_entry(private_genesis(issuer.public_key(), 3, -1, 0))).is_ok());
  EXPECT_FALSE(decode_entry(encode_entry(private_genesis(issuer.public_key(), 3, 0, -1))).is_ok());
}

// The bond's limit is 2^46 (the cash supply cap), the exit penalty's is below 2^40: a genesis past
// them is rejected with the reason and opens no market.
TEST(PrivateGenesis, BondAndExitPenaltyLimits) {
  const auto gens = std::make_shared<const priv::PrivateGens>();
  const SigningKey issuer = SigningKey::generate();
  const std::int64_t bond_cap = std::int64_t{1} << 46;
  const std::int64_t pen_cap = std::int64_t{1} << 40;
  struct Case {
    std::int64_t bond, pen;
    bool opens;
  };
  for (const Case& c :
       {Case{bond_cap - 1, 0, true}, Case{bond_cap, 0, true}, Case{bond_cap + 1, 0, false},
        Case{0, pen_cap - 1, true}, Case{0, pen_cap, false}, Case{0, pen_cap + 1, false}}) {
    LedgerReplica v(gens);
    auto out = v.apply(LedgerEntry{
        1, LedgerTime(1), encode_entry(private_genesis(issuer.public_key(), 3, c.bond, c.pen))});
    ASSERT_TRUE(out.is_ok());
    EXPECT_EQ(out->accepted, c.opens) << c.bond << " " << c.pen << ": " << out->reason.to_string();
    if (c.opens) {
      ASSERT_NE(v.private_ledger(), nullptr);
      EXPECT_EQ(v.private_ledger()->terms().bond, c.bond);
      EXPECT_EQ(v.private_ledger()->terms().exit_penalty, c.pen);
    } else {
      EXPECT_FALSE(v.mode().has_value());
      EXPECT_NE(
          out->reason.to_string().find(c.bond > bond_cap ? "bond must be in [0, 2^46]"
                                                         : "exit penalty must be in [0, 2^40)"),
          std::string::npos)
          << out->reason.to_string();
    }
  }
}

// An identity posts the genesis's bond at registration, no other amount; the bond is held by the
// fund and counts in the cash supply.
TEST(PrivateGenesis, RegistrationPostsTheGenesisBond) {
  const auto gens = std::make_shared<const priv::PrivateGens>();
  const SigningKey issuer = SigningKey::generate();
  LedgerReplica v(gens);
  std::uint64_t seq = 0;
  auto next = [&](Bytes payload) {
    ++seq;
    auto out =
        v.apply(LedgerEntry{seq, LedgerTime(static_cast<std::int64_t>(seq)), std::move(payload)});
    EXPECT_TRUE(out.is_ok());
    return *out;
  };
  ASSERT_TRUE(next(encode_entry(private_genesis(issuer.public_key(), 3, 500, 7))).accepted);
  PrivateWallet w(*gens);
  for (std::int64_t bond : {0, 499, 501}) {
    auto reg = w.build_register(*v.private_ledger(), 1, bond);
    ASSERT_TRUE(reg.is_ok()) << reg.status().to_string();
    const EntryOutcome out = next(private_entry(PrivateTx(*reg)));
    EXPECT_FALSE(out.accepted);
    EXPECT_NE(out.reason.to_string().find("the market's is 500"), std::string::npos)
        << out.reason.to_string();
  }
  auto reg = w.build_register(*v.private_ledger(), 1, 500);
  ASSERT_TRUE(reg.is_ok());
  const EntryOutcome out = next(private_entry(PrivateTx(*reg)));
  ASSERT_TRUE(out.accepted) << out.reason.to_string();
  EXPECT_EQ(v.private_ledger()->fund().bonds_held, 500);
  EXPECT_EQ(v.private_ledger()->cash_supply(), 500);
}

// Every seed of pfex_fuzz_replica_private is a log after the fuzz target's genesis that replays
// with its accepted and rejected entries. With PFEX_WRITE_FUZZ_SEEDS=1 the test first writes the
// suite's log as the seed "log".
TEST_F(ReplicaPrivateTest, FuzzSeedsReplayAfterTheFuzzTargetsGenesis) {
  const std::filesystem::path dir =
      std::filesystem::path(PFEX_SOURCE_DIR) / "fuzz/corpus/pfex_fuzz_replica_private";
  const char* write = std::getenv("PFEX_WRITE_FUZZ_SEEDS");
  if (write != nullptr && std::string_view(write) == "1") {
    std::filesystem::create_directories(dir);
    std::vector<Bytes> payloads;
    for (std::size_t i = 1; i < log().entries.size(); ++i)
      payloads.push_back(log().entries[i].payload);
    auto put = [&](const std::string& name, const std::vector<Bytes>& chunks) {
      const Bytes seed = testing::join_chunks(chunks);
      std::ofstream out(dir / name, std::ios::binary);
      out.write(reinterpret_cast<const char*>(seed.data()),
                static_cast<std::streamsize>(seed.size()));
    };
    put("log", payloads);
    put("registers-and-mints", std::vector<Bytes>(payloads.begin(), payloads.begin() + 4));
    // Short seeds for the fuzz target's CI runs: the four, then one later entry of each type.
    const std::pair<const char*, std::size_t> then[] = {
        {"then-deposit", 4},         {"then-post", 7},    {"then-advance", 10},
        {"then-second-genesis", 11}, {"then-cancel", 12}, {"then-settle", 13},
        {"then-cancel-replace", 15}, {"then-reduce", 16}, {"then-withdraw", 17},
        {"then-transfer", 18}};
    for (const auto& [name, k] : then) {
      std::vector<Bytes> chunks(payloads.begin(), payloads.begin() + 4);
      chunks.push_back(payloads[k]);
      put(name, chunks);
    }
  }
  std::ifstream in(dir / "log", std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing seed " << (dir / "log");
  const Bytes seed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LedgerReplica v(log().gens);
  std::vector<LedgerEntry> entries = {
      LedgerEntry{1, LedgerTime(1'000'001), log().entries[0].payload}};
  for (Bytes& p : testing::split_chunks(seed))
    entries.push_back(LedgerEntry{
        entries.size() + 1, LedgerTime(1'000'000 + static_cast<std::int64_t>(entries.size() + 1)),
        std::move(p)});
  ASSERT_TRUE(v.apply_batch(entries).is_ok());
  EXPECT_EQ(v.entries(), log().entries.size());
  EXPECT_EQ(v.rejected(), 5U);
}

// Snapshot version 2 added the private ledger, version 3 the private market's engine and the key
// generation; version 1 and 2 snapshots of a transparent market are still read, any other version
// is refused.
TEST(ReplicaSnapshotVersions, VersionOneIsReadAndOthersAreRefused) {
  testing::TestMarket m;
  testing::Trader t;
  LedgerReplica v;
  ASSERT_TRUE(v.apply(m.entry(m.genesis))->accepted);
  ASSERT_TRUE(v.apply(m.entry(m.sign(t, market::RegisterAction{})))->accepted);
  const Bytes snap = v.snapshot();
  Bytes body(snap.begin(), snap.end() - 32);
  ASSERT_EQ(body.back(), 0);  // has_key_generation
  body.pop_back();
  ASSERT_EQ(body.back(), 0);  // has_private
  auto reseal = [](Bytes b) {
    Hasher h("pfex/v1/validator-snapshot");
    h.update(b);
    const Digest32 sum = h.finish();
    b.insert(b.end(), sum.begin(), sum.end());
    return b;
  };
  Bytes v1 = body;
  v1.pop_back();
  v1[4] = 1;  // version:u32, little-endian, after the magic
  auto one = LedgerReplica::restore(reseal(v1));
  ASSERT_TRUE(one.is_ok()) << one.status().to_string();
  EXPECT_EQ(one->chain(), v.chain());
  EXPECT_EQ(one->state_hash(), v.state_hash());
  EXPECT_EQ(one->snapshot(), snap);  // written again as version 3
  Bytes v2 = body;
  v2[4] = 2;
  auto two = LedgerReplica::restore(reseal(v2));
  ASSERT_TRUE(two.is_ok()) << two.status().to_string();
  EXPECT_EQ(two->snapshot(), snap);
  for (int version : {0, 4}) {
    Bytes other = body;
    other[4] = static_cast<std::uint8_t>(version);
    EXPECT_EQ(LedgerReplica::restore(reseal(other)).status().code(), ErrorCode::kCorruption);
  }
  Bytes private_flag = body;
  private_flag.back() = 1;  // a private ledger in a transparent market's snapshot
  private_flag.insert(private_flag.end(), {0, 0, 0, 0, 0});
  EXPECT_FALSE(LedgerReplica::restore(reseal(private_flag)).is_ok());
}

}  // namespace
}  // namespace pfex::protocol
