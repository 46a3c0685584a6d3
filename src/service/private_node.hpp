// The trader node's commands in a private market (docs/node/cli.md, "A private market"): the
// same `pfex node` commands as on a transparent market, driving node::PrivateTrader with the
// private wallet file (PFEXPWL1, node/private_wallet_store.hpp). trader_node.cpp sends a command
// here when its wallet file is a private one.
//
// Each command opens the wallet, brings the node's replica of the log ("<wallet>.replica") and
// the wallet up to date with the log (mints and transfers taken in, the pending transaction
// confirmed or, when the log rejected it, dropped), then acts. A transaction the wallet refuses
// to build (insolvent: "E_L short by X") is refused before anything is sent.
#pragma once

#include <functional>
#include <string>

#include "core/status.hpp"
#include "service/trader_node.hpp"

namespace pfex::service {

// Whether `path` is a private wallet file (its magic), so a command goes to the private node.
bool is_private_wallet(const std::string& path);

// A new private wallet for the private market of the log `o.log` (read to its end for the
// market's id).
Status private_node_create(const NodeOptions& o);
// register, deposit, withdraw, order, cancel, replace, reduce, settle (the wallet's own fills
// and closed orders) or refresh (in a margin round: with --amount as the deposit, else the
// shortfall the wallet names). Waits until the log decides the transaction and says what it did.
Status private_node_action(const NodeOptions& o, const std::string& what);
// The trader's own private view, opened from the wallet: cash account, the token's cash and
// position, open orders, what is left to settle, the pending transaction. No secret is printed.
Status private_node_status(const NodeOptions& o);
// Follows the log: with --gateway it settles fills after a random delay of up to
// o.settle_delay_ms of ledger time and, with --auto-refresh, refreshes in margin rounds.
Status private_node_watch(const NodeOptions& o, const std::function<bool()>& stopped);
Status private_node_resubmit(const NodeOptions& o);

}  // namespace pfex::service
