// The pfex commands that run the exchange as processes around a log: `pfex market init`,
// `pfex validator`, `pfex gateway` and `pfex node ...`. See docs/node/cli.md.
#pragma once

#include <CLI/CLI.hpp>

namespace pfex::cli {

// Adds the commands to `app`. Each runs from its parse callback and ends the parse with
// CLI::RuntimeError carrying its exit code (0 success, 1 failure, 2 bad input).
void add_ledger_commands(CLI::App& app);

}  // namespace pfex::cli
