#include "sim/scenario.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "sim/report.hpp"

namespace pfex::sim {
namespace {

std::string with_steps(const std::string& steps) {
  return R"({"name": "t", "contract": "seed-example", "reference_price": "13.00",
             "traders": [{"name": "a", "deposit": "1000.00"}, {"name": "b", "deposit": "1000.00"}],
             "steps": [)" +
         steps + "]}";
}

TEST(Scenario, RunsAndChecksExpectations) {
  Result<Scenario> sc = parse_scenario(with_steps(R"(
    {"at": 1, "action": "sell", "trader": "a", "price": "13.00", "qty": 2, "label": "x"},
    {"at": 2, "action": "buy", "trader": "b", "price": "13.00", "qty": 1},
    {"at": 2, "action": "expect", "trader": "a", "position": -1, "cash": "1013.00", "open_sell": 1},
    {"at": 3, "action": "cancel", "trader": "a", "order": "x"},
    {"at": 3, "action": "cancel", "trader": "a", "order": "x", "expect_error": "not found"},
    {"at": 4, "action": "expect", "trader": "a", "open_sell": 0, "trades": 1, "last_price": "13.00"}
  )"));
  ASSERT_TRUE(sc.is_ok()) << sc.status().to_string();
  Result<ScenarioRun> run = run_scenario(*sc);
  ASSERT_TRUE(run.is_ok());
  EXPECT_TRUE(run->failures.empty()) << run->failures[0];
  EXPECT_EQ(run->steps_run, 6u);
}

// The step `reduce` keeps the order (its label still names it); a market order may name its
// reservation price; an unrefreshed trader's deposit in a margin round goes with its refresh.
TEST(Scenario, ReduceMarketReservationAndDepositWithTheRefresh) {
  Result<Scenario> sc = parse_scenario(R"({"name": "t",
      "contract": {"preset": "seed-example", "settlement_interval_s": 1000},
      "reference_price": "13.00",
      "traders": [{"name": "a", "deposit": "1000.00"},
                  {"name": "b", "deposit": "1000.00", "online": false}],
      "steps": [
    {"at": 1, "action": "sell", "trader": "a", "price": "13.00", "qty": 5, "label": "x"},
    {"at": 2, "action": "reduce", "trader": "a", "order": "x", "qty": 2},
    {"at": 2, "action": "expect", "trader": "a", "open_sell": 3},
    {"at": 2, "action": "reduce", "trader": "a", "order": "x", "qty": 4,
     "expect_error": "invalid argument"},
    {"at": 3, "action": "buy", "trader": "b", "type": "market", "price": "12.99", "qty": 1},
    {"at": 3, "action": "expect", "trader": "b", "position": 0, "trades": 0},
    {"at": 4, "action": "buy", "trader": "b", "type": "market", "price": "13.00", "qty": 1},
    {"at": 4, "action": "expect", "trader": "b", "position": 1, "open_sell": 0},
    {"at": 1001, "action": "deposit", "trader": "b", "amount": "5.00",
     "expect_error": "failed precondition"},
    {"at": 1001, "action": "refresh", "trader": "b", "amount": "5.00"},
    {"at": 1002, "action": "deposit", "trader": "b", "amount": "5.00"}
  ]})");
  ASSERT_TRUE(sc.is_ok()) << sc.status().to_string();
  Result<ScenarioRun> run = run_scenario(*sc);
  ASSERT_TRUE(run.is_ok());
  EXPECT_TRUE(run->failures.empty()) << run->failures[0];
}

TEST(Scenario, ReportsEveryUnmetExpectation) {
  Result<Scenario> sc = parse_scenario(with_steps(R"(
    {"at": 1, "action": "buy", "trader": "a", "price": "13.00", "qty": 1},
    {"at": 1, "action": "expect", "trader": "a", "open_buy": 2, "cash": "999.00"},
    {"at": 1, "action": "buy", "trader": "a", "price": "99.00", "qty": 1},
    {"at": 1, "action": "buy", "trader": "a", "price": "13.00", "qty": 1, "expect_error": "insolvent"}
  )"));
  ASSERT_TRUE(sc.is_ok()) << sc.status().to_string();
  Result<ScenarioRun> run = run_scenario(*sc);
  ASSERT_TRUE(run.is_ok());
  ASSERT_EQ(run->failures.size(), 4u);
  EXPECT_EQ(run->failures[0], "step 1: a cash is 1000.00, expected 999.00");
  EXPECT_EQ(run->failures[1], "step 1: a open buy is 1, expected 2");
  EXPECT_NE(run->failures[2].find("step 2 (buy a): invalid argument: price 99.00"),
            std::string::npos);
  EXPECT_EQ(run->failures[3], "step 3 (buy a): expected a insolvent error, but it succeeded");
}

TEST(Scenario, MalformedFilesAreClearErrors) {
  struct Case {
    std::string json;
    std::string message;
  };
  std::vector<Case> cases = {
      {"{", "scenario is not valid JSON"},
      {with_steps(R"({"action": "buy", "trader": "zed", "price": "13.00", "qty": 1})"),
       "step 0 (buy): \"trader\" names no trader of the scenario"},
      {with_steps(R"({"action": "buy", "trader": "a", "price": "13.001", "qty": 1})"),
       "step 0 (buy): price \"13.001\" has more than 2 decimal places"},
      {with_steps(R"({"action": "buy", "trader": "a", "price": "13.00", "qty": 1, "colour": 1})"),
       "step 0 (buy): unknown field \"colour\""},
      {with_steps(R"({"action": "jump"})"), "step 0: unknown action \"jump\""},
      {with_steps(R"({"at": 5, "action": "advance"}, {"at": 4, "action": "advance"})"),
       "step 1: \"at\" goes back in time"},
      {with_steps(R"({"action": "buy", "trader": "a", "price": "13.00", "qty": "1"})"),
       "step 0 (buy): \"qty\" must be an integer"},
      // Names come from the market's one table (market/names.hpp), spelt one way.
      {with_steps(R"({"action": "buy", "trader": "a", "price": "13.00", "qty": 1,
                      "type": "post_only"})"),
       "unknown order type \"post_only\" (limit, ioc, fok, post-only, market)"},
      {with_steps(R"({"action": "expect", "phase": "refresh window"})"),
       "step 0 (expect): \"phase\" must be one of trading, refresh-window, closed"},
      {with_steps(R"({"action": "expect", "trader": "a", "status": "DEFAULTED"})"),
       "step 0 (expect): \"status\" must be one of active, defaulted, exited"},
  };
  for (const Case& c : cases) {
    Result<Scenario> sc = parse_scenario(c.json);
    ASSERT_FALSE(sc.is_ok()) << c.message;
    EXPECT_NE(sc.status().message().find(c.message), std::string_view::npos)
        << sc.status().message();
  }
}

TEST(Scenario, SeedExampleFilePassesAndIsDeterministic) {
  const char* root = PFEX_SOURCE_DIR;
  Result<Scenario> sc = load_scenario(std::string(root) + "/scenarios/seed-example.json");
  ASSERT_TRUE(sc.is_ok()) << sc.status().to_string();
  Result<ScenarioRun> a = run_scenario(*sc);
  Result<ScenarioRun> b = run_scenario(*sc);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_TRUE(a->failures.empty()) << a->failures[0];
  EXPECT_EQ(a->exchange.state_hash(), b->exchange.state_hash());
  EXPECT_EQ(outcome_json(a->exchange, a->names), outcome_json(b->exchange, b->names));
  EXPECT_EQ(load_scenario("/nonexistent.json").status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace pfex::sim
