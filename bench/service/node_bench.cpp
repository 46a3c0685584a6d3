// The cost of one trader node command, `pfex node order` through service::node_action, on a
// FileLog of a few thousand entries: the node opens its wallet, brings its replica of the ledger
// up to the end of the log, signs, submits to an in-process gateway and follows the log until the
// order is settled. What it should cost is what is new in the log, not the log's length.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>

#include "ledger/file_log.hpp"
#include "node/gateway.hpp"
#include "node/wallet.hpp"
#include "protocol/test_util.hpp"
#include "service/trader_node.hpp"

namespace pfex::service {
namespace {

using protocol::testing::limit;
using protocol::testing::TestMarket;
using protocol::testing::Trader;

constexpr int kTraders = 16;

// A market whose log holds `orders` signed orders of 16 traders, a gateway in front of it, and
// a registered, funded wallet for the node under test.
class Market {
 public:
  explicit Market(int orders) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pfex-bench-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    log_ = std::move(ledger::FileLog::open(dir_ + "/log")).value();
    std::vector<Trader> traders(kTraders);
    (void)log_->append(m_.genesis);
    for (int i = 0; i < kTraders; ++i) {
      Trader& t = traders[static_cast<std::size_t>(i)];
      t.account = market::AccountId{static_cast<std::uint32_t>(i + 1)};
      (void)log_->append(m_.sign(t, market::RegisterAction{}));
      (void)log_->append(m_.sign(t, market::DepositAction{t.account, Cash(1'000'000'000)}));
    }
    std::vector<std::vector<Bytes>> per_trader(kTraders);
    std::mt19937_64 rng(7);
    for (int i = 0; i < orders; ++i) {
      const auto who = static_cast<std::size_t>(rng() % kTraders);
      Trader& t = traders[who];
      const auto side = rng() % 2 ? market::Side::kBuy : market::Side::kSell;
      const auto price = static_cast<std::int64_t>(990 + rng() % 21);
      per_trader[who].push_back(m_.sign(t, market::SubmitAction{t.account, limit(side, price, 1)}));
    }
    std::vector<std::jthread> threads;
    for (auto& txs : per_trader) {
      threads.emplace_back([this, &txs] {
        for (const Bytes& b : txs)
          (void)log_->append(b);
      });
    }
    threads.clear();  // joins
    gateway_ = std::make_unique<node::Gateway>(*log_, node::GatewayOptions{});
    const std::uint16_t port = std::move(gateway_->start()).value();
    options_.wallet = dir_ + "/wallet";
    options_.log = dir_ + "/log";
    options_.gateway = "127.0.0.1:" + std::to_string(port);
    options_.passphrase = "bench";
    (void)node::Wallet::create(options_.wallet, options_.passphrase, node::KdfParams::for_tests());
    Quiet quiet;
    (void)node_action(options_, "register");
    options_.amount = "1000000.00";
    (void)node_action(options_, "deposit");
  }
  ~Market() {
    gateway_->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // One order: buy or sell 1 at 9.90, away from the book's best prices, so it rests.
  Status order(bool buy) {
    NodeOptions o = options_;
    o.side = buy ? "buy" : "sell";
    o.price = buy ? "9.80" : "10.20";
    o.qty = 1;
    Quiet quiet;
    return node_action(o, "order");
  }

  // Sends stdout to /dev/null while it lives: the commands report what they did.
  class Quiet {
   public:
    Quiet() : saved_(::dup(1)) {
      std::fflush(stdout);
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::close(null);
    }
    ~Quiet() {
      std::fflush(stdout);
      ::dup2(saved_, 1);
      ::close(saved_);
    }

   private:
    int saved_;
  };

 private:
  std::string dir_;
  TestMarket m_;
  std::unique_ptr<ledger::FileLog> log_;
  std::unique_ptr<node::Gateway> gateway_;
  NodeOptions options_;
};

void BM_NodeOrder(benchmark::State& state) {
  Market market(static_cast<int>(state.range(0)));
  bool buy = true;
  for (auto _ : state) {
    Status s = market.order(buy);
    buy = !buy;
    if (!s.is_ok()) state.SkipWithError(s.to_string().c_str());
  }
}
BENCHMARK(BM_NodeOrder)
    ->ArgName("log_entries")
    ->Arg(1'000)
    ->Arg(4'000)
    ->Arg(16'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(10)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true);

}  // namespace
}  // namespace pfex::service

BENCHMARK_MAIN();
