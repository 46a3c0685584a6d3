// The fund's holdings: fees and its liquidation trades, with overflow refused and nothing changed.
#include "market/liquidation.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace pfex::market {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

TEST(FundHoldings, ABuyPaysItsValueAndFeeASellReceivesItsValueLessTheFee) {
  FundHoldings f{1'000'000, -3};
  // Buys 2 at 1,040 ticks of 1 minor unit, fee 2 a contract: pays 2,080 + 4.
  ASSERT_TRUE(f.trade(Side::kBuy, Price(1040), 2, Cash(1), Cash(2)).is_ok());
  EXPECT_EQ(f.cash, 1'000'000 - 2'084);
  EXPECT_EQ(f.position, -1);
  // Sells 1 at 1,000: receives 1,000 - 2.
  ASSERT_TRUE(f.trade(Side::kSell, Price(1000), 1, Cash(1), Cash(2)).is_ok());
  EXPECT_EQ(f.cash, 1'000'000 - 2'084 + 998);
  EXPECT_EQ(f.position, -2);
  ASSERT_TRUE(f.collect_fees(3, Cash(2)).is_ok());
  EXPECT_EQ(f.cash, 1'000'000 - 2'084 + 998 + 12);
}

TEST(FundHoldings, AValueThatDoesNotFitIsRefusedAndChangesNothing) {
  // 2^31 ticks x 2^32 contracts x tick value 2: 2^64, past int64.
  FundHoldings f{0, 0};
  const Status s =
      f.trade(Side::kBuy, Price(std::int64_t{1} << 31), std::int64_t{1} << 32, Cash(2), Cash(0));
  EXPECT_EQ(s.code(), ErrorCode::kOverflow) << s.to_string();
  EXPECT_EQ(f.cash, 0);
  EXPECT_EQ(f.position, 0);
  // A value that fits, at the edge of the fund's cash: cash + value is one past int64's top.
  FundHoldings edge{kMax - 99, 0};
  FundHoldings fits{kMax - 100, 0};
  EXPECT_TRUE(fits.trade(Side::kSell, Price(100), 1, Cash(1), Cash(0)).is_ok());
  EXPECT_EQ(fits.cash, kMax);
  EXPECT_EQ(edge.trade(Side::kSell, Price(100), 1, Cash(1), Cash(0)).code(), ErrorCode::kOverflow);
  EXPECT_EQ(edge.cash, kMax - 99);
  EXPECT_EQ(edge.position, 0);
  // A position one past int64's bottom.
  FundHoldings low{0, std::numeric_limits<std::int64_t>::min()};
  EXPECT_EQ(low.trade(Side::kSell, Price(1), 1, Cash(1), Cash(0)).code(), ErrorCode::kOverflow);
  EXPECT_EQ(low.cash, 0);
}

TEST(FundHoldings, FeesThatDoNotFitAreRefusedAndChangeNothing) {
  FundHoldings f{kMax - 3, 0};
  FundHoldings fits{kMax - 4, 0};
  EXPECT_TRUE(fits.collect_fees(1, Cash(2)).is_ok());  // exactly kMax
  EXPECT_EQ(fits.cash, kMax);
  EXPECT_EQ(f.collect_fees(1, Cash(2)).code(), ErrorCode::kOverflow);  // kMax + 1
  EXPECT_EQ(f.cash, kMax - 3);
}

}  // namespace
}  // namespace pfex::market
