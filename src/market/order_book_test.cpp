#include "market/order_book.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace pfex::market {
namespace {

TEST(OrderBook, PriorityAcrossLevelsAndWithinALevel) {
  OrderBook book;
  book.reset(Price(100), Price(400));
  book.insert(OrderId{1}, AccountId{1}, Side::kBuy, Price(150), Qty(5), false);
  book.insert(OrderId{2}, AccountId{2}, Side::kBuy, Price(299), Qty(1), false);  // other word
  book.insert(OrderId{3}, AccountId{3}, Side::kBuy, Price(299), Qty(2), false);
  book.insert(OrderId{4}, AccountId{4}, Side::kSell, Price(350), Qty(7), false);
  EXPECT_EQ(book.best(Side::kBuy), Price(299));
  EXPECT_EQ(book.best(Side::kSell), Price(350));
  EXPECT_EQ(book.at(book.front(Side::kBuy)).id, OrderId{2});
  std::vector<std::uint64_t> order;
  book.for_each(Side::kBuy, [&](const OrderBook::Order& o) { order.push_back(o.id.value); });
  EXPECT_EQ(order, (std::vector<std::uint64_t>{2, 3, 1}));
  book.erase(book.find(OrderId{2}));
  book.erase(book.find(OrderId{3}));
  EXPECT_EQ(book.best(Side::kBuy), Price(150));  // scanned down across bitmap words
  book.reduce(book.find(OrderId{1}), Qty(2));
  EXPECT_EQ(book.level_qty(Side::kBuy, Price(150)), Qty(3));
  EXPECT_EQ(book.find(OrderId{2}), OrderBook::kNil);
  EXPECT_EQ(book.size(), 2u);
}

// Random inserts and erases against a std::map model, enough to grow and churn the id map.
// The private ledger numbers orders from 0: id 0 and the largest id rest and leave like any other.
TEST(OrderBook, OrderIdZeroAndTheLargestIdAreOrdersLikeAnyOther) {
  BasicOrderBook<OrderTag> book;
  book.reset(Price(100), Price(400));
  const OrderId last{UINT64_MAX - 1};
  EXPECT_EQ(book.find(OrderId{0}), BasicOrderBook<OrderTag>::kNil);
  book.insert(OrderId{0}, OrderTag{7}, Side::kBuy, Price(150), Qty(5), false);
  book.insert(last, OrderTag{8}, Side::kBuy, Price(150), Qty(2), false);
  ASSERT_NE(book.find(OrderId{0}), BasicOrderBook<OrderTag>::kNil);
  EXPECT_EQ(book.at(book.find(OrderId{0})).owner, OrderTag{7});
  EXPECT_EQ(book.at(book.front(Side::kBuy)).id, OrderId{0});  // first in, first in its level
  book.erase(book.find(OrderId{0}));
  EXPECT_EQ(book.find(OrderId{0}), BasicOrderBook<OrderTag>::kNil);
  EXPECT_EQ(book.at(book.front(Side::kBuy)).id, last);
  EXPECT_EQ(book.find(OrderId{1}), BasicOrderBook<OrderTag>::kNil);
}

TEST(OrderBook, MatchesAModelUnderChurn) {
  OrderBook book;
  book.reset(Price(1), Price(1000));
  std::map<std::uint64_t, std::pair<Side, std::int64_t>> model;
  std::mt19937_64 rng(7);
  std::uint64_t next = 1;
  for (int i = 0; i < 200'000; ++i) {
    if (model.empty() || rng() % 3 != 0) {
      Side side = rng() % 2 ? Side::kBuy : Side::kSell;
      std::int64_t price = side == Side::kBuy ? 1 + static_cast<std::int64_t>(rng() % 500)
                                              : 501 + static_cast<std::int64_t>(rng() % 500);
      book.insert(OrderId{next}, AccountId{1}, side, Price(price), Qty(1), false);
      model[next++] = {side, price};
    } else {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % std::min<std::size_t>(model.size(), 64)));
      OrderBook::Slot s = book.find(OrderId{it->first});
      ASSERT_NE(s, OrderBook::kNil);
      book.erase(s);
      model.erase(it);
    }
    if (i % 1000 == 0) {
      std::int64_t best_bid = 0, best_ask = 0;
      for (auto& [id, v] : model) {
        if (v.first == Side::kBuy) best_bid = std::max(best_bid, v.second);
        if (v.first == Side::kSell && (best_ask == 0 || v.second < best_ask)) best_ask = v.second;
      }
      EXPECT_EQ(book.best(Side::kBuy).value_or(Price(0)), Price(best_bid));
      EXPECT_EQ(book.best(Side::kSell).value_or(Price(0)), Price(best_ask));
      ASSERT_EQ(book.size(), model.size());
    }
  }
  for (auto& [id, v] : model)
    ASSERT_NE(book.find(OrderId{id}), OrderBook::kNil) << id;
  EXPECT_EQ(book.find(OrderId{next}), OrderBook::kNil);
}

}  // namespace
}  // namespace pfex::market
