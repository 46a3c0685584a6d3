#include "market/order_book.hpp"

#include <bit>
#include <cassert>

namespace pfex::market {
namespace detail {

// ---- OrderIdMap
// ----------------------------------------------------------------------------------

void OrderIdMap::clear() {
  std::fill(keys_.begin(), keys_.end(), 0);
  used_ = 0;
}

std::size_t OrderIdMap::index(std::uint64_t id) const {
  // Fibonacci hashing: ids are sequential, the multiply spreads them over the table.
  return static_cast<std::size_t>((id * 0x9E3779B97F4A7C15ull) >> 17) & mask_;
}

OrderIdMap::Slot OrderIdMap::find(std::uint64_t order) const {
  if (keys_.empty()) return kNil;
  const std::uint64_t id = key_of(order);
  for (std::size_t i = index(id);; i = (i + 1) & mask_) {
    if (keys_[i] == id) return slots_[i];
    if (keys_[i] == 0) return kNil;
  }
}

void OrderIdMap::grow() {
  std::vector<std::uint64_t> old_keys = std::move(keys_);
  std::vector<Slot> old_slots = std::move(slots_);
  std::size_t cap = old_keys.empty() ? 1024 : old_keys.size() * 2;
  keys_.assign(cap, 0);
  slots_.assign(cap, kNil);
  mask_ = cap - 1;
  used_ = 0;
  for (std::size_t i = 0; i < old_keys.size(); ++i) {
    if (old_keys[i] != 0) place(old_keys[i], old_slots[i]);
  }
}

void OrderIdMap::insert(std::uint64_t order, Slot slot) {
  if ((used_ + 1) * 2 > keys_.size()) grow();
  place(key_of(order), slot);
}

void OrderIdMap::place(std::uint64_t id, Slot slot) {
  std::size_t i = index(id);
  while (keys_[i] != 0)
    i = (i + 1) & mask_;
  keys_[i] = id;
  slots_[i] = slot;
  ++used_;
}

void OrderIdMap::erase(std::uint64_t order) {
  if (keys_.empty()) return;
  const std::uint64_t id = key_of(order);
  std::size_t i = index(id);
  while (keys_[i] != id) {
    if (keys_[i] == 0) return;
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion keeps probe chains intact without tombstones.
  std::size_t hole = i;
  for (std::size_t j = (hole + 1) & mask_; keys_[j] != 0; j = (j + 1) & mask_) {
    std::size_t home = index(keys_[j]);
    // Move keys_[j] into the hole unless its home lies cyclically in (hole, j].
    bool home_after_hole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_after_hole) {
      keys_[hole] = keys_[j];
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  keys_[hole] = 0;
  --used_;
}

}  // namespace detail

// ---- BasicOrderBook
// ------------------------------------------------------------------------------

template <class Owner>
void BasicOrderBook<Owner>::reset(Price low, Price high) {
  auto n = static_cast<std::size_t>(high.value() - low.value() + 1);
  low_ = low;
  bids_.assign(n, Level{});
  asks_.assign(n, Level{});
  bid_bits_.assign((n + 63) / 64, 0);
  ask_bits_.assign((n + 63) / 64, 0);
  best_bid_ = -1;
  best_ask_ = -1;
  orders_.clear();
  free_head_ = kNil;
  live_ = 0;
  ids_.clear();
}

template <class Owner>
void BasicOrderBook<Owner>::set_bit(Side side, std::size_t i) {
  auto& bits = side == Side::kBuy ? bid_bits_ : ask_bits_;
  bits[i / 64] |= std::uint64_t{1} << (i % 64);
}

template <class Owner>
void BasicOrderBook<Owner>::clear_bit(Side side, std::size_t i) {
  auto& bits = side == Side::kBuy ? bid_bits_ : ask_bits_;
  bits[i / 64] &= ~(std::uint64_t{1} << (i % 64));
}

// Highest set bit at index <= from, or -1.
template <class Owner>
std::int64_t BasicOrderBook<Owner>::scan_down(const std::vector<std::uint64_t>& bits,
                                              std::int64_t from) const {
  if (from < 0) return -1;
  auto w = static_cast<std::size_t>(from / 64);
  int b = static_cast<int>(from % 64);
  std::uint64_t word =
      bits[w] & (b == 63 ? ~std::uint64_t{0} : ((std::uint64_t{1} << (b + 1)) - 1));
  while (true) {
    if (word != 0)
      return static_cast<std::int64_t>(w * 64 + 63 -
                                       static_cast<std::size_t>(std::countl_zero(word)));
    if (w == 0) return -1;
    word = bits[--w];
  }
}

// Lowest set bit at index >= from, or -1.
template <class Owner>
std::int64_t BasicOrderBook<Owner>::scan_up(const std::vector<std::uint64_t>& bits,
                                            std::int64_t from) const {
  auto n = static_cast<std::int64_t>(bits.size() * 64);
  if (from >= n) return -1;
  auto w = static_cast<std::size_t>(from / 64);
  int b = static_cast<int>(from % 64);
  std::uint64_t word = bits[w] & (~std::uint64_t{0} << b);
  while (true) {
    if (word != 0)
      return static_cast<std::int64_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(word)));
    if (++w == bits.size()) return -1;
    word = bits[w];
  }
}

template <class Owner>
std::int64_t BasicOrderBook<Owner>::next_level(Side side, std::int64_t i) const {
  return side == Side::kBuy ? scan_down(bid_bits_, i - 1) : scan_up(ask_bits_, i + 1);
}

template <class Owner>
typename BasicOrderBook<Owner>::Slot BasicOrderBook<Owner>::insert(OrderId id, Owner owner,
                                                                   Side side, Price limit, Qty qty,
                                                                   bool liquidation) {
  Slot slot;
  if (free_head_ != kNil) {
    slot = free_head_;
    free_head_ = orders_[slot].next;
  } else {
    slot = static_cast<Slot>(orders_.size());
    orders_.emplace_back();
  }
  std::size_t li = level_index(limit);
  Level& level = side == Side::kBuy ? bids_[li] : asks_[li];
  orders_[slot] = Order{id, owner, side, liquidation, limit, qty, level.tail, kNil};
  if (level.tail != kNil) {
    orders_[level.tail].next = slot;
  } else {
    level.head = slot;
    set_bit(side, li);
  }
  level.tail = slot;
  level.qty += qty.value();
  ++level.count;
  auto i = static_cast<std::int64_t>(li);
  if (side == Side::kBuy) {
    if (i > best_bid_) best_bid_ = i;
  } else if (best_ask_ < 0 || i < best_ask_) {
    best_ask_ = i;
  }
  ids_.insert(id.value, slot);
  ++live_;
  return slot;
}

template <class Owner>
void BasicOrderBook<Owner>::erase(Slot slot) {
  Order& o = orders_[slot];
  std::size_t li = level_index(o.limit);
  Level& level = o.side == Side::kBuy ? bids_[li] : asks_[li];
  if (o.prev != kNil) {
    orders_[o.prev].next = o.next;
  } else {
    level.head = o.next;
  }
  if (o.next != kNil) {
    orders_[o.next].prev = o.prev;
  } else {
    level.tail = o.prev;
  }
  level.qty -= o.open.value();
  --level.count;
  if (level.count == 0) {
    clear_bit(o.side, li);
    auto i = static_cast<std::int64_t>(li);
    if (o.side == Side::kBuy && i == best_bid_) best_bid_ = scan_down(bid_bits_, i - 1);
    if (o.side == Side::kSell && i == best_ask_) best_ask_ = scan_up(ask_bits_, i + 1);
  }
  ids_.erase(o.id.value);
  o.next = free_head_;
  free_head_ = slot;
  --live_;
}

template <class Owner>
void BasicOrderBook<Owner>::reduce(Slot slot, Qty qty) {
  Order& o = orders_[slot];
  assert(qty < o.open);
  o.open = Qty(o.open.value() - qty.value());
  std::size_t li = level_index(o.limit);
  Level& level = o.side == Side::kBuy ? bids_[li] : asks_[li];
  level.qty -= qty.value();
}

template <class Owner>
typename BasicOrderBook<Owner>::Slot BasicOrderBook<Owner>::find(OrderId id) const {
  return ids_.find(id.value);
}

template <class Owner>
Qty BasicOrderBook<Owner>::level_qty(Side side, Price price) const {
  if (price < low_ || price.value() - low_.value() >= static_cast<std::int64_t>(bids_.size())) {
    return Qty(0);
  }
  const auto& levels = side == Side::kBuy ? bids_ : asks_;
  return Qty(levels[level_index(price)].qty);
}

template <class Owner>
std::vector<typename BasicOrderBook<Owner>::LevelView> BasicOrderBook<Owner>::depth(
    Side side, std::size_t max_levels) const {
  std::vector<LevelView> out;
  const auto& levels = side == Side::kBuy ? bids_ : asks_;
  for (std::int64_t i = first_level(side); i >= 0 && out.size() < max_levels;
       i = next_level(side, i)) {
    const Level& l = levels[static_cast<std::size_t>(i)];
    out.push_back({level_price(i), Qty(l.qty), l.count});
  }
  return out;
}

template <class Owner>
std::size_t BasicOrderBook<Owner>::memory_bytes() const {
  return orders_.capacity() * sizeof(Order) +
         (bids_.capacity() + asks_.capacity()) * sizeof(Level) +
         (bid_bits_.capacity() + ask_bits_.capacity()) * sizeof(std::uint64_t) +
         ids_.memory_bytes();
}

template class BasicOrderBook<AccountId>;
template class BasicOrderBook<OrderTag>;

}  // namespace pfex::market
