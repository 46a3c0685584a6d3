// `pfex demo` in a private market (docs/protocol/private.md): the scenario's traders hold
// wallets (priv::PrivateWallet) and every step becomes a private transaction with its proofs,
// appended to the log of a private market and checked by a LedgerReplica, as a validator checks
// it. The transparent exchange runs the same flow beside it, step by step: it is the reference
// the private run must equal (same book, trades, cash and positions, the last two opened from the
// wallets). The narration shows each trader's private view (what its wallet opens) beside the
// public view (what an observer of the log sees: orders with tags, fills, serials, ciphertexts).
#pragma once

#include <memory>
#include <string>

#include "commands.hpp"
#include "core/status.hpp"
#include "crypto/point.hpp"
#include "protocol/keys.hpp"
#include "protocol/ledger_replica.hpp"
#include "sim/scenario.hpp"

namespace pfex::cli {

// Where the private demo's entries go. send() appends one entry at ledger time `now` and returns
// its outcome once replica() applied it.
class PrivateLink {
 public:
  PrivateLink() = default;
  PrivateLink(const PrivateLink&) = delete;
  PrivateLink& operator=(const PrivateLink&) = delete;
  virtual ~PrivateLink() = default;

  virtual Result<protocol::EntryOutcome> send(const Bytes& entry, LedgerTime now) = 0;
  virtual const protocol::LedgerReplica& replica() const = 0;
};

// The embedded ledger: a replica in this process applies each entry as the next one of the log.
class EmbeddedLink final : public PrivateLink {
 public:
  Result<protocol::EntryOutcome> send(const Bytes& entry, LedgerTime now) override {
    return replica_.apply(protocol::LedgerEntry{replica_.next_sequence(), now, entry});
  }
  const protocol::LedgerReplica& replica() const override { return replica_; }

 private:
  protocol::LedgerReplica replica_;
};

// The demo market's windows: N = 2^10 = 1024 tokens, the protocol's default.
inline constexpr std::uint8_t kDemoLogWindow = 10;

// The built-in private demo scenario (scenarios/demo-private.json, compiled in).
Result<sim::Scenario> private_demo_scenario();

// The genesis entry of the scenario's private market: its contract and reference price, opened by
// `issuer` (who signs the mints), with windows of 2^log_window tokens and the validators' key.
Bytes private_genesis_entry(const sim::Scenario& sc, const protocol::SigningKey& issuer,
                            const crypto::Point& validators_key, std::uint8_t log_window);

// What a private session left, for the caller's own checks.
struct PrivateSessionResult {
  int code = 0;               // the exit code: 0, 1 (a mismatch or a failed expectation), 2
  bool same_outcome = false;  // book, trades, cash and positions equal the transparent run's
};

// Runs `sc` in the private market whose genesis `genesis` is (already the first entry `link`
// sent, or sent here when the link's replica has no market yet), the issuer signing mints, and
// prints the narration (options.verbose), the comparison with the transparent run and the result
// line. `perturb` (tests only): the private run buys one contract more than the scenario says at
// its first buy, so the comparison must fail.
PrivateSessionResult run_private_session(const sim::Scenario& sc, const Bytes& genesis,
                                         PrivateLink& link, const protocol::SigningKey& issuer,
                                         const RunOptions& options, bool perturb = false);

// `pfex demo --mode private` on the embedded ledger.
int run_private_demo(const RunOptions& options, bool perturb);

}  // namespace pfex::cli
