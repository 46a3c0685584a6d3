// The validator's pipeline, stage by stage (docs/protocol/validator.md, "Pipeline"):
//
//   1. decode   bytes -> Entry, strictly (decode_stage; transaction.hpp has the decoders)
//   2. checks   the cheap deterministic checks of each entry against the state the entries
//               before it left (EntryRules<T>::check, run in log order by the apply stage)
//   3. proofs   every entry's signature and proofs, which depend only on the entry: signatures on
//               several threads, proof terms appended to one VerificationTerms per block (one MSM,
//               one bisection naming the bad entries) (proof_stage); a private market's
//               transactions, whose proofs depend on the state, in one block verification of the
//               statements a speculative run of the batch on a copy of the state recorded at
//               their positions (private_block_stage)
//   4. apply    in log order: checks, then the entry's proof verdict (a private transaction's
//               from its block while the run is the speculative one, else verified alone), then
//               EntryRules<T>::apply
//
// An entry kind plugs in by adding its alternative to Entry with its decoder (transaction.hpp) and
// one EntryRules specialisation: authentic() (its signature), append_proof_terms() (its proofs'
// weighted terms), check() and apply(). The stages dispatch with std::visit: no virtual call per
// entry. Everything here is deterministic; the only randomness is the batch verifier's weights,
// which change how fast a bad proof is found, never whether it is.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "crypto/verification_terms.hpp"
#include "market/action.hpp"
#include "market/exchange.hpp"
#include "protocol/defaults_resolution.hpp"
#include "protocol/ledger_entry.hpp"
#include "protocol/private/block_verify.hpp"
#include "protocol/private/ledger.hpp"
#include "protocol/private_market.hpp"
#include "protocol/transaction.hpp"

namespace pfex::protocol {

// What the validator did with one entry.
struct EntryOutcome {
  std::uint64_t sequence = 0;
  LedgerTime time;  // ledger time of the entry
  bool accepted = false;
  Status reason;  // why it was rejected (ok when accepted)
  market::ActionResult result;
  std::optional<priv::Applied> private_result;  // an accepted private transaction's effect
  // How an accepted private transaction's proofs were checked: in a block's MSM (its batch's or,
  // at its position, its own; true) or by PrivateLedger::check (false). Not part of the
  // chain: every replica accepts the same entries however it batched them.
  bool proofs_in_block = false;
};

// A private market's public state: the ledger of tokens, serials, orders and cash accounts
// (protocol/private/ledger.hpp), the generators it is checked with, and the matching engine
// (private_market.hpp) that fills and closes its orders and runs its margin rounds.
struct PrivateMarket {
  std::shared_ptr<const priv::PrivateGens> gens;
  std::unique_ptr<priv::PrivateLedger> ledger;  // never null
  std::unique_ptr<PrivateBook> book;            // never null; points at *ledger
  // The validators' key generation, when the genesis starts one: advanced to every entry's
  // ledger time, fed the DkgMessage entries; its key and transcript hash are part of the state.
  std::optional<priv::DkgSession> dkg;
};

// The private market's state hash: BLAKE2b-256("pfex/v1/private/market", the ledger's state
// hash, the book's encode_state(), and the key generation's state hash when the genesis runs one).
// The engine's time is not in it (every entry moves it).
Digest32 private_state_hash(const PrivateMarket& market);

// Ledger time reaches a private market's engine (deadlines, margin rounds) on every entry, before
// its checks: an entry is judged in the epoch and phase of its own time, as in the transparent
// exchange, where every action advances the clock first. Deadlines the time passes are processed
// at their own times whatever the entry is, so the outcome does not depend on which entry
// carried the time.
// Returns the book's fault (PrivateBook::fault): the replica stops.
Status advance_private(PrivateMarket& market, LedgerTime now);

// What the entry rules read and change: the market and who may sign for what. The log position,
// the clock, the chain and the counters belong to the LedgerReplica.
struct ValidatorState {
  struct Signer {
    std::optional<market::AccountId> account;
    std::uint64_t last_sequence = 0;
  };

  const Signer* signer(const PublicKey& key) const {
    auto it = signers.find(key);
    return it == signers.end() ? nullptr : &it->second;
  }

  // A market is open (a genesis was accepted), in either mode.
  bool open() const { return exchange.has_value() || private_market.has_value(); }
  // What decoding needs of the open market (transaction.hpp).
  MarketContext context() const;

  Bytes genesis;  // the genesis entry's bytes (empty before genesis)
  std::optional<MarketId> market_id;
  std::optional<PublicKey> issuer;
  std::optional<market::Exchange> exchange;  // a transparent market
  std::map<PublicKey, Signer> signers;       // a transparent market's signers
  std::optional<PrivateMarket> private_market;
  // The generators a private genesis uses (derived once, about 50 ms; shared by replicas that
  // are given the same); created at the private genesis when null.
  std::shared_ptr<const priv::PrivateGens> gens;
};

// The rules of one entry kind. Specialised for every alternative of Entry; each has:
//   static bool authentic(ByteSpan bytes, const T&)          stage 3: its signature (thread-safe,
//                                                            depends on the entry only)
//   static void append_proof_terms(const T&, VerificationTerms&)  stage 3: its proofs' terms,
//                                                            each under a fresh random weight
//   static Status check(const T&, const ValidatorState&)     stage 2
//   static Status apply(const T&, ByteSpan bytes, LedgerTime, ValidatorState&, EntryOutcome&)
//                                                            stage 4, after check() and proofs
//   static constexpr std::string_view kProofFailure          the rejection when stage 3 failed
template <typename T>
struct EntryRules;

template <>
struct EntryRules<Genesis> {
  static constexpr std::string_view kProofFailure = "bad genesis";  // never: nothing to verify
  static bool authentic(ByteSpan, const Genesis&) { return true; }
  static void append_proof_terms(const Genesis&, crypto::VerificationTerms&) {}
  static Status check(const Genesis& genesis, const ValidatorState& state);
  static Status apply(const Genesis& genesis, ByteSpan bytes, LedgerTime now, ValidatorState& state,
                      EntryOutcome& outcome);
};

template <>
struct EntryRules<TransparentTx> {
  static constexpr std::string_view kProofFailure = "bad signature";
  static bool authentic(ByteSpan bytes, const TransparentTx& tx) {
    return verify_transparent(bytes, tx);
  }
  static void append_proof_terms(const TransparentTx&, crypto::VerificationTerms&) {}
  // Market id, known signer, sequence above the signer's last, the action's account is the
  // signer's (or the issuer signs an issuer-only action). In a private market only the issuer's
  // Advance: it carries ledger time to the engine when nobody else sends anything.
  static Status check(const TransparentTx& tx, const ValidatorState& state);
  // Uses up the sequence number, then applies the action to the exchange.
  static Status apply(const TransparentTx& tx, ByteSpan bytes, LedgerTime now,
                      ValidatorState& state, EntryOutcome& outcome);
};

// A private transaction (PrivateEntry). Its signatures and proofs depend on the state its position
// in the log leaves (a window's points, an identity's cash balance and chain key, the issuer of
// the market), so stage 3's proof_stage does not verify them: authentic() is true, the block's
// are verified by private_block_stage against the state before the block, and stage 4 runs
// verify_private() right after check(), before apply().
template <>
struct EntryRules<PrivateEntry> {
  static constexpr std::string_view kProofFailure = "bad private proof";  // see verify_private
  static bool authentic(ByteSpan, const PrivateEntry&) { return true; }
  static void append_proof_terms(const PrivateEntry&, crypto::VerificationTerms&) {}
  // A private market is open; PrivateLedger::check_rules (phase, band, window, serial unseen,
  // order state, sequence, supply).
  static Status check(const PrivateEntry& entry, const ValidatorState& state);
  // The transaction's effect on the ledger (it passed check() and verify_private()), then its
  // order, if it has one, to match_private().
  static Status apply(const PrivateEntry& entry, ByteSpan bytes, LedgerTime now,
                      ValidatorState& state, EntryOutcome& outcome);
};

// A validator's key-generation message (DkgMessage). Its signature and content depend on the
// session's round and the messages before it: all checked by priv::DkgSession::apply in stage 4.
template <>
struct EntryRules<DkgMessage> {
  static constexpr std::string_view kProofFailure = "bad key-generation entry";  // never
  static bool authentic(ByteSpan, const DkgMessage&) { return true; }
  static void append_proof_terms(const DkgMessage&, crypto::VerificationTerms&) {}
  // A private market whose genesis started a key generation.
  static Status check(const DkgMessage& entry, const ValidatorState& state);
  // DkgSession::apply at the entry's ledger time (the replica advanced the session to it): the
  // round open, signed by its validator, not a repeat, passing the DKG's checks.
  static Status apply(const DkgMessage& entry, ByteSpan bytes, LedgerTime now,
                      ValidatorState& state, EntryOutcome& outcome);
};

// How stage 4 treats a private transaction's proofs (verify_private).
struct ProofPlan {
  // Its statement as its block verified it (from private_block_stage), or null.
  const priv::TxStatement* verified = nullptr;
  // The state is the one `verified` was resolved on (no entry before it in the batch was judged
  // otherwise than the speculative run judged it): the statement is not resolved again.
  bool same_state = false;
  // A window's points the speculative run and this state share: the tokens the state had before
  // the batch (by epoch). After a divergence a block verdict stands only for a spend whose window
  // lies within them (a later token may differ between the two histories).
  const std::map<std::uint64_t, std::size_t>* shared_tokens = nullptr;
  // The speculative run: record the statement here and take the proofs as valid (the block
  // verifies them afterwards). Null outside it.
  std::optional<priv::TxStatement>* record = nullptr;
  // Without a verdict that stands, the transaction is verified as a block of its own by this
  // verifier (its kept token encodings make that cheaper than PrivateLedger::check's window set)
  // on up to `threads` threads; PrivateLedger::check names the reason when it fails. Null: by
  // PrivateLedger::check.
  priv::BlockVerifier* verifier = nullptr;
  unsigned threads = 1;
};

// A validator's decryption shares (DecryptionShares): their signature, round and DLEQ proofs
// depend on the state (the generated key, the rounds being resolved), so all are checked by
// PrivateLedger::apply_shares in stage 4.
template <>
struct EntryRules<DecryptionShares> {
  static constexpr std::string_view kProofFailure = "bad decryption shares";  // never
  static bool authentic(ByteSpan, const DecryptionShares&) { return true; }
  static void append_proof_terms(const DecryptionShares&, crypto::VerificationTerms&) {}
  // A private market whose key generation has produced the key.
  static Status check(const DecryptionShares& entry, const ValidatorState& state);
  // PrivateLedger::apply_shares at the entry's ledger time; the entry that records a round's
  // resolution hands it on first (resolve_round). Sums outside their bounds (kOverflow: the round
  // can never be resolved) fault the book.
  static Status apply(const DecryptionShares& entry, ByteSpan bytes, LedgerTime now,
                      ValidatorState& state, EntryOutcome& outcome);
};

// The key generation's rounds close by ledger time, whatever the entry: advances the session to
// `now` and, once it has produced the key, installs it in the ledger in place of the genesis's
// (PrivateLedger::install_validators_key). Nothing without a key generation.
void advance_key_generation(PrivateMarket& market, LedgerTime now);

// A margin round's resolution is due (at its deadline or at the entry carrying the t-th share):
// the fund takes over the defaulters' position and cash (DefaultsResolution), before the ledger
// records it. Returns the book's fault: a resolution the book refuses is one (the ledger closed
// the round as the book did), and the ledger then does not record it.
Status resolve_round(PrivateMarket& market, const priv::Resolution& resolution);
// resolve_round for `market`, as PrivateLedger::apply_shares and advance_resolutions take it.
priv::TakeResolution resolution_taker(PrivateMarket& market);

// A deep copy of the state (its own private ledger, engine and key generation): what the
// speculative run of private_block_stage changes instead of the replica's.
ValidatorState copy_state(const ValidatorState& state);

// Stage 3 for the private transactions of a batch (docs/protocol/validator.md, "Proofs per
// block"), by speculation: the batch runs through stages 2 and 4 on a copy of the state (from
// `clock`), every private transaction's proofs taken as valid and its statement recorded at its
// own position; then every recorded statement is verified by `verifier` at once against the
// copy's ledger (one MSM, one bisection naming the bad ones; the terms built on up to `threads`
// threads, the verdict the same for any number). So a transaction whose window, order or
// identity an earlier entry of the batch creates is in the block too.
//
// statements[i] is the statement entry i's proofs verified against, or empty: not a private
// transaction, refused by the rules on the copy, or proofs the block found bad (exits are in the
// block like every spend). accepted[i] is whether the copy accepted entry i: the replica's run is
// in the copy's state until an entry is judged otherwise (only a bad proof can make it). Nothing
// when fewer than two private transactions are in the batch (each is verified alone: a copy of the
// state would cost more than it saves). Changes no state but the verifier's caches.
struct SpeculativeBlock {
  std::vector<std::optional<priv::TxStatement>> statements;  // empty: no speculation
  std::vector<bool> accepted;
  std::map<std::uint64_t, std::size_t> tokens_before;  // by epoch, before the batch
  bool diverged = false;  // set by the replica when its run and this one part
};
SpeculativeBlock private_block_stage(std::span<const LedgerEntry> entries,
                                     std::span<const Result<Entry>> decoded,
                                     std::span<const std::uint8_t> proofs_ok,
                                     const ValidatorState& state, LedgerClock clock,
                                     priv::BlockVerifier& verifier, unsigned threads);

// Stage 3's verdict on one private transaction that passed check(), at its position (`plan`
// above). The block's verdict stands when the state is the speculative run's (plan.same_state)
// or, after a divergence, when its statement at its position is the same
// (priv::same_statement) and its window lies within the shared tokens. Otherwise it is verified
// alone: as a block of one by plan.verifier, at its position (without a verifier, by
// PrivateLedger::check). outcome.proofs_in_block is set when a block verified it. Either way the
// verdict and the reason are those of verifying it alone: kInvalidProof names the bad proof.
// `bytes` is the entry's payload.
Status verify_private(const PrivateMarket& market, const priv::PrivateTx& tx, ByteSpan bytes,
                      const ProofPlan& plan, EntryOutcome& outcome);

// The private order path: called after every applied private transaction; a post or
// cancel-replace has added order `applied.new_order` to the ledger's order state, a cancel,
// reduce or cancel-replace may have closed one. The book (PrivateBook::on_applied) matches a new
// order, records the fills against both orders (PrivateLedger::record_fill), closes an immediate
// order's remainder, a FOK kill and a post-only refusal (close_order), keeps a reduced order's
// priority and takes cancelled and replaced orders off the book. It cannot reject (the
// transaction is applied): an error is the book's fault (PrivateBook::fault), and the replica
// stops.
Status match_private(PrivateMarket& market, const priv::PrivateTx& tx,
                     const priv::Applied& applied);

// Stage 1: every entry decoded (or the reason it cannot be), for the market `market` describes
// (every entry of the block must follow the genesis that opened it, if any).
std::vector<Result<Entry>> decode_stage(std::span<const LedgerEntry> entries,
                                        const MarketContext& market);

// Stage 3: for every entry, whether its signature and proofs verify (1) or not (0; also for an
// entry that did not decode). Signatures on up to `threads` threads; the proofs of the whole
// block in one VerificationTerms (one MSM, and a bisection only when it fails).
std::vector<std::uint8_t> proof_stage(std::span<const LedgerEntry> entries,
                                      std::span<const Result<Entry>> decoded, unsigned threads);

// Stages 2 and 4 for one decoded entry: check(), the proof verdict (rejected with kProofFailure;
// for a private transaction verify_private() with `plan`), apply().
Status check_and_apply(const Entry& entry, ByteSpan bytes, bool proofs_ok, const ProofPlan& plan,
                       LedgerTime now, ValidatorState& state, EntryOutcome& outcome);

// One entry at ledger time `now`, as the replica runs it: a key generation's rounds advanced to
// `now` (whatever the entry), then check_and_apply (or the entry's decoding error).
Status run_entry(const Result<Entry>& decoded, ByteSpan bytes, bool proofs_ok,
                 const ProofPlan& plan, LedgerTime now, ValidatorState& state,
                 EntryOutcome& outcome);

}  // namespace pfex::protocol
