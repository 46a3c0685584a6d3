// The private mode's account model on the matching engine (docs/protocol/private.md section 4,
// docs/design.md section 3): the same book, matching, order types, band, circuit breaker, epochs
// and margin-round phases as the transparent exchange, with opaque order tags for owners and no
// inventory (each private transaction proved its own solvency, so every order is admitted). What
// the engine decides goes to the private ledger's public state:
//   a trade       -> PrivateLedger::record_fill on both orders (price, qty), claimed later by the
//                    owners' settles;
//   a close       -> PrivateLedger::close_order (an immediate order's remainder, a FOK kill, a
//                    post-only refusal, an expiry at a halt), released later by a settle;
//   a new epoch   -> PrivateLedger::begin_margin_round with the engine's new band;
//   window closed -> PrivateLedger::close_refresh_window (absentees default, bonds forfeited);
//                    the round then awaits its resolution (resolve_defaults);
//   a resolution  -> the insurance fund takes over the defaulters' aggregate cash and position and
//                    the forfeited bonds, and liquidates the position with a public order at the
//                    adverse band edge (PrivateLedger::add_liquidation_order), through the same
//                    liquidation code as the transparent exchange (market/liquidation.hpp); when
//                    the round's batch is priced, PrivateLedger::record_liquidation_price, from
//                    which the defaulters may exit.
// The engine numbers orders as the ledger does (from 0, in the order of posts and
// cancel-replaces); an order the engine cannot take still gets its id and closes at once.
//
// Deterministic; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "market/liquidation.hpp"
#include "market/matching_engine.hpp"
#include "protocol/defaults_resolution.hpp"
#include "protocol/private/ledger.hpp"

namespace pfex::protocol {

// The market's events in the private mode: the order events name order tags, not accounts.
using PrivateEvent = market::BasicEvent<
    market::BasicOrderAccepted<market::OrderTag>, market::BasicTrade<market::OrderTag>,
    market::BasicOrderClosed<market::OrderTag>, market::BasicOrderReduced<market::OrderTag>,
    market::MarketHalted, market::EpochOpened, market::WindowClosed, market::LiquidationFinished>;

// The owner label of the insurance fund's liquidation orders (their ledger tag is the identity).
inline constexpr market::OrderTag kFundOwner{0};

// The label of a private order in the book and the events: the first 8 bytes (little-endian) of
// its tag's encoding. A cancel-replace's new order keeps the label of the order it replaces (the
// replace shows both orders have one owner anyway).
market::OrderTag order_tag_of(const crypto::Point& tag);

class PrivateBook : public market::MatchingEngine<PrivateBook, market::OrderTag, PrivateEvent> {
 public:
  // The version of encode()'s layout, checked by decode().
  // 3: each batch's defaulters' sums (c_D, v_D) and the claims paid from it, the levy of the
  // round awaiting its resolution, the resolution hold and its deadline (close + D_res); version
  // 2 is refused.
  static constexpr std::uint32_t kVersion = 3;

  // The market of a private genesis (`spec`, `reference`) at ledger time `start`, for `ledger`,
  // which is at its genesis state and must outlive the book.
  static Result<PrivateBook> open(market::ContractSpec spec, Price reference, LedgerTime start,
                                  priv::PrivateLedger& ledger);

  // Processes every deadline due by `now` (breaker, scheduled round, window close), each at its
  // own time, into the engine and the ledger, then ends the exit period of every batch whose
  // period has run out by `now` (PrivateLedger::lapse_exits). Returns fault().
  Status advance(LedgerTime now);

  // A transaction the ledger has just applied (apply_checked gave `applied`): a post or
  // cancel-replace enters the book and matches, a reduce lowers its order keeping its priority, a
  // cancel takes its order off the book. Nothing else touches the book. Returns fault().
  Status on_applied(const priv::PrivateTx& tx, const priv::Applied& applied);

  // Not ok once the engine and the ledger disagreed (an order one holds and the other does not, a
  // fill or close the ledger refuses), or a new epoch's band gave terms the private ledger cannot
  // take (MarketTerms::validate, e.g. after a price drift to k*H >= 2^40): the first such reason.
  // Every input was checked before it reached the book, so the state is no longer one the
  // protocol defines and may be half changed; the book does nothing more (advance and on_applied
  // return the fault), and the replica stops with an error naming the entry
  // (docs/protocol/validator.md, "Faults").
  const Status& fault() const { return fault_; }
  // Records a fault found outside the book (the replica's resolution of a round the book refused).
  void mark_fault(const std::string& what) { diverged(what); }

  // A copy of this book writing to `ledger` (a copy of this book's ledger): the same engine state.
  PrivateBook copy_for(priv::PrivateLedger& ledger) const {
    PrivateBook out(*this);
    out.ledger_ = &ledger;
    return out;
  }

  // The validators' resolution of the round whose refresh window closed in `epoch` (the market's
  // epoch at the close; the defaulters' tokens are on the list of epoch - 1): v_D, c_D and g_S of
  // docs/design.md section 6.3. The fund takes over (c_D, v_D) and the bonds the round's
  // defaulters forfeited, the round's liquidation batch opens and the fund's whole position is
  // offered at the adverse edge of the band (exempt from the circuit breaker); g_S is the base of
  // the next round's levy. kFailedPrecondition unless that round awaits its resolution (every
  // close awaits one, once); kInvalidArgument for a position or cash the market cannot hold, or a
  // round without defaulters whose resolution is not (0, 0). On error nothing changes.
  Status resolve_defaults(std::uint64_t epoch, const DefaultsResolution& resolution);
  // The epoch whose close awaits resolve_defaults, if any.
  std::optional<std::uint32_t> awaiting_resolution() const {
    if (!pending_) return std::nullopt;
    return pending_->epoch;
  }
  // TEST-ONLY stand-in for the validators' threshold decryption: when set, every round's
  // resolution deadline (close + D_res) asks it for the round's resolution and applies it, as
  // shares all in by the deadline would (the flow driver computes it from the defaulting wallets'
  // openings). Not part of the state; a real replica never sets it.
  using ResolutionStandIn = std::function<std::optional<DefaultsResolution>(std::uint32_t epoch)>;
  void set_resolution_stand_in(ResolutionStandIn stand_in) { stand_in_ = std::move(stand_in); }

  // The insurance fund as the public sees it: its cash (fees of every fill, the defaulters' cash
  // and bonds, its liquidation trades, minus the exits it paid) and its position.
  const market::FundHoldings& fund() const { return fund_; }
  // Every round's liquidation batch with defaulters, in order.
  std::span<const market::LiquidationBatch> liquidations() const { return batches_; }
  // g_S of the last resolution (the base of the next levy; 0 before any).
  std::uint64_t gross_prev() const { return gross_prev_; }
  // What the fund owes each batch's defaulters: their sums at the takeover (the resolution's c_D
  // and v_D) and the exit claims paid from the batch so far; parallel to liquidations().
  struct BatchOwed {
    std::int64_t cash = 0;
    std::int64_t position = 0;
    std::int64_t paid = 0;
  };
  std::span<const BatchOwed> owed() const { return owed_; }
  // The fund's equity at `price` net of what it owes the defaulters (market::batch_liability per
  // batch, as the transparent exchange counts it): the levy of the next margin round is
  // market::shortfall_levy of it at the new reference price.
  i128 fund_equity(Price price) const;
  // The fund at the last halt, as the round's close passes it to the ledger (RoundClose): its
  // position, and its cash inside the market (cash - bonds taken + exits paid - fees tokens paid).
  std::int64_t halt_fund_position() const { return halt_fund_position_; }
  std::int64_t halt_fund_cash() const { return halt_fund_cash_; }

  // The engine's whole state in the canonical codec: kVersion, the engine's time, then
  // encode_state().
  void encode(Writer& w) const;
  Bytes encode() const;
  // The state without the time (the state hash's part; every entry moves the time): phase,
  // epoch, window close, next scheduled round, band, the resting orders in priority order, the
  // the fund (its liquidation order's id, cash, position, the bonds it took, g_S of the last
  // resolution, its position and cash at the last halt, the round awaiting its resolution with
  // its levy, the resolution hold and its deadline, and the liquidation batches, each with its
  // BatchOwed), the resting
  // orders in priority order, the order and trade counters, the last trade price, the standing
  // quote, the breaker's and the reference price's recent trades.
  void encode_state(Writer& w) const;
  // The inverse of encode() for a replica at ledger time `now`, strictly (kCorruption for an
  // unknown version, damage, a time after `now`, an order the ledger does not hold open with that
  // open quantity, resting orders that are not the ledger's open ones, a band, epoch or phase
  // that is not the ledger's).
  static Result<PrivateBook> decode(market::ContractSpec spec, LedgerTime now,
                                    priv::PrivateLedger& ledger, ByteSpan bytes);

 private:
  friend class market::MatchingEngine<PrivateBook, market::OrderTag, PrivateEvent>;
  PrivateBook(market::ContractSpec spec, market::Band band, LedgerTime start,
              priv::PrivateLedger& ledger);

  void place(const priv::OrderFields& order, std::uint64_t id,
             std::optional<std::uint64_t> replaced);
  void cancel_resting(std::uint64_t id);
  void reduce_resting(std::uint64_t id, std::int64_t by);
  std::optional<market::OrderTag> resting_owner(std::uint64_t id);
  void apply_order(const priv::PrivateTx& tx, const priv::Applied& applied);
  // Offers the fund's whole position at the adverse edge, unless it is flat or its order rests.
  void post_fund_order();
  void finish_batch(std::uint32_t index);
  // Ends the exit period of every batch whose period has run out at time_.
  void lapse_exits();
  // Records the first fault (returns false, for `return diverged(...)`).
  bool diverged(const std::string& what);
  bool must(const Status& s, const char* what);

  // The engine's hooks (matching_engine.hpp).
  Status admit(market::OrderTag, market::Side, Price, Qty, const Order*) { return Status::ok(); }
  void on_release(market::OrderTag, market::Side, Price, Qty) {}  // a later settle releases
  void on_fill(const market::Fill<market::OrderTag>& fill);
  void on_close(market::OrderId id, market::OrderTag owner, market::CloseReason reason);
  void on_halt(market::HaltReason);
  void on_epoch_opened();
  void on_window_closed();
  // close + D_res: the round is resolved now if its t shares are in (or by the stand-in); else
  // halts stay held until the entry carrying the t-th share (resolve_defaults). A round the ledger
  // does not resolve (no generated key at its close) holds nothing from here on.
  void on_resolution_deadline();

  priv::PrivateLedger* ledger_;
  // A round closed and awaiting its resolution: its epoch, whether anybody defaulted, and its
  // levy per contract (the fund is credited levy * g_S at the resolution).
  struct Pending {
    std::uint32_t epoch = 0;
    bool defaulters = false;
    std::int64_t levy = 0;
  };
  std::optional<Pending> pending_;
  market::FundHoldings fund_;
  std::int64_t bonds_taken_ = 0;  // forfeited bonds already in the fund's cash
  std::uint64_t gross_prev_ = 0;
  // The fund at the last halt: its position, and its cash inside the market net of the fees
  // tokens paid (RoundClose).
  std::int64_t halt_fund_position_ = 0;
  std::int64_t halt_fund_cash_ = 0;
  std::vector<market::LiquidationBatch> batches_;
  std::vector<BatchOwed> owed_;  // parallel to batches_
  ResolutionStandIn stand_in_;
  Status fault_;
};

}  // namespace pfex::protocol
