// The public order book: resting orders by side, price and time, inside one epoch's band.
//
// Layout, chosen because this runs in every validator for every order:
// - one price level per tick of the band [L, H] in a flat array per side, with a bitmap of
//   non-empty levels, so finding a level is an index and finding the next best is a word scan;
// - orders in a slab (vector + free list) linked into their level by slot indices, so a level is
//   a FIFO (time priority) and removing any order is O(1);
// - order id -> slot in an open-addressing hash map holding only resting orders, so cancel is O(1)
//   and memory is bounded by what rests, not by history.
// The book only stores; matching lives in MatchingEngine and account effects in the account model.
// Book-owned state (open quantity) is kept apart from what the client sent (the request stays with
// the caller). An order's owner is whatever the account model names owners by (AccountId for the
// transparent accounts, OrderTag for the private mode): the book only stores and returns it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/units.hpp"
#include "market/types.hpp"

namespace pfex::market {

namespace detail {
// Open-addressing map OrderId -> slot with linear probing and backward-shift deletion.
class OrderIdMap {
 public:
  using Slot = std::uint32_t;
  static constexpr Slot kNil = UINT32_MAX;

  void clear();
  Slot find(std::uint64_t id) const;
  void insert(std::uint64_t id, Slot slot);
  void erase(std::uint64_t id);
  std::size_t memory_bytes() const {
    return keys_.capacity() * (sizeof(std::uint64_t) + sizeof(Slot));
  }

 private:
  // Keys are order id + 1, so 0 marks an empty slot and every id below 2^64 - 1 fits (the
  // transparent exchange numbers orders from 1, the private ledger from 0).
  static std::uint64_t key_of(std::uint64_t id) { return id + 1; }
  std::size_t index(std::uint64_t key) const;
  void grow();
  void place(std::uint64_t key, Slot slot);  // a key not yet present; room is there
  std::vector<std::uint64_t> keys_;          // 0 = empty
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t used_ = 0;
};
}  // namespace detail

// Instantiated for AccountId and OrderTag (order_book.cpp).
template <class Owner>
class BasicOrderBook {
 public:
  using Slot = std::uint32_t;
  static constexpr Slot kNil = UINT32_MAX;

  struct Order {
    OrderId id;
    Owner owner;
    Side side = Side::kBuy;
    bool liquidation = false;  // the insurance fund's liquidation order: exempt from the breaker
    Price limit;
    Qty open;          // quantity still resting
    Slot prev = kNil;  // neighbours in the price level (older, newer)
    Slot next = kNil;
  };

  struct LevelView {
    Price price;
    Qty qty;
    std::uint32_t orders = 0;
  };

  BasicOrderBook() = default;

  // Empties the book and sizes it for prices in [low, high].
  void reset(Price low, Price high);

  // Appends an order at the back of its price level. The price must be inside the band and the
  // id must not be resting already (checked by the caller).
  Slot insert(OrderId id, Owner owner, Side side, Price limit, Qty qty, bool liquidation);
  // Removes a resting order. O(1).
  void erase(Slot slot);
  // Lowers a resting order's open quantity by `qty` (< its open quantity).
  void reduce(Slot slot, Qty qty);

  // The slot of a resting order, or kNil.
  Slot find(OrderId id) const;
  const Order& at(Slot slot) const { return orders_[slot]; }

  // Inline: these run several times per order, and returning the optional through a call made
  // the caller stall on store forwarding (measured: 15% of BM_MatchMixedFlow).
  std::optional<Price> best(Side side) const {
    std::int64_t i = first_level(side);
    if (i < 0) return std::nullopt;
    return level_price(i);
  }
  // Oldest order at the best price of `side`, or kNil when that side is empty.
  Slot front(Side side) const {
    std::int64_t i = first_level(side);
    if (i < 0) return kNil;
    return (side == Side::kBuy ? bids_ : asks_)[static_cast<std::size_t>(i)].head;
  }
  Qty level_qty(Side side, Price price) const;
  std::size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

  // Resting orders of one side in priority order (best price first, then oldest first).
  template <class F>
  void for_each(Side side, F&& f) const {
    const auto& levels = side == Side::kBuy ? bids_ : asks_;
    for (std::int64_t i = first_level(side); i >= 0 && i < static_cast<std::int64_t>(levels.size());
         i = next_level(side, i)) {
      for (Slot s = levels[static_cast<std::size_t>(i)].head; s != kNil; s = orders_[s].next) {
        f(orders_[s]);
      }
    }
  }
  // Price levels of one side, best first, while f(price, qty) returns true.
  template <class F>
  void for_each_level(Side side, F&& f) const {
    const auto& levels = side == Side::kBuy ? bids_ : asks_;
    for (std::int64_t i = first_level(side); i >= 0; i = next_level(side, i)) {
      if (!f(level_price(i), Qty(levels[static_cast<std::size_t>(i)].qty))) return;
    }
  }
  // Up to `max_levels` best price levels of one side.
  std::vector<LevelView> depth(Side side, std::size_t max_levels) const;

  // Approximate heap bytes held (for the memory benchmark).
  std::size_t memory_bytes() const;

 private:
  struct Level {
    Slot head = kNil;
    Slot tail = kNil;
    std::int64_t qty = 0;
    std::uint32_t count = 0;
  };

  std::size_t level_index(Price p) const {
    return static_cast<std::size_t>(p.value() - low_.value());
  }
  Price level_price(std::int64_t i) const { return Price(low_.value() + i); }
  std::int64_t first_level(Side side) const { return side == Side::kBuy ? best_bid_ : best_ask_; }
  std::int64_t next_level(Side side, std::int64_t i) const;
  void set_bit(Side side, std::size_t i);
  void clear_bit(Side side, std::size_t i);
  std::int64_t scan_down(const std::vector<std::uint64_t>& bits, std::int64_t from) const;
  std::int64_t scan_up(const std::vector<std::uint64_t>& bits, std::int64_t from) const;

  Price low_;
  std::vector<Level> bids_;
  std::vector<Level> asks_;
  std::vector<std::uint64_t> bid_bits_;
  std::vector<std::uint64_t> ask_bits_;
  std::int64_t best_bid_ = -1;  // index of the highest non-empty bid level, -1 if none
  std::int64_t best_ask_ = -1;  // index of the lowest non-empty ask level, -1 if none
  std::vector<Order> orders_;
  Slot free_head_ = kNil;
  std::size_t live_ = 0;
  detail::OrderIdMap ids_;
};

// The transparent exchange's book: orders owned by accounts.
using OrderBook = BasicOrderBook<AccountId>;

}  // namespace pfex::market
