// The trader node's commands as a library: open a market (the issuer), create a wallet, sign and
// submit a transaction and report what the log made of it, show the account, watch the log, and
// resubmit what a crash left pending. `pfex node ...` and `pfex market init` only parse their
// arguments into these. docs/node/cli.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/status.hpp"
#include "node/submit.hpp"

namespace pfex::service {

struct MarketInit {
  std::string log, issuer_wallet, contract = "seed-example", reference;
  // A private market (docs/protocol/private.md): its windows of 2^log_window tokens, the bond
  // and exit penalty (cash, e.g. 100.00; the contract's bond and liquidation penalty when empty)
  // and the validators' encryption key (hex of a ristretto255 point; a fresh one when empty).
  bool private_market = false;
  // The resolution deadline D_res in ms of ledger time, in both modes (the contract's when unset).
  std::optional<std::int64_t> resolution_ms;
  std::uint32_t log_window = 10;
  std::string bond, exit_penalty, validators_key;
};

struct NodeOptions {
  std::string wallet, log, gateway, socks5, proxy_user, proxy_pass;
  std::string passphrase;  // the wallet's
  std::uint64_t max_delay_ms = 0;
  // order / deposit / cancel arguments
  std::string side = "buy", type = "limit", price, amount;
  std::int64_t qty = 0;
  std::uint64_t order = 0;
  std::uint64_t watch_seconds = 0;  // 0: until stopped
  bool auto_refresh = false;        // watch: refresh at margin rounds (needs gateway)
  // A private market's node: create a private wallet (needs log); settle fills after a uniform
  // random delay of up to this much ledger time (watch).
  bool private_wallet = false;
  std::uint64_t settle_delay_ms = 0;
  // The issuer's mint in a private market: the receiving identity (hex).
  std::string to;
};

// The submission options of a node command (gateway, SOCKS5 proxy, credentials, delay).
Result<node::SubmitOptions> submit_options(const NodeOptions& o);

// Each prints what it did to stdout; an error says why the command failed.
Status open_market(const MarketInit& o, const std::string& passphrase);
Status node_create(const NodeOptions& o);
// `what`: register, deposit, withdraw, refresh, cancel, order (a market order's o.price, when
// given, is its reservation price), replace (a new order with a new id), reduce (o.qty off order
// o.order, which keeps its id and priority), advance or settle; in a private market settle
// settles the wallet's own fills, and the issuer has mint (o.to, o.amount). A private wallet's
// command goes to service/private_node.hpp.
Status node_action(const NodeOptions& o, const std::string& what);
Status node_status(const NodeOptions& o);
Status node_watch(const NodeOptions& o, const std::function<bool()>& stopped);
Status node_resubmit(const NodeOptions& o);

}  // namespace pfex::service
