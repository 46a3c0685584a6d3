#include "market/action.hpp"

namespace pfex::market {
namespace {

constexpr std::int64_t kMaxAmount = std::int64_t{1} << 62;

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

void put_request(Writer& w, const OrderRequest& r) {
  w.u8(static_cast<std::uint8_t>(r.side));
  w.u8(static_cast<std::uint8_t>(r.type));
  w.boolean(r.limit.has_value());
  if (r.limit) w.i64(r.limit->value());
  w.i64(r.qty.value());
}

OrderRequest get_request(Reader& r) {
  OrderRequest out;
  out.side = static_cast<Side>(r.u8_in("side", 0, 1));
  out.type = static_cast<OrderType>(r.u8_in("order type", 0, kMaxOrderType));
  if (r.boolean("has limit")) out.limit = Price(r.i64_in("limit price", 1, kMaxPriceTicks));
  out.qty = Qty(r.i64_in("quantity", 1, kMaxAmount));
  return out;
}

AccountId get_account(Reader& r) {
  return AccountId{r.u32("account")};
}

}  // namespace

Bytes encode_action(const Action& action) {
  Bytes out;
  Writer w(&out);
  w.u8(static_cast<std::uint8_t>(action.index()));
  std::visit(Overloaded{
                 [](const RegisterAction&) {},
                 [&](const DepositAction& a) {
                   w.u32(a.account.value);
                   w.i64(a.amount.value());
                 },
                 [&](const WithdrawAction& a) {
                   w.u32(a.account.value);
                   w.i64(a.amount.value());
                 },
                 [&](const SubmitAction& a) {
                   w.u32(a.account.value);
                   put_request(w, a.request);
                 },
                 [&](const CancelAction& a) {
                   w.u32(a.account.value);
                   w.u64(a.order.value);
                 },
                 [&](const ReplaceAction& a) {
                   w.u32(a.account.value);
                   w.u64(a.order.value);
                   put_request(w, a.request);
                 },
                 [&](const RefreshAction& a) {
                   w.u32(a.account.value);
                   w.i64(a.deposit.value());
                 },
                 [&](const ExitAction& a) { w.u32(a.account.value); },
                 [](const AdvanceAction&) {},
                 [&](const SettleFinalAction& a) { w.i64(a.price.value()); },
             },
             action);
  return out;
}

Result<Action> decode_action(ByteSpan bytes) {
  Reader r(bytes);
  const auto kind = r.u8_in("action kind", 0, std::variant_size_v<Action> - 1);
  Action out;
  switch (kind) {
    case 0:
      out = RegisterAction{};
      break;
    case 1: {
      AccountId a = get_account(r);
      out = DepositAction{a, Cash(r.i64_in("amount", 1, kMaxAmount))};
      break;
    }
    case 2: {
      AccountId a = get_account(r);
      out = WithdrawAction{a, Cash(r.i64_in("amount", 1, kMaxAmount))};
      break;
    }
    case 3: {
      AccountId a = get_account(r);
      out = SubmitAction{a, get_request(r)};
      break;
    }
    case 4: {
      AccountId a = get_account(r);
      out = CancelAction{a, OrderId{r.u64_in("order id", 1, UINT64_MAX)}};
      break;
    }
    case 5: {
      AccountId a = get_account(r);
      OrderId o{r.u64_in("order id", 1, UINT64_MAX)};
      out = ReplaceAction{a, o, get_request(r)};
      break;
    }
    case 6: {
      AccountId a = get_account(r);
      out = RefreshAction{a, Cash(r.i64_in("deposit", 0, kMaxAmount))};
      break;
    }
    case 7:
      out = ExitAction{get_account(r)};
      break;
    case 8:
      out = AdvanceAction{};
      break;
    default:
      out = SettleFinalAction{Price(r.i64_in("settlement price", 1, kMaxPriceTicks))};
      break;
  }
  PFEX_RETURN_IF_ERROR(r.finish());
  return out;
}

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
      },
      action);
}

}  // namespace pfex::market
