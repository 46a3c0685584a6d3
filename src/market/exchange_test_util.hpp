// Shared helpers for the market tests: a small contract, funded accounts and order shorthands.
#pragma once

#include <gtest/gtest.h>

#include "market/exchange.hpp"

namespace pfex::market::testing {

// k = 10 per tick, fee 1 per contract, d = 5% (band [950, 1050] around 1000), m = 8%,
// so M = 10 * (ceil(0.08 * 1050) + 1) = 850 per contract.
inline ContractSpec small_spec() {
  ContractSpec s;
  s.name = "TEST";
  s.tick_value = Cash(10);
  s.fee_per_contract = Cash(1);
  s.band_ppm = 50'000;
  s.margin_ppm = 80'000;
  s.widen_ppm = 1'500'000;
  s.protection_ticks = 5;
  s.breaker_qty = Qty(10);
  s.breaker_window_ms = 10'000;
  s.vwap_window_ms = 10'000;
  s.refresh_window_ms = 60'000;
  s.bond = Cash(100);
  s.liquidation_penalty_per_contract = Cash(5);
  s.max_order_qty = Qty(1'000'000);
  return s;
}

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
  std::vector<Trade> trades() const {
    std::vector<Trade> out;
    for (const Event& e : ex_.events()) {
      if (const auto* t = std::get_if<Trade>(&e.body)) out.push_back(*t);
    }
    return out;
  }
  template <class E>
  std::vector<E> events_of() const {
    std::vector<E> out;
    for (const Event& e : ex_.events()) {
      if (const auto* t = std::get_if<E>(&e.body)) out.push_back(*t);
    }
    return out;
  }

  Exchange ex_;
  LedgerTime now_{0};
};

}  // namespace pfex::market::testing
