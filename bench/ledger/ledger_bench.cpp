// pfex_bench_ledger: appends per second of the two Logs, each append durable when it returns.
//   FileLog/threads:N   N threads append 256-byte entries concurrently to one FileLog; group
//                       commit lets one fdatasync cover up to N appends (N = 1, 16, 256 are the
//                       batch sizes of issue 6). `appends_per_fsync` shows the batching achieved.
//   FileLogReadAll/N    FileLogReader reads back a prerecorded log of N entries in pages of 1000,
//                       checking every record (a validator's replay, without the validation).
//   EtcdLog/threads:N   the same against a 3-member etcd cluster on loopback, started by the
//                       benchmark in a temporary directory (or the cluster whose comma-separated
//                       client URLs are in PFEX_ETCD_ENDPOINTS).
// `items_per_second` is appends per second over wall time. Figures: docs/ledger/benchmarks.md.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <thread>

#include "ledger/etcd_cluster.hpp"
#include "ledger/etcd_log.hpp"
#include "ledger/file_log.hpp"
#include "ledger/test_util.hpp"

namespace {

using pfex::Bytes;
using namespace pfex::ledger;

constexpr std::size_t kPayloadBytes = 256;  // about one signed transparent order

// Distinct payloads (EtcdLog deduplicates identical bytes): a global counter in the first bytes.
Bytes next_payload() {
  static std::atomic<std::uint64_t> counter{0};
  Bytes payload(kPayloadBytes, 0xA5);
  std::uint64_t n = counter.fetch_add(1);
  for (int i = 0; i < 8; ++i)
    payload[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
  return payload;
}

// `log` is read inside the loop: thread 0 sets it before the start barrier that the loop's first
// iteration waits on, so other threads must not look at it earlier.
template <class L>
void append_loop(benchmark::State& state, const std::unique_ptr<L>& log) {
  for (auto _ : state) {
    if (!log) {
      state.SkipWithError("no log (see thread 0's error)");
      break;
    }
    auto appended = log->append(next_payload());
    if (!appended.is_ok()) {
      state.SkipWithError(appended.status().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(appended->sequence);
  }
  state.SetItemsProcessed(state.iterations());
}

// Shared by the threads of one FileLog benchmark run; thread 0 creates it before the start
// barrier and destroys it after the stop barrier.
std::unique_ptr<testing::TempDir> g_file_dir;
std::unique_ptr<FileLog> g_file_log;

void BM_FileLogAppend(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_file_dir = std::make_unique<testing::TempDir>();
    auto log = FileLog::open(g_file_dir->file("bench.log"));
    if (!log.is_ok()) {
      state.SkipWithError(log.status().to_string().c_str());
      return;
    }
    g_file_log = std::move(log).value();
  }
  append_loop(state, g_file_log);
  if (state.thread_index() == 0 && g_file_log) {
    const auto appends = static_cast<double>(g_file_log->last_sequence());
    const auto fsyncs = static_cast<double>(std::max<std::uint64_t>(g_file_log->sync_count(), 1));
    state.counters["appends_per_fsync"] = appends / fsyncs;
    g_file_log.reset();
    g_file_dir.reset();
  }
}
BENCHMARK(BM_FileLogAppend)->Threads(1)->Threads(16)->Threads(256)->UseRealTime();

// Reading back a prerecorded log in pages, as a validator replaying from the start does: entries
// per second including the CRC checks of every record.
void BM_FileLogReadAll(benchmark::State& state) {
  const auto entries = static_cast<std::uint64_t>(state.range(0));
  testing::TempDir dir;
  {
    auto log = FileLog::open(dir.file("bench.log"));
    if (!log.is_ok()) {
      state.SkipWithError(log.status().to_string().c_str());
      return;
    }
    // Recorded with 64 concurrent appenders, so group commit keeps the setup short.
    std::atomic<bool> failed{false};
    std::vector<std::thread> writers;
    for (int t = 0; t < 64; ++t) {
      writers.emplace_back([&] {
        for (std::uint64_t i = 0; i < entries / 64; ++i) {
          if (!(*log)->append(next_payload()).is_ok()) failed = true;
        }
      });
    }
    for (auto& writer : writers)
      writer.join();
    if (failed) {
      state.SkipWithError("recording the log failed");
      return;
    }
  }
  auto reader = FileLogReader::open(dir.file("bench.log"));
  if (!reader.is_ok()) {
    state.SkipWithError(reader.status().to_string().c_str());
    return;
  }
  std::uint64_t read = 0;
  for (auto _ : state) {
    for (std::uint64_t from = 1;;) {
      auto page = (*reader)->read(from, 1000);
      if (!page.is_ok() || page->empty()) break;
      from = page->back().sequence + 1;
      read += page->size();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(read));
}
BENCHMARK(BM_FileLogReadAll)->Arg(100'000)->Unit(benchmark::kMillisecond);

std::vector<std::string> etcd_endpoints() {
  if (const char* given = std::getenv("PFEX_ETCD_ENDPOINTS")) {
    std::vector<std::string> endpoints;
    std::stringstream list(given);
    for (std::string endpoint; std::getline(list, endpoint, ',');)
      endpoints.push_back(endpoint);
    return endpoints;
  }
  // Started once, killed when the process exits.
  static testing::EtcdCluster cluster;
  static const bool started = [] {
    pfex::Status status = cluster.start();
    if (!status.is_ok()) std::fprintf(stderr, "%s\n", status.to_string().c_str());
    return status.is_ok();
  }();
  return started ? cluster.endpoints() : std::vector<std::string>{};
}

std::unique_ptr<EtcdLog> g_etcd_log;

void BM_EtcdLogAppend(benchmark::State& state) {
  if (state.thread_index() == 0) {
    EtcdLog::Options options;
    options.endpoints = etcd_endpoints();
    auto log = EtcdLog::open(std::move(options));
    if (!log.is_ok()) {
      state.SkipWithError(log.status().to_string().c_str());
      return;
    }
    g_etcd_log = std::move(log).value();
  }
  append_loop(state, g_etcd_log);
  if (state.thread_index() == 0) g_etcd_log.reset();
}
BENCHMARK(BM_EtcdLogAppend)->Threads(1)->Threads(16)->Threads(64)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
