// The validator's state machine; see validator.hpp and docs/protocol/validator.md.
#include "protocol/validator.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include "market/contract.hpp"

namespace pfex::protocol {
namespace {

constexpr std::string_view kChainDomain = "pfex/v1/chain";
constexpr std::string_view kChainStateDomain = "pfex/v1/chain-state";
constexpr std::string_view kSnapshotDomain = "pfex/v1/validator-snapshot";
constexpr std::uint32_t kSnapshotMagic = 0x50534E56;  // "VNSP" little-endian
constexpr std::uint32_t kSnapshotVersion = 1;
constexpr std::uint32_t kMaxSnapshotSigners = 1U << 26;

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

}  // namespace

std::optional<market::AccountId> Validator::account_of(const PublicKey& key) const {
  auto it = signers_.find(key);
  if (it == signers_.end()) return std::nullopt;
  return it->second.account;
}

std::uint64_t Validator::last_sequence_of(const PublicKey& key) const {
  auto it = signers_.find(key);
  return it == signers_.end() ? 0 : it->second.last_sequence;
}

Digest32 Validator::state_hash() const {
  return exchange_ ? exchange_->state_hash() : Digest32{};
}

Status Validator::apply_genesis(const Genesis& genesis, ByteSpan bytes, LedgerTime now) {
  if (exchange_) return Status::failed_precondition("the market is already open");
  PFEX_ASSIGN_OR_RETURN(market::Exchange ex,
                        market::Exchange::open(genesis.contract, genesis.reference, now));
  exchange_.emplace(std::move(ex));
  genesis_.assign(bytes.begin(), bytes.end());
  market_id_ = market_id_of(bytes);
  issuer_ = genesis.issuer;
  signers_[genesis.issuer];  // known, no account, no sequence used yet
  return Status::ok();
}

Status Validator::check_transparent(const TransparentTx& tx) const {
  if (!exchange_) return Status::failed_precondition("no market is open yet (no genesis)");
  if (tx.market != *market_id_) return Status::invalid_argument("transaction for another market");
  auto it = signers_.find(tx.signer);
  const Signer* signer = it == signers_.end() ? nullptr : &it->second;
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
    if (tx.signer != *issuer_) return Status::invalid_argument("only the issuer may sign this");
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

Status Validator::check_and_apply(const Entry& entry, ByteSpan bytes, bool signature_ok,
                                  EntryOutcome& outcome) {
  if (const auto* genesis = std::get_if<Genesis>(&entry)) {
    return apply_genesis(*genesis, bytes, outcome.time);
  }
  const auto& tx = std::get<TransparentTx>(entry);
  PFEX_RETURN_IF_ERROR(check_transparent(tx));
  if (!signature_ok) return Status::invalid_argument("bad signature");
  // From here the transaction is authentic: its sequence number is used up whether or not the
  // exchange accepts the action, so it can never be replayed.
  Signer& signer = signers_[tx.signer];
  signer.last_sequence = tx.sequence;
  Result<market::ActionResult> result = market::apply_action(*exchange_, outcome.time, tx.action);
  if (!result) return result.status();
  // On a ledger, as in the exchange, nobody refreshes on a trader's behalf at margin rounds: its
  // node sends a Refresh transaction, or the account defaults when the window closes.
  if (result->account) signer.account = result->account;
  outcome.result = std::move(result).value();
  return Status::ok();
}

void Validator::fold_into_chain(const ledger::LogEntry& entry, const EntryOutcome& outcome) {
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

Result<EntryOutcome> Validator::apply(const ledger::LogEntry& entry) {
  std::vector<EntryOutcome> out;
  PFEX_ASSIGN_OR_RETURN(out, apply_batch(std::span(&entry, 1), 1));
  return std::move(out.front());
}

Result<std::vector<EntryOutcome>> Validator::apply_batch(std::span<const ledger::LogEntry> entries,
                                                         unsigned threads) {
  std::uint64_t previous = last_sequence_;
  for (const auto& e : entries) {
    if (e.sequence <= previous) {
      return Status::invalid_argument("log entry " + std::to_string(e.sequence) +
                                      " is not after entry " + std::to_string(previous));
    }
    previous = e.sequence;
  }
  std::vector<Result<Entry>> decoded;
  decoded.reserve(entries.size());
  for (const auto& e : entries)
    decoded.push_back(decode_entry(e.payload));

  // Signatures depend only on the entry: check them in parallel, use them in order.
  std::vector<std::uint8_t> signature_ok(entries.size(), 0);
  auto verify_range = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      if (!decoded[i]) continue;
      if (const auto* tx = std::get_if<TransparentTx>(&decoded[i].value())) {
        signature_ok[i] = verify_transparent(entries[i].payload, *tx) ? 1 : 0;
      }
    }
  };
  const std::size_t n = entries.size();
  const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(threads, n / 64));
  if (workers <= 1) {
    verify_range(0, n);
  } else {
    std::vector<std::jthread> pool;
    const std::size_t chunk = (n + workers - 1) / workers;
    for (std::size_t w = 1; w < workers; ++w) {
      pool.emplace_back(verify_range, std::min(n, w * chunk), std::min(n, (w + 1) * chunk));
    }
    verify_range(0, std::min(n, chunk));
  }  // the jthreads join here

  std::vector<EntryOutcome> outcomes;
  outcomes.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const ledger::LogEntry& e = entries[i];
    EntryOutcome outcome;
    outcome.sequence = e.sequence;
    outcome.time = clock_.observe(e.entry_time);
    Status status =
        decoded[i] ? check_and_apply(decoded[i].value(), e.payload, signature_ok[i] != 0, outcome)
                   : decoded[i].status();
    outcome.accepted = status.is_ok();
    outcome.reason = std::move(status);
    last_sequence_ = e.sequence;
    ++entries_;
    ++(outcome.accepted ? accepted_ : rejected_);
    fold_into_chain(e, outcome);
    if (exchange_) {
      if (sink_) sink_(outcome, exchange_->events());
      exchange_->clear_events();
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

Bytes Validator::snapshot() const {
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
  w.var_bytes(genesis_);
  w.u32(static_cast<std::uint32_t>(signers_.size()));
  for (const auto& [key, signer] : signers_) {  // std::map: sorted by key, canonical
    w.fixed(key);
    w.boolean(signer.account.has_value());
    if (signer.account) w.u32(signer.account->value);
    w.u64(signer.last_sequence);
  }
  w.boolean(exchange_.has_value());
  if (exchange_) w.var_bytes(exchange_->snapshot());
  Hasher h(kSnapshotDomain);
  h.update(out);
  w.fixed(h.finish());
  return out;
}

Result<Validator> Validator::restore(ByteSpan bytes) {
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
  if (r.u32("snapshot version") != kSnapshotVersion) {
    r.fail(Status::corruption("unknown validator snapshot version"));
  }
  Validator v;
  v.last_sequence_ = r.u64("log position");
  v.entries_ = r.u64("entries");
  v.accepted_ = r.u64("accepted");
  v.rejected_ = r.u64("rejected");
  v.clock_ = ledger::LedgerClock(LedgerTime(r.i64("ledger time")));
  r.fixed("chain", v.chain_);
  v.genesis_ = r.var_bytes("genesis", static_cast<std::uint32_t>(kMaxTransactionBytes));
  const std::uint32_t count = r.u32("signer count");
  if (count > kMaxSnapshotSigners) r.fail(Status::corruption("too many signers"));
  PublicKey previous{};
  for (std::uint32_t i = 0; i < count && !r.failed(); ++i) {
    PublicKey key{};
    r.fixed("signer key", key);
    if (i > 0 && !(previous < key)) r.fail(Status::corruption("signers out of order"));
    previous = key;
    Signer s;
    if (r.boolean("has account")) s.account = market::AccountId{r.u32("account")};
    s.last_sequence = r.u64("signer sequence");
    v.signers_.emplace(key, s);
  }
  const bool has_exchange = r.boolean("has market");
  Bytes exchange_bytes;
  if (has_exchange) exchange_bytes = r.var_bytes("exchange", UINT32_MAX);
  PFEX_RETURN_IF_ERROR(r.finish());
  if (has_exchange != !v.genesis_.empty()) {
    return Status::corruption("snapshot has a market without a genesis or the reverse");
  }
  if (has_exchange) {
    PFEX_ASSIGN_OR_RETURN(Entry genesis, decode_entry(v.genesis_));
    const auto* g = std::get_if<Genesis>(&genesis);
    if (!g) return Status::corruption("snapshot genesis is not a genesis entry");
    v.market_id_ = market_id_of(v.genesis_);
    v.issuer_ = g->issuer;
    PFEX_ASSIGN_OR_RETURN(market::Exchange ex, market::Exchange::restore(exchange_bytes));
    v.exchange_.emplace(std::move(ex));
  }
  // Every bound account exists and belongs to one key only.
  std::vector<bool> bound(v.exchange_ ? v.exchange_->account_count() : 0, false);
  for (const auto& [key, signer] : v.signers_) {
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
