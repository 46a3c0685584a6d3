// The transparent exchange's actions as data: one Action per ledger entry, with its canonical
// binary encoding (docs/codec.md) and one entry point that applies it. Validators will decode log
// entries into Actions; the private protocol's transactions map onto the same actions.
//
// Encoding: u8 kind, then the kind's fields in the order of the structs below; an order request
// is u8 side, u8 type, bool has_limit, [i64 limit], i64 qty. Decoding is strict: truncation,
// trailing bytes, an unknown kind, side or type, and values outside their ranges are errors.
#pragma once

#include <optional>
#include <variant>

#include "core/codec.hpp"
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

using Action =
    std::variant<RegisterAction, DepositAction, WithdrawAction, SubmitAction, CancelAction,
                 ReplaceAction, RefreshAction, ExitAction, AdvanceAction, SettleFinalAction>;

Bytes encode_action(const Action& action);
Result<Action> decode_action(ByteSpan bytes);

// What an accepted action produced, where it produces something.
struct ActionResult {
  std::optional<AccountId> account;   // register
  std::optional<OrderOutcome> order;  // submit, replace
  std::optional<Cash> claim;          // exit
};

Result<ActionResult> apply_action(Exchange& exchange, LedgerTime now, const Action& action);

}  // namespace pfex::market
