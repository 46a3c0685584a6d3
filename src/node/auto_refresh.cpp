#include "node/auto_refresh.hpp"

#include <cstdlib>

#include "core/checked.hpp"
#include "market/account.hpp"

namespace pfex::node {

std::optional<Cash> AutoRefresh::due(const market::Exchange& ex, market::AccountId account) {
  if (ex.phase() != market::Phase::kRefreshWindow) return std::nullopt;
  const Result<market::Account> a = ex.account(account);
  if (!a.is_ok() || a->status != market::AccountStatus::kActive || a->refreshed) {
    return std::nullopt;
  }
  if (tried_epoch_ == ex.epoch() && tried_cash_ == a->cash) return std::nullopt;
  tried_epoch_ = ex.epoch();
  tried_cash_ = a->cash;
  // Short of the new band before the levy: the owner's margin call, not the node's to pay.
  const Result<Cash> before_levy = market::margin_shortfall(*a, ex.band(), ex.spec());
  if (!before_levy.is_ok() || before_levy->value() != 0) return std::nullopt;
  market::Account charged = *a;
  const Result<std::int64_t> levy =
      checked_mul(ex.levy_per_contract().value(), std::abs(a->position), "levy");
  if (!levy.is_ok()) return std::nullopt;
  const Result<std::int64_t> cash = checked_sub(a->cash.value(), *levy, "cash");
  if (!cash.is_ok()) return std::nullopt;
  charged.cash = Cash(*cash);
  const Result<Cash> after_levy = market::margin_shortfall(charged, ex.band(), ex.spec());
  if (!after_levy.is_ok()) return std::nullopt;
  return *after_levy;
}

}  // namespace pfex::node
