// Equivalence of the private exchange with the transparent one (docs/protocol/private.md,
// "Equivalence with the transparent exchange"): the same order flow through market::Exchange and
// through private wallets into a private LedgerReplica accepts and refuses the same actions and
// ends with the same public book, the same fills of every order, and the same cash and position
// for every trader (opened from its wallet's token). Every proof is made and verified for real.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdlib>
#include <memory>
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

// The seed-example contract with a fee, so that both constraints' f*(B + S) and the fills' fees
// count.
market::ContractSpec flow_contract() {
  market::ContractSpec s = market::seed_example_preset();
  s.fee_per_contract = Cash(2);
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
};

Compared compare(const market::ContractSpec& contract, Price reference,
                 const std::vector<TimedAction>& flow) {
  Compared c;
  market::Exchange ex = *market::Exchange::open(contract, reference, LedgerTime(0));
  Result<FlowDriver> driver =
      FlowDriver::open(contract, reference, FlowDriverOptions{3, shared_gens()});
  if (!driver) {
    c.disagreements.push_back("driver: " + driver.status().to_string());
    return c;
  }
  LedgerTime last(0);
  for (std::size_t i = 0; i < flow.size(); ++i) {
    const Result<market::ActionResult> want = market::apply_action(ex, flow[i].at, flow[i].action);
    const Result<market::ActionResult> got = driver->apply(flow[i].at, flow[i].action);
    last = flow[i].at;
    if (want.is_ok() != got.is_ok()) {
      c.disagreements.push_back("action " + std::to_string(i) + ": transparent " +
                                want.status().to_string() + ", private " +
                                got.status().to_string());
      continue;
    }
    if (!want.is_ok()) continue;
    ++c.accepted;
    if (want->account != got->account) {
      c.disagreements.push_back("action " + std::to_string(i) + ": different account ids");
    }
    if (want->order.has_value() != got->order.has_value() ||
        (want->order &&
         (want->order->id != got->order->id || want->order->filled != got->order->filled ||
          want->order->resting != got->order->resting))) {
      c.disagreements.push_back("action " + std::to_string(i) + ": different order outcomes");
    }
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
  void add(market::Action a) {
    ms += 1000;
    flow.push_back(TimedAction{LedgerTime(ms), std::move(a)});
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
  b.add(market::ReplaceAction{a1, OrderId{1}, limit(Side::kBuy, 990, 6)});             // reduce
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

}  // namespace
}  // namespace pfex::flow
