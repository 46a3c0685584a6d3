// Shared fixtures of the private exchange's tests: one set of generators, market terms with a
// small window, and a ledger with registered, funded wallets.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "protocol/private/ledger.hpp"
#include "protocol/private/wallet.hpp"

namespace pfex::priv::testing {

inline const PrivateGens& gens() {
  static const PrivateGens g;
  return g;
}

// L/H = 90/110, k = 10, f = 2, M = 130, N = 2^log_window.
inline MarketTerms small_terms(std::size_t log_window = 3) {
  MarketTerms t;
  t.market_id.fill(7);
  t.epoch = 1;
  t.log_window = log_window;
  t.tick_value = 10;
  t.fee = 2;
  t.low = 90;
  t.high = 110;
  t.margin = 130;
  t.max_order_qty = 1000;
  return t;
}

// Registers a wallet and returns it. Its token has c = 0: tests fund it with fund_token().
inline std::unique_ptr<PrivateWallet> registered(PrivateLedger& ledger, std::uint64_t seq = 1) {
  auto w = std::make_unique<PrivateWallet>(ledger.gens());
  auto tx = w->build_register(ledger, seq, 0);
  EXPECT_TRUE(tx.is_ok()) << tx.status().to_string();
  auto applied = ledger.apply(PrivateTx(*tx));
  EXPECT_TRUE(applied.is_ok()) << applied.status().to_string();
  EXPECT_TRUE(w->confirm(*applied).is_ok());
  return w;
}

// Gives the wallet a token with cash c (a stand-in for a deposit).
inline void fund(PrivateLedger& ledger, PrivateWallet& w, std::int64_t cash) {
  TokenOpening opening = w.token();
  opening.a.c = cash;
  opening.sn = random_nonzero_scalar();
  opening.r = Scalar::random();
  w.detail_replace_token(opening, ledger.detail_append_token(opening.commit(ledger.gens())));
}

// Applies a built transaction and confirms it in the wallet; fails the test on error.
template <class Tx>
inline Applied apply_ok(PrivateLedger& ledger, PrivateWallet& w, const Result<Tx>& tx) {
  EXPECT_TRUE(tx.is_ok()) << tx.status().to_string();
  if (!tx.is_ok()) return {};
  auto applied = ledger.apply(PrivateTx(*tx));
  EXPECT_TRUE(applied.is_ok()) << applied.status().to_string();
  if (!applied.is_ok()) return {};
  if constexpr (!std::is_same_v<Tx, CancelTx>) {
    EXPECT_TRUE(w.confirm(*applied).is_ok());
  }
  return *applied;
}

}  // namespace pfex::priv::testing
