// The canonical bytes of a market Action; see action_codec.hpp.
#include "protocol/action_codec.hpp"

#include <cstdint>
#include <variant>

namespace pfex::protocol {
namespace {

using market::AccountId;
using market::OrderId;

constexpr std::int64_t kMaxAmount = std::int64_t{1} << 62;

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

void put_request(Writer& w, const market::OrderRequest& r) {
  w.u8(static_cast<std::uint8_t>(r.side));
  w.u8(static_cast<std::uint8_t>(r.type));
  w.boolean(r.limit.has_value());
  if (r.limit) w.i64(r.limit->value());
  w.i64(r.qty.value());
}

market::OrderRequest get_request(Reader& r) {
  market::OrderRequest out;
  out.side = static_cast<market::Side>(r.u8_in("side", 0, 1));
  out.type = static_cast<market::OrderType>(r.u8_in("order type", 0, market::kMaxOrderType));
  if (r.boolean("has limit")) out.limit = Price(r.i64_in("limit price", 1, market::kMaxPriceTicks));
  out.qty = Qty(r.i64_in("quantity", 1, kMaxAmount));
  return out;
}

AccountId get_account(Reader& r) {
  return AccountId{r.u32("account")};
}

}  // namespace

Bytes encode_action(const market::Action& action) {
  Bytes out;
  Writer w(&out);
  w.u8(static_cast<std::uint8_t>(action.index()));
  std::visit(Overloaded{
                 [](const market::RegisterAction&) {},
                 [&](const market::DepositAction& a) {
                   w.u32(a.account.value);
                   w.i64(a.amount.value());
                 },
                 [&](const market::WithdrawAction& a) {
                   w.u32(a.account.value);
                   w.i64(a.amount.value());
                 },
                 [&](const market::SubmitAction& a) {
                   w.u32(a.account.value);
                   put_request(w, a.request);
                 },
                 [&](const market::CancelAction& a) {
                   w.u32(a.account.value);
                   w.u64(a.order.value);
                 },
                 [&](const market::ReplaceAction& a) {
                   w.u32(a.account.value);
                   w.u64(a.order.value);
                   put_request(w, a.request);
                 },
                 [&](const market::RefreshAction& a) {
                   w.u32(a.account.value);
                   w.i64(a.deposit.value());
                 },
                 [&](const market::ExitAction& a) { w.u32(a.account.value); },
                 [](const market::AdvanceAction&) {},
                 [&](const market::SettleFinalAction& a) { w.i64(a.price.value()); },
                 [&](const market::ReduceAction& a) {
                   w.u32(a.account.value);
                   w.u64(a.order.value);
                   w.i64(a.by.value());
                 },
             },
             action);
  return out;
}

Result<market::Action> decode_action(ByteSpan bytes) {
  Reader r(bytes);
  const auto kind = r.u8_in("action kind", 0, std::variant_size_v<market::Action> - 1);
  market::Action out;
  switch (kind) {
    case 0:
      out = market::RegisterAction{};
      break;
    case 1: {
      AccountId a = get_account(r);
      out = market::DepositAction{a, Cash(r.i64_in("amount", 1, kMaxAmount))};
      break;
    }
    case 2: {
      AccountId a = get_account(r);
      out = market::WithdrawAction{a, Cash(r.i64_in("amount", 1, kMaxAmount))};
      break;
    }
    case 3: {
      AccountId a = get_account(r);
      out = market::SubmitAction{a, get_request(r)};
      break;
    }
    case 4: {
      AccountId a = get_account(r);
      out = market::CancelAction{a, OrderId{r.u64_in("order id", 1, UINT64_MAX)}};
      break;
    }
    case 5: {
      AccountId a = get_account(r);
      OrderId o{r.u64_in("order id", 1, UINT64_MAX)};
      out = market::ReplaceAction{a, o, get_request(r)};
      break;
    }
    case 6: {
      AccountId a = get_account(r);
      out = market::RefreshAction{a, Cash(r.i64_in("deposit", 0, kMaxAmount))};
      break;
    }
    case 7:
      out = market::ExitAction{get_account(r)};
      break;
    case 8:
      out = market::AdvanceAction{};
      break;
    case 9:
      out =
          market::SettleFinalAction{Price(r.i64_in("settlement price", 1, market::kMaxPriceTicks))};
      break;
    default: {
      AccountId a = get_account(r);
      OrderId o{r.u64_in("order id", 1, UINT64_MAX)};
      out = market::ReduceAction{a, o, Qty(r.i64_in("reduce by", 1, kMaxAmount))};
      break;
    }
  }
  PFEX_RETURN_IF_ERROR(r.finish());
  return out;
}

}  // namespace pfex::protocol
