// The validator's apply rate for signed transparent orders replayed from a prerecorded FileLog
// (read, decode, checks, Ed25519 verification, matching, chain hash), with 1 and 2 signature
// threads; the cost of one Ed25519 verification (pfex's verifier and libsodium's); and the cost of
// Exchange::state_hash() as the book grows (why the chain hash folds the full state hash in only
// every 4096 entries); and the end-to-end latency of one order from a node's submission to the fill
// at a validator.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "ledger/file_log.hpp"
#include "node/gateway.hpp"
#include "node/log_adapter.hpp"
#include "node/submit.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/test_util.hpp"

namespace pfex::protocol {
namespace {

using market::AccountId;
using market::Side;
using testing::limit;
using testing::TestMarket;
using testing::Trader;

constexpr int kTraders = 32;
constexpr int kOrders = 50'000;

// A prerecorded log: genesis, 32 registered and funded traders, then 50,000 signed limit orders
// around the reference price (about half cross). Written once per process with one appending
// thread per trader (group commit), removed at exit.
class RecordedLog {
 public:
  RecordedLog() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pfex-bench-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    path_ = dir_ + "/log";
    auto log = std::move(ledger::FileLog::open(path_)).value();
    TestMarket m;
    std::vector<Trader> traders(kTraders);
    (void)log->append(m.genesis);
    for (int i = 0; i < kTraders; ++i) {
      Trader& t = traders[static_cast<std::size_t>(i)];
      t.account = AccountId{static_cast<std::uint32_t>(i + 1)};
      (void)log->append(m.sign(t, market::RegisterAction{}));
      (void)log->append(m.sign(t, market::DepositAction{t.account, Cash(1'000'000'000)}));
    }
    std::vector<std::vector<Bytes>> per_trader(kTraders);
    std::mt19937_64 rng(42);
    for (int i = 0; i < kOrders; ++i) {
      const auto who = static_cast<std::size_t>(rng() % kTraders);
      Trader& t = traders[who];
      const auto side = rng() % 2 ? Side::kBuy : Side::kSell;
      const auto price = static_cast<std::int64_t>(990 + rng() % 21);
      const auto qty = 1 + static_cast<std::int64_t>(rng() % 5);
      per_trader[who].push_back(
          m.sign(t, market::SubmitAction{t.account, limit(side, price, qty)}));
    }
    std::vector<std::jthread> threads;
    for (auto& txs : per_trader) {
      threads.emplace_back([&log, &txs] {
        for (const Bytes& b : txs)
          (void)log->append(b);
      });
    }
    threads.clear();  // joins
    entries_ = log->last_sequence();
  }
  ~RecordedLog() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }
  std::uint64_t entries() const { return entries_; }

 private:
  std::string dir_, path_;
  std::uint64_t entries_ = 0;
};

const RecordedLog& recorded() {
  static RecordedLog log;
  return log;
}

void BM_ValidatorReplay(benchmark::State& state) {
  const RecordedLog& rec = recorded();
  const auto threads = static_cast<unsigned>(state.range(0));
  std::uint64_t accepted = 0, rejected = 0;
  for (auto _ : state) {
    auto reader = std::move(ledger::FileLogReader::open(rec.path())).value();
    LedgerReplica v;
    for (;;) {
      auto batch = std::move(reader->read(v.next_sequence(), 4096)).value();
      if (batch.empty()) break;
      if (!v.apply_batch(node::to_protocol_entries(std::move(batch)), threads).is_ok()) {
        state.SkipWithError("apply failed");
      }
    }
    accepted = v.accepted();
    rejected = v.rejected();
    benchmark::DoNotOptimize(v.chain());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(rec.entries()));
  state.counters["entries"] = static_cast<double>(rec.entries());
  state.counters["accepted"] = static_cast<double>(accepted);
  state.counters["rejected"] = static_cast<double>(rejected);
}
BENCHMARK(BM_ValidatorReplay)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_VerifySignature(benchmark::State& state) {
  TestMarket m;
  Trader t;
  const Bytes b = m.sign(t, market::SubmitAction{AccountId{1}, limit(Side::kBuy, 1000, 1)});
  const auto tx = std::get<TransparentTx>(*decode_entry(b));
  for (auto _ : state)
    benchmark::DoNotOptimize(verify_transparent(b, tx));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifySignature);

// The same check with libsodium's crypto_sign_verify_detached (verify_signature_var), which
// verify_transparent used before pfex's own verifier; same acceptance rule.
void BM_VerifySignatureLibsodium(benchmark::State& state) {
  TestMarket m;
  Trader t;
  const Bytes b = m.sign(t, market::SubmitAction{AccountId{1}, limit(Side::kBuy, 1000, 1)});
  const auto tx = std::get<TransparentTx>(*decode_entry(b));
  const Bytes signed_bytes =
      transparent_signed_bytes(ByteSpan(b).first(b.size() - kSignatureBytes));
  for (auto _ : state)
    benchmark::DoNotOptimize(verify_signature_var(tx.signer, signed_bytes, tx.signature));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifySignatureLibsodium);

// Exchange::state_hash() with `range(0)` resting orders in the book.
void BM_StateHash(benchmark::State& state) {
  TestMarket m;
  LedgerReplica v;
  std::vector<LedgerEntry> entries{m.entry(m.genesis)};
  std::vector<Trader> traders(16);
  for (std::size_t i = 0; i < traders.size(); ++i) {
    traders[i].account = AccountId{static_cast<std::uint32_t>(i + 1)};
    entries.push_back(m.entry(m.sign(traders[i], market::RegisterAction{})));
    entries.push_back(m.entry(
        m.sign(traders[i], market::DepositAction{traders[i].account, Cash(1'000'000'000)})));
  }
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    Trader& t = traders[static_cast<std::size_t>(i) % traders.size()];
    const bool buy = i % 2 == 0;  // bids below, asks above: nothing crosses
    const std::int64_t price = buy ? 961 + i % 38 : 1001 + i % 38;
    entries.push_back(m.entry(m.sign(
        t, market::SubmitAction{t.account, limit(buy ? Side::kBuy : Side::kSell, price, 1)})));
  }
  if (!v.apply_batch(entries, 2).is_ok() || v.rejected() != 0) state.SkipWithError("setup");
  for (auto _ : state)
    benchmark::DoNotOptimize(v.state_hash());
  state.counters["resting"] = static_cast<double>(v.exchange()->book().size());
}
BENCHMARK(BM_StateHash)->Arg(100)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);

// One order's path through real components: the node signs it and submits it over HTTP (loopback)
// to the gateway, which appends it to a FileLog (fsync); a validator following the log applies it
// and sees the fill. Each iteration is one marketable sell against a standing bid; the time is
// from the start of the submission to the validator's fill. Reports the median and p99.
void BM_EndToEndOrderLatency(benchmark::State& state) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "pfex-bench-XXXXXX").string();
  const std::string dir = ::mkdtemp(tmpl.data());
  std::vector<double> latencies_us;
  {
    auto log = std::move(ledger::FileLog::open(dir + "/log")).value();
    TestMarket m;
    Trader buyer, seller;
    (void)log->append(m.genesis);
    for (Trader* t : {&buyer, &seller}) {
      t->account = AccountId{t == &buyer ? 1U : 2U};
      (void)log->append(m.sign(*t, market::RegisterAction{}));
      (void)log->append(m.sign(*t, market::DepositAction{t->account, Cash(1'000'000'000'000)}));
    }
    (void)log->append(
        m.sign(buyer, market::SubmitAction{buyer.account, limit(Side::kBuy, 1000, 900'000)}));

    // The validator: follows the log and publishes the sequence of the last entry that traded.
    std::mutex mutex;
    std::condition_variable filled;
    std::uint64_t last_fill = 0;
    std::jthread validator([&](std::stop_token stop) {
      LedgerReplica v;
      v.set_event_sink([&](const EntryOutcome& out, std::span<const market::Event> events) {
        for (const auto& e : events) {
          if (std::holds_alternative<market::Trade>(e.body)) {
            std::lock_guard lock(mutex);
            last_fill = out.sequence;
            filled.notify_all();
            return;
          }
        }
      });
      while (!stop.stop_requested()) {
        auto batch = log->follow(v.next_sequence(), 256, std::chrono::milliseconds(50), stop);
        if (!batch || !v.apply_batch(node::to_protocol_entries(std::move(*batch))).is_ok()) return;
      }
    });

    node::Gateway gateway(*log, node::GatewayOptions{});
    node::SubmitOptions submit;
    submit.gateway = node::Endpoint{"127.0.0.1", std::move(gateway.start()).value()};
    for (auto _ : state) {
      const auto start = std::chrono::steady_clock::now();
      const Bytes tx = m.sign(
          seller, market::SubmitAction{
                      seller.account,
                      market::OrderRequest{Side::kSell, market::OrderType::kImmediateOrCancel,
                                           Price(1000), Qty(1)}});
      auto sent = node::submit_transaction(tx, submit);
      if (!sent) {
        state.SkipWithError(sent.status().to_string().c_str());
        break;
      }
      std::unique_lock lock(mutex);
      if (!filled.wait_for(lock, std::chrono::seconds(10),
                           [&] { return last_fill >= sent->sequence; })) {
        state.SkipWithError("no fill within 10 s");
        break;
      }
      const auto us =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count();
      latencies_us.push_back(us);
      state.SetIterationTime(us / 1e6);
    }
    gateway.stop();
  }
  std::filesystem::remove_all(dir);
  if (latencies_us.empty()) return;
  std::sort(latencies_us.begin(), latencies_us.end());
  auto at = [&](double q) {
    return latencies_us[std::min(
        latencies_us.size() - 1,
        static_cast<std::size_t>(q * static_cast<double>(latencies_us.size())))];
  };
  state.counters["median_us"] = at(0.5);
  state.counters["p99_us"] = at(0.99);
}
BENCHMARK(BM_EndToEndOrderLatency)->Iterations(500)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace pfex::protocol

BENCHMARK_MAIN();
