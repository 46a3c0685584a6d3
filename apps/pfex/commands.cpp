#include "commands.hpp"

#include <fmt/format.h>

#include <string_view>

#include "sim/report.hpp"
#include "sim/scenario.hpp"
#include "sim/stress.hpp"

namespace pfex::cli {

extern const std::string_view kDemoScenario;

namespace {

void print_tables(const market::Exchange& ex, const sim::Names& names) {
  fmt::print("\n{}\n\nBook\n{}\nAccounts (margin and E_L/E_H in the current band)\n{}\n",
             sim::market_line(ex), sim::book_table(ex), sim::accounts_table(ex, names));
}

}  // namespace

int narrate_scenario(const sim::Scenario& sc, sim::Venue& venue, const RunOptions& options,
                     std::optional<sim::ScenarioRun>* out) {
  sim::ScenarioObserver observer;
  if (options.verbose) {
    fmt::print("== {}\n{}\n", sc.name, sc.description);
    observer.before_step = [](const sim::Step& s) {
      if (!s.note.empty()) fmt::print("\n-- {}\n", s.note);
    };
    observer.after_step = [](const sim::Step& s, const market::Exchange& ex,
                             std::span<const market::Event> events, const sim::Names& names,
                             const Status& outcome) {
      for (const market::Event& e : events)
        fmt::print("{}\n", sim::describe_event(ex, e, names));
      if (!outcome.is_ok()) {
        fmt::print("           rejected {} for {}: {}\n", s.action, s.trader, outcome.to_string());
      }
      if (s.action == "show") print_tables(ex, names);
    };
  }
  Result<sim::ScenarioRun> run = sim::run_scenario(sc, venue, observer);
  if (!run.is_ok()) {
    fmt::print(stderr, "pfex: {}\n", run.status().to_string());
    return 2;
  }
  if (options.verbose) {
    fmt::print("\nTrades (last 10)\n{}",
               sim::trades_table(run->exchange, venue.events(), run->names));
    if (sc.steps.empty() || sc.steps.back().action != "show")
      print_tables(run->exchange, run->names);
    fmt::print("state hash {}\n", to_hex(run->exchange.state_hash()));
  }
  if (options.json)
    fmt::print("{}\n", sim::outcome_json(run->exchange, venue.events(), run->names));
  for (const std::string& f : run->failures)
    fmt::print(stderr, "FAILED {}\n", f);
  const int code = run->failures.empty() ? 0 : 1;
  if (!run->failures.empty()) {
    fmt::print(stderr, "{}: {} expectation(s) failed\n", sc.name, run->failures.size());
  } else {
    std::size_t checks = 0;
    for (const sim::Step& s : sc.steps)
      checks += s.action == "expect" || s.expect_error;
    fmt::print("{}: {} steps, {} checks, all held\n", sc.name, run->steps_run, checks);
  }
  if (out) out->emplace(std::move(run).value());
  return code;
}

namespace {

int run(const sim::Scenario& sc, const RunOptions& options) {
  Result<market::Exchange> ex = market::Exchange::open(sc.contract, sc.reference, LedgerTime(0));
  if (!ex.is_ok()) {
    fmt::print(stderr, "pfex: {}\n", ex.status().to_string());
    return 2;
  }
  sim::ExchangeVenue venue(std::move(ex).value());
  return narrate_scenario(sc, venue, options, nullptr);
}

}  // namespace

Result<sim::Scenario> demo_scenario() {
  return sim::parse_scenario(kDemoScenario);
}

int run_demo(const RunOptions& options) {
  Result<sim::Scenario> sc = demo_scenario();
  if (!sc.is_ok()) {
    fmt::print(stderr, "pfex: the built-in demo is broken: {}\n", sc.status().to_string());
    return 2;
  }
  return run(*sc, options);
}

int run_scenario_file(const std::string& path, const RunOptions& options) {
  Result<sim::Scenario> sc = sim::load_scenario(path);
  if (!sc.is_ok()) {
    fmt::print(stderr, "pfex: {}\n", sc.status().to_string());
    return 2;
  }
  return run(*sc, options);
}

int list_contracts() {
  for (const char* name : {"lean-hog", "short-rate", "seed-example"}) {
    market::ContractSpec s = *market::contract_preset(name);
    fmt::print("{:<13} {:<5} {}\n", name, s.name, s.description);
    fmt::print(
        "{:<13} tick value {} {}, fee {}, band +-{:.2f}%, margin {:.2f}%, widening x{:.2f}\n", "",
        s.format_cash(s.tick_value), s.currency, s.format_cash(s.fee_per_contract),
        static_cast<double>(s.band_ppm) / 1e4, static_cast<double>(s.margin_ppm) / 1e4,
        static_cast<double>(s.widen_ppm) / 1e6);
  }
  return 0;
}

int run_stress(double seconds, std::uint64_t seed, bool shrink,
               const std::vector<std::string>& ignore) {
  sim::stress::StressOptions options;
  options.checks.ignored.insert(ignore.begin(), ignore.end());
  options.seconds = seconds;
  options.seed = seed;
  options.shrink = shrink;
  double next = 10;
  sim::stress::StressReport r =
      sim::stress::run_stress(options, [&](const sim::stress::StressReport& now) {
        if (now.seconds < next) return;
        next += 10;
        fmt::print(stderr, "[{:.0f} s] {}\n", now.seconds,
                   sim::stress::format_counters(now.counters));
      });
  fmt::print("stress: seed {}, {:.1f} s\n{}\n", seed, r.seconds,
             sim::stress::format_counters(r.counters));
  for (const auto& [check, n] : r.ignored_counts)
    fmt::print("ignored {}: {} times\n", check, n);
  for (const sim::stress::Finding& f : r.findings) {
    fmt::print(
        "\nVIOLATED {} on {} (market seed {}, step {} of {}, shrunk to {} steps in {} replays): "
        "{}\n{}",
        f.violation.check, f.market, f.seed, f.violation.step, f.original_steps, f.minimal.size(),
        f.replays, f.violation.detail, f.code);
  }
  return r.findings.empty() ? 0 : 1;
}

}  // namespace pfex::cli
