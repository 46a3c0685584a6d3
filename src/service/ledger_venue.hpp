// The demo's venue over a real ledger: the market and the traders' nodes of a scenario
// (sim::Venue), each node signing its steps as transparent transactions, submitting them to a
// gateway over HTTP and learning their outcome from this venue's replica of the log, as
// `pfex node` does. Used by `pfex demo --ledger` (docs/node/cli.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ledger/log.hpp"
#include "node/auto_refresh.hpp"
#include "node/submit.hpp"
#include "protocol/keys.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/transaction.hpp"
#include "sim/scenario.hpp"

namespace pfex::service {

// How long a submitted entry may take to reach the replica.
inline constexpr auto kEntryWait = std::chrono::seconds(20);

// The scenario's genesis entry, opened by `issuer` (the gateway is told its market id first).
Bytes demo_genesis(const sim::Scenario& sc, const protocol::SigningKey& issuer);

// The market and the traders' nodes, over a ledger.
class LedgerVenue final : public sim::Venue {
 public:
  // Reads the log through `reader`; submits to the gateway at `gateway`; `issuer` signs the
  // genesis and the issuer's actions.
  LedgerVenue(std::unique_ptr<ledger::LogReader> reader, node::Endpoint gateway,
              protocol::SigningKey issuer);

  // Appends the genesis entry at ledger time 0.
  Status open_market(const sim::Scenario& sc);

  const market::Exchange& exchange() const override { return *replica_.exchange(); }
  std::span<const market::Event> events() const override { return events_; }

  Result<market::AccountId> add_trader(const sim::Trader& t) override;
  Result<market::ActionResult> apply(LedgerTime now, const market::Action& action) override;
  Status set_online(market::AccountId account, bool online) override;

  const protocol::LedgerReplica& replica() const { return replica_; }
  std::uint64_t entries() const { return replica_.entries(); }
  std::uint64_t refreshes() const { return refreshes_; }

 private:
  struct Node {
    protocol::SigningKey key = protocol::SigningKey::generate();
    std::uint64_t sequence = 0;
    market::AccountId account{};
    bool online = true;
    node::AutoRefresh auto_refresh;
  };

  // Submits `bytes` at ledger time `now` and waits for the replica to apply it.
  Result<protocol::EntryOutcome> send(const Bytes& bytes, LedgerTime now);
  // Signs `action` with the node's next sequence number and sends it.
  Result<market::ActionResult> submit(Node& n, LedgerTime now, const market::Action& action);

  // What an online node does when it sees a margin round (node/auto_refresh.hpp).
  Status refresh_online_nodes(LedgerTime now);

  std::unique_ptr<ledger::LogReader> reader_;
  node::SubmitOptions submit_;
  protocol::LedgerReplica replica_;
  std::map<std::uint64_t, protocol::EntryOutcome> outcomes_;
  std::vector<market::Event> events_;
  Node issuer_;
  std::map<std::uint32_t, Node> nodes_;  // by account id
  protocol::MarketId market_{};
  std::uint64_t refreshes_ = 0;
};

}  // namespace pfex::service
