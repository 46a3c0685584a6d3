// The trader node's commands as a library: open a market (the issuer), create a wallet, sign and
// submit a transaction and report what the log made of it, show the account, watch the log, and
// resubmit what a crash left pending. `pfex node ...` and `pfex market init` only parse their
// arguments into these. docs/node/cli.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.hpp"

namespace pfex::service {

struct MarketInit {
  std::string log, issuer_wallet, contract = "seed-example", reference;
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
};

// Each prints what it did to stdout; an error says why the command failed.
Status open_market(const MarketInit& o, const std::string& passphrase);
Status node_create(const NodeOptions& o);
// `what`: register, deposit, withdraw, refresh, cancel, order, advance or settle.
Status node_action(const NodeOptions& o, const std::string& what);
Status node_status(const NodeOptions& o);
Status node_watch(const NodeOptions& o, const std::function<bool()>& stopped);
Status node_resubmit(const NodeOptions& o);

}  // namespace pfex::service
