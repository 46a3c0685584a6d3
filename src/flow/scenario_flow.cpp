// Recording a scenario's flow; see scenario_flow.hpp.
#include "flow/scenario_flow.hpp"

#include <utility>

namespace pfex::flow {
namespace {

// The in-process venue that writes down every action it applies, its own (registrations, first
// deposits, online refreshes) included.
class RecordingVenue final : public sim::ExchangeVenue {
 public:
  using sim::ExchangeVenue::ExchangeVenue;
  std::vector<TimedAction> take_flow() { return std::move(flow_); }

 private:
  Result<market::ActionResult> run(LedgerTime now, const market::Action& action) override {
    flow_.push_back(TimedAction{now, action});
    return sim::ExchangeVenue::run(now, action);
  }

  std::vector<TimedAction> flow_;
};

}  // namespace

Result<RecordedScenario> record_scenario(const sim::Scenario& scenario) {
  PFEX_ASSIGN_OR_RETURN(
      market::Exchange ex,
      market::Exchange::open(scenario.contract, scenario.reference, LedgerTime(0)));
  RecordingVenue venue(std::move(ex));
  PFEX_ASSIGN_OR_RETURN(sim::ScenarioRun run, sim::run_scenario(scenario, venue));
  return RecordedScenario{venue.take_flow(), std::move(run)};
}

}  // namespace pfex::flow
