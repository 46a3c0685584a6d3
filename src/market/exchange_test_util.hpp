// Shared helpers for the market tests: a small contract, funded accounts and order shorthands.
#pragma once

#include <gtest/gtest.h>

#include "market/exchange.hpp"
#include "market/test_spec.hpp"

namespace pfex::market::testing {

inline OrderRequest limit(Side side, std::int64_t price, std::int64_t qty,
                          OrderType type = OrderType::kLimit) {
  return OrderRequest{side, type, Price(price), Qty(qty)};
}
inline OrderRequest buy(std::int64_t price, std::int64_t qty, OrderType t = OrderType::kLimit) {
  return limit(Side::kBuy, price, qty, t);
}
inline OrderRequest sell(std::int64_t price, std::int64_t qty, OrderType t = OrderType::kLimit) {
  return limit(Side::kSell, price, qty, t);
}
inline OrderRequest market(Side side, std::int64_t qty) {
  return OrderRequest{side, OrderType::kMarket, std::nullopt, Qty(qty)};
}

class ExchangeFixture : public ::testing::Test {
 protected:
  explicit ExchangeFixture(ContractSpec spec = small_spec(), std::int64_t reference = 1000)
      : ex_(*Exchange::open(std::move(spec), Price(reference), LedgerTime(0))) {}

  AccountId funded(std::int64_t cash) {
    AccountId id = *ex_.register_account(now_);
    EXPECT_TRUE(ex_.deposit(now_, id, Cash(cash)).is_ok());
    return id;
  }
  OrderOutcome place(AccountId id, const OrderRequest& r) {
    Result<OrderOutcome> out = ex_.submit(now_, id, r);
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
    return out.is_ok() ? *out : OrderOutcome{};
  }
  Account acct(AccountId id) const { return *ex_.account(id); }
  template <class E>
  std::vector<E> events_of() const {
    std::vector<E> out;
    for (const Event& e : ex_.events()) {
      if (const auto* t = std::get_if<E>(&e.body)) out.push_back(*t);
    }
    return out;
  }

  std::vector<Trade> trades() const { return events_of<Trade>(); }

  Exchange ex_;
  LedgerTime now_{0};
};

}  // namespace pfex::market::testing
