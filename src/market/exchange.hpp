// The transparent futures exchange of docs/design.md section 3: public accounts, one order book,
// price-time matching, the two solvency constraints on every action, price bands with a circuit
// breaker, margin rounds with a refresh window, defaults, liquidation by the insurance fund, and
// shortfall levies. It is the reference ("ideal functionality") the private protocol must match.
//
// It is the transparent account model of a MatchingEngine (matching_engine.hpp): the engine keeps
// the book, band, breaker, epochs and events; this class keeps the accounts, their solvency, the
// fees to the fund, defaults, liquidation batches and levies, and answers the engine's hooks.
//
// Every action takes the ledger time of its entry. Time only moves forward; deadlines that fall
// before `now` (circuit breaker on a standing edge quote, scheduled settlement, refresh-window
// close) are processed first, at their own times, then the action is validated and applied.
// A rejected action returns an error and changes nothing but the clock and what those deadlines
// did. Results leave the engine as events (events()), never as output.
//
// Deterministic: no clocks, no randomness, no unordered iteration; the same actions give the same
// events and the same state_hash() on every machine.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/hash.hpp"
#include "core/status.hpp"
#include "market/account.hpp"
#include "market/band.hpp"
#include "market/contract.hpp"
#include "market/events.hpp"
#include "market/liquidation.hpp"
#include "market/matching_engine.hpp"
#include "market/order_book.hpp"
#include "market/types.hpp"

namespace pfex::market {

// The cash ledger's total supply is capped (docs/design.md section 5), so the money inside the
// market (deposits and bonds minus withdrawals) never exceeds it; every cash value and every sum
// the private mode decrypts stays bounded.
inline constexpr std::int64_t kMaxCashSupply = std::int64_t{1} << 46;

class Exchange : public MatchingEngine<Exchange, AccountId, Event> {
 public:
  // Opens a market at `reference` (the first epoch's P) at ledger time `start`.
  static Result<Exchange> open(ContractSpec spec, Price reference, LedgerTime start);

  // ---- actions (one ledger entry each) ----
  // A new account with the spec's bond posted (paid from outside, like a deposit).
  Result<AccountId> register_account(LedgerTime now);
  // Refused from an account that has not refreshed in the open margin round: its deposit goes
  // with the refresh (refresh's `deposit`), as in the private mode.
  Status deposit(LedgerTime now, AccountId account, Cash amount);
  Status withdraw(LedgerTime now, AccountId account, Cash amount);
  Result<OrderOutcome> submit(LedgerTime now, AccountId account, const OrderRequest& request);
  Status cancel(LedgerTime now, AccountId account, OrderId order);
  // Lowers a resting order by `by` contracts (1 to its open quantity): it keeps its id and time
  // priority, and the difference is released (event OrderReduced); by all of it, the order
  // closes as cancelled. The private mode's reduce (docs/market.md, "Order types").
  Result<OrderOutcome> reduce(LedgerTime now, AccountId account, OrderId order, Qty by);
  // Cancels `order` and submits `request` as one action: the old order leaves the book and its
  // remainder is released before the new order is checked (solvency, fill-or-kill, post-only, a
  // market order's limit) and matched. The new order always has a new id and loses time
  // priority, whatever its price and quantity (to keep an order's place, reduce it).
  Result<OrderOutcome> replace(LedgerTime now, AccountId account, OrderId order,
                               const OrderRequest& request);
  // In a refresh window: deposit (possibly 0), pay any shortfall levy, and pass the new band.
  Status refresh(LedgerTime now, AccountId account, Cash deposit);
  // A defaulter claims what its cash and position were worth at the liquidation price, once its
  // liquidation has finished and before the exit period from then ends (ledger time
  // finished + exit_period_ms, exclusive); after that the claim lapses and the fund keeps it.
  Result<Cash> exit(LedgerTime now, AccountId account);
  // The issuer's settlement price at expiry: every position closes at `price`; the market closes.
  // Refused from a halt until its defaulters' liquidation has started (the refresh window, then
  // until the resolution deadline close + D_res: no halt of any kind in between).
  // Before positions close, a last levy on the survivors covers any deficit of the fund.
  Status settle_final(LedgerTime now, Price price);
  // Only moves the clock (processing deadlines).
  void advance(LedgerTime now);

  // ---- queries (the market's own: MatchingEngine's spec, phase, band, book, events, ...) ----
  // The shortfall levy per contract each survivor pays at its refresh in the open margin round
  // (docs/design.md section 6); 0 outside a refresh window.
  Cash levy_per_contract() const { return Cash(levy_per_contract_); }
  std::size_t account_count() const { return accounts_.size(); }
  Result<Account> account(AccountId id) const;
  const Account& fund() const { return accounts_[0]; }
  // Money that entered (deposits and bonds) minus money that left (withdrawals).
  Cash external_balance() const { return Cash(external_in_ - external_out_); }

  // BLAKE2b-256 of snapshot(): the whole state, not the event list.
  Digest32 state_hash() const;

  // The whole state (contract included) in the canonical codec, versioned; restore() gives back
  // an exchange with the same state_hash() that behaves identically from there on. restore()
  // rejects damaged or inconsistent bytes with an error. Events are not part of the state.
  Bytes snapshot() const;
  static Result<Exchange> restore(ByteSpan bytes);

 private:
  friend class MatchingEngine<Exchange, AccountId, Event>;

  struct DefaultRecord {
    AccountId account;
    std::uint32_t batch;
    Cash cash;
    std::int64_t position;
    bool claimed;
  };
  Exchange(ContractSpec spec, Band band, LedgerTime start);
  void encode_state(Writer& w) const;
  Status decode_state(Reader& r);

  // ---- the engine's hooks (matching_engine.hpp) ----
  Status admit(AccountId owner, Side side, Price limit, Qty qty, const OrderBook::Order* replaced);
  void on_release(AccountId owner, Side side, Price limit, Qty qty) {
    release(accounts_[owner.value], side, limit, qty);
  }
  void on_fill(const Fill<AccountId>& fill);
  void on_close(OrderId, AccountId, CloseReason) {}
  void on_halt(HaltReason reason);
  void on_epoch_opened();
  void on_window_closed();
  void on_resolution_deadline();

  Result<Account*> trader(AccountId id);
  Status check_can_trade(const Account& a) const;
  Status check_supply(std::int64_t amount) const;
  Result<OrderOutcome> place(AccountId owner, const OrderRequest& request,
                             std::optional<OrderId> replaced);
  static void release(Account& a, Side side, Price limit, Qty qty);
  Status try_refresh(AccountId id, Cash deposit);
  void start_liquidation();
  void finish_liquidation(std::uint32_t batch);
  i128 claim_value(const DefaultRecord& rec) const;
  bool claim_lapsed(const DefaultRecord& rec) const;
  i128 fund_equity(Price price) const;
  void charge_final_levy(Price price);

  std::vector<Account> accounts_;       // [0] is the insurance fund
  std::int64_t levy_per_contract_ = 0;  // shortfall charge of the current round
  i128 gross_round_ = 0;                // sum of |v| over this round's refreshes so far (g_S)
  i128 gross_prev_ = 0;  // g_S at the previous window's close: the levy's base (0: none)
  std::vector<LiquidationBatch> batches_;
  std::vector<DefaultRecord> defaults_;
  // The last close's defaulters, in account order: their accounts are frozen (defaulted) from the
  // close, and the fund takes them over at the resolution deadline, as in the private mode.
  std::vector<AccountId> awaiting_takeover_;
  std::int64_t external_in_ = 0;
  std::int64_t external_out_ = 0;
};

}  // namespace pfex::market
