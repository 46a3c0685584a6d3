// Submitting transactions to a gateway, directly or through a SOCKS5 proxy (RFC 1928, with the
// username/password method of RFC 1929). Through a proxy every submission opens a new connection
// with a fresh random username, so a Tor proxy puts each transaction on its own circuit (stream
// isolation) and transactions cannot be linked by connection. docs/node/submission.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "ledger/log.hpp"
#include "node/wallet.hpp"
#include "protocol/ledger_replica.hpp"

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

// The start of the message of submit_transaction's kInvalidArgument for a gateway's HTTP 400.
inline constexpr std::string_view kGatewayRefused = "gateway refused the transaction: ";
// Whether `s` is a gateway's refusal of the transaction's bytes (HTTP 400), not a local error.
inline bool gateway_refused(const Status& s) {
  return s.code() == ErrorCode::kInvalidArgument && s.message().starts_with(kGatewayRefused);
}

// Sends one transaction to the gateway (POST /v1/tx) and returns its log sequence. A refusal of
// the transaction's bytes (HTTP 400) is invalid_argument with the gateway's reason; a refusal of
// the request (other 4xx, e.g. a scripted time a gateway does not take) is failed_precondition,
// except 409 (the log already decides these bytes: they are in it, or their sequence number is
// used), which is already_exists;
// network failures are io_error (the transaction may or may not be in the log: resubmitting is
// safe).
Result<Submitted> submit_transaction(ByteSpan tx, const SubmitOptions& options);

// Submits every pending transaction of the wallet in order. It stops at the first failure of
// the network or of the request (the order of a wallet's transactions is kept), but goes on past
// a transaction whose bytes a gateway refused (invalid_argument, returned once the rest are
// sent) or that the log already decides (already_exists, left to settle_pending), so that one
// refused transaction cannot block every later one. It drops nothing from pending: neither an
// acknowledgement nor a refusal proves what the log holds (a proxy or a forged reply can say
// anything), so a transaction leaves pending only through settle_pending, on what the node's own
// replica read from the log.
Result<std::vector<Submitted>> submit_pending(const Wallet& wallet, const SubmitOptions& options);

// One pending transaction the log settled.
struct Settled {
  Bytes tx;
  std::uint64_t tx_sequence = 0;  // the signer's sequence number it carries
  // The log entry that holds its bytes; nullopt when it was not among the entries seen but the
  // replica shows its sequence number used (by it earlier, or by another transaction).
  std::optional<std::uint64_t> log_sequence;
};

// Drops from the wallet's pending list (and saves) every transaction the log has settled, with
// proof from the node's own replica: its exact bytes are one of `new_entries` (the entries just
// applied to `replica`, so it was seen in the log whether accepted or rejected), or `replica`
// shows the signer's sequence number at or past the transaction's (every authentic transaction
// uses its number, so this one is in the log already or can never be applied). Call it after
// each batch applied to the replica. Returns what it dropped, in pending order.
Result<std::vector<Settled>> settle_pending(Wallet& wallet, const protocol::LedgerReplica& replica,
                                            std::span<const ledger::LogEntry> new_entries);

}  // namespace pfex::node
