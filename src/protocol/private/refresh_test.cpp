// The margin round in private mode: settles on the old epoch, refreshes into the new one, the
// round's encrypted sums, defaulters at the window's close.
#include "protocol/private/refresh.hpp"

#include <gtest/gtest.h>

#include "protocol/private/ledger.hpp"
#include "protocol/private/test_util.hpp"

namespace pfex::priv {
namespace {

using testing::apply_ok;
using testing::expect_rejected;
using testing::gens;
using testing::mint_tx;
using testing::registered;
using testing::small_terms;

Point decrypted(const crypto::Ciphertext& ct) {
  return ct.E - testing::validators_secret() * ct.R;
}
Point times_g(std::int64_t v) {
  return Point::mul_base(crypto::position_to_scalar(v));
}

struct RoundFixture : ::testing::Test {
  PrivateLedger ledger{gens(), small_terms()};
  std::unique_ptr<PrivateWallet> a = registered(ledger);
  std::unique_ptr<PrivateWallet> b = registered(ledger);
  std::uint64_t issuer_sequence = 0;

  void fund(PrivateWallet& w, std::uint64_t minted, std::uint64_t deposited) {
    auto applied =
        ledger.apply(PrivateTx(mint_tx(w, static_cast<std::int64_t>(minted), ++issuer_sequence)));
    ASSERT_TRUE(applied.is_ok()) << applied.status().to_string();
    w.on_mint(minted);
    apply_ok(ledger, w, w.build_deposit(ledger, deposited));
  }
  // A buys 3 from B at 100; A also leaves a buy of 2 at 95 resting.
  void trade() {
    fund(*a, 100'000, 50'000);
    fund(*b, 100'000, 50'000);
    apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 3));   // 0
    apply_ok(ledger, *b, b->build_post(ledger, Side::kSell, OrderKind::kLimit, 100, 3));  // 1
    ASSERT_TRUE(ledger.record_fill(0, 100, 3).is_ok());
    ASSERT_TRUE(ledger.record_fill(1, 100, 3).is_ok());
    apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 95, 2));  // 2
  }
  MarketTerms next_terms() const {
    MarketTerms t = ledger.terms();
    t.epoch += 1;
    t.low = 95;
    t.high = 115;
    t.margin = 140;
    return t;
  }
};

TEST_F(RoundFixture, SettleOnTheOldEpochThenRefreshIntoTheNew) {
  trade();
  ASSERT_TRUE(ledger.begin_margin_round(next_terms(), 0).is_ok());
  EXPECT_TRUE(ledger.order(2)->closed);  // expired at the halt
  // The old token may not trade any more.
  auto post = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1);
  ASSERT_TRUE(post.is_ok());
  expect_rejected(ledger, PrivateTx(*post), ErrorCode::kFailedPrecondition, "only settle");
  // Open orders must be settled (released) first.
  auto early = a->build_refresh(ledger, 0);
  EXPECT_EQ(early.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("settle first"), std::string_view::npos);
  apply_ok(ledger, *a, a->build_settle(ledger));  // claims the fill, releases order 2
  EXPECT_EQ(a->attributes().B, 0u);
  EXPECT_EQ(a->attributes().vp, 3u);
  apply_ok(ledger, *a, a->build_refresh(ledger, 0));
  EXPECT_TRUE(ledger.refreshed(a->identity()));
  const std::int64_t c = 50'000 - 3000 - 6;
  EXPECT_EQ(a->attributes().c, c);
  // The round's sums decrypt to A's position, cash and gross position.
  EXPECT_EQ(decrypted(ledger.round_sums().position), times_g(3));
  EXPECT_EQ(decrypted(ledger.round_sums().cash), times_g(c));
  EXPECT_EQ(decrypted(ledger.round_sums().gross), times_g(3));
  // A copy restored from the state's encoding mid-window continues identically.
  auto copy = PrivateLedger::decode_state(gens(), ledger.encode_state());
  ASSERT_TRUE(copy.is_ok()) << copy.status().to_string();
  PrivateLedger& restored = **copy;
  EXPECT_EQ(restored.state_hash(), ledger.state_hash());
  EXPECT_TRUE(restored.in_refresh_window() && restored.refreshed(a->identity()));
  auto mirror = [&](auto tx) {
    if (tx.is_ok()) {
      EXPECT_TRUE(restored.apply(PrivateTx(*tx)).is_ok());
    }
    return tx;
  };
  // A trades in epoch 2 at once, inside the new band.
  apply_ok(ledger, *a, mirror(a->build_post(ledger, Side::kSell, OrderKind::kLimit, 114, 1)));
  // B settles and refreshes too (short 3).
  apply_ok(ledger, *b, mirror(b->build_settle(ledger)));
  apply_ok(ledger, *b, mirror(b->build_refresh(ledger, 0)));
  EXPECT_EQ(decrypted(ledger.round_sums().position), times_g(0));
  EXPECT_EQ(decrypted(ledger.round_sums().gross), times_g(6));
  auto closed = ledger.close_refresh_window();
  ASSERT_TRUE(closed.is_ok());
  EXPECT_TRUE(closed->empty());
  ASSERT_TRUE(restored.close_refresh_window().is_ok());
  EXPECT_EQ(restored.state_hash(), ledger.state_hash());
  EXPECT_EQ(restored.encode_state(), ledger.encode_state());
}

// The fills of epoch 1 are claimed under epoch 1's tick value and fee even when the next epoch
// changes them: the settle spends an epoch-1 token in the refresh window.
TEST_F(RoundFixture, AnOldEpochSettleClaimsUnderItsEpochsTickValueAndFee) {
  fund(*a, 100'000, 50'000);
  fund(*b, 100'000, 50'000);
  apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 3));   // 0
  apply_ok(ledger, *b, b->build_post(ledger, Side::kSell, OrderKind::kLimit, 100, 3));  // 1
  ASSERT_TRUE(ledger.record_fill(0, 100, 3).is_ok());
  ASSERT_TRUE(ledger.record_fill(1, 100, 3).is_ok());
  MarketTerms next = next_terms();
  next.tick_value = 20;
  next.fee = 5;
  ASSERT_TRUE(ledger.begin_margin_round(next, 0).is_ok());
  auto settle = a->build_settle(ledger);
  ASSERT_TRUE(settle.is_ok()) << settle.status().to_string();
  auto effects = ledger.resolve(*settle);
  ASSERT_TRUE(effects.is_ok()) << effects.status().to_string();
  EXPECT_EQ(effects->deltas.c, -(3 * 100 * 10) - 3 * 2);  // k = 10, f = 2: epoch 1's
  apply_ok(ledger, *a, settle);
  EXPECT_EQ(a->attributes().c, 50'000 - 3000 - 6);
  EXPECT_EQ(a->attributes().vp, 3u);
  apply_ok(ledger, *a, a->build_refresh(ledger, 0));
  EXPECT_EQ(decrypted(ledger.round_sums().cash), times_g(50'000 - 3000 - 6));
}

TEST_F(RoundFixture, AnIdentityWithoutARefreshDefaultsAndItsOldTokenIsFrozen) {
  trade();
  ASSERT_TRUE(ledger.begin_margin_round(next_terms(), 0).is_ok());
  apply_ok(ledger, *a, a->build_settle(ledger));
  apply_ok(ledger, *a, a->build_refresh(ledger, 0));
  auto settle = b->build_settle(ledger);
  ASSERT_TRUE(settle.is_ok());
  auto closed = ledger.close_refresh_window();
  ASSERT_TRUE(closed.is_ok());
  ASSERT_EQ(closed->size(), 1u);
  EXPECT_EQ((*closed)[0], b->identity());
  EXPECT_TRUE(ledger.defaulted(b->identity()));
  // The defaulted set survives the state's encoding.
  auto copy = PrivateLedger::decode_state(gens(), ledger.encode_state());
  ASSERT_TRUE(copy.is_ok()) << copy.status().to_string();
  EXPECT_TRUE((*copy)->defaulted(b->identity()));
  EXPECT_FALSE((*copy)->in_refresh_window());
  EXPECT_EQ((*copy)->state_hash(), ledger.state_hash());
  expect_rejected(**copy, PrivateTx(*settle), ErrorCode::kFailedPrecondition, "only by exit");
  expect_rejected(ledger, PrivateTx(*settle), ErrorCode::kFailedPrecondition, "only by exit");
  EXPECT_EQ(b->build_settle(ledger).status().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(RoundFixture, RefreshProvesSolvencyOverTheNewBandAndTakesTheLevy) {
  trade();
  MarketTerms harsh = next_terms();
  harsh.margin = 20'000;  // A, long 3: E_L = c + 3*(95*10 - 20000) = 46994 - 57150 < 0
  ASSERT_TRUE(ledger.begin_margin_round(harsh, 5).is_ok());
  apply_ok(ledger, *a, a->build_settle(ledger));
  auto short_by = a->build_refresh(ledger, 0);
  ASSERT_EQ(short_by.status().code(), ErrorCode::kInsolvent);
  // c' = 46994 - 5*3 (levy); E_L = 46979 + 3*(950 - 20000) = -10171.
  EXPECT_NE(short_by.status().message().find("E_L short by 10171"), std::string_view::npos)
      << short_by.status().to_string();
  EXPECT_EQ(a->build_refresh(ledger, 10'170).status().code(), ErrorCode::kInsolvent);
  apply_ok(ledger, *a, a->build_refresh(ledger, 10'171));  // the hidden deposit answers the call
  EXPECT_EQ(a->attributes().c, 46'994 - 15 + 10'171);
  EXPECT_EQ(a->cash_balance(), 50'000u - 10'171u);
}

// The round's equity sum with a levy: a survivor's cash at the halt is c' - d + lambda*g, so the
// ledger folds in -lambda*g_S (docs/protocol/private.md section 14). A levy of 7 on A's long 3 and
// a defaulter B short 3: Enc(E_D), decrypted with the validators' key, is B's equity at the new
// reference, and the sign of lambda*g_S is what makes it so (the other sign is 2*21 off).
TEST(RoundWithALevy, TheEquitySumSubtractsTheLevyTheSurvivorsPaid) {
  PrivateLedger ledger{gens(), small_terms()};
  ASSERT_TRUE(ledger.await_key_generation(5'000).is_ok());
  ASSERT_TRUE(ledger.install_validators_key(Point::mul_base(testing::validators_secret())).is_ok());
  auto a = registered(ledger);
  auto b = registered(ledger);
  std::uint64_t issuer_sequence = 0;
  for (PrivateWallet* w : {a.get(), b.get()}) {
    ASSERT_TRUE(ledger.apply(PrivateTx(mint_tx(*w, 100'000, ++issuer_sequence))).is_ok());
    w->on_mint(100'000);
    apply_ok(ledger, *w, w->build_deposit(ledger, 50'000));
  }
  apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 3));   // 0
  apply_ok(ledger, *b, b->build_post(ledger, Side::kSell, OrderKind::kLimit, 100, 3));  // 1
  ASSERT_TRUE(ledger.record_fill(0, 100, 3).is_ok());
  ASSERT_TRUE(ledger.record_fill(1, 100, 3).is_ok());
  MarketTerms next = ledger.terms();
  next.epoch += 1;
  next.low = 95;
  next.high = 115;
  next.margin = 140;
  constexpr std::int64_t kLevy = 7;
  ASSERT_TRUE(ledger.begin_margin_round(next, kLevy).is_ok());
  apply_ok(ledger, *a, a->build_settle(ledger));
  apply_ok(ledger, *a, a->build_refresh(ledger, 0));
  EXPECT_EQ(a->attributes().c, 50'000 - 3'000 - 6 - kLevy * 3);  // c' after the levy
  constexpr std::int64_t kReference = 105;
  auto closed = ledger.close_refresh_window(RoundClose{kReference, LedgerTime(1'000), 0, 0});
  ASSERT_TRUE(closed.is_ok()) << closed.status().to_string();
  ASSERT_EQ(closed->size(), 1U);
  EXPECT_EQ((*closed)[0], b->identity());
  const RoundToResolve* round = ledger.resolutions().pending(1);
  ASSERT_NE(round, nullptr);
  // B: 50,000 + 3 * 100 * 10 - fee 3 * 2 in cash (its fill unsettled), short 3 at 105.
  const std::int64_t b_equity = 50'000 + 3'000 - 6 - 3 * kReference * 10;
  EXPECT_EQ(decrypted(round->sums[static_cast<std::size_t>(RoundSum::kEquity)]), times_g(b_equity));
  EXPECT_NE(decrypted(round->sums[static_cast<std::size_t>(RoundSum::kEquity)]),
            times_g(b_equity + 2 * kLevy * 3));
  EXPECT_EQ(decrypted(round->sums[static_cast<std::size_t>(RoundSum::kPosition)]), times_g(3));
  EXPECT_EQ(decrypted(round->sums[static_cast<std::size_t>(RoundSum::kGross)]), times_g(3));
}

TEST_F(RoundFixture, TamperedOrForeignRefreshesAreRejected) {
  trade();
  ASSERT_TRUE(ledger.begin_margin_round(next_terms(), 0).is_ok());
  apply_ok(ledger, *a, a->build_settle(ledger));
  auto refresh = a->build_refresh(ledger, 100);
  ASSERT_TRUE(refresh.is_ok());
  const MarketTerms& t = ledger.terms();
  // Enc(v) of the wrong value (a short position of 3 instead of long 3).
  SpendTx wrong_v = *refresh;
  wrong_v.refresh->enc_v =
      crypto::encrypt(t.validators_key, crypto::position_to_scalar(-3), Scalar::random());
  expect_rejected(ledger, PrivateTx(wrong_v), ErrorCode::kInvalidProof);
  SpendTx wrong_c = *refresh;
  wrong_c.refresh->enc_c = wrong_c.refresh->enc_g;
  expect_rejected(ledger, PrivateTx(wrong_c), ErrorCode::kInvalidProof);
  // A refresh for another identity.
  SpendTx foreign = *refresh;
  foreign.cash->signer = b->identity();
  expect_rejected(ledger, PrivateTx(foreign), ErrorCode::kInvalidProof);
  // Open orders hidden in V_B.
  SpendTx hidden = *refresh;
  hidden.spend.V[SpendPublic::kB] = Point::base();
  expect_rejected(ledger, PrivateTx(hidden), ErrorCode::kInvalidArgument, "no open orders");
  // The codec round-trips it and rejects every truncation.
  const Bytes bytes = encode(PrivateTx(*refresh));
  auto back = decode(bytes, t.log_window);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(encode(*back), bytes);
  for (std::size_t n = 0; n < bytes.size(); n += 3)
    ASSERT_FALSE(decode(ByteSpan(bytes).first(n), t.log_window).is_ok()) << n;
  apply_ok(ledger, *a, refresh);
  expect_rejected(ledger, PrivateTx(*refresh), ErrorCode::kAlreadyExists);
  EXPECT_EQ(decrypted(ledger.paid_in()), times_g(50'000 + 50'000 + 100));
}

}  // namespace
}  // namespace pfex::priv
