#include "node/auto_refresh.hpp"

#include "market/account.hpp"

namespace pfex::node {

bool AutoRefresh::due(const market::Exchange& ex, market::AccountId account) {
  if (ex.phase() != market::Phase::kRefreshWindow) return false;
  const Result<market::Account> a = ex.account(account);
  if (!a.is_ok() || a->status != market::AccountStatus::kActive || a->refreshed) return false;
  if (tried_epoch_ == ex.epoch() && tried_cash_ == a->cash) return false;
  tried_epoch_ = ex.epoch();
  tried_cash_ = a->cash;
  const Result<Cash> short_by = market::margin_shortfall(*a, ex.band(), ex.spec());
  return short_by.is_ok() && short_by->value() == 0;
}

}  // namespace pfex::node
