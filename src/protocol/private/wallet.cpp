#include "protocol/private/wallet.hpp"

#include <sodium.h>

#include <algorithm>
#include <string>

#include "crypto/ct.hpp"
#include "crypto/proof_codec.hpp"
#include "protocol/private/refresh.hpp"

namespace pfex::priv {

PrivateWallet::PrivateWallet(const PrivateGens& gens) : gens_(gens), kappa_(Scalar::random()) {
  ensure_sodium_init();
  crypto_sign_keypair(public_key_.data(), secret_key_.data());
}

PrivateWallet::~PrivateWallet() {
  sodium_memzero(secret_key_.data(), secret_key_.size());
  sodium_memzero(&balance_, sizeof(balance_));
}

std::vector<std::uint64_t> PrivateWallet::open_orders() const {
  std::vector<std::uint64_t> out;
  for (const auto& [id, tag] : orders_)
    out.push_back(id);
  return out;
}

Result<RegisterTx> PrivateWallet::build_register(const PrivateLedger& ledger,
                                                 std::uint64_t sequence, std::int64_t bond) {
  if (token_index_) return Status::failed_precondition("this wallet is already registered");
  TokenOpening first;
  first.kappa = kappa_;
  first.sn = random_nonzero_scalar();
  first.r = Scalar::random();
  const Scalar r_K = Scalar::random();
  r_K_ = r_K;

  RegisterTx tx;
  tx.signer = public_key_;
  tx.sequence = sequence;
  tx.bond = bond;
  tx.token = first.commit(gens_);
  tx.K = gens_.pedersen().blind(r_K) + kappa_ * gens_.kappa();
  tx.J = kappa_ * gens_.G_J();
  crypto::Transcript t = tx_transcript(ledger.terms(), PrivateTx(tx));
  const std::vector<Scalar> w = {first.r, kappa_, first.sn, r_K};
  PFEX_ASSIGN_OR_RETURN(tx.proof, crypto::prove_linear(register_statement(gens_, tx), w, t));
  const Bytes message = register_signed_bytes(tx);
  crypto_sign_detached(tx.signature.data(), nullptr, message.data(), message.size(),
                       secret_key_.data());
  pending_token_ = first;
  pending_tag_.reset();
  pending_cash_ = PendingCash{sequence, 0, Scalar::zero()};
  return tx;
}

std::vector<SettleEntry> PrivateWallet::pending_entries(
    const PrivateLedger& ledger, std::optional<std::uint64_t> exclude_release) const {
  std::vector<SettleEntry> out;
  for (const auto& [id, tag] : orders_) {
    const PrivateOrder* o = ledger.order(id);
    if (o == nullptr || out.size() == kMaxSettleEntries) continue;
    const bool release = o->closed && !o->released && exclude_release != id;
    if (o->claimed < o->fills.size() || release) out.push_back({id, o->fills.size(), release});
  }
  return out;
}

Result<SpendTx> PrivateWallet::build_spend(const PrivateLedger& ledger, SpendTx draft,
                                           const CashMoveWitness* cash) {
  if (!token_index_) return Status::failed_precondition("register first");
  const MarketTerms* spend_terms = ledger.terms_for_epoch(token_epoch_);
  if (spend_terms == nullptr)
    return Status::failed_precondition("the token is of epoch " + std::to_string(token_epoch_) +
                                       ": only an exit can spend it");
  draft.spend.window.epoch = token_epoch_;  // resolve() takes the claims' terms from it
  PFEX_ASSIGN_OR_RETURN(SpendEffects effects, ledger.resolve(draft));
  const MarketTerms& terms = *spend_terms;
  const std::size_t list_length = ledger.tokens(token_epoch_).size();
  const Window window =
      newest_window(token_epoch_, *token_index_, list_length, terms.window_size());
  PFEX_ASSIGN_OR_RETURN(PreparedSpend prepared,
                        prepare_spend(gens_, terms, token_, window, effects.deltas, cash));
  draft.spend = prepared.pub();
  if (cash != nullptr) {
    draft.cash->V_a = prepared.cash()->V_a;
    draft.cash->enc = prepared.cash()->enc;
  }

  // The openings of the tags, in the statement's order (entries, target, new order).
  std::vector<TagOpening> openings;
  for (const SettleEntry& e : draft.entries)
    openings.push_back(orders_.at(e.order));
  if (draft.type == TxType::kReduce || draft.type == TxType::kCancelReplace) {
    auto it = orders_.find(draft.target);
    if (it == orders_.end())
      return Status::failed_precondition("order " + std::to_string(draft.target) +
                                         " is not this wallet's");
    openings.push_back(it->second);
  }
  std::optional<TagOpening> new_tag;
  if (draft.order) {
    new_tag = TagOpening::random();
    openings.push_back(*new_tag);
    // The tag is part of the body: fill it in and recompute the effects' last tag.
    draft.order->tag = new_tag->commit(gens_, kappa_);
    crypto::declassify(draft.order->tag);  // published (hiding: a fresh o and rho)
    effects.tags.back() = draft.order->tag;
  }
  PFEX_ASSIGN_OR_RETURN(const auto set, ledger.window_set(window));
  crypto::Transcript t = tx_transcript(terms, PrivateTx(draft));
  PFEX_ASSIGN_OR_RETURN(SpendProofs proofs,
                        prove_spend(gens_, terms, prepared, *set, *token_index_ - window.start,
                                    effects.tags, openings, t));
  draft.proofs = std::move(proofs);
  pending_token_ = prepared.next();
  pending_tag_ = new_tag;
  pending_cash_.reset();
  if (cash != nullptr) {
    const Bytes message = cash_signed_bytes(draft);
    crypto_sign_detached(draft.cash->signature.data(), nullptr, message.data(), message.size(),
                         secret_key_.data());
    pending_cash_ =
        PendingCash{draft.cash->sequence, prepared.new_balance(), prepared.new_balance_blinding()};
  }
  return draft;
}

Result<SpendTx> PrivateWallet::build_post(const PrivateLedger& ledger, Side side, OrderKind kind,
                                          std::int64_t price, std::int64_t qty) {
  SpendTx draft;
  draft.type = TxType::kPost;
  draft.entries = pending_entries(ledger, std::nullopt);
  draft.order = OrderFields{side, kind, price, qty, Point::identity()};
  return build_spend(ledger, std::move(draft));
}

Result<SpendTx> PrivateWallet::build_settle(const PrivateLedger& ledger) {
  SpendTx draft;
  draft.type = TxType::kSettle;
  draft.entries = pending_entries(ledger, std::nullopt);
  if (draft.entries.empty()) return Status::failed_precondition("nothing to settle");
  return build_spend(ledger, std::move(draft));
}

Result<SpendTx> PrivateWallet::build_reduce(const PrivateLedger& ledger, std::uint64_t order,
                                            std::int64_t reduce_by) {
  const PrivateOrder* o = ledger.order(order);
  if (o == nullptr) return Status::not_found("order " + std::to_string(order) + " unknown");
  SpendTx draft;
  draft.type = TxType::kReduce;
  draft.entries = pending_entries(ledger, order);
  draft.target = order;
  draft.fills_seen = o->fills.size();
  draft.reduce_by = reduce_by;
  return build_spend(ledger, std::move(draft));
}

Result<SpendTx> PrivateWallet::build_cancel_replace(const PrivateLedger& ledger,
                                                    std::uint64_t order, Side side, OrderKind kind,
                                                    std::int64_t price, std::int64_t qty) {
  const PrivateOrder* o = ledger.order(order);
  if (o == nullptr) return Status::not_found("order " + std::to_string(order) + " unknown");
  SpendTx draft;
  draft.type = TxType::kCancelReplace;
  draft.entries = pending_entries(ledger, order);
  draft.target = order;
  draft.fills_seen = o->fills.size();
  draft.order = OrderFields{side, kind, price, qty, Point::identity()};
  return build_spend(ledger, std::move(draft));
}

Result<CancelTx> PrivateWallet::build_cancel(const PrivateLedger& ledger,
                                             std::uint64_t order) const {
  auto it = orders_.find(order);
  if (it == orders_.end())
    return Status::failed_precondition("order " + std::to_string(order) + " is not this wallet's");
  const PrivateOrder* o = ledger.order(order);
  if (o == nullptr) return Status::not_found("order " + std::to_string(order) + " unknown");
  CancelTx tx;
  tx.order = order;
  crypto::Transcript t = tx_transcript(ledger.terms(), PrivateTx(tx));
  const std::vector<Scalar> w = {kappa_, it->second.o, it->second.rho};
  PFEX_ASSIGN_OR_RETURN(tx.proof, crypto::prove_linear(tag_statement(gens_, o->tag), w, t));
  return tx;
}

Result<SpendTx> PrivateWallet::build_cash_move(const PrivateLedger& ledger, std::uint64_t amount,
                                               bool deposit) {
  const Identity* id = ledger.identity(public_key_);
  if (id == nullptr) return Status::failed_precondition("register first");
  CashMoveWitness cash;
  cash.deposit = deposit;
  cash.amount = amount;
  cash.balance = balance_;
  cash.balance_blinding = balance_blinding_;
  cash.r_K = r_K_;
  cash.K = id->K;
  cash.account = id->balance;
  cash.pk = ledger.terms().validators_key;
  SpendTx draft;
  draft.type = deposit ? TxType::kDeposit : TxType::kWithdraw;
  draft.entries = pending_entries(ledger, std::nullopt);
  draft.cash = CashFields{public_key_, sequence_ + 1, Point::identity(), {}, {}};
  return build_spend(ledger, std::move(draft), &cash);
}

Result<SpendTx> PrivateWallet::build_deposit(const PrivateLedger& ledger, std::uint64_t amount) {
  return build_cash_move(ledger, amount, true);
}

Result<SpendTx> PrivateWallet::build_withdraw(const PrivateLedger& ledger, std::uint64_t amount) {
  return build_cash_move(ledger, amount, false);
}

Result<SpendTx> PrivateWallet::build_refresh(const PrivateLedger& ledger, std::uint64_t deposit) {
  if (!token_index_) return Status::failed_precondition("register first");
  const Identity* id = ledger.identity(public_key_);
  if (id == nullptr) return Status::failed_precondition("register first");
  if (!ledger.in_refresh_window() || token_epoch_ + 1 != ledger.terms().epoch)
    return Status::failed_precondition("no refresh is due for this token");
  const MarketTerms& next = ledger.terms();
  CashMoveWitness cash;
  cash.deposit = true;
  cash.amount = deposit;
  cash.balance = balance_;
  cash.balance_blinding = balance_blinding_;
  cash.r_K = r_K_;
  cash.K = id->K;
  cash.account = id->balance;
  cash.pk = next.validators_key;
  const Window window = newest_window(token_epoch_, *token_index_,
                                      ledger.tokens(token_epoch_).size(), next.window_size());
  PFEX_ASSIGN_OR_RETURN(PreparedRefresh prepared,
                        prepare_refresh(gens_, next, ledger.levy(), token_, window, cash));
  SpendTx draft;
  draft.type = TxType::kRefresh;
  draft.spend = prepared.pub();
  draft.cash =
      CashFields{public_key_, sequence_ + 1, prepared.refresh().V_d, prepared.refresh().enc_d, {}};
  draft.refresh =
      RefreshFields{prepared.refresh().enc_v, prepared.refresh().enc_c, prepared.refresh().enc_g};
  PFEX_ASSIGN_OR_RETURN(const auto set, ledger.window_set(window));
  crypto::Transcript t = tx_transcript(next, PrivateTx(draft));
  PFEX_ASSIGN_OR_RETURN(SpendProofs proofs, prove_refresh(gens_, next, prepared, *set,
                                                          *token_index_ - window.start, t));
  draft.proofs = std::move(proofs);
  const Bytes message = cash_signed_bytes(draft);
  crypto_sign_detached(draft.cash->signature.data(), nullptr, message.data(), message.size(),
                       secret_key_.data());
  pending_token_ = prepared.next();
  pending_tag_.reset();
  pending_cash_ =
      PendingCash{draft.cash->sequence, prepared.new_balance(), prepared.new_balance_blinding()};
  return draft;
}

Result<ExitTx> PrivateWallet::build_exit(const PrivateLedger& ledger) {
  if (!token_index_) return Status::failed_precondition("register first");
  const auto epoch = ledger.default_epoch(public_key_);
  if (!epoch)
    return Status::failed_precondition("this identity has not defaulted: nothing to exit");
  if (ledger.exited(public_key_)) return Status::failed_precondition("this identity exited");
  if (*epoch != token_epoch_)
    return Status::failed_precondition("the wallet's token is not of epoch " +
                                       std::to_string(*epoch) + ", the one it defaulted in");
  PFEX_ASSIGN_OR_RETURN(ExitContext ctx, ledger.exit_context(public_key_));
  ExitTx tx;
  tx.entries = pending_entries(ledger, std::nullopt);
  std::size_t unsettled = 0;
  for (const auto& [id, tag] : orders_) {
    const PrivateOrder* o = ledger.order(id);
    if (o != nullptr && (o->claimed < o->fills.size() || !o->released)) ++unsettled;
  }
  if (unsettled > kMaxSettleEntries)
    return Status::failed_precondition(std::to_string(unsettled) +
                                       " orders are unsettled; an exit settles at most 16");
  tx.signer = public_key_;
  tx.sequence = sequence_ + 1;
  PFEX_ASSIGN_OR_RETURN(SpendEffects effects, ledger.resolve(tx));
  const Window window =
      newest_window(token_epoch_, *token_index_, ledger.tokens(token_epoch_).size(),
                    ledger.terms().window_size());
  PFEX_ASSIGN_OR_RETURN(PreparedExit prepared,
                        prepare_exit(gens_, ctx, token_, r_K_, window, effects.deltas));
  tx.exit = prepared.pub();
  std::vector<TagOpening> openings;
  for (const SettleEntry& e : tx.entries)
    openings.push_back(orders_.at(e.order));
  PFEX_ASSIGN_OR_RETURN(const auto set, ledger.window_set(window));
  crypto::Transcript t = ledger.exit_transcript(tx, ctx);
  PFEX_ASSIGN_OR_RETURN(ExitProofs proofs,
                        prove_exit(gens_, ctx, prepared, *set, *token_index_ - window.start,
                                   effects.tags, openings, t));
  tx.proofs = std::move(proofs);
  const Bytes message = exit_signed_bytes(tx);
  crypto_sign_detached(tx.signature.data(), nullptr, message.data(), message.size(),
                       secret_key_.data());
  pending_token_.reset();
  pending_tag_.reset();
  // The claim is public and paid with no blinding: the account's opening gains exactly it.
  pending_cash_ = PendingCash{tx.sequence, balance_ + static_cast<std::uint64_t>(tx.exit.claim),
                              balance_blinding_};
  return tx;
}

namespace {

constexpr std::size_t kMemoPlain = 40;  // amount (8) || g_a (32)

// The memo key: BLAKE2b-256 of the X25519 shared secret, the ephemeral and the receiver's keys.
std::array<std::uint8_t, 32> memo_key(std::span<const std::uint8_t, 32> shared,
                                      std::span<const std::uint8_t, 32> epk,
                                      std::span<const std::uint8_t, 32> rpk) {
  Hasher h("pfex/v1/transfer-memo");
  h.update(shared);
  h.update(epk);
  h.update(rpk);
  return h.finish();
}

}  // namespace

Result<TransferTx> PrivateWallet::build_transfer(const PrivateLedger& ledger,
                                                 const std::array<std::uint8_t, 32>& receiver,
                                                 std::uint64_t amount) {
  if (ledger.identity(public_key_) == nullptr) return Status::failed_precondition("register first");
  if (amount > balance_)
    return Status::insolvent("the cash account is short by " + std::to_string(amount - balance_));
  std::array<std::uint8_t, 32> rpk{};
  if (crypto_sign_ed25519_pk_to_curve25519(rpk.data(), receiver.data()) != 0)
    return Status::invalid_argument("the receiver's key has no X25519 form");
  TransferTx tx;
  tx.sender = public_key_;
  tx.receiver = receiver;
  tx.sequence = sequence_ + 1;
  const Scalar g_a = Scalar::random();
  tx.V_a = gens_.pedersen().commit(Scalar::from_u64(amount), g_a);

  // The memo: epk || nonce || XChaCha20-Poly1305(amount || g_a).
  std::array<std::uint8_t, 32> esk{}, epk{}, shared{};
  randombytes_buf(esk.data(), esk.size());
  crypto_scalarmult_base(epk.data(), esk.data());
  if (crypto_scalarmult(shared.data(), esk.data(), rpk.data()) != 0)
    return Status::invalid_argument("the receiver's key is degenerate");
  auto key = memo_key(shared, epk, rpk);
  std::array<std::uint8_t, kMemoPlain> plain{};
  for (int i = 0; i < 8; ++i)
    plain[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(amount >> (8 * i));
  std::copy(g_a.bytes().begin(), g_a.bytes().end(), plain.begin() + 8);
  std::copy(epk.begin(), epk.end(), tx.memo.begin());
  std::uint8_t* nonce = tx.memo.data() + 32;
  randombytes_buf(nonce, 24);
  crypto_aead_xchacha20poly1305_ietf_encrypt(tx.memo.data() + 56, nullptr, plain.data(),
                                             plain.size(), tx.memo.data(), 32, nullptr, nonce,
                                             key.data());
  sodium_memzero(esk.data(), esk.size());
  sodium_memzero(shared.data(), shared.size());
  sodium_memzero(key.data(), key.size());
  sodium_memzero(plain.data(), plain.size());

  const std::uint64_t new_balance = balance_ - amount;
  const Scalar new_blinding = balance_blinding_ - g_a;
  crypto::Transcript t = tx_transcript(ledger.terms(), PrivateTx(tx));
  const std::array<std::uint64_t, 2> values = {amount, new_balance};
  const std::array<Scalar, 2> blindings = {g_a, new_blinding};
  PFEX_ASSIGN_OR_RETURN(auto range,
                        crypto::RangeProof::prove(gens_.bulletproofs(), t, values, blindings));
  tx.range = std::move(range.proof);
  const Bytes message = transfer_signed_bytes(tx);
  crypto_sign_detached(tx.signature.data(), nullptr, message.data(), message.size(),
                       secret_key_.data());
  pending_token_.reset();
  pending_tag_.reset();
  pending_cash_ = PendingCash{tx.sequence, new_balance, new_blinding};
  return tx;
}

Status PrivateWallet::receive(const TransferTx& tx) {
  if (tx.receiver != public_key_) return Status::invalid_argument("not a transfer to this wallet");
  std::array<std::uint8_t, 32> rsk{}, rpk{}, shared{};
  crypto_sign_ed25519_sk_to_curve25519(rsk.data(), secret_key_.data());
  crypto_scalarmult_base(rpk.data(), rsk.data());
  const std::span<const std::uint8_t, 32> epk(tx.memo.data(), 32);
  const int agreed = crypto_scalarmult(shared.data(), rsk.data(), epk.data());
  auto key = memo_key(shared, epk, rpk);
  std::array<std::uint8_t, kMemoPlain> plain{};
  const int opened = crypto_aead_xchacha20poly1305_ietf_decrypt(
      plain.data(), nullptr, nullptr, tx.memo.data() + 56, kMemoPlain + 16, tx.memo.data(), 32,
      tx.memo.data() + 32, key.data());
  sodium_memzero(rsk.data(), rsk.size());
  sodium_memzero(shared.data(), shared.size());
  sodium_memzero(key.data(), key.size());
  std::uint64_t amount = 0;
  for (int i = 7; i >= 0; --i)
    amount = (amount << 8) | plain[static_cast<std::size_t>(i)];
  auto g_a = Scalar::decode(ByteSpan(plain).subspan(8, 32));
  sodium_memzero(plain.data(), plain.size());
  if (agreed != 0 || opened != 0 || !g_a.is_ok())
    return Status::invalid_argument("the transfer's memo does not open");
  if (!gens_.pedersen().opens_var(tx.V_a, Scalar::from_u64(amount), *g_a))
    return Status::invalid_argument("the memo does not match the transferred commitment");
  balance_ += amount;
  balance_blinding_ += *g_a;
  return Status::ok();
}

Status PrivateWallet::confirm(const Applied& applied) {
  if (applied.type == TxType::kExit && pending_cash_ && !pending_token_) {
    // The token is spent for good and every order settled.
    token_index_.reset();
    orders_.clear();
  }
  if ((applied.type == TxType::kTransfer || applied.type == TxType::kExit) && pending_cash_ &&
      !pending_token_) {
    sequence_ = pending_cash_->sequence;
    balance_ = pending_cash_->balance;
    balance_blinding_ = pending_cash_->blinding;
    pending_cash_.reset();
    return Status::ok();
  }
  if (!pending_token_ || !applied.token_index)
    return Status::failed_precondition("no pending transaction to confirm");
  token_ = *pending_token_;
  token_index_ = applied.token_index;
  token_epoch_ = applied.token_epoch;
  pending_token_.reset();
  if (pending_tag_ && applied.new_order) orders_[*applied.new_order] = *pending_tag_;
  pending_tag_.reset();
  if (pending_cash_) {
    sequence_ = pending_cash_->sequence;
    balance_ = pending_cash_->balance;
    balance_blinding_ = pending_cash_->blinding;
    pending_cash_.reset();
  }
  return Status::ok();
}

void PrivateWallet::discard_pending() {
  if (pending_cash_ && pending_cash_->sequence > sequence_) sequence_ = pending_cash_->sequence;
  pending_token_.reset();
  pending_tag_.reset();
  pending_cash_.reset();
}

std::size_t PrivateWallet::forget_settled(const PrivateLedger& ledger) {
  if (has_pending()) return 0;
  return std::erase_if(orders_, [&](const auto& order) {
    const PrivateOrder* o = ledger.order(order.first);
    return o != nullptr && o->closed && o->released && o->claimed == o->fills.size();
  });
}

namespace {

constexpr std::uint32_t kMaxWalletOrders = 1U << 20;

void write_opening(Writer& w, const TokenOpening& t) {
  crypto::write_scalar(w, t.r);
  crypto::write_scalar(w, t.kappa);
  crypto::write_scalar(w, t.sn);
  w.i64(t.a.c);
  for (const std::uint64_t v : {t.a.vp, t.a.vm, t.a.B, t.a.S, t.a.QB, t.a.QS})
    w.u64(v);
}

TokenOpening read_opening(Reader& r) {
  TokenOpening t;
  t.r = crypto::read_scalar(r, "token r");
  t.kappa = crypto::read_scalar(r, "token kappa");
  t.sn = crypto::read_scalar(r, "token serial");
  t.a.c = r.i64("token c");
  t.a.vp = r.u64("token v+");
  t.a.vm = r.u64("token v-");
  t.a.B = r.u64("token B");
  t.a.S = r.u64("token S");
  t.a.QB = r.u64("token QB");
  t.a.QS = r.u64("token QS");
  return t;
}

void write_tag(Writer& w, const TagOpening& t) {
  crypto::write_scalar(w, t.o);
  crypto::write_scalar(w, t.rho);
}

TagOpening read_tag(Reader& r) {
  TagOpening t;
  t.o = crypto::read_scalar(r, "tag o");
  t.rho = crypto::read_scalar(r, "tag rho");
  return t;
}

// The position of `c` in the token list of `epoch`, searched from the newest.
std::optional<std::uint64_t> find_token(const PrivateLedger& ledger, std::uint64_t epoch,
                                        const Point& c) {
  const std::span<const Point> list = ledger.tokens(epoch);
  for (std::size_t i = list.size(); i-- > 0;)
    if (list[i] == c) return i;
  return std::nullopt;
}

}  // namespace

void PrivateWallet::encode_state(Writer& w) const {
  w.u32(kStateVersion);
  crypto::write_scalar(w, kappa_);
  std::array<std::uint8_t, 32> seed{};
  crypto_sign_ed25519_sk_to_seed(seed.data(), secret_key_.data());
  w.fixed(seed);
  sodium_memzero(seed.data(), seed.size());
  crypto::write_scalar(w, r_K_);
  write_opening(w, token_);
  w.boolean(token_index_.has_value());
  if (token_index_) w.u64(*token_index_);
  w.u64(token_epoch_);
  w.u32(static_cast<std::uint32_t>(orders_.size()));
  for (const auto& [id, tag] : orders_) {
    w.u64(id);
    write_tag(w, tag);
  }
  w.u64(sequence_);
  w.u64(balance_);
  crypto::write_scalar(w, balance_blinding_);
  w.boolean(pending_token_.has_value());
  if (pending_token_) write_opening(w, *pending_token_);
  w.boolean(pending_tag_.has_value());
  if (pending_tag_) write_tag(w, *pending_tag_);
  w.boolean(pending_cash_.has_value());
  if (pending_cash_) {
    w.u64(pending_cash_->sequence);
    w.u64(pending_cash_->balance);
    crypto::write_scalar(w, pending_cash_->blinding);
  }
}

Result<std::unique_ptr<PrivateWallet>> PrivateWallet::decode_state(const PrivateGens& gens,
                                                                   ByteSpan bytes) {
  ensure_sodium_init();
  Reader r(bytes);
  const std::uint32_t version = r.u32("private wallet version");
  if (!r.failed() && version != kStateVersion)
    return Status::corruption("unknown private wallet version " + std::to_string(version) +
                              " (this build reads " + std::to_string(kStateVersion) + ")");
  auto w = std::unique_ptr<PrivateWallet>(new PrivateWallet(gens));
  w->kappa_ = crypto::read_scalar(r, "chain key");
  std::array<std::uint8_t, 32> seed{};
  r.fixed("identity seed", seed);
  crypto_sign_seed_keypair(w->public_key_.data(), w->secret_key_.data(), seed.data());
  sodium_memzero(seed.data(), seed.size());
  w->r_K_ = crypto::read_scalar(r, "r_K");
  w->token_ = read_opening(r);
  if (r.boolean("has token index")) w->token_index_ = r.u64("token index");
  w->token_epoch_ = r.u64("token epoch");
  const std::uint32_t count = r.u32("order count");
  if (count > kMaxWalletOrders)
    r.fail(Status::corruption("order count " + std::to_string(count) + " is over " +
                              std::to_string(kMaxWalletOrders)));
  for (std::uint32_t i = 0; i < count && !r.failed(); ++i) {
    const std::uint64_t id = r.u64("order id");
    TagOpening tag = read_tag(r);
    if (!r.failed() && !w->orders_.empty() && id <= w->orders_.rbegin()->first)
      r.fail(Status::corruption("order ids are not strictly increasing at order " +
                                std::to_string(id)));
    if (!r.failed()) w->orders_.emplace(id, tag);
  }
  w->sequence_ = r.u64("sequence");
  w->balance_ = r.u64("cash balance");
  w->balance_blinding_ = crypto::read_scalar(r, "cash blinding");
  if (r.boolean("has pending token")) w->pending_token_ = read_opening(r);
  if (r.boolean("has pending tag")) w->pending_tag_ = read_tag(r);
  if (r.boolean("has pending cash")) {
    PendingCash cash{};
    cash.sequence = r.u64("pending sequence");
    cash.balance = r.u64("pending balance");
    cash.blinding = crypto::read_scalar(r, "pending blinding");
    w->pending_cash_ = cash;
  }
  if (Status s = r.finish(); !s) {
    if (s.code() == ErrorCode::kCorruption) return s.with_context("private wallet");
    return Status::corruption("private wallet: " + std::string(s.message()));
  }
  return w;
}

Result<std::optional<Applied>> PrivateWallet::find_applied(const PrivateLedger& ledger,
                                                           const PrivateTx& tx) const {
  if (!has_pending()) return Status::failed_precondition("no transaction is pending");
  Applied applied;
  applied.type = tx_type(tx);
  if (const auto* reg = std::get_if<RegisterTx>(&tx)) {
    if (!pending_token_ || reg->signer != public_key_ || token_index_)
      return Status::failed_precondition("the pending transaction is not this register");
    if (ledger.identity(public_key_) == nullptr) return std::optional<Applied>();
    applied.token_epoch = ledger.terms().epoch;
    applied.token_index = find_token(ledger, applied.token_epoch, reg->token);
    if (!applied.token_index)
      return Status::corruption("the identity is registered with another token");
    return std::optional<Applied>(applied);
  }
  if (std::holds_alternative<TransferTx>(tx) || std::holds_alternative<ExitTx>(tx)) {
    const std::uint64_t sequence = std::holds_alternative<TransferTx>(tx)
                                       ? std::get<TransferTx>(tx).sequence
                                       : std::get<ExitTx>(tx).sequence;
    if (pending_token_ || !pending_cash_ || pending_cash_->sequence != sequence)
      return Status::failed_precondition("the pending transaction is not this one");
    if (ledger.last_sequence(public_key_) < sequence) return std::optional<Applied>();
    if (const auto* exit = std::get_if<ExitTx>(&tx)) applied.token_epoch = exit->exit.window.epoch;
    return std::optional<Applied>(applied);
  }
  const auto* spend = std::get_if<SpendTx>(&tx);
  if (spend == nullptr || !pending_token_ || !(spend->spend.serial == token_.sn))
    return Status::failed_precondition("the pending transaction is not this spend");
  if (!ledger.serial_seen(token_.sn)) return std::optional<Applied>();
  const Point next = pending_token_->commit(gens_);
  for (const std::uint64_t epoch : {ledger.terms().epoch, spend->spend.window.epoch}) {
    applied.token_index = find_token(ledger, epoch, next);
    applied.token_epoch = epoch;
    if (applied.token_index) break;
  }
  if (!applied.token_index)
    return Status::corruption("the token's serial is spent, but not into the pending token");
  if (pending_tag_) {
    const Point tag = pending_tag_->commit(gens_, kappa_);
    for (std::size_t id = ledger.order_count(); id-- > 0;) {
      if (ledger.order(id)->tag == tag) {
        applied.new_order = id;
        break;
      }
    }
    if (!applied.new_order) return Status::corruption("the pending order is not in the ledger");
  }
  return std::optional<Applied>(applied);
}

}  // namespace pfex::priv
