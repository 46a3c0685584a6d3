// The trader's node in a private market; see private_trader.hpp and docs/node/private_node.md.
#include "node/private_trader.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>

#include "core/checked.hpp"
#include "protocol/transaction.hpp"

namespace pfex::node {
namespace {

std::string_view step_name(TraderStep step) {
  switch (step) {
    case TraderStep::kBuilt:
      return "built";
    case TraderStep::kSaved:
      return "saved";
    case TraderStep::kSubmitted:
      return "submitted";
    case TraderStep::kConfirmed:
      return "confirmed";
  }
  return "?";
}

Status stopped(TraderStep step) {
  return Status::io_error("stopped after the step \"" + std::string(step_name(step)) +
                          "\" by the fault hook");
}

protocol::MarketContext context_of(const priv::PrivateLedger& ledger) {
  return protocol::MarketContext{protocol::Mode::kPrivate, ledger.terms().log_window};
}

Result<priv::PrivateTx> decode_private(ByteSpan entry, const priv::PrivateLedger& ledger) {
  PFEX_ASSIGN_OR_RETURN(protocol::Entry e, protocol::decode_entry(entry, context_of(ledger)));
  auto* p = std::get_if<protocol::PrivateEntry>(&e);
  if (p == nullptr) return Status::invalid_argument("not a private transaction");
  return std::move(p->tx);
}

// X of the wallet's "E_L short by X" refusal.
std::optional<std::uint64_t> shortfall_of(const Status& s) {
  constexpr std::string_view kShort = "E_L short by ";
  const std::string_view m = s.message();
  const auto at = m.find(kShort);
  if (s.code() != ErrorCode::kInsolvent || at == std::string_view::npos) return std::nullopt;
  std::uint64_t x = 0;
  const char* first = m.data() + at + kShort.size();
  const auto [end, ec] = std::from_chars(first, m.data() + m.size(), x);
  if (ec != std::errc() || end == first) return std::nullopt;
  return x;
}

}  // namespace

PrivateTrader::PrivateTrader(PrivateWalletStore& store, Submit submit, PrivateTraderOptions options)
    : store_(store), submit_(std::move(submit)), options_(std::move(options)) {}

template <class Tx>
Status PrivateTrader::send(const priv::PrivateLedger& ledger, const Result<Tx>& built) {
  PFEX_RETURN_IF_ERROR(built.status());
  if (!reached(TraderStep::kBuilt)) return stopped(TraderStep::kBuilt);
  PFEX_RETURN_IF_ERROR(
      store_.save_pending(protocol::encode_entry(protocol::PrivateEntry{priv::PrivateTx(*built)})));
  rejection_.reset();
  if (!reached(TraderStep::kSaved)) return stopped(TraderStep::kSaved);
  return submit_pending(ledger);
}

Status PrivateTrader::submit_pending(const priv::PrivateLedger& ledger) {
  const Status sent = submit_(*store_.pending_entry());
  if (sent.code() == ErrorCode::kInvalidArgument) return refused_by_gateway(ledger, sent);
  PFEX_RETURN_IF_ERROR(sent);
  if (!reached(TraderStep::kSubmitted)) return stopped(TraderStep::kSubmitted);
  return Status::ok();
}

Status PrivateTrader::refused_by_gateway(const priv::PrivateLedger& ledger, const Status& refusal) {
  PFEX_ASSIGN_OR_RETURN(const priv::PrivateTx pending,
                        decode_private(*store_.pending_entry(), ledger));
  const Status here = ledger.check(pending);
  if (here.is_ok()) {
    return Status::failed_precondition(
        std::string(refusal.message()) +
        "; the node's replica of the log accepts the transaction, so it stays pending and is "
        "resubmitted");
  }
  store_.wallet().discard_pending();
  rejection_ = Status::invalid_argument(
      std::string(refusal.message()) + "; the node's replica refuses it too (" + here.to_string() +
      "): dropped from pending, the wallet is as before it was built");
  PFEX_RETURN_IF_ERROR(store_.save_progress(store_.followed(), true));
  return *rejection_;
}

Status PrivateTrader::follow(const priv::PrivateLedger& ledger,
                             std::span<const protocol::LedgerEntry> entries,
                             std::span<const protocol::EntryOutcome> outcomes) {
  if (entries.size() != outcomes.size())
    return Status::invalid_argument("follow: entries and outcomes differ in number");
  if (ledger.terms().market_id != store_.market())
    return Status::failed_precondition("the wallet belongs to another market than the log's");
  priv::PrivateWallet& w = store_.wallet();
  std::uint64_t last = store_.followed();
  // Where the log rejected the pending entry's bytes in these entries, and why.
  std::optional<std::pair<std::uint64_t, Status>> rejected;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].sequence <= store_.followed()) continue;
    last = entries[i].sequence;
    now_ = outcomes[i].time;
    const bool mine = busy() && std::ranges::equal(entries[i].payload, *store_.pending_entry());
    if (mine && !outcomes[i].accepted) rejected.emplace(entries[i].sequence, outcomes[i].reason);
    if (!outcomes[i].accepted) continue;
    const Result<priv::PrivateTx> tx = decode_private(entries[i].payload, ledger);
    if (!tx.is_ok()) continue;  // a genesis
    if (const auto* mint = std::get_if<priv::MintTx>(&*tx); mint && mint->account == w.identity())
      w.on_mint(static_cast<std::uint64_t>(mint->amount));
    // A memo that does not open is the sender's doing (the ledger cannot check it): noted, and
    // the node reads on, or any sender could stop it.
    if (const auto* t = std::get_if<priv::TransferTx>(&*tx); t && t->receiver == w.identity())
      if (!w.receive(*t).is_ok()) unopened_.push_back(entries[i].sequence);
  }

  bool confirmed = false;
  if (busy()) {
    PFEX_ASSIGN_OR_RETURN(const priv::PrivateTx pending,
                          decode_private(*store_.pending_entry(), ledger));
    if (const auto* c = std::get_if<priv::CancelTx>(&pending)) {
      const priv::PrivateOrder* o = ledger.order(c->order);
      confirmed = o != nullptr && o->closed;  // a cancel changes nothing in the wallet
    } else if (w.has_pending()) {
      PFEX_ASSIGN_OR_RETURN(const std::optional<priv::Applied> applied,
                            w.find_applied(ledger, pending));
      if (applied) {
        PFEX_RETURN_IF_ERROR(w.confirm(*applied));
        confirmed = true;
      }
    }
    if (confirmed) {
      rejection_.reset();
      if (!reached(TraderStep::kConfirmed)) return stopped(TraderStep::kConfirmed);
    }
  }
  // The log rejected the pending bytes and applied no copy of them: resubmitting them is
  // pointless (the ledger decides the same bytes the same way), so they are dropped and the
  // wallet keeps what it had before building them.
  bool dropped = false;
  if (busy() && !confirmed && rejected) {
    w.discard_pending();
    rejection_ = rejected->second.with_context(
        "the log rejected the pending transaction at entry " + std::to_string(rejected->first) +
        " (dropped: the wallet is as before it was built)");
    dropped = true;
  } else if (busy() && !confirmed) {
    // A signed spend whose sequence number another entry of this identity used (an older copy of
    // the wallet built it): the ledger can never apply it, and a gateway answers its bytes with
    // 409, so they would never reach the log to be rejected there.
    PFEX_ASSIGN_OR_RETURN(const priv::PrivateTx pending,
                          decode_private(*store_.pending_entry(), ledger));
    const auto* spend = std::get_if<priv::SpendTx>(&pending);
    if (spend != nullptr && spend->cash &&
        ledger.last_sequence(w.identity()) >= spend->cash->sequence) {
      w.discard_pending();
      rejection_ = Status::failed_precondition(
          "the pending transaction's sequence number " + std::to_string(spend->cash->sequence) +
          " was used by another entry of this identity (the ledger's is " +
          std::to_string(ledger.last_sequence(w.identity())) +
          "): dropped, the wallet is as before it was built");
      dropped = true;
    }
  }
  forgotten_ += w.forget_settled(ledger);
  note_settles(ledger);
  return store_.save_progress(last, confirmed || dropped);
}

Status PrivateTrader::follow(const protocol::LedgerReplica& replica,
                             std::span<const protocol::LedgerEntry> entries,
                             std::span<const protocol::EntryOutcome> outcomes) {
  if (replica.private_ledger() == nullptr)
    return Status::failed_precondition("the log's market is not private");
  return follow(*replica.private_ledger(), entries, outcomes);
}

Status PrivateTrader::resubmit_pending(const priv::PrivateLedger& ledger) {
  if (!busy()) return Status::ok();
  // follow() confirmed what the ledger shows; what is still pending is not in it.
  return submit_pending(ledger);
}

Status PrivateTrader::register_identity(const priv::PrivateLedger& ledger, std::int64_t bond) {
  if (busy()) return Status::failed_precondition("a transaction is pending");
  const std::uint64_t sequence = ledger.last_sequence(store_.wallet().identity()) + 1;
  return send(ledger, store_.wallet().build_register(ledger, sequence, bond));
}

Status PrivateTrader::deposit(const priv::PrivateLedger& ledger, std::uint64_t amount) {
  if (busy()) return Status::failed_precondition("a transaction is pending");
  return send(ledger, store_.wallet().build_deposit(ledger, amount));
}

Status PrivateTrader::withdraw(const priv::PrivateLedger& ledger, std::uint64_t amount) {
  if (busy()) return Status::failed_precondition("a transaction is pending");
  return send(ledger, store_.wallet().build_withdraw(ledger, amount));
}

Status PrivateTrader::post(const priv::PrivateLedger& ledger, priv::Side side, priv::OrderKind kind,
                           std::int64_t price, std::int64_t qty) {
  if (busy()) return Status::failed_precondition("a transaction is pending");
  return send(ledger, store_.wallet().build_post(ledger, side, kind, price, qty));
}

Status PrivateTrader::cancel(const priv::PrivateLedger& ledger, std::uint64_t order) {
  if (busy()) return Status::failed_precondition("a transaction is pending");
  return send(ledger, store_.wallet().build_cancel(ledger, order));
}

Status PrivateTrader::reduce(const priv::PrivateLedger& ledger, std::uint64_t order,
                             std::int64_t reduce_by) {
  if (busy()) return Status::failed_precondition("a transaction is pending");
  return send(ledger, store_.wallet().build_reduce(ledger, order, reduce_by));
}

Status PrivateTrader::replace(const priv::PrivateLedger& ledger, std::uint64_t order,
                              priv::Side side, priv::OrderKind kind, std::int64_t price,
                              std::int64_t qty) {
  if (busy()) return Status::failed_precondition("a transaction is pending");
  return send(ledger, store_.wallet().build_cancel_replace(ledger, order, side, kind, price, qty));
}

Status PrivateTrader::settle(const priv::PrivateLedger& ledger) {
  if (busy()) return Status::failed_precondition("a transaction is pending");
  return send(ledger, store_.wallet().build_settle(ledger));
}

void PrivateTrader::note_settles(const priv::PrivateLedger& ledger) {
  std::map<std::uint64_t, Due> next;
  for (const priv::SettleEntry& e : store_.wallet().pending_entries(ledger, std::nullopt)) {
    auto it = due_.find(e.order);
    if (it != due_.end() && it->second.fills == e.fill_index && it->second.release == e.release) {
      next.emplace(e.order, it->second);
      continue;
    }
    // Something new to settle on this order: a fresh delay from now.
    const std::int64_t delay = draw_delay();
    const Result<std::int64_t> at = checked_add(now_.value(), delay, "the settle's time");
    next.emplace(e.order, Due{e.fill_index, e.release, LedgerTime(at.is_ok() ? *at : INT64_MAX)});
  }
  due_ = std::move(next);
}

std::int64_t PrivateTrader::draw_delay() const {
  const std::int64_t max =
      std::clamp<std::int64_t>(options_.max_settle_delay.value(), 0, INT32_MAX);
  if (max == 0) return 0;
  if (options_.draw_delay) return std::clamp<std::int64_t>(options_.draw_delay(max), 0, max);
  return randombytes_uniform(static_cast<std::uint32_t>(max) + 1);
}

bool PrivateTrader::settle_due() const {
  return std::ranges::any_of(due_, [&](const auto& d) { return d.second.at <= now_; });
}

Result<bool> PrivateTrader::refresh(const priv::PrivateLedger& ledger,
                                    std::optional<std::uint64_t> deposit) {
  if (busy()) return Status::failed_precondition("a transaction is pending");
  priv::PrivateWallet& w = store_.wallet();
  // The expired orders' remainders are released first: a refresh needs zero open orders.
  if (!w.pending_entries(ledger, std::nullopt).empty()) {
    PFEX_RETURN_IF_ERROR(send(ledger, w.build_settle(ledger)));
    return true;
  }
  if (deposit) {
    PFEX_RETURN_IF_ERROR(send(ledger, w.build_refresh(ledger, *deposit)));
    return true;
  }
  Result<priv::SpendTx> tx = w.build_refresh(ledger, 0);
  if (const auto x = tx.is_ok() ? std::nullopt : shortfall_of(tx.status())) {
    if (*x > w.cash_balance())
      return Status::insolvent("margin call: E_L short by " + std::to_string(*x) +
                               " and the cash account holds " + std::to_string(w.cash_balance()));
    tx = w.build_refresh(ledger, *x);
  }
  PFEX_RETURN_IF_ERROR(send(ledger, tx));
  return true;
}

Result<bool> PrivateTrader::step(const priv::PrivateLedger& ledger) {
  if (busy()) return false;
  const auto& id = store_.wallet().identity();
  if (ledger.identity(id) == nullptr || !store_.wallet().token_index()) return false;
  if (options_.auto_refresh && ledger.in_refresh_window() && !ledger.refreshed(id) &&
      !ledger.defaulted(id))
    return refresh(ledger);
  if (!settle_due()) return false;
  PFEX_RETURN_IF_ERROR(settle(ledger));
  return true;
}

PrivateTrader::Submit submit_through(SubmitOptions options) {
  return [options = std::move(options)](ByteSpan entry) -> Status {
    const Result<Submitted> sent = submit_transaction(entry, options);
    if (sent.is_ok() || sent.status().code() == ErrorCode::kAlreadyExists) return Status::ok();
    // Only a gateway's 400 is a refusal of the bytes (the trader may drop them); a local error
    // (a bad proxy setting) leaves them pending.
    if (sent.status().code() == ErrorCode::kInvalidArgument && !gateway_refused(sent.status()))
      return Status::failed_precondition(std::string(sent.status().message()));
    return sent.status();
  };
}

}  // namespace pfex::node
