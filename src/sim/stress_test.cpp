#include "sim/stress.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <numeric>

namespace pfex::sim::stress {
namespace {

using market::AccountId;
using market::AccountStatus;
using market::OrderRequest;
using market::OrderType;
using market::Side;

MarketCase case_named(const std::string& label) {
  for (const MarketCase& m : market_cases()) {
    if (m.label == label) return m;
  }
  ADD_FAILURE() << "no market case " << label;
  return market_cases().front();
}

Step register_step(std::uint32_t id, std::int64_t at = 0) {
  Step s;
  s.id = id;
  s.kind = StepKind::kRegister;
  s.at_ms = at;
  return s;
}

Step deposit_step(std::uint32_t id, std::uint32_t account, std::int64_t amount) {
  Step s;
  s.id = id;
  s.kind = StepKind::kDeposit;
  s.account = account;
  s.amount = amount;
  return s;
}

Step order_step(std::uint32_t id, std::uint32_t account, Side side, std::int64_t price,
                std::int64_t qty, OrderType type = OrderType::kLimit) {
  Step s;
  s.id = id;
  s.kind = StepKind::kSubmit;
  s.account = account;
  s.request = OrderRequest{side, type, Price(price), Qty(qty)};
  return s;
}

TEST(StressDdmin, FindsAOneMinimalFailingSubset) {
  std::vector<int> items(100);
  std::iota(items.begin(), items.end(), 0);
  std::function<bool(const std::vector<int>&)> fails = [](const std::vector<int>& v) {
    bool has3 = std::find(v.begin(), v.end(), 3) != v.end();
    bool has71 = std::find(v.begin(), v.end(), 71) != v.end();
    return has3 && has71;
  };
  std::size_t tests = 0;
  std::vector<int> out = ddmin(items, fails, 20'000, &tests);
  EXPECT_EQ(out, (std::vector<int>{3, 71}));
  EXPECT_GT(tests, 0u);
  EXPECT_LT(tests, 200u);
}

TEST(StressDdmin, StopsAtItsTestBudget) {
  std::vector<int> items(64, 1);
  std::size_t calls = 0;
  std::function<bool(const std::vector<int>&)> fails = [&](const std::vector<int>& v) {
    ++calls;
    return !v.empty();
  };
  std::size_t tests = 0;
  (void)ddmin(items, fails, 5, &tests);
  EXPECT_EQ(tests, 5u);
  EXPECT_EQ(calls, 5u);
}

TEST(StressMarkets, EveryCaseIsAValidMarketIncludingTheEdgeCases) {
  std::vector<MarketCase> cases = market_cases();
  EXPECT_GE(cases.size(), 12u);
  bool exact = false, fee_at = false, fee_above = false, tiny = false, huge = false;
  for (const MarketCase& m : cases) {
    EXPECT_TRUE(m.spec.validate().is_ok()) << m.label << ": " << m.spec.validate().to_string();
    Result<market::Exchange> ex = market::Exchange::open(m.spec, m.reference, LedgerTime(0));
    ASSERT_TRUE(ex.is_ok()) << m.label;
    const std::int64_t m_ppm = m.spec.margin_ppm;
    exact |= m_ppm * 1'000'000 == m.spec.band_ppm * m.spec.widen_ppm;
    fee_at |= m.spec.fee_per_contract == ex->band().margin;
    fee_above |= m.spec.fee_per_contract > ex->band().margin;
    tiny |= m.spec.tick_value.value() == 1;
    huge |= m.spec.tick_value.value() == (std::int64_t{1} << 32);
  }
  EXPECT_TRUE(exact && fee_at && fee_above && tiny && huge);
}

// The oracle's formulas against the engine on the small contract: k = 10, f = 1, band
// [950, 1050], M = 850. A buy at 1000 costs (1000 - 950)*10 + 1 + 850 = 1351 of E_L per contract
// and the fee, 1, of E_H.
TEST(StressDriver, MaximumLeverageIsExactlyWhatTheEngineAccepts) {
  Driver d(case_named("small"));
  ASSERT_FALSE(d.apply(register_step(0)));
  ASSERT_FALSE(d.apply(deposit_step(1, 0, 13'510)));  // the bond is posted apart
  AccountId a = *d.account_of(0);
  EXPECT_EQ(d.max_leverage_qty(a, Side::kBuy, Price(1000)), 10);
  EXPECT_EQ(d.shortfall(a), 0);

  Step too_many = order_step(2, 0, Side::kBuy, 1000, 1);
  too_many.rule = Rule::kMaxLeverage;
  too_many.amount = 1;  // one more than allowed: refused
  ASSERT_FALSE(d.apply(too_many));
  EXPECT_FALSE(d.order_of(2));
  Step exactly = too_many;
  exactly.id = 3;
  exactly.amount = 0;
  ASSERT_FALSE(d.apply(exactly));
  ASSERT_TRUE(d.order_of(3));
  EXPECT_EQ(d.exchange().account(a)->open_buy, Qty(10));
  EXPECT_EQ(d.max_leverage_qty(a, Side::kBuy, Price(1000)), 0);
  EXPECT_EQ(d.counters().accepted, 3u);
}

TEST(StressDriver, StepsNamingUnknownAccountsOrOrdersAreSkipped) {
  Driver d(case_named("small"));
  Step cancel;
  cancel.id = 5;
  cancel.kind = StepKind::kCancel;
  cancel.account = 0;
  cancel.order = 3;
  EXPECT_FALSE(d.apply(deposit_step(1, 0, 1000)));
  EXPECT_FALSE(d.apply(cancel));
  EXPECT_EQ(d.counters().actions, 0u);
  ASSERT_FALSE(d.apply(register_step(0)));
  EXPECT_FALSE(d.apply(cancel));  // the order is still unknown
  EXPECT_EQ(d.counters().actions, 1u);
}

TEST(StressRun, AMarketRunIsDeterministicAndReplaysToTheSameOutcome) {
  MarketCase m = case_named("fast-rounds");
  MarketRun a = run_market(m, 42, 1'500);
  MarketRun b = run_market(m, 42, 1'500);
  ASSERT_EQ(a.steps.size(), b.steps.size());
  EXPECT_EQ(format_counters(a.counters), format_counters(b.counters));
  EXPECT_GT(a.counters.rounds, 0u);
  std::optional<Violation> again = replay(m, a.steps);
  EXPECT_EQ(again.has_value(), a.violation.has_value());
  if (again && a.violation) {
    EXPECT_EQ(again->check, a.violation->check);
  }
  MarketRun other = run_market(m, 43, 1'500);
  EXPECT_NE(format_counters(a.counters), format_counters(other.counters));
}

// Shrinking on an extra property that real runs violate: "nobody defaults". The minimal list
// still violates it, is far shorter, and its reproducer is C++ against the Exchange API.
TEST(StressShrink, ShrinksARunToAMinimalPasteableReproducer) {
  MarketCase m = case_named("fast-rounds");
  Checks checks;
  checks.extra = [](const market::Exchange& ex) -> std::optional<std::string> {
    for (std::uint32_t i = 1; i < ex.account_count(); ++i) {
      if (ex.account(AccountId{i})->status != AccountStatus::kActive) {
        return "account " + std::to_string(i) + " defaulted";
      }
    }
    return std::nullopt;
  };
  std::optional<MarketRun> failing;
  for (std::uint64_t seed = 1; seed < 40 && !failing; ++seed) {
    MarketRun r = run_market(m, seed, 3'000, checks);
    if (r.violation && r.violation->check == "extra") failing = std::move(r);
  }
  ASSERT_TRUE(failing) << "no run defaulted anyone";
  // Out of time at once: nothing is removed.
  EXPECT_EQ(shrink(m, failing->steps, "extra", checks, nullptr, 0).size(), failing->steps.size());
  std::size_t replays = 0;
  std::vector<Step> minimal = shrink(m, failing->steps, "extra", checks, &replays);
  std::optional<Violation> v = replay(m, minimal, checks);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->check, "extra");
  EXPECT_LT(minimal.size(), failing->steps.size());
  EXPECT_LE(minimal.size(), 12u);  // register, deposit, trade, time to the window's close
  // 1-minimal: without any single step the property holds.
  for (std::size_t i = 0; i < minimal.size(); ++i) {
    std::vector<Step> fewer = minimal;
    fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(i));
    std::optional<Violation> w = replay(m, fewer, checks);
    EXPECT_FALSE(w && w->check == "extra") << "step " << i << " is not needed";
  }
  std::string code = reproducer(m, minimal, checks, "Defaults");
  EXPECT_NE(code.find("TEST(MarketStress, Defaults) {"), std::string::npos);
  EXPECT_NE(code.find("Exchange ex = *Exchange::open(s, Price(1000), LedgerTime(0));"),
            std::string::npos);
  EXPECT_NE(code.find("(void)ex.register_account(LedgerTime("), std::string::npos);
  EXPECT_NE(code.find("// violated: extra: account "), std::string::npos);
  EXPECT_GT(replays, 0u);
}

TEST(StressRun, IgnoredChecksAreCountedAndDoNotStopTheRun) {
  MarketCase m = case_named("small");
  Checks checks;
  checks.extra = [](const market::Exchange& ex) -> std::optional<std::string> {
    if (ex.trade_count() > 0) return "traded";
    return std::nullopt;
  };
  MarketRun stopped = run_market(m, 7, 800, checks);
  ASSERT_TRUE(stopped.violation);
  checks.ignored.insert("extra");
  MarketRun counted = run_market(m, 7, 800, checks);
  EXPECT_FALSE(counted.violation && counted.violation->check == "extra");
  EXPECT_GT(counted.ignored_counts["extra"], 0u);
  EXPECT_GT(counted.steps.size(), stopped.steps.size());
}

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* env = std::getenv(name);
  return env != nullptr ? std::strtoull(env, nullptr, 10) : fallback;
}

// The bounded run CI does: a fixed number of markets (PFEX_STRESS_MARKETS; about a minute in the
// release build, fewer under the sanitizers), so it is the same run every time; the time limit
// (PFEX_STRESS_SECONDS) only guards a very slow machine. Every rule must hold; a violation prints
// its shrunk reproducer.
TEST(StressRun, BoundedRunKeepsEveryRule) {
  StressOptions options;
  options.max_markets = env_or("PFEX_STRESS_MARKETS", 300);
  options.seconds = static_cast<double>(env_or("PFEX_STRESS_SECONDS", 600));
  options.seed = 20260101;
  StressReport r = run_stress(options);
  std::printf("stress: %.1f s, %s\n", r.seconds, format_counters(r.counters).c_str());
  for (const auto& [check, n] : r.ignored_counts) {
    std::printf("known, not stopping the run: %s %llu times\n", check.c_str(),
                static_cast<unsigned long long>(n));
  }
  for (const Finding& f : r.findings) {
    ADD_FAILURE() << "violated " << f.violation.check << " on " << f.market << " (market seed "
                  << f.seed << ", shrunk from " << f.original_steps << " to " << f.minimal.size()
                  << " steps): " << f.violation.detail << "\n"
                  << f.code;
  }
  // The run reached every path it is meant to stress.
  const Counters& c = r.counters;
  EXPECT_GT(c.markets, 10u);
  EXPECT_GT(c.halts_volume, 0u);
  EXPECT_GT(c.halts_standing, 0u);
  EXPECT_GT(c.halts_scheduled, 0u);
  EXPECT_GT(c.defaults, 0u);
  EXPECT_GT(c.liquidations_completed, 0u);
  EXPECT_GT(c.liquidations_partial + c.liquidations_kept, 0u);
  EXPECT_GT(c.exits, 0u);
  EXPECT_GT(c.refreshes_at_call, 0u);
  EXPECT_GT(c.refreshes_one_short, 0u);
  EXPECT_GT(c.registrations_in_window, 0u);
  EXPECT_GT(c.replaces, 0u);
  EXPECT_GT(c.final_settlements, 0u);
}

// Found by the stress run (then fund-negative-after-settlement-no-gross), by hand to 16 actions:
// the fund keeps one of a defaulter's two shorts, buys it back an epoch later at the next band's
// edge, 53 ticks above its mark, and owes the defaulter's round its equity at the batch's price
// 10.50, 1,700 (the claim at exit is 1,690 after the penalty 2 * 5). The levy of the next round,
// 424 per contract on G_prev = 1, meets a survivor who is already flat: it collects nothing, and at
// the final settlement no survivor holds a position to levy per contract. The rest is a haircut on
// the survivors' equity: the buyer, the only survivor, pays the whole 424.
TEST(StressFinalLevy, FundDoesNotEndNegativeWhenNoSurvivorHoldsAPosition) {
  using namespace market;                     // NOLINT(google-build-using-namespace)
  ContractSpec s = case_named("small").spec;  // k = 10, f = 1, band 5%, M = 850, rounds every 120 s
  s.resolution_ms = 1;  // the fund takes the defaulter over 1 ms after the close
  Exchange ex = *Exchange::open(s, Price(1000), LedgerTime(0));
  AccountId buyer = *ex.register_account(LedgerTime(0));
  AccountId shorter = *ex.register_account(LedgerTime(0));
  ASSERT_TRUE(ex.deposit(LedgerTime(0), buyer, Cash(100'000)).is_ok());
  ASSERT_TRUE(ex.deposit(LedgerTime(0), shorter, Cash(2'702)).is_ok());  // E_H = 0 after its sell
  ASSERT_TRUE(ex.submit(LedgerTime(1'000), shorter,
                        OrderRequest{Side::kSell, OrderType::kLimit, Price(1000), Qty(2)})
                  .is_ok());
  ASSERT_TRUE(
      ex.submit(LedgerTime(1'000), buyer,
                OrderRequest{Side::kBuy, OrderType::kImmediateOrCancel, Price(1000), Qty(2)})
          .is_ok());
  // Rounds at 120, 240 and 360 s: the buyer refreshes, the short does not and defaults at 180 s.
  ASSERT_TRUE(ex.refresh(LedgerTime(121'000), buyer, Cash(0)).is_ok());
  ex.advance(LedgerTime(180'001));
  ASSERT_EQ(ex.fund().position, -2);
  ASSERT_EQ(ex.submit(LedgerTime(185'000), buyer,
                      OrderRequest{Side::kSell, OrderType::kImmediateOrCancel, Price(1050), Qty(1)})
                ->filled,
            Qty(1));  // the fund keeps the other one, marked at 1050
  ASSERT_TRUE(ex.refresh(LedgerTime(241'000), buyer, Cash(0)).is_ok());
  ex.advance(LedgerTime(300'000));  // epoch 2, band [997, 1103]: the fund bids at 1103
  ASSERT_EQ(ex.submit(LedgerTime(305'000), buyer,
                      OrderRequest{Side::kSell, OrderType::kImmediateOrCancel, Price(1103), Qty(1)})
                ->filled,
            Qty(1));
  // Levy 424 per contract on G_prev = 1; the buyer is flat: its refresh pays nothing.
  ASSERT_TRUE(ex.refresh(LedgerTime(361'000), buyer, Cash(0)).is_ok());
  ex.advance(LedgerTime(420'000));
  const std::int64_t buyer_cash = ex.account(buyer)->cash.value();
  ASSERT_TRUE(ex.settle_final(LedgerTime(421'000), Price(1050)).is_ok());
  std::optional<ShortfallHaircut> haircut;
  for (const Event& e : ex.events()) {
    if (const auto* h = std::get_if<ShortfallHaircut>(&e.body)) haircut = *h;
  }
  ASSERT_TRUE(haircut);
  EXPECT_EQ(haircut->remainder, Cash(424));
  EXPECT_EQ(haircut->survivors_equity, Cash(buyer_cash));
  EXPECT_EQ(haircut->uncovered, Cash(0));
  EXPECT_EQ(ex.account(buyer)->cash.value(), buyer_cash - 424);
  Result<Cash> claim = ex.exit(LedgerTime(422'000), shorter);
  ASSERT_TRUE(claim.is_ok()) << claim.status().to_string();
  EXPECT_EQ(*claim, Cash(1690));
  // Before the haircut: -424; after the exit the penalty of 10, owed until the period lapses.
  EXPECT_EQ(ex.fund().cash, Cash(10));
}

}  // namespace
}  // namespace pfex::sim::stress
