// pfex: the command line of the exchange. Today it runs the transparent exchange: the demo,
// scenario files, and the contract presets. See README.md.
#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "ledger_commands.hpp"
#include "ledger_demo.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "pfex: a futures exchange with no operator.\n"
      "Traders keep cash and positions secret, orders are public, and every action proves the\n"
      "trader stays solvent. This build runs the transparent exchange (public accounts), the\n"
      "reference the private protocol must reproduce: in one process (demo, scenario) or as\n"
      "processes around a log (market, gateway, node, validator; see docs/node/cli.md).\n"};
  app.require_subcommand(1);

  pfex::cli::RunOptions options;
  bool quiet = false;

  CLI::App* demo = app.add_subcommand(
      "demo",
      "Run a short session: traders, a circuit breaker, a margin round, a default and its "
      "liquidation by the insurance fund, with tables of the book, trades and accounts");
  demo->add_flag("-q,--quiet", quiet, "Print only the result line");
  demo->add_flag("--json", options.json, "Print the final state as JSON");
  pfex::cli::LedgerDemoOptions ledger_demo;
  demo->add_option("--ledger", ledger_demo.ledger,
                   "Run it through real processes around a log: file (embedded FileLog) or etcd")
      ->check(CLI::IsMember({"file", "etcd"}));
  demo->add_option("--etcd", ledger_demo.etcd, "With --ledger etcd: the cluster's client URLs");
  demo->add_option("--dir", ledger_demo.dir,
                   "With --ledger: work directory (log, process output, snapshots)");

  CLI::App* scenario = app.add_subcommand("scenario", "Scenario files (see docs/scenarios.md)");
  scenario->require_subcommand(1);
  std::string path;
  CLI::App* run =
      scenario->add_subcommand("run",
                               "Run a scenario file, print what happens and check its expectations "
                               "(exit 1 if one fails)");
  run->add_option("FILE", path, "The scenario, e.g. scenarios/seed-example.json")
      ->required()
      ->check(CLI::ExistingFile);
  run->add_flag("-q,--quiet", quiet, "Print only failures and the result line");
  run->add_flag("--json", options.json, "Print the final state as JSON");

  app.add_subcommand("contracts", "List the contract presets and their parameters");
  double stress_seconds = 10;
  std::uint64_t stress_seed = 1;
  bool no_shrink = false;
  CLI::App* stress = app.add_subcommand(
      "stress", "Adversarial stress test of the exchange's rules; prints counts and reproducers");
  stress->add_option("--seconds", stress_seconds, "How long to run (default 10)")
      ->check(CLI::PositiveNumber);
  stress->add_option("--seed", stress_seed, "Seed of the generated markets (default 1)");
  stress->add_flag("--no-shrink", no_shrink, "Print violations unshrunk");
  std::vector<std::string> stress_ignore;
  stress->add_option("--ignore", stress_ignore,
                     "Count violations of these rules but keep going (known defects)");
  pfex::cli::add_ledger_commands(app);

  CLI11_PARSE(app, argc, argv);
  options.verbose = !quiet;
  if (app.got_subcommand("demo")) {
    if (!ledger_demo.ledger.empty()) return pfex::cli::run_ledger_demo(ledger_demo, options);
    return pfex::cli::run_demo(options);
  }
  if (run->parsed()) return pfex::cli::run_scenario_file(path, options);
  if (stress->parsed())
    return pfex::cli::run_stress(stress_seconds, stress_seed, !no_shrink, stress_ignore);
  return pfex::cli::list_contracts();
}
