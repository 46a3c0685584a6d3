// The trader node's commands in a private market; see private_node.hpp.
#include "service/private_node.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "market/names.hpp"
#include "node/log_adapter.hpp"
#include "node/private_trader.hpp"
#include "node/private_wallet_store.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/private_market.hpp"
#include "service/log_spec.hpp"
#include "service/node_replica.hpp"
#include "service/retrying_reader.hpp"

namespace pfex::service {
namespace {

// How long a command waits for the log to decide the transaction it sent.
constexpr auto kDecideTimeout = std::chrono::seconds(30);

// One command's node: the generators (which the wallet refers to), the replica of the log and
// the open wallet with its trader. Members are destroyed in reverse order: the trader and the
// wallet before the generators.
struct PrivateNode {
  std::shared_ptr<const priv::PrivateGens> gens;
  NodeReplica replica;
  std::optional<node::PrivateWalletStore> store;
  std::unique_ptr<node::PrivateTrader> trader;
  // Outcomes of the entries carrying the bytes this command sent, by log position.
  std::vector<protocol::EntryOutcome> decided;
  Bytes sent;

  const protocol::LedgerReplica& validator() const { return replica.validator(); }
  const priv::PrivateLedger& ledger() const { return *validator().private_ledger(); }
  const market::ContractSpec& spec() const { return validator().private_book()->spec(); }
  priv::PrivateWallet& wallet() { return store->wallet(); }

  // Takes a batch the replica applied into the trader (and notes the outcome of `sent`).
  Status take(std::span<const ledger::LogEntry> batch,
              std::span<const protocol::EntryOutcome> outcomes) {
    if (validator().private_ledger() == nullptr) return Status::ok();  // checked by the caller
    const std::vector<protocol::LedgerEntry> entries = node::to_protocol_entries(batch);
    for (std::size_t i = 0; i < entries.size() && i < outcomes.size(); ++i)
      if (!sent.empty() && entries[i].payload == sent) decided.push_back(outcomes[i]);
    return trader->follow(validator(), entries, outcomes);
  }
};

bool has_magic(const std::string& path, std::string_view magic) {
  std::ifstream in(path, std::ios::binary);
  std::string head(magic.size(), '\0');
  if (!in.read(head.data(), static_cast<std::streamsize>(head.size()))) return false;
  return head == magic;
}

Status need_private(const protocol::LedgerReplica& v) {
  if (!v.market_id()) return Status::failed_precondition("the log has no market yet");
  if (v.private_ledger() == nullptr) {
    return Status::failed_precondition(
        "the log's market is transparent: this is a private wallet (create a transparent one "
        "with pfex node create without --private)");
  }
  return Status::ok();
}

// Opens the wallet and brings the replica and the wallet up to date with the log.
Result<std::unique_ptr<PrivateNode>> open_node(const NodeOptions& o,
                                               node::PrivateTrader::Submit submit) {
  auto n = std::make_unique<PrivateNode>();
  n->gens = std::make_shared<const priv::PrivateGens>();
  PFEX_ASSIGN_OR_RETURN(auto store,
                        node::PrivateWalletStore::open(o.wallet, o.passphrase, *n->gens));
  n->store.emplace(std::move(store));
  const std::string replica_path = n->store->path() + ".replica";
  std::string note;
  PFEX_ASSIGN_OR_RETURN(n->replica, NodeReplica::load(replica_path, &note));
  if (n->validator().next_sequence() - 1 > n->store->followed()) {
    // The wallet holds less of the log than the replica (a wallet restored from a backup):
    // what the wallet missed (mints, transfers) is only in the entries, so the log is replayed.
    note = "the wallet is behind its node replica; replaying the log";
    std::remove(replica_path.c_str());
    PFEX_ASSIGN_OR_RETURN(n->replica, NodeReplica::load(replica_path));
  }
  if (!note.empty()) fmt::print(stderr, "pfex: {}\n", note);
  node::PrivateTraderOptions options;
  options.max_settle_delay = LedgerTime(static_cast<std::int64_t>(
      std::min<std::uint64_t>(o.settle_delay_ms, static_cast<std::uint64_t>(INT32_MAX))));
  options.auto_refresh = o.auto_refresh;
  n->trader = std::make_unique<node::PrivateTrader>(*n->store, std::move(submit), options);
  PFEX_ASSIGN_OR_RETURN(auto reader, open_log_reader(o.log));
  note.clear();
  PrivateNode* node = n.get();
  const Status caught_up = n->replica.catch_up(
      *reader,
      [node](const protocol::LedgerReplica& v, std::span<const ledger::LogEntry> batch,
             std::span<const protocol::EntryOutcome> outcomes) -> Status {
        PFEX_RETURN_IF_ERROR(need_private(v));
        return node->take(batch, outcomes);
      },
      &note);
  PFEX_RETURN_IF_ERROR(caught_up);
  if (!note.empty()) fmt::print(stderr, "pfex: {}\n", note);
  PFEX_RETURN_IF_ERROR(need_private(n->validator()));
  if (n->ledger().terms().market_id != n->store->market())
    return Status::failed_precondition("the wallet belongs to another market than the log's");
  // Caught up with nothing new (the replica was at the log's end): the trader still looks.
  PFEX_RETURN_IF_ERROR(n->trader->follow(n->validator(), {}, {}));
  if (n->trader->rejection()) fmt::print("{}\n", n->trader->rejection()->message());
  PFEX_RETURN_IF_ERROR(n->replica.save());
  return n;
}

Result<node::PrivateTrader::Submit> submitter(const NodeOptions& o) {
  PFEX_ASSIGN_OR_RETURN(node::SubmitOptions s, submit_options(o));
  return node::submit_through(std::move(s));
}

std::string describe(const PrivateNode& n, const protocol::EntryOutcome& out) {
  if (!out.accepted) return "rejected: " + out.reason.to_string();
  std::string detail;
  if (out.private_result && out.private_result->new_order) {
    const std::uint64_t id = *out.private_result->new_order;
    const priv::PrivateOrder* o = n.ledger().order(id);
    if (o != nullptr) {
      detail = fmt::format(" order {} filled {} resting {}{}", id, o->filled,
                           o->closed ? 0 : o->qty - o->filled, o->closed ? " (closed)" : "");
    }
  }
  return "accepted" + detail;
}

// Follows the log until the trader has nothing pending, and says what the log did with the
// bytes this command sent. An error when the log rejected them or did not decide in time.
Status await_decision(PrivateNode& n, const NodeOptions& o) {
  if (!n.store->pending_entry()) return Status::ok();
  n.sent = *n.store->pending_entry();
  PFEX_ASSIGN_OR_RETURN(auto reader, open_log_reader(o.log));
  const auto deadline = std::chrono::steady_clock::now() + kDecideTimeout;
  while (n.trader->busy() && std::chrono::steady_clock::now() < deadline) {
    PFEX_ASSIGN_OR_RETURN(auto batch, reader->follow(n.validator().next_sequence(), 4096,
                                                     std::chrono::milliseconds(100)));
    PFEX_ASSIGN_OR_RETURN(const auto outcomes, n.replica.apply(batch));
    PFEX_RETURN_IF_ERROR(n.take(batch, outcomes));
  }
  PFEX_RETURN_IF_ERROR(n.replica.save());
  for (const protocol::EntryOutcome& out : n.decided)
    fmt::print("log entry {}: {}\n", out.sequence, describe(n, out));
  if (n.trader->busy()) {
    return Status::io_error(
        "the transaction is not in the log after 30 s; it stays pending and is resubmitted by "
        "the next command (or pfex node resubmit)");
  }
  if (n.trader->rejection()) {
    return Status::failed_precondition(std::string(n.trader->rejection()->message()));
  }
  return Status::ok();
}

Result<priv::Side> private_side(const std::string& text) {
  PFEX_ASSIGN_OR_RETURN(const market::Side side, market::parse_side(text));
  return side == market::Side::kBuy ? priv::Side::kBuy : priv::Side::kSell;
}

Result<priv::OrderKind> private_kind(const std::string& text) {
  PFEX_ASSIGN_OR_RETURN(const market::OrderType type, market::parse_order_type(text));
  switch (type) {
    case market::OrderType::kLimit:
      return priv::OrderKind::kLimit;
    case market::OrderType::kImmediateOrCancel:
      return priv::OrderKind::kIoc;
    case market::OrderType::kFillOrKill:
      return priv::OrderKind::kFok;
    case market::OrderType::kPostOnly:
      return priv::OrderKind::kPostOnly;
    case market::OrderType::kMarket:
      return priv::OrderKind::kMarket;
  }
  return Status::invalid_argument("unknown order type " + text);
}

// The price of a private order: its limit, or a market order's public reservation price; inside
// the band (checked here, before the wallet proves anything).
Result<std::int64_t> order_price(const PrivateNode& n, const NodeOptions& o, priv::OrderKind kind) {
  if (o.price.empty()) {
    return Status::invalid_argument(kind == priv::OrderKind::kMarket
                                        ? "a market order in a private market needs --price, its "
                                          "public reservation price"
                                        : "this order type needs --price");
  }
  PFEX_ASSIGN_OR_RETURN(const Price price, n.spec().parse_price(o.price));
  const priv::MarketTerms& terms = n.ledger().terms();
  if (!terms.in_band(price.value())) {
    return Status::invalid_argument(fmt::format("price {} is outside the band [{}, {}]", o.price,
                                                n.spec().format_price(Price(terms.low)),
                                                n.spec().format_price(Price(terms.high))));
  }
  return price.value();
}

Result<std::uint64_t> cash_amount(const PrivateNode& n, const std::string& text) {
  PFEX_ASSIGN_OR_RETURN(const Cash amount, n.spec().parse_cash(text));
  if (amount.value() <= 0) return Status::invalid_argument("the amount must be positive");
  return static_cast<std::uint64_t>(amount.value());
}

Status act(PrivateNode& n, const NodeOptions& o, const std::string& what) {
  const priv::PrivateLedger& ledger = n.ledger();
  node::PrivateTrader& t = *n.trader;
  if (what == "mint" || what == "advance") {
    return Status::failed_precondition("pfex node " + what +
                                       ": only the market's issuer, with its (transparent) wallet");
  }
  const bool registered = ledger.identity(n.wallet().identity()) != nullptr;
  if (what == "register") {
    if (registered) return Status::already_exists("this wallet's identity is registered");
    return t.register_identity(ledger, ledger.terms().bond);
  }
  if (!registered || !n.wallet().token_index())
    return Status::failed_precondition("register first (pfex node register)");
  if (what == "deposit") {
    PFEX_ASSIGN_OR_RETURN(const std::uint64_t amount, cash_amount(n, o.amount));
    return t.deposit(ledger, amount);
  }
  if (what == "withdraw") {
    PFEX_ASSIGN_OR_RETURN(const std::uint64_t amount, cash_amount(n, o.amount));
    return t.withdraw(ledger, amount);
  }
  if (what == "settle") {
    if (n.wallet().pending_entries(ledger, std::nullopt).empty())
      return Status::failed_precondition("nothing to settle");
    return t.settle(ledger);
  }
  if (what == "refresh") {
    if (!ledger.in_refresh_window())
      return Status::failed_precondition("no margin round is open: nothing to refresh");
    if (!n.wallet().pending_entries(ledger, std::nullopt).empty())
      return Status::failed_precondition(
          "settle first (pfex node settle): a refresh needs every fill claimed and every closed "
          "order released");
    std::optional<std::uint64_t> deposit;
    if (!o.amount.empty()) {
      PFEX_ASSIGN_OR_RETURN(deposit, cash_amount(n, o.amount));
    }
    return t.refresh(ledger, deposit).status();
  }
  if (what == "cancel") return t.cancel(ledger, o.order);
  if (what == "reduce") return t.reduce(ledger, o.order, o.qty);
  PFEX_ASSIGN_OR_RETURN(const priv::Side side, private_side(o.side));
  PFEX_ASSIGN_OR_RETURN(const priv::OrderKind kind, private_kind(o.type));
  PFEX_ASSIGN_OR_RETURN(const std::int64_t price, order_price(n, o, kind));
  if (what == "replace") return t.replace(ledger, o.order, side, kind, price, o.qty);
  if (what == "order") return t.post(ledger, side, kind, price, o.qty);
  return Status::invalid_argument("pfex node " + what + " has no meaning in a private market");
}

}  // namespace

bool is_private_wallet(const std::string& path) {
  return has_magic(path, "PFEXPWL1");
}

Status private_node_create(const NodeOptions& o) {
  if (o.log.empty()) return Status::invalid_argument("a private wallet needs --log (its market)");
  auto gens = std::make_shared<const priv::PrivateGens>();
  protocol::LedgerReplica v(gens);
  PFEX_ASSIGN_OR_RETURN(auto reader, open_log_reader(o.log));
  PFEX_ASSIGN_OR_RETURN(const auto first, reader->read(1, 1));
  if (!first.empty()) {
    PFEX_RETURN_IF_ERROR(v.apply_batch(node::to_protocol_entries(first)).status());
  }
  PFEX_RETURN_IF_ERROR(need_private(v));
  PFEX_ASSIGN_OR_RETURN(
      auto store, node::PrivateWalletStore::create(o.wallet, o.passphrase, *gens, *v.market_id()));
  fmt::print("private wallet {} created for market {}; identity {}\n", o.wallet,
             to_hex(*v.market_id()), to_hex(store.wallet().identity()));
  return Status::ok();
}

Status private_node_action(const NodeOptions& o, const std::string& what) {
  PFEX_ASSIGN_OR_RETURN(auto submit, submitter(o));
  PFEX_ASSIGN_OR_RETURN(auto n, open_node(o, std::move(submit)));
  if (n->trader->busy()) {
    fmt::print("resubmitting the transaction left pending\n");
    Status sent = n->trader->resubmit_pending(n->ledger());
    if (!sent && !n->trader->busy()) {
      // The gateway refused it and the node's replica agrees: dropped; the command goes on.
      fmt::print("{}\n", sent.message());
    } else {
      if (sent) sent = await_decision(*n, o);
      if (!sent) return sent.with_context("the transaction left pending");
    }
    n->decided.clear();
  }
  if (Status built = act(*n, o, what); !built) {
    // The wallet's refusal names the shortfall in minor units; the cash amount is added.
    const std::string_view m = built.message();
    constexpr std::string_view kShort = "E_L short by ";
    const auto at = m.find(kShort);
    std::int64_t x = 0;
    if (built.code() == ErrorCode::kInsolvent && at != std::string_view::npos) {
      const char* first = m.data() + at + kShort.size();
      if (std::from_chars(first, m.data() + m.size(), x).ec == std::errc()) {
        return Status::insolvent(fmt::format("{} (E_L short by {} {}); nothing was sent", m,
                                             n->spec().format_cash(Cash(x)), n->spec().currency));
      }
    }
    return built;
  }
  return await_decision(*n, o);
}

Status private_node_resubmit(const NodeOptions& o) {
  PFEX_ASSIGN_OR_RETURN(auto submit, submitter(o));
  PFEX_ASSIGN_OR_RETURN(auto n, open_node(o, std::move(submit)));
  fmt::print("{} pending\n", n->trader->busy() ? 1 : 0);
  if (!n->trader->busy()) return Status::ok();
  PFEX_RETURN_IF_ERROR(n->trader->resubmit_pending(n->ledger()));
  return await_decision(*n, o);
}

Status private_node_status(const NodeOptions& o) {
  PFEX_ASSIGN_OR_RETURN(auto n, open_node(o, [](ByteSpan) {
                          return Status::failed_precondition("status sends nothing");
                        }));
  const priv::PrivateLedger& ledger = n->ledger();
  const market::ContractSpec& spec = n->spec();
  priv::PrivateWallet& w = n->wallet();
  const auto fmt_cash = [&](std::int64_t c) { return spec.format_cash(Cash(c)); };
  fmt::print("identity {}\nmarket {} (private), followed to log entry {}, {} pending\n",
             to_hex(w.identity()), to_hex(n->store->market()), n->store->followed(),
             n->trader->busy() ? 1 : 0);
  // What every validator's replica holds at that entry (compare: pfex validator --once).
  fmt::print("state {} at log entry {}\n", to_hex(n->validator().state_hash()),
             n->validator().next_sequence() - 1);
  if (ledger.identity(w.identity()) == nullptr || !w.token_index()) {
    fmt::print("not registered; cash account {} {}\n",
               fmt_cash(static_cast<std::int64_t>(w.cash_balance())), spec.currency);
    return Status::ok();
  }
  const priv::Attributes& a = w.attributes();
  fmt::print("cash account {} {}\n", fmt_cash(static_cast<std::int64_t>(w.cash_balance())),
             spec.currency);
  fmt::print("token (epoch {}, index {}): cash {} {}, position {}, open buy {}, open sell {}\n",
             w.token_epoch(), *w.token_index(), fmt_cash(a.c), spec.currency,
             static_cast<std::int64_t>(a.vp) - static_cast<std::int64_t>(a.vm), a.B, a.S);
  if (ledger.defaulted(w.identity())) fmt::print("defaulted\n");
  if (ledger.in_refresh_window()) {
    fmt::print("margin round open (epoch {}): {}\n", ledger.terms().epoch,
               ledger.refreshed(w.identity()) ? "refreshed" : "not refreshed (pfex node refresh)");
  }
  for (const std::uint64_t id : w.open_orders()) {
    const priv::PrivateOrder* order = ledger.order(id);
    if (order == nullptr) continue;
    const std::string state = order->closed ? (order->released ? "closed" : "closed, to release")
                                            : "open " + std::to_string(order->qty - order->filled);
    fmt::print("order {}: {} {} at {}, filled {} ({} fill(s), {} claimed), {}\n", id,
               order->side == priv::Side::kBuy ? "buy" : "sell", order->qty,
               spec.format_price(Price(order->price)), order->filled, order->fills.size(),
               order->claimed, state);
  }
  const auto entries = w.pending_entries(ledger, std::nullopt);
  if (!entries.empty()) fmt::print("to settle: {} order(s)\n", entries.size());
  return Status::ok();
}

Status private_node_watch(const NodeOptions& o, const std::function<bool()>& stopped) {
  const bool acting = !o.gateway.empty();
  if (o.auto_refresh && !acting) return Status::invalid_argument("--auto-refresh needs --gateway");
  node::PrivateTrader::Submit submit = [](ByteSpan) {
    return Status::failed_precondition("this watch sends nothing (no --gateway)");
  };
  if (acting) {
    PFEX_ASSIGN_OR_RETURN(submit, submitter(o));
  }
  PFEX_ASSIGN_OR_RETURN(auto n, open_node(o, std::move(submit)));
  fmt::print("watching identity {} from log entry {}{}{}\n", to_hex(n->wallet().identity()),
             n->validator().next_sequence(), acting ? ", settling fills" : "",
             o.auto_refresh ? ", refreshing at margin rounds" : "");
  std::fflush(stdout);
  PFEX_ASSIGN_OR_RETURN(auto reader, open_log_reader(o.log));
  RetryingReader retrying(*reader, RetryOptions{.report = {}, .stopped = stopped});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.watch_seconds);
  std::size_t forgotten = n->trader->forgotten_orders();
  while (!stopped() && (o.watch_seconds == 0 || std::chrono::steady_clock::now() < deadline)) {
    auto got =
        retrying.follow(n->validator().next_sequence(), 4096, std::chrono::milliseconds(200));
    if (!got && stopped()) break;
    PFEX_ASSIGN_OR_RETURN(auto batch, std::move(got));
    const bool was_busy = n->trader->busy();
    PFEX_ASSIGN_OR_RETURN(const auto outcomes, n->replica.apply(batch));
    PFEX_RETURN_IF_ERROR(n->take(batch, outcomes));
    if (!batch.empty()) PFEX_RETURN_IF_ERROR(n->replica.save());
    if (was_busy && !n->trader->busy()) {
      fmt::print("{}\n", n->trader->rejection() ? std::string(n->trader->rejection()->message())
                                                : std::string("confirmed"));
    }
    if (n->trader->forgotten_orders() != forgotten) {
      fmt::print("dropped {} settled order(s) from the wallet\n",
                 n->trader->forgotten_orders() - forgotten);
      forgotten = n->trader->forgotten_orders();
    }
    std::fflush(stdout);
    if (!acting || n->trader->busy()) continue;
    const bool round = n->ledger().in_refresh_window() &&
                       !n->ledger().refreshed(n->wallet().identity()) &&
                       n->wallet().pending_entries(n->ledger(), std::nullopt).empty();
    Result<bool> sent = n->trader->step(n->ledger());
    if (!sent.is_ok()) {
      // Reported; the watch goes on (a deposit into the cash account makes a refresh possible).
      fmt::print("pfex: {}\n", sent.status().to_string());
    } else if (*sent) {
      fmt::print("{} sent\n",
                 round && o.auto_refresh
                     ? fmt::format("margin round, epoch {}: refresh", n->ledger().terms().epoch)
                     : std::string("settle"));
    }
    std::fflush(stdout);
  }
  return n->replica.save();
}

}  // namespace pfex::service
