// The submission gateway (`pfex gateway`): accepts transaction bytes over HTTP and appends them
// to the log. It cannot alter a transaction unnoticed (the validators check every signature); its
// checks keep junk out of the log: before appending, it checks what is cheap against its own
// replica of the log (DESIGN section 5 in docs/design.md): the market id, the signature, the
// signer's sequence number and whether the same bytes are already in the log; in a private market,
// the private ledger's rules (serial unseen, window, order state, sequence, ...) and the
// transaction's proofs. The HTTP interface and its limits are in docs/node/gateway.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/codec.hpp"
#include "core/hash.hpp"
#include "core/status.hpp"
#include "ledger/log.hpp"
#include "net/http_server.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/transaction.hpp"

namespace pfex::node {

struct GatewayOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  std::uint16_t port = 0;          // 0: any free port
  // Also verify the Ed25519 signature before appending (stateless; ~70 us per transaction), and a
  // private transaction's signatures and proofs against the gateway's replica (about 12 ms for a
  // spend; outside the replica's lock, against the statement and window copied under it; an exit
  // under it).
  bool verify_signatures = true;
  // Tests only: called on the request's thread right before a private transaction's proofs are
  // verified outside the replica's lock.
  std::function<void()> before_proof_check;
  // Demos and tests only. When set, a request may carry the header `Pfex-Ledger-Time: <ms>`; the
  // gateway passes the time here before appending (the caller's log clock then stamps it: a
  // scripted clock, which never goes backwards). When unset, such a request is refused (403).
  std::function<void(LedgerTime)> scripted_clock;
  // The market this gateway serves. Required when the log holds no market yet: the gateway then
  // appends only this market's genesis. When the log has one, it must be this one if given.
  std::optional<protocol::MarketId> market;
  // HTTP limits (net::HttpServerOptions): the time a whole request may take, and the number of
  // connections kept open (the oldest idle is closed to admit a new one).
  std::chrono::milliseconds request_deadline{10'000};
  std::size_t max_connections = 256;
  // /v1/health says not ok while an append has been running longer than this (the log hangs).
  std::chrono::milliseconds stalled_append{5'000};
  // How many of the log's most recent entries the gateway remembers by hash, to refuse a replay
  // with the sequence where its bytes are (about 100 bytes each: 6.5 MB at the default). See
  // "Replays" in docs/node/gateway.md for what an older replay meets. 0: none.
  std::size_t recent_hashes = 65'536;
};

// The media type of POST /v1/tx; any other is refused with 415.
inline constexpr std::string_view kTransactionMediaType = "application/octet-stream";

// The stateless part of a gateway's checks: strict decoding of the envelope and the action (a
// private transaction with the window size of `market`, the market the log opened; refused before
// a genesis and in a transparent market), and (when asked) a transparent entry's signature.
// Returns the decoded entry.
Result<protocol::Entry> check_submission(ByteSpan tx, bool verify_signature,
                                         const protocol::MarketContext& market = {});

class Gateway {
 public:
  // `log` must outlive the Gateway.
  Gateway(ledger::Log& log, GatewayOptions options);
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;
  ~Gateway();  // stops

  // Replays the log into the gateway's replica, checks the market (see GatewayOptions::market),
  // binds and serves on background threads; returns the port.
  Result<std::uint16_t> start();
  // Stops serving and joins the threads (idempotent).
  void stop();

  std::uint64_t appended() const { return appended_; }
  std::uint64_t refused() const { return refused_; }

 private:
  net::HttpResponse submit(const net::HttpRequest& request);
  net::HttpResponse health();
  // The checks against the replica, under replica_mutex_; on success `tx` is marked in flight.
  // A private transaction's proofs are not verified here: `detached` receives what verifying
  // them needs (when options_.verify_signatures), for verify_private_proofs.
  net::HttpResponse check_against_replica(ByteSpan tx, const protocol::Entry& entry,
                                          const Digest32& hash, bool& passed,
                                          std::optional<priv::DetachedTx>& detached);
  // Outside the lock: the proofs against the detached statement; then, under the lock, the
  // ledger's rules again and the statement unchanged (an entry appended meanwhile may have spent
  // the serial or changed the statement). Not passed: `tx` is no longer in flight.
  net::HttpResponse verify_private_proofs(const priv::DetachedTx& detached, const Digest32& hash,
                                          bool& passed);
  net::HttpResponse append_and_answer(ByteSpan tx, const Digest32& hash);
  // Reads the log from the replica's next entry to its end. Under replica_mutex_.
  Status catch_up();
  // Remembers that `hash` is in the log at `sequence`, forgetting the entry with the lowest
  // sequence beyond options_.recent_hashes. Under replica_mutex_.
  void remember(const Digest32& hash, std::uint64_t sequence);
  net::HttpResponse refuse(int status, const std::string& why);

  ledger::Log& log_;
  GatewayOptions options_;
  net::HttpServer server_;
  std::atomic<std::uint64_t> appended_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::mutex scripted_mutex_;

  std::mutex replica_mutex_;
  protocol::LedgerReplica replica_;
  // The hashes of the log's most recent entries (at most options_.recent_hashes), both ways. The
  // signer's sequence check refuses a replay of any entry that used its sequence number; these
  // are still needed for entries the validators reject before using it (a signer without an
  // account, a second Register, an Advance by another than the issuer): without them every
  // replay of such an entry would be appended again. They also let a client whose answer was
  // lost learn where its transaction is (409 with the sequence).
  std::map<Digest32, std::uint64_t> in_log_;
  std::map<std::uint64_t, Digest32> recent_;  // sequence -> hash, the same entries
  std::set<Digest32> in_flight_;              // being appended now

  // What /v1/health reports: the ability to append.
  std::mutex health_mutex_;
  Status last_append_;  // the last append's outcome
  std::multiset<std::chrono::steady_clock::time_point> appends_running_since_;
};

}  // namespace pfex::node
