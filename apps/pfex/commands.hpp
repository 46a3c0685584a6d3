// The pfex command line's commands. Each returns the process exit code: 0 on success, 1 when a
// scenario's expectations failed, 2 on bad input (the message says what to fix).
#pragma once

#include <string>

namespace pfex::cli {

struct RunOptions {
  bool verbose = true;  // print every event and the tables at `show` steps
  bool json = false;    // print the outcome as JSON at the end
};

int run_demo(const RunOptions& options);
int run_scenario_file(const std::string& path, const RunOptions& options);
int list_contracts();

}  // namespace pfex::cli
