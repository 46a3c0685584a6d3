#include "market/account.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "market/contract.hpp"

namespace pfex::market {
namespace {

ContractSpec spec_with(std::int64_t tick_value, std::int64_t fee) {
  ContractSpec s;
  s.name = "T";
  s.tick_value = Cash(tick_value);
  s.fee_per_contract = Cash(fee);
  return s;
}

// docs/design.md section 3's counterexample for charging v+ + v- on both sides: L/H = 90/110, M =
// 11, c = 33, a buy of 1 at 109 and sells of 3 at 110. With margin on the long side at L and the
// short side at H, both constraints hold before and after the buy fills.
TEST(Solvency, DesignCounterexampleStaysSolventThroughTheFill) {
  Band band{Price(100), Price(90), Price(110), Cash(11), 0};
  Account a;
  a.cash = Cash(33);
  a.open_buy = Qty(1);
  a.open_buy_ticks = 109;
  a.open_sell = Qty(3);
  a.open_sell_ticks = 330;
  // E_L = 33 - 109 + 1*90 - 11*1 = 3;  E_H = 33 + 330 - 3*110 - 11*3 = 0
  Solvency s = evaluate_solvency(a, band, spec_with(1, 0));
  EXPECT_EQ(static_cast<std::int64_t>(s.e_low.value()), 3);
  EXPECT_EQ(static_cast<std::int64_t>(s.e_high.value()), 0);
  EXPECT_TRUE(check_solvency(a, band, spec_with(1, 0)).is_ok());
  // The buy fills at 109.
  a.cash = Cash(33 - 109);
  a.position = 1;
  a.open_buy = Qty(0);
  a.open_buy_ticks = 0;
  EXPECT_TRUE(check_solvency(a, band, spec_with(1, 0)).is_ok());
}

// Both constraints reserve f*(B + S): E_L and E_H each fall by f per open contract on either side.
TEST(Solvency, FeeIsReservedForBuysAndSellsInBothConstraints) {
  Band band{Price(1000), Price(950), Price(1050), Cash(850), 0};
  Account a;
  a.cash = Cash(100'000);
  a.open_buy = Qty(2);
  a.open_buy_ticks = std::int64_t{2} * 990;
  a.open_sell = Qty(3);
  a.open_sell_ticks = std::int64_t{3} * 1010;
  Solvency with_fee = evaluate_solvency(a, band, spec_with(10, 7));
  Solvency no_fee = evaluate_solvency(a, band, spec_with(10, 0));
  EXPECT_EQ(static_cast<std::int64_t>(no_fee.e_low.value() - with_fee.e_low.value()), 7 * 5);
  EXPECT_EQ(static_cast<std::int64_t>(no_fee.e_high.value() - with_fee.e_high.value()), 7 * 5);
  // E_L = 100000 - 1980*10 - 35 + 2*950*10 - 850*2 = 97465
  EXPECT_EQ(static_cast<std::int64_t>(with_fee.e_low.value()), 97'465);
  // E_H = 100000 + 30300 - 35 - 3*10500 - 850*3 = 96215
  EXPECT_EQ(static_cast<std::int64_t>(with_fee.e_high.value()), 96'215);
}

TEST(Solvency, ShortfallIsTheSmallestCuringDeposit) {
  Band band{Price(1000), Price(950), Price(1050), Cash(850), 0};
  Account a;
  a.position = -1;
  a.cash = Cash(10'000);  // E_H = 10000 - 10500 - 850 = -1350
  EXPECT_EQ(*margin_shortfall(a, band, spec_with(10, 1)), Cash(1350));
  a.cash = Cash(11'350);
  EXPECT_EQ(*margin_shortfall(a, band, spec_with(10, 1)), Cash(0));
  EXPECT_TRUE(check_solvency(a, band, spec_with(10, 1)).is_ok());
}

TEST(Solvency, ValuesBeyondSixtyFourBitsAreRejected) {
  Band band{Price(1000), Price(950), Price(1050), Cash(850), 0};
  Account a;
  a.cash = Cash(std::numeric_limits<std::int64_t>::max());
  a.open_sell = Qty(1'000'000);
  a.open_sell_ticks = 1'000'000'000;
  // Filling the sells would push cash past 2^63.
  EXPECT_EQ(check_solvency(a, band, spec_with(10, 0)).code(), ErrorCode::kOverflow);
}

// Every value an account reaches by filling its open orders must fit 64 bits, even when both
// constraints hold: the cash after every open sell fills at its limit, c + QS*k, at INT64_MAX
// (the limit) passes, one above it fails; one below passes too.
TEST(Solvency, CashReachableByFillingOpenSellsMustFit64Bits) {
  Band band{Price(1000), Price(950), Price(1050), Cash(850), 0};
  const ContractSpec spec = spec_with(10, 1);
  const std::int64_t sells = 400'000'000'000'000;
  const std::int64_t ticks = sells * 1050;  // every sell at H
  const std::int64_t at_limit = std::numeric_limits<std::int64_t>::max() - ticks * 10;
  for (std::int64_t delta : {-1, 0, 1}) {
    SCOPED_TRACE(delta);
    Account a;
    a.cash = Cash(at_limit + delta);
    a.open_sell = Qty(sells);
    a.open_sell_ticks = ticks;
    Solvency sv = evaluate_solvency(a, band, spec);
    ASSERT_GE(sv.e_low.value(), 0);
    ASSERT_GE(sv.e_high.value(), 0);
    ASSERT_LT(sv.e_high.value(), static_cast<i128>(1) << 64);
    Status st = check_solvency(a, band, spec);
    if (delta <= 0) {
      EXPECT_TRUE(st.is_ok()) << st.to_string();
    } else {
      EXPECT_EQ(st.code(), ErrorCode::kOverflow);
      EXPECT_NE(st.to_string().find("beyond 64 bits"), std::string::npos) << st.to_string();
    }
  }
}

}  // namespace
}  // namespace pfex::market
