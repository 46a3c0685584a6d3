// The gateway process's loop: opens the log for appending, serves POST /v1/tx until stopped and
// prints what it appended and refused. `pfex gateway` only parses its options into this.
// docs/node/gateway.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.hpp"

namespace pfex::service {

struct GatewayCommand {
  std::string log, host = "127.0.0.1";
  std::string market;  // hex market id; required on a log without a genesis
  std::uint16_t port = 0;
  bool scripted_clock = false;
};

Status run_gateway(const GatewayCommand& o, const std::function<bool()>& stopped);

}  // namespace pfex::service
