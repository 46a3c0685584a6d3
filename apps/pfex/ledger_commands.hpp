// The pfex commands that run the exchange as processes around a log (issue 6): `pfex market init`,
// `pfex validator`, `pfex gateway` and `pfex node ...`. See docs/node/cli.md.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string_view>

#include "ledger/etcd_log.hpp"

namespace pfex::cli {

// Adds the commands to `app`. Each runs from its parse callback and ends the parse with
// CLI::RuntimeError carrying its exit code (0 success, 1 failure, 2 bad input).
void add_ledger_commands(CLI::App& app);

// An etcd log from its client URLs, comma-separated, with or without the command line's "etcd:"
// prefix. `clock`: the appender's clock (empty: the system clock).
Result<std::unique_ptr<ledger::EtcdLog>> open_etcd(std::string_view spec,
                                                   std::function<LedgerTime()> clock = {});

}  // namespace pfex::cli
