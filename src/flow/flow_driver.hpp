// One order flow, two modes: the transparent exchange's actions (market/action.hpp) run through
// market::Exchange as the reference, and through a private market (docs/protocol/private.md),
// where each account is a priv::PrivateWallet whose transactions are appended, as envelope bytes,
// to a protocol::LedgerReplica in private mode. Both runs end in a FlowOutcome: what the public
// sees (the book and every order's fills) and what each trader holds (cash and position; in the
// private run opened from the wallet's token). For the same flow the two must be equal
// (docs/protocol/private.md, "Equivalence with the transparent exchange").
//
// The flow names orders by the ids the transparent exchange gives them (1, 2, ... in the order
// orders are placed); the driver maps them to the private ledger's order ids.
//
// Not thread-safe. Deterministic in everything but the wallets' randomness (blindings, serials),
// which changes the bytes of the log, never what the replica decides.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/status.hpp"
#include "market/action.hpp"
#include "market/contract.hpp"
#include "protocol/defaults_resolution.hpp"
#include "protocol/ledger_entry.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/private/wallet.hpp"

namespace pfex::flow {

// One action of the flow and the ledger time it is applied at (never earlier than the one before).
struct TimedAction {
  LedgerTime at;
  market::Action action;
};

// A trader's holdings at the end of a flow. A defaulter's are what it held when it defaulted
// (the transparent Defaulted event; the private token with its unclaimed fills, what its exit
// claims from), and once it exited, the claim the fund paid it.
struct Holding {
  market::AccountId account;
  Cash cash;
  std::int64_t position = 0;  // v = v+ - v-
  bool defaulted = false;
  std::optional<Cash> exit_claim;
  friend bool operator==(const Holding&, const Holding&) = default;
};

// A resting order as the public book shows it.
struct BookOrder {
  market::OrderId id;
  market::Side side = market::Side::kBuy;
  Price price;
  Qty open;
  friend bool operator==(const BookOrder&, const BookOrder&) = default;
};

// One fill of one order (a trade is a fill of its maker and one of its taker).
struct OrderFill {
  market::OrderId order;
  Price price;
  Qty qty;
  friend bool operator==(const OrderFill&, const OrderFill&) = default;
};

struct FlowOutcome {
  std::vector<Holding> holdings;  // every trader's account, by id (not the fund)
  // Bids best first, then asks best first; oldest first within a price level.
  std::vector<BookOrder> book;
  // Every order's fills in order of order id, then in the order they happened.
  std::vector<OrderFill> fills;
  std::uint32_t epoch = 0;
  Price band_low, band_high;
  // The insurance fund: its cash and position (fees, defaulters taken over, liquidation trades,
  // exits paid).
  Cash fund_cash;
  std::int64_t fund_position = 0;
  friend bool operator==(const FlowOutcome&, const FlowOutcome&) = default;
};

// Human-readable, for test failures and the demo.
std::string describe(const FlowOutcome& outcome);

// The reference: the flow through a market::Exchange opened at ledger time 0. Each action's
// result (or its refusal) goes to `results` when given.
Result<FlowOutcome> run_transparent(const market::ContractSpec& contract, Price reference,
                                    std::span<const TimedAction> flow,
                                    std::vector<Status>* results = nullptr);
// The outcome of a transparent exchange as it is now, with every event since it opened.
FlowOutcome transparent_outcome(const market::Exchange& exchange,
                                std::span<const market::Event> events);

// Where a driver's entries go. By default a replica inside the driver applies each one as the
// next log entry; `pfex demo --ledger` sends them to a gateway process and follows the log.
class EntryLink {
 public:
  EntryLink() = default;
  EntryLink(const EntryLink&) = delete;
  EntryLink& operator=(const EntryLink&) = delete;
  virtual ~EntryLink() = default;
  // Appends one entry at ledger time `now`; its outcome once replica() applied it.
  virtual Result<protocol::EntryOutcome> append(const Bytes& entry, LedgerTime now) = 0;
  virtual const protocol::LedgerReplica& replica() const = 0;
};

struct FlowDriverOptions {
  // Windows of 2^log_window tokens (the genesis's; 10 in production, small in tests: proving
  // and verifying cost grows with the window).
  std::uint8_t log_window = 3;
  // The generators (derived when null; about 50 ms).
  std::shared_ptr<const priv::PrivateGens> gens;
  // Where the entries go (must outlive the driver); null: the driver's own replica.
  EntryLink* link = nullptr;
  // The market's issuer (signs the mints); a fresh key when null.
  std::shared_ptr<const crypto::Ed25519SigningKey> issuer;
  // The validators' threshold key; a fixed test key (x*G, x = 0x5eed) when absent.
  std::optional<crypto::Point> validators_key;
};

// The genesis entry of the private market a driver with `options` opens (its issuer must be set).
Bytes genesis_entry(const market::ContractSpec& contract, Price reference,
                    const FlowDriverOptions& options);

// The private run of a flow.
class FlowDriver {
 public:
  // A private market on `contract` at `reference`, opened by a genesis entry at ledger time 0 and
  // signed by a fresh issuer. The validators' key is a fixed test key: the driver decrypts
  // nothing. With its own replica, the driver hands the book a TEST-ONLY stand-in for the
  // validators' threshold decryption: at each window's close it resolves the round from the
  // defaulting wallets' openings (their tokens and unclaimed fills) and the survivors' gross
  // positions at their refreshes, so the fund liquidates at the close as in the transparent
  // exchange.
  static Result<FlowDriver> open(const market::ContractSpec& contract, Price reference,
                                 FlowDriverOptions options = {});
  FlowDriver(FlowDriver&&) = default;
  FlowDriver& operator=(FlowDriver&&) = default;
  ~FlowDriver();

  // Applies one transparent action as its trader's wallet (or the issuer) would, at ledger time
  // `now`: register -> register; deposit -> the issuer's mint, then deposit; withdraw; submit ->
  // post (a market order with the action's reservation price, or the transparent exchange's
  // market_reservation() when it names none); replace -> cancel-replace; reduce -> reduce;
  // cancel; exit -> exit (the claim is the result's). A wallet with more unsettled orders than
  // one spend carries settles first. The result speaks the transparent ids (account, order). A
  // refusal is the wallet's (it would break solvency, the order is not its own) or the replica's
  // rejection of the entry. When `now` is past the ledger's time, the issuer's Advance to `now`
  // comes first, so that the wallet builds in the epoch and phase the transparent exchange acts in.
  Result<market::ActionResult> apply(LedgerTime now, const market::Action& action);

  // Every wallet claims its fills and releases its closed orders (settle transactions), so its
  // token shows what the transparent account shows. A defaulter's token is spendable only by
  // exit: it is left as it is.
  Status settle_all(LedgerTime now);

  // The public book and fills from the replica's ledger, the holdings opened from the wallets
  // (after settle_all they equal the transparent accounts').
  FlowOutcome outcome() const;

  const protocol::LedgerReplica& replica() const { return link_ ? link_->replica() : *replica_; }
  // Every entry appended so far, genesis first.
  std::span<const protocol::LedgerEntry> log() const { return log_; }
  // The wallet of a trader's account (null for an unknown account).
  const priv::PrivateWallet* wallet(market::AccountId account) const;
  // Entries the replica rejected (a wallet's transaction that no longer held at its turn).
  std::uint64_t rejected_entries() const { return replica().rejected(); }
  // Their reasons, in log order.
  const std::vector<std::string>& rejections() const { return rejections_; }
  // Spends the driver added to settle (beyond the flow's own transactions).
  std::uint64_t settles() const { return settles_; }

 private:
  struct Trader;
  FlowDriver() = default;

  // Appends one private transaction; the replica's outcome, or its rejection as an error.
  Result<protocol::EntryOutcome> append(LedgerTime now, const priv::PrivateTx& tx);
  // Appends entry bytes (to the link, or the driver's replica) and keeps them in the log.
  Result<protocol::EntryOutcome> append_entry(LedgerTime now, Bytes bytes);
  // Appends a wallet's transaction and adopts its effect.
  template <class Tx>
  Result<priv::Applied> submit(LedgerTime now, Trader& t, Result<Tx> built);
  Status mint(LedgerTime now, Trader& t, std::int64_t amount);
  // The issuer's signed Advance to `now`.
  Status advance(LedgerTime now);
  // Settles until the wallet's unsettled orders fit in one spend (at most `room` entries).
  Status settle_down_to(LedgerTime now, Trader& t, std::size_t room);
  std::size_t unsettled(const Trader& t) const;
  Result<Trader*> trader(market::AccountId account);
  Result<std::uint64_t> private_order(market::OrderId order) const;
  // The ledger's state of public `order` and its private id, or not_found when the order is
  // unknown or no longer open (what a reduce and a cancel check before they prove).
  struct OpenOrder {
    std::uint64_t id;
    const priv::PrivateOrder* state;
  };
  Result<OpenOrder> open_order(market::OrderId order) const;
  market::OrderId public_order(std::uint64_t private_id) const;
  Result<market::ActionResult> place(LedgerTime now, Trader& t, const market::OrderRequest& r,
                                     std::optional<market::OrderId> replaced);
  market::OrderOutcome order_outcome(std::uint64_t private_id) const;
  // A defaulter's cash and position: its token and every fill not yet claimed (what its exit
  // claims from).
  std::pair<std::int64_t, std::int64_t> defaulter_holding(const Trader& t) const;
  // The stand-in resolution of the round closed at `epoch` (see open()).
  protocol::DefaultsResolution stand_in_resolution(std::uint32_t epoch) const;
  // The fund's orders the ledger numbered since the last look, in the transparent order of ids.
  void adopt_fund_orders();
  // Points the replica's stand-in at this driver (again: a driver may have moved since).
  void install_stand_in();
  const priv::PrivateLedger& ledger() const { return *replica().private_ledger(); }

  market::ContractSpec contract_;
  std::shared_ptr<const priv::PrivateGens> gens_;
  std::unique_ptr<protocol::LedgerReplica> replica_;
  std::shared_ptr<const crypto::Ed25519SigningKey> issuer_;
  EntryLink* link_ = nullptr;
  std::uint64_t issuer_sequence_ = 0;
  std::vector<protocol::LedgerEntry> log_;
  std::vector<std::unique_ptr<Trader>> traders_;      // [i] is account i + 1
  std::vector<std::uint64_t> placed_;                 // private id of transparent order i + 1
  std::map<std::uint64_t, std::uint64_t> public_id_;  // private id -> transparent id
  std::uint64_t settles_ = 0;
  std::vector<std::string> rejections_;
  std::uint64_t orders_seen_ = 0;                 // ledger orders adopt_fund_orders has seen
  std::map<std::uint64_t, std::uint64_t> gross_;  // epoch -> survivors' gross at refreshes
  std::map<std::uint32_t, std::int64_t> claims_;  // account -> exit claim paid
  // account -> what its exit claimed from (defaulter_holding() before the exit spent the token)
  std::map<std::uint32_t, std::pair<std::int64_t, std::int64_t>> exit_basis_;
  // account -> what is left of its claim in its cash account for the flow's withdrawals
  std::map<std::uint32_t, std::int64_t> exited_cash_;
};

}  // namespace pfex::flow
