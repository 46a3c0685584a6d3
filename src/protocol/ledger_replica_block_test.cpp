// The LedgerReplica verifies the private transactions of a batch as one block
// (validator_stages.hpp, private_block_stage; docs/protocol/validator.md, "Proofs per block"): the
// batch runs on a copy of the state with every proof taken as valid, each statement recorded at
// its own position, then every proof in one MSM, the bad ones named; a bad one makes the replica
// speculate again from the state it leaves. So a transaction whose window, order or identity an
// earlier entry of the batch creates is in the block too. The outcomes, the chain and the state
// are those of applying one entry at a time, which are those of verifying each transaction alone
// (PrivateLedger::apply), on 1, 2 and 64 threads.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "protocol/ledger_replica.hpp"
#include "protocol/private/wallet.hpp"
#include "protocol/private_test_util.hpp"

namespace pfex::protocol {
namespace {

using priv::OrderKind;
using priv::PrivateTx;
using priv::PrivateWallet;
using priv::Side;

Bytes private_entry(const PrivateTx& tx) {
  return encode_entry(PrivateEntry{tx});
}

// What the batch replica must do with one entry of the block.
enum class Expect { kInBlock, kRejected };

// A private log built once (proving costs): a prefix (genesis; A, B, C, D register, are minted
// cash and deposit), then the block: entries the builder applied one at a time, each with the
// way a replica given the whole block at once must verify it.
struct BlockLog {
  std::shared_ptr<const priv::PrivateGens> gens = std::make_shared<const priv::PrivateGens>();
  SigningKey issuer = testing::fixed_issuer();
  std::vector<LedgerEntry> entries;
  std::vector<EntryOutcome> outcomes;  // the builder's, one entry at a time
  std::size_t block_start = 0;
  std::vector<Expect> expect;  // for the block's entries
  std::uint64_t issuer_sequence = 0;
  LedgerReplica builder{gens};
  PrivateWallet a{*gens}, b{*gens}, c{*gens}, d{*gens}, e{*gens};

  const priv::PrivateLedger& ledger() const { return *builder.private_ledger(); }

  EntryOutcome add(Bytes payload, Expect how = Expect::kInBlock) {
    const std::uint64_t seq = entries.size() + 1;
    entries.push_back(LedgerEntry{seq, LedgerTime(1'000'000 + static_cast<std::int64_t>(seq)),
                                  std::move(payload)});
    Result<EntryOutcome> out = builder.apply(entries.back());
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
    outcomes.push_back(*out);
    if (block_start != 0) expect.push_back(how);
    EXPECT_EQ(out->accepted, how != Expect::kRejected)
        << "entry " << seq << ": " << out->reason.to_string();
    return *out;
  }
  template <class Tx>
  void ok(PrivateWallet* w, const Result<Tx>& tx, Expect how = Expect::kInBlock) {
    ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
    const EntryOutcome out = add(private_entry(PrivateTx(*tx)), how);
    ASSERT_TRUE(out.accepted) << out.reason.to_string();
    if (w != nullptr) {
      ASSERT_TRUE(w->confirm(*out.private_result).is_ok());
    }
  }
  void mint(PrivateWallet& w, std::int64_t amount, Expect how = Expect::kInBlock) {
    const priv::MintTx tx = testing::signed_mint(issuer, ledger().terms().market_id, w.identity(),
                                                 amount, ++issuer_sequence);
    ASSERT_TRUE(add(private_entry(PrivateTx(tx)), how).accepted);
    w.on_mint(static_cast<std::uint64_t>(amount));
  }

  BlockLog() { build(); }

 private:
  void build() {
    add(encode_entry(testing::private_genesis(issuer.public_key())));
    for (PrivateWallet* w : {&a, &b, &c, &d})
      ok(w, w->build_register(ledger(), 1, 0));
    for (PrivateWallet* w : {&a, &b, &c, &d})
      mint(*w, 1'000'000);
    for (PrivateWallet* w : {&a, &b, &c, &d})
      ok(w, w->build_deposit(ledger(), 500'000));

    block_start = entries.size();
    // Traders build against the state they see, the one before the block: their windows are
    // complete in it (a wallet names the newest window of the list it sees).
    auto seen = priv::PrivateLedger::decode_state(*gens, ledger().encode_state());
    ASSERT_TRUE(seen.is_ok());
    const priv::PrivateLedger& before = **seen;
    const std::int64_t price = testing::kReference;
    // Independent posts, one with a damaged proof, and a replay of a post inside the block (a
    // double spend whose proofs hold: its rules refuse it at its position).
    auto post_a = a.build_post(before, Side::kBuy, OrderKind::kLimit, price, 5);
    ASSERT_TRUE(post_a.is_ok());
    const Bytes post_a_bytes = private_entry(PrivateTx(*post_a));
    ok(&a, post_a);  // order 0
    auto post_c = c.build_post(before, Side::kSell, OrderKind::kLimit, price + 10, 4);
    ASSERT_TRUE(post_c.is_ok());
    priv::SpendTx damaged = *post_c;  // a response of its linear proof off by one
    std::vector<crypto::Scalar> z = damaged.proofs->linear.z();
    z[0] = z[0] + crypto::Scalar::from_u64(1);
    damaged.proofs->linear = crypto::LinearProof(damaged.proofs->linear.A(), z);
    EXPECT_EQ(add(private_entry(PrivateTx(damaged)), Expect::kRejected).reason.code(),
              ErrorCode::kInvalidProof);
    ok(&c, post_c);  // order 1
    add(post_a_bytes, Expect::kRejected);
    // Statements that need the block: an order and a token it creates.
    ok(nullptr, a.build_cancel(ledger(), 0));
    ok(&a, a.build_settle(ledger()));
    // A cash balance the block changes: B's deposit built before D pays B verifies against the
    // state before the block, not at its position (the ledger refuses it alone); built after
    // (on the newest window, which the block completes), it is accepted alone.
    auto stale = b.build_deposit(before, 1'000);
    ASSERT_TRUE(stale.is_ok());
    auto transfer = d.build_transfer(ledger(), b.identity(), 2'500);
    ok(&d, transfer);
    add(private_entry(PrivateTx(*stale)), Expect::kRejected);
    ASSERT_TRUE(b.receive(*transfer).is_ok());
    ok(&b, b.build_deposit(ledger(), 1'000));
    // An identity the block registers: its register is independent, its mint is not.
    ok(&e, e.build_register(ledger(), 1, 0));
    mint(e, 10);
  }
};

class ReplicaBlockTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { suite_log = new BlockLog(); }
  static void TearDownTestSuite() {
    delete suite_log;
    suite_log = nullptr;
  }
  static const BlockLog& log() { return *suite_log; }

 private:
  static BlockLog* suite_log;
};
BlockLog* ReplicaBlockTest::suite_log = nullptr;

TEST_F(ReplicaBlockTest, TheBuilderMatchesVerifyingEachTransactionAlone) {
  // The reference: a bare ledger checking each transaction's proofs alone (PrivateLedger::apply).
  ASSERT_FALSE(::testing::Test::HasFailure());
  auto genesis = decode_entry(log().entries[0].payload);
  ASSERT_TRUE(genesis.is_ok());
  auto terms = private_terms_of(std::get<Genesis>(*genesis), log().entries[0].payload);
  ASSERT_TRUE(terms.is_ok());
  priv::PrivateLedger alone(*log().gens, *terms);
  const MarketContext context{Mode::kPrivate, terms->log_window};
  for (std::size_t i = 1; i < log().entries.size(); ++i) {
    auto entry = decode_entry(log().entries[i].payload, context);
    ASSERT_TRUE(entry.is_ok()) << i;
    auto applied = alone.apply(std::get<PrivateEntry>(*entry).tx);
    EXPECT_EQ(applied.is_ok(), log().outcomes[i].accepted) << i;
    if (!applied.is_ok()) {
      EXPECT_EQ(applied.status().to_string(), log().outcomes[i].reason.to_string()) << i;
    }
  }
  EXPECT_EQ(alone.state_hash(), log().builder.private_ledger()->state_hash());
}

TEST_F(ReplicaBlockTest, ABlockAtOnceGivesTheOutcomesOfOneEntryAtATime) {
  const auto all = std::span(log().entries);
  const auto prefix = all.first(log().block_start);
  const auto block = all.subspan(log().block_start);
  ASSERT_EQ(block.size(), log().expect.size());
  for (unsigned threads : {1U, 2U, 64U}) {
    LedgerReplica v(log().gens);
    ASSERT_TRUE(v.apply_batch(prefix).is_ok());
    auto outs = v.apply_batch(block, threads);
    ASSERT_TRUE(outs.is_ok()) << outs.status().to_string();
    std::size_t in_block = 0;
    for (std::size_t k = 0; k < block.size(); ++k) {
      const EntryOutcome& got = (*outs)[k];
      const EntryOutcome& want = log().outcomes[log().block_start + k];
      EXPECT_EQ(got.accepted, want.accepted) << threads << " threads, block entry " << k;
      EXPECT_EQ(got.reason.to_string(), want.reason.to_string()) << threads << " threads, " << k;
      if (got.accepted) {
        EXPECT_EQ(got.proofs_in_block, log().expect[k] == Expect::kInBlock)
            << threads << " threads, block entry " << k;
        EXPECT_EQ(got.private_result->new_order, want.private_result->new_order);
        EXPECT_EQ(got.private_result->token_index, want.private_result->token_index);
      }
      in_block += got.proofs_in_block ? 1 : 0;
    }
    // Every accepted one, including those whose window, order, token or identity the block
    // creates (A's cancel and settle, B's second deposit, E's mint).
    EXPECT_EQ(in_block, 8U) << threads;
    EXPECT_EQ(v.chain(), log().builder.chain()) << threads;
    EXPECT_EQ(v.state_hash(), log().builder.state_hash()) << threads;
    EXPECT_EQ(v.accepted(), log().builder.accepted());
  }
}

TEST_F(ReplicaBlockTest, TheBlockStageVerifiesEveryTransactionAtItsPosition) {
  const auto all = std::span(log().entries);
  const auto block = all.subspan(log().block_start);
  LedgerReplica v(log().gens);
  ASSERT_TRUE(v.apply_batch(all.first(log().block_start)).is_ok());
  // The state before the block, as a validator holds it: the genesis, then the ledger's state.
  ValidatorState state;
  auto genesis = decode_entry(all[0].payload);
  ASSERT_TRUE(genesis.is_ok());
  ASSERT_TRUE(EntryRules<Genesis>::check(std::get<Genesis>(*genesis), state).is_ok());
  state.gens = log().gens;
  EntryOutcome ignored;
  ASSERT_TRUE(EntryRules<Genesis>::apply(std::get<Genesis>(*genesis), all[0].payload, LedgerTime(1),
                                         state, ignored)
                  .is_ok());
  auto ledger = priv::PrivateLedger::decode_state(*log().gens, v.private_ledger()->encode_state());
  ASSERT_TRUE(ledger.is_ok());
  state.private_market->ledger = std::move(ledger).value();
  state.private_market->book =
      std::make_unique<PrivateBook>(v.private_book()->copy_for(*state.private_market->ledger));
  const Digest32 before = private_state_hash(*state.private_market);
  const std::vector<Result<Entry>> decoded = decode_stage(block, state.context());
  const std::vector<std::uint8_t> proofs_ok = proof_stage(block, decoded, 1);
  priv::BlockVerifier verifier;
  const SpeculativeBlock run = private_block_stage(block, decoded, proofs_ok, state,
                                                   LedgerClock(v.ledger_time()), verifier, 2);
  ASSERT_EQ(run.statements.size(), block.size());
  // Verified in the block: A's post, A's cancel and settle (their order and token are the
  // block's), D's transfer, E's register and mint (E registers in the block). Not: C's damaged
  // post (named bad; the speculative run took it, so C's good post and B's second deposit
  // reuse serials it spent), the replayed post (its serial is spent), B's deposit built before
  // D paid it (its statement at its position is not the one it proved: named bad).
  const std::vector<bool> want = {true, false, false, false, true, true,
                                  true, false, false, true,  true};
  const std::vector<bool> accepted = {true, true, false, false, true, true,
                                      true, true, false, true,  true};
  ASSERT_EQ(want.size(), block.size());
  for (std::size_t k = 0; k < block.size(); ++k) {
    EXPECT_EQ(run.statements[k].has_value(), want[k]) << k;
    EXPECT_EQ(run.accepted[k], accepted[k]) << k;
  }
  // The speculation ran on a copy.
  EXPECT_EQ(private_state_hash(*state.private_market), before);
}

TEST_F(ReplicaBlockTest, OneEntryAtATimeEveryAcceptedTransactionVerifiesInItsOwnBlock) {
  for (std::size_t i = 1; i < log().outcomes.size(); ++i) {
    const EntryOutcome& o = log().outcomes[i];
    EXPECT_EQ(o.proofs_in_block, o.accepted) << i;
  }
}

TEST_F(ReplicaBlockTest, TheWholeLogAtOnceAndInPiecesGivesTheSameChain) {
  // Including the genesis (applied alone first) and a cut inside the block.
  for (std::size_t cut : {std::size_t{1}, log().block_start + 3, log().entries.size()}) {
    LedgerReplica v(log().gens);
    const auto all = std::span(log().entries);
    ASSERT_TRUE(v.apply_batch(all.first(cut), 2).is_ok());
    ASSERT_TRUE(v.apply_batch(all.subspan(cut), 2).is_ok());
    EXPECT_EQ(v.chain(), log().builder.chain()) << cut;
    EXPECT_EQ(v.state_hash(), log().builder.state_hash()) << cut;
  }
}

}  // namespace
}  // namespace pfex::protocol
