// Identifiers and order vocabulary of the exchange: sides, order types, what a client asks for.
// Order ids and account ids are assigned by the exchange in ledger order, so they are the same on
// every replica.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/units.hpp"

namespace pfex::market {

struct AccountId {
  std::uint32_t value = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): the defaulted <=> compares with a literal 0 inside
  friend constexpr auto operator<=>(AccountId, AccountId) = default;
};
// The insurance fund is account 0: a public account like any other, margined at every round.
inline constexpr AccountId kInsuranceFund{0};

// An order's owner in the private mode: an opaque tag the order carries, standing for an owner
// the market never learns (docs/design.md, the private protocol). The matching engine treats it
// like an AccountId: it stores it, returns it in events, and compares it for cancels.
struct OrderTag {
  std::uint64_t value = 0;
  friend constexpr auto operator<=>(OrderTag, OrderTag) = default;
};

struct OrderId {
  std::uint64_t value = 0;
  // clang-tidy 14 reads the defaulted comparison's synthesized 0 as a null pointer constant.
  friend constexpr auto operator<=>(OrderId, OrderId) = default;  // NOLINT(modernize-use-nullptr)
};

enum class Side : std::uint8_t { kBuy = 0, kSell = 1 };
constexpr Side opposite(Side s) {
  return s == Side::kBuy ? Side::kSell : Side::kBuy;
}

enum class OrderType : std::uint8_t {
  kLimit = 0,              // rests until filled, cancelled, or the epoch ends (good till epoch)
  kImmediateOrCancel = 1,  // fills what it can now; the rest is cancelled
  kFillOrKill = 2,         // fills completely now or is rejected with nothing done
  kPostOnly = 3,           // rests without trading; rejected if it would cross
  kMarket = 4,             // IOC up to a protection limit through the best opposite price
};
inline constexpr std::uint8_t kMaxOrderType = 4;

// What a trader asks for. `limit` is required for every type but kMarket, where it is the
// optional public reservation price p_r (docs/design.md section 3.6): the order trades no further
// than p_r and than `protection_ticks` through the best opposite price, and its open-order totals
// use p_r. Without one the exchange takes market_reservation() (matching_engine.hpp).
struct OrderRequest {
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  std::optional<Price> limit;
  Qty qty;
};

// The market's phase (docs/design.md section 3).
enum class Phase : std::uint8_t {
  kTrading = 0,        // normal trading in the current epoch
  kRefreshWindow = 1,  // margin round: the model says who may trade; no new breaker
  kClosed = 2,         // finally settled
};

}  // namespace pfex::market
