// The following validator as a service: restores the newest snapshot, follows the log, applies
// every entry, snapshots, serves the read API, and prints the state hash. `pfex validator` only
// parses its options and signals into this. docs/node/cli.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.hpp"

namespace pfex::service {

struct ValidatorOptions {
  std::string log, snapshots;
  std::string name;    // etcd: records this validator's snapshots under this name
  bool prune = false;  // etcd: after each snapshot, delete what every validator's snapshot covers
  std::uint64_t snapshot_every = 10'000;
  unsigned threads = 2;
  std::uint16_t http_port = 0;  // 0: no read API
  bool once = false;
  bool book = false;
};

// How the process around the service talks to it (signals, in pfex).
struct ValidatorControl {
  std::function<bool()> stopped;             // polled: stop, snapshot and print the state
  std::function<bool()> take_print_request;  // polled: print the state now
};

// Runs until caught up (`once`) or until `control.stopped()`; prints to stdout.
Status run_validator(const ValidatorOptions& o, const ValidatorControl& control);

}  // namespace pfex::service
