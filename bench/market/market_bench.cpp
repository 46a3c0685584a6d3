// pfex_bench_market: the matching engine with account checks on a synthetic flow shaped like
// equity-futures message traffic: about 45% new limit orders near the touch, 35% cancels of
// resting orders, 20% marketable orders (IOC through the touch).
//
//   BM_MatchMixedFlow        the exchange: solvency checks, matching, events, O(1) cancel
//   BM_MatchMixedFlowMapBook baseline in the same run: the same flow on a textbook book
//                            (std::map of price levels holding std::list, std::unordered_map
//                            id index), matching only, no accounts or events
//   BM_MatchMixedFlowBookOnly our OrderBook with the same bare matching loop as the baseline
//   BM_MatchMixedFlowNoAccounts the same MatchingEngine under an account model that checks and
//                            moves nothing (owners are tags): the engine's own cost, so
//                            BM_MatchMixedFlow minus this is what the transparent accounts cost
//   BM_RestingOrderMemory    bytes of book memory per resting order
#include <benchmark/benchmark.h>

#include <list>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>

#include "market/exchange.hpp"
#include "market/matching_engine.hpp"

namespace pfex::market {
namespace {

constexpr std::int64_t kReference = 3600;  // 90.000 cents/lb on the lean-hog tick

enum class Kind : std::uint8_t { kNew, kCancel, kMarketable };

struct Message {
  Kind kind;
  Side side;
  std::uint32_t account;
  std::int64_t price;
  std::int64_t qty;
  std::uint32_t pick;  // which resting order a cancel targets
};

// A fixed, seeded message stream so every run and every engine sees the same flow.
std::vector<Message> make_flow(std::size_t n, std::uint32_t accounts) {
  std::mt19937_64 rng(20261125);
  std::vector<Message> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    Message m{};
    std::uint64_t r = rng() % 100;
    m.side = rng() % 2 ? Side::kBuy : Side::kSell;
    m.account = static_cast<std::uint32_t>(rng() % accounts);
    m.qty = 1 + static_cast<std::int64_t>(rng() % 10);
    m.pick = static_cast<std::uint32_t>(rng());
    std::int64_t depth = 1 + static_cast<std::int64_t>(rng() % 8);  // ticks from the mid
    if (r < 45) {
      m.kind = Kind::kNew;
      m.price = m.side == Side::kBuy ? kReference - depth : kReference + depth;
    } else if (r < 80) {
      m.kind = Kind::kCancel;
    } else {
      m.kind = Kind::kMarketable;
      m.price = m.side == Side::kBuy ? kReference + 3 : kReference - 3;
      m.qty = 1 + static_cast<std::int64_t>(rng() % 4);
    }
    out.push_back(m);
  }
  return out;
}

// Removes and returns a random entry of `resting` that is still live, as a trader's cancel picks
// one of its resting orders (entries that filled meanwhile are dropped on the way).
template <class T, class Live>
std::optional<T> take_live(std::vector<T>& resting, std::uint32_t pick, Live&& is_live) {
  while (!resting.empty()) {
    std::size_t k = pick % resting.size();
    T entry = resting[k];
    resting[k] = resting.back();
    resting.pop_back();
    if (is_live(entry)) return entry;
  }
  return std::nullopt;
}

ContractSpec bench_spec() {
  ContractSpec s = lean_hog_preset();
  s.settlement_interval_ms = 0;  // no scheduled rounds inside the measurement
  return s;
}

constexpr std::uint32_t kAccounts = 1000;
constexpr std::size_t kFlow = 1 << 20;
// Every account deep enough that no order of the flow is refused for solvency, and all of them
// together inside the market's cash supply cap (kMaxCashSupply = 2^46 minor units).
constexpr Cash kDeposit(50'000'000'000);
static_assert(kAccounts * kDeposit.value() * 11 / 10 < kMaxCashSupply);

void BM_MatchMixedFlow(benchmark::State& state) {
  const std::vector<Message> flow = make_flow(kFlow, kAccounts);
  std::size_t rejected = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Exchange ex = *Exchange::open(bench_spec(), Price(kReference), LedgerTime(0));
    std::vector<AccountId> ids;
    for (std::uint32_t i = 0; i < kAccounts; ++i) {
      ids.push_back(*ex.register_account(LedgerTime(0)));
      if (!ex.deposit(LedgerTime(0), ids.back(), kDeposit).is_ok()) {
        state.SkipWithError("a deposit was refused");
        return;
      }
    }
    std::vector<std::pair<OrderId, AccountId>> resting;
    resting.reserve(kFlow);
    state.ResumeTiming();
    std::int64_t now = 0;
    for (std::size_t i = 0; i < flow.size(); ++i) {
      const Message& m = flow[i];
      LedgerTime t(now += 1);
      if (m.kind == Kind::kCancel) {
        auto live = take_live(resting, m.pick, [&](const std::pair<OrderId, AccountId>& e) {
          return ex.book().find(e.first) != OrderBook::kNil;
        });
        if (live && !ex.cancel(t, live->second, live->first).is_ok()) ++rejected;
        continue;
      }
      OrderType type = m.kind == Kind::kNew ? OrderType::kLimit : OrderType::kImmediateOrCancel;
      OrderRequest req{m.side, type, Price(m.price), Qty(m.qty)};
      Result<OrderOutcome> r = ex.submit(t, ids[m.account], req);
      if (!r.is_ok()) {
        ++rejected;
      } else if (r->resting.value() > 0) {
        resting.emplace_back(r->id, ids[m.account]);
      }
      if ((i & 4095) == 0) ex.clear_events();
    }
    benchmark::DoNotOptimize(ex.trade_count());
    state.PauseTiming();
    if (ex.phase() != Phase::kTrading || ex.epoch() != 0) state.SkipWithError("flow hit a halt");
    state.counters["trades"] = static_cast<double>(ex.trade_count());
    state.counters["resting_end"] = static_cast<double>(ex.book().size());
    state.ResumeTiming();
  }
  state.counters["rejected"] = static_cast<double>(rejected);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(flow.size()));
}
BENCHMARK(BM_MatchMixedFlow)->Unit(benchmark::kMillisecond);

// The textbook order book, for comparison: the same flow, matching only.
class MapBook {
 public:
  struct Order {
    std::uint64_t id;
    std::int64_t qty;
  };
  std::int64_t add(std::uint64_t id, Side side, std::int64_t price, std::int64_t qty, bool rest) {
    std::int64_t filled = 0;
    if (side == Side::kBuy) {
      while (qty > 0 && !asks_.empty() && asks_.begin()->first <= price) {
        filled += take(asks_, asks_.begin(), qty);
      }
    } else {
      while (qty > 0 && !bids_.empty() && bids_.begin()->first >= price) {
        filled += take(bids_, bids_.begin(), qty);
      }
    }
    if (qty > 0 && rest) {
      if (side == Side::kBuy) {
        auto& level = bids_[price];
        index_[id] = {side, price, level.insert(level.end(), Order{id, qty})};
      } else {
        auto& level = asks_[price];
        index_[id] = {side, price, level.insert(level.end(), Order{id, qty})};
      }
    }
    return filled;
  }
  bool cancel(std::uint64_t id) {
    auto it = index_.find(id);
    if (it == index_.end()) return false;
    auto [side, price, pos] = it->second;
    if (side == Side::kBuy) {
      erase_from(bids_, price, pos);
    } else {
      erase_from(asks_, price, pos);
    }
    index_.erase(it);
    return true;
  }
  bool contains(std::uint64_t id) const { return index_.count(id) != 0; }

 private:
  using Level = std::list<Order>;
  struct Where {
    Side side;
    std::int64_t price;
    Level::iterator pos;
  };
  template <class M>
  std::int64_t take(M& book, typename M::iterator level, std::int64_t& qty) {
    std::int64_t filled = 0;
    Level& orders = level->second;
    while (qty > 0 && !orders.empty()) {
      Order& o = orders.front();
      std::int64_t q = std::min(qty, o.qty);
      o.qty -= q;
      qty -= q;
      filled += q;
      if (o.qty == 0) {
        index_.erase(o.id);
        orders.pop_front();
      }
    }
    if (orders.empty()) book.erase(level);
    return filled;
  }
  template <class M>
  void erase_from(M& book, std::int64_t price, Level::iterator pos) {
    auto level = book.find(price);
    level->second.erase(pos);
    if (level->second.empty()) book.erase(level);
  }
  std::map<std::int64_t, Level, std::greater<>> bids_;
  std::map<std::int64_t, Level> asks_;
  std::unordered_map<std::uint64_t, Where> index_;
};

void BM_MatchMixedFlowMapBook(benchmark::State& state) {
  const std::vector<Message> flow = make_flow(kFlow, kAccounts);
  for (auto _ : state) {
    state.PauseTiming();
    MapBook book;
    std::vector<std::uint64_t> resting;
    resting.reserve(kFlow);
    std::uint64_t next = 1;
    state.ResumeTiming();
    for (const Message& m : flow) {
      if (m.kind == Kind::kCancel) {
        auto live = take_live(resting, m.pick, [&](std::uint64_t id) { return book.contains(id); });
        if (live) book.cancel(*live);
        continue;
      }
      std::uint64_t id = next++;
      bool rest = m.kind == Kind::kNew;
      std::int64_t filled = book.add(id, m.side, m.price, m.qty, rest);
      if (rest && filled < m.qty) resting.push_back(id);
    }
    benchmark::DoNotOptimize(next);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(flow.size()));
}
BENCHMARK(BM_MatchMixedFlowMapBook)->Unit(benchmark::kMillisecond);

// Our OrderBook under the baseline's bare matching loop: the data structures compared alone.
void BM_MatchMixedFlowBookOnly(benchmark::State& state) {
  const std::vector<Message> flow = make_flow(kFlow, kAccounts);
  for (auto _ : state) {
    state.PauseTiming();
    OrderBook book;
    book.reset(Price(kReference - 144), Price(kReference + 144));
    std::vector<std::uint64_t> resting;
    resting.reserve(kFlow);
    std::uint64_t next = 1;
    state.ResumeTiming();
    for (const Message& m : flow) {
      if (m.kind == Kind::kCancel) {
        auto live = take_live(resting, m.pick, [&](std::uint64_t id) {
          return book.find(OrderId{id}) != OrderBook::kNil;
        });
        if (live) book.erase(book.find(OrderId{*live}));
        continue;
      }
      std::uint64_t id = next++;
      std::int64_t qty = m.qty;
      const Side maker = opposite(m.side);
      while (qty > 0) {
        OrderBook::Slot s = book.front(maker);
        if (s == OrderBook::kNil) break;
        const OrderBook::Order& o = book.at(s);
        if (m.side == Side::kBuy ? o.limit.value() > m.price : o.limit.value() < m.price) break;
        std::int64_t q = std::min(qty, o.open.value());
        qty -= q;
        if (q == o.open.value()) {
          book.erase(s);
        } else {
          book.reduce(s, Qty(q));
        }
      }
      if (qty > 0 && m.kind == Kind::kNew) {
        book.insert(OrderId{id}, AccountId{1}, m.side, Price(m.price), Qty(qty), false);
        resting.push_back(id);
      }
    }
    benchmark::DoNotOptimize(next);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(flow.size()));
}
BENCHMARK(BM_MatchMixedFlowBookOnly)->Unit(benchmark::kMillisecond);

using TagEvent =
    BasicEvent<BasicOrderAccepted<OrderTag>, BasicTrade<OrderTag>, BasicOrderClosed<OrderTag>,
               BasicOrderReduced<OrderTag>, MarketHalted, EpochOpened, WindowClosed>;

// An account model with nothing to check or move.
class NoAccounts : public MatchingEngine<NoAccounts, OrderTag, TagEvent> {
 public:
  explicit NoAccounts(const ContractSpec& spec)
      : MatchingEngine(spec, *make_band(spec, Price(kReference), spec.band_ppm), LedgerTime(0)) {}
  Result<OrderOutcome> submit(LedgerTime now, OrderTag tag, const OrderRequest& r) {
    advance_to(now);
    return place_order(tag, r, std::nullopt);
  }
  Status cancel(LedgerTime now, OrderTag tag, OrderId order) {
    advance_to(now);
    return cancel_order(tag, order);
  }

 private:
  friend class MatchingEngine<NoAccounts, OrderTag, TagEvent>;
  Status admit(OrderTag, Side, Price, Qty, const Order*) { return Status::ok(); }
  void on_release(OrderTag, Side, Price, Qty) {}
  void on_fill(const Fill<OrderTag>&) {}
  void on_close(OrderId, OrderTag, CloseReason) {}
  void on_halt(HaltReason) {}
  void on_epoch_opened() {}
  void on_window_closed() {}
  void on_resolution_deadline() { end_resolution_hold(); }
};

void BM_MatchMixedFlowNoAccounts(benchmark::State& state) {
  const std::vector<Message> flow = make_flow(kFlow, kAccounts);
  std::size_t rejected = 0;
  for (auto _ : state) {
    state.PauseTiming();
    NoAccounts ex(bench_spec());
    std::vector<std::pair<OrderId, OrderTag>> resting;
    resting.reserve(kFlow);
    state.ResumeTiming();
    std::int64_t now = 0;
    for (std::size_t i = 0; i < flow.size(); ++i) {
      const Message& m = flow[i];
      LedgerTime t(now += 1);
      const OrderTag tag{m.account + 1};
      if (m.kind == Kind::kCancel) {
        auto live = take_live(resting, m.pick, [&](const std::pair<OrderId, OrderTag>& e) {
          return ex.book().find(e.first) != NoAccounts::Book::kNil;
        });
        if (live && !ex.cancel(t, live->second, live->first).is_ok()) ++rejected;
        continue;
      }
      OrderType type = m.kind == Kind::kNew ? OrderType::kLimit : OrderType::kImmediateOrCancel;
      Result<OrderOutcome> r =
          ex.submit(t, tag, OrderRequest{m.side, type, Price(m.price), Qty(m.qty)});
      if (!r.is_ok()) {
        ++rejected;
      } else if (r->resting.value() > 0) {
        resting.emplace_back(r->id, tag);
      }
      if ((i & 4095) == 0) ex.clear_events();
    }
    benchmark::DoNotOptimize(ex.trade_count());
    state.PauseTiming();
    if (ex.phase() != Phase::kTrading || ex.epoch() != 0) state.SkipWithError("flow hit a halt");
    state.counters["trades"] = static_cast<double>(ex.trade_count());
    state.ResumeTiming();
  }
  state.counters["rejected"] = static_cast<double>(rejected);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(flow.size()));
}
BENCHMARK(BM_MatchMixedFlowNoAccounts)->Unit(benchmark::kMillisecond);

void BM_RestingOrderMemory(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    OrderBook book;
    book.reset(Price(kReference - 144), Price(kReference + 144));
    for (std::size_t i = 0; i < n; ++i) {
      Side side = i % 2 ? Side::kBuy : Side::kSell;
      std::int64_t p = side == Side::kBuy ? kReference - 1 - static_cast<std::int64_t>(i % 100)
                                          : kReference + 1 + static_cast<std::int64_t>(i % 100);
      book.insert(OrderId{i + 1}, AccountId{1}, side, Price(p), Qty(1), false);
    }
    state.counters["bytes_per_order"] =
        static_cast<double>(book.memory_bytes()) / static_cast<double>(n);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_RestingOrderMemory)->Arg(1 << 16)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pfex::market

BENCHMARK_MAIN();
