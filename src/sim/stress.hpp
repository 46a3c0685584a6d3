// An adversarial stress test of the transparent exchange (docs/design.md sections 3 and 6):
// seeded, deterministic markets on many contract specs (the presets and edge cases such as
// m = w*d exactly, tiny and huge tick values, a fee at and above the margin), driven by trader
// profiles (market makers, traders at maximum leverage who deposit exactly their shortfall,
// attackers locking an edge by volume or by a standing quote, offline shorts who default, the
// seed's walk-up attack, noise traders sending every order type, replaces and invalid requests),
// with registrations during refresh windows, exits and a final settlement.
//
// After every action a Driver checks the exchange against the design's rules, with its own
// formulas (an oracle independent of the engine's): conservation of money, positions summing to
// zero, open totals against the book, both solvency constraints (fee reserved on both sides) for
// every refreshed account, non-negative equity at both band edges with any subset of open orders
// filled, order-type outcomes, replace = cancel + submit, refreshes at exactly the call accepted
// and one unit short refused, no breaker while a liquidation order rests, the fund's result on
// every completed liquidation and after the final settlement, exit claims, and the levy rule.
//
// A violation is shrunk to a minimal list of actions by delta debugging (replaying subsets) and
// printed as C++ that can be pasted into a test.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/checked.hpp"
#include "market/exchange.hpp"

namespace pfex::sim::stress {

// One market the stress test trades: a contract spec and the first reference price.
struct MarketCase {
  std::string label;
  market::ContractSpec spec;
  Price reference;
};

// The contract specs of the stress test (presets and edge cases), each valid.
std::vector<MarketCase> market_cases();

// ---- actions
// -------------------------------------------------------------------------------------

enum class StepKind : std::uint8_t {
  kRegister,
  kDeposit,
  kWithdraw,
  kSubmit,
  kCancel,
  kReplace,
  kRefresh,
  kExit,
  kAdvance,
  kSettleFinal,
};

// How a step's cash amount or order quantity is found. Symbolic rules are evaluated when the step
// is applied, so a shrunk list keeps the step's intent (exactly the call, maximum leverage).
enum class Rule : std::uint8_t {
  kFixed = 0,
  kShortfall = 1,    // amount = the design's margin shortfall now (after the levy) + delta
  kMaxLeverage = 2,  // qty = the largest quantity both constraints allow now + delta
};

// One action. Accounts and orders are named by the step that created them (`id` of a register,
// submit or replace step), so removing unrelated steps never renames them; a step naming one
// that does not exist in a replay is skipped.
struct Step {
  std::uint32_t id = 0;  // its number in the generated run
  StepKind kind = StepKind::kAdvance;
  std::int64_t at_ms = 0;
  std::uint32_t account = 0;  // id of the register step
  std::uint32_t order = 0;    // id of the submit or replace step
  market::OrderRequest request;
  Rule rule = Rule::kFixed;
  std::int64_t amount = 0;  // cash (deposit, withdraw, refresh), or the delta of a rule
  Price price;              // settle-final
};

// ---- checks
// --------------------------------------------------------------------------------------

struct Violation {
  std::string check;   // stable name (what shrinking preserves)
  std::string detail;  // numbers of this instance
  std::size_t step = 0;
};

// Counts over a run (summed over markets by the stress loop).
struct Counters {
  std::uint64_t markets = 0;
  std::uint64_t actions = 0;
  std::uint64_t accepted = 0;
  std::uint64_t trades = 0;
  std::uint64_t halts_volume = 0;
  std::uint64_t halts_standing = 0;
  std::uint64_t halts_scheduled = 0;
  std::uint64_t rounds = 0;
  std::uint64_t defaults = 0;
  std::uint64_t liquidations_completed = 0;  // filled inside the band
  std::uint64_t liquidations_partial = 0;    // part filled, part kept by the fund
  std::uint64_t liquidations_kept = 0;       // nothing filled, all kept
  std::uint64_t liquidations_empty = 0;      // defaulters' positions netted to zero
  std::uint64_t levies = 0;
  std::uint64_t exits = 0;
  std::uint64_t refreshes_at_call = 0;    // exactly the shortfall, accepted
  std::uint64_t refreshes_one_short = 0;  // one unit short, refused
  std::uint64_t registrations_in_window = 0;
  std::uint64_t replaces = 0;
  std::uint64_t final_settlements = 0;
  std::uint64_t haircuts = 0;       // final settlements whose levy took from survivors' equity
  std::uint64_t claims_lapsed = 0;  // exits refused because the exit period had ended
  // The fund's lowest result after a final settlement (cash less the claims it owes), and the
  // total its survivors could not pay (ShortfallHaircut::uncovered).
  std::int64_t fund_worst_final = std::numeric_limits<std::int64_t>::max();
  std::int64_t uncovered = 0;
  std::uint64_t violations = 0;

  std::uint64_t halts() const { return halts_volume + halts_standing + halts_scheduled; }
  void add(const Counters& o);
};

std::string format_counters(const Counters& c);

// What a Driver checks besides the design's rules.
struct Checks {
  // Rules counted (Driver::ignored_counts()) but not stopping a run: a known defect while its fix
  // is pending.
  std::set<std::string> ignored;
  // An extra property checked after every step (a violation is reported as check "extra" with
  // the returned text), e.g. to shrink a run to the first default.
  std::function<std::optional<std::string>(const market::Exchange&)> extra;
};

// Applies steps to one exchange and checks every rule after each. Deterministic.
class Driver {
 public:
  explicit Driver(const MarketCase& market, Checks checks = {});

  // Applies `step` at its time (earlier times are taken as the current time), then checks.
  // Returns the first violated rule, if any. A step naming an unknown account or order is skipped.
  std::optional<Violation> apply(const Step& step);

  const market::Exchange& exchange() const { return ex_; }
  const MarketCase& market() const { return market_; }
  // The account a register step created and the order a submit or replace step created.
  std::optional<market::AccountId> account_of(std::uint32_t step_id) const;
  std::optional<market::OrderId> order_of(std::uint32_t step_id) const;
  const Counters& counters() const { return counters_; }
  // Ids of the steps whose action the exchange refused.
  const std::vector<std::uint32_t>& refused() const { return refused_; }
  const std::map<std::string, std::uint64_t>& ignored_counts() const { return ignored_counts_; }
  std::int64_t now_ms() const { return ex_.time().value(); }

  // The design's shortfall of an account now: what a refresh must deposit (levy included).
  i128 shortfall(market::AccountId id) const;
  // The largest quantity of `side` at `limit` the account may add within both constraints.
  std::int64_t max_leverage_qty(market::AccountId id, market::Side side, Price limit) const;
  // The reservation price a market order that names none gets now (market_reservation).
  std::optional<Price> market_limit(market::Side side) const;

  // When set, every applied step is also written as a line of C++ (for reproducers).
  void record_code(bool on) { record_ = on; }
  const std::vector<std::string>& code() const { return code_; }

 private:
  struct DefaultShadow {
    market::AccountId account;
    std::size_t batch;
    std::int64_t cash;
    std::int64_t position;
    bool claimed = false;
  };
  // One round's defaulters: the fund's liquidation fills go to the newest unfinished batch first,
  // up to its aggregate; what it does not fill is marked at the adverse edge of its band.
  struct BatchShadow {
    market::Band band;
    std::int64_t aggregate = 0;  // the defaulters' positions summed
    i128 notional = 0;
    std::int64_t filled = 0;
    bool finished = false;
    std::int64_t finished_at = 0;  // ledger ms: its claims lapse an exit period later
    i128 num = 0;
    i128 den = 1;
  };
  struct AccountShadow {
    std::int64_t position = 0;
    bool active = true;
    bool refreshed = true;
  };

  std::optional<Violation> apply_checked(const Step& step);
  std::optional<Violation> apply_action(const Step& step);
  std::optional<Violation> process_events();
  std::optional<Violation> check_state();
  std::optional<Violation> check_final_levy(Price price);
  std::optional<Violation> check_order_outcome(const Step& step, const market::OrderRequest& r,
                                               const Result<market::OrderOutcome>& out,
                                               const market::Account& before,
                                               const market::Band& band,
                                               std::optional<market::OrderBook::Order> replaced);
  i128 claim_of(const DefaultShadow& d) const;
  bool lapsed(const DefaultShadow& d) const;
  i128 outstanding_claims() const;
  std::string step_code(const std::string& call, const Status& outcome,
                        const std::string& result) const;
  Violation violation(std::string check, std::string detail) const;
  bool ignored(const std::string& check) const { return checks_.ignored.count(check) != 0; }

  MarketCase market_;
  Checks checks_;
  std::map<std::string, std::uint64_t> ignored_counts_;
  market::Exchange ex_;
  std::map<std::uint32_t, market::AccountId> accounts_;  // by Step::id
  std::map<std::uint32_t, market::OrderId> orders_;
  Counters counters_;
  std::size_t step_index_ = 0;
  std::vector<std::string> code_;
  std::vector<std::uint32_t> refused_;

  // Shadow of what the events said (the oracle's own bookkeeping).
  std::vector<AccountShadow> shadow_;
  // The last close's defaulters (account, position): the fund takes their positions over at the
  // close + D_res (take_over_due), as the exchange does.
  std::vector<std::pair<std::size_t, std::int64_t>> awaiting_takeover_;
  std::int64_t takeover_at_ = 0;
  void take_over_due(std::int64_t now);
  std::vector<DefaultShadow> defaults_;
  std::vector<BatchShadow> batches_;
  std::optional<market::OrderId> live_liquidation_;
  market::Band band_;
  std::int64_t levy_per_contract_ = 0;
  std::int64_t gross_this_round_ = 0;               // survivors' gross position at their refresh
  std::int64_t gross_prev_ = 0;                     // the same at the previous window close
  std::int64_t gross_at_close_ = 0;                 // survivors' gross at the previous close itself
  std::vector<std::uint32_t> traded_;               // accounts that traded in the current step
  std::vector<market::Account> before_settlement_;  // the accounts the final levy charges
  std::int64_t settlement_margin_ = 0;              // M of the band at the final settlement
  // Whether the book had an order opposite the submit being checked, just before it.
  bool opposite_before_ = false;
  bool record_ = false;
  bool have_prev_close_ = false;  // gross_at_close_ is of a close that happened
};

// ---- generation, shrinking, reproducers
// ----------------------------------------------------------

struct MarketRun {
  std::vector<Step> steps;  // every step applied, up to and including a violating one
  std::optional<Violation> violation;
  Counters counters;
  std::map<std::string, std::uint64_t> ignored_counts;
};

// Generates and runs one market of `max_steps` trading steps (then the final settlement and the
// defaulters' exits), checking after every step. Same (market, seed, max_steps): same run.
MarketRun run_market(const MarketCase& market, std::uint64_t seed, std::size_t max_steps,
                     const Checks& checks = {});

// Replays `steps` on a fresh exchange; the first violation, if any.
std::optional<Violation> replay(const MarketCase& market, std::span<const Step> steps,
                                const Checks& checks = {});

// Delta debugging (ddmin): a smallest list found, by removing chunks then single items, for which
// `fails` still holds. `fails(items)` must hold on entry. Stops early after `max_tests` calls;
// `tests_run` (may be null) receives the number of calls made.
template <class T>
std::vector<T> ddmin(std::vector<T> items, const std::function<bool(const std::vector<T>&)>& fails,
                     std::size_t max_tests = 20'000, std::size_t* tests_run = nullptr) {
  std::size_t n = 2;
  std::size_t tests = 0;
  while (items.size() >= 2 && tests < max_tests) {
    const std::size_t chunk = (items.size() + n - 1) / n;
    bool reduced = false;
    for (std::size_t start = 0; start < items.size() && tests < max_tests; start += chunk) {
      std::vector<T> rest(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(start));
      std::size_t end = std::min(items.size(), start + chunk);
      rest.insert(rest.end(), items.begin() + static_cast<std::ptrdiff_t>(end), items.end());
      ++tests;
      if (fails(rest)) {
        items = std::move(rest);
        n = std::max<std::size_t>(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (reduced) continue;
    if (n >= items.size()) break;
    n = std::min(items.size(), 2 * n);
  }
  if (tests_run != nullptr) *tests_run = tests;
  return items;
}

// Shrinks a violating run to a minimal list of steps that violates the same check.
// `replays` (may be null) receives the number of replays it took. After `max_seconds` it stops
// removing steps and returns the shortest list found so far.
std::vector<Step> shrink(const MarketCase& market, std::vector<Step> steps,
                         const std::string& check, const Checks& checks = {},
                         std::size_t* replays = nullptr, double max_seconds = 1e9);

// The steps as a gtest body against the Exchange API (concrete ids, each outcome in a comment).
std::string reproducer(const MarketCase& market, std::span<const Step> steps, const Checks& checks,
                       const std::string& test_name);

// ---- the stress loop
// -----------------------------------------------------------------------------

struct StressOptions {
  double seconds = 10;
  std::uint64_t seed = 1;
  std::uint64_t max_markets = UINT64_MAX;  // stop after this many markets even if time is left
  std::size_t min_steps = 300;             // steps per market: uniform in [min, max]
  std::size_t max_steps = 4'000;
  bool shrink = true;
  double shrink_seconds = 30;  // per violated rule
  Checks checks;
};

struct Finding {
  Violation violation;
  std::string market;
  std::uint64_t seed = 0;  // of the market (run_market)
  std::size_t original_steps = 0;
  std::vector<Step> minimal;
  std::size_t replays = 0;  // shrinking's cost
  std::string code;         // the reproducer
};

struct StressReport {
  Counters counters;
  std::vector<Finding> findings;  // the first one per check
  std::map<std::string, std::uint64_t> ignored_counts;
  double seconds = 0;
};

// Runs markets (specs in turn, seeds derived from options.seed) until the time or market budget
// is spent. `progress` (may be empty) is called after each market.
StressReport run_stress(const StressOptions& options,
                        const std::function<void(const StressReport&)>& progress = {});

}  // namespace pfex::sim::stress
