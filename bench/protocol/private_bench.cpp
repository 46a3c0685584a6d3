// The private exchange's transactions at the default window size N = 1024
// (docs/protocol/private.md): proving and verifying a post (the floors: prove <= 250 ms, verify
// <= 15 ms), settle, reduce, cancel-replace, cancel, register, deposit and withdraw (m = 16), with
// each transaction's size in bytes as a counter. The window's membership set is built once per
// window and shared (the validator keys it by window), so it is measured on its own
// (BM_PrivateWindowSet).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <chrono>
#include <memory>

#include "protocol/private/ledger.hpp"
#include "protocol/private/wallet.hpp"

namespace pfex::priv {
namespace {

const PrivateGens& gens() {
  static const PrivateGens g;
  return g;
}

struct IssuerKeys {
  std::array<std::uint8_t, 32> pk{};
  std::array<std::uint8_t, 64> sk{};
};
const IssuerKeys& issuer() {
  static const IssuerKeys keys = [] {
    IssuerKeys k;
    crypto_sign_keypair(k.pk.data(), k.sk.data());
    return k;
  }();
  return keys;
}

MarketTerms terms() {
  MarketTerms t;
  t.market_id.fill(1);
  t.epoch = 1;
  t.log_window = 10;
  t.tick_value = 10;
  t.fee = 2;
  t.low = 90;
  t.high = 110;
  t.margin = 130;
  t.validators_key = Point::mul_base(Scalar::from_u64(0x5eed));
  t.issuer = issuer().pk;
  return t;
}

// A ledger whose current list holds 1024 tokens, the last one a funded wallet's, with one open buy
// of the wallet that has one fill (so spends carry a settle entry where the wallet has one).
struct Market {
  PrivateLedger ledger{gens(), terms()};
  PrivateWallet wallet{gens()};

  Market() {
    auto reg = wallet.build_register(ledger, 1, 0);
    (void)wallet.confirm(*ledger.apply(PrivateTx(*reg)));
    // Other identities' first tokens fill the list to 1023; the wallet's deposit appends its
    // funded token as the 1024th.
    while (ledger.tokens(1).size() < 1023) {
      PrivateWallet other(gens());
      (void)ledger.apply(PrivateTx(*other.build_register(ledger, 1, 0)));
    }
    MintTx mint;
    mint.account = wallet.identity();
    mint.amount = 11'000'000;
    mint.sequence = 1;
    const Bytes message = mint_signed_bytes(mint);
    crypto_sign_detached(mint.signature.data(), nullptr, message.data(), message.size(),
                         issuer().sk.data());
    (void)ledger.apply(PrivateTx(mint));
    wallet.on_mint(11'000'000);
    apply(wallet.build_deposit(ledger, 10'000'000));  // c = 10'000'000, 1'000'000 left
  }
  // Applies a transaction the wallet built.
  template <class Tx>
  void apply(const Result<Tx>& tx) {
    auto applied = ledger.apply(PrivateTx(*tx));
    if constexpr (!std::is_same_v<Tx, CancelTx>) {
      (void)wallet.confirm(*applied);
    }
  }
};

Market& market() {
  static Market m;
  return m;
}

void report_bytes(benchmark::State& state, const PrivateTx& tx) {
  state.counters["bytes"] = static_cast<double>(encode(tx).size());
}

void BM_PrivateWindowSet(benchmark::State& state) {
  Market& m = market();
  auto points = *window_points({1, 0, 1024}, m.ledger.tokens(1), 1024);
  for (auto _ : state)
    benchmark::DoNotOptimize(crypto::OneOfManySet::create(points));
}
BENCHMARK(BM_PrivateWindowSet)->Unit(benchmark::kMillisecond);

void BM_PrivatePostProve(benchmark::State& state) {
  Market& m = market();
  Result<SpendTx> tx = Status::failed_precondition("not built");
  for (auto _ : state) {
    tx = m.wallet.build_post(m.ledger, Side::kBuy, OrderKind::kLimit, 100, 5);
    if (!tx.is_ok()) state.SkipWithError(std::string(tx.status().message()).c_str());
  }
  if (tx.is_ok()) report_bytes(state, PrivateTx(*tx));
}
BENCHMARK(BM_PrivatePostProve)->Unit(benchmark::kMillisecond)->UseRealTime();

// Verifies one transaction (every check and proof, no state change).
void verify_loop(benchmark::State& state, const PrivateTx& tx) {
  Market& m = market();
  if (Status s = m.ledger.check(tx); !s.is_ok()) state.SkipWithError(s.to_string().c_str());
  for (auto _ : state)
    benchmark::DoNotOptimize(m.ledger.check(tx));
  report_bytes(state, tx);
}

void BM_PrivatePostVerify(benchmark::State& state) {
  Market& m = market();
  auto tx = m.wallet.build_post(m.ledger, Side::kBuy, OrderKind::kLimit, 100, 5);
  verify_loop(state, PrivateTx(*tx));
}
BENCHMARK(BM_PrivatePostVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

// The other spends, on an order of the wallet with one unclaimed fill.
std::uint64_t open_order_with_fill() {
  static const std::uint64_t id = [] {
    Market& m = market();
    m.apply(m.wallet.build_post(m.ledger, Side::kBuy, OrderKind::kLimit, 100, 5));
    const std::uint64_t order = m.ledger.order_count() - 1;
    (void)m.ledger.record_fill(order, 100, 1);
    return order;
  }();
  return id;
}

void BM_PrivateSettleProve(benchmark::State& state) {
  Market& m = market();
  open_order_with_fill();
  Result<SpendTx> tx = Status::failed_precondition("not built");
  for (auto _ : state)
    tx = m.wallet.build_settle(m.ledger);
  if (tx.is_ok()) report_bytes(state, PrivateTx(*tx));
}
BENCHMARK(BM_PrivateSettleProve)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PrivateSettleVerify(benchmark::State& state) {
  Market& m = market();
  open_order_with_fill();
  verify_loop(state, PrivateTx(*m.wallet.build_settle(m.ledger)));
}
BENCHMARK(BM_PrivateSettleVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PrivateReduceVerify(benchmark::State& state) {
  Market& m = market();
  verify_loop(state, PrivateTx(*m.wallet.build_reduce(m.ledger, open_order_with_fill(), 1)));
}
BENCHMARK(BM_PrivateReduceVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PrivateCancelReplaceVerify(benchmark::State& state) {
  Market& m = market();
  verify_loop(state, PrivateTx(*m.wallet.build_cancel_replace(
                         m.ledger, open_order_with_fill(), Side::kBuy, OrderKind::kLimit, 99, 2)));
}
BENCHMARK(BM_PrivateCancelReplaceVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PrivateCancelVerify(benchmark::State& state) {
  Market& m = market();
  verify_loop(state, PrivateTx(*m.wallet.build_cancel(m.ledger, open_order_with_fill())));
}
BENCHMARK(BM_PrivateCancelVerify)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_PrivateDepositProve(benchmark::State& state) {
  Market& m = market();
  Result<SpendTx> tx = Status::failed_precondition("not built");
  for (auto _ : state)
    tx = m.wallet.build_deposit(m.ledger, 1'000);
  if (tx.is_ok()) report_bytes(state, PrivateTx(*tx));
}
BENCHMARK(BM_PrivateDepositProve)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PrivateDepositVerify(benchmark::State& state) {
  Market& m = market();
  verify_loop(state, PrivateTx(*m.wallet.build_deposit(m.ledger, 1'000)));
}
BENCHMARK(BM_PrivateDepositVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PrivateWithdrawVerify(benchmark::State& state) {
  Market& m = market();
  verify_loop(state, PrivateTx(*m.wallet.build_withdraw(m.ledger, 1'000)));
}
BENCHMARK(BM_PrivateWithdrawVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

// A margin round on a market of its own: the wallet's token in a full epoch-1 window, epoch 2
// begun, no open orders.
void BM_PrivateRefreshProve(benchmark::State& state) {
  static Market m;
  static const bool begun = [] {
    MarketTerms next = m.ledger.terms();
    next.epoch += 1;
    return m.ledger.begin_margin_round(next, 0).is_ok();
  }();
  if (!begun) state.SkipWithError("margin round");
  Result<SpendTx> tx = Status::failed_precondition("not built");
  for (auto _ : state)
    tx = m.wallet.build_refresh(m.ledger, 1'000);
  if (!tx.is_ok()) {
    state.SkipWithError(tx.status().to_string().c_str());
    return;
  }
  report_bytes(state, PrivateTx(*tx));
  // Verification on the same market (one refresh; 500 of them are the margin round's cost).
  const auto start = std::chrono::steady_clock::now();
  constexpr int kVerifications = 5;
  for (int i = 0; i < kVerifications; ++i)
    benchmark::DoNotOptimize(m.ledger.check(PrivateTx(*tx)));
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  state.counters["verify_ms"] = took.count() / kVerifications;
}
BENCHMARK(BM_PrivateRefreshProve)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PrivateRegisterVerify(benchmark::State& state) {
  Market& m = market();
  PrivateWallet w(gens());
  verify_loop(state, PrivateTx(*w.build_register(m.ledger, 1, 0)));
}
BENCHMARK(BM_PrivateRegisterVerify)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace pfex::priv
