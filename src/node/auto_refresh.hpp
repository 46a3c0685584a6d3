// What an online trader node does at a margin round (docs/design.md section 8): on a ledger nobody
// refreshes an account on its owner's behalf, so the node watches the market and, when a refresh
// window is open and its account is active and not yet refreshed, sends a Refresh. The round's
// shortfall levy (lambda per contract of the account's position, docs/design.md section 6) is part
// of the refresh: when the account passes the new band before the levy but not after it, the node
// deposits exactly what the levy takes beyond its headroom. An account that fails the new band
// even without the levy is left to its owner, whose refresh carries the deposit the margin call
// asks (a deposit alone is refused before the refresh).
// Used by `pfex node watch --auto-refresh` and by the traders' nodes of `pfex demo --ledger`.
#pragma once

#include <optional>

#include "market/exchange.hpp"

namespace pfex::node {

class AutoRefresh {
 public:
  // The deposit of RefreshAction{account, deposit} when the node should refresh now (0 when the
  // account's headroom in the new band covers the levy); none when there is nothing to send.
  // Records the attempt, so it is due at most once per epoch and cash balance.
  std::optional<Cash> due(const market::Exchange& exchange, market::AccountId account);

 private:
  std::optional<std::uint32_t> tried_epoch_;
  Cash tried_cash_;
};

}  // namespace pfex::node
