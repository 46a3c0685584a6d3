// The submission gateway (`pfex gateway`): accepts transaction bytes over HTTP and appends them
// to the log. It stores nothing itself and cannot alter a transaction unnoticed (the validators
// check every signature); its checks only keep obvious junk out of the log. The HTTP interface
// is in docs/node/gateway.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "ledger/log.hpp"

namespace httplib {
class Server;
struct Response;
}  // namespace httplib

namespace pfex::node {

struct GatewayOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  std::uint16_t port = 0;          // 0: any free port
  // Also verify the Ed25519 signature before appending (stateless; ~70 us per transaction).
  bool verify_signatures = true;
  // Demos and tests only. When set, a request may carry the header `Pfex-Ledger-Time: <ms>`; the
  // gateway passes the time here before appending (the caller's log clock then stamps it: a
  // scripted clock, which never goes backwards). When unset, such a request is refused (400).
  std::function<void(LedgerTime)> scripted_clock;
};

// What a gateway checks before appending: size, strict decoding of the envelope and the action,
// and (when asked) the signature. It cannot check sequences or accounts: it keeps no state.
Status check_submission(ByteSpan tx, bool verify_signature);

class Gateway {
 public:
  // `log` must outlive the Gateway.
  Gateway(ledger::Log& log, GatewayOptions options);
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;
  ~Gateway();  // stops

  // Binds and serves on a background thread; returns the port.
  Result<std::uint16_t> start();
  // Stops serving and joins the thread (idempotent).
  void stop();

  std::uint64_t appended() const { return appended_; }
  std::uint64_t refused() const { return refused_; }

 private:
  void append_and_answer(ByteSpan tx, httplib::Response& res);

  ledger::Log& log_;
  GatewayOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<std::uint64_t> appended_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::mutex scripted_mutex_;
};

}  // namespace pfex::node
