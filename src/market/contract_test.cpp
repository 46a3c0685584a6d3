#include "market/contract.hpp"

#include <gtest/gtest.h>

#include "market/band.hpp"

namespace pfex::market {
namespace {

TEST(Contract, PresetsAreValid) {
  for (const char* name : {"lean-hog", "short-rate", "seed-example"}) {
    Result<ContractSpec> s = contract_preset(name);
    ASSERT_TRUE(s.is_ok()) << name;
    EXPECT_TRUE(s->validate().is_ok()) << name << ": " << s->validate().to_string();
  }
  EXPECT_EQ(lean_hog_preset().tick_value, Cash(1000));    // $10 per tick
  EXPECT_EQ(short_rate_preset().tick_value, Cash(2500));  // $25 per tick
  EXPECT_EQ(contract_preset("wheat").status().code(), ErrorCode::kNotFound);
}

TEST(Contract, MarginMustCoverTheWidestBand) {
  ContractSpec s = lean_hog_preset();
  s.band_ppm = 40'000;
  s.widen_ppm = 1'500'000;
  s.margin_ppm = 59'999;  // < 1.5 * 4%
  Status st = s.validate();
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("must be at least w*d = 60000 ppm"), std::string_view::npos);
  s.margin_ppm = 60'000;
  EXPECT_TRUE(s.validate().is_ok());
}

// The exit period is a positive window like the others, at most 2^40 ms, and part of the terms
// encoding (a genesis entry states it).
TEST(Contract, ExitPeriodIsPositiveAndAtMostTheLongestWindow) {
  ContractSpec s = lean_hog_preset();
  EXPECT_EQ(s.exit_period_ms, std::int64_t{30} * 24 * 3'600'000);
  for (std::int64_t bad : {std::int64_t{-1}, std::int64_t{0}, kMaxWindowMs + 1}) {
    s.exit_period_ms = bad;
    EXPECT_EQ(s.validate().code(), ErrorCode::kInvalidArgument) << bad;
  }
  for (std::int64_t good : {std::int64_t{1}, kMaxWindowMs - 1, kMaxWindowMs}) {
    s.exit_period_ms = good;
    EXPECT_TRUE(s.validate().is_ok()) << good;
  }
  Bytes bytes;
  Writer w(&bytes);
  encode_contract(w, s);
  Reader r(bytes);
  EXPECT_EQ(decode_contract(r).exit_period_ms, kMaxWindowMs);
  EXPECT_TRUE(r.finish().is_ok());
}

// D_res is 1 ms to one day of ledger time, five minutes by default, and the last number of the
// terms encoding.
TEST(Contract, ResolutionDeadlineIsOneMsToOneDay) {
  ContractSpec s = lean_hog_preset();
  EXPECT_EQ(s.resolution_ms, kDefaultResolutionMs);
  for (std::int64_t bad : {std::int64_t{0}, std::int64_t{-1}, kMaxResolutionMs + 1}) {
    s.resolution_ms = bad;
    const Status st = s.validate();
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("resolution deadline D_res"), std::string_view::npos) << bad;
  }
  for (std::int64_t good :
       {std::int64_t{1}, std::int64_t{2}, kMaxResolutionMs - 1, kMaxResolutionMs}) {
    s.resolution_ms = good;
    EXPECT_TRUE(s.validate().is_ok()) << good;
  }
  s.resolution_ms = 12'345;
  Bytes bytes;
  Writer w(&bytes);
  encode_contract(w, s);
  Reader r(bytes);
  EXPECT_EQ(decode_contract(r).resolution_ms, 12'345);
  EXPECT_TRUE(r.finish().is_ok());
  // A terms encoding without D_res (the layout before it) is short by its 8 bytes.
  Reader shorter(ByteSpan(bytes).first(bytes.size() - 8));
  (void)decode_contract(shorter);
  EXPECT_FALSE(shorter.finish().is_ok());
}

TEST(Contract, ParsesPricesOnTheTickGridOnly) {
  ContractSpec hog = lean_hog_preset();  // tick 0.025 cents/lb
  EXPECT_EQ(*hog.parse_price("90.125"), Price(3605));
  EXPECT_EQ(*hog.parse_price("90.1250"), Price(3605));
  EXPECT_EQ(hog.format_price(Price(3605)), "90.125");
  Result<Price> off = hog.parse_price("90.130");
  ASSERT_FALSE(off.is_ok());
  EXPECT_EQ(off.status().message(), "price 90.130 is not on the tick grid (tick 0.025)");
  EXPECT_FALSE(hog.parse_price("90.1251").is_ok());
  EXPECT_FALSE(hog.parse_price("-1").is_ok());
  EXPECT_FALSE(hog.parse_price("1.2.3").is_ok());
  EXPECT_FALSE(hog.parse_price("").is_ok());
  EXPECT_FALSE(hog.parse_price("99999999999999999999").is_ok());
  EXPECT_EQ(*hog.parse_cash("1400.5"), Cash(140050));
  EXPECT_EQ(hog.format_cash(Cash(-140050)), "-1400.50");
  EXPECT_FALSE(hog.parse_cash("1.001").is_ok());
}

TEST(Band, RoundsOutwardAndSetsTheMargin) {
  ContractSpec s = seed_example_preset();
  Band b = *make_band(s, Price(1300), s.band_ppm);
  EXPECT_EQ(b.low, Price(1248));
  EXPECT_EQ(b.high, Price(1352));
  EXPECT_EQ(b.margin, Cash(56));
  Band odd = *make_band(s, Price(1352), s.band_ppm);  // 1297.92 .. 1406.08
  EXPECT_EQ(odd.low, Price(1297));
  EXPECT_EQ(odd.high, Price(1407));
  EXPECT_FALSE(make_band(s, Price(0), s.band_ppm).is_ok());
  EXPECT_FALSE(make_band(s, Price(std::int64_t{1} << 40), s.band_ppm).is_ok());
  // Found by the snapshot fuzzer: a half-width from untrusted bytes must not overflow.
  EXPECT_FALSE(make_band(s, Price(1300), INT64_MAX).is_ok());
  EXPECT_FALSE(make_band(s, Price(1300), -5).is_ok());
  EXPECT_FALSE(make_band(s, Price(1300), 0).is_ok());
}

}  // namespace
}  // namespace pfex::market
