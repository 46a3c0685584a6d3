#include "protocol/transaction.hpp"

#include <gtest/gtest.h>

#include "protocol/test_util.hpp"

namespace pfex::protocol {
namespace {

using testing::TestMarket;
using testing::Trader;

std::vector<market::Action> actions() {
  using namespace market;
  return {RegisterAction{},
          DepositAction{AccountId{1}, Cash(5000)},
          SubmitAction{AccountId{1}, testing::limit(Side::kBuy, 990, 3)},
          CancelAction{AccountId{1}, OrderId{9}},
          AdvanceAction{},
          SettleFinalAction{Price(1000)}};
}

TEST(Transaction, RoundTripsCanonicallyAndVerifies) {
  TestMarket m;
  Trader t;
  for (const auto& a : actions()) {
    Bytes b = m.sign(t, a);
    Result<Entry> e = decode_entry(b);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    const auto& tx = std::get<TransparentTx>(*e);
    EXPECT_EQ(tx.signer, t.key.public_key());
    EXPECT_EQ(tx.sequence, t.sequence);
    EXPECT_EQ(tx.market, m.id);
    EXPECT_EQ(tx.action.index(), a.index());
    EXPECT_TRUE(verify_transparent(b, tx));
    EXPECT_EQ(encode_entry(*e), b);
  }
  Result<Entry> g = decode_entry(m.genesis);
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(std::get<Genesis>(*g).contract.name, market::seed_example_preset().name);
  EXPECT_EQ(std::get<Genesis>(*g).contract.breaker_qty, market::seed_example_preset().breaker_qty);
  EXPECT_EQ(encode_entry(*g), m.genesis);
}

// The genesis states the contract's full terms, and terms the exchange cannot run are refused.
TEST(Transaction, GenesisCarriesTheWholeContractAndInvalidTermsAreRefused) {
  market::ContractSpec custom = market::lean_hog_preset();
  custom.breaker_qty = Qty(20);
  const Bytes ok = encode_entry(Genesis{custom, Price(3600), SigningKey::generate().public_key()});
  auto g = decode_entry(ok);
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  EXPECT_EQ(std::get<Genesis>(*g).contract.breaker_qty, Qty(20));
  EXPECT_EQ(std::get<Genesis>(*g).contract.tick_value, market::lean_hog_preset().tick_value);

  market::ContractSpec bad = custom;
  bad.margin_ppm = 1;  // below w*d: the fund could lose on a default inside the band
  auto refused =
      decode_entry(encode_entry(Genesis{bad, Price(3600), SigningKey::generate().public_key()}));
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("genesis contract"), std::string_view::npos);
}

TEST(Transaction, EveryTruncationAndTrailingByteIsRejected) {
  TestMarket m;
  Trader t;
  for (const auto& a : actions()) {
    Bytes b = m.sign(t, a);
    for (std::size_t n = 0; n < b.size(); ++n) {
      EXPECT_FALSE(decode_entry(ByteSpan(b.data(), n)).is_ok()) << n;
    }
    b.push_back(0);
    EXPECT_FALSE(decode_entry(b).is_ok());
  }
  for (std::size_t n = 0; n < m.genesis.size(); ++n) {
    EXPECT_FALSE(decode_entry(ByteSpan(m.genesis.data(), n)).is_ok());
  }
}

// A flipped bit anywhere either breaks decoding or breaks the signature: nothing in an entry
// can change unnoticed.
TEST(Transaction, EveryFlippedBitIsRejected) {
  TestMarket m;
  Trader t;
  const Bytes b = m.sign(
      t, market::SubmitAction{market::AccountId{1}, testing::limit(market::Side::kSell, 1001, 2)});
  for (std::size_t i = 0; i < b.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes c = b;
      c[i] = static_cast<std::uint8_t>(c[i] ^ (1U << bit));
      Result<Entry> e = decode_entry(c);
      if (!e) continue;
      const auto* tx = std::get_if<TransparentTx>(&*e);
      ASSERT_NE(tx, nullptr);
      EXPECT_FALSE(verify_transparent(c, *tx)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(Transaction, OversizedAndUnknownTypesAreRejected) {
  Bytes big(kMaxTransactionBytes + 1, 0);
  EXPECT_EQ(decode_entry(big).status().code(), ErrorCode::kInvalidArgument);
  TestMarket m;
  Trader t;
  Bytes b = m.sign(t, market::RegisterAction{});
  b[1] = 7;  // type
  EXPECT_FALSE(decode_entry(b).is_ok());
  b[1] = 1;
  // 1: no exit period; 2: the transparent rules before the private ones; 3: no D_res.
  for (const std::uint8_t version :
       {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{3}, std::uint8_t{5}}) {
    b[0] = version;
    EXPECT_FALSE(decode_entry(b).is_ok()) << int{version};
  }
}

TEST(Transaction, SignatureCoversTheDomainLabel) {
  TestMarket m;
  Trader t;
  Bytes b = m.sign(t, market::RegisterAction{});
  const auto tx = std::get<TransparentTx>(*decode_entry(b));
  // The same key signing the bare bytes (no domain label) does not make a valid transaction.
  Bytes bare(b.begin(), b.end() - kSignatureBytes);
  const Signature s = t.key.sign(bare);
  Bytes forged = bare;
  forged.insert(forged.end(), s.begin(), s.end());
  auto ftx = std::get<TransparentTx>(*decode_entry(forged));
  EXPECT_FALSE(verify_transparent(forged, ftx));
  EXPECT_TRUE(verify_transparent(b, tx));
}

TEST(Keys, SeedRoundTrip) {
  SigningKey k = SigningKey::generate();
  auto seed = k.seed();
  SigningKey k2 = SigningKey::from_seed(seed);
  EXPECT_EQ(k.public_key(), k2.public_key());
}

}  // namespace
}  // namespace pfex::protocol
