// What an online trader node does at a margin round (docs/design.md section 8): on a ledger nobody
// refreshes an account on its owner's behalf, so the node watches the market and, when a refresh
// window is open and its account is active, not yet refreshed and — by the node's own replica —
// passes the new band, sends a Refresh (deposit 0). An account that does not pass waits for its
// owner's deposit, as the margin call asks; a change of cash (that deposit) is worth another try.
// Used by `pfex node watch --auto-refresh` and by the traders' nodes of `pfex demo --ledger`.
#pragma once

#include <optional>

#include "market/exchange.hpp"

namespace pfex::node {

class AutoRefresh {
 public:
  // True when the node should submit RefreshAction{account, Cash(0)} now; records the attempt,
  // so it is due at most once per epoch and cash balance.
  bool due(const market::Exchange& exchange, market::AccountId account);

 private:
  std::optional<std::uint32_t> tried_epoch_;
  Cash tried_cash_;
};

}  // namespace pfex::node
