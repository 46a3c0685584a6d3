// Everything the exchange does is reported as an Event, in order. The engine never formats output
// or does I/O: clients (the CLI, scenario runner, validators, trader nodes) read the event list.
// The order events name an order's owner as the account model does (BasicX<Owner>); the
// transparent exchange's events (OrderAccepted, Trade, ...) name accounts.
#pragma once

#include <cstdint>
#include <variant>

#include "core/units.hpp"
#include "market/band.hpp"
#include "market/types.hpp"

namespace pfex::market {

enum class CloseReason : std::uint8_t {
  kFilled = 0,
  kCancelled = 1,
  kExpired = 2,             // the epoch ended (margin round) or the contract settled
  kUnfilledIoc = 3,         // the unfilled rest of an immediate-or-cancel or market order
  kReplaced = 4,            // cancel-replace
  kKilled = 5,              // a fill-or-kill the book could not fill completely on arrival
  kPostOnlyWouldCross = 6,  // a post-only order that would have traded on arrival
};

enum class HaltReason : std::uint8_t {
  kBreakerVolume = 0,    // Q_cb contracts traded at a band edge within T_cb
  kBreakerStanding = 1,  // best bid at H (or best ask at L) for T_cb
  kScheduled = 2,        // scheduled settlement / end of the trading day
  kFinalSettlement = 3,  // the contract expired at the issuer's settlement price
};

template <class Owner>
struct BasicOrderAccepted {
  OrderId id;
  Owner owner;
  Side side;
  OrderType type;
  Price limit;  // the effective limit (derived for market orders)
  Qty qty;
  bool liquidation;
};
template <class Owner>
struct BasicTrade {
  std::uint64_t seq;  // 1, 2, ... over the life of the market
  OrderId maker;
  OrderId taker;
  Owner maker_owner;
  Owner taker_owner;
  Side taker_side;
  Price price;
  Qty qty;
  bool liquidation;  // one side is the insurance fund's liquidation order
};
template <class Owner>
struct BasicOrderClosed {
  OrderId id;
  Owner owner;
  CloseReason reason;
  Qty released;  // quantity that did not fill and was released from the open totals
};
// A cancel-replace that only lowered a resting order's quantity at the same price: the order
// keeps its id and its place in the queue.
template <class Owner>
struct BasicOrderReduced {
  OrderId id;
  Owner owner;
  Qty released;  // taken off the open quantity and released from the open totals
  Qty open;      // what now rests
};
using OrderAccepted = BasicOrderAccepted<AccountId>;
using Trade = BasicTrade<AccountId>;
using OrderClosed = BasicOrderClosed<AccountId>;
using OrderReduced = BasicOrderReduced<AccountId>;

struct CashMoved {
  AccountId account;
  Cash amount;  // > 0 deposit, < 0 withdrawal
};
struct AccountRegistered {
  AccountId account;
  Cash bond;
};
struct MarketHalted {
  std::uint32_t epoch;
  HaltReason reason;
};
struct EpochOpened {
  std::uint32_t epoch;
  Band band;
  LedgerTime window_close;
  bool widened;
};
struct MarginCall {
  AccountId account;
  Cash amount;  // deposit needed to pass the new band (0: a refresh is still needed)
};
struct Refreshed {
  AccountId account;
  Cash deposit;
  Cash levy;  // shortfall charge paid to the fund
};
struct ShortfallLevied {
  Cash fund_deficit;
  Cash per_contract;
};
// The final settlement's second part (docs/market.md, "Final settlement"): what the per-contract
// levy left of the fund's deficit, charged on the survivors' equity; `uncovered` is what their
// equity could not pay (the fund ends that much below zero).
struct ShortfallHaircut {
  Cash remainder;
  Cash survivors_equity;
  Cash uncovered;
};
struct WindowClosed {
  std::uint32_t epoch;
};
struct Defaulted {
  AccountId account;
  Cash cash;
  std::int64_t position;
  Cash bond;
};
struct LiquidationFinished {
  std::uint32_t batch;
  Qty filled;
  Qty kept;         // unfilled, kept by the fund marked at the band edge
  Price avg_price;  // rounded for display; claims use the exact rational price
};
struct Exited {
  AccountId account;
  Cash claim;
};
struct FinalSettlement {
  Price price;
};

// One event of an account model's list: the market's events and the model's own, in one order.
template <class... Bodies>
struct BasicEvent {
  LedgerTime time;
  std::variant<Bodies...> body;
};

using Event =
    BasicEvent<OrderAccepted, Trade, OrderClosed, OrderReduced, CashMoved, AccountRegistered,
               MarketHalted, EpochOpened, MarginCall, Refreshed, ShortfallLevied, ShortfallHaircut,
               WindowClosed, Defaulted, LiquidationFinished, Exited, FinalSettlement>;

}  // namespace pfex::market
