// The private wallet's secret state codec (what the encrypted wallet file holds) and its crash
// recovery: finding out from the ledger whether the pending transaction took effect.
#include <gtest/gtest.h>

#include "protocol/private/test_util.hpp"
#include "protocol/private/wallet.hpp"

namespace pfex::priv {
namespace {

using testing::apply_ok;
using testing::fund;
using testing::gens;
using testing::registered;
using testing::small_terms;

Bytes state_of(const PrivateWallet& w) {
  Bytes out;
  Writer writer(&out);
  w.encode_state(writer);
  return out;
}

// A wallet with a token, two orders (one open, one closed and released) and cash in its account.
struct Trading {
  PrivateLedger ledger{gens(), small_terms()};
  std::unique_ptr<PrivateWallet> w = registered(ledger);
  Trading() {
    fund(ledger, *w, 500'000);
    auto minted = ledger.apply(PrivateTx(testing::mint_tx(*w, 7'000, 2)));
    EXPECT_TRUE(minted.is_ok());
    w->on_mint(7'000);
    apply_ok(ledger, *w, w->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 5));
    apply_ok(ledger, *w, w->build_post(ledger, Side::kSell, OrderKind::kLimit, 105, 2));
  }
};

TEST(PrivateWalletState, RoundTripsAndTheCopyKeepsTrading) {
  Trading t;
  const Bytes bytes = state_of(*t.w);
  auto copy = PrivateWallet::decode_state(gens(), bytes);
  ASSERT_TRUE(copy.is_ok()) << copy.status().to_string();
  EXPECT_EQ(state_of(**copy), bytes);
  EXPECT_EQ((*copy)->identity(), t.w->identity());
  EXPECT_EQ((*copy)->attributes(), t.w->attributes());
  EXPECT_EQ((*copy)->token_index(), t.w->token_index());
  EXPECT_EQ((*copy)->open_orders(), t.w->open_orders());
  EXPECT_EQ((*copy)->cash_balance(), 7'000U);
  // The restored wallet spends the token, its orders and its cash account.
  ASSERT_TRUE(t.ledger.apply(PrivateTx(*(*copy)->build_cancel(t.ledger, 1))).is_ok());
  apply_ok(t.ledger, **copy, (*copy)->build_settle(t.ledger));
  apply_ok(t.ledger, **copy, (*copy)->build_deposit(t.ledger, 7'000));
  EXPECT_EQ((*copy)->cash_balance(), 0U);
  EXPECT_EQ((*copy)->attributes().c, 507'000);
}

TEST(PrivateWalletState, APendingTransactionRoundTripsAndConfirmsFromTheCopy) {
  Trading t;
  auto post = t.w->build_post(t.ledger, Side::kBuy, OrderKind::kLimit, 99, 1);
  ASSERT_TRUE(post.is_ok());
  const Bytes bytes = state_of(*t.w);
  auto copy = PrivateWallet::decode_state(gens(), bytes);
  ASSERT_TRUE(copy.is_ok()) << copy.status().to_string();
  EXPECT_TRUE((*copy)->has_pending());
  EXPECT_EQ(state_of(**copy), bytes);
  auto applied = t.ledger.apply(PrivateTx(*post));
  ASSERT_TRUE(applied.is_ok());
  ASSERT_TRUE((*copy)->confirm(*applied).is_ok());
  EXPECT_EQ((*copy)->open_orders().size(), 3U);
}

TEST(PrivateWalletState, EveryTruncationAndATrailingByteAreRefused) {
  Trading t;
  ASSERT_TRUE(t.w->build_withdraw(t.ledger, 10).is_ok());  // a pending cash move too
  const Bytes bytes = state_of(*t.w);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = PrivateWallet::decode_state(gens(), ByteSpan(bytes).first(n));
    ASSERT_FALSE(r.is_ok()) << "length " << n;
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruption) << r.status().to_string();
  }
  Bytes longer = bytes;
  longer.push_back(0);
  auto r = PrivateWallet::decode_state(gens(), longer);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);
}

// The encoding is canonical: every single-byte change either fails to decode or decodes to a
// wallet that encodes to exactly the changed bytes (the property the fuzz target checks).
TEST(PrivateWalletState, EveryDecodableMutationReencodesToItself) {
  Trading t;
  ASSERT_TRUE(t.w->build_post(t.ledger, Side::kSell, OrderKind::kLimit, 101, 1).is_ok());
  const Bytes bytes = state_of(*t.w);
  std::size_t decoded = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (const std::uint8_t x : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      Bytes m = bytes;
      m[i] = static_cast<std::uint8_t>(m[i] ^ x);
      auto w = PrivateWallet::decode_state(gens(), m);
      if (!w.is_ok()) {
        EXPECT_EQ(w.status().code(), ErrorCode::kCorruption) << i;
        continue;
      }
      ++decoded;
      ASSERT_EQ(state_of(**w), m) << "byte " << i;
    }
  }
  EXPECT_GT(decoded, bytes.size());  // most fields take any value
}

TEST(PrivateWalletState, DamagedFieldsAreRefusedWithTheirName) {
  Trading t;
  const Bytes bytes = state_of(*t.w);
  auto refused = [&](Bytes b, std::string_view what) {
    auto r = PrivateWallet::decode_state(gens(), b);
    ASSERT_FALSE(r.is_ok()) << what;
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruption);
    EXPECT_NE(r.status().to_string().find(what), std::string::npos) << r.status().to_string();
  };
  Bytes version = bytes;
  version[0] = 2;
  refused(version, "unknown private wallet version 2");
  Bytes chain_key = bytes;
  std::fill(chain_key.begin() + 4, chain_key.begin() + 36, 0xff);  // >= l
  refused(chain_key, "chain key");
  // The orders follow the token (4 + 32 + 32 + 32 + 3*32 + 7*8, index, epoch) and their count.
  const std::size_t orders = 4 + 32 + 32 + 32 + 96 + 56 + 1 + 8 + 8 + 4;
  Bytes unsorted = bytes;
  std::copy(bytes.begin() + orders, bytes.begin() + orders + 8,
            unsorted.begin() + orders + 8 + 64);  // the second id := the first
  refused(unsorted, "not strictly increasing");
}

TEST(PrivateWalletState, AnOrderCountOverTheLimitIsRefused) {
  PrivateWallet w(gens());
  Bytes bytes = state_of(w);
  // No token index: the order count follows the version, keys, the opening and the epoch.
  const std::size_t at = 4 + 32 + 32 + 32 + 96 + 56 + 1 + 8;
  ASSERT_EQ(bytes[at], 0);
  const std::uint32_t over = (1U << 20) + 1;
  for (int i = 0; i < 4; ++i)
    bytes[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(over >> (8 * i));
  auto r = PrivateWallet::decode_state(gens(), bytes);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("order count 1048577 is over 1048576"), std::string::npos)
      << r.status().to_string();
}

TEST(PrivateWalletRecovery, FindsWhetherThePendingSpendTookEffect) {
  Trading t;
  auto post = t.w->build_post(t.ledger, Side::kSell, OrderKind::kLimit, 104, 1);
  ASSERT_TRUE(post.is_ok());
  auto before = t.w->find_applied(t.ledger, PrivateTx(*post));
  ASSERT_TRUE(before.is_ok()) << before.status().to_string();
  EXPECT_FALSE(before->has_value());
  auto applied = t.ledger.apply(PrivateTx(*post));
  ASSERT_TRUE(applied.is_ok());
  auto after = t.w->find_applied(t.ledger, PrivateTx(*post));
  ASSERT_TRUE(after.is_ok()) << after.status().to_string();
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ((*after)->token_index, applied->token_index);
  EXPECT_EQ((*after)->token_epoch, applied->token_epoch);
  EXPECT_EQ((*after)->new_order, applied->new_order);
  ASSERT_TRUE(t.w->confirm(**after).is_ok());
  EXPECT_FALSE(t.w->has_pending());
  // Nothing pending any more.
  EXPECT_EQ(t.w->find_applied(t.ledger, PrivateTx(*post)).status().code(),
            ErrorCode::kFailedPrecondition);
}

TEST(PrivateWalletRecovery, FindsRegisterAndTransfer) {
  PrivateLedger ledger(gens(), small_terms());
  PrivateWallet w(gens());
  auto reg = w.build_register(ledger, 1, ledger.terms().bond);
  ASSERT_TRUE(reg.is_ok());
  EXPECT_FALSE(w.find_applied(ledger, PrivateTx(*reg))->has_value());
  auto applied = ledger.apply(PrivateTx(*reg));
  ASSERT_TRUE(applied.is_ok());
  auto found = w.find_applied(ledger, PrivateTx(*reg));
  ASSERT_TRUE(found.is_ok() && found->has_value()) << found.status().to_string();
  EXPECT_EQ((*found)->token_index, applied->token_index);
  ASSERT_TRUE(w.confirm(**found).is_ok());

  auto other = registered(ledger);
  ASSERT_TRUE(ledger.apply(PrivateTx(testing::mint_tx(w, 100, 1))).is_ok());
  w.on_mint(100);
  auto transfer = w.build_transfer(ledger, other->identity(), 40);
  ASSERT_TRUE(transfer.is_ok());
  EXPECT_FALSE(w.find_applied(ledger, PrivateTx(*transfer))->has_value());
  ASSERT_TRUE(ledger.apply(PrivateTx(*transfer)).is_ok());
  found = w.find_applied(ledger, PrivateTx(*transfer));
  ASSERT_TRUE(found.is_ok() && found->has_value());
  ASSERT_TRUE(w.confirm(**found).is_ok());
  EXPECT_EQ(w.cash_balance(), 60U);
}

TEST(PrivateWalletRecovery, AnotherTransactionIsNotThePendingOne) {
  Trading t;
  auto settle_elsewhere = t.w->build_post(t.ledger, Side::kBuy, OrderKind::kLimit, 98, 1);
  ASSERT_TRUE(settle_elsewhere.is_ok());
  PrivateWallet stranger(gens());
  auto reg = stranger.build_register(t.ledger, 1, 0);
  ASSERT_TRUE(reg.is_ok());
  EXPECT_EQ(t.w->find_applied(t.ledger, PrivateTx(*reg)).status().code(),
            ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace pfex::priv
