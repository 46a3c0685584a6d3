// A replica of the exchange's state, kept by every validator, gateway and trader node: replays log
// entries in order, checks and applies each one to the transparent exchange, and keeps a running
// hash that replicas compare. The acceptance rules and the chain hash are specified in
// docs/protocol/validator.md.
//
// A pipeline of explicit stages (validator_stages.hpp): decode -> deterministic checks (market id,
// known signer, sequence, the action's account is the signer's) -> signatures and proofs, batched
// across the entries given together -> apply in log order (market::apply_action at ledger time).
// A rejected entry changes nothing but the ledger clock, the chain hash and the counters, and
// every replica rejects it identically: no check depends on anything but the log.
//
// Deterministic and single-threaded in its state; apply_batch verifies signatures on several
// threads (signature checks depend only on the entry), in a private market the proofs of the
// batch's private transactions as one block (validator_stages.hpp, private_block_stage), and then
// applies in log order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/hash.hpp"
#include "core/status.hpp"
#include "market/action.hpp"
#include "market/exchange.hpp"
#include "protocol/ledger_entry.hpp"
#include "protocol/transaction.hpp"
#include "protocol/validator_stages.hpp"

namespace pfex::protocol {

// Every kStateCheckpointEntries entries the full exchange state hash is folded into the chain, so
// replicas also detect a divergence of state that no outcome showed. A protocol constant: it
// changes the chain.
inline constexpr std::uint64_t kStateCheckpointEntries = 4096;

class LedgerReplica {
 public:
  // A validator at the start of a log (no market until a genesis entry opens one). A private
  // genesis derives the private generators (about 50 ms) unless `gens` gives them.
  LedgerReplica() = default;
  explicit LedgerReplica(std::shared_ptr<const priv::PrivateGens> gens) {
    state_.gens = std::move(gens);
  }
  LedgerReplica(const LedgerReplica&) = delete;
  LedgerReplica& operator=(const LedgerReplica&) = delete;
  LedgerReplica(LedgerReplica&&) = default;
  LedgerReplica& operator=(LedgerReplica&&) = default;

  // Applies the next entry. `entry.sequence` must be greater than every one applied before (an
  // entry at or below next_sequence()-1 is a programming error of the caller and is an error
  // here, not a rejection). A private market whose engine and ledger disagree, or whose new
  // epoch's band the private terms cannot take (PrivateBook::fault), makes it an error naming the
  // entry, and the replica stops: every later apply returns the same error, and snapshot() must
  // not be taken (the entry's effect is half applied; the last snapshot before it stands).
  Result<EntryOutcome> apply(const LedgerEntry& entry);
  // Same as applying each entry in order (the same outcomes, chain and state), with signature
  // checks and a private block's proof terms on up to `threads` threads.
  Result<std::vector<EntryOutcome>> apply_batch(std::span<const LedgerEntry> entries,
                                                unsigned threads = 1);

  // Where to continue reading the log.
  std::uint64_t next_sequence() const { return last_sequence_ + 1; }
  std::uint64_t entries() const { return entries_; }
  std::uint64_t accepted() const { return accepted_; }
  std::uint64_t rejected() const { return rejected_; }
  LedgerTime ledger_time() const { return clock_.now(); }
  // The running hash over every entry and its outcome (docs/protocol/validator.md).
  const Digest32& chain() const { return chain_; }
  // The market's full state hash (zero before genesis): the exchange's, or in a private market
  // private_state_hash (the private ledger's, the book's and, when the genesis starts one, the key
  // generation's). Costs a full encoding of the state.
  Digest32 state_hash() const;

  // The open market's mode (none before genesis).
  std::optional<Mode> mode() const { return state_.context().mode; }
  // What decoding a private transaction of this log needs (empty before genesis).
  MarketContext context() const { return state_.context(); }
  // A transparent market's exchange (null before genesis and in a private market).
  const market::Exchange* exchange() const { return state_.exchange ? &*state_.exchange : nullptr; }
  // A private market's ledger (null before genesis and in a transparent market).
  const priv::PrivateLedger* private_ledger() const {
    return state_.private_market ? state_.private_market->ledger.get() : nullptr;
  }
  // A private market's key generation (null when its genesis started none).
  const priv::DkgSession* key_generation() const {
    return state_.private_market && state_.private_market->dkg ? &*state_.private_market->dkg
                                                               : nullptr;
  }
  const std::optional<MarketId>& market_id() const { return state_.market_id; }
  std::optional<market::AccountId> account_of(const PublicKey& key) const;
  // Highest sequence number accepted from `key` (0 if none).
  std::uint64_t last_sequence_of(const PublicKey& key) const;

  // Called with the exchange's events after each accepted entry (then they are cleared).
  using EventSink = std::function<void(const EntryOutcome&, std::span<const market::Event>)>;
  void set_event_sink(EventSink sink) { sink_ = std::move(sink); }
  // A private market's events (order events with order tags for owners: what an observer of the
  // log sees), called at the same point after every entry, then cleared.
  using PrivateEventSink = std::function<void(const EntryOutcome&, std::span<const PrivateEvent>)>;
  void set_private_event_sink(PrivateEventSink sink) { private_sink_ = std::move(sink); }
  // A private market's matching engine (null before genesis and in a transparent market).
  const PrivateBook* private_book() const {
    return state_.private_market ? state_.private_market->book.get() : nullptr;
  }

  // TEST-ONLY: hands a private market's book the stand-in for the validators' threshold
  // decryption (PrivateBook::set_resolution_stand_in; the flow driver's). No effect before a
  // private genesis.
  void set_resolution_stand_in(PrivateBook::ResolutionStandIn stand_in) {
    if (state_.private_market)
      state_.private_market->book->set_resolution_stand_in(std::move(stand_in));
  }
  // The whole validator state (exchange or private ledger and engine, registry, sequences, log
  // position, clock, chain) in the canonical codec with a trailing BLAKE2b checksum; restore()
  // rejects damaged bytes. A private market's restore uses `gens` (derived when null).
  Bytes snapshot() const;
  static Result<LedgerReplica> restore(ByteSpan bytes,
                                       std::shared_ptr<const priv::PrivateGens> gens = nullptr);

 private:
  void fold_into_chain(const LedgerEntry& entry, const EntryOutcome& outcome);

  LedgerClock clock_;
  std::uint64_t last_sequence_ = 0;
  std::uint64_t entries_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t rejected_ = 0;
  Digest32 chain_{};
  ValidatorState state_;
  // Not ok once a private market's book faulted (PrivateBook::fault): every apply returns it.
  Status stopped_;
  // A private market's block verifier: keeps the encodings of the tokens it has seen.
  priv::BlockVerifier verifier_;
  EventSink sink_;
  PrivateEventSink private_sink_;
};

}  // namespace pfex::protocol
