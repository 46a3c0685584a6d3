// The transparent exchange's actions as data: one Action per transparent transaction, and one
// entry point that applies it. Their canonical bytes belong to the protocol
// (protocol/action_codec.hpp); the private protocol's transactions map onto the same actions.
#pragma once

#include <optional>
#include <variant>

#include "core/status.hpp"
#include "market/exchange.hpp"

namespace pfex::market {

struct RegisterAction {};
struct DepositAction {
  AccountId account;
  Cash amount;
};
struct WithdrawAction {
  AccountId account;
  Cash amount;
};
struct SubmitAction {
  AccountId account;
  OrderRequest request;
};
struct CancelAction {
  AccountId account;
  OrderId order;
};
struct ReplaceAction {
  AccountId account;
  OrderId order;
  OrderRequest request;
};
// Lowers a resting order by `by` contracts, keeping its id and priority.
struct ReduceAction {
  AccountId account;
  OrderId order;
  Qty by;
};
struct RefreshAction {
  AccountId account;
  Cash deposit;
};
struct ExitAction {
  AccountId account;
};
struct AdvanceAction {};
struct SettleFinalAction {
  Price price;
};

using Action = std::variant<RegisterAction, DepositAction, WithdrawAction, SubmitAction,
                            CancelAction, ReplaceAction, RefreshAction, ExitAction, AdvanceAction,
                            SettleFinalAction, ReduceAction>;

// What an accepted action produced, where it produces something.
struct ActionResult {
  std::optional<AccountId> account;   // register
  std::optional<OrderOutcome> order;  // submit, replace, reduce
  std::optional<Cash> claim;          // exit
};

Result<ActionResult> apply_action(Exchange& exchange, LedgerTime now, const Action& action);

}  // namespace pfex::market
