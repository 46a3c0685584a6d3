// `pfex demo --ledger file|etcd`: the demo scenario through real processes (a gateway and a
// validator process around the log; this process plays the traders' nodes). See ledger_demo.cpp
// and docs/node/cli.md.
#pragma once

#include <string>

#include "commands.hpp"

namespace pfex::cli {

struct LedgerDemoOptions {
  std::string ledger;  // "file" or "etcd"
  std::string etcd;    // client URLs, comma-separated (etcd)
  std::string dir;     // work directory (default: a new one under /tmp)
};

int run_ledger_demo(const LedgerDemoOptions& o, const RunOptions& options);
// The private demo (private_demo.hpp) through the same processes: every private transaction goes
// to the gateway over HTTP and comes back through this process's replica of the log.
int run_private_ledger_demo(const LedgerDemoOptions& o, const RunOptions& options, bool perturb);

}  // namespace pfex::cli
