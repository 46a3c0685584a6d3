#include "protocol/action_codec.hpp"

#include <gtest/gtest.h>

#include "market/exchange_test_util.hpp"

namespace pfex::protocol {
namespace {

using namespace market;  // NOLINT(google-build-using-namespace): the actions under test
namespace mt = market::testing;

std::vector<Action> samples() {
  return {
      RegisterAction{},
      DepositAction{AccountId{1}, Cash(5000)},
      WithdrawAction{AccountId{2}, Cash(7)},
      SubmitAction{AccountId{1}, mt::buy(1000, 3)},
      SubmitAction{AccountId{1}, mt::market(Side::kSell, 2)},
      CancelAction{AccountId{1}, OrderId{9}},
      ReplaceAction{AccountId{3}, OrderId{4}, mt::sell(1010, 1, OrderType::kPostOnly)},
      RefreshAction{AccountId{1}, Cash(0)},
      ExitAction{AccountId{5}},
      AdvanceAction{},
      SettleFinalAction{Price(1000)},
      ReduceAction{AccountId{2}, OrderId{6}, Qty(3)},
      SubmitAction{AccountId{1}, OrderRequest{Side::kBuy, OrderType::kMarket, Price(1020), Qty(2)}},
  };
}

TEST(Action, EveryKindRoundTripsCanonically) {
  for (const Action& a : samples()) {
    Bytes b = encode_action(a);
    Result<Action> back = decode_action(b);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(encode_action(*back), b);
    EXPECT_EQ(back->index(), a.index());
  }
}

TEST(Action, TruncatedTrailingAndOutOfRangeBytesAreRejected) {
  for (const Action& a : samples()) {
    Bytes b = encode_action(a);
    for (std::size_t n = 0; n < b.size(); ++n) {
      EXPECT_FALSE(decode_action(ByteSpan(b.data(), n)).is_ok()) << "kind " << a.index();
    }
    Bytes longer = b;
    longer.push_back(0);
    EXPECT_EQ(decode_action(longer).status().code(), ErrorCode::kCorruption);
  }
  Bytes submit = encode_action(SubmitAction{AccountId{1}, mt::buy(1000, 3)});
  // kind u8 | account u32 | side u8 | type u8 | has_limit u8 | limit i64 | qty i64
  auto with = [&](std::size_t at, std::uint8_t v) {
    Bytes b = submit;
    b[at] = v;
    return decode_action(b).status();
  };
  EXPECT_EQ(with(0, 200).message(), "action kind = 200 is outside [0, 10]");
  EXPECT_EQ(with(5, 2).message(), "side = 2 is outside [0, 1]");
  EXPECT_EQ(with(6, 5).message(), "order type = 5 is outside [0, 4]");
  EXPECT_FALSE(with(7, 2).is_ok());      // a bool that is 2
  EXPECT_FALSE(with(15, 0x80).is_ok());  // negative limit price (top byte of the i64)
  EXPECT_FALSE(with(23, 0x80).is_ok());  // negative quantity
  Bytes zero_qty = encode_action(SubmitAction{AccountId{1}, mt::buy(1000, 0)});
  EXPECT_EQ(decode_action(zero_qty).status().message(),
            "quantity = 0 is outside [1, 4611686018427387904]");
}

class ApplyTest : public mt::ExchangeFixture {};

TEST_F(ApplyTest, BadBytesChangeNothingAndGoodBytesApply) {
  AccountId a = funded(1'000'000);
  place(a, mt::buy(990, 1));
  const Digest32 before = ex_.state_hash();
  Bytes good = encode_action(SubmitAction{a, mt::sell(1010, 2)});
  std::vector<Bytes> bad = {{}, {3}, Bytes(good.begin(), good.end() - 1), good};
  bad.back().push_back(0xff);
  for (const Bytes& b : bad) {
    Result<Action> decoded = decode_action(b);
    ASSERT_FALSE(decoded.is_ok());
    EXPECT_EQ(ex_.state_hash(), before);
  }
  Result<Action> decoded = decode_action(good);
  ASSERT_TRUE(decoded.is_ok());
  Result<ActionResult> r = apply_action(ex_, now_, *decoded);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_TRUE(r->order.has_value());
  EXPECT_EQ(r->order->resting, Qty(2));
  EXPECT_NE(ex_.state_hash(), before);
  // Replaying the same entry is a new order (transparent actions carry no replay protection;
  // signed envelopes with sequence numbers do, in the ledger layer).
  Result<ActionResult> unknown = apply_action(ex_, now_, CancelAction{a, OrderId{999}});
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace pfex::protocol
