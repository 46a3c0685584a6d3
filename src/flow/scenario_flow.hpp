// A scenario (sim/scenario.hpp, docs/scenarios.md) as the order flow the transparent exchange sees:
// every account opened, deposit, order step and what an online trader's node sends by itself (a
// refresh at each margin round), with its ledger time. The private run of the same flow goes
// through a FlowDriver (flow_driver.hpp).
#pragma once

#include <vector>

#include "core/status.hpp"
#include "flow/flow_driver.hpp"
#include "sim/scenario.hpp"

namespace pfex::flow {

struct RecordedScenario {
  std::vector<TimedAction> flow;
  sim::ScenarioRun run;  // the transparent run (its failures: expectations that did not hold)
};

// Runs the scenario on the transparent exchange and records its flow.
Result<RecordedScenario> record_scenario(const sim::Scenario& scenario);

}  // namespace pfex::flow
