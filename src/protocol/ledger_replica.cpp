// The replicated state machine; see ledger_replica.hpp and docs/protocol/validator.md.
#include "protocol/ledger_replica.hpp"

#include <algorithm>
#include <utility>

#include "market/contract.hpp"

namespace pfex::protocol {
namespace {

constexpr std::string_view kChainDomain = "pfex/v1/chain";
constexpr std::string_view kChainStateDomain = "pfex/v1/chain-state";
constexpr std::string_view kSnapshotDomain = "pfex/v1/validator-snapshot";
constexpr std::uint32_t kSnapshotMagic = 0x50534E56;  // "VNSP" little-endian
// Version 2 added the private ledger, version 3 the private market's matching engine and the
// validators' key generation; versions 1 and 2 of a transparent market are still read (a version 2
// private snapshot has no engine).
constexpr std::uint32_t kSnapshotVersion = 3;
constexpr std::uint32_t kMaxSnapshotSigners = 1U << 26;

void put_result(Writer& w, const market::ActionResult& r) {
  w.boolean(r.account.has_value());
  if (r.account) w.u32(r.account->value);
  w.boolean(r.order.has_value());
  if (r.order) {
    w.u64(r.order->id.value);
    w.i64(r.order->filled.value());
    w.i64(r.order->resting.value());
  }
  w.boolean(r.claim.has_value());
  if (r.claim) w.i64(r.claim->value());
}

// Only for an accepted private transaction, so the chain of a transparent log is unchanged.
void put_private_result(Writer& w, const priv::Applied& a) {
  w.u8(static_cast<std::uint8_t>(a.type));
  w.u64(a.token_epoch);
  w.boolean(a.token_index.has_value());
  if (a.token_index) w.u64(*a.token_index);
  w.boolean(a.new_order.has_value());
  if (a.new_order) w.u64(*a.new_order);
}

}  // namespace

std::optional<market::AccountId> LedgerReplica::account_of(const PublicKey& key) const {
  const ValidatorState::Signer* signer = state_.signer(key);
  return signer ? signer->account : std::nullopt;
}

std::uint64_t LedgerReplica::last_sequence_of(const PublicKey& key) const {
  const ValidatorState::Signer* signer = state_.signer(key);
  return signer ? signer->last_sequence : 0;
}

Digest32 LedgerReplica::state_hash() const {
  if (state_.private_market) return private_state_hash(*state_.private_market);
  return state_.exchange ? state_.exchange->state_hash() : Digest32{};
}

void LedgerReplica::fold_into_chain(const LedgerEntry& entry, const EntryOutcome& outcome) {
  // The same bytes as one Writer would produce (chain, u64, i64, bytes, ...), hashed in pieces
  // so the payload is not copied.
  Bytes head;
  Writer w(&head);
  w.u64(entry.sequence);
  w.i64(outcome.time.value());
  w.u32(static_cast<std::uint32_t>(entry.payload.size()));
  Bytes tail;
  Writer t(&tail);
  t.boolean(outcome.accepted);
  t.u8(static_cast<std::uint8_t>(outcome.reason.code()));
  put_result(t, outcome.result);
  if (outcome.private_result) put_private_result(t, *outcome.private_result);
  Hasher h(kChainDomain);
  h.update(chain_);
  h.update(head);
  h.update(entry.payload);
  h.update(tail);
  chain_ = h.finish();
  if (entries_ % kStateCheckpointEntries == 0) {
    const Digest32 state = state_hash();
    Hasher s(kChainStateDomain);
    s.update(chain_);
    s.update(state);
    chain_ = s.finish();
  }
}

Result<EntryOutcome> LedgerReplica::apply(const LedgerEntry& entry) {
  std::vector<EntryOutcome> out;
  PFEX_ASSIGN_OR_RETURN(out, apply_batch(std::span(&entry, 1), 1));
  return std::move(out.front());
}

Result<std::vector<EntryOutcome>> LedgerReplica::apply_batch(std::span<const LedgerEntry> entries,
                                                             unsigned threads) {
  if (!stopped_.is_ok()) return stopped_;
  std::uint64_t previous = last_sequence_;
  for (const auto& e : entries) {
    if (e.sequence <= previous) {
      return Status::invalid_argument("log entry " + std::to_string(e.sequence) +
                                      " is not after entry " + std::to_string(previous));
    }
    previous = e.sequence;
  }
  const std::size_t n = entries.size();
  std::vector<EntryOutcome> outcomes;
  outcomes.reserve(n);
  // Until a genesis opens the market, an entry's decoding may depend on the one before it (a
  // private transaction needs its market's window size): one entry at a time.
  std::size_t first = 0;
  for (; first < n && !state_.open() && n > 1; ++first) {
    std::vector<EntryOutcome> one;
    PFEX_ASSIGN_OR_RETURN(one, apply_batch(entries.subspan(first, 1), 1));
    outcomes.push_back(std::move(one.front()));
  }
  entries = entries.subspan(first);
  const std::vector<Result<Entry>> decoded = decode_stage(entries, state_.context());  // 1
  const std::vector<std::uint8_t> proofs_ok = proof_stage(entries, decoded, threads);  // 3

  // Stage 3 for the private transactions: the speculative run and its block (validator_stages.hpp)
  // from `from` on. Until an entry is judged otherwise than the run judged it (only a bad proof
  // does that), this state is the run's and the block's verdicts stand as they are; after one,
  // the rest of the batch is speculated again from the state it left, up to
  // kMaxSpeculations times a batch (a bound on what bad proofs can cost; beyond it a verdict
  // stands only for the same statement on shared tokens, and the others are verified alone).
  constexpr int kMaxSpeculations = 4;
  int speculations = 0;
  SpeculativeBlock block;
  std::size_t from = 0;
  bool speculate = true;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LedgerEntry& e = entries[i];
    if (speculate && speculations < kMaxSpeculations) {
      block =
          private_block_stage(entries.subspan(i), std::span(decoded).subspan(i),
                              std::span(proofs_ok).subspan(i), state_, clock_, verifier_, threads);
      from = i;
      ++speculations;
    }
    speculate = false;
    EntryOutcome outcome;
    outcome.sequence = e.sequence;
    outcome.time = clock_.observe(e.entry_time);
    // A key generation's rounds close by ledger time, whatever the entry.
    if (state_.private_market) advance_key_generation(*state_.private_market, outcome.time);
    ProofPlan plan;
    plan.verifier = &verifier_;
    plan.threads = threads;
    const bool run = !block.statements.empty() && i >= from;
    const std::size_t k = i - from;
    if (run && block.statements[k]) {
      plan.verified = &*block.statements[k];
      plan.same_state = !block.diverged;
      plan.shared_tokens = &block.tokens_before;
    }
    // Stages 2 and 4, in log order.
    Status status =
        run_entry(decoded[i], e.payload, proofs_ok[i] != 0, plan, outcome.time, state_, outcome);
    if (state_.private_market && !state_.private_market->book->fault().is_ok()) {
      // Not a rejection: the state is no longer one the protocol defines (private_market.hpp).
      stopped_ = Status::failed_precondition(
          "log entry " + std::to_string(e.sequence) + ": " +
          std::string(state_.private_market->book->fault().message()) +
          "; this replica stops (entries up to " + std::to_string(last_sequence_) +
          " were applied; its state after this entry is not the protocol's)");
      return stopped_;
    }
    outcome.accepted = status.is_ok();
    outcome.reason = std::move(status);
    if (run && !block.diverged && outcome.accepted != block.accepted[k]) {
      block.diverged = true;
      speculate = true;
      // The verifier kept encodings of the run's tokens, which this history may lack.
      if (state_.private_market) verifier_.forget_beyond(*state_.private_market->ledger);
    }
    last_sequence_ = e.sequence;
    ++entries_;
    ++(outcome.accepted ? accepted_ : rejected_);
    fold_into_chain(e, outcome);
    if (state_.exchange) {
      if (sink_) sink_(outcome, state_.exchange->events());
      state_.exchange->clear_events();
    }
    if (state_.private_market) {
      PrivateBook& book = *state_.private_market->book;
      if (private_sink_) private_sink_(outcome, book.events());
      book.clear_events();
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

Bytes LedgerReplica::snapshot() const {
  Bytes out;
  Writer w(&out);
  w.u32(kSnapshotMagic);
  w.u32(kSnapshotVersion);
  w.u64(last_sequence_);
  w.u64(entries_);
  w.u64(accepted_);
  w.u64(rejected_);
  w.i64(clock_.now().value());
  w.fixed(chain_);
  w.var_bytes(state_.genesis);
  w.u32(static_cast<std::uint32_t>(state_.signers.size()));
  for (const auto& [key, signer] : state_.signers) {  // std::map: sorted by key, canonical
    w.fixed(key);
    w.boolean(signer.account.has_value());
    if (signer.account) w.u32(signer.account->value);
    w.u64(signer.last_sequence);
  }
  w.boolean(state_.exchange.has_value());
  if (state_.exchange) w.var_bytes(state_.exchange->snapshot());
  w.boolean(state_.private_market.has_value());
  if (state_.private_market) {
    w.var_bytes(state_.private_market->ledger->encode_state());
    w.var_bytes(state_.private_market->book->encode());
  }
  const bool has_dkg = state_.private_market && state_.private_market->dkg;
  w.boolean(has_dkg);
  if (has_dkg) w.var_bytes(state_.private_market->dkg->encode_state());
  Hasher h(kSnapshotDomain);
  h.update(out);
  w.fixed(h.finish());
  return out;
}

Result<LedgerReplica> LedgerReplica::restore(ByteSpan bytes,
                                             std::shared_ptr<const priv::PrivateGens> gens) {
  if (bytes.size() < 32) return Status::corruption("validator snapshot is truncated");
  const ByteSpan body = bytes.first(bytes.size() - 32);
  Hasher h(kSnapshotDomain);
  h.update(body);
  const Digest32 sum = h.finish();
  if (!std::equal(sum.begin(), sum.end(), bytes.end() - 32)) {
    return Status::corruption("validator snapshot checksum mismatch (damaged file)");
  }
  Reader r(body);
  if (r.u32("snapshot magic") != kSnapshotMagic) {
    return Status::corruption("not a validator snapshot (bad magic)");
  }
  const std::uint32_t version = r.u32("snapshot version");
  if (version < 1 || version > kSnapshotVersion) {
    r.fail(Status::corruption("unknown validator snapshot version"));
  }
  LedgerReplica v(std::move(gens));
  v.last_sequence_ = r.u64("log position");
  v.entries_ = r.u64("entries");
  v.accepted_ = r.u64("accepted");
  v.rejected_ = r.u64("rejected");
  v.clock_ = LedgerClock(LedgerTime(r.i64("ledger time")));
  r.fixed("chain", v.chain_);
  v.state_.genesis = r.var_bytes("genesis", static_cast<std::uint32_t>(kMaxTransactionBytes));
  const std::uint32_t count = r.u32("signer count");
  if (count > kMaxSnapshotSigners) r.fail(Status::corruption("too many signers"));
  PublicKey previous{};
  for (std::uint32_t i = 0; i < count && !r.failed(); ++i) {
    PublicKey key{};
    r.fixed("signer key", key);
    if (i > 0 && !(previous < key)) r.fail(Status::corruption("signers out of order"));
    previous = key;
    ValidatorState::Signer s;
    if (r.boolean("has account")) s.account = market::AccountId{r.u32("account")};
    s.last_sequence = r.u64("signer sequence");
    v.state_.signers.emplace(key, s);
  }
  const bool has_exchange = r.boolean("has market");
  Bytes exchange_bytes;
  if (has_exchange) exchange_bytes = r.var_bytes("exchange", UINT32_MAX);
  const bool has_private = version >= 2 && r.boolean("has private market");
  Bytes private_bytes, book_bytes;
  if (has_private && version < 3) {
    return Status::corruption(
        "a version 2 private snapshot has no matching engine; replay the log");
  }
  if (has_private) {
    private_bytes = r.var_bytes("private ledger", UINT32_MAX);
    book_bytes = r.var_bytes("private book", UINT32_MAX);
  }
  const bool has_dkg = version >= 3 && r.boolean("has key generation");
  Bytes dkg_bytes;
  if (has_dkg) dkg_bytes = r.var_bytes("key generation", UINT32_MAX);
  PFEX_RETURN_IF_ERROR(r.finish());
  if (has_dkg && !has_private) {
    return Status::corruption("snapshot has a key generation without a private market");
  }
  if ((has_exchange || has_private) != !v.state_.genesis.empty() || (has_exchange && has_private)) {
    return Status::corruption("snapshot has a market without a genesis or the reverse");
  }
  if (!v.state_.genesis.empty()) {
    PFEX_ASSIGN_OR_RETURN(Entry genesis, decode_entry(v.state_.genesis));
    const auto* g = std::get_if<Genesis>(&genesis);
    if (!g) return Status::corruption("snapshot genesis is not a genesis entry");
    if ((g->mode() == Mode::kPrivate) != has_private) {
      return Status::corruption("snapshot's market is not of its genesis's mode");
    }
    v.state_.market_id = market_id_of(v.state_.genesis);
    v.state_.issuer = g->issuer;
    if (has_exchange) {
      PFEX_ASSIGN_OR_RETURN(market::Exchange ex, market::Exchange::restore(exchange_bytes));
      v.state_.exchange.emplace(std::move(ex));
    } else {
      // Its only transparent signer is the issuer (Advance entries), without an account.
      for (const auto& [key, signer] : v.state_.signers) {
        if (key != g->issuer || signer.account)
          return Status::corruption("a private market's only signer is its issuer");
      }
      PFEX_ASSIGN_OR_RETURN(priv::MarketTerms terms, private_terms_of(*g, v.state_.genesis));
      if (!v.state_.gens) v.state_.gens = std::make_shared<const priv::PrivateGens>();
      Result<std::unique_ptr<priv::PrivateLedger>> ledger =
          priv::PrivateLedger::decode_state(*v.state_.gens, private_bytes);
      if (!ledger) return ledger.status().with_context("snapshot's private ledger");
      if ((*ledger)->terms().market_id != terms.market_id) {
        return Status::corruption("snapshot's private ledger is of another market");
      }
      if (g->key_generation.has_value() != has_dkg) {
        return Status::corruption("snapshot's key generation does not match its genesis");
      }
      std::optional<priv::DkgSession> dkg;
      if (has_dkg) {
        Result<priv::DkgSession> session = priv::DkgSession::decode_state(dkg_bytes);
        if (!session) return session.status().with_context("snapshot's key generation");
        // The session id names the market and the genesis's key-generation part.
        Result<priv::DkgSession> fresh =
            priv::DkgSession::open(terms.market_id, *g->key_generation, LedgerTime(0));
        if (!fresh || fresh->session_id() != session->session_id()) {
          return Status::corruption("snapshot's key generation is not its genesis's");
        }
        dkg.emplace(std::move(session).value());
      }
      // The ledger awaits the generated key exactly while the session has not produced it, and
      // then encrypts to it.
      using KeyState = priv::PrivateLedger::KeyState;
      const KeyState key_state = (*ledger)->key_state();
      const bool key_matches = !has_dkg ? key_state == KeyState::kGenesis
                               : dkg->key()
                                   ? key_state == KeyState::kGenerated &&
                                         (*ledger)->terms().validators_key == dkg->key()->public_key
                                   : key_state == KeyState::kAwaiting;
      if (!key_matches) {
        return Status::corruption(
            "snapshot's private ledger does not use its key generation's key");
      }
      Result<PrivateBook> book =
          PrivateBook::decode(g->contract, v.clock_.now(), **ledger, book_bytes);
      if (!book) return book.status().with_context("snapshot's private book");
      v.state_.private_market.emplace(PrivateMarket{v.state_.gens, std::move(ledger).value(),
                                                    std::make_unique<PrivateBook>(*std::move(book)),
                                                    std::move(dkg)});
    }
  }
  // Every bound account exists and belongs to one key only.
  std::vector<bool> bound(v.state_.exchange ? v.state_.exchange->account_count() : 0, false);
  for (const auto& [key, signer] : v.state_.signers) {
    if (!signer.account) continue;
    const std::uint32_t a = signer.account->value;
    if (a == 0 || a >= bound.size() || bound[a]) {
      return Status::corruption("snapshot binds a key to a missing or shared account " +
                                std::to_string(a));
    }
    bound[a] = true;
  }
  return v;
}

}  // namespace pfex::protocol
