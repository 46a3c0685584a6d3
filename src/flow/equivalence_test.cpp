// Equivalence of the private exchange with the transparent one (docs/protocol/private.md,
// "Equivalence with the transparent exchange"): the same order flow through market::Exchange and
// through private wallets into a private LedgerReplica accepts and refuses the same actions and
// ends with the same public book, the same fills of every order, and the same cash and position
// for every trader (opened from its wallet's token). Every proof is made and verified for real.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "flow/flow_driver.hpp"
#include "flow/scenario_flow.hpp"
#include "sim/scenario.hpp"

namespace pfex::flow {
namespace {

using market::AccountId;
using market::OrderId;
using market::OrderRequest;
using market::OrderType;
using market::Side;

constexpr std::int64_t kReference = 1000;  // band [960, 1040]
// Windows of 2 tokens: the smallest the codec allows; proving cost is dominated by the range
// proofs.
constexpr std::uint8_t kLogWindow = 1;

// The seed-example contract with a fee, so that both constraints' f*(B + S) and the fills' fees
// count.
market::ContractSpec flow_contract() {
  market::ContractSpec s = market::seed_example_preset();
  s.fee_per_contract = Cash(2);
  return s;
}

// The same with a scheduled margin round every 10 s of ledger time and a refresh window of 4 s.
market::ContractSpec epoch_contract() {
  market::ContractSpec s = flow_contract();
  s.settlement_interval_ms = 10'000;
  s.refresh_window_ms = 4'000;
  return s;
}

// One generator set for every test in this file (about 50 ms to derive).
std::shared_ptr<const priv::PrivateGens> shared_gens() {
  static const auto gens = std::make_shared<const priv::PrivateGens>();
  return gens;
}

OrderRequest limit(Side side, std::int64_t price, std::int64_t qty,
                   OrderType type = OrderType::kLimit) {
  return OrderRequest{side, type, Price(price), Qty(qty)};
}

// Runs `flow` in both modes, one action at a time, and checks that each action is accepted in
// both or refused in both, that no entry the wallets built was rejected by the replica, and that
// the outcomes are equal (after every wallet settled). Returns the private driver for more checks.
struct Compared {
  FlowOutcome transparent, shielded;
  std::vector<std::string> disagreements;
  std::uint64_t rejected_entries = 0;
  std::size_t accepted = 0;
  std::size_t refreshes = 0;
  // The levy per contract of each margin round (by epoch) while its refresh window was open.
  std::map<std::uint32_t, std::int64_t> transparent_levies, private_levies;
};

// With `online`, every account whose flag is set refreshes with no deposit as soon as a margin
// round is open, as an online node does (sim::ExchangeVenue), in both modes.
Compared compare(const market::ContractSpec& contract, Price reference,
                 const std::vector<TimedAction>& flow, const std::vector<bool>* online = nullptr) {
  Compared c;
  market::Exchange ex = *market::Exchange::open(contract, reference, LedgerTime(0));
  FlowDriverOptions options;
  options.log_window = kLogWindow;
  options.gens = shared_gens();
  Result<FlowDriver> driver = FlowDriver::open(contract, reference, options);
  if (!driver) {
    c.disagreements.push_back("driver: " + driver.status().to_string());
    return c;
  }
  LedgerTime last(0);
  std::vector<TimedAction> actions(flow.begin(), flow.end());
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const TimedAction step = actions[i];
    const Result<market::ActionResult> want = market::apply_action(ex, step.at, step.action);
    const Result<market::ActionResult> got = driver->apply(step.at, step.action);
    last = step.at;
    if (online && ex.phase() == market::Phase::kRefreshWindow) {
      // The online nodes' refreshes come next, at the same time.
      std::vector<TimedAction> refreshes;
      for (std::size_t k = 0; k < online->size(); ++k) {
        const AccountId id{static_cast<std::uint32_t>(k + 1)};
        Result<market::Account> a = ex.account(id);
        if ((*online)[k] && a.is_ok() && a->status == market::AccountStatus::kActive &&
            !a->refreshed) {
          refreshes.push_back(TimedAction{step.at, market::RefreshAction{id, Cash(0)}});
        }
      }
      actions.insert(actions.begin() + static_cast<std::ptrdiff_t>(i) + 1, refreshes.begin(),
                     refreshes.end());
    }
    if (want.is_ok() != got.is_ok()) {
      c.disagreements.push_back("action " + std::to_string(i) + ": transparent " +
                                want.status().to_string() + ", private " +
                                got.status().to_string());
      continue;
    }
    if (ex.phase() == market::Phase::kRefreshWindow)
      c.transparent_levies[ex.epoch()] = ex.levy_per_contract().value();
    if (const priv::PrivateLedger* l = driver->replica().private_ledger();
        l != nullptr && l->in_refresh_window()) {
      c.private_levies[static_cast<std::uint32_t>(l->terms().epoch)] = l->levy();
    }
    if (!want.is_ok()) continue;
    ++c.accepted;
    if (std::holds_alternative<market::RefreshAction>(step.action)) ++c.refreshes;
    if (want->account != got->account) {
      c.disagreements.push_back("action " + std::to_string(i) + ": different account ids");
    }
    if (want->order.has_value() != got->order.has_value() ||
        (want->order &&
         (want->order->id != got->order->id || want->order->filled != got->order->filled ||
          want->order->resting != got->order->resting))) {
      c.disagreements.push_back("action " + std::to_string(i) + ": different order outcomes");
    }
    if (want->claim != got->claim)
      c.disagreements.push_back("action " + std::to_string(i) + ": different exit claims");
  }
  const Status settled = driver->settle_all(last);
  if (!settled) c.disagreements.push_back("settle_all: " + settled.to_string());
  c.rejected_entries = driver->rejected_entries();
  for (const std::string& r : driver->rejections())
    c.disagreements.push_back("the replica rejected a wallet's entry: " + r);
  c.transparent = transparent_outcome(ex, ex.events());
  c.shielded = driver->outcome();
  return c;
}

void expect_equivalent(const Compared& c) {
  for (const std::string& d : c.disagreements)
    ADD_FAILURE() << d;
  EXPECT_EQ(c.rejected_entries, 0U) << "the replica rejected a wallet's transaction";
  EXPECT_EQ(c.transparent, c.shielded) << "transparent:\n"
                                       << describe(c.transparent) << "private:\n"
                                       << describe(c.shielded);
}

// A flow builder: actions at 1 s steps of ledger time.
struct FlowBuilder {
  std::vector<TimedAction> flow;
  std::int64_t ms = 0;
  void add(const market::Action& a) {
    ms += 1000;
    flow.push_back(TimedAction{LedgerTime(ms), a});
  }
  void trader(std::int64_t deposit) {
    add(market::RegisterAction{});
    const AccountId id{static_cast<std::uint32_t>(++traders)};
    add(market::DepositAction{id, Cash(deposit)});
  }
  std::uint32_t traders = 0;
};

// Posts, cancels, a reduce and a cancel-replace, deposits and withdrawals, none of which cross; and
// the refusals both modes must share: an order that breaks solvency, a cancel of another
// trader's order, a cancel of a closed order, a withdrawal past solvency, a price outside the band.
TEST(FlowEquivalence, RestingOrdersCancelsAndCashMoves) {
  FlowBuilder b;
  b.trader(50'000);  // account 1
  b.trader(30'000);  // account 2
  b.trader(1'000);   // account 3
  const AccountId a1{1}, a2{2}, a3{3};
  b.add(market::SubmitAction{a1, limit(Side::kBuy, 990, 10)});                         // #1
  b.add(market::SubmitAction{a2, limit(Side::kSell, 1010, 5, OrderType::kPostOnly)});  // #2
  b.add(market::SubmitAction{a1, limit(Side::kBuy, 985, 4)});                          // #3
  b.add(market::SubmitAction{a3, limit(Side::kBuy, 1000, 100)});                       // refused
  b.add(market::SubmitAction{a1, limit(Side::kBuy, 1041, 1)});                         // refused
  b.add(market::CancelAction{a2, OrderId{1}});                                         // refused
  b.add(market::ReduceAction{a1, OrderId{1}, Qty(4)});                                 // 6 left
  b.add(market::ReplaceAction{a2, OrderId{2}, limit(Side::kSell, 1020, 7)});           // #4
  b.add(market::CancelAction{a1, OrderId{3}});
  b.add(market::CancelAction{a1, OrderId{3}});                   // refused: already closed
  b.add(market::SubmitAction{a3, limit(Side::kSell, 1030, 2)});  // #5
  b.add(market::WithdrawAction{a2, Cash(10'000)});
  b.add(market::WithdrawAction{a3, Cash(1'000)});  // refused: the open sell needs margin
  b.add(market::DepositAction{a3, Cash(500)});
  b.add(market::SubmitAction{a1, limit(Side::kBuy, 970, 3)});  // #6
  b.add(market::CancelAction{a1, OrderId{6}});
  const Compared c = compare(flow_contract(), Price(kReference), b.flow);
  expect_equivalent(c);
  EXPECT_EQ(c.accepted, b.flow.size() - 5);
  EXPECT_EQ(c.transparent.book.size(), 3U);  // #1 (reduced), #4, #5
}

// Crossing orders of every type: partial fills, an IOC's remainder, a FOK kill, a post-only
// refusal, a market order at the protection limit, a reduce and a cancel-replace of partly filled
// orders, withdrawals of what the fills paid. Every fill is claimed by a later spend or by the
// settles at the end.
TEST(FlowEquivalence, CrossingOrdersOfEveryType) {
  FlowBuilder b;
  b.trader(60'000);  // 1
  b.trader(60'000);  // 2
  b.trader(20'000);  // 3
  const AccountId a1{1}, a2{2}, a3{3};
  b.add(market::SubmitAction{a1, limit(Side::kBuy, 995, 10)});                         // #1
  b.add(market::SubmitAction{a2, limit(Side::kSell, 995, 4)});                         // #2 fills 4
  b.add(market::SubmitAction{a2, limit(Side::kSell, 1005, 6, OrderType::kPostOnly)});  // #3
  b.add(market::SubmitAction{a3, limit(Side::kBuy, 1005, 2, OrderType::kPostOnly)});   // #4 refused
  b.add(market::SubmitAction{a3, limit(Side::kBuy, 1010, 9, OrderType::kFillOrKill)});  // #5 killed
  b.add(market::SubmitAction{a3, limit(Side::kBuy, 1010, 9, OrderType::kImmediateOrCancel)});  // #6
  b.add(market::ReduceAction{a1, OrderId{1}, Qty(3)});  // 3 of the 6 open left
  b.add(market::SubmitAction{
      a2, OrderRequest{Side::kSell, OrderType::kMarket, std::nullopt, Qty(5)}});        // #7
  b.add(market::SubmitAction{a3, limit(Side::kSell, 1000, 3)});                         // #8
  b.add(market::ReplaceAction{a3, OrderId{8}, limit(Side::kSell, 1001, 2)});            // #9
  b.add(market::SubmitAction{a1, limit(Side::kBuy, 1001, 1, OrderType::kFillOrKill)});  // #10
  b.add(market::WithdrawAction{a2, Cash(5'000)});
  b.add(market::CancelAction{a3, OrderId{9}});
  b.add(market::WithdrawAction{a3, Cash(1'000)});
  const Compared c = compare(flow_contract(), Price(kReference), b.flow);
  expect_equivalent(c);
  EXPECT_FALSE(c.transparent.fills.empty());
}

// The rules the transparent exchange took from the private one, each accepted or refused alike:
// a market order on an empty side gets its id and closes unfilled; a market order trades no
// further than the reservation price it names; a cancel-replace at the same price with a lower
// quantity is a new order, a reduce keeps the id; in a margin round a deposit goes with the
// refresh.
TEST(FlowEquivalence, RulesTheTransparentExchangeSharesWithThePrivateOne) {
  FlowBuilder b;
  b.trader(60'000);  // 1
  b.trader(60'000);  // 2
  b.trader(40'000);  // 3, offline
  const AccountId a1{1}, a2{2}, a3{3};
  auto market_order = [](Side side, std::optional<std::int64_t> p_r, std::int64_t qty) {
    OrderRequest r{side, OrderType::kMarket, std::nullopt, Qty(qty)};
    if (p_r) r.limit = Price(*p_r);
    return r;
  };
  std::vector<std::size_t> refused;
  auto refuse = [&](const market::Action& a) {
    b.add(a);
    refused.push_back(b.flow.size() - 1);
  };
  b.add(market::SubmitAction{a1, market_order(Side::kBuy, std::nullopt, 3)});  // #1, closes
  b.add(market::SubmitAction{a1, market_order(Side::kSell, 1003, 2)});         // #2, closes
  b.add(market::SubmitAction{a2, limit(Side::kSell, 1000, 5)});                // #3
  b.add(market::SubmitAction{a1, market_order(Side::kBuy, 1002, 2)});          // #4 fills 2
  b.add(market::SubmitAction{a1, market_order(Side::kBuy, 999, 2)});           // #5 fills 0
  refuse(market::SubmitAction{a1, market_order(Side::kBuy, 1041, 1)});         // outside the band
  b.add(market::SubmitAction{a2, limit(Side::kSell, 1001, 4)});                // #6
  b.add(market::ReplaceAction{a2, OrderId{6}, limit(Side::kSell, 1001, 2)});   // #7, not a reduce
  b.add(market::ReduceAction{a2, OrderId{3}, Qty(1)});                         // #3 keeps its id
  refuse(market::ReduceAction{a2, OrderId{3}, Qty(3)});                        // only 2 open
  refuse(market::ReduceAction{a1, OrderId{7}, Qty(1)});                        // not a1's
  b.add(market::ReduceAction{a2, OrderId{7}, Qty(2)});                         // all: closes
  b.ms = 29'000;
  b.add(market::AdvanceAction{});                // at 30 s: the margin round; 1 and 2 refresh
  refuse(market::DepositAction{a3, Cash(500)});  // not refreshed: deposit with the refresh
  b.add(market::RefreshAction{a3, Cash(500)});
  b.add(market::DepositAction{a3, Cash(500)});
  const std::vector<bool> online{true, true, false};
  market::ContractSpec contract = epoch_contract();
  contract.settlement_interval_ms = 30'000;  // one round, after the orders
  std::vector<Status> results;
  ASSERT_TRUE(run_transparent(contract, Price(kReference), b.flow, &results).is_ok());
  for (std::size_t i = 0; i < results.size(); ++i) {
    const bool want_refused = std::count(refused.begin(), refused.end(), i) != 0;
    EXPECT_EQ(results[i].is_ok(), !want_refused)
        << "action " << i << ": " << results[i].to_string();
  }
  const Compared c = compare(contract, Price(kReference), b.flow, &online);
  expect_equivalent(c);
  EXPECT_EQ(c.refreshes, 3U);
}

// Margin rounds through the issuer's advances: online traders refresh (one with orders that
// expired at the halt and fills to claim), an offline one defaults; a jump past a whole round
// defaults everyone who was not refreshed in it.
TEST(FlowEquivalence, MarginRoundsRefreshesAndDefaults) {
  FlowBuilder b;
  b.trader(40'000);  // 1
  b.trader(40'000);  // 2
  b.trader(40'000);  // 3, offline
  const AccountId a1{1}, a2{2}, a3{3};
  b.add(market::SubmitAction{a1, limit(Side::kBuy, 1000, 5)});   // #1
  b.add(market::SubmitAction{a2, limit(Side::kSell, 1000, 2)});  // #2: fills 2 of #1
  b.add(market::SubmitAction{a3, limit(Side::kSell, 1030, 2)});  // #3, expires at the halt
  b.ms = 9'000;
  b.add(market::AdvanceAction{});  // at 10 s: the margin round; 1 and 2 refresh
  b.ms = 13'000;
  b.add(market::AdvanceAction{});  // at 14 s the window closed: 3 defaulted
  b.add(market::SubmitAction{a2, limit(Side::kSell, 1001, 1)});  // #4
  b.ms = 34'000;
  b.add(market::AdvanceAction{});  // the rounds at 20 s and 30 s pass unanswered: 1, 2 default
  const std::vector<bool> online{true, true, false};
  const Compared c = compare(epoch_contract(), Price(kReference), b.flow, &online);
  expect_equivalent(c);
  EXPECT_EQ(c.refreshes, 2U);
  ASSERT_EQ(c.transparent.holdings.size(), 3U);
  EXPECT_TRUE(c.transparent.holdings[2].defaulted);
}

// The shortfall levy in both modes, through a deficit of the fund net of what it owes. A short
// (offline, bond 0) defaults at the first round; the fund buys 2 of its 4 back at the band's high
// edge 10.40 and keeps 2, marked there: the batch is priced at 10.40 and the fund owes the
// defaulter's equity at that price (its cash less 4 * 1,040) until the exit period lapses. The
// next epoch opens at 10.40, the fund buys its last 2 at that epoch's high edge, and the round
// after opens there: the fund has lost 2 * (H - 1,040) against the 36 of fees it holds, a deficit
// levied on the survivors' gross position at the previous round's refreshes (8: 5 long, 3 short).
// Cash, positions, the fund and the levy of every round are the same in both modes; the
// defaulter then exits at the batch's price.
TEST(FlowEquivalence, AFundDeficitIsLeviedAtTheNextRoundInBothModes) {
  market::ContractSpec contract = flow_contract();
  contract.bond = Cash(0);
  contract.settlement_interval_ms = 20'000;
  contract.refresh_window_ms = 4'000;
  contract.vwap_window_ms = 10'000;  // each round's reference: the fund's trade just before it
  contract.resolution_ms = 1;        // the fund takes the short over 1 ms after the close
  FlowBuilder b;
  b.trader(100'000);  // 1, the buyer
  b.trader(10'000);   // 2, the short, offline
  b.trader(100'000);  // 3, short 3
  const AccountId a1{1}, a2{2}, a3{3};
  b.add(market::SubmitAction{a2, limit(Side::kSell, 1000, 4)});  // #1
  b.add(market::SubmitAction{a1, limit(Side::kBuy, 1000, 4)});   // #2
  b.add(market::SubmitAction{a3, limit(Side::kSell, 1000, 3)});  // #3
  b.add(market::SubmitAction{a1, limit(Side::kBuy, 1000, 3)});   // #4
  b.ms = 20'000;
  b.add(market::AdvanceAction{});  // 21 s: round 1 (reference 10.00); 1 and 3 refresh
  b.ms = 35'000;
  b.add(market::SubmitAction{a1, limit(Side::kSell, 1040, 2)});  // 36 s: to the fund at 10.40
  b.ms = 40'000;
  b.add(market::AdvanceAction{});  // 41 s: round 2 at 10.40, no deficit; 1 and 3 refresh
  b.ms = 55'000;
  const std::size_t second_sale = b.flow.size();
  b.add(market::SubmitAction{a1, limit(Side::kSell, 1040, 2)});  // 56 s: placeholder, below
  b.ms = 60'000;
  b.add(market::AdvanceAction{});  // 61 s: round 3, levied; 1 and 3 refresh and pay
  b.ms = 65'000;
  b.add(market::AdvanceAction{});  // 66 s: the window closed
  b.add(market::ExitAction{a2});
  // The second sale is at round 2's high edge.
  market::Exchange probe = *market::Exchange::open(contract, Price(kReference), LedgerTime(0));
  std::vector<TimedAction> head(b.flow.begin(),
                                b.flow.begin() + static_cast<std::ptrdiff_t>(second_sale));
  for (const TimedAction& step : head) {
    (void)market::apply_action(probe, step.at, step.action);
    if (probe.phase() == market::Phase::kRefreshWindow) {
      for (AccountId id : {a1, a3})
        (void)market::apply_action(probe, step.at, market::RefreshAction{id, Cash(0)});
    }
  }
  probe.advance(LedgerTime(55'000));
  ASSERT_EQ(probe.band().reference, Price(1040));
  const std::int64_t high = probe.band().high.value();
  ASSERT_GT(high, 1060);
  std::get<market::SubmitAction>(b.flow[second_sale].action).request.limit = Price(high);

  const std::vector<bool> online{true, false, true};
  const Compared c = compare(contract, Price(kReference), b.flow, &online);
  expect_equivalent(c);
  // Fees: 2 per contract from each side of the traders' 7 lots, and from the fund's
  // counterparties on its 4: 36. The deficit 2 * (high - 1,040) - 36 over the gross 8.
  const std::int64_t deficit = 2 * (high - 1040) - 36;
  ASSERT_GT(deficit, 0);
  const std::map<std::uint32_t, std::int64_t> levies{{1, 0}, {2, 0}, {3, (deficit + 7) / 8}};
  EXPECT_EQ(c.transparent_levies, levies);
  EXPECT_EQ(c.private_levies, levies);
  EXPECT_EQ(c.refreshes, 6U);
  ASSERT_EQ(c.transparent.holdings.size(), 3U);
  EXPECT_TRUE(c.transparent.holdings[1].defaulted);
  // The short exits at 10.40: 10,000 + 4,000 - 8 in fees - 4 * 1,040 (no penalty).
  EXPECT_EQ(c.transparent.holdings[1].exit_claim, std::optional<Cash>(Cash(9'832)));
}

std::vector<std::filesystem::path> scenario_files() {
  std::vector<std::filesystem::path> out;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(PFEX_SOURCE_DIR) + "/scenarios")) {
    if (entry.path().extension() == ".json") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every scenario in scenarios/ as the transparent exchange runs it (its expectations hold), then
// the whole of it through the private market: from a scenario's first default on, the fund takes
// the defaulters over (the driver's stand-in for the validators' decryption resolves each round),
// its liquidation order trades against the traders' orders and the defaulters exit at the round's
// liquidation price; the fund's cash and position and the exit claims are compared too.
TEST(FlowEquivalence, EveryScenario) {
  const auto files = scenario_files();
  EXPECT_GE(files.size(), 2U);
  std::size_t defaults = 0, exits = 0, liquidation_trades = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    Result<sim::Scenario> sc = sim::load_scenario(path.string());
    ASSERT_TRUE(sc.is_ok()) << sc.status().to_string();
    Result<RecordedScenario> rec = record_scenario(*sc);
    ASSERT_TRUE(rec.is_ok()) << rec.status().to_string();
    EXPECT_TRUE(rec->run.failures.empty()) << rec->run.failures.front();
    const Compared c = compare(sc->contract, sc->reference, rec->flow);
    expect_equivalent(c);
    std::size_t d = 0, x = 0, l = 0;
    for (const Holding& h : c.transparent.holdings) {
      d += h.defaulted ? 1U : 0U;
      x += h.exit_claim ? 1U : 0U;
    }
    market::Exchange ex = *market::Exchange::open(sc->contract, sc->reference, LedgerTime(0));
    for (const TimedAction& a : rec->flow)
      (void)market::apply_action(ex, a.at, a.action);
    for (const market::Event& e : ex.events()) {
      const auto* t = std::get_if<market::Trade>(&e.body);
      l += t != nullptr && t->liquidation ? 1U : 0U;
    }
    defaults += d;
    exits += x;
    liquidation_trades += l;
    std::cout << path.filename().string() << ": " << rec->flow.size() << " actions, " << c.accepted
              << " accepted, " << c.transparent.fills.size() / 2 << " trades (" << l
              << " by the fund), " << d << " defaults, " << x << " exits\n";
  }
  // The scenarios reach the fund: at least one default, liquidation trade and exit.
  EXPECT_GE(defaults, 1U);
  EXPECT_GE(liquidation_trades, 1U);
  EXPECT_GE(exits, 1U);
}

// ---- random flows ----

// One generated trader action; `pick` chooses the trader and the order it names.
struct Op {
  // 0-44 order, 45-59 cancel, 60-67 replace, 68-71 reduce by `qty`, 72-79 deposit, 80-87
  // withdraw, 88-99 the issuer's advance by `amount` ms (flows with epochs only; else a
  // withdrawal). A market order names its reservation price (`price`, possibly a tick outside
  // the band) when `amount` is odd.
  int kind = 0;
  int trader = 0;
  int side = 0;
  int offset = 0;  // ticks from the reference
  int qty = 1;
  int type = 0;
  int order = 0;  // 1-based among the orders placed so far (one past: an unknown order)
  int amount = 0;
};

struct FlowCase {
  std::vector<std::int64_t> deposits;  // one trader each
  int offline = 0;                     // this trader's node never refreshes (if it exists)
  std::vector<Op> ops;
};

// Crossing flows use every order type and prices across the whole band (and a tick outside);
// resting flows only limit and post-only orders with buys below and sells above the reference,
// so nothing ever trades.
// How rapidcheck prints a failing case (rapidcheck looks up this name).
// NOLINTNEXTLINE(readability-identifier-naming)
[[maybe_unused]] void showValue(const FlowCase& fc, std::ostream& os) {
  os << "deposits:";
  for (std::int64_t d : fc.deposits)
    os << " " << d;
  os << "; offline " << fc.offline << "\n";
  for (const Op& op : fc.ops)
    os << "  kind " << op.kind << " trader " << op.trader << " side " << op.side << " offset "
       << op.offset << " qty " << op.qty << " type " << op.type << " order " << op.order
       << " amount " << op.amount << "\n";
}

rc::Gen<FlowCase> gen_case(bool crossing) {
  auto op = rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::inRange(0, 100)),
      rc::gen::set(&Op::trader, rc::gen::inRange(0, 3)),
      rc::gen::set(&Op::side, rc::gen::inRange(0, 2)),
      // Crossing: mostly near the reference, so that orders meet; sometimes anywhere in the band
      // or a tick outside it.
      rc::gen::set(&Op::offset, crossing
                                    ? rc::gen::weightedOneOf<int>({{4, rc::gen::inRange(-5, 6)},
                                                                   {1, rc::gen::inRange(-41, 42)}})
                                    : rc::gen::inRange(1, 41)),
      rc::gen::set(&Op::qty, rc::gen::inRange(1, 21)),
      rc::gen::set(&Op::type, crossing ? rc::gen::inRange(0, 5) : rc::gen::inRange(0, 2)),
      rc::gen::set(&Op::order, rc::gen::inRange(0, 1000)),
      rc::gen::set(&Op::amount, rc::gen::inRange(1, 40'000)));
  return rc::gen::build<FlowCase>(
      rc::gen::set(&FlowCase::offline, rc::gen::inRange(0, 6)),
      rc::gen::set(&FlowCase::deposits,
                   rc::gen::mapcat(rc::gen::inRange(2, 4),
                                   [](int n) {
                                     return rc::gen::container<std::vector<std::int64_t>>(
                                         static_cast<std::size_t>(n),
                                         rc::gen::inRange<std::int64_t>(2'000, 60'000));
                                   })),
      rc::gen::set(&FlowCase::ops, rc::gen::mapcat(rc::gen::inRange(4, 11), [op](int n) {
        return rc::gen::container<std::vector<Op>>(static_cast<std::size_t>(n), op);
      })));
}

std::vector<TimedAction> build_flow(const FlowCase& fc, bool crossing, bool epochs) {
  FlowBuilder b;
  for (std::int64_t d : fc.deposits)
    b.trader(d);
  int orders = 0;  // orders asked for so far (an upper bound of the ids given)
  for (const Op& op : fc.ops) {
    const AccountId who{static_cast<std::uint32_t>(1 + op.trader % static_cast<int>(b.traders))};
    const Side side = op.side == 0 ? Side::kBuy : Side::kSell;
    const std::int64_t price =
        crossing ? kReference + op.offset
                 : (side == Side::kBuy ? kReference - op.offset : kReference + op.offset);
    static constexpr OrderType kTypes[] = {OrderType::kLimit, OrderType::kPostOnly,
                                           OrderType::kImmediateOrCancel, OrderType::kFillOrKill,
                                           OrderType::kMarket};
    const OrderType type = kTypes[op.type];
    OrderRequest request{side, type, std::nullopt, Qty(op.qty)};
    if (type != OrderType::kMarket || op.amount % 2 == 1) request.limit = Price(price);
    const OrderId order{static_cast<std::uint64_t>(1 + op.order % (orders + 1))};
    if (op.kind < 45) {
      b.add(market::SubmitAction{who, request});
      ++orders;
    } else if (op.kind < 60) {
      b.add(market::CancelAction{who, order});
    } else if (op.kind < 68) {
      b.add(market::ReplaceAction{who, order, request});
      ++orders;
    } else if (op.kind < 72) {
      b.add(market::ReduceAction{who, order, Qty(op.qty)});
    } else if (op.kind < 80) {
      b.add(market::DepositAction{who, Cash(op.amount)});
    } else if (op.kind < 88 || !epochs) {
      b.add(market::WithdrawAction{who, Cash(op.amount)});
    } else {
      b.ms += op.amount;  // up to 40 s: through margin rounds and refresh windows
      b.add(market::AdvanceAction{});
    }
  }
  return b.flow;
}

// `cases` random flows from `seed` (a ctest entry each, so that they run in parallel).
// Crossing flows have margin rounds (epoch_contract), the issuer's advances and online nodes'
// refreshes; one trader may be offline and default.
void check_random_flows(std::uint64_t seed, int cases, bool crossing) {
  rc::detail::TestParams params;
  params.seed = seed;
  params.maxSuccess = cases;
  params.maxSize = 100;
  // Each shrinking step proves its flow again: PFEX_FLOW_NO_SHRINK=1 reports the first failure.
  params.disableShrinking = std::getenv("PFEX_FLOW_NO_SHRINK") != nullptr;
  const auto result = rc::detail::checkTestable(
      [crossing] {
        const FlowCase fc = *gen_case(crossing);
        const std::vector<TimedAction> flow = build_flow(fc, crossing, crossing);
        std::vector<bool> online(fc.deposits.size(), true);
        if (static_cast<std::size_t>(fc.offline) < online.size()) {
          online[static_cast<std::size_t>(fc.offline)] = false;
        }
        const Compared c = crossing ? compare(epoch_contract(), Price(kReference), flow, &online)
                                    : compare(flow_contract(), Price(kReference), flow);
        for (const std::string& d : c.disagreements)
          RC_FAIL(d);
        RC_ASSERT(c.rejected_entries == 0U);
        if (!(c.transparent == c.shielded)) {
          RC_FAIL("outcomes differ\ntransparent:\n" + describe(c.transparent) + "private:\n" +
                  describe(c.shielded));
        }
        RC_TAG(c.transparent.fills.empty() ? "no fills" : "fills",
               c.transparent.epoch > 0 ? "margin rounds" : "one epoch");
      },
      rc::detail::TestMetadata{}, params);
  std::ostringstream message;
  rc::detail::printResultMessage(result, message);
  EXPECT_TRUE(result.template is<rc::detail::SuccessResult>()) << message.str();
  std::cout << message.str() << "\n";
}

// Flows that never trade: 2 parts of 10 with different seeds.
TEST(FlowEquivalenceRandom, RestingFlowsPart1) {
  check_random_flows(0x5eed0001, 10, false);
}
TEST(FlowEquivalenceRandom, RestingFlowsPart2) {
  check_random_flows(0x5eed0002, 10, false);
}

// Flows of every order type across the whole band: 4 parts of 50 (200 in all) with different
// seeds, one ctest entry each so that they run in parallel.
TEST(FlowEquivalenceRandom, CrossingFlowsPart1) {
  check_random_flows(0xc055001, 50, true);
}
TEST(FlowEquivalenceRandom, CrossingFlowsPart2) {
  check_random_flows(0xc055002, 50, true);
}
TEST(FlowEquivalenceRandom, CrossingFlowsPart3) {
  check_random_flows(0xc055003, 50, true);
}
TEST(FlowEquivalenceRandom, CrossingFlowsPart4) {
  check_random_flows(0xc055004, 50, true);
}

}  // namespace
}  // namespace pfex::flow
