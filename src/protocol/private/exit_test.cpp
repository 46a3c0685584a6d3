// Bonds at registration and the defaulter's exit: absentees of a margin round forfeit their
// bonds, and later claim what their last token (with its unsettled fills) was worth at the fund's
// liquidation price, minus the penalty, once.
#include "protocol/private/exit.hpp"

#include <gtest/gtest.h>

#include "protocol/private/block_verify.hpp"
#include "protocol/private/ledger.hpp"
#include "protocol/private/test_util.hpp"

namespace pfex::priv {
namespace {

using testing::apply_ok;
using testing::expect_rejected;
using testing::gens;
using testing::mint_tx;
using testing::registered;

constexpr std::int64_t kBond = 100;
constexpr std::int64_t kPenalty = 5;

MarketTerms exit_terms() {
  MarketTerms t = testing::small_terms();
  t.bond = kBond;
  t.exit_penalty = kPenalty;
  return t;
}

// A buys 3 from B at 100; B's second sell of 2 at 105 fills 1 and expires at the halt. At the
// round A refreshes; B (short 4, unsettled) and C (flat, 50'000 in its token) default.
struct ExitFixture : ::testing::Test {
  PrivateLedger ledger{gens(), exit_terms()};
  std::unique_ptr<PrivateWallet> a = registered(ledger);
  std::unique_ptr<PrivateWallet> b = registered(ledger);
  std::unique_ptr<PrivateWallet> c = registered(ledger);
  std::uint64_t issuer_sequence = 0;

  void fund(PrivateWallet& w) {
    auto applied = ledger.apply(PrivateTx(mint_tx(w, 100'000, ++issuer_sequence)));
    ASSERT_TRUE(applied.is_ok()) << applied.status().to_string();
    w.on_mint(100'000);
    apply_ok(ledger, w, w.build_deposit(ledger, 50'000));
  }

  void SetUp() override {
    fund(*a);
    fund(*b);
    fund(*c);
    apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 3));   // 0
    apply_ok(ledger, *b, b->build_post(ledger, Side::kSell, OrderKind::kLimit, 100, 3));  // 1
    ASSERT_TRUE(ledger.record_fill(0, 100, 3).is_ok());
    ASSERT_TRUE(ledger.record_fill(1, 100, 3).is_ok());
    apply_ok(ledger, *b, b->build_post(ledger, Side::kSell, OrderKind::kLimit, 105, 2));  // 2
    ASSERT_TRUE(ledger.record_fill(2, 105, 1).is_ok());
    MarketTerms next = ledger.terms();
    next.epoch = 2;
    ASSERT_TRUE(ledger.begin_margin_round(next, 0).is_ok());
    apply_ok(ledger, *a, a->build_settle(ledger));
    apply_ok(ledger, *a, a->build_refresh(ledger, 0));
    auto closed = ledger.close_refresh_window();
    ASSERT_TRUE(closed.is_ok());
    ASSERT_EQ(closed->size(), 2u);
  }

  // The liquidation price 304/3 = 101.33 ticks.
  void price() { ASSERT_TRUE(ledger.record_liquidation_price(1, {304, 3}).is_ok()); }
};

TEST_F(ExitFixture, BondsArePostedAtRegistrationAndForfeitedByDefaulters) {
  EXPECT_EQ(ledger.fund().bonds_held, kBond);  // A's
  EXPECT_EQ(ledger.fund().bonds_forfeited, 2 * kBond);
  EXPECT_EQ(ledger.identity(a->identity())->bond, kBond);
  EXPECT_EQ(ledger.identity(b->identity())->bond, 0);
  EXPECT_EQ(ledger.default_epoch(b->identity()), 1u);
  EXPECT_EQ(ledger.default_epoch(a->identity()), std::nullopt);
  // Minted cash and bonds share the supply cap.
  EXPECT_EQ(ledger.cash_supply(), 3 * std::int64_t{100'000} + 3 * kBond);
  // A registration must post exactly the market's bond.
  PrivateWallet d(gens());
  auto less = d.build_register(ledger, 1, kBond - 1);
  ASSERT_TRUE(less.is_ok());
  expect_rejected(ledger, PrivateTx(*less), ErrorCode::kInvalidArgument, "the market's is 100");
  auto more = d.build_register(ledger, 2, kBond + 1);
  ASSERT_TRUE(more.is_ok());
  expect_rejected(ledger, PrivateTx(*more), ErrorCode::kInvalidArgument, "bond");
}

TEST(PrivateBond, TermsBoundTheBondAndTheSupplyCapIncludesIt) {
  MarketTerms t = exit_terms();
  t.bond = kCashSupplyCap - 1;
  EXPECT_TRUE(t.validate().is_ok());
  t.bond = kCashSupplyCap;
  EXPECT_TRUE(t.validate().is_ok());
  t.bond = kCashSupplyCap + 1;
  EXPECT_EQ(t.validate().code(), ErrorCode::kInvalidArgument);
  t.bond = -1;
  EXPECT_EQ(t.validate().code(), ErrorCode::kInvalidArgument);
  t = exit_terms();
  t.exit_penalty = (std::int64_t{1} << 40) - 1;
  EXPECT_TRUE(t.validate().is_ok());
  t.exit_penalty = std::int64_t{1} << 40;
  EXPECT_EQ(t.validate().code(), ErrorCode::kInvalidArgument);

  // Supply at the cap minus the bond: one more registration fits, the next does not.
  PrivateLedger ledger(gens(), exit_terms());
  auto w = registered(ledger);
  auto minted = ledger.apply(PrivateTx(mint_tx(*w, kCashSupplyCap - 3 * kBond, 1)));
  ASSERT_TRUE(minted.is_ok()) << minted.status().to_string();
  EXPECT_EQ(ledger.cash_supply(), kCashSupplyCap - 2 * kBond);
  auto second = registered(ledger);
  EXPECT_EQ(ledger.cash_supply(), kCashSupplyCap - kBond);
  auto third = registered(ledger);
  EXPECT_EQ(ledger.cash_supply(), kCashSupplyCap);
  PrivateWallet fourth(gens());
  auto reg = fourth.build_register(ledger, 1, kBond);
  ASSERT_TRUE(reg.is_ok());
  expect_rejected(ledger, PrivateTx(*reg), ErrorCode::kFailedPrecondition, "cap");
}

TEST_F(ExitFixture, DefaulterExitsOnceWithItsClaim) {
  // Not before the liquidation price is known.
  auto early = b->build_exit(ledger);
  EXPECT_EQ(early.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("still running"), std::string_view::npos);
  price();
  auto exit = b->build_exit(ledger);
  ASSERT_TRUE(exit.is_ok()) << exit.status().to_string();
  // B's entry: order 2, its fill and its expired remainder (order 1 was settled and released by
  // B's second post).
  ASSERT_EQ(exit->entries.size(), 1u);
  EXPECT_EQ(exit->entries[0], (SettleEntry{2, 1, true}));
  // c' = 50'000 + 3'000 - 6 + 1'050 - 2 = 54'042, v' = -4:
  // floor((54'042*3 - 4*10*304) / 3) - 5*4 = floor(149'966 / 3) - 20 = 49'988 - 20.
  EXPECT_EQ(exit->exit.claim, 49'968);
  const Applied applied = apply_ok(ledger, *b, exit);
  EXPECT_EQ(applied.type, TxType::kExit);
  EXPECT_TRUE(ledger.exited(b->identity()));
  EXPECT_EQ(ledger.fund().exits_paid, 49'968);
  EXPECT_TRUE(ledger.order(2)->released);
  EXPECT_EQ(ledger.order(2)->claimed, 1u);
  EXPECT_EQ(b->cash_balance(), 50'000u + 49'968u);
  EXPECT_TRUE(b->open_orders().empty());
  // Twice: the same transaction, or a new one, is refused.
  expect_rejected(ledger, PrivateTx(*exit), ErrorCode::kAlreadyExists, "already exited");
  EXPECT_EQ(b->build_exit(ledger).status().code(), ErrorCode::kFailedPrecondition);
  // The claim is in B's cash account as the wallet knows it: it can pay all of it out.
  auto pay = b->build_transfer(ledger, a->identity(), 50'000 + 49'968);
  ASSERT_TRUE(pay.is_ok()) << pay.status().to_string();
  auto paid = ledger.apply(PrivateTx(*pay));
  ASSERT_TRUE(paid.is_ok()) << paid.status().to_string();
  // C, flat, claims its cash: no entries, no penalty.
  auto c_exit = c->build_exit(ledger);
  ASSERT_TRUE(c_exit.is_ok()) << c_exit.status().to_string();
  EXPECT_TRUE(c_exit->entries.empty());
  EXPECT_EQ(c_exit->exit.claim, 50'000);
  apply_ok(ledger, *c, c_exit);
  EXPECT_EQ(ledger.fund().exits_paid, 49'968 + 50'000);
}

// The state codec and hash cover the bonds, the defaults with their epochs and round, the
// liquidation price, the exits and the fund: a copy decoded before the price continues
// identically, and damage to the fund's totals is refused.
TEST_F(ExitFixture, TheStateCodecCoversBondsDefaultsAndExits) {
  auto copy = PrivateLedger::decode_state(gens(), ledger.encode_state());
  ASSERT_TRUE(copy.is_ok()) << copy.status().to_string();
  PrivateLedger& restored = **copy;
  EXPECT_EQ(restored.state_hash(), ledger.state_hash());
  EXPECT_EQ(restored.terms().bond, kBond);
  EXPECT_EQ(restored.terms().exit_penalty, kPenalty);
  EXPECT_EQ(restored.identity(a->identity())->bond, kBond);
  EXPECT_EQ(restored.identity(b->identity())->bond, 0);
  EXPECT_EQ(restored.default_epoch(b->identity()), 1u);
  EXPECT_EQ(restored.fund().bonds_held, kBond);
  EXPECT_EQ(restored.fund().bonds_forfeited, 2 * kBond);
  EXPECT_FALSE(restored.exit_context(b->identity()).is_ok());  // no price yet
  const Digest32 before = ledger.state_hash();
  price();
  EXPECT_NE(ledger.state_hash(), before);  // the price is in the state
  ASSERT_TRUE(restored.record_liquidation_price(1, {304, 3}).is_ok());
  EXPECT_EQ(restored.state_hash(), ledger.state_hash());
  auto exit = b->build_exit(ledger);
  ASSERT_TRUE(exit.is_ok()) << exit.status().to_string();
  ASSERT_TRUE(restored.check_rules(PrivateTx(*exit)).is_ok());
  ASSERT_TRUE(restored.apply(PrivateTx(*exit)).is_ok());
  apply_ok(ledger, *b, exit);
  EXPECT_TRUE(restored.exited(b->identity()));
  EXPECT_EQ(restored.fund().exits_paid, 49'968);
  EXPECT_EQ(restored.encode_state(), ledger.encode_state());
  // After the exit too, and the exited set survives.
  auto again = PrivateLedger::decode_state(gens(), ledger.encode_state());
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_TRUE((*again)->exited(b->identity()));
  EXPECT_EQ((*again)->state_hash(), ledger.state_hash());
  expect_rejected(**again, PrivateTx(*exit), ErrorCode::kAlreadyExists, "already exited");
  // The fund's totals (bonds held, forfeited, exits paid) precede the round sums (10 points and
  // the fees at the halt), the key state (1 byte and two i64) and the empty resolutions (two u32).
  const Bytes good = ledger.encode_state();
  const std::size_t totals = good.size() - std::size_t{10} * 32 - 8 - (1 + std::size_t{2} * 8) -
                             std::size_t{2} * 4 - std::size_t{3} * 8;
  Bytes held = good;
  held[totals] ^= 1;
  auto bad = PrivateLedger::decode_state(gens(), held);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(bad.status().message().find("bonds held"), std::string_view::npos);
  for (std::size_t cut = 0; cut < good.size(); cut += 7) {
    EXPECT_EQ(PrivateLedger::decode_state(gens(), ByteSpan(good.data(), cut)).status().code(),
              ErrorCode::kCorruption)
        << cut;
  }
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(PrivateLedger::decode_state(gens(), longer).status().code(), ErrorCode::kCorruption);
}

TEST(PrivateBond, TheStateHashCoversTheBondAndThePenalty) {
  const PrivateLedger plain(gens(), exit_terms());
  MarketTerms bond = exit_terms();
  bond.bond += 1;
  MarketTerms penalty = exit_terms();
  penalty.exit_penalty += 1;
  EXPECT_NE(PrivateLedger(gens(), bond).state_hash(), plain.state_hash());
  EXPECT_NE(PrivateLedger(gens(), penalty).state_hash(), plain.state_hash());
}

TEST_F(ExitFixture, ExitAttacksAreRejected) {
  price();
  // A non-defaulter: the wallet refuses, and B's exit re-addressed to A is refused.
  EXPECT_EQ(a->build_exit(ledger).status().code(), ErrorCode::kFailedPrecondition);
  auto exit = b->build_exit(ledger);
  auto c_exit = c->build_exit(ledger);
  ASSERT_TRUE(exit.is_ok() && c_exit.is_ok());
  ExitTx by_a = *exit;
  by_a.signer = a->identity();
  expect_rejected(ledger, PrivateTx(by_a), ErrorCode::kFailedPrecondition, "defaulted");
  // B exiting with C's token: re-signed it would not prove B's kappa (below); as sent, the
  // signature does not hold.
  ExitTx foreign = *c_exit;
  foreign.signer = b->identity();
  expect_rejected(ledger, PrivateTx(foreign), ErrorCode::kInvalidProof, "signature");
  auto b_ctx = ledger.exit_context(b->identity());
  auto c_ctx = ledger.exit_context(c->identity());
  ASSERT_TRUE(b_ctx.is_ok() && c_ctx.is_ok());
  auto c_effects = ledger.resolve(*c_exit);
  ASSERT_TRUE(c_effects.is_ok());
  auto set = ledger.window_set(c_exit->exit.window);
  ASSERT_TRUE(set.is_ok());
  {
    crypto::Transcript t = ledger.exit_transcript(foreign, *b_ctx);
    EXPECT_EQ(verify_exit(gens(), *b_ctx, foreign.exit, c_effects->deltas, c_effects->tags, **set,
                          *foreign.proofs, t)
                  .code(),
              ErrorCode::kInvalidProof);
  }
  // A wrong claim: signed bytes change; and a proof of it (the best a cheater can do) fails.
  ExitTx more = *exit;
  more.exit.claim += 1;
  expect_rejected(ledger, PrivateTx(more), ErrorCode::kInvalidProof, "signature");
  {
    // A cheater knows its own K's opening: build C's context around one it knows.
    const Scalar r_K = Scalar::random();
    ExitContext own = *c_ctx;
    own.K = gens().pedersen().blind(r_K) + c->token().kappa * gens().kappa();
    const std::size_t index = *c->token_index() - c_exit->exit.window.start;
    auto honest =
        prepare_exit(gens(), own, c->token(), r_K, c_exit->exit.window, c_effects->deltas);
    ASSERT_TRUE(honest.is_ok());
    {
      crypto::Transcript tp = ledger.exit_transcript(*c_exit, own);
      auto proofs = prove_exit(gens(), own, *honest, **set, index, {}, {}, tp);
      ASSERT_TRUE(proofs.is_ok()) << proofs.status().to_string();
      crypto::Transcript tv = ledger.exit_transcript(*c_exit, own);
      EXPECT_TRUE(verify_exit(gens(), own, honest->pub(), c_effects->deltas, {}, **set, *proofs, tv)
                      .is_ok());
    }
    for (std::int64_t claim : {c_exit->exit.claim + 1, c_exit->exit.claim - 1}) {
      auto cheat = detail_prepare_exit_claiming(gens(), own, c->token(), r_K, c_exit->exit.window,
                                                c_effects->deltas, claim);
      ASSERT_TRUE(cheat.is_ok());
      crypto::Transcript tp = ledger.exit_transcript(*c_exit, own);
      auto proofs = prove_exit(gens(), own, *cheat, **set, index, {}, {}, tp);
      ASSERT_TRUE(proofs.is_ok()) << proofs.status().to_string();
      crypto::Transcript tv = ledger.exit_transcript(*c_exit, own);
      const Status s =
          verify_exit(gens(), own, cheat->pub(), c_effects->deltas, {}, **set, *proofs, tv);
      EXPECT_EQ(s.code(), ErrorCode::kInvalidProof) << claim;
      EXPECT_NE(s.message().find("range"), std::string_view::npos) << s.to_string();
    }
  }
  // The penalty and the price are bound to the proof through the transcript and the relation.
  {
    ExitContext other = *c_ctx;
    other.price = {305, 3};
    crypto::Transcript t = ledger.exit_transcript(*c_exit, other);
    EXPECT_EQ(verify_exit(gens(), other, c_exit->exit, c_effects->deltas, c_effects->tags, **set,
                          *c_exit->proofs, t)
                  .code(),
              ErrorCode::kInvalidProof);
  }
  // Every unsettled order must be settled: without B's entries, open orders would remain.
  EXPECT_EQ(exit_values(b->attributes(), Deltas{}, *b_ctx).status().code(),
            ErrorCode::kFailedPrecondition);
  // A window on another epoch's list.
  ExitTx later = *exit;
  later.exit.window.epoch = 2;
  expect_rejected(ledger, PrivateTx(later), ErrorCode::kFailedPrecondition, "epoch 1");
  // The codec round-trips an exit, rejects every truncation and a trailing byte.
  const Bytes bytes = encode(PrivateTx(*exit));
  auto back = decode(bytes, ledger.terms().log_window);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(encode(*back), bytes);
  EXPECT_TRUE(ledger.check(*back).is_ok());
  for (std::size_t n = 0; n < bytes.size(); n += 3)
    ASSERT_FALSE(decode(ByteSpan(bytes).first(n), ledger.terms().log_window).is_ok()) << n;
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(decode(longer, ledger.terms().log_window).is_ok());
  // Every flipped byte of the body is refused.
  const std::size_t body = encode_body(PrivateTx(*exit)).size();
  for (std::size_t i = 0; i < body; ++i) {
    Bytes bad = bytes;
    bad[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    auto tx = decode(bad, ledger.terms().log_window);
    if (tx.is_ok()) {
      EXPECT_FALSE(ledger.check(*tx).is_ok()) << "byte " << i;
    }
  }
}

}  // namespace
}  // namespace pfex::priv

namespace pfex::priv {
namespace {

// exit_values() divides a secret value by the price's denominator without a division
// instruction: its claim and remainder match floor division for values of both signs, with and
// without a remainder, on the constant-time path (|tick_value * num| < 2^62) and just past it.
TEST(ExitValues, ClaimAndRemainderAreFloorDivision) {
  struct Case {  // NOLINT(clang-analyzer-optin.performance.Padding): a test table, read in order
    std::int64_t c;
    std::uint64_t vp, vm;
    i128 num;
    std::int64_t den, tick, penalty;
  };
  const i128 two62 = i128{1} << 62;
  const Case cases[] = {
      {1000, 3, 0, 7, 3, 1, 0},       // positive value with a remainder
      {1000, 0, 3, 7, 3, 1, 0},       // position short: value = 3000 - 21
      {-5, 0, 0, 7, 3, 1, 0},         // negative value: refused below (nothing to claim)
      {100, 0, 2, 70, 7, 1, 1},       // exact division
      {900, 5, 2, 11, 4, 3, 2},       // a split: t = 2 is removed from both
      {5, 1, 0, two62 - 1, 1, 1, 0},  // |kn| = 2^62 - 1: the constant-time path's limit
      {5, 0, 0, two62, 1, 1, 0},      // |kn| = 2^62: the general path
      {1LL << 40, 0, 0, 1LL << 40, 1LL << 40, 1, 0}};
  for (const Case& k : cases) {
    Attributes a;
    a.c = k.c;
    a.vp = k.vp;
    a.vm = k.vm;
    ExitContext ctx;
    ctx.price = {k.num, k.den};
    ctx.tick_value = k.tick;
    ctx.penalty = k.penalty;
    if (!validate(ctx.price).is_ok()) continue;  // the general path's prices beyond 2^31 ticks
    const auto got = exit_values(a, Deltas{}, ctx);
    const i128 t = std::min<i128>(k.vp, k.vm);
    const i128 v = i128{k.vp} - i128{k.vm};
    const i128 value = i128{k.c} * k.den + i128{k.tick} * k.num * v;
    i128 floor = value / k.den;
    if (value % k.den != 0 && value < 0) --floor;
    const i128 claim = floor - i128{k.penalty} * (k.vp + k.vm - 2 * t);
    if (claim < 0) {
      EXPECT_EQ(got.status().code(), ErrorCode::kFailedPrecondition);
      continue;
    }
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    EXPECT_EQ(got->claim, static_cast<std::int64_t>(claim));
    EXPECT_EQ(got->rem, static_cast<std::uint64_t>(value - floor * k.den));
    EXPECT_EQ(got->t, static_cast<std::uint64_t>(t));
  }
}

// The floor of a negative value with a remainder is one below the truncated quotient.
TEST(ExitValues, NegativeCashRoundsDown) {
  Attributes a;
  a.c = -10;  // value = -10 * 3 + 7 * 5 = 5: positive, so the claim is floor(5 / 3) = 1
  a.vp = 5;
  ExitContext ctx;
  ctx.price = {7, 3};
  ctx.tick_value = 1;
  auto got = exit_values(a, Deltas{}, ctx);
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->claim, 1);
  EXPECT_EQ(got->rem, 2u);
  a.c = 1;
  a.vp = 0;
  a.vm = 1;  // value = 3 - 7 = -4: floor(-4 / 3) = -2 < 0, nothing to claim
  EXPECT_EQ(exit_values(a, Deltas{}, ctx).status().code(), ErrorCode::kFailedPrecondition);
  a.c = 2;  // value = 6 - 7 = -1: floor is -1 (truncation would give a claim of 0)
  EXPECT_EQ(exit_values(a, Deltas{}, ctx).status().code(), ErrorCode::kFailedPrecondition);
  a.c = 3;  // value = 9 - 7 = 2: floor(2 / 3) = 0, remainder 2
  got = exit_values(a, Deltas{}, ctx);
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->claim, 0);
  EXPECT_EQ(got->rem, 2u);
}

// Exits are verified in the block like every spend (block_verify.hpp): B's and C's exits mixed
// with A's posts pass as one block on 1 and 2 threads; a bad exit is named with its reason and
// the others pass; a block of one (verify_detached, the gateway's) agrees.
TEST_F(ExitFixture, ExitsAreVerifiedInTheBlockWithPosts) {
  price();
  std::vector<PrivateTx> txs;
  std::vector<TxStatement> statements;
  // Resolved at its position, applied, confirmed.
  auto add = [&](PrivateWallet& w, auto built) {
    ASSERT_TRUE(built.is_ok()) << built.status().to_string();
    const PrivateTx tx(*built);
    statements.push_back(resolve_statement(ledger, tx));
    ASSERT_TRUE(statements.back().unresolved.is_ok()) << statements.back().unresolved.to_string();
    txs.push_back(tx);
    apply_ok(ledger, w, built);
  };
  add(*a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1));
  add(*b, b->build_exit(ledger));
  add(*a, a->build_post(ledger, Side::kSell, OrderKind::kLimit, 110, 1));
  add(*c, c->build_exit(ledger));
  ASSERT_TRUE(std::holds_alternative<ExitTx>(txs[1]) && std::holds_alternative<ExitTx>(txs[3]));
  ASSERT_TRUE(statements[1].exit.has_value());
  EXPECT_EQ(statements[1].exit->price, (LiquidationPrice{304, 3}));
  EXPECT_EQ(statements[1].effects.tags.size(), 1u);  // B's entry for order 2
  for (unsigned threads : {1u, 2u}) {
    const BlockVerdict v = verify_block_var(ledger, txs, statements, threads);
    EXPECT_TRUE(v.ok()) << v.reasons.front().to_string();
  }
  // B's exit against another liquidation price (what its proofs were not made for): named, the
  // rest pass.
  std::vector<TxStatement> other_price = statements;
  other_price[1].exit->price = {305, 3};
  EXPECT_FALSE(same_statement(statements[1], other_price[1]));
  BlockVerdict v = verify_block_var(ledger, txs, other_price, 2);
  ASSERT_EQ(v.bad, std::vector<std::size_t>{1});
  EXPECT_NE(v.reasons[0].message().find("do not verify"), std::string_view::npos)
      << v.reasons[0].to_string();
  // C's exit with a damaged proof (its signature, over the proofs, fails too) and B's with a
  // flipped signature: both named, the posts pass.
  std::vector<PrivateTx> damaged = txs;
  auto& c_exit = std::get<ExitTx>(damaged[3]);
  std::vector<Scalar> z = c_exit.proofs->linear.z();
  z[0] += Scalar::one();
  c_exit.proofs->linear = crypto::LinearProof(c_exit.proofs->linear.A(), std::move(z));
  std::get<ExitTx>(damaged[1]).signature[0] ^= 1;
  v = verify_block_var(ledger, damaged, statements, 1);
  EXPECT_EQ(v.bad, (std::vector<std::size_t>{1, 3}));
  for (const Status& why : v.reasons)
    EXPECT_NE(why.message().find("exit: bad signature"), std::string_view::npos) << why.to_string();
  // An exit without proofs, and one whose statement cannot be formed (A did not default).
  std::vector<PrivateTx> unprovable = txs;
  std::get<ExitTx>(unprovable[3]).proofs.reset();
  std::vector<TxStatement> unformed = statements;
  ExitTx by_a = std::get<ExitTx>(txs[1]);
  by_a.signer = a->identity();
  unformed[1] = resolve_statement(ledger, PrivateTx(by_a));
  EXPECT_EQ(unformed[1].unresolved.code(), ErrorCode::kFailedPrecondition);
  v = verify_block_var(ledger, unprovable, unformed, 2);
  ASSERT_EQ(v.bad, (std::vector<std::size_t>{1, 3}));
  EXPECT_NE(v.reasons[0].message().find("defaulted"), std::string_view::npos);
  EXPECT_NE(v.reasons[1].message().find("no proofs"), std::string_view::npos);

  // A block of one, detached from the ledger (C's exit has no entries: its statement can still be
  // formed): it verifies; with a flipped signature it does not.
  auto detached = detach(ledger, txs[3]);
  ASSERT_TRUE(detached.is_ok()) << detached.status().to_string();
  EXPECT_EQ(detached->window.size(), ledger.terms().window_size());
  EXPECT_TRUE(verify_detached(gens(), *detached).is_ok());
  ExitTx resigned = std::get<ExitTx>(txs[3]);
  resigned.signature[0] ^= 1;
  detached->tx = resigned;
  EXPECT_EQ(verify_detached(gens(), *detached).code(), ErrorCode::kInvalidProof);
}

}  // namespace
}  // namespace pfex::priv
