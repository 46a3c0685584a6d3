// Mint, deposit and withdraw: the confidential cash ledger and its link to the token.
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

// Pi as the validators would decrypt it (here with the whole key).
Point paid_in_plaintext(const PrivateLedger& ledger) {
  const crypto::Ciphertext& ct = ledger.paid_in();
  return ct.E - testing::validators_secret() * ct.R;
}

struct CashFixture : ::testing::Test {
  PrivateLedger ledger{gens(), small_terms()};
  std::unique_ptr<PrivateWallet> a = registered(ledger);
  std::uint64_t issuer_sequence = 0;

  void mint(PrivateWallet& w, std::int64_t amount) {
    auto applied = ledger.apply(PrivateTx(mint_tx(w, amount, ++issuer_sequence)));
    ASSERT_TRUE(applied.is_ok()) << applied.status().to_string();
    w.on_mint(static_cast<std::uint64_t>(amount));
  }
};

TEST_F(CashFixture, DepositTradeWithdraw) {
  mint(*a, 100'000);
  apply_ok(ledger, *a, a->build_deposit(ledger, 60'000));
  EXPECT_EQ(a->attributes().c, 60'000);
  EXPECT_EQ(a->cash_balance(), 40'000u);
  EXPECT_EQ(paid_in_plaintext(ledger), Point::mul_base(Scalar::from_u64(60'000)));
  apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 5));
  apply_ok(ledger, *a, a->build_withdraw(ledger, 10'000));
  EXPECT_EQ(a->attributes().c, 50'000);
  EXPECT_EQ(a->attributes().B, 5u);  // the open order stays
  EXPECT_EQ(a->cash_balance(), 50'000u);
  EXPECT_EQ(paid_in_plaintext(ledger), Point::mul_base(Scalar::from_u64(50'000)));
  // The whole balance back into the token (the limit), then nothing more.
  apply_ok(ledger, *a, a->build_deposit(ledger, 50'000));
  EXPECT_EQ(a->cash_balance(), 0u);
  EXPECT_EQ(a->attributes().c, 100'000);
}

TEST_F(CashFixture, WalletRefusesOverdraftsSayingByHowMuch) {
  mint(*a, 1'000);
  auto over = a->build_deposit(ledger, 1'001);
  EXPECT_EQ(over.status().code(), ErrorCode::kInsolvent);
  EXPECT_NE(over.status().message().find("cash account is short by 1"), std::string_view::npos)
      << over.status().to_string();
  apply_ok(ledger, *a, a->build_deposit(ledger, 1'000));
  apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 1));
  // E_L = 1000 - 1000 - 2 + 900 - 130 = 768: withdrawing 769 is refused.
  auto withdraw = a->build_withdraw(ledger, 769);
  EXPECT_EQ(withdraw.status().code(), ErrorCode::kInsolvent);
  EXPECT_NE(withdraw.status().message().find("E_L short by 1"), std::string_view::npos)
      << withdraw.status().to_string();
  apply_ok(ledger, *a, a->build_withdraw(ledger, 768));
}

TEST_F(CashFixture, ReplayedReSignedOrAlteredCashMovesAreRejected) {
  mint(*a, 100'000);
  auto b = registered(ledger);
  mint(*b, 100'000);
  auto deposit = a->build_deposit(ledger, 5'000);
  ASSERT_TRUE(deposit.is_ok());
  // Another identity claims it: its signature does not hold, and re-signed it would not prove
  // kappa for that identity's K.
  SpendTx stolen = *deposit;
  stolen.cash->signer = b->identity();
  expect_rejected(ledger, PrivateTx(stolen), ErrorCode::kInvalidProof);
  // Enc(amount) replaced by an encryption of another amount.
  SpendTx enc = *deposit;
  enc.cash->enc =
      crypto::encrypt(ledger.terms().validators_key, Scalar::from_u64(1), Scalar::random());
  expect_rejected(ledger, PrivateTx(enc), ErrorCode::kInvalidProof);
  SpendTx amount = *deposit;
  amount.cash->V_a = amount.cash->V_a + Point::base();
  expect_rejected(ledger, PrivateTx(amount), ErrorCode::kInvalidProof);
  apply_ok(ledger, *a, deposit);
  expect_rejected(ledger, PrivateTx(*deposit), ErrorCode::kAlreadyExists, "double spend");
}

TEST_F(CashFixture, MintIsIssuerSignedAndCapped) {
  MintTx forged = mint_tx(*a, 10, 1);
  forged.amount = 11;
  expect_rejected(ledger, PrivateTx(forged), ErrorCode::kInvalidProof, "issuer");
  mint(*a, kCashSupplyCap - 1);  // limit - 1
  mint(*a, 1);                   // the limit
  expect_rejected(ledger, PrivateTx(mint_tx(*a, 1, issuer_sequence + 1)),
                  ErrorCode::kFailedPrecondition, "cap");
  expect_rejected(ledger, PrivateTx(mint_tx(*a, 1, issuer_sequence)), ErrorCode::kAlreadyExists,
                  "sequence");
  EXPECT_EQ(ledger.cash_supply(), kCashSupplyCap);
}

TEST_F(CashFixture, CashTransactionsRoundTripAndAreStrict) {
  mint(*a, 100'000);
  auto deposit = a->build_deposit(ledger, 7);
  ASSERT_TRUE(deposit.is_ok());
  const std::vector<PrivateTx> txs = {PrivateTx(mint_tx(*a, 5, 9)), PrivateTx(*deposit)};
  for (const PrivateTx& tx : txs) {
    const Bytes bytes = encode(tx);
    auto back = decode(bytes, ledger.terms().log_window);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(encode(*back), bytes);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      ASSERT_FALSE(decode(ByteSpan(bytes).first(n), ledger.terms().log_window).is_ok()) << n;
    }
    Bytes longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(decode(longer, ledger.terms().log_window).is_ok());
  }
  // The decoded deposit verifies: the signature covers the proofs, the range proof has m = 16.
  auto back = decode(encode(PrivateTx(*deposit)), ledger.terms().log_window);
  EXPECT_TRUE(ledger.check(*back).is_ok());
  Bytes flipped = encode(PrivateTx(*deposit));
  flipped[flipped.size() - 100] ^= 1;  // inside the range proof
  auto bad = decode(flipped, ledger.terms().log_window);
  if (bad.is_ok()) {
    EXPECT_FALSE(ledger.check(*bad).is_ok());
  }
}

}  // namespace
}  // namespace pfex::priv

namespace pfex::priv {
namespace {

TEST_F(CashFixture, TransferPaysTheReceiverWhoOpensTheMemo) {
  auto b = registered(ledger);
  auto c = registered(ledger);
  mint(*a, 1'000);
  auto over = a->build_transfer(ledger, b->identity(), 1'001);
  EXPECT_EQ(over.status().code(), ErrorCode::kInsolvent);
  EXPECT_NE(over.status().message().find("short by 1"), std::string_view::npos);
  auto pay = a->build_transfer(ledger, b->identity(), 400);
  ASSERT_TRUE(pay.is_ok()) << pay.status().to_string();
  // Tampered: another amount commitment, another receiver, a flipped memo byte for the receiver.
  TransferTx more = *pay;
  more.V_a = more.V_a + Point::base();
  expect_rejected(ledger, PrivateTx(more), ErrorCode::kInvalidProof);
  TransferTx redirected = *pay;
  redirected.receiver = c->identity();
  expect_rejected(ledger, PrivateTx(redirected), ErrorCode::kInvalidProof, "signature");
  auto applied = ledger.apply(PrivateTx(*pay));
  ASSERT_TRUE(applied.is_ok()) << applied.status().to_string();
  ASSERT_TRUE(a->confirm(*applied).is_ok());
  EXPECT_EQ(a->cash_balance(), 600u);
  expect_rejected(ledger, PrivateTx(*pay), ErrorCode::kAlreadyExists, "sequence");
  EXPECT_FALSE(c->receive(*pay).is_ok());  // not addressed to c
  TransferTx garbled = *pay;
  garbled.memo[60] ^= 1;
  EXPECT_FALSE(b->receive(garbled).is_ok());
  ASSERT_TRUE(b->receive(*pay).is_ok());
  EXPECT_EQ(b->cash_balance(), 400u);
  // B can spend what it received: its opening matches the ledger's account.
  apply_ok(ledger, *b, b->build_deposit(ledger, 400));
  EXPECT_EQ(b->attributes().c, 400);
  // The codec round-trips a transfer and rejects every truncation.
  const Bytes bytes = encode(PrivateTx(*pay));
  auto back = decode(bytes, ledger.terms().log_window);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(encode(*back), bytes);
  for (std::size_t n = 0; n < bytes.size(); ++n)
    ASSERT_FALSE(decode(ByteSpan(bytes).first(n), ledger.terms().log_window).is_ok()) << n;
}

}  // namespace
}  // namespace pfex::priv
