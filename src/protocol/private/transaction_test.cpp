#include "protocol/private/transaction.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <stdexcept>

#include "crypto/proof_codec.hpp"
#include "protocol/private/test_util.hpp"

namespace pfex::priv {
namespace {

using testing::gens;
using testing::small_terms;

// One real transaction of each coded type (the flow of test_util.hpp), shared by the tests.
const std::vector<PrivateTx>& samples() {
  static const std::vector<PrivateTx> txs = [] {
    static PrivateLedger ledger(gens(), small_terms());
    return testing::run_flow(ledger).txs;
  }();
  return txs;
}

constexpr std::size_t kLogWindow = 3;

TEST(PrivateCodec, EveryTypeRoundTrips) {
  ASSERT_EQ(samples().size(), 7u);
  std::set<TxType> types;
  for (const PrivateTx& tx : samples()) {
    types.insert(tx_type(tx));
    const Bytes bytes = encode(tx);
    auto back = decode(bytes, kLogWindow);
    ASSERT_TRUE(back.is_ok()) << tx_type_name(tx_type(tx)) << ": " << back.status().to_string();
    EXPECT_EQ(encode(*back), bytes) << tx_type_name(tx_type(tx));
    EXPECT_EQ(encode_body(*back), encode_body(tx));
  }
  EXPECT_EQ(types, (std::set<TxType>{TxType::kRegister, TxType::kPost, TxType::kSettle,
                                     TxType::kReduce, TxType::kCancelReplace, TxType::kCancel}));
}

TEST(PrivateCodec, EveryTruncationAndATrailingByteAreRejected) {
  for (const PrivateTx& tx : samples()) {
    const Bytes bytes = encode(tx);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      const Bytes cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      ASSERT_FALSE(decode(cut, kLogWindow).is_ok()) << tx_type_name(tx_type(tx)) << " at " << n;
    }
    Bytes longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(decode(longer, kLogWindow).is_ok());
    // Another window size changes the membership proof's size.
    EXPECT_EQ(decode(bytes, kLogWindow + 1).is_ok(),
              tx_type(tx) == TxType::kRegister || tx_type(tx) == TxType::kCancel);
  }
}

TEST(PrivateCodec, VersionAndReservedTypesAreRejected) {
  Bytes bytes = encode(samples()[0]);
  bytes[0] = 2;
  EXPECT_FALSE(decode(bytes, kLogWindow).is_ok());
  for (int type : {0, 13, 255}) {  // unknown (exit, 12, is coded: exit_test.cpp)
    bytes[0] = kPrivateTxVersion;
    bytes[1] = static_cast<std::uint8_t>(type);
    auto r = decode(bytes, kLogWindow);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << type;
  }
}

// Re-encodes a spend transaction after `mutate` changed a field, with its proofs (the proofs are
// then wrong, but decoding must refuse first).
// The linear proof is resized to the new number of tags, so that only the mutated field can make
// decoding fail.
Bytes with(const SpendTx& base, const std::function<void(SpendTx&)>& mutate) {
  SpendTx tx = base;
  mutate(tx);
  std::vector<Point> A = tx.proofs->linear.A();
  std::vector<Scalar> z = tx.proofs->linear.z();
  A.resize(spend_relation_count(tx.num_tags()), Point::random());
  z.resize(spend_witness_count(tx.num_tags()), Scalar::random());
  tx.proofs->linear = crypto::LinearProof(std::move(A), std::move(z));
  return encode(PrivateTx(tx));
}

const SpendTx& sample_spend(TxType type) {
  for (const PrivateTx& tx : samples())
    if (tx_type(tx) == type) return std::get<SpendTx>(tx);
  throw std::logic_error("no sample");
}

TEST(PrivateCodec, FieldsOutOfRangeAreRejected) {
  const SpendTx& post = sample_spend(TxType::kPost);
  auto rejects = [&](const std::function<void(SpendTx&)>& mutate) {
    return !decode(with(post, mutate), kLogWindow).is_ok();
  };
  EXPECT_FALSE(rejects([](SpendTx&) {}));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.spend.window.length = 0; }));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.spend.window.length = 9; }));
  EXPECT_FALSE(rejects([](SpendTx& t) { t.spend.window.length = 8; }));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.spend.window.start = 1; }));  // short window
  EXPECT_TRUE(rejects([](SpendTx& t) { t.spend.serial = Scalar::zero(); }));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.order->price = 0; }));
  EXPECT_FALSE(rejects([](SpendTx& t) { t.order->price = kMaxPriceTicks; }));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.order->price = kMaxPriceTicks + 1; }));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.order->qty = 0; }));
  EXPECT_FALSE(rejects([](SpendTx& t) { t.order->qty = (std::int64_t{1} << 32) - 1; }));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.order->qty = std::int64_t{1} << 32; }));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.order->qty = -1; }));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.order->kind = static_cast<OrderKind>(5); }));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.order->side = static_cast<Side>(2); }));
  // Entries: strictly increasing ids, at most 16.
  EXPECT_FALSE(rejects([](SpendTx& t) { t.entries = {{1, 1, false}, {2, 1, false}}; }));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.entries = {{2, 1, false}, {1, 1, false}}; }));
  EXPECT_TRUE(rejects([](SpendTx& t) { t.entries = {{1, 1, false}, {1, 2, false}}; }));
  EXPECT_FALSE(rejects([](SpendTx& t) {
    t.entries.clear();
    for (std::uint64_t i = 0; i < 16; ++i)
      t.entries.push_back({i, 1, false});
  }));
  EXPECT_TRUE(rejects([](SpendTx& t) {
    t.entries.clear();
    for (std::uint64_t i = 0; i < 17; ++i)
      t.entries.push_back({i, 1, false});
  }));
  // A release byte other than 0 or 1: the last byte of the only entry.
  Bytes bytes = with(post, [](SpendTx& t) { t.entries = {{3, 1, true}}; });
  const std::size_t release_at = 2 + 24 + 32 * 11 + 1 + 16;
  ASSERT_EQ(bytes[release_at], 1);
  ASSERT_TRUE(decode(bytes, kLogWindow).is_ok());
  bytes[release_at] = 2;
  EXPECT_FALSE(decode(bytes, kLogWindow).is_ok());
  // A settle needs at least one entry.
  const SpendTx& settle = sample_spend(TxType::kSettle);
  EXPECT_TRUE(!decode(with(settle, [](SpendTx& t) { t.entries.clear(); }), kLogWindow).is_ok());
  // Reduce by 0.
  const SpendTx& reduce = sample_spend(TxType::kReduce);
  EXPECT_TRUE(!decode(with(reduce, [](SpendTx& t) { t.reduce_by = 0; }), kLogWindow).is_ok());
}

TEST(PrivateCodec, NonCanonicalPointsAndScalarsAreRejected) {
  const SpendTx& post = sample_spend(TxType::kPost);
  Bytes bytes = encode(PrivateTx(post));
  // The serial sits after version, type and the window (2 + 24 bytes).
  Bytes bad_scalar = bytes;
  std::fill(bad_scalar.begin() + 26, bad_scalar.begin() + 58, 0xff);
  EXPECT_FALSE(decode(bad_scalar, kLogWindow).is_ok());
  Bytes bad_point = bytes;
  std::fill(bad_point.begin() + 58, bad_point.begin() + 90, 0xff);  // C*
  EXPECT_FALSE(decode(bad_point, kLogWindow).is_ok());
}

TEST(PrivateCodec, TranscriptBindsMarketTermsTypeAndBody) {
  const PrivateTx& tx = samples()[1];
  const MarketTerms terms = small_terms();
  auto challenge = [](crypto::Transcript t) { return t.challenge_scalar("x"); };
  const Scalar base = challenge(tx_transcript(terms, tx));
  EXPECT_EQ(challenge(tx_transcript(terms, tx)), base);
  MarketTerms other = terms;
  other.market_id[0] ^= 1;
  EXPECT_NE(challenge(tx_transcript(other, tx)), base);
  other = terms;
  other.epoch += 1;
  EXPECT_NE(challenge(tx_transcript(other, tx)), base);
  other = terms;
  other.fee += 1;
  EXPECT_NE(challenge(tx_transcript(other, tx)), base);
  SpendTx changed = std::get<SpendTx>(tx);
  changed.order->qty += 1;
  EXPECT_NE(challenge(tx_transcript(terms, PrivateTx(changed))), base);
  // The proofs are not absorbed: the transcript is the same with or without them.
  SpendTx bare = std::get<SpendTx>(tx);
  bare.proofs.reset();
  EXPECT_EQ(challenge(tx_transcript(terms, PrivateTx(bare))), base);
}

}  // namespace
}  // namespace pfex::priv
