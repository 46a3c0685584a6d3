// The private exchange's transactions at the default window size N = 1024
// (docs/protocol/private.md): proving and verifying a post (the floors: prove <= 250 ms, verify
// <= 15 ms), settle, reduce, cancel-replace, cancel, register, deposit and withdraw (m = 16), exit
// (alone and 16 in a block), a block of posts, a margin round and a private log replayed by the
// validator, with each transaction's size in bytes as a counter. The window's membership set is
// built once per window and shared (the validator keys it by window), so it is measured on its own
// (BM_PrivateWindowSet).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "protocol/ledger_replica.hpp"
#include "protocol/private/block_verify.hpp"
#include "protocol/private/ledger.hpp"
#include "protocol/private/wallet.hpp"
#include "protocol/private_test_util.hpp"

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
    const Bytes message = mint_signed_bytes(ledger.terms().market_id, mint);
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
// The ledger's check of tx (on `ledger`, by default the shared market's).
void verify_loop(benchmark::State& state, const PrivateTx& tx,
                 const PrivateLedger* ledger = nullptr) {
  const PrivateLedger& l = ledger != nullptr ? *ledger : market().ledger;
  if (Status s = l.check(tx); !s.is_ok()) state.SkipWithError(s.to_string().c_str());
  for (auto _ : state)
    benchmark::DoNotOptimize(l.check(tx));
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

// An exit on a market of its own: the wallet's token in a full epoch-1 window, epoch 2 begun and
// its refresh window closed with nobody refreshed (every identity defaulted), the liquidation
// price recorded. The wallet has no position: the claim is its cash.
struct ExitMarket {
  Market m;
  bool ready = false;
  ExitMarket() {
    MarketTerms next = m.ledger.terms();
    next.epoch += 1;
    ready = m.ledger.begin_margin_round(next, 0).is_ok() &&
            m.ledger.close_refresh_window().is_ok() &&
            m.ledger.record_liquidation_price(1, {100, 1}).is_ok();
  }
};
ExitMarket& exit_market() {
  static ExitMarket e;
  return e;
}

void BM_PrivateExitProve(benchmark::State& state) {
  ExitMarket& e = exit_market();
  if (!e.ready) {
    state.SkipWithError("exit fixture");
    return;
  }
  Result<ExitTx> tx = Status::failed_precondition("not built");
  for (auto _ : state)
    tx = e.m.wallet.build_exit(e.m.ledger);
  if (!tx.is_ok()) {
    state.SkipWithError(tx.status().to_string().c_str());
    return;
  }
  report_bytes(state, PrivateTx(*tx));
}
BENCHMARK(BM_PrivateExitProve)->Unit(benchmark::kMillisecond)->UseRealTime();

// The ledger's whole check of that exit: its rules, signature and four proofs in one MSM.
void BM_PrivateExitVerify(benchmark::State& state) {
  ExitMarket& e = exit_market();
  auto tx = e.ready ? e.m.wallet.build_exit(e.m.ledger) : Status::failed_precondition("fixture");
  if (!tx.is_ok()) {
    state.SkipWithError(tx.status().to_string().c_str());
    return;
  }
  verify_loop(state, PrivateTx(*tx), &e.m.ledger);
}
BENCHMARK(BM_PrivateExitVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PrivateRegisterVerify(benchmark::State& state) {
  Market& m = market();
  PrivateWallet w(gens());
  verify_loop(state, PrivateTx(*w.build_register(m.ledger, 1, 0)));
}
BENCHMARK(BM_PrivateRegisterVerify)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A block of 64 posts, each valid against the market as it is, all naming the newest window (the
// wallet's token is the newest), verified as one block: time per post (per_tx) against
// BM_PrivatePostVerify in the same run (the floor: at most 25%). The second argument is the
// number of threads.
struct PostBlock {
  std::vector<PrivateTx> txs;
  std::vector<TxStatement> statements;
  double setup_s = 0;
};

const PostBlock& post_block() {
  static const PostBlock block = [] {
    Market& m = market();
    PostBlock b;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 64; ++i) {
      auto tx = m.wallet.build_post(m.ledger, i % 2 == 0 ? Side::kBuy : Side::kSell,
                                    OrderKind::kLimit, 95 + i % 10, 1 + i % 7);
      if (!tx.is_ok()) return b;
      b.txs.push_back(PrivateTx(*tx));
      b.statements.push_back(resolve_statement(m.ledger, b.txs.back()));
    }
    b.setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return b;
  }();
  return block;
}

// The verifier is kept across iterations, as a validator keeps it across blocks (the tokens'
// encodings and the windows' digests are then computed once).
void block_verify_loop(benchmark::State& state, const PrivateLedger& ledger,
                       std::span<const PrivateTx> txs, std::span<const TxStatement> statements,
                       double setup_s) {
  if (txs.empty()) {
    state.SkipWithError("fixture");
    return;
  }
  const auto threads = static_cast<unsigned>(state.range(1));
  // The transactions' bytes, as the log holds them.
  std::vector<Bytes> bytes;
  for (const PrivateTx& tx : txs)
    bytes.push_back(encode(tx));
  const std::vector<ByteSpan> encoded(bytes.begin(), bytes.end());
  BlockVerifier verifier;
  const BlockVerdict first = verifier.verify_var(ledger, txs, statements, threads, encoded);
  if (!first.ok()) {
    state.SkipWithError(first.reasons[0].to_string().c_str());
    return;
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(verifier.verify_var(ledger, txs, statements, threads, encoded));
  state.counters["msm_points"] = static_cast<double>(first.msm_points);
  // Seconds per transaction (shown as ms or us).
  state.counters["per_tx"] = benchmark::Counter(
      static_cast<double>(txs.size()),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["setup_s"] = setup_s;
}

void BM_PrivatePostBlockVerify(benchmark::State& state) {
  const PostBlock& b = post_block();
  const auto n = static_cast<std::size_t>(state.range(0));
  if (b.txs.size() < n) {
    state.SkipWithError("fixture");
    return;
  }
  block_verify_loop(state, market().ledger, std::span(b.txs).first(n),
                    std::span(b.statements).first(n), b.setup_s);
}
BENCHMARK(BM_PrivatePostBlockVerify)
    ->ArgsProduct({{64}, {1, 2}})
    ->ArgNames({"", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The same with 64 different windows: after each post is built one more token (a registration)
// joins the list,
// so post i names the newest window [L + i - N, L + i). Their union has N + 63 points: each is
// once in the MSM (msm_points), and each window's digest comes from the kept encodings.
struct DistinctBlock {
  Market market;
  PostBlock block;
};

const DistinctBlock& distinct_block() {
  static const std::unique_ptr<DistinctBlock> d = [] {
    auto out = std::make_unique<DistinctBlock>();
    Market& m = out->market;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 64; ++i) {
      auto tx = m.wallet.build_post(m.ledger, Side::kBuy, OrderKind::kLimit, 100, 1);
      if (!tx.is_ok()) return out;
      out->block.txs.push_back(PrivateTx(*tx));
      out->block.statements.push_back(resolve_statement(m.ledger, out->block.txs.back()));
      PrivateWallet other(gens());  // one more token: the next post names the next window
      if (!m.ledger.apply(PrivateTx(*other.build_register(m.ledger, 1, 0))).is_ok()) return out;
    }
    out->block.setup_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
  }();
  return *d;
}

void BM_PrivatePostBlockVerifyDistinctWindows(benchmark::State& state) {
  const DistinctBlock& d = distinct_block();
  const auto n = static_cast<std::size_t>(state.range(0));
  if (d.block.txs.size() < n) {
    state.SkipWithError("fixture");
    return;
  }
  block_verify_loop(state, d.market.ledger, std::span(d.block.txs).first(n),
                    std::span(d.block.statements).first(n), d.block.setup_s);
}
BENCHMARK(BM_PrivatePostBlockVerifyDistinctWindows)
    ->ArgsProduct({{64}, {1}})
    ->ArgNames({"", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A block of 16 exits of the exit market's wallet (each valid against the market as it is, all
// naming the same epoch-1 window), verified as one block: time per exit (per_tx) against
// BM_PrivateExitVerify in the same run (exits used to be verified alone, outside the block).
const PostBlock& exit_block() {
  static const PostBlock block = [] {
    ExitMarket& e = exit_market();
    PostBlock b;
    if (!e.ready) return b;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 16; ++i) {
      auto tx = e.m.wallet.build_exit(e.m.ledger);
      if (!tx.is_ok()) return b;
      b.txs.push_back(PrivateTx(*tx));
      b.statements.push_back(resolve_statement(e.m.ledger, b.txs.back()));
    }
    b.setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return b;
  }();
  return block;
}

void BM_PrivateExitBlockVerify(benchmark::State& state) {
  const PostBlock& b = exit_block();
  const auto n = static_cast<std::size_t>(state.range(0));
  if (b.txs.size() < n) {
    state.SkipWithError("fixture");
    return;
  }
  block_verify_loop(state, exit_market().m.ledger, std::span(b.txs).first(n),
                    std::span(b.statements).first(n), b.setup_s);
}
BENCHMARK(BM_PrivateExitBlockVerify)
    ->ArgsProduct({{16}, {1}})
    ->ArgNames({"", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A margin round of 500 identities: 500 refreshes (deposit 0, no position) of tokens in one
// epoch-1 window, verified as one block. The fixture is built once per process on every core
// (each wallet proves against the same ledger state, whose window set is built before); its
// setup time is the counter setup_s.
struct Round {
  PrivateLedger ledger{gens(), terms()};
  std::vector<std::unique_ptr<PrivateWallet>> wallets;
  std::vector<PrivateTx> txs;
  std::vector<TxStatement> statements;
  double setup_s = 0;
};

const Round& margin_round() {
  static const std::unique_ptr<Round> round = [] {
    auto r = std::make_unique<Round>();
    const auto start = std::chrono::steady_clock::now();
    constexpr std::size_t kIdentities = 500;
    for (std::size_t i = 0; i < kIdentities; ++i) {
      auto w = std::make_unique<PrivateWallet>(gens());
      auto reg = w->build_register(r->ledger, 1, 0);
      if (!reg.is_ok()) return r;
      auto applied = r->ledger.apply(PrivateTx(*reg));
      if (!applied.is_ok() || !w->confirm(*applied).is_ok()) return r;
      r->wallets.push_back(std::move(w));
    }
    MarketTerms next = r->ledger.terms();
    next.epoch += 1;
    if (!r->ledger.begin_margin_round(next, 0).is_ok()) return r;
    // Every wallet names the same window: build its set once, then the provers only read.
    const Window window = newest_window(1, 0, kIdentities, r->ledger.terms().window_size());
    if (!r->ledger.window_set(window).is_ok()) return r;
    std::vector<std::optional<PrivateTx>> built(kIdentities);
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    {
      std::vector<std::jthread> pool;
      for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
          for (std::size_t i = t; i < kIdentities; i += threads) {
            auto tx = r->wallets[i]->build_refresh(r->ledger, 0);
            if (tx.is_ok()) built[i] = PrivateTx(*tx);
          }
        });
      }
    }
    for (auto& tx : built) {
      if (!tx) return r;
      r->txs.push_back(*tx);
      r->statements.push_back(resolve_statement(r->ledger, *tx));
    }
    r->setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
  }();
  return *round;
}

void BM_MarginRoundVerify(benchmark::State& state) {
  const Round& r = margin_round();
  const auto n = static_cast<std::size_t>(state.range(0));
  if (r.txs.size() < n) {
    state.SkipWithError("fixture");
    return;
  }
  block_verify_loop(state, r.ledger, std::span(r.txs).first(n), std::span(r.statements).first(n),
                    r.setup_s);
}
BENCHMARK(BM_MarginRoundVerify)
    ->ArgsProduct({{500}, {1, 2}})
    ->ArgNames({"", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A private market's log replayed through the validator's LedgerReplica: a private genesis with
// windows of N = 1024, 1024 registrations, mints and deposits (state restored from a snapshot
// outside the timing), then kReplayPosts posts by 8 wallets (resting buys, 8 each), applied as one
// batch on `threads` threads. Items are posts: items_per_second is posts/s, including the
// replica's rules, proofs and state transition. The log is proved once per process (setup_s).
constexpr std::size_t kReplayPosts = 64;
constexpr std::size_t kReplayWallets = 8;

struct ReplayLog {
  std::shared_ptr<const PrivateGens> shared_gens = std::make_shared<const PrivateGens>();
  Bytes snapshot;                            // after the setup entries
  std::vector<protocol::LedgerEntry> posts;  // applied after it
  double setup_s = 0;
  bool ok = false;
};

const ReplayLog& replay_log() {
  static const std::unique_ptr<ReplayLog> log = [] {
    auto r = std::make_unique<ReplayLog>();
    const auto start = std::chrono::steady_clock::now();
    const protocol::SigningKey issuer = protocol::testing::fixed_issuer();
    protocol::LedgerReplica builder(r->shared_gens);
    std::uint64_t seq = 0;
    auto entry = [&](Bytes payload) {
      ++seq;
      return protocol::LedgerEntry{seq, LedgerTime(1'000'000 + static_cast<std::int64_t>(seq)),
                                   std::move(payload)};
    };
    auto add = [&](Bytes payload) -> std::optional<protocol::EntryOutcome> {
      auto out = builder.apply(entry(std::move(payload)));
      if (!out.is_ok() || !out->accepted) return std::nullopt;
      return *out;
    };
    auto private_entry = [](const PrivateTx& tx) {
      return protocol::encode_entry(protocol::PrivateEntry{tx});
    };
    if (!add(protocol::encode_entry(protocol::testing::private_genesis(issuer.public_key(), 10))))
      return r;
    const PrivateLedger& ledger = *builder.private_ledger();
    std::vector<std::unique_ptr<PrivateWallet>> wallets;
    for (std::size_t i = 0; i < kReplayWallets; ++i) {
      auto w = std::make_unique<PrivateWallet>(*r->shared_gens);
      auto reg = w->build_register(ledger, 1, ledger.terms().bond);
      if (!reg.is_ok()) return r;
      auto out = add(private_entry(PrivateTx(*reg)));
      if (!out || !out->private_result || !w->confirm(*out->private_result).is_ok()) return r;
      wallets.push_back(std::move(w));
    }
    while (ledger.tokens(ledger.terms().epoch).size() < 1024 - kReplayWallets) {
      PrivateWallet other(*r->shared_gens);
      auto reg = other.build_register(ledger, 1, ledger.terms().bond);
      if (!reg.is_ok() || !add(private_entry(PrivateTx(*reg)))) return r;
    }
    std::uint64_t issuer_sequence = 0;
    for (auto& w : wallets) {
      MintTx mint;
      mint.account = w->identity();
      mint.amount = 100'000'000;
      mint.sequence = ++issuer_sequence;
      mint.signature = issuer.sign(mint_signed_bytes(ledger.terms().market_id, mint));
      if (!add(private_entry(PrivateTx(mint)))) return r;
      w->on_mint(100'000'000);
      auto deposit = w->build_deposit(ledger, 100'000'000);
      if (!deposit.is_ok()) return r;
      auto out = add(private_entry(PrivateTx(*deposit)));
      if (!out || !out->private_result || !w->confirm(*out->private_result).is_ok()) return r;
    }
    r->snapshot = builder.snapshot();
    // The posts: resting buys below the band's middle, so nothing trades.
    const std::int64_t low = ledger.terms().low;
    for (std::size_t k = 0; k < kReplayPosts; ++k) {
      PrivateWallet& w = *wallets[k % kReplayWallets];
      auto post = w.build_post(ledger, Side::kBuy, OrderKind::kLimit,
                               low + static_cast<std::int64_t>(k % 8), 1);
      if (!post.is_ok()) return r;
      const Bytes payload = private_entry(PrivateTx(*post));
      r->posts.push_back(entry(payload));
      auto out = builder.apply(r->posts.back());
      if (!out.is_ok() || !out->accepted || !out->private_result ||
          !w.confirm(*out->private_result).is_ok())
        return r;
    }
    r->setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r->ok = true;
    return r;
  }();
  return *log;
}

void BM_ValidatorReplayPrivate(benchmark::State& state) {
  const ReplayLog& log = replay_log();
  if (!log.ok) {
    state.SkipWithError("the replay log could not be built");
    return;
  }
  const auto threads = static_cast<unsigned>(state.range(0));
  std::uint64_t accepted = 0;
  std::uint64_t in_block = 0;  // posts whose proofs the batch's block verified
  for (auto _ : state) {
    state.PauseTiming();
    auto replica = protocol::LedgerReplica::restore(log.snapshot, log.shared_gens);
    if (!replica.is_ok()) {
      state.SkipWithError("snapshot");
      return;
    }
    const std::uint64_t before = replica->accepted();
    state.ResumeTiming();
    auto out = replica->apply_batch(log.posts, threads);
    if (!out.is_ok()) {
      state.SkipWithError("apply failed");
      return;
    }
    accepted = replica->accepted() - before;
    in_block = 0;
    for (const protocol::EntryOutcome& o : *out)
      in_block += o.proofs_in_block ? 1 : 0;
    benchmark::DoNotOptimize(replica->chain());
  }
  if (accepted != log.posts.size()) state.SkipWithError("a post was rejected on replay");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(log.posts.size()));
  state.counters["posts"] = static_cast<double>(log.posts.size());
  state.counters["in_block"] = static_cast<double>(in_block);
  state.counters["setup_s"] = log.setup_s;
}
BENCHMARK(BM_ValidatorReplayPrivate)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace pfex::priv
