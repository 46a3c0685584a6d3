// The validator's stages; see validator_stages.hpp and docs/protocol/validator.md.
#include "protocol/validator_stages.hpp"

#include <algorithm>
#include <string>
#include <thread>
#include <utility>

namespace pfex::protocol {
namespace {

// The private ledger checks the contract's D_res against its own copy of the limit.
static_assert(priv::kMaxResolutionMs == market::kMaxResolutionMs);

// The account an action is about, if it names one.
std::optional<market::AccountId> named_account(const market::Action& action) {
  return std::visit(
      [](const auto& a) -> std::optional<market::AccountId> {
        if constexpr (requires { a.account; }) {
          return a.account;
        } else {
          return std::nullopt;
        }
      },
      action);
}

bool issuer_only(const market::Action& action) {
  return std::holds_alternative<market::AdvanceAction>(action) ||
         std::holds_alternative<market::SettleFinalAction>(action);
}

}  // namespace

MarketContext ValidatorState::context() const {
  MarketContext c;
  if (exchange) c.mode = Mode::kTransparent;
  if (private_market) {
    c.mode = Mode::kPrivate;
    c.log_window = private_market->ledger->terms().log_window;
  }
  return c;
}

Status EntryRules<Genesis>::check(const Genesis&, const ValidatorState& state) {
  if (state.open()) return Status::failed_precondition("the market is already open");
  return Status::ok();
}

Status EntryRules<Genesis>::apply(const Genesis& genesis, ByteSpan bytes, LedgerTime now,
                                  ValidatorState& state, EntryOutcome&) {
  if (genesis.mode() == Mode::kPrivate) {
    PFEX_ASSIGN_OR_RETURN(priv::MarketTerms terms, private_terms_of(genesis, bytes));
    if (!state.gens) state.gens = std::make_shared<const priv::PrivateGens>();
    std::optional<priv::DkgSession> dkg;
    if (genesis.key_generation) {
      PFEX_ASSIGN_OR_RETURN(priv::DkgSession session,
                            priv::DkgSession::open(terms.market_id, *genesis.key_generation, now));
      dkg.emplace(std::move(session));
    }
    auto ledger = std::make_unique<priv::PrivateLedger>(*state.gens, terms);
    if (genesis.key_generation) {
      // Every encryption waits for the generated key (docs/protocol/private.md section 14).
      PFEX_RETURN_IF_ERROR(ledger->await_key_generation(genesis.contract.resolution_ms));
    }
    PFEX_ASSIGN_OR_RETURN(PrivateBook book,
                          PrivateBook::open(genesis.contract, genesis.reference, now, *ledger));
    state.private_market.emplace(PrivateMarket{state.gens, std::move(ledger),
                                               std::make_unique<PrivateBook>(std::move(book)),
                                               std::move(dkg)});
    state.signers[genesis.issuer];  // its Advance entries (known, no account)
  } else {
    PFEX_ASSIGN_OR_RETURN(market::Exchange ex,
                          market::Exchange::open(genesis.contract, genesis.reference, now));
    state.exchange.emplace(std::move(ex));
    state.signers[genesis.issuer];  // known, no account, no sequence used yet
  }
  state.genesis.assign(bytes.begin(), bytes.end());
  state.market_id = market_id_of(bytes);
  state.issuer = genesis.issuer;
  return Status::ok();
}

Status EntryRules<TransparentTx>::check(const TransparentTx& tx, const ValidatorState& state) {
  if (state.private_market && !std::holds_alternative<market::AdvanceAction>(tx.action)) {
    return Status::failed_precondition("a transparent transaction in a private market");
  }
  if (!state.open()) return Status::failed_precondition("no market is open yet (no genesis)");
  if (tx.market != *state.market_id) {
    return Status::invalid_argument("transaction for another market");
  }
  const ValidatorState::Signer* signer = state.signer(tx.signer);
  const std::uint64_t last = signer ? signer->last_sequence : 0;
  if (tx.sequence <= last) {
    return Status::already_exists("sequence " + std::to_string(tx.sequence) + " of signer " +
                                  short_key(tx.signer) + " is not above its last, " +
                                  std::to_string(last) + " (replayed or reordered)");
  }
  if (std::holds_alternative<market::RegisterAction>(tx.action)) {
    if (signer && signer->account) {
      return Status::already_exists("signer " + short_key(tx.signer) + " already has account " +
                                    std::to_string(signer->account->value));
    }
    return Status::ok();
  }
  if (issuer_only(tx.action)) {
    if (tx.signer != *state.issuer) {
      return Status::invalid_argument("only the issuer may sign this");
    }
    return Status::ok();
  }
  if (!signer || !signer->account) {
    return Status::not_found("signer " + short_key(tx.signer) + " has no account");
  }
  const auto named = named_account(tx.action);
  if (!named || *named != *signer->account) {
    return Status::invalid_argument("signer " + short_key(tx.signer) + " owns account " +
                                    std::to_string(signer->account->value) +
                                    ", not the one the action names");
  }
  return Status::ok();
}

Status EntryRules<TransparentTx>::apply(const TransparentTx& tx, ByteSpan, LedgerTime now,
                                        ValidatorState& state, EntryOutcome& outcome) {
  // The transaction is authentic: its sequence number is used up whether or not the exchange
  // accepts the action, so it can never be replayed.
  ValidatorState::Signer& signer = state.signers[tx.signer];
  signer.last_sequence = tx.sequence;
  if (state.private_market) return Status::ok();  // an Advance: check_and_apply moved the time
  Result<market::ActionResult> result = market::apply_action(*state.exchange, now, tx.action);
  if (!result) return result.status();
  // Nobody refreshes on a trader's behalf at margin rounds: its node sends a Refresh
  // transaction, or the account defaults when the window closes (docs/design.md).
  if (result->account) signer.account = result->account;
  outcome.result = std::move(result).value();
  return Status::ok();
}

Status EntryRules<PrivateEntry>::check(const PrivateEntry& entry, const ValidatorState& state) {
  // decode_entry already refuses a private transaction outside a private market.
  if (!state.private_market) return Status::failed_precondition("no private market is open");
  return state.private_market->ledger->check_rules(entry.tx);
}

Status EntryRules<PrivateEntry>::apply(const PrivateEntry& entry, ByteSpan, LedgerTime,
                                       ValidatorState& state, EntryOutcome& outcome) {
  PrivateMarket& market = *state.private_market;
  const priv::Applied applied = market.ledger->apply_checked(entry.tx);
  outcome.private_result = applied;
  return match_private(market, entry.tx, applied);
}

Status EntryRules<DkgMessage>::check(const DkgMessage&, const ValidatorState& state) {
  if (!state.private_market) return Status::failed_precondition("no private market is open");
  if (!state.private_market->dkg) {
    return Status::failed_precondition("this market's genesis started no key generation");
  }
  return Status::ok();
}

Status EntryRules<DkgMessage>::apply(const DkgMessage& entry, ByteSpan, LedgerTime now,
                                     ValidatorState& state, EntryOutcome&) {
  return state.private_market->dkg->apply(entry.bytes, now);
}

Status EntryRules<DecryptionShares>::check(const DecryptionShares&, const ValidatorState& state) {
  if (!state.private_market) return Status::failed_precondition("no private market is open");
  const PrivateMarket& market = *state.private_market;
  if (!market.dkg) {
    return Status::failed_precondition(
        "this market's genesis started no key generation: nothing to decrypt with shares");
  }
  if (!market.dkg->key()) {
    return Status::failed_precondition("decryption shares before the key generation's key");
  }
  return Status::ok();
}

Status EntryRules<DecryptionShares>::apply(const DecryptionShares& entry, ByteSpan, LedgerTime now,
                                           ValidatorState& state, EntryOutcome&) {
  PrivateMarket& market = *state.private_market;
  const priv::DkgSession& dkg = *market.dkg;
  Result<std::optional<priv::Resolution>> recorded = market.ledger->apply_shares(
      entry.bytes, now, *dkg.key(), dkg.genesis(), dkg.session_id(), resolution_taker(market));
  if (!recorded.is_ok()) {
    if (recorded.status().code() == ErrorCode::kOverflow) {
      // t valid shares whose sums cannot be solved: no later entry can resolve the round, so the
      // market cannot go on (refused, the ledger unchanged; the replica stops at this entry).
      market.book->mark_fault("the round's decryption: " + recorded.status().to_string());
    }
    return recorded.status();
  }
  if (!*recorded) return Status::ok();
  // The t-th share after the deadline ends the hold: a halt it held starts now.
  return market.book->advance(now);
}

void advance_key_generation(PrivateMarket& market, LedgerTime now) {
  if (!market.dkg) return;
  market.dkg->advance(now);
  if (market.dkg->key() && market.ledger->key_state() == priv::PrivateLedger::KeyState::kAwaiting) {
    const Status installed = market.ledger->install_validators_key(market.dkg->key()->public_key);
    (void)installed;  // cannot fail: the ledger awaits a key and a generated key is never 0
  }
}

Status resolve_round(PrivateMarket& market, const priv::Resolution& resolution) {
  const DefaultsResolution defaults{resolution.position, resolution.cash, resolution.gross};
  // The fund's liquidation takes the round over from here, before the ledger records the
  // resolution. It names the defaulters' epoch; the book awaits the market's epoch at the close,
  // the next one. The ledger holds a resolution only for a round it closed, as the book did, so a
  // refusal here is a disagreement between them: the book is faulted (the replica stops) and the
  // ledger does not record it.
  const Status taken = market.book->resolve_defaults(resolution.epoch + 1, defaults);
  if (!taken.is_ok()) market.book->mark_fault("the round's resolution: " + taken.to_string());
  return market.book->fault();
}

priv::TakeResolution resolution_taker(PrivateMarket& market) {
  return [&market](const priv::Resolution& r) { return resolve_round(market, r); };
}

Status verify_private(const PrivateMarket& market, const priv::PrivateTx& tx, ByteSpan bytes,
                      const ProofPlan& plan, EntryOutcome& outcome) {
  const priv::PrivateLedger& ledger = *market.ledger;
  if (plan.record != nullptr) {  // the speculative run: the block verifies it afterwards
    priv::TxStatement statement = priv::resolve_statement(ledger, tx);
    if (!statement.unresolved.is_ok()) return statement.unresolved;
    *plan.record = std::move(statement);
    return Status::ok();
  }
  if (plan.verified != nullptr) {
    bool stands = plan.same_state;
    if (!stands && priv::same_statement(*plan.verified, priv::resolve_statement(ledger, tx))) {
      // Another history since the batch began: the window's points must be the shared ones.
      stands = true;
      const priv::Window* named = nullptr;
      if (const auto* spend = std::get_if<priv::SpendTx>(&tx)) named = &spend->spend.window;
      if (const auto* exit = std::get_if<priv::ExitTx>(&tx)) named = &exit->exit.window;
      if (named != nullptr) {
        const priv::Window& w = *named;
        std::size_t shared = 0;
        if (plan.shared_tokens != nullptr) {
          const auto it = plan.shared_tokens->find(w.epoch);
          if (it != plan.shared_tokens->end()) shared = it->second;
        }
        stands = w.start + w.length <= shared;
      }
    }
    if (stands) {
      outcome.proofs_in_block = true;
      return Status::ok();
    }
  }
  if (plan.verifier != nullptr) {
    const priv::TxStatement statement = priv::resolve_statement(ledger, tx);
    // The envelope is two bytes (version, type) before the transaction's own encoding.
    const ByteSpan encoded = bytes.subspan(std::min<std::size_t>(2, bytes.size()));
    if (statement.unresolved.is_ok() &&
        plan.verifier
            ->verify_var(ledger, std::span(&tx, 1), std::span(&statement, 1), plan.threads,
                         std::span(&encoded, 1))
            .ok()) {
      outcome.proofs_in_block = true;
      return Status::ok();
    }
  }
  return ledger.check(tx);  // the reason
}

ValidatorState copy_state(const ValidatorState& state) {
  ValidatorState out;
  out.genesis = state.genesis;
  out.market_id = state.market_id;
  out.issuer = state.issuer;
  out.exchange = state.exchange;
  out.signers = state.signers;
  out.gens = state.gens;
  if (state.private_market) {
    const PrivateMarket& from = *state.private_market;
    auto ledger = std::make_unique<priv::PrivateLedger>(*from.ledger);
    auto book = std::make_unique<PrivateBook>(from.book->copy_for(*ledger));
    out.private_market.emplace(
        PrivateMarket{from.gens, std::move(ledger), std::move(book), from.dkg});
  }
  return out;
}

SpeculativeBlock private_block_stage(std::span<const LedgerEntry> entries,
                                     std::span<const Result<Entry>> decoded,
                                     std::span<const std::uint8_t> proofs_ok,
                                     const ValidatorState& state, LedgerClock clock,
                                     priv::BlockVerifier& verifier, unsigned threads) {
  SpeculativeBlock out;
  if (!state.private_market) return out;
  std::size_t candidates = 0;
  for (const Result<Entry>& d : decoded) {
    const auto* entry = d ? std::get_if<PrivateEntry>(&d.value()) : nullptr;
    if (entry != nullptr) ++candidates;
  }
  if (candidates < 2) return out;
  const priv::PrivateLedger& before = *state.private_market->ledger;
  for (std::uint64_t e : before.token_epochs())
    out.tokens_before[e] = before.tokens(e).size();

  // The batch on a copy of the state, every private transaction's proofs taken as valid.
  ValidatorState copy = copy_state(state);
  out.statements.resize(entries.size());
  out.accepted.resize(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EntryOutcome outcome;
    ProofPlan plan;
    plan.record = &out.statements[i];
    const LedgerTime now = clock.observe(entries[i].entry_time);
    out.accepted[i] =
        run_entry(decoded[i], entries[i].payload, proofs_ok[i] != 0, plan, now, copy, outcome)
            .is_ok();
    if (!out.accepted[i]) out.statements[i].reset();
    if (!copy.private_market->book->fault().is_ok()) {
      out.accepted[i] = false;  // the replica stops here too: nothing after it is verified
      out.statements[i].reset();
      break;
    }
    copy.private_market->book->clear_events();
  }

  // Their proofs as one block, against the copy's ledger (it holds every window they name).
  std::vector<std::size_t> at;  // the block's transactions' positions among the entries
  std::vector<priv::PrivateTx> block;
  std::vector<priv::TxStatement> statements;
  std::vector<ByteSpan> encoded;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!out.statements[i]) continue;
    at.push_back(i);
    block.push_back(std::get<PrivateEntry>(decoded[i].value()).tx);
    statements.push_back(*out.statements[i]);
    // The envelope is two bytes (version, type) before the transaction's own encoding.
    encoded.push_back(ByteSpan(entries[i].payload).subspan(2));
  }
  if (block.empty()) return out;
  const priv::BlockVerdict verdict =
      verifier.verify_var(*copy.private_market->ledger, block, statements, threads, encoded);
  for (std::size_t k : verdict.bad)
    out.statements[at[k]].reset();
  return out;
}

Status match_private(PrivateMarket& market, const priv::PrivateTx& tx,
                     const priv::Applied& applied) {
  return market.book->on_applied(tx, applied);
}

Status advance_private(PrivateMarket& market, LedgerTime now) {
  // A round whose t shares are in is resolved at its deadline by the book
  // (PrivateBook::on_resolution_deadline), in time order with the market's other deadlines.
  return market.book->advance(now);
}

Digest32 private_state_hash(const PrivateMarket& market) {
  Bytes book;
  Writer w(&book);
  market.book->encode_state(w);
  Hasher h("pfex/v1/private/market");
  h.update(market.ledger->state_hash());
  h.update(book);
  if (market.dkg) h.update(market.dkg->state_hash());  // the key generation, when it runs
  return h.finish();
}

std::vector<Result<Entry>> decode_stage(std::span<const LedgerEntry> entries,
                                        const MarketContext& market) {
  std::vector<Result<Entry>> decoded;
  decoded.reserve(entries.size());
  for (const LedgerEntry& e : entries)
    decoded.push_back(decode_entry(e.payload, market));
  return decoded;
}

std::vector<std::uint8_t> proof_stage(std::span<const LedgerEntry> entries,
                                      std::span<const Result<Entry>> decoded, unsigned threads) {
  const std::size_t n = entries.size();
  std::vector<std::uint8_t> ok(n, 0);
  // Signatures depend only on the entry: check them in parallel, use them in order.
  auto authenticate = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      if (!decoded[i]) continue;
      ok[i] = std::visit(
                  [&](const auto& e) {
                    using T = std::decay_t<decltype(e)>;
                    return EntryRules<T>::authentic(entries[i].payload, e);
                  },
                  decoded[i].value())
                  ? 1
                  : 0;
    }
  };
  const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(threads, n / 64));
  if (workers <= 1) {
    authenticate(0, n);
  } else {
    std::vector<std::jthread> pool;
    const std::size_t chunk = (n + workers - 1) / workers;
    for (std::size_t w = 1; w < workers; ++w)
      pool.emplace_back(authenticate, std::min(n, w * chunk), std::min(n, (w + 1) * chunk));
    authenticate(0, std::min(n, chunk));
  }  // the jthreads join here

  // Every entry's proofs in one VerificationTerms: entry k of the terms is log entry k.
  crypto::VerificationTerms terms;
  for (std::size_t i = 0; i < n; ++i) {
    terms.begin_entry();
    if (!decoded[i]) continue;
    std::visit(
        [&](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          EntryRules<T>::append_proof_terms(e, terms);
        },
        decoded[i].value());
  }
  if (terms.size() == 0 && !terms.any_refused()) return ok;  // no proofs (transparent entries)
  if (terms.is_identity_var()) return ok;
  for (std::size_t bad : terms.failing_entries_var())
    ok[bad] = 0;
  return ok;
}

Status check_and_apply(const Entry& entry, ByteSpan bytes, bool proofs_ok, const ProofPlan& plan,
                       LedgerTime now, ValidatorState& state, EntryOutcome& outcome) {
  return std::visit(
      [&](const auto& e) -> Status {
        using T = std::decay_t<decltype(e)>;
        using Rules = EntryRules<T>;
        if (state.private_market) {
          PFEX_RETURN_IF_ERROR(advance_private(*state.private_market, now));
        }
        PFEX_RETURN_IF_ERROR(Rules::check(e, state));
        if (!proofs_ok) return Status::invalid_argument(std::string(Rules::kProofFailure));
        if constexpr (std::is_same_v<T, PrivateEntry>) {
          PFEX_RETURN_IF_ERROR(verify_private(*state.private_market, e.tx, bytes, plan, outcome));
        }
        return Rules::apply(e, bytes, now, state, outcome);
      },
      entry);
}

Status run_entry(const Result<Entry>& decoded, ByteSpan bytes, bool proofs_ok,
                 const ProofPlan& plan, LedgerTime now, ValidatorState& state,
                 EntryOutcome& outcome) {
  // A key generation's rounds close by ledger time, whatever the entry.
  if (state.private_market && state.private_market->dkg) state.private_market->dkg->advance(now);
  if (!decoded) return decoded.status();
  return check_and_apply(decoded.value(), bytes, proofs_ok, plan, now, state, outcome);
}

}  // namespace pfex::protocol
