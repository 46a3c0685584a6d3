// The demo's venue over a ledger; see ledger_venue.hpp.
#include "service/ledger_venue.hpp"

#include <string>

#include "node/log_adapter.hpp"

namespace pfex::service {

Bytes demo_genesis(const sim::Scenario& sc, const protocol::SigningKey& issuer) {
  return protocol::encode_entry(protocol::Genesis{sc.contract, sc.reference, issuer.public_key()});
}

LedgerVenue::LedgerVenue(std::unique_ptr<ledger::LogReader> reader, node::Endpoint gateway,
                         protocol::SigningKey issuer)
    : reader_(std::move(reader)) {
  issuer_.key = std::move(issuer);
  submit_.gateway = std::move(gateway);
  replica_.set_event_sink(
      [this](const protocol::EntryOutcome& out, std::span<const market::Event> events) {
        outcomes_[out.sequence] = out;
        events_.insert(events_.end(), events.begin(), events.end());
      });
}

Status LedgerVenue::open_market(const sim::Scenario& sc) {
  const Bytes genesis = demo_genesis(sc, issuer_.key);
  PFEX_ASSIGN_OR_RETURN(const protocol::EntryOutcome out, send(genesis, LedgerTime(0)));
  if (!out.accepted) return out.reason.with_context("genesis");
  market_ = protocol::market_id_of(genesis);
  return Status::ok();
}

Result<market::AccountId> LedgerVenue::add_trader(const sim::Trader& t) {
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

Result<market::ActionResult> LedgerVenue::apply(LedgerTime now, const market::Action& action) {
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

Status LedgerVenue::set_online(market::AccountId account, bool online) {
  auto it = nodes_.find(account.value);
  if (it == nodes_.end())
    return Status::not_found("no node for account " + std::to_string(account.value));
  it->second.online = online;
  return refresh_online_nodes(replica_.ledger_time());
}

Result<protocol::EntryOutcome> LedgerVenue::send(const Bytes& bytes, LedgerTime now) {
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
    PFEX_RETURN_IF_ERROR(replica_.apply_batch(node::to_protocol_entries(batch), 1).status());
  }
  return outcomes_.at(sent.sequence);
}

Result<market::ActionResult> LedgerVenue::submit(Node& n, LedgerTime now,
                                                 const market::Action& action) {
  const Bytes tx = protocol::sign_transparent(n.key, market_, ++n.sequence, action);
  PFEX_ASSIGN_OR_RETURN(const protocol::EntryOutcome out, send(tx, now));
  if (!out.accepted) return out.reason;
  return out.result;
}

Status LedgerVenue::refresh_online_nodes(LedgerTime now) {
  for (auto& [id, n] : nodes_) {
    if (!n.online) continue;
    const std::optional<Cash> deposit = n.auto_refresh.due(exchange(), n.account);
    if (!deposit) continue;
    ++refreshes_;
    Result<market::ActionResult> r = submit(n, now, market::RefreshAction{n.account, *deposit});
    if (!r.is_ok() && r.status().code() == ErrorCode::kIoError) return r.status();
  }
  return Status::ok();
}

}  // namespace pfex::service
