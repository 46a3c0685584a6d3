// The pfex commands around a log: market init, validator, gateway and the trader node. Only
// their arguments are parsed here; the work is done by src/service. See ledger_commands.hpp and
// docs/node/cli.md.
#include "ledger_commands.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "market/names.hpp"
#include "service/gateway_service.hpp"
#include "service/trader_node.hpp"
#include "service/validator_service.hpp"

namespace pfex::cli {
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
bool stopped() {
  return g_stop != 0;
}

// Set by SIGUSR1: a following validator prints its state.
volatile std::sig_atomic_t g_print_requested = 0;
extern "C" void on_print_signal(int) {
  g_print_requested = 1;
}
bool take_print_request() {
  if (g_print_requested == 0) return false;
  g_print_requested = 0;
  return true;
}

// Ends the parse with the command's exit code: 0 success, 2 bad input, 1 any other failure (the
// reason on stderr).
[[noreturn]] void finish_with(const Status& s) {
  if (!s) fmt::print(stderr, "pfex: {}\n", s.to_string());
  throw CLI::RuntimeError(s ? 0 : s.code() == ErrorCode::kInvalidArgument ? 2 : 1);
}

// The passphrase: from the environment variable PFEX_PASSPHRASE, else one line of stdin.
std::string passphrase() {
  if (const char* p = std::getenv("PFEX_PASSPHRASE")) return p;
  if (::isatty(0)) fmt::print(stderr, "wallet passphrase: ");
  std::string line;
  std::getline(std::cin, line);
  return line;
}

service::NodeOptions with_passphrase(service::NodeOptions o) {
  o.passphrase = passphrase();
  return o;
}

void run_validator(const service::ValidatorOptions& o) {
  install_stop_handlers();
  // Handled from before the service prints "following": a supervisor waits for that line before
  // it signals, since SIGUSR1's default action would kill the process.
  std::signal(SIGUSR1, on_print_signal);
  finish_with(service::run_validator(o, {stopped, take_print_request}));
}

void run_node_action(const service::NodeOptions& o, const std::string& what) {
  finish_with(service::node_action(with_passphrase(o), what));
}

}  // namespace

void add_ledger_commands(CLI::App& app) {
  // ---- market ----
  CLI::App* market = app.add_subcommand("market", "Open a market in a new log");
  market->require_subcommand(1);
  auto mi = std::make_shared<service::MarketInit>();
  CLI::App* init = market->add_subcommand(
      "init", "Append the genesis entry (contract, reference price, issuer key) to a new log");
  init->add_option("--log", mi->log, "The log: a new FileLog path, or etcd:URL,URL,...")
      ->required();
  init->add_option("--issuer-wallet", mi->issuer_wallet, "Wallet whose key becomes the issuer's")
      ->required();
  init->add_option("--contract", mi->contract, "Contract preset (see pfex contracts)");
  init->add_option("--reference", mi->reference, "First reference price, e.g. 10.00")->required();
  init->add_option("--resolution-ms", mi->resolution_ms,
                   "The resolution deadline D_res: a margin round's defaulters are liquidated "
                   "this long (ledger time) after its window closes, 1 to 86400000 ms (default: "
                   "the contract's, 300000)");
  init->add_flag("--private", mi->private_market,
                 "A private market (docs/protocol/private.md): hidden inventories, anonymous "
                 "orders, every action proved solvent");
  init->add_option("--bond", mi->bond,
                   "Private: the bond every identity posts at registration, e.g. 100.00 "
                   "(default: the contract's)");
  init->add_option("--exit-penalty", mi->exit_penalty,
                   "Private: cash per contract taken from a defaulter's exit claim (default: the "
                   "contract's liquidation penalty)");
  init->add_option("--window-log", mi->log_window,
                   "Private: windows of 2^n tokens, n in [1, 16] (default 10: 1024 tokens)");
  init->add_option("--validators-key", mi->validators_key,
                   "Private: the validators' encryption key, hex (default: a fresh one)");
  init->callback([mi] { finish_with(service::open_market(*mi, passphrase())); });

  // ---- validator ----
  auto vo = std::make_shared<service::ValidatorOptions>();
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
  auto go = std::make_shared<service::GatewayCommand>();
  CLI::App* gateway =
      app.add_subcommand("gateway", "Accept transactions over HTTP and append them to a log");
  gateway
      ->add_option("--log", go->log,
                   "The log: a FileLog path (created if missing), or etcd:URL,URL,...")
      ->required();
  gateway->add_option("--port", go->port, "Port (0: any free port)")->required();
  gateway->add_option("--host", go->host, "Address to listen on (default loopback)");
  gateway->add_option("--market", go->market,
                      "The market this gateway serves (hex id): required on a log without a "
                      "genesis, which then takes only this market's; checked against the log's");
  gateway->add_flag("--scripted-clock", go->scripted_clock,
                    "Demos and tests only: stamp entries with the time submitters ask for "
                    "(header Pfex-Ledger-Time, never going backwards) instead of this machine's "
                    "clock");
  gateway->callback([go] {
    install_stop_handlers();
    finish_with(service::run_gateway(*go, stopped));
  });

  // ---- node ----
  CLI::App* node = app.add_subcommand(
      "node", "The trader node: wallet and transactions (passphrase: $PFEX_PASSPHRASE or stdin)");
  node->require_subcommand(1);
  auto no = std::make_shared<service::NodeOptions>();
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
  create->add_flag("--private", no->private_wallet,
                   "A private wallet (chain key, token, order secrets) for the private market of "
                   "--log");
  create->add_option("--log", no->log, "With --private: the log of the market");
  create->callback([no] { finish_with(service::node_create(with_passphrase(*no))); });
  CLI::App* status = node->add_subcommand("status", "Show the wallet and its account");
  status->add_option("--wallet", no->wallet, "Wallet file")->required();
  status->add_option("--log", no->log, "The log to read (FileLog path or etcd:URL,...)")
      ->required();
  status->callback([no] { finish_with(service::node_status(with_passphrase(*no))); });
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
  // Checked against the market's name tables before any wallet is opened.
  auto named = [](auto parse) {
    return [parse](const std::string& s) -> std::string {
      auto r = parse(s);
      return r.is_ok() ? std::string() : std::string(r.status().message());
    };
  };
  order->add_option("--side", no->side, market::side_names() + " (default buy)")
      ->check(named([](const std::string& s) { return market::parse_side(s); }));
  order->add_option("--type", no->type, market::order_type_names() + " (default limit)")
      ->check(named([](const std::string& s) { return market::parse_order_type(s); }));
  order->add_option("--price", no->price,
                    "Limit price, e.g. 10.05; a market order's reservation price (optional: by "
                    "default its protection limit)");
  order->add_option("--qty", no->qty, "Contracts")->required()->check(CLI::PositiveNumber);
  order->callback([no] { run_node_action(*no, "order"); });
  CLI::App* replace = node->add_subcommand(
      "replace", "Cancel an open order and post a new one (a new id) in one transaction");
  common(replace, true);
  replace->add_option("--order", no->order, "The open order's id")->required();
  replace->add_option("--side", no->side, market::side_names() + " (default buy)")
      ->check(named([](const std::string& s) { return market::parse_side(s); }));
  replace->add_option("--type", no->type, market::order_type_names() + " (default limit)")
      ->check(named([](const std::string& s) { return market::parse_order_type(s); }));
  replace->add_option("--price", no->price,
                      "The new order's price (a market order's reservation price, optional)");
  replace->add_option("--qty", no->qty, "Contracts")->required()->check(CLI::PositiveNumber);
  replace->callback([no] { run_node_action(*no, "replace"); });
  CLI::App* reduce = node->add_subcommand(
      "reduce", "Lower an open order's quantity (it keeps its id and its place in the book)");
  common(reduce, true);
  reduce->add_option("--order", no->order, "The open order's id")->required();
  reduce->add_option("--qty", no->qty, "Contracts to take off")
      ->required()
      ->check(CLI::PositiveNumber);
  reduce->callback([no] { run_node_action(*no, "reduce"); });
  CLI::App* mint = node->add_subcommand(
      "mint", "Issuer only, private market: pay cash into an identity's cash account");
  common(mint, true);
  mint->add_option("--to", no->to, "The identity (hex, as pfex node create --private prints it)")
      ->required();
  mint->add_option("--amount", no->amount, "Amount, e.g. 1000.00")->required();
  mint->callback([no] { run_node_action(*no, "mint"); });
  CLI::App* cancel = node->add_subcommand("cancel", "Sign and submit a cancel");
  common(cancel, true);
  cancel->add_option("--order", no->order, "Order id")->required();
  cancel->callback([no] { run_node_action(*no, "cancel"); });
  CLI::App* advance =
      node->add_subcommand("advance", "Issuer only: move ledger time forward (process deadlines)");
  common(advance, true);
  advance->callback([no] { run_node_action(*no, "advance"); });
  CLI::App* settle = node->add_subcommand(
      "settle",
      "Transparent market, issuer only: final settlement at --price. Private wallet: claim its "
      "orders' fills and release its closed orders");
  common(settle, true);
  settle->add_option("--price", no->price, "Settlement price, e.g. 10.20 (transparent)");
  settle->callback([no] { run_node_action(*no, "settle"); });
  CLI::App* watch = node->add_subcommand(
      "watch", "Follow the log and print this account's orders, fills and cash, and market events");
  watch->add_option("--wallet", no->wallet, "Wallet file")->required();
  watch->add_option("--log", no->log, "The log to read (FileLog path or etcd:URL,...)")->required();
  watch->add_option("--seconds", no->watch_seconds, "Stop after this long (default: on SIGINT)");
  watch->add_flag("--auto-refresh", no->auto_refresh,
                  "At a margin round, send a Refresh when the account passes the new band "
                  "(keeps the wallet open; needs --gateway)");
  watch->add_option("--gateway", no->gateway,
                    "Gateway host:port, for --auto-refresh (private wallet: also settles fills)");
  watch->add_option("--settle-delay-ms", no->settle_delay_ms,
                    "Private wallet: settle each fill after a uniform random delay of up to this "
                    "much ledger time (default 0)");
  watch->add_option("--socks5", no->socks5, "Submit through this SOCKS5 proxy host:port");
  watch->alias("follow");
  watch->callback([no] {
    install_stop_handlers();
    finish_with(service::node_watch(with_passphrase(*no), stopped));
  });
  CLI::App* resubmit =
      node->add_subcommand("resubmit", "Submit transactions left pending by a crash");
  common(resubmit, true);
  resubmit->callback([no] { finish_with(service::node_resubmit(with_passphrase(*no))); });
}

}  // namespace pfex::cli
