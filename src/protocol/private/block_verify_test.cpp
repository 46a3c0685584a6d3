// Block verification: a block of valid transactions of every type passes with one MSM; a bad
// proof, a bad signature, a statement that cannot be formed, a proof swapped into the wrong field
// are each named, exactly, and only them; the verdict is the same on 1 and 2 threads.
#include "protocol/private/block_verify.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "protocol/private/test_util.hpp"

namespace pfex::priv {
namespace {

using testing::gens;
using testing::mint_tx;
using testing::small_terms;

// Transactions with the statements a validator resolves for them: each against the ledger as the
// transactions before it left it.
struct Block {
  std::vector<PrivateTx> txs;
  std::vector<TxStatement> statements;
};

// Built once for every test (proving costs): the tests copy a block before changing it.
struct World {
  PrivateLedger ledger{gens(), small_terms()};
  PrivateWallet a{gens()};
  PrivateWallet b{gens()};
  std::uint64_t issuer_sequence = 0;
  Block trading;  // every type but refresh, in log order
  Block refreshes;

  // Resolves tx against the ledger now, applies it and confirms it in w (if given).
  template <class Tx>
  void add(Block& block, PrivateWallet* w, const Result<Tx>& tx) {
    ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
    const PrivateTx ptx(*tx);
    block.statements.push_back(resolve_statement(ledger, ptx));
    ASSERT_TRUE(block.statements.back().unresolved.is_ok())
        << block.statements.back().unresolved.to_string();
    block.txs.push_back(ptx);
    auto applied = ledger.apply(ptx);
    ASSERT_TRUE(applied.is_ok()) << tx_type_name(tx_type(ptx)) << " at " << block.txs.size() - 1
                                 << ": " << applied.status().to_string();
    if (w != nullptr) {
      ASSERT_TRUE(w->confirm(*applied).is_ok());
    }
  }
  void mint(Block& block, PrivateWallet& w, std::int64_t amount) {
    add(block, nullptr, Result<MintTx>(mint_tx(w, amount, ++issuer_sequence)));
    w.on_mint(static_cast<std::uint64_t>(amount));
  }

  // register, mint, deposit, post, settle, reduce, cancel-replace, cancel, transfer, withdraw;
  // then settles and the refreshes of a margin round.
  void build() {
    add(trading, &a, a.build_register(ledger, 1, 0));
    add(trading, &b, b.build_register(ledger, 1, 0));
    mint(trading, a, 100'000);
    mint(trading, b, 100'000);
    add(trading, &a, a.build_deposit(ledger, 50'000));
    add(trading, &b, b.build_deposit(ledger, 50'000));
    add(trading, &a, a.build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 5));   // order 0
    add(trading, &b, b.build_post(ledger, Side::kSell, OrderKind::kLimit, 100, 5));  // order 1
    ASSERT_TRUE(ledger.record_fill(0, 100, 3).is_ok());
    ASSERT_TRUE(ledger.record_fill(1, 100, 3).is_ok());
    add(trading, &a, a.build_settle(ledger));
    add(trading, &a, a.build_reduce(ledger, 0, 1));
    add(trading, &b,
        b.build_cancel_replace(ledger, 1, Side::kSell, OrderKind::kLimit, 105, 2));  // order 2
    add(trading, nullptr, a.build_cancel(ledger, 0));
    add(trading, &a, a.build_transfer(ledger, b.identity(), 100));
    ASSERT_TRUE(b.receive(std::get<TransferTx>(trading.txs.back())).is_ok());
    add(trading, &b, b.build_withdraw(ledger, 1'000));

    // A margin round: both settle on the old epoch, then the refreshes (independent of each
    // other) form a block resolved against one state.
    MarketTerms next = ledger.terms();
    next.epoch += 1;
    ASSERT_TRUE(ledger.begin_margin_round(next, 1).is_ok());
    add(trading, &a, a.build_settle(ledger));
    add(trading, &b, b.build_settle(ledger));
    auto ra = a.build_refresh(ledger, 1'000);
    auto rb = b.build_refresh(ledger, 0);
    ASSERT_TRUE(ra.is_ok()) << ra.status().to_string();
    ASSERT_TRUE(rb.is_ok()) << rb.status().to_string();
    refreshes.txs = {PrivateTx(*ra), PrivateTx(*rb)};
    for (const PrivateTx& tx : refreshes.txs)
      refreshes.statements.push_back(resolve_statement(ledger, tx));
  }

  bool ok = false;
};

World& world() {
  static World* w = [] {
    auto* made = new World;  // lives for the process
    made->build();
    made->ok = !::testing::Test::HasFailure();
    return made;
  }();
  return *w;
}

struct BlockFixture : ::testing::Test {
  World& w = world();
  PrivateLedger& ledger = w.ledger;
  const Block& trading = w.trading;
  const Block& refreshes = w.refreshes;

  void SetUp() override { ASSERT_TRUE(w.ok) << "the fixture's flow failed"; }
  // Every block of the fixture.
  std::vector<const Block*> blocks() const { return {&trading, &refreshes}; }
};

BlockVerdict verify(const Block& block, unsigned threads = 1) {
  return verify_block_var(world().ledger, block.txs, block.statements, threads);
}

std::string named(const BlockVerdict& v) {
  std::string out;
  for (std::size_t k = 0; k < v.bad.size(); ++k)
    out += std::to_string(v.bad[k]) + ": " + v.reasons[k].to_string() + "\n";
  return out;
}

// A response of a sigma proof moved by one: the proof no longer verifies, and still parses.
crypto::LinearProof bent(const crypto::LinearProof& p) {
  std::vector<Scalar> z = p.z();
  z[0] += Scalar::one();
  return crypto::LinearProof(p.A(), std::move(z));
}

// One byte of a scalar of an encoded proof flipped in its low bits (stays canonical).
template <class Proof, class... Size>
Proof flipped(const Proof& p, std::size_t offset, Size... size) {
  Bytes bytes;
  Writer w(&bytes);
  if constexpr (std::is_same_v<Proof, crypto::RangeProof>) {
    bytes = p.encode();
  } else {
    p.encode(w);
  }
  bytes[offset] ^= 1;
  auto out = Proof::decode(ByteSpan(bytes), size...);
  EXPECT_TRUE(out.is_ok()) << out.status().to_string();
  return *out;
}

TEST_F(BlockFixture, ABlockOfValidTransactionsOfEveryTypePasses) {
  std::set<TxType> types;
  for (const Block* block : blocks()) {
    for (const PrivateTx& tx : block->txs)
      types.insert(tx_type(tx));
    const BlockVerdict v = verify(*block);
    EXPECT_TRUE(v.ok()) << named(v);
  }
  // Every coded type (exit is reserved).
  EXPECT_EQ(types.size(), 11u);
  // The convenience form resolves every statement against the ledger as it is: right for the
  // refreshes of one round.
  EXPECT_TRUE(verify_block_var(ledger, refreshes.txs, 2).ok());
  EXPECT_TRUE(verify_block_var(ledger, {}, {}, 2).ok());
}

// same_statement: a statement equals itself (of every type), and differs when any public value it
// holds differs; an unformed statement equals nothing, itself included.
TEST_F(BlockFixture, SameStatementComparesEveryPublicValue) {
  for (const Block* block : blocks()) {
    for (const TxStatement& s : block->statements)
      EXPECT_TRUE(same_statement(s, s));
  }
  const TxStatement& settle = trading.statements[8];
  const TxStatement& deposit = trading.statements[4];
  const TxStatement& refresh = refreshes.statements[0];
  ASSERT_FALSE(settle.effects.tags.empty());
  ASSERT_TRUE(deposit.cash.has_value());
  ASSERT_TRUE(refresh.refresh.has_value());
  std::vector<TxStatement> changed(9, settle);
  changed[0].terms.epoch += 1;
  changed[1].terms.bond += 1;
  changed[2].effects.deltas.c += 1;
  changed[3].effects.tags[0] = changed[3].effects.tags[0] + gens().G();
  changed[4] = deposit;
  changed[4].cash->new_balance = changed[4].cash->new_balance + gens().H();
  changed[5] = refresh;
  changed[5].refresh->levy += 1;
  changed[6].cancel_tag = gens().G();
  changed[7].transfer_range[1] = gens().H();
  changed[8].unresolved = Status::not_found("order 7 unknown");
  for (std::size_t k = 0; k < changed.size(); ++k) {
    const TxStatement& original = k == 4 ? deposit : k == 5 ? refresh : settle;
    EXPECT_FALSE(same_statement(original, changed[k])) << k;
    EXPECT_FALSE(same_statement(changed[k], original)) << k;
  }
  EXPECT_FALSE(same_statement(changed[8], changed[8]));
}

// Each transaction in turn checked against a statement it was not proved for (another market id,
// which every transcript absorbs; a mint, which has no proof, gets a bad signature): the
// bisection names it and nothing else, with the reason.
TEST_F(BlockFixture, OneBadTransactionOfEveryTypeIsNamedAndOnlyIt) {
  for (const Block* block : blocks()) {
    for (std::size_t i = 0; i < block->txs.size(); ++i) {
      Block bad = *block;
      if (auto* mint = std::get_if<MintTx>(&bad.txs[i])) {
        mint->signature[0] ^= 1;
      } else {
        bad.statements[i].terms.market_id[0] ^= 1;
      }
      const BlockVerdict v = verify(bad);
      ASSERT_EQ(v.bad, std::vector<std::size_t>{i}) << tx_type_name(tx_type(bad.txs[i]));
      const std::string_view expected =
          std::holds_alternative<MintTx>(bad.txs[i]) ? "bad signature" : "do not verify";
      EXPECT_NE(v.reasons[0].message().find(expected), std::string_view::npos)
          << v.reasons[0].to_string();
    }
  }
}

TEST_F(BlockFixture, BadProofsInsideTransactionsAreNamed) {
  // Post (index 6): its linear proof; settle (8): a membership response; cancel-replace (10):
  // the range proof's t_hat; cancel (11): its tag opening.
  Block bad = trading;
  auto& post = std::get<SpendTx>(bad.txs[6]);
  ASSERT_EQ(post.type, TxType::kPost);
  post.proofs->linear = bent(post.proofs->linear);
  auto& settle = std::get<SpendTx>(bad.txs[8]);
  ASSERT_EQ(settle.type, TxType::kSettle);
  const std::size_t n = settle.proofs->membership.log_size();
  settle.proofs->membership = flipped(settle.proofs->membership, 32 * (4 + n), n);
  auto& replace = std::get<SpendTx>(bad.txs[10]);
  ASSERT_EQ(replace.type, TxType::kCancelReplace);
  replace.proofs->range = flipped(replace.proofs->range, 128, kSpendRangeValues);
  auto& cancel = std::get<CancelTx>(bad.txs[11]);
  cancel.proof = bent(cancel.proof);
  const BlockVerdict v = verify(bad);
  EXPECT_EQ(v.bad, (std::vector<std::size_t>{6, 8, 10, 11})) << named(v);
  // Each alone.
  for (std::size_t i : {6u, 8u, 10u, 11u}) {
    Block one = trading;
    one.txs[i] = bad.txs[i];
    EXPECT_EQ(verify(one).bad, std::vector<std::size_t>{i});
  }
}

TEST_F(BlockFixture, TwoBadOnesAreNamedAndTheVerdictIsTheSameOnOneAndTwoThreads) {
  Block bad = trading;
  auto& post = std::get<SpendTx>(bad.txs[7]);
  post.proofs->linear = bent(post.proofs->linear);
  bad.statements[0].terms.market_id[0] ^= 1;  // the register
  const BlockVerdict one = verify(bad, 1);
  const BlockVerdict two = verify(bad, 2);
  const BlockVerdict many = verify(bad, 64);  // more threads than transactions
  EXPECT_EQ(one.bad, (std::vector<std::size_t>{0, 7})) << named(one);
  EXPECT_EQ(two.bad, one.bad);
  EXPECT_EQ(many.bad, one.bad);
  EXPECT_TRUE(verify(trading, 2).ok());
  EXPECT_TRUE(verify(trading, 0).ok());  // 0 threads counts as 1
}

// Fail closed: what cannot be turned into terms is bad, with its reason, and the rest pass.
TEST_F(BlockFixture, WhatCannotBeCheckedIsBad) {
  Block bad = trading;
  // A statement that could not be formed (an order that does not exist).
  CancelTx unknown = std::get<CancelTx>(bad.txs[11]);
  unknown.order = 999;
  bad.txs[11] = unknown;
  bad.statements[11] = resolve_statement(ledger, bad.txs[11]);
  EXPECT_EQ(bad.statements[11].unresolved.code(), ErrorCode::kNotFound);
  // A spend without proofs.
  std::get<SpendTx>(bad.txs[6]).proofs.reset();
  // A proof in the wrong field: the transfer's range proof (m = 2) in a post (m = 8).
  auto& post = std::get<SpendTx>(bad.txs[7]);
  post.proofs->range = *std::get<TransferTx>(trading.txs[12]).range;
  const BlockVerdict v = verify(bad);
  EXPECT_EQ(v.bad, (std::vector<std::size_t>{6, 7, 11})) << named(v);
  EXPECT_NE(v.reasons[0].message().find("no proofs"), std::string_view::npos);
  EXPECT_NE(v.reasons[1].message().find("range"), std::string_view::npos) << named(v);
  EXPECT_NE(v.reasons[2].message().find("unknown"), std::string_view::npos);
  // Fewer statements than transactions: the rest are bad.
  const BlockVerdict short_of =
      verify_block_var(ledger, trading.txs, std::span(trading.statements).first(3), 2);
  EXPECT_EQ(short_of.bad.size(), trading.txs.size() - 3);
  EXPECT_EQ(short_of.bad.front(), 3u);

  // A refresh claiming open orders (V_B not the identity; its signature fails as well).
  Block open = refreshes;
  auto& r = std::get<SpendTx>(open.txs[1]);
  r.spend.V[SpendPublic::kB] = Point::random();
  const BlockVerdict rv = verify(open);
  EXPECT_EQ(rv.bad, std::vector<std::size_t>{1}) << named(rv);
}

// The windows are laid out as their union: two posts whose windows differ by one token (the
// second was built after the first joined the list) cost one point more in the MSM than the same
// post twice; and a verifier that keeps its encodings gives the same verdicts block after block.
TEST_F(BlockFixture, OverlappingWindowsShareTheirPoints) {
  auto pair = [&](std::size_t x, std::size_t y) {
    Block b;
    b.txs = {trading.txs[x], trading.txs[y]};
    b.statements = {trading.statements[x], trading.statements[y]};
    return b;
  };
  const Window& w6 = std::get<SpendTx>(trading.txs[6]).spend.window;
  const Window& w7 = std::get<SpendTx>(trading.txs[7]).spend.window;
  ASSERT_EQ(w6.start, 0u);
  ASSERT_EQ(w7.length, w6.length + 1);  // short windows of N = 8: t and t+1 tokens
  const BlockVerdict same = verify(pair(6, 6));
  const BlockVerdict next = verify(pair(6, 7));
  EXPECT_TRUE(same.ok());
  EXPECT_TRUE(next.ok());
  EXPECT_EQ(next.msm_points, same.msm_points + 1);

  // The log's bytes give the same verdict as encoding the transactions again, good or bad.
  std::vector<Bytes> bytes;
  for (const PrivateTx& tx : trading.txs)
    bytes.push_back(encode(tx));
  const std::vector<ByteSpan> spans(bytes.begin(), bytes.end());
  BlockVerifier verifier;
  EXPECT_TRUE(verifier.verify_var(ledger, trading.txs, trading.statements, 2, spans).ok());
  Block bad = trading;
  bad.statements[9].terms.market_id[0] ^= 1;
  EXPECT_EQ(verifier.verify_var(ledger, bad.txs, bad.statements, 1, spans).bad,
            std::vector<std::size_t>{9});
  for (int round = 0; round < 2; ++round) {
    EXPECT_TRUE(verifier.verify_var(ledger, trading.txs, trading.statements, 2).ok());
    EXPECT_TRUE(verifier.verify_var(ledger, refreshes.txs, refreshes.statements).ok());
  }
}

}  // namespace
}  // namespace pfex::priv
