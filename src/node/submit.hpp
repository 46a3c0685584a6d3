// Submitting transactions to a gateway, directly or through a SOCKS5 proxy (RFC 1928, with the
// username/password method of RFC 1929). Through a proxy every submission opens a new connection
// with a fresh random username, so a Tor proxy puts each transaction on its own circuit (stream
// isolation) and transactions cannot be linked by connection. docs/node/submission.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "node/wallet.hpp"

namespace pfex::node {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};
// "host:port" (host: a name or an IPv4 literal).
Result<Endpoint> parse_endpoint(std::string_view text);

struct SubmitOptions {
  Endpoint gateway;
  std::optional<Endpoint> socks5;  // submit through this proxy
  // Fixed proxy credentials for a proxy that requires them (microsocks -u/-P); by default each
  // submission sends a fresh random username and password, which Tor accepts and isolates on.
  std::optional<std::pair<std::string, std::string>> proxy_credentials;
  std::chrono::milliseconds timeout{10'000};  // per connection, for every read and write
  std::chrono::milliseconds max_delay{0};     // wait a uniform random time up to this first
  // Demos and tests only: ask a gateway started with a scripted clock to stamp this ledger time
  // (header Pfex-Ledger-Time; docs/node/gateway.md). A normal gateway refuses the request.
  std::optional<LedgerTime> scripted_time;
};

struct Submitted {
  std::uint64_t sequence = 0;  // where the log put the transaction
  std::string proxy_username;  // what was sent to the proxy (empty when direct or no auth)
  bool proxy_used_auth = false;
};

// Sends one transaction to the gateway (POST /v1/tx) and returns its log sequence. A refusal of
// the transaction's bytes (HTTP 400) is invalid_argument with the gateway's reason; a refusal of
// the request (other 4xx, e.g. a scripted time a gateway does not take) is failed_precondition;
// network failures are io_error (the transaction may or may not be in the log: resubmitting is
// safe).
Result<Submitted> submit_transaction(ByteSpan tx, const SubmitOptions& options);

// Submits every pending transaction of the wallet in order, dropping each from pending once the
// gateway acknowledged it. Stops at the first failure; a transaction the gateway refused for
// good (invalid_argument) is dropped too, the others stay pending.
Result<std::vector<Submitted>> submit_pending(Wallet& wallet, const SubmitOptions& options);

}  // namespace pfex::node
