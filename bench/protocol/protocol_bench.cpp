// The validator's apply rate for signed transparent orders replayed from a prerecorded FileLog
// (read, decode, checks, Ed25519 verification, matching, chain hash), with 1 and 2 signature
// threads; the cost of one Ed25519 verification; and the cost of Exchange::state_hash() as the
// book grows (why the chain hash folds the full state hash in only every 4096 entries).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <thread>

#include "ledger/file_log.hpp"
#include "protocol/test_util.hpp"
#include "protocol/validator.hpp"

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
    Validator v;
    for (;;) {
      auto batch = std::move(reader->read(v.next_sequence(), 4096)).value();
      if (batch.empty()) break;
      if (!v.apply_batch(batch, threads).is_ok()) state.SkipWithError("apply failed");
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

// Exchange::state_hash() with `range(0)` resting orders in the book.
void BM_StateHash(benchmark::State& state) {
  TestMarket m;
  Validator v;
  std::vector<ledger::LogEntry> entries{m.entry(m.genesis)};
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

}  // namespace
}  // namespace pfex::protocol

BENCHMARK_MAIN();
