#include "protocol/private/ledger.hpp"

#include <gtest/gtest.h>

#include <set>

#include "protocol/private/test_util.hpp"

namespace pfex::priv {
namespace {

using testing::apply_ok;
using testing::expect_rejected;
using testing::fund;
using testing::gens;
using testing::registered;
using testing::small_terms;

TEST(PrivateLedger, TradersPostSettleReduceReplaceAndCancel) {
  PrivateLedger ledger(gens(), small_terms());
  auto flow = testing::run_flow(ledger);
  ASSERT_EQ(flow.txs.size(), 7u);
  const Attributes& a = flow.a->attributes();
  // A: bought 3 at 100 (k = 10, f = 2), its order 0 reduced by 1 then cancelled (not released).
  EXPECT_EQ(a.c, 1'000'000 - 3000 - 6);
  EXPECT_EQ(a.vp, 3u);
  EXPECT_EQ(a.vm, 0u);
  EXPECT_EQ(a.B, 1u);
  EXPECT_EQ(a.QB, 100u);
  // B: its sell order 1 was replaced (releasing 2 unfilled) by a sell of 2 at 105 (order 2); the
  // cancel-replace carried the entry claiming its 3 filled.
  const Attributes& b = flow.b->attributes();
  EXPECT_EQ(b.c, 1'000'000 + 3000 - 6);
  EXPECT_EQ(b.vm, 3u);
  EXPECT_EQ(b.S, 5u - 3u - 2u + 2u);
  EXPECT_EQ(b.QS, 500u - 300u - 200u + 210u);
  const PrivateOrder* o0 = ledger.order(0);
  EXPECT_EQ(o0->qty, 4);
  EXPECT_TRUE(o0->closed);
  EXPECT_FALSE(o0->released);
  EXPECT_EQ(o0->claimed, 1u);
  EXPECT_TRUE(ledger.order(1)->closed && ledger.order(1)->released);
  EXPECT_FALSE(ledger.order(2)->closed);

  // A releases its cancelled remainder; then nothing is left to settle for either.
  apply_ok(ledger, *flow.a, flow.a->build_settle(ledger));
  EXPECT_EQ(flow.a->attributes().B, 0u);
  EXPECT_EQ(flow.a->attributes().QB, 0u);
  EXPECT_TRUE(ledger.order(0)->released);
  EXPECT_EQ(flow.a->build_settle(ledger).status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(flow.b->build_settle(ledger).status().code(), ErrorCode::kFailedPrecondition);

  // A goes flat: a sell that fills, settled with the canonical split (v+ = v- = 0).
  auto sell =
      apply_ok(ledger, *flow.a, flow.a->build_post(ledger, Side::kSell, OrderKind::kIoc, 101, 3));
  ASSERT_TRUE(sell.new_order.has_value());
  ASSERT_TRUE(ledger.record_fill(*sell.new_order, 101, 3).is_ok());
  apply_ok(ledger, *flow.a, flow.a->build_settle(ledger));
  EXPECT_EQ(flow.a->attributes().vp, 0u);
  EXPECT_EQ(flow.a->attributes().vm, 0u);
  EXPECT_EQ(flow.a->attributes().c, 1'000'000 - 3000 - 6 + 3030 - 6);
}

TEST(PrivateLedger, WalletRefusesAnInsolventPostSayingByHowMuch) {
  PrivateLedger ledger(gens(), small_terms());
  auto w = registered(ledger);
  fund(ledger, *w, 1000);
  const Digest32 before = ledger.state_hash();
  auto tx = w->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 10);
  ASSERT_EQ(tx.status().code(), ErrorCode::kInsolvent);
  EXPECT_NE(tx.status().message().find("E_L short by 1320"), std::string_view::npos)
      << tx.status().to_string();
  EXPECT_EQ(ledger.state_hash(), before);
  // One contract is fine: E_L = 1000 - 1000 - 2 + 900 - 130 = 768.
  apply_ok(ledger, *w, w->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1));
}

TEST(PrivateLedger, DoubleSpendAndReplayAreRejected) {
  PrivateLedger ledger(gens(), small_terms());
  auto a = registered(ledger);
  fund(ledger, *a, 1'000'000);
  auto post = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1);
  ASSERT_TRUE(post.is_ok());
  // A second transaction spending the same token, built before the first was applied.
  auto again = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 99, 1);
  ASSERT_TRUE(again.is_ok());
  apply_ok(ledger, *a, post);
  expect_rejected(ledger, PrivateTx(*post), ErrorCode::kAlreadyExists, "double spend");
  expect_rejected(ledger, PrivateTx(*again), ErrorCode::kAlreadyExists, "double spend");
}

TEST(PrivateLedger, WindowsOfAnotherEpochOrPastTheListAreRejected) {
  PrivateLedger ledger(gens(), small_terms());
  auto a = registered(ledger);
  fund(ledger, *a, 1'000'000);
  auto post = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1);
  ASSERT_TRUE(post.is_ok());
  SpendTx old = *post;
  old.spend.window.epoch = 0;
  expect_rejected(ledger, PrivateTx(old), ErrorCode::kFailedPrecondition, "current epoch");
  SpendTx past = *post;
  past.spend.window.length = 3;  // the list has 2 tokens
  expect_rejected(ledger, PrivateTx(past), ErrorCode::kFailedPrecondition, "reaches past");
  // A window that does not hold the token: the list grows, the token is left out.
  SpendTx shorter = *post;
  shorter.spend.window.length = 1;
  expect_rejected(ledger, PrivateTx(shorter), ErrorCode::kInvalidProof);
}

TEST(PrivateLedger, SettlingOrCancellingSomeoneElsesOrderIsRejected) {
  PrivateLedger ledger(gens(), small_terms());
  auto a = registered(ledger);
  auto b = registered(ledger);
  fund(ledger, *a, 1'000'000);
  fund(ledger, *b, 1'000'000);
  apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 5));  // 0
  apply_ok(ledger, *b, b->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 5));  // 1
  ASSERT_TRUE(ledger.record_fill(0, 100, 2).is_ok());
  ASSERT_TRUE(ledger.record_fill(1, 100, 2).is_ok());
  auto settle = a->build_settle(ledger);
  ASSERT_TRUE(settle.is_ok());
  SpendTx theft = *settle;
  theft.entries[0].order = 1;  // B's order, same fills
  expect_rejected(ledger, PrivateTx(theft), ErrorCode::kInvalidProof);
  // The wallet will not build for an order it does not own.
  EXPECT_EQ(a->build_cancel(ledger, 1).status().code(), ErrorCode::kFailedPrecondition);
  auto cancel = a->build_cancel(ledger, 0);
  ASSERT_TRUE(cancel.is_ok());
  CancelTx other = *cancel;
  other.order = 1;
  expect_rejected(ledger, PrivateTx(other), ErrorCode::kInvalidProof, "tag");
  // A cancel proof made with the wrong kappa for B's tag is refused by the prover.
  const crypto::LinearStatement st = tag_statement(gens(), ledger.order(1)->tag);
  crypto::Transcript t = tx_transcript(ledger.terms(), PrivateTx(other));
  const std::vector<Scalar> w = {a->chain_key(), Scalar::random(), Scalar::random()};
  EXPECT_EQ(crypto::prove_linear(st, w, t).status().code(), ErrorCode::kInvalidArgument);
  apply_ok(ledger, *a, settle);
  apply_ok(ledger, *a, cancel);
}

TEST(PrivateLedger, EntriesClaimOnceAndReleaseOnceAfterClosing) {
  PrivateLedger ledger(gens(), small_terms());
  auto a = registered(ledger);
  fund(ledger, *a, 1'000'000);
  apply_ok(ledger, *a, a->build_post(ledger, Side::kSell, OrderKind::kLimit, 100, 5));
  ASSERT_TRUE(ledger.record_fill(0, 101, 2).is_ok());
  SpendTx probe;
  probe.type = TxType::kSettle;
  probe.spend.window.epoch = ledger.terms().epoch;  // its claims use that epoch's terms
  auto resolve = [&](SettleEntry e) {
    probe.entries = {e};
    return ledger.resolve(probe).status();
  };
  EXPECT_TRUE(resolve({0, 1, false}).is_ok());
  EXPECT_EQ(resolve({0, 2, false}).code(), ErrorCode::kFailedPrecondition);  // beyond the fills
  EXPECT_EQ(resolve({0, 1, true}).message().find("open order") != std::string_view::npos, true);
  apply_ok(ledger, *a, a->build_settle(ledger));
  EXPECT_EQ(ledger.order(0)->claimed, 1u);
  EXPECT_EQ(resolve({0, 1, false}).code(), ErrorCode::kFailedPrecondition);  // nothing to claim
  EXPECT_EQ(resolve({0, 0, false}).code(), ErrorCode::kFailedPrecondition);  // below claimed
  // A late fill before the close is claimed with the release.
  ASSERT_TRUE(ledger.record_fill(0, 100, 1).is_ok());
  ASSERT_TRUE(ledger.close_order(0).is_ok());
  EXPECT_TRUE(resolve({0, 2, true}).is_ok());
  apply_ok(ledger, *a, a->build_settle(ledger));
  EXPECT_TRUE(ledger.order(0)->released);
  EXPECT_EQ(a->attributes().S, 0u);
  EXPECT_EQ(a->attributes().QS, 0u);
  EXPECT_EQ(a->attributes().vm, 3u);
  EXPECT_EQ(resolve({0, 2, true}).message().find("already released") != std::string_view::npos,
            true);
  // An unknown order.
  EXPECT_EQ(resolve({9, 1, false}).code(), ErrorCode::kNotFound);
}

TEST(PrivateLedger, ReduceAndCancelReplaceNameTheFillCountTheySaw) {
  PrivateLedger ledger(gens(), small_terms());
  auto a = registered(ledger);
  fund(ledger, *a, 1'000'000);
  apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 5));
  auto reduce = a->build_reduce(ledger, 0, 2);
  auto replace = a->build_cancel_replace(ledger, 0, Side::kBuy, OrderKind::kLimit, 99, 1);
  ASSERT_TRUE(reduce.is_ok());
  ASSERT_TRUE(replace.is_ok());
  ASSERT_TRUE(ledger.record_fill(0, 100, 1).is_ok());
  expect_rejected(ledger, PrivateTx(*reduce), ErrorCode::kFailedPrecondition, "saw 0");
  expect_rejected(ledger, PrivateTx(*replace), ErrorCode::kFailedPrecondition, "saw 0");
  // D above what is open (4) is refused by the ledger's deterministic check.
  EXPECT_EQ(a->build_reduce(ledger, 0, 5).status().code(), ErrorCode::kInvalidArgument);
  apply_ok(ledger, *a, a->build_reduce(ledger, 0, 4));  // the last open 4: the order closes
  EXPECT_TRUE(ledger.order(0)->closed);
  EXPECT_EQ(a->attributes().B, 0u);  // the fill of 1 was claimed by the reduce's entry
  EXPECT_EQ(a->attributes().vp, 1u);
}

TEST(PrivateLedger, ProofsSwappedBetweenTransactionsOrFieldsAreRejected) {
  PrivateLedger ledger(gens(), small_terms());
  auto a = registered(ledger);
  auto b = registered(ledger);
  fund(ledger, *a, 1'000'000);
  fund(ledger, *b, 1'000'000);
  auto pa = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1);
  auto pb = b->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1);
  ASSERT_TRUE(pa.is_ok() && pb.is_ok());
  SpendTx xa = *pa, xb = *pb;
  std::swap(xa.proofs, xb.proofs);
  expect_rejected(ledger, PrivateTx(xa), ErrorCode::kInvalidProof);
  expect_rejected(ledger, PrivateTx(xb), ErrorCode::kInvalidProof);
  SpendTx mixed = *pa;
  mixed.proofs->range = pb->proofs->range;
  expect_rejected(ledger, PrivateTx(mixed), ErrorCode::kInvalidProof, "range");
  SpendTx fields = *pa;
  std::swap(fields.spend.V[SpendPublic::kEL], fields.spend.V[SpendPublic::kEH]);
  expect_rejected(ledger, PrivateTx(fields), ErrorCode::kInvalidProof);
  SpendTx side = *pa;
  side.order->side = Side::kSell;  // the same proofs for a sell
  expect_rejected(ledger, PrivateTx(side), ErrorCode::kInvalidProof);
  apply_ok(ledger, *a, pa);
  apply_ok(ledger, *b, pb);
}

TEST(PrivateLedger, RegisterIsSignedSequencedAndOneIdentityPerChainKey) {
  PrivateLedger ledger(gens(), small_terms());
  PrivateWallet w(gens());
  auto reg = w.build_register(ledger, 1, 0);
  ASSERT_TRUE(reg.is_ok());
  RegisterTx bad_sig = *reg;
  bad_sig.signature[5] ^= 1;
  expect_rejected(ledger, PrivateTx(bad_sig), ErrorCode::kInvalidProof, "signature");
  RegisterTx bond = *reg;
  bond.bond = 7;  // not the market's bond (0), and the signature would not hold either
  expect_rejected(ledger, PrivateTx(bond), ErrorCode::kInvalidArgument, "bond");
  RegisterTx sequence = *reg;
  sequence.sequence = 2;  // signed bytes change: the signature no longer holds
  expect_rejected(ledger, PrivateTx(sequence), ErrorCode::kInvalidProof, "signature");
  apply_ok(ledger, w, reg);
  expect_rejected(ledger, PrivateTx(*reg), ErrorCode::kAlreadyExists, "sequence");
  // The same J under another identity (a relay re-signing someone's registration) is refused.
  PrivateWallet other(gens());
  auto theirs = other.build_register(ledger, 1, 0);
  ASSERT_TRUE(theirs.is_ok());
  RegisterTx copied = *theirs;
  copied.J = reg->J;
  expect_rejected(ledger, PrivateTx(copied), ErrorCode::kAlreadyExists, "J seen before");
}

// A mint carries no proof: its signature alone binds it to its market, so a mint for market A
// does not replay on market B with the same issuer.
TEST(PrivateLedger, AMintForOneMarketDoesNotReplayOnAnother) {
  MarketTerms terms_b = small_terms();
  terms_b.market_id[0] ^= 1;
  PrivateLedger a_market(gens(), small_terms());
  PrivateLedger b_market(gens(), terms_b);
  PrivateWallet w(gens());
  auto reg = w.build_register(a_market, 1, 0);
  ASSERT_TRUE(reg.is_ok());
  ASSERT_TRUE(a_market.apply(PrivateTx(*reg)).is_ok());
  auto reg_b = w.build_register(b_market, 1, 0);
  ASSERT_TRUE(reg_b.is_ok());
  ASSERT_TRUE(b_market.apply(PrivateTx(*reg_b)).is_ok());
  const MintTx for_a = testing::mint_tx(w, 500, 1, a_market.terms().market_id);
  expect_rejected(b_market, PrivateTx(for_a), ErrorCode::kInvalidProof, "issuer");
  EXPECT_EQ(b_market.cash_supply(), 0);
  ASSERT_TRUE(a_market.apply(PrivateTx(for_a)).is_ok());
  ASSERT_TRUE(
      b_market.apply(PrivateTx(testing::mint_tx(w, 500, 1, b_market.terms().market_id))).is_ok());
  EXPECT_EQ(b_market.cash_supply(), 500);
}

// The window-set cache holds kWindowCacheSize windows; a set handed out stays valid after the
// cache drops it (here: 65 windows of 2 on a list of 66 tokens, the first one held throughout).
TEST(PrivateLedger, AWindowSetStaysValidPastTheCachesLimit) {
  PrivateLedger ledger(gens(), small_terms(1));
  const std::size_t windows = PrivateLedger::kWindowCacheSize + 1;
  for (std::size_t i = 0; i < windows + 1; ++i) {
    testing::HandIdentity id;
    ASSERT_TRUE(ledger.apply(PrivateTx(id.register_tx(ledger))).is_ok());
  }
  const std::span<const Point> list = ledger.tokens(1);
  ASSERT_EQ(list.size(), windows + 1);
  auto first = ledger.window_set(Window{1, 0, 2});
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  for (std::size_t s = 1; s < windows; ++s) {
    auto set = ledger.window_set(Window{1, s, 2});
    ASSERT_TRUE(set.is_ok()) << set.status().to_string();
    EXPECT_EQ((*set)->points()[0], list[s]);
  }
  // The cache was cleared past its limit; the held set is intact and a new request rebuilds it.
  ASSERT_EQ((*first)->size(), 2u);
  EXPECT_EQ((*first)->points()[0], list[0]);
  EXPECT_EQ((*first)->points()[1], list[1]);
  auto again = ledger.window_set(Window{1, 0, 2});
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ((*again)->digest(), (*first)->digest());
}

// Every byte of the body and every 29th byte of the proofs (each proof byte is covered by the
// proofs' own single-bit tests in src/crypto).
TEST(PrivateLedger, EveryFlippedByteIsRejectedAndChangesNothing) {
  PrivateLedger ledger(gens(), small_terms());
  auto a = registered(ledger);
  fund(ledger, *a, 1'000'000);
  apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 2));
  ASSERT_TRUE(ledger.record_fill(0, 100, 1).is_ok());
  auto post = a->build_post(ledger, Side::kSell, OrderKind::kLimit, 101, 1);  // with an entry
  ASSERT_TRUE(post.is_ok());
  ASSERT_EQ(post->entries.size(), 1u);
  const Bytes good = encode(PrivateTx(*post));
  const Digest32 before = ledger.state_hash();
  const std::size_t body = encode_body(PrivateTx(*post)).size();
  std::size_t checked = 0;
  for (std::size_t i = 0; i < good.size(); i += (i < body ? 1 : 29)) {
    Bytes bad = good;
    bad[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    auto tx = decode(bad, ledger.terms().log_window);
    if (tx.is_ok()) {
      EXPECT_FALSE(ledger.check(*tx).is_ok()) << "byte " << i;
    }
    ++checked;
  }
  EXPECT_GT(checked, body);
  EXPECT_EQ(ledger.state_hash(), before);
  auto tx = decode(good, ledger.terms().log_window);
  ASSERT_TRUE(tx.is_ok());
  EXPECT_TRUE(ledger.check(*tx).is_ok());
}

}  // namespace
}  // namespace pfex::priv

namespace pfex::priv {
namespace {

TEST(PrivateLedger, MarketOrderCarriesAReservationPriceInsideTheBand) {
  PrivateLedger ledger(gens(), small_terms());
  auto a = registered(ledger);
  fund(ledger, *a, 1'000'000);
  // p_r outside the band [90, 110] is refused before any proof is made.
  auto outside = a->build_post(ledger, Side::kBuy, OrderKind::kMarket, 111, 2);
  EXPECT_EQ(outside.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(outside.status().message().find("outside the band"), std::string_view::npos);
  EXPECT_EQ(a->build_post(ledger, Side::kBuy, OrderKind::kMarket, 89, 2).status().code(),
            ErrorCode::kInvalidArgument);
  // At the edge: accepted; the open-order totals use p_r.
  auto applied =
      apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kMarket, 110, 2));
  ASSERT_TRUE(applied.new_order.has_value());
  EXPECT_EQ(a->attributes().QB, 220u);
  // It fills 1 below p_r and its remainder closes it (an immediate order); the settle claims the
  // fill at its price and releases the remainder at p_r.
  ASSERT_TRUE(ledger.record_fill(*applied.new_order, 104, 1).is_ok());
  ASSERT_TRUE(ledger.close_order(*applied.new_order).is_ok());
  apply_ok(ledger, *a, a->build_settle(ledger));
  EXPECT_EQ(a->attributes().B, 0u);
  EXPECT_EQ(a->attributes().QB, 0u);
  EXPECT_EQ(a->attributes().vp, 1u);
  EXPECT_EQ(a->attributes().c, 1'000'000 - 1040 - 2);
}

TEST(PrivateLedger, ValuesAtTwoToTheSixtyFourAreRefused) {
  PrivateLedger ledger(gens(), small_terms());
  auto a = registered(ledger);
  // A token holding S near 2^64 (reachable only in a test, through the prover's functions): a
  // sell of 2 takes S to 2^64 - 1 (the limit) or 2^64, out of the range the proof can show, and
  // the prover refuses before proving.
  Deltas sell;
  ASSERT_TRUE(add_post(sell, Side::kSell, 100, 2).is_ok());
  TokenOpening big = a->token();
  big.a.c = INT64_MAX / 2;
  std::uint64_t t = 0;
  big.a.S = UINT64_MAX - 2;
  auto at_limit = next_attributes(big.a, sell, &t);
  ASSERT_TRUE(at_limit.is_ok()) << at_limit.status().to_string();
  EXPECT_EQ(at_limit->S, UINT64_MAX);
  big.a.S = UINT64_MAX - 1;
  auto over = prepare_spend(gens(), ledger.terms(), big, Window{1, 0, 1}, sell);
  EXPECT_EQ(over.status().code(), ErrorCode::kOverflow);
  EXPECT_NE(over.status().message().find("S would be 18446744073709551616"), std::string_view::npos)
      << over.status().to_string();
  // Quantities at 2^32 and prices beyond 2^31 do not even decode (transaction_test.cpp); a
  // quantity above the market's maximum is refused by the ledger.
  auto huge = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1001);
  EXPECT_EQ(huge.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace pfex::priv

namespace pfex::priv {
namespace {

TEST(PrivateLedger, FullWindowsAndOldTokensSpendFromTheirAlignedBlock) {
  PrivateLedger ledger(gens(), small_terms());  // N = 8
  auto a = registered(ledger);
  fund(ledger, *a, 1'000'000);  // index 1
  std::vector<std::unique_ptr<PrivateWallet>> others;
  others.reserve(18);
  for (int i = 0; i < 18; ++i)
    others.push_back(registered(ledger));  // each appends its first token
  ASSERT_EQ(ledger.tokens(1).size(), 20u);
  auto post = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1);
  ASSERT_TRUE(post.is_ok());
  EXPECT_EQ(post->spend.window, (Window{1, 0, 8}));
  const Applied applied = apply_ok(ledger, *a, post);
  EXPECT_EQ(applied.token_index, 20u);
  // The new token is the newest: the window ending at it.
  auto next = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1);
  ASSERT_TRUE(next.is_ok());
  EXPECT_EQ(next->spend.window, (Window{1, 13, 8}));
  apply_ok(ledger, *a, next);
}

// The fields an observer sees in one trader's anonymous transactions never repeat (the spec's
// leaks are the order ids an entry names and the window).
TEST(PrivateLedger, NoPublicFieldRepeatsAcrossOneTradersSpends) {
  PrivateLedger ledger(gens(), small_terms());
  auto a = registered(ledger);
  fund(ledger, *a, 1'000'000);
  std::set<std::array<std::uint8_t, 32>> seen;  // every field is 32 bytes
  auto record = [&](const SpendTx& tx) {
    std::vector<std::array<std::uint8_t, 32>> fields = {
        tx.spend.serial.bytes(), tx.spend.c_star.encode(), tx.spend.c_next.encode()};
    for (const Point& v : tx.spend.V)
      fields.push_back(v.encode());
    if (tx.order) fields.push_back(tx.order->tag.encode());
    for (const auto& f : fields)
      EXPECT_TRUE(seen.insert(f).second) << "a field repeats";
  };
  for (int i = 0; i < 3; ++i) {
    auto post = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1);
    ASSERT_TRUE(post.is_ok());
    record(*post);
    apply_ok(ledger, *a, post);
  }
  ASSERT_TRUE(ledger.record_fill(0, 100, 1).is_ok());
  auto settle = a->build_settle(ledger);
  ASSERT_TRUE(settle.is_ok());
  record(*settle);
}

}  // namespace
}  // namespace pfex::priv
