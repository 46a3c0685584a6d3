// Recording a scenario's flow; see scenario_flow.hpp.
#include "flow/scenario_flow.hpp"

#include <map>
#include <utility>

namespace pfex::flow {
namespace {

// The in-process venue (sim::ExchangeVenue's rules) that writes down every action it applies.
class RecordingVenue final : public sim::Venue {
 public:
  explicit RecordingVenue(market::Exchange exchange) : exchange_(std::move(exchange)) {}
  const market::Exchange& exchange() const override { return exchange_; }
  std::span<const market::Event> events() const override { return exchange_.events(); }

  Result<market::AccountId> add_trader(const sim::Trader& t) override {
    PFEX_ASSIGN_OR_RETURN(market::ActionResult r, run(LedgerTime(0), market::RegisterAction{}));
    const market::AccountId id = *r.account;
    if (t.deposit.value() > 0) {
      PFEX_ASSIGN_OR_RETURN(market::ActionResult d,
                            run(LedgerTime(0), market::DepositAction{id, t.deposit}));
      (void)d;
    }
    online_[id.value] = t.online;
    return id;
  }

  Result<market::ActionResult> apply(LedgerTime now, const market::Action& action) override {
    Result<market::ActionResult> r = run(now, action);
    refresh_online(exchange_.time());
    return r;
  }

  Status set_online(market::AccountId account, bool online) override {
    auto it = online_.find(account.value);
    if (it == online_.end()) {
      return Status::not_found("no trader for account " + std::to_string(account.value));
    }
    it->second = online;
    refresh_online(exchange_.time());
    return Status::ok();
  }

  std::vector<TimedAction> take_flow() { return std::move(flow_); }

 private:
  Result<market::ActionResult> run(LedgerTime now, const market::Action& action) {
    flow_.push_back(TimedAction{now, action});
    return market::apply_action(exchange_, now, action);
  }

  // An online trader's node refreshes with no deposit as soon as it sees a margin round.
  void refresh_online(LedgerTime now) {
    if (exchange_.phase() != market::Phase::kRefreshWindow) return;
    for (const auto& [id, online] : online_) {
      Result<market::Account> a = exchange_.account(market::AccountId{id});
      if (!online || !a.is_ok() || a->status != market::AccountStatus::kActive || a->refreshed) {
        continue;
      }
      (void)run(now, market::RefreshAction{market::AccountId{id}, Cash(0)});
    }
  }

  market::Exchange exchange_;
  std::map<std::uint32_t, bool> online_;
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
