// `pfex demo` in a private market (docs/protocol/private.md): the scenario's traders hold
// wallets (priv::PrivateWallet) and every step becomes a private transaction with its proofs
// (flow::FlowDriver builds them), appended to the log of a private market and checked by a
// LedgerReplica, as a validator checks it. The transparent exchange runs the same flow beside it,
// step by step: it is the reference the private run must equal (same book, trades, cash and
// positions, the last two opened from the wallets). The narration shows each trader's private view
// (what its wallet opens) beside the public view (what an observer of the log sees: orders with
// tags, fills, serials, ciphertexts).
#pragma once

#include <memory>
#include <string>

#include "commands.hpp"
#include "core/status.hpp"
#include "flow/flow_driver.hpp"
#include "sim/scenario.hpp"

namespace pfex::cli {

// Where the demo's private entries go (flow::EntryLink) on a replica the demo listens to: the
// private market's public events (trades and closes by order tag, halts, epochs) go to the sink.
class DemoLink : public flow::EntryLink {
 public:
  virtual void set_private_event_sink(protocol::LedgerReplica::PrivateEventSink sink) = 0;
};

// The embedded ledger: a replica in this process applies each entry as the next one of the log.
class EmbeddedLink final : public DemoLink {
 public:
  Result<protocol::EntryOutcome> append(const Bytes& entry, LedgerTime now) override {
    return replica_.apply(protocol::LedgerEntry{replica_.next_sequence(), now, entry});
  }
  const protocol::LedgerReplica& replica() const override { return replica_; }
  void set_private_event_sink(protocol::LedgerReplica::PrivateEventSink sink) override {
    replica_.set_private_event_sink(std::move(sink));
  }

 private:
  protocol::LedgerReplica replica_;
};

// The demo market's windows: N = 2^10 = 1024 tokens, the protocol's default.
inline constexpr std::uint8_t kDemoLogWindow = 10;

// The built-in private demo scenario (scenarios/demo-private.json, compiled in).
Result<sim::Scenario> private_demo_scenario();

// What a private session left, for the caller's own checks.
struct PrivateSessionResult {
  int code = 0;               // the exit code: 0, 1 (a mismatch or a failed expectation), 2
  bool same_outcome = false;  // book, trades, cash and positions equal the transparent run's
};

// The flow driver's options for the demo's market: windows of kDemoLogWindow, a fresh issuer, and
// a fresh validators' key (in the demo one key stands for the committee the DKG elects).
flow::FlowDriverOptions private_demo_options();

// Runs `sc` in a private market opened by a flow::FlowDriver with `driver_options`, its entries
// going through `link`, the transparent exchange running the same flow beside it, and prints the
// narration (options.verbose), the comparison of the two and the result line. `perturb` (for the
// demo's test): the private run buys one contract more than the scenario says at its first buy, so
// the comparison must fail.
PrivateSessionResult run_private_session(const sim::Scenario& sc,
                                         flow::FlowDriverOptions driver_options, DemoLink& link,
                                         const RunOptions& options, bool perturb = false);

// `pfex demo --mode private` on the embedded ledger.
int run_private_demo(const RunOptions& options, bool perturb);

}  // namespace pfex::cli
