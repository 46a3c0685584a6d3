// The trader node's commands; see trader_node.hpp.
#include "service/trader_node.hpp"

#include <fmt/core.h>

#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "market/contract.hpp"
#include "market/names.hpp"
#include "node/auto_refresh.hpp"
#include "node/submit.hpp"
#include "node/wallet.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/private_market.hpp"
#include "service/log_spec.hpp"
#include "service/node_replica.hpp"
#include "service/private_node.hpp"
#include "service/retrying_reader.hpp"
#include "sim/report.hpp"

namespace pfex::service {

Result<node::SubmitOptions> submit_options(const NodeOptions& o) {
  node::SubmitOptions s;
  PFEX_ASSIGN_OR_RETURN(s.gateway, node::parse_endpoint(o.gateway));
  if (!o.socks5.empty()) {
    PFEX_ASSIGN_OR_RETURN(s.socks5, node::parse_endpoint(o.socks5));
  }
  if (!o.proxy_user.empty()) s.proxy_credentials = std::make_pair(o.proxy_user, o.proxy_pass);
  s.max_delay = std::chrono::milliseconds(o.max_delay_ms);
  return s;
}

namespace {

std::string describe_outcome(const protocol::EntryOutcome& out) {
  if (!out.accepted) return "rejected: " + out.reason.to_string();
  std::string detail;
  const auto& r = out.result;
  if (r.account) detail = fmt::format(" account {}", r.account->value);
  if (r.order) {
    detail = fmt::format(" order {} filled {} resting {}", r.order->id.value,
                         r.order->filled.value(), r.order->resting.value());
  }
  return "accepted" + detail;
}

// Prints what the log made of the transactions `settled` dropped from pending; returns the
// number that did not take effect (rejected, or superseded by another use of their sequence).
std::size_t report_settled(const std::vector<node::Settled>& settled,
                           const std::map<std::uint64_t, protocol::EntryOutcome>& outcomes) {
  std::size_t failed = 0;
  for (const node::Settled& s : settled) {
    const auto it = s.log_sequence ? outcomes.find(*s.log_sequence) : outcomes.end();
    if (it == outcomes.end()) {
      ++failed;
      fmt::print("transaction {}: never applied: the ledger used its sequence number for another\n",
                 s.tx_sequence);
      continue;
    }
    if (!it->second.accepted) ++failed;
    fmt::print("log entry {}: {}\n", it->first, describe_outcome(it->second));
  }
  return failed;
}

// Opens the wallet and brings it and the node's replica (`replica`, loaded from beside the
// wallet) up to date with the log: market id, account, the sequence numbers the ledger has used
// (a wallet restored from a backup is behind), and the pending transactions the log has settled
// since the node last looked. Saves the replica.
Result<node::Wallet> open_synced(const NodeOptions& o, NodeReplica& replica,
                                 protocol::LedgerReplica::EventSink sink = {},
                                 bool issuer_of_private = false) {
  PFEX_ASSIGN_OR_RETURN(auto w, node::Wallet::open(o.wallet, o.passphrase));
  std::string note;
  PFEX_ASSIGN_OR_RETURN(replica, NodeReplica::load(w.path() + ".replica", &note));
  if (!note.empty()) fmt::print(stderr, "pfex: {}\n", note);
  replica.set_owner(w.public_key());
  replica.set_event_sink(std::move(sink));
  std::vector<node::Settled> settled;
  std::map<std::uint64_t, protocol::EntryOutcome> outcomes;
  PFEX_ASSIGN_OR_RETURN(auto reader, open_log_reader(o.log));
  note.clear();
  PFEX_RETURN_IF_ERROR(replica.catch_up(
      *reader,
      [&](const protocol::LedgerReplica& v, std::span<const ledger::LogEntry> batch,
          std::span<const protocol::EntryOutcome> batch_outcomes) -> Status {
        if (w.pending().empty()) return Status::ok();
        for (const auto& out : batch_outcomes)
          outcomes.emplace(out.sequence, out);
        PFEX_ASSIGN_OR_RETURN(auto now, node::settle_pending(w, v, batch));
        settled.insert(settled.end(), now.begin(), now.end());
        return Status::ok();
      },
      &note));
  if (!note.empty()) fmt::print(stderr, "pfex: {}\n", note);
  const protocol::LedgerReplica& v = replica.validator();
  // Pending transactions from before the replica's position (a wallet restored from a backup):
  // only the sequence numbers can settle them.
  PFEX_ASSIGN_OR_RETURN(auto earlier, node::settle_pending(w, v, {}));
  settled.insert(settled.end(), earlier.begin(), earlier.end());
  (void)report_settled(settled, outcomes);
  if (!v.market_id()) return Status::failed_precondition("the log has no market yet");
  if (!v.exchange() && !issuer_of_private) {
    return Status::failed_precondition(
        "the log's market is private: a trader there needs a private wallet (pfex node create "
        "--private --log ...)");
  }
  if (!w.market()) PFEX_RETURN_IF_ERROR(w.set_market(*v.market_id()));
  if (*w.market() != *v.market_id()) {
    return Status::failed_precondition("the wallet belongs to another market than the log's");
  }
  PFEX_RETURN_IF_ERROR(w.sync_sequence(v.last_sequence_of(w.public_key())));
  if (!w.account()) {
    if (auto a = v.account_of(w.public_key())) PFEX_RETURN_IF_ERROR(w.set_account(*a));
  }
  PFEX_RETURN_IF_ERROR(replica.save());
  return w;
}

// Submits everything pending (first whatever an earlier command left behind), follows the log
// on `v` until each of them is settled, and reports what the log made of them. Fails (non-zero
// exit) when one was rejected or never applied, or is not in the log after a while.
Status submit_and_report(node::Wallet& w, const NodeOptions& o, NodeReplica& replica) {
  const protocol::LedgerReplica& v = replica.validator();
  if (w.pending().size() > 1) {
    fmt::print("resubmitting {} transaction(s) left pending\n", w.pending().size() - 1);
  }
  PFEX_ASSIGN_OR_RETURN(const node::SubmitOptions submit, submit_options(o));
  const Status sent = node::submit_pending(w, submit).status();
  std::map<std::uint64_t, protocol::EntryOutcome> outcomes;
  std::size_t failed = 0;
  PFEX_ASSIGN_OR_RETURN(auto reader, open_log_reader(o.log));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // After a failed submission, only what is already in the log can settle.
  while (!w.pending().empty() && std::chrono::steady_clock::now() < deadline) {
    PFEX_ASSIGN_OR_RETURN(auto batch, reader->follow(v.next_sequence(), 4096,
                                                     std::chrono::milliseconds(sent ? 50 : 0)));
    if (batch.empty() && !sent) break;
    PFEX_ASSIGN_OR_RETURN(const auto applied, replica.apply(batch));
    for (const auto& out : applied)
      outcomes.emplace(out.sequence, out);
    PFEX_ASSIGN_OR_RETURN(const auto settled, node::settle_pending(w, v, batch));
    failed += report_settled(settled, outcomes);
  }
  if (!w.account()) {
    if (auto a = v.account_of(w.public_key())) PFEX_RETURN_IF_ERROR(w.set_account(*a));
  }
  PFEX_RETURN_IF_ERROR(replica.save());
  if (!sent) {
    return sent.with_context(
        fmt::format("{} transaction(s) stay pending (pfex node resubmit)", w.pending().size()));
  }
  if (!w.pending().empty()) {
    return Status::io_error(
        fmt::format("{} transaction(s) not in the log after 10 s; they stay pending and are "
                    "resubmitted by the next command (or pfex node resubmit)",
                    w.pending().size()));
  }
  if (failed > 0) {
    return Status::failed_precondition(
        fmt::format("the ledger did not apply {} transaction(s) (see above)", failed));
  }
  return Status::ok();
}

// Whether `e` concerns `me` (its order, trade, cash) or the whole market (epochs, halts).
bool concerns(const market::Event& e, market::AccountId me) {
  return std::visit(
      [&](const auto& b) {
        if constexpr (requires { b.maker_owner; }) {
          return b.maker_owner == me || b.taker_owner == me;
        } else if constexpr (requires { b.owner; }) {
          return b.owner == me;
        } else if constexpr (requires { b.account; }) {
          return b.account == me;
        } else {
          return true;
        }
      },
      e.body);
}

// The issuer's mint in a private market: `o.amount` into the cash account of identity `o.to`,
// with the issuer's next mint sequence number; waits until the log decides it.
Status issue_mint(const node::Wallet& w, const NodeOptions& o, NodeReplica& replica) {
  const protocol::LedgerReplica& v = replica.validator();
  const priv::PrivateLedger* ledger = v.private_ledger();
  if (ledger == nullptr) {
    return Status::failed_precondition(
        "mint: the log's market is transparent (its accounts are paid by deposit)");
  }
  if (ledger->terms().issuer != w.public_key())
    return Status::failed_precondition("mint: this wallet's key is not the market's issuer");
  PFEX_ASSIGN_OR_RETURN(const Bytes to, from_hex(o.to));
  std::array<std::uint8_t, 32> identity{};
  if (to.size() != identity.size())
    return Status::invalid_argument("--to: an identity is 32 bytes (64 hex digits)");
  std::copy(to.begin(), to.end(), identity.begin());
  PFEX_ASSIGN_OR_RETURN(const Cash amount, v.private_book()->spec().parse_cash(o.amount));
  PFEX_ASSIGN_OR_RETURN(const Bytes entry, w.sign_mint(identity, amount.value(),
                                                       ledger->last_sequence(w.public_key()) + 1));
  PFEX_ASSIGN_OR_RETURN(const node::SubmitOptions submit, submit_options(o));
  PFEX_ASSIGN_OR_RETURN(const node::Submitted sent, node::submit_transaction(entry, submit));
  PFEX_ASSIGN_OR_RETURN(auto reader, open_log_reader(o.log));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (v.next_sequence() <= sent.sequence && std::chrono::steady_clock::now() < deadline) {
    PFEX_ASSIGN_OR_RETURN(auto batch,
                          reader->follow(v.next_sequence(), 4096, std::chrono::milliseconds(100)));
    PFEX_ASSIGN_OR_RETURN(const auto outcomes, replica.apply(batch));
    for (std::size_t i = 0; i < batch.size() && i < outcomes.size(); ++i) {
      if (batch[i].sequence != sent.sequence) continue;
      PFEX_RETURN_IF_ERROR(replica.save());
      fmt::print("log entry {}: {}\n", sent.sequence, describe_outcome(outcomes[i]));
      if (!outcomes[i].accepted)
        return Status::failed_precondition("the ledger did not apply the mint");
      return Status::ok();
    }
  }
  PFEX_RETURN_IF_ERROR(replica.save());
  return Status::io_error("the mint is not in the log after 30 s");
}

}  // namespace

Status open_market(const MarketInit& o, const std::string& passphrase) {
  PFEX_ASSIGN_OR_RETURN(market::ContractSpec spec, market::contract_preset(o.contract));
  PFEX_ASSIGN_OR_RETURN(const Price reference, spec.parse_price(o.reference));
  std::optional<protocol::PrivateGenesisTerms> private_terms;
  if (o.resolution_ms) {
    spec.resolution_ms = *o.resolution_ms;
    PFEX_RETURN_IF_ERROR(spec.validate().with_context("--resolution-ms"));
  }
  if (!o.private_market && (!o.bond.empty() || !o.exit_penalty.empty() ||
                            !o.validators_key.empty() || o.log_window != MarketInit{}.log_window)) {
    return Status::invalid_argument(
        "--bond, --exit-penalty, --window-log and --validators-key are a private market's terms "
        "(add --private)");
  }
  if (o.private_market) {
    if (o.log_window < 1 || o.log_window > 16) {
      return Status::invalid_argument("--window-log " + std::to_string(o.log_window) +
                                      " is outside [1, 16] (windows of 2 to 65536 tokens)");
    }
    // The genesis carries them as the contract's bond and liquidation penalty.
    if (!o.bond.empty()) {
      PFEX_ASSIGN_OR_RETURN(spec.bond, spec.parse_cash(o.bond));
    }
    if (!o.exit_penalty.empty()) {
      PFEX_ASSIGN_OR_RETURN(spec.liquidation_penalty_per_contract, spec.parse_cash(o.exit_penalty));
    }
    PFEX_RETURN_IF_ERROR(spec.validate());
    protocol::PrivateGenesisTerms terms;
    terms.log_window = static_cast<std::uint8_t>(o.log_window);
    if (o.validators_key.empty()) {
      // One key stands for the committee; its secret is not kept (nothing is decrypted yet).
      terms.validators_key = crypto::Point::mul_base(crypto::Scalar::random());
    } else {
      PFEX_ASSIGN_OR_RETURN(const Bytes key, from_hex(o.validators_key));
      PFEX_ASSIGN_OR_RETURN(terms.validators_key, crypto::Point::decode(key));
    }
    private_terms = terms;
  }
  PFEX_ASSIGN_OR_RETURN(auto issuer, node::Wallet::open(o.issuer_wallet, passphrase));
  const protocol::Genesis g{spec, reference, issuer.public_key(), private_terms};
  const Bytes genesis = protocol::encode_entry(g);
  // What every validator checks first: a genesis it would reject opens no market.
  {
    protocol::LedgerReplica check;
    PFEX_ASSIGN_OR_RETURN(const protocol::EntryOutcome out,
                          check.apply(protocol::LedgerEntry{1, LedgerTime(0), genesis}));
    if (!out.accepted) return out.reason.with_context("the market's terms");
  }
  PFEX_ASSIGN_OR_RETURN(auto log, open_log_writer(o.log));
  PFEX_ASSIGN_OR_RETURN(const auto first, log->read(1, 1));
  if (!first.empty()) {
    return Status::failed_precondition("log " + o.log + " is not empty; a market opens a new log");
  }
  PFEX_ASSIGN_OR_RETURN(const auto appended, log->append(genesis));
  PFEX_RETURN_IF_ERROR(issuer.set_market(protocol::market_id_of(genesis)));
  fmt::print(
      "market {} opened at log entry {}: {} at reference {}, resolution deadline D_res {} ms\n",
      to_hex(protocol::market_id_of(genesis)), appended.sequence, o.contract, o.reference,
      spec.resolution_ms);
  if (private_terms) {
    fmt::print(
        "private: windows of {} tokens, bond {} {}, exit penalty {} {} per contract, "
        "validators' key {}\n",
        std::size_t{1} << private_terms->log_window, spec.format_cash(spec.bond), spec.currency,
        spec.format_cash(spec.liquidation_penalty_per_contract), spec.currency,
        to_hex(private_terms->validators_key.encode()));
  }
  return Status::ok();
}

Status node_action(const NodeOptions& o, const std::string& what) {
  if (is_private_wallet(o.wallet)) return private_node_action(o, what);
  NodeReplica replica;
  const bool issuer = what == "advance" || what == "mint";
  PFEX_ASSIGN_OR_RETURN(node::Wallet w, open_synced(o, replica, {}, issuer));
  if (what == "mint") return issue_mint(w, o, replica);
  if (replica.validator().exchange() == nullptr) {  // the issuer's advance in a private market
    PFEX_RETURN_IF_ERROR(w.prepare(market::AdvanceAction{}).status());
    return submit_and_report(w, o, replica);
  }
  const market::ContractSpec& spec = replica.validator().exchange()->spec();
  market::Action action;
  if (what == "register") {
    if (w.account()) {
      return Status::already_exists("this wallet already has account " +
                                    std::to_string(w.account()->value));
    }
    action = market::RegisterAction{};
  } else if (what == "advance") {
    action = market::AdvanceAction{};  // only the issuer's key is accepted
  } else if (what == "settle") {
    PFEX_ASSIGN_OR_RETURN(const Price price, spec.parse_price(o.price));
    action = market::SettleFinalAction{price};
  } else {
    if (!w.account()) return Status::failed_precondition("register first (pfex node register)");
    const market::AccountId a = *w.account();
    if (what == "deposit" || what == "withdraw" || (what == "refresh" && !o.amount.empty())) {
      PFEX_ASSIGN_OR_RETURN(const Cash amount, spec.parse_cash(o.amount));
      if (what == "deposit") action = market::DepositAction{a, amount};
      if (what == "withdraw") action = market::WithdrawAction{a, amount};
      if (what == "refresh") action = market::RefreshAction{a, amount};
    } else if (what == "refresh") {
      action = market::RefreshAction{a, Cash(0)};
    } else if (what == "cancel") {
      action = market::CancelAction{a, market::OrderId{o.order}};
    } else if (what == "reduce") {
      action = market::ReduceAction{a, market::OrderId{o.order}, Qty(o.qty)};
    } else if (what == "order" || what == "replace") {
      market::OrderRequest req;
      PFEX_ASSIGN_OR_RETURN(req.side, market::parse_side(o.side));
      PFEX_ASSIGN_OR_RETURN(req.type, market::parse_order_type(o.type));
      // A market order's --price is its reservation price (docs/design.md section 3); without
      // one the exchange takes its protection limit. Any other order needs its limit price.
      if (req.type != market::OrderType::kMarket || !o.price.empty()) {
        PFEX_ASSIGN_OR_RETURN(req.limit, spec.parse_price(o.price));
      }
      req.qty = Qty(o.qty);
      if (what == "order") {
        action = market::SubmitAction{a, req};
      } else {
        action = market::ReplaceAction{a, market::OrderId{o.order}, req};
      }
    } else {
      return Status::invalid_argument("unknown node command " + what);
    }
  }
  PFEX_RETURN_IF_ERROR(w.prepare(action).status());
  return submit_and_report(w, o, replica);
}

Status node_create(const NodeOptions& o) {
  if (o.private_wallet) return private_node_create(o);
  PFEX_ASSIGN_OR_RETURN(auto w, node::Wallet::create(o.wallet, o.passphrase));
  fmt::print("wallet {} created; identity key {}\n", o.wallet, to_hex(w.public_key()));
  return Status::ok();
}

Status node_status(const NodeOptions& o) {
  if (is_private_wallet(o.wallet)) return private_node_status(o);
  NodeReplica replica;
  PFEX_ASSIGN_OR_RETURN(node::Wallet w, open_synced(o, replica));
  const protocol::LedgerReplica& v = replica.validator();
  fmt::print("identity {}\nmarket {}\nlast sequence {} (ledger has {}), {} pending\n",
             to_hex(w.public_key()), to_hex(*w.market()), w.last_sequence(),
             v.last_sequence_of(w.public_key()), w.pending().size());
  if (!w.account()) {
    fmt::print("not registered\n");
    return Status::ok();
  }
  PFEX_ASSIGN_OR_RETURN(const auto acc, v.exchange()->account(*w.account()));
  const auto& spec = v.exchange()->spec();
  fmt::print("account {}: cash {} {}, position {}, open buy {}, open sell {}\n", w.account()->value,
             spec.format_cash(acc.cash), spec.currency, acc.position, acc.open_buy.value(),
             acc.open_sell.value());
  if (v.exchange()->phase() == market::Phase::kRefreshWindow) {
    fmt::print("margin round open (epoch {}): {}\n", v.exchange()->epoch(),
               acc.refreshed ? "refreshed" : "not refreshed (pfex node refresh)");
  }
  const market::AccountId me = *w.account();
  for (const market::Side side : {market::Side::kBuy, market::Side::kSell}) {
    v.exchange()->book().for_each(side, [&](const market::OrderBook::Order& resting) {
      if (resting.owner != me) return;
      fmt::print("open order {}: {} {} at {}\n", resting.id.value, market::side_name(side),
                 resting.open.value(), spec.format_price(resting.limit));
    });
  }
  for (auto it = replica.fills().rbegin(); it != replica.fills().rend(); ++it) {
    fmt::print("fill (trade {}): {} {} at {}, order {} ({})\n", it->trade,
               market::side_name(it->side), it->qty.value(), spec.format_price(it->price),
               it->order.value, it->taker ? "taker" : "maker");
  }
  return Status::ok();
}

Status node_watch(const NodeOptions& o, const std::function<bool()>& stopped) {
  if (is_private_wallet(o.wallet)) return private_node_watch(o, stopped);
  if (o.auto_refresh && o.gateway.empty()) {
    return Status::invalid_argument("--auto-refresh needs --gateway");
  }
  std::optional<node::SubmitOptions> submit;
  if (o.auto_refresh) {
    PFEX_ASSIGN_OR_RETURN(submit, submit_options(o));
  }
  NodeReplica replica;
  const protocol::LedgerReplica& v = replica.validator();
  market::AccountId me;
  // Without --auto-refresh only the account is needed: the wallet is closed again (its lock
  // released) so other node commands can use it while this one watches. With it, the watch
  // signs Refresh transactions and keeps the wallet.
  std::optional<node::Wallet> wallet;
  {
    PFEX_ASSIGN_OR_RETURN(node::Wallet w, open_synced(o, replica));  // silently, to the log's end
    if (!w.account()) return Status::failed_precondition("register first (pfex node register)");
    me = *w.account();
    if (o.auto_refresh) wallet.emplace(std::move(w));
  }
  fmt::print("watching account {} from log entry {}{}\n", me.value, v.next_sequence(),
             o.auto_refresh ? ", refreshing at margin rounds" : "");
  std::fflush(stdout);
  replica.set_event_sink([&](const protocol::EntryOutcome&, std::span<const market::Event> events) {
    for (const market::Event& e : events) {
      if (concerns(e, me)) fmt::print("{}\n", sim::describe_event(*v.exchange(), e, {}));
    }
    std::fflush(stdout);
  });
  node::AutoRefresh refresher;
  PFEX_ASSIGN_OR_RETURN(auto reader, open_log_reader(o.log));
  RetryingReader retrying(*reader, RetryOptions{.report = {}, .stopped = stopped});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.watch_seconds);
  while (!stopped() && (o.watch_seconds == 0 || std::chrono::steady_clock::now() < deadline)) {
    auto got = retrying.follow(v.next_sequence(), 4096, std::chrono::milliseconds(200));
    if (!got && stopped()) break;
    PFEX_ASSIGN_OR_RETURN(auto batch, std::move(got));
    PFEX_RETURN_IF_ERROR(replica.apply(batch).status());
    if (wallet && !wallet->pending().empty()) {
      PFEX_RETURN_IF_ERROR(node::settle_pending(*wallet, v, batch).status());
    }
    if (!wallet) continue;
    const std::optional<Cash> deposit = refresher.due(*v.exchange(), me);
    if (!deposit) continue;
    // A failed submission is reported and the watch goes on: the round's window is long, and a
    // change of cash (a deposit) makes the refresh due again.
    Status sent = wallet->prepare(market::RefreshAction{me, *deposit}).status();
    if (sent.is_ok()) sent = node::submit_pending(*wallet, *submit).status();
    fmt::print("margin round, epoch {}: refresh {}\n", v.exchange()->epoch(),
               sent.is_ok() ? "sent" : "failed: " + sent.to_string());
    std::fflush(stdout);
  }
  return Status::ok();
}

Status node_resubmit(const NodeOptions& o) {
  if (is_private_wallet(o.wallet)) return private_node_resubmit(o);
  NodeReplica replica;
  PFEX_ASSIGN_OR_RETURN(node::Wallet w, open_synced(o, replica));
  fmt::print("{} pending\n", w.pending().size());
  if (w.pending().empty()) return Status::ok();
  return submit_and_report(w, o, replica);
}

}  // namespace pfex::service
