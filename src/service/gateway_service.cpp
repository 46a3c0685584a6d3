// The gateway process's loop; see gateway_service.hpp.
#include "service/gateway_service.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>

#include "core/hash.hpp"
#include "node/gateway.hpp"
#include "protocol/transaction.hpp"
#include "service/log_spec.hpp"

namespace pfex::service {

Status run_gateway(const GatewayCommand& o, const std::function<bool()>& stopped) {
  node::GatewayOptions options;
  options.host = o.host;
  options.port = o.port;
  if (!o.market.empty()) {
    auto id = from_hex(o.market);
    if (!id.is_ok() || id->size() != protocol::MarketId{}.size()) {
      return Status::invalid_argument("--market must be a market id: 64 hex digits");
    }
    options.market.emplace();
    std::copy(id->begin(), id->end(), options.market->begin());
  }
  std::function<LedgerTime()> clock;
  if (o.scripted_clock) {
    // The submitters say what time it is (pfex demo --ledger); the log keeps stamps monotonic.
    auto now = std::make_shared<std::atomic<std::int64_t>>(0);
    clock = [now] { return LedgerTime(now->load()); };
    options.scripted_clock = [now](LedgerTime t) { now->store(t.value()); };
  }
  PFEX_ASSIGN_OR_RETURN(auto log, open_log_writer(o.log, std::move(clock)));
  node::Gateway gateway(*log, std::move(options));
  PFEX_ASSIGN_OR_RETURN(const std::uint16_t port, gateway.start());
  fmt::print("gateway listening on {}:{} for log {}\n", o.host, port, o.log);
  std::fflush(stdout);
  while (!stopped())
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  gateway.stop();
  fmt::print("gateway stopped: {} appended, {} refused\n", gateway.appended(), gateway.refused());
  return Status::ok();
}

}  // namespace pfex::service
