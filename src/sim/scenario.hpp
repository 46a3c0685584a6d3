// Scenarios: JSON files that drive an exchange with a scripted order flow (traders, deposits,
// orders, cancels, margin calls, ledger time) and state what must come out. The transparent
// exchange runs them here; the private protocol will run the very same files, and the two outcomes
// must agree. The format is documented in docs/scenarios.md.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "market/action.hpp"
#include "market/contract.hpp"
#include "market/exchange.hpp"

namespace pfex::sim {

struct Trader {
  std::string name;
  Cash deposit;
  bool online = true;  // refreshes by itself at margin rounds
};

// What an `expect` step checks; every field is optional. Trader fields need `trader`.
struct Expectation {
  // market
  std::optional<std::string> phase;  // "trading", "refresh-window", "closed"
  std::optional<std::uint32_t> epoch;
  std::optional<Price> reference, band_low, band_high;
  std::optional<Cash> margin;
  std::optional<Price> best_bid, best_ask, last_price;
  std::optional<std::uint64_t> trades;
  std::optional<Cash> fund_cash;
  std::optional<std::int64_t> fund_position;
  // one trader
  std::optional<Cash> cash;
  std::optional<std::int64_t> position;
  std::optional<std::string> status;  // "active", "defaulted", "exited"
  std::optional<bool> refreshed;
  std::optional<Qty> open_buy, open_sell;
  std::optional<Cash> margin_call;  // the amount of the trader's latest margin call
};

// One scripted step. `action` is one of: buy, sell, cancel, replace, reduce, deposit, withdraw,
// refresh, exit, online, advance, settle, expect, show, note.
struct Step {
  std::int64_t at_ms = 0;
  std::string action;
  std::string trader;
  std::string note;                         // printed before the step when narrating
  std::optional<std::string> label;         // names the order an order step creates
  std::optional<std::string> order;         // label of the order to cancel or replace
  market::OrderRequest request;             // buy, sell, replace; reduce: qty taken off
  Cash amount;                              // deposit, withdraw, refresh
  bool flag = false;                        // online
  Price price;                              // settle
  std::optional<std::string> expect_error;  // the action must fail with this error code name
  Expectation expect;                       // expect
  std::size_t index = 0;                    // position in the file, for messages
};

struct Scenario {
  std::string name;
  std::string description;
  market::ContractSpec contract;
  Price reference;
  std::vector<Trader> traders;
  std::vector<Step> steps;
};

Result<Scenario> parse_scenario(std::string_view json_text);
Result<Scenario> load_scenario(const std::string& path);

// What a run produced: the exchange in its final state, trader names by account id, and every
// expectation that did not hold (empty when the scenario passed).
struct ScenarioRun {
  market::Exchange exchange;
  std::vector<std::string> names;  // names[account id]; [0] = "fund"
  std::vector<std::string> failures;
  std::size_t steps_run = 0;
};

// Hooks for a narrating client (the demo, `scenario run --verbose`): called before each step and
// after it with the events it produced.
struct ScenarioObserver {
  std::function<void(const Step&)> before_step;
  std::function<void(const Step&, const market::Exchange&, std::span<const market::Event>,
                     const std::vector<std::string>& names, const Status& outcome)>
      after_step;
};

// Where a scenario's actions take effect. The runner turns every step into a market Action and
// hands it to a Venue: an Exchange in this process (run_scenario below), or a ledger behind real
// processes (`pfex demo --ledger`, src/service/ledger_venue.hpp). Expectations are checked against
// the venue's exchange(), so the same file checks both.
class Venue {
 public:
  Venue() = default;
  Venue(const Venue&) = delete;
  Venue& operator=(const Venue&) = delete;
  virtual ~Venue() = default;

  // The exchange as this venue sees it now (for a ledger: a replica of the log).
  virtual const market::Exchange& exchange() const = 0;
  // Every event since the market opened, in order (a replica's exchange keeps none itself).
  virtual std::span<const market::Event> events() const = 0;
  // Opens the trader's account at the market's start with its first deposit. An online trader's
  // node refreshes by itself at margin rounds; an offline one does not.
  virtual Result<market::AccountId> add_trader(const Trader& trader) = 0;
  // Applies one action at ledger time `now` (never earlier than the previous one). Trader actions
  // name the trader's account; AdvanceAction and SettleFinalAction are the issuer's.
  virtual Result<market::ActionResult> apply(LedgerTime now, const market::Action& action) = 0;
  // The scenario's `online` step.
  virtual Status set_online(market::AccountId account, bool online) = 0;
};

// The in-process venue: one Exchange, opened at ledger time 0. Every action it applies (a
// trader's registration and first deposit, the scenario's steps, an online node's refresh) goes
// through run(), the one place a derived venue observes them (flow/scenario_flow.cpp records the
// flow there).
class ExchangeVenue : public Venue {
 public:
  explicit ExchangeVenue(market::Exchange exchange) : exchange_(std::move(exchange)) {}
  const market::Exchange& exchange() const final { return exchange_; }
  std::span<const market::Event> events() const final { return exchange_.events(); }
  Result<market::AccountId> add_trader(const Trader& trader) final;
  Result<market::ActionResult> apply(LedgerTime now, const market::Action& action) final;
  Status set_online(market::AccountId account, bool online) final;

 protected:
  // Applies one action to the exchange at ledger time `now`.
  virtual Result<market::ActionResult> run(LedgerTime now, const market::Action& action);

 private:
  // What an online trader's node does when it sees a margin round: refresh with no deposit (an
  // account short of margin stays called until its deposit).
  void refresh_online(LedgerTime now);

  market::Exchange exchange_;
  std::map<std::uint32_t, bool> online_;  // by account id
};

// Runs every step against `venue`. A malformed scenario is an error; unmet expectations are
// reported in ScenarioRun::failures (the run continues so that every failure is listed).
// ScenarioRun::exchange is a copy of the venue's exchange at the end.
Result<ScenarioRun> run_scenario(const Scenario& scenario, Venue& venue,
                                 const ScenarioObserver& observer = {});
// The same on an ExchangeVenue opened from the scenario's contract and reference price.
Result<ScenarioRun> run_scenario(const Scenario& scenario, const ScenarioObserver& observer = {});

}  // namespace pfex::sim
