#include "market/names.hpp"

#include <gtest/gtest.h>

namespace pfex::market {
namespace {

TEST(Names, EveryValueRoundTripsThroughItsName) {
  for (std::uint8_t i = 0; i <= kMaxOrderType; ++i) {
    const auto t = static_cast<OrderType>(i);
    Result<OrderType> back = parse_order_type(order_type_name(t));
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(*back, t);
  }
  for (Side s : {Side::kBuy, Side::kSell})
    EXPECT_EQ(*parse_side(side_name(s)), s);
  for (Phase p : {Phase::kTrading, Phase::kRefreshWindow, Phase::kClosed})
    EXPECT_EQ(*parse_phase(phase_name(p)), p);
  for (AccountStatus s :
       {AccountStatus::kActive, AccountStatus::kDefaulted, AccountStatus::kExited})
    EXPECT_EQ(*parse_account_status(account_status_name(s)), s);
}

// The spellings scenario files, the command line and the JSON outcomes already use.
TEST(Names, TheSpellingsArePinned) {
  EXPECT_EQ(order_type_names(), "limit, ioc, fok, post-only, market");
  EXPECT_EQ(phase_names(), "trading, refresh-window, closed");
  EXPECT_EQ(side_names(), "buy, sell");
  EXPECT_EQ(account_status_names(), "active, defaulted, exited");
}

TEST(Names, OtherSpellingsAreRefusedWithTheAcceptedOnes) {
  for (std::string_view bad : {"post_only", "Post-only", "IOC", "refresh window", "", "limit "}) {
    EXPECT_FALSE(parse_order_type(bad).is_ok()) << bad;
    EXPECT_FALSE(parse_phase(bad).is_ok()) << bad;
  }
  EXPECT_EQ(parse_order_type("post_only").status().message(),
            "unknown order type \"post_only\" (limit, ioc, fok, post-only, market)");
  EXPECT_EQ(parse_phase("refresh_window").status().message(),
            "unknown phase \"refresh_window\" (trading, refresh-window, closed)");
  EXPECT_EQ(parse_side("BUY").status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace pfex::market
