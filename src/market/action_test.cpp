#include "market/action.hpp"

#include <gtest/gtest.h>

#include "market/exchange_test_util.hpp"

namespace pfex::market {
namespace {

// The actions' bytes are the protocol's (protocol/action_codec_test.cpp); here, applying them.
class ApplyActionTest : public testing::ExchangeFixture {};

TEST_F(ApplyActionTest, EachKindReachesTheExchange) {
  Result<ActionResult> reg = apply_action(ex_, now_, RegisterAction{});
  ASSERT_TRUE(reg.is_ok()) << reg.status().to_string();
  ASSERT_TRUE(reg->account.has_value());
  const AccountId a = *reg->account;
  ASSERT_TRUE(apply_action(ex_, now_, DepositAction{a, Cash(1'000'000)}).is_ok());
  Result<ActionResult> sub = apply_action(ex_, now_, SubmitAction{a, testing::buy(990, 2)});
  ASSERT_TRUE(sub.is_ok()) << sub.status().to_string();
  ASSERT_TRUE(sub->order.has_value());
  EXPECT_EQ(sub->order->resting, Qty(2));
  EXPECT_TRUE(apply_action(ex_, now_, CancelAction{a, sub->order->id}).is_ok());
  EXPECT_TRUE(apply_action(ex_, now_, WithdrawAction{a, Cash(7)}).is_ok());
  EXPECT_EQ(ex_.account(a)->cash, Cash(1'000'000 - 7));
}

TEST_F(ApplyActionTest, ARefusedActionChangesNothing) {
  AccountId a = funded(1'000'000);
  place(a, testing::buy(990, 1));
  const Digest32 before = ex_.state_hash();
  Result<ActionResult> unknown = apply_action(ex_, now_, CancelAction{a, OrderId{999}});
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound);
  Result<ActionResult> too_much = apply_action(ex_, now_, WithdrawAction{a, Cash(2'000'000)});
  EXPECT_FALSE(too_much.is_ok());
  EXPECT_EQ(ex_.state_hash(), before);
}

}  // namespace
}  // namespace pfex::market
