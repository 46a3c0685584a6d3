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
#include "protocol/transaction.hpp"
#include "protocol/validator.hpp"
#include "sim/scenario.hpp"

namespace pfex::service {

// How long a submitted entry may take to reach the replica.
inline constexpr auto kEntryWait = std::chrono::seconds(20);

// The market and the traders' nodes, over a ledger.
class LedgerVenue final : public sim::Venue {
 public:
  LedgerVenue(std::unique_ptr<ledger::LogReader> reader, node::Endpoint gateway)
      : reader_(std::move(reader)) {
    submit_.gateway = std::move(gateway);
    replica_.set_event_sink(
        [this](const protocol::EntryOutcome& out, std::span<const market::Event> events) {
          outcomes_[out.sequence] = out;
          events_.insert(events_.end(), events.begin(), events.end());
        });
  }

  // Appends the genesis entry at ledger time 0.
  Status open_market(const sim::Scenario& sc) {
    const Bytes genesis = protocol::encode_entry(
        protocol::Genesis{sc.contract, sc.reference, issuer_.key.public_key()});
    PFEX_ASSIGN_OR_RETURN(const protocol::EntryOutcome out, send(genesis, LedgerTime(0)));
    if (!out.accepted) return out.reason.with_context("genesis");
    market_ = protocol::market_id_of(genesis);
    return Status::ok();
  }

  const market::Exchange& exchange() const override { return *replica_.exchange(); }
  std::span<const market::Event> events() const override { return events_; }

  Result<market::AccountId> add_trader(const sim::Trader& t) override {
    Node n;
    PFEX_ASSIGN_OR_RETURN(market::ActionResult reg,
                          submit(n, LedgerTime(0), market::RegisterAction{}));
    n.account = *reg.account;
    n.online = t.online;
    if (t.deposit.value() > 0) {
      PFEX_RETURN_IF_ERROR(
          submit(n, LedgerTime(0), market::DepositAction{n.account, t.deposit}).status());
    }
    const market::AccountId id = n.account;
    nodes_.emplace(id.value, std::move(n));
    return id;
  }

  Result<market::ActionResult> apply(LedgerTime now, const market::Action& action) override {
    std::optional<market::AccountId> named;
    std::visit(
        [&](const auto& a) {
          if constexpr (requires { a.account; }) named = a.account;
        },
        action);
    // Time passing needs an entry only when it moves past the replica's clock: the deadlines up
    // to the last entry's time are already processed.
    if (std::holds_alternative<market::AdvanceAction>(action) && now <= replica_.ledger_time()) {
      return market::ActionResult{};
    }
    Node* signer = &issuer_;
    if (named) {
      auto it = nodes_.find(named->value);
      if (it == nodes_.end())
        return Status::not_found("no node for account " + std::to_string(named->value));
      signer = &it->second;
    }
    Result<market::ActionResult> r = submit(*signer, now, action);
    PFEX_RETURN_IF_ERROR(refresh_online_nodes(now));
    return r;
  }

  Status set_online(market::AccountId account, bool online) override {
    auto it = nodes_.find(account.value);
    if (it == nodes_.end())
      return Status::not_found("no node for account " + std::to_string(account.value));
    it->second.online = online;
    return refresh_online_nodes(replica_.ledger_time());
  }

  const protocol::Validator& replica() const { return replica_; }
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
  Result<protocol::EntryOutcome> send(const Bytes& bytes, LedgerTime now) {
    node::SubmitOptions o = submit_;
    o.scripted_time = now;
    PFEX_ASSIGN_OR_RETURN(const node::Submitted sent, node::submit_transaction(bytes, o));
    const auto deadline = std::chrono::steady_clock::now() + kEntryWait;
    while (replica_.next_sequence() <= sent.sequence) {
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::io_error("log entry " + std::to_string(sent.sequence) +
                                " did not reach the replica");
      }
      PFEX_ASSIGN_OR_RETURN(auto batch, reader_->follow(replica_.next_sequence(), 4096,
                                                        std::chrono::milliseconds(500)));
      PFEX_RETURN_IF_ERROR(replica_.apply_batch(batch, 1).status());
    }
    return outcomes_.at(sent.sequence);
  }

  Result<market::ActionResult> submit(Node& n, LedgerTime now, const market::Action& action) {
    const Bytes tx = protocol::sign_transparent(n.key, market_, ++n.sequence, action);
    PFEX_ASSIGN_OR_RETURN(const protocol::EntryOutcome out, send(tx, now));
    if (!out.accepted) return out.reason;
    return out.result;
  }

  // What an online node does when it sees a margin round (node/auto_refresh.hpp).
  Status refresh_online_nodes(LedgerTime now) {
    for (auto& [id, n] : nodes_) {
      if (!n.online || !n.auto_refresh.due(exchange(), n.account)) continue;
      ++refreshes_;
      Result<market::ActionResult> r = submit(n, now, market::RefreshAction{n.account, Cash(0)});
      if (!r.is_ok() && r.status().code() == ErrorCode::kIoError) return r.status();
    }
    return Status::ok();
  }

  std::unique_ptr<ledger::LogReader> reader_;
  node::SubmitOptions submit_;
  protocol::Validator replica_;
  std::map<std::uint64_t, protocol::EntryOutcome> outcomes_;
  std::vector<market::Event> events_;
  Node issuer_;
  std::map<std::uint32_t, Node> nodes_;  // by account id
  protocol::MarketId market_{};
  std::uint64_t refreshes_ = 0;
};

}  // namespace pfex::service
