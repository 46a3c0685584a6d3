// The pfex commands around a log: market init, validator, gateway and the trader node. See
// ledger_commands.hpp and docs/node/cli.md.
#include "ledger_commands.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ledger/etcd_log.hpp"
#include "ledger/file_log.hpp"
#include "node/auto_refresh.hpp"
#include "node/gateway.hpp"
#include "node/log_adapter.hpp"
#include "node/read_server.hpp"
#include "node/submit.hpp"
#include "node/wallet.hpp"
#include "protocol/snapshot_store.hpp"
#include "protocol/validator.hpp"
#include "sim/report.hpp"

namespace pfex::cli {

// A log named on the command line: a FileLog path, or "etcd:" and the comma-separated client
// URLs of an etcd cluster (docs/ledger/etcd.md).
constexpr std::string_view kEtcdScheme = "etcd:";

Result<std::unique_ptr<ledger::EtcdLog>> open_etcd(std::string_view spec,
                                                   std::function<LedgerTime()> clock) {
  ledger::EtcdLogOptions options;
  if (clock) options.clock = std::move(clock);
  std::string_view rest = spec.starts_with(kEtcdScheme) ? spec.substr(kEtcdScheme.size()) : spec;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    options.endpoints.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return ledger::EtcdLog::open(std::move(options));
}

namespace {

// Set by SIGINT/SIGTERM; long-running commands poll it.
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) {
  g_stop = 1;
}
void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

[[noreturn]] void finish(int code) {
  throw CLI::RuntimeError(code);
}

[[noreturn]] void fail(const Status& s) {
  fmt::print(stderr, "pfex: {}\n", s.to_string());
  finish(s.code() == ErrorCode::kInvalidArgument ? 2 : 1);
}

template <class T>
T value_or_fail(Result<T> r) {
  if (!r) fail(r.status());
  return std::move(r).value();
}

void check(const Status& s) {
  if (!s) fail(s);
}

// The passphrase: from the environment variable PFEX_PASSPHRASE, else one line of stdin.
std::string passphrase() {
  if (const char* p = std::getenv("PFEX_PASSPHRASE")) return p;
  if (::isatty(0)) fmt::print(stderr, "wallet passphrase: ");
  std::string line;
  std::getline(std::cin, line);
  return line;
}

// For appending (the gateway, market init): a FileLog is created if missing.
std::unique_ptr<ledger::Log> open_writer(const std::string& spec,
                                         std::function<LedgerTime()> clock = {}) {
  if (spec.starts_with(kEtcdScheme)) return value_or_fail(open_etcd(spec, std::move(clock)));
  ledger::FileLog::Options options;
  if (clock) options.clock = std::move(clock);
  return value_or_fail(ledger::FileLog::open(spec, std::move(options)));
}

// For reading only (validators, nodes): never modifies a FileLog.
std::unique_ptr<ledger::LogReader> open_reader(const std::string& spec) {
  if (spec.starts_with(kEtcdScheme)) return value_or_fail(open_etcd(spec));
  return value_or_fail(ledger::FileLogReader::open(spec));
}

// Replays the whole log (read-only) into a fresh validator.
protocol::Validator replay_log(const std::string& log_path,
                               protocol::Validator::EventSink sink = {}) {
  auto reader = open_reader(log_path);
  protocol::Validator v;
  v.set_event_sink(std::move(sink));
  for (;;) {
    auto batch = value_or_fail(reader->read(v.next_sequence(), 4096));
    if (batch.empty()) return v;
    check(v.apply_batch(node::to_protocol_entries(batch), 2).status());
  }
}

// ---- pfex market init ----
struct MarketInit {
  std::string log, issuer_wallet, contract = "seed-example", reference;
};

void run_market_init(const MarketInit& o) {
  const market::ContractSpec spec = value_or_fail(market::contract_preset(o.contract));
  const Price reference = value_or_fail(spec.parse_price(o.reference));
  auto issuer = value_or_fail(node::Wallet::open(o.issuer_wallet, passphrase()));
  const Bytes genesis =
      protocol::encode_entry(protocol::Genesis{spec, reference, issuer.public_key()});
  auto log = open_writer(o.log);
  if (!value_or_fail(log->read(1, 1)).empty()) {
    fail(Status::failed_precondition("log " + o.log + " is not empty; a market opens a new log"));
  }
  const auto appended = value_or_fail(log->append(genesis));
  check(issuer.set_market(protocol::market_id_of(genesis)));
  fmt::print("market {} opened at log entry {}: {} at reference {}\n",
             to_hex(protocol::market_id_of(genesis)), appended.sequence, o.contract, o.reference);
  finish(0);
}

// ---- pfex validator ----
struct ValidatorOptions {
  std::string log, snapshots;
  std::string name;    // etcd: records this validator's snapshots under this name
  bool prune = false;  // etcd: after each snapshot, delete what every validator's snapshot covers
  std::uint64_t snapshot_every = 10'000;
  unsigned threads = 2;
  std::uint16_t http_port = 0;  // 0: no read API
  bool once = false;
  bool book = false;
};

void print_state(const protocol::Validator& v, bool book) {
  fmt::print("entries {} (accepted {}, rejected {}), next sequence {}\nchain {}\nstate {}\n",
             v.entries(), v.accepted(), v.rejected(), v.next_sequence(), to_hex(v.chain()),
             to_hex(v.state_hash()));
  if (book && v.exchange()) {
    fmt::print("{}\n{}\n", sim::market_line(*v.exchange()), sim::book_table(*v.exchange(), 10));
  }
  std::fflush(stdout);  // SIGUSR1's answer must reach a redirected stdout now, not at exit
}

std::string state_json(const protocol::Validator& v) {
  return fmt::format(
      "{{\"entries\": {}, \"accepted\": {}, \"rejected\": {}, \"next_sequence\": {}, "
      "\"ledger_time\": {}, \"chain\": \"{}\", \"state_hash\": \"{}\"}}",
      v.entries(), v.accepted(), v.rejected(), v.next_sequence(), v.ledger_time().value(),
      to_hex(v.chain()), to_hex(v.state_hash()));
}

std::string trade_json(const market::Event& e, const market::Trade& t) {
  return fmt::format(
      "{{\"seq\": {}, \"time\": {}, \"price\": {}, \"qty\": {}, \"maker\": {}, "
      "\"taker\": {}, \"maker_account\": {}, \"taker_account\": {}, \"taker_side\": \"{}\"}}",
      t.seq, e.time.value(), t.price.value(), t.qty.value(), t.maker.value, t.taker.value,
      t.maker_owner.value, t.taker_owner.value, market::side_name(t.taker_side));
}

void run_validator(const ValidatorOptions& o) {
  install_stop_handlers();
  std::optional<protocol::SnapshotStore> store;
  protocol::Validator v;
  if (!o.snapshots.empty()) {
    store.emplace(value_or_fail(protocol::SnapshotStore::open(o.snapshots)));
    std::string skipped;
    auto latest = value_or_fail(store->load_latest(&skipped));
    if (!skipped.empty()) fmt::print(stderr, "pfex validator: skipped snapshots:\n{}", skipped);
    if (latest) {
      v = std::move(*latest);
      fmt::print("restored snapshot at log entry {}\n", v.next_sequence() - 1);
    }
  }
  std::unique_ptr<ledger::LogReader> reader;
  ledger::EtcdLog* etcd = nullptr;  // the same object as reader, when the log is etcd
  if (o.log.starts_with(kEtcdScheme)) {
    auto log = value_or_fail(open_etcd(o.log));
    etcd = log.get();
    reader = std::move(log);
  } else {
    reader = open_reader(o.log);
  }
  if (!o.name.empty() && (!etcd || !store)) {
    fail(Status::invalid_argument("--name needs an etcd log and --snapshots"));
  }
  if (o.prune && o.name.empty()) fail(Status::invalid_argument("--prune needs --name"));
  // Registers (or re-registers) this validator's position: pruning never passes it.
  auto record_snapshot = [&] {
    if (o.name.empty()) return;
    check(etcd->record_snapshot(o.name, v.next_sequence() - 1));
    if (!o.prune) return;
    const std::uint64_t deleted = value_or_fail(etcd->prune());
    if (deleted > 0) {
      fmt::print("pruned {} log entries below {}\n", deleted, value_or_fail(etcd->floor()));
    }
  };
  record_snapshot();
  // SIGUSR1 prints the state while following.
  static volatile std::sig_atomic_t print_requested = 0;
  std::signal(SIGUSR1, [](int) { print_requested = 1; });
  std::uint64_t since_snapshot = 0;

  // The read API's view: the validator under a lock, and the last trades seen.
  std::mutex mutex;
  std::deque<std::string> trades;
  constexpr std::size_t kKeptTrades = 100;
  v.set_event_sink([&](const protocol::EntryOutcome& out, std::span<const market::Event> events) {
    if (!out.accepted) {
      fmt::print("entry {} rejected: {}\n", out.sequence, out.reason.to_string());
    }
    for (const market::Event& e : events) {
      if (const auto* t = std::get_if<market::Trade>(&e.body)) {
        trades.push_back(trade_json(e, *t));
        if (trades.size() > kKeptTrades) trades.pop_front();
      }
    }
  });
  std::optional<node::ReadServer> api;
  if (o.http_port != 0) {
    api.emplace("127.0.0.1", o.http_port);
    api->get("/v1/state", [&] {
      std::lock_guard lock(mutex);
      return state_json(v);
    });
    api->get("/v1/market", [&] {
      std::lock_guard lock(mutex);
      return v.exchange() ? sim::outcome_json(*v.exchange(), {}) : std::string("null");
    });
    api->get("/v1/trades", [&] {
      std::lock_guard lock(mutex);
      std::string out = "[";
      for (const auto& t : trades)
        out += (out.size() > 1 ? ", " : "") + t;
      return out + "]";
    });
    const std::uint16_t port = value_or_fail(api->start());
    fmt::print("read API on http://127.0.0.1:{}/v1/state, /v1/market, /v1/trades\n", port);
    std::fflush(stdout);
  }
  if (!o.once) {
    // From here SIGUSR1 is handled: a supervisor (pfex demo --ledger) waits for this line before
    // signalling, since SIGUSR1's default action would kill the process.
    fmt::print("following {} from log entry {}\n", o.log, v.next_sequence());
    std::fflush(stdout);
  }
  while (g_stop == 0) {
    auto batch = o.once ? value_or_fail(reader->read(v.next_sequence(), 4096))
                        : value_or_fail(reader->follow(v.next_sequence(), 4096,
                                                       std::chrono::milliseconds(200)));
    if (print_requested != 0) {
      print_requested = 0;
      std::lock_guard lock(mutex);
      print_state(v, o.book);
    }
    if (batch.empty()) {
      if (o.once) break;
      continue;
    }
    {
      std::lock_guard lock(mutex);
      for (const auto& out :
           value_or_fail(v.apply_batch(node::to_protocol_entries(batch), o.threads))) {
        if (!out.accepted && !v.exchange()) {
          fmt::print("entry {} rejected: {}\n", out.sequence, out.reason.to_string());
        }
      }
    }
    since_snapshot += batch.size();
    if (store && since_snapshot >= o.snapshot_every) {
      check(store->save(v));
      record_snapshot();
      since_snapshot = 0;
    }
  }
  if (api) api->stop();
  if (store && since_snapshot > 0) {
    check(store->save(v));
    record_snapshot();
  }
  print_state(v, o.book);
  finish(0);
}

// ---- pfex gateway ----
struct GatewayCommand {
  std::string log, host = "127.0.0.1";
  std::uint16_t port = 0;
  bool scripted_clock = false;
};

void run_gateway(const GatewayCommand& o) {
  install_stop_handlers();
  node::GatewayOptions options{o.host, o.port, true, {}};
  std::function<LedgerTime()> clock;
  if (o.scripted_clock) {
    // The submitters say what time it is (pfex demo --ledger); the log keeps stamps monotonic.
    auto now = std::make_shared<std::atomic<std::int64_t>>(0);
    clock = [now] { return LedgerTime(now->load()); };
    options.scripted_clock = [now](LedgerTime t) { now->store(t.value()); };
  }
  auto log = open_writer(o.log, std::move(clock));
  node::Gateway gateway(*log, std::move(options));
  const std::uint16_t port = value_or_fail(gateway.start());
  fmt::print("gateway listening on {}:{} for log {}\n", o.host, port, o.log);
  std::fflush(stdout);
  while (g_stop == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  gateway.stop();
  fmt::print("gateway stopped: {} appended, {} refused\n", gateway.appended(), gateway.refused());
  finish(0);
}

// ---- pfex node ... ----
struct NodeOptions {
  std::string wallet, log, gateway, socks5, proxy_user, proxy_pass;
  std::uint64_t max_delay_ms = 0;
  // order / deposit / cancel arguments
  std::string side = "buy", type = "limit", price, amount;
  std::int64_t qty = 0;
  std::uint64_t order = 0;
  std::uint64_t watch_seconds = 0;  // 0: until SIGINT/SIGTERM
  bool auto_refresh = false;        // watch: refresh at margin rounds (needs gateway)
};

node::SubmitOptions submit_options(const NodeOptions& o) {
  node::SubmitOptions s;
  s.gateway = value_or_fail(node::parse_endpoint(o.gateway));
  if (!o.socks5.empty()) s.socks5 = value_or_fail(node::parse_endpoint(o.socks5));
  if (!o.proxy_user.empty()) s.proxy_credentials = std::make_pair(o.proxy_user, o.proxy_pass);
  s.max_delay = std::chrono::milliseconds(o.max_delay_ms);
  return s;
}

// Opens the wallet and brings it up to date with the log: market id, account.
node::Wallet open_synced(const NodeOptions& o, protocol::Validator& v,
                         protocol::Validator::EventSink sink = {}) {
  auto w = value_or_fail(node::Wallet::open(o.wallet, passphrase()));
  v = replay_log(o.log, std::move(sink));
  if (!v.market_id()) fail(Status::failed_precondition("the log has no market yet"));
  if (!w.market()) check(w.set_market(*v.market_id()));
  if (*w.market() != *v.market_id()) {
    fail(Status::failed_precondition("the wallet belongs to another market than the log's"));
  }
  if (!w.account()) {
    if (auto a = v.account_of(w.public_key())) check(w.set_account(*a));
  }
  return w;
}

// Submits everything pending (first whatever a crash left behind) and reports what the log
// made of it, waiting briefly for a validator's view.
void submit_and_report(node::Wallet& w, const NodeOptions& o) {
  if (w.pending().size() > 1) {
    fmt::print("resubmitting {} transaction(s) left pending\n", w.pending().size() - 1);
  }
  const auto sent = value_or_fail(node::submit_pending(w, submit_options(o)));
  std::uint64_t last = 0;
  for (const auto& s : sent)
    last = std::max(last, s.sequence);
  // Learn the outcome from our own replay of the log.
  std::map<std::uint64_t, protocol::EntryOutcome> outcomes;
  protocol::Validator v;
  v.set_event_sink([&](const protocol::EntryOutcome& out, std::span<const market::Event>) {
    outcomes.emplace(out.sequence, out);
  });
  auto reader = open_reader(o.log);
  for (int tries = 0; tries < 200 && v.next_sequence() <= last; ++tries) {
    auto batch =
        value_or_fail(reader->follow(v.next_sequence(), 4096, std::chrono::milliseconds(50)));
    for (auto& out : value_or_fail(v.apply_batch(node::to_protocol_entries(batch), 2)))
      outcomes.emplace(out.sequence, out);
  }
  for (const auto& s : sent) {
    auto it = outcomes.find(s.sequence);
    if (it == outcomes.end()) {
      fmt::print("log entry {}: not yet readable\n", s.sequence);
    } else if (it->second.accepted) {
      std::string detail;
      const auto& r = it->second.result;
      if (r.account) detail = fmt::format(" account {}", r.account->value);
      if (r.order) {
        detail = fmt::format(" order {} filled {} resting {}", r.order->id.value,
                             r.order->filled.value(), r.order->resting.value());
      }
      fmt::print("log entry {}: accepted{}\n", s.sequence, detail);
    } else {
      fmt::print("log entry {}: rejected: {}\n", s.sequence, it->second.reason.to_string());
    }
  }
  if (!w.account()) {
    if (auto a = v.account_of(w.public_key())) check(w.set_account(*a));
  }
}

void run_node_action(const NodeOptions& o, const std::string& what) {
  protocol::Validator v;
  node::Wallet w = open_synced(o, v);
  const market::ContractSpec& spec = v.exchange()->spec();
  market::Action action;
  if (what == "register") {
    if (w.account()) {
      fail(Status::already_exists("this wallet already has account " +
                                  std::to_string(w.account()->value)));
    }
    action = market::RegisterAction{};
  } else if (what == "advance") {
    action = market::AdvanceAction{};  // only the issuer's key is accepted
  } else if (what == "settle") {
    action = market::SettleFinalAction{value_or_fail(spec.parse_price(o.price))};
  } else {
    if (!w.account()) fail(Status::failed_precondition("register first (pfex node register)"));
    const market::AccountId a = *w.account();
    if (what == "deposit") {
      action = market::DepositAction{a, value_or_fail(spec.parse_cash(o.amount))};
    } else if (what == "withdraw") {
      action = market::WithdrawAction{a, value_or_fail(spec.parse_cash(o.amount))};
    } else if (what == "refresh") {
      const Cash deposit = o.amount.empty() ? Cash(0) : value_or_fail(spec.parse_cash(o.amount));
      action = market::RefreshAction{a, deposit};
    } else if (what == "cancel") {
      action = market::CancelAction{a, market::OrderId{o.order}};
    } else {
      market::OrderRequest req;
      req.side = o.side == "sell" ? market::Side::kSell : market::Side::kBuy;
      if (o.type == "limit")
        req.type = market::OrderType::kLimit;
      else if (o.type == "ioc")
        req.type = market::OrderType::kImmediateOrCancel;
      else if (o.type == "fok")
        req.type = market::OrderType::kFillOrKill;
      else if (o.type == "post-only")
        req.type = market::OrderType::kPostOnly;
      else if (o.type == "market")
        req.type = market::OrderType::kMarket;
      else
        fail(Status::invalid_argument("unknown order type " + o.type));
      if (req.type != market::OrderType::kMarket)
        req.limit = value_or_fail(spec.parse_price(o.price));
      req.qty = Qty(o.qty);
      action = market::SubmitAction{a, req};
    }
  }
  (void)value_or_fail(w.prepare(action));
  submit_and_report(w, o);
  finish(0);
}

void run_node_create(const NodeOptions& o) {
  auto w = value_or_fail(node::Wallet::create(o.wallet, passphrase()));
  fmt::print("wallet {} created; identity key {}\n", o.wallet, to_hex(w.public_key()));
  finish(0);
}

void run_node_status(const NodeOptions& o) {
  protocol::Validator v;
  // Every order and trade of every account; the wallet's are picked out below.
  std::vector<market::OrderAccepted> orders;
  std::vector<std::pair<LedgerTime, market::Trade>> trades;
  node::Wallet w =
      open_synced(o, v, [&](const protocol::EntryOutcome&, std::span<const market::Event> events) {
        for (const market::Event& e : events) {
          if (const auto* a = std::get_if<market::OrderAccepted>(&e.body)) orders.push_back(*a);
          if (const auto* t = std::get_if<market::Trade>(&e.body)) trades.emplace_back(e.time, *t);
        }
      });
  fmt::print("identity {}\nmarket {}\nlast sequence {} (ledger has {}), {} pending\n",
             to_hex(w.public_key()), to_hex(*w.market()), w.last_sequence(),
             v.last_sequence_of(w.public_key()), w.pending().size());
  if (!w.account()) {
    fmt::print("not registered\n");
    finish(0);
  }
  const auto acc = value_or_fail(v.exchange()->account(*w.account()));
  const auto& spec = v.exchange()->spec();
  fmt::print("account {}: cash {} {}, position {}, open buy {}, open sell {}\n", w.account()->value,
             spec.format_cash(acc.cash), spec.currency, acc.position, acc.open_buy.value(),
             acc.open_sell.value());
  if (v.exchange()->phase() == market::Phase::kRefreshWindow) {
    fmt::print("margin round open (epoch {}): {}\n", v.exchange()->epoch(),
               acc.refreshed ? "refreshed" : "not refreshed (pfex node refresh)");
  }
  const market::AccountId me = *w.account();
  const market::OrderBook& book = v.exchange()->book();
  for (const auto& a : orders) {
    if (a.owner != me) continue;
    const auto slot = book.find(a.id);
    if (slot == market::OrderBook::kNil) continue;
    const auto& resting = book.at(slot);
    fmt::print("open order {}: {} {} at {}\n", a.id.value, market::side_name(resting.side),
               resting.open.value(), spec.format_price(resting.limit));
  }
  std::size_t shown = 0;
  for (auto it = trades.rbegin(); it != trades.rend() && shown < 10; ++it) {
    const market::Trade& t = it->second;
    if (t.maker_owner != me && t.taker_owner != me) continue;
    ++shown;
    const bool taker = t.taker_owner == me;
    const market::Side mine = taker ? t.taker_side : market::opposite(t.taker_side);
    fmt::print("fill (trade {}): {} {} at {}, order {} ({})\n", t.seq, market::side_name(mine),
               t.qty.value(), spec.format_price(t.price), (taker ? t.taker : t.maker).value,
               taker ? "taker" : "maker");
  }
  finish(0);
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

void run_node_watch(const NodeOptions& o) {
  install_stop_handlers();
  if (o.auto_refresh && o.gateway.empty()) {
    fail(Status::invalid_argument("--auto-refresh needs --gateway"));
  }
  protocol::Validator v;
  market::AccountId me;
  // Without --auto-refresh only the account is needed: the wallet is closed again (its lock
  // released) so other node commands can use it while this one watches. With it, the watch
  // signs Refresh transactions and keeps the wallet.
  std::optional<node::Wallet> wallet;
  {
    node::Wallet w = open_synced(o, v);  // silently up to the end of the log
    if (!w.account()) fail(Status::failed_precondition("register first (pfex node register)"));
    me = *w.account();
    if (o.auto_refresh) wallet.emplace(std::move(w));
  }
  fmt::print("watching account {} from log entry {}{}\n", me.value, v.next_sequence(),
             o.auto_refresh ? ", refreshing at margin rounds" : "");
  std::fflush(stdout);
  v.set_event_sink([&](const protocol::EntryOutcome&, std::span<const market::Event> events) {
    for (const market::Event& e : events) {
      if (concerns(e, me)) fmt::print("{}\n", sim::describe_event(*v.exchange(), e, {}));
    }
    std::fflush(stdout);
  });
  node::AutoRefresh refresher;
  auto reader = open_reader(o.log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.watch_seconds);
  while (g_stop == 0 && (o.watch_seconds == 0 || std::chrono::steady_clock::now() < deadline)) {
    auto batch =
        value_or_fail(reader->follow(v.next_sequence(), 4096, std::chrono::milliseconds(200)));
    check(v.apply_batch(node::to_protocol_entries(batch), 2).status());
    if (!wallet || !refresher.due(*v.exchange(), me)) continue;
    // A failed submission is reported and the watch goes on: the round's window is long, and a
    // change of cash (a deposit) makes the refresh due again.
    Status sent = wallet->prepare(market::RefreshAction{me, Cash(0)}).status();
    if (sent.is_ok()) sent = node::submit_pending(*wallet, submit_options(o)).status();
    fmt::print("margin round, epoch {}: refresh {}\n", v.exchange()->epoch(),
               sent.is_ok() ? "sent" : "failed: " + sent.to_string());
    std::fflush(stdout);
  }
  finish(0);
}

void run_node_resubmit(const NodeOptions& o) {
  protocol::Validator v;
  node::Wallet w = open_synced(o, v);
  fmt::print("{} pending\n", w.pending().size());
  submit_and_report(w, o);
  finish(0);
}

}  // namespace

void add_ledger_commands(CLI::App& app) {
  // ---- market ----
  CLI::App* market = app.add_subcommand("market", "Open a market in a new log");
  market->require_subcommand(1);
  auto mi = std::make_shared<MarketInit>();
  CLI::App* init = market->add_subcommand(
      "init", "Append the genesis entry (contract, reference price, issuer key) to a new log");
  init->add_option("--log", mi->log, "The log: a new FileLog path, or etcd:URL,URL,...")
      ->required();
  init->add_option("--issuer-wallet", mi->issuer_wallet, "Wallet whose key becomes the issuer's")
      ->required();
  init->add_option("--contract", mi->contract, "Contract preset (see pfex contracts)");
  init->add_option("--reference", mi->reference, "First reference price, e.g. 10.00")->required();
  init->callback([mi] { run_market_init(*mi); });

  // ---- validator ----
  auto vo = std::make_shared<ValidatorOptions>();
  CLI::App* validator = app.add_subcommand(
      "validator", "Follow a log, verify and apply every entry, print the state hash and book");
  validator->add_option("--log", vo->log, "The log: a FileLog path, or etcd:URL,URL,...")
      ->required();
  validator->add_option("--snapshots", vo->snapshots, "Snapshot directory (restart from it)");
  validator->add_option("--snapshot-every", vo->snapshot_every, "Entries between snapshots");
  validator->add_option("--threads", vo->threads, "Signature-checking threads");
  validator->add_option("--http", vo->http_port,
                        "Serve GET /v1/state, /v1/market, /v1/trades on this loopback port");
  validator->add_option("--name", vo->name,
                        "etcd: record this validator's snapshots in the cluster under this name, "
                        "so pruning never deletes entries it still needs");
  validator->add_flag("--prune", vo->prune,
                      "etcd, with --name: after each snapshot, delete the entries every recorded "
                      "validator's snapshot covers and compact etcd's history");
  validator->add_flag("--once", vo->once, "Stop when caught up instead of following");
  validator->add_flag("--book", vo->book, "Print the book with the state");
  validator->footer("While following, SIGUSR1 prints the state; SIGINT/SIGTERM stop.");
  validator->callback([vo] { run_validator(*vo); });

  // ---- gateway ----
  auto go = std::make_shared<GatewayCommand>();
  CLI::App* gateway =
      app.add_subcommand("gateway", "Accept transactions over HTTP and append them to a log");
  gateway
      ->add_option("--log", go->log,
                   "The log: a FileLog path (created if missing), or etcd:URL,URL,...")
      ->required();
  gateway->add_option("--port", go->port, "Port (0: any free port)")->required();
  gateway->add_option("--host", go->host, "Address to listen on (default loopback)");
  gateway->add_flag("--scripted-clock", go->scripted_clock,
                    "Demos and tests only: stamp entries with the time submitters ask for "
                    "(header Pfex-Ledger-Time, never going backwards) instead of this machine's "
                    "clock");
  gateway->callback([go] { run_gateway(*go); });

  // ---- node ----
  CLI::App* node = app.add_subcommand(
      "node", "The trader node: wallet and transactions (passphrase: $PFEX_PASSPHRASE or stdin)");
  node->require_subcommand(1);
  auto no = std::make_shared<NodeOptions>();
  auto common = [no](CLI::App* c, bool submits) {
    c->add_option("--wallet", no->wallet, "Wallet file")->required();
    if (!submits) return;
    c->add_option("--log", no->log, "The log to read (FileLog path or etcd:URL,...)")->required();
    c->add_option("--gateway", no->gateway, "Gateway host:port")->required();
    c->add_option("--socks5", no->socks5, "Submit through this SOCKS5 proxy host:port");
    c->add_option("--proxy-user", no->proxy_user, "Fixed proxy username (default: fresh each)");
    c->add_option("--proxy-pass", no->proxy_pass, "Fixed proxy password");
    c->add_option("--max-delay-ms", no->max_delay_ms, "Random delay before submitting, up to");
  };
  CLI::App* create = node->add_subcommand("create", "Create a wallet with a new identity key");
  common(create, false);
  create->callback([no] { run_node_create(*no); });
  CLI::App* status = node->add_subcommand("status", "Show the wallet and its account");
  status->add_option("--wallet", no->wallet, "Wallet file")->required();
  status->add_option("--log", no->log, "The log to read (FileLog path or etcd:URL,...)")
      ->required();
  status->callback([no] { run_node_status(*no); });
  CLI::App* reg = node->add_subcommand("register", "Register the wallet's key as an account");
  common(reg, true);
  reg->callback([no] { run_node_action(*no, "register"); });
  for (const char* what : {"deposit", "withdraw"}) {
    CLI::App* c = node->add_subcommand(what, std::string("Sign and submit a ") + what);
    common(c, true);
    c->add_option("--amount", no->amount, "Amount, e.g. 1000.00")->required();
    c->callback([no, w = std::string(what)] { run_node_action(*no, w); });
  }
  CLI::App* refresh = node->add_subcommand(
      "refresh",
      "In a margin round's window: pass the new band (with an optional deposit); an account that "
      "does not refresh defaults when the window closes");
  common(refresh, true);
  refresh->add_option("--amount", no->amount, "Deposit with the refresh, e.g. 500.00 (default 0)");
  refresh->callback([no] { run_node_action(*no, "refresh"); });
  CLI::App* order = node->add_subcommand("order", "Sign and submit an order");
  common(order, true);
  order->add_option("--side", no->side, "buy or sell")->check(CLI::IsMember({"buy", "sell"}));
  order->add_option("--type", no->type, "limit, ioc, fok, post-only or market");
  order->add_option("--price", no->price, "Limit price, e.g. 10.05");
  order->add_option("--qty", no->qty, "Contracts")->required()->check(CLI::PositiveNumber);
  order->callback([no] { run_node_action(*no, "order"); });
  CLI::App* cancel = node->add_subcommand("cancel", "Sign and submit a cancel");
  common(cancel, true);
  cancel->add_option("--order", no->order, "Order id")->required();
  cancel->callback([no] { run_node_action(*no, "cancel"); });
  CLI::App* advance =
      node->add_subcommand("advance", "Issuer only: move ledger time forward (process deadlines)");
  common(advance, true);
  advance->callback([no] { run_node_action(*no, "advance"); });
  CLI::App* settle =
      node->add_subcommand("settle", "Issuer only: final settlement at the given price");
  common(settle, true);
  settle->add_option("--price", no->price, "Settlement price, e.g. 10.20")->required();
  settle->callback([no] { run_node_action(*no, "settle"); });
  CLI::App* watch = node->add_subcommand(
      "watch", "Follow the log and print this account's orders, fills and cash, and market events");
  watch->add_option("--wallet", no->wallet, "Wallet file")->required();
  watch->add_option("--log", no->log, "The log to read (FileLog path or etcd:URL,...)")->required();
  watch->add_option("--seconds", no->watch_seconds, "Stop after this long (default: on SIGINT)");
  watch->add_flag("--auto-refresh", no->auto_refresh,
                  "At a margin round, send a Refresh when the account passes the new band "
                  "(keeps the wallet open; needs --gateway)");
  watch->add_option("--gateway", no->gateway, "Gateway host:port, for --auto-refresh");
  watch->callback([no] { run_node_watch(*no); });
  CLI::App* resubmit =
      node->add_subcommand("resubmit", "Submit transactions left pending by a crash");
  common(resubmit, true);
  resubmit->callback([no] { run_node_resubmit(*no); });
}

}  // namespace pfex::cli
