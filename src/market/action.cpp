#include "market/action.hpp"

namespace pfex::market {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

Result<ActionResult> apply_action(Exchange& ex, LedgerTime now, const Action& action) {
  return std::visit(
      Overloaded{
          [&](const RegisterAction&) -> Result<ActionResult> {
            PFEX_ASSIGN_OR_RETURN(AccountId id, ex.register_account(now));
            return ActionResult{id, std::nullopt, std::nullopt};
          },
          [&](const DepositAction& a) -> Result<ActionResult> {
            PFEX_RETURN_IF_ERROR(ex.deposit(now, a.account, a.amount));
            return ActionResult{};
          },
          [&](const WithdrawAction& a) -> Result<ActionResult> {
            PFEX_RETURN_IF_ERROR(ex.withdraw(now, a.account, a.amount));
            return ActionResult{};
          },
          [&](const SubmitAction& a) -> Result<ActionResult> {
            PFEX_ASSIGN_OR_RETURN(OrderOutcome o, ex.submit(now, a.account, a.request));
            return ActionResult{std::nullopt, o, std::nullopt};
          },
          [&](const CancelAction& a) -> Result<ActionResult> {
            PFEX_RETURN_IF_ERROR(ex.cancel(now, a.account, a.order));
            return ActionResult{};
          },
          [&](const ReplaceAction& a) -> Result<ActionResult> {
            PFEX_ASSIGN_OR_RETURN(OrderOutcome o, ex.replace(now, a.account, a.order, a.request));
            return ActionResult{std::nullopt, o, std::nullopt};
          },
          [&](const RefreshAction& a) -> Result<ActionResult> {
            PFEX_RETURN_IF_ERROR(ex.refresh(now, a.account, a.deposit));
            return ActionResult{};
          },
          [&](const ExitAction& a) -> Result<ActionResult> {
            PFEX_ASSIGN_OR_RETURN(Cash claim, ex.exit(now, a.account));
            return ActionResult{std::nullopt, std::nullopt, claim};
          },
          [&](const AdvanceAction&) -> Result<ActionResult> {
            ex.advance(now);
            return ActionResult{};
          },
          [&](const SettleFinalAction& a) -> Result<ActionResult> {
            PFEX_RETURN_IF_ERROR(ex.settle_final(now, a.price));
            return ActionResult{};
          },
          [&](const ReduceAction& a) -> Result<ActionResult> {
            PFEX_ASSIGN_OR_RETURN(OrderOutcome o, ex.reduce(now, a.account, a.order, a.by));
            return ActionResult{std::nullopt, o, std::nullopt};
          },
      },
      action);
}

}  // namespace pfex::market
