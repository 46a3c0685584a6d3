#include "protocol/private/wallet.hpp"

#include <sodium.h>

#include <string>

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
  tx.J = kappa_ * gens_.chain_J();
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
  PFEX_ASSIGN_OR_RETURN(SpendEffects effects, ledger.resolve(draft));
  const MarketTerms* spend_terms = ledger.terms_for_epoch(token_epoch_);
  if (spend_terms == nullptr)
    return Status::failed_precondition("the token is of epoch " + std::to_string(token_epoch_) +
                                       ": only an exit can spend it");
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
    effects.tags.back() = draft.order->tag;
  }
  PFEX_ASSIGN_OR_RETURN(const crypto::OneOfManySet* set, ledger.window_set(window));
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
  PFEX_ASSIGN_OR_RETURN(const crypto::OneOfManySet* set, ledger.window_set(window));
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

Status PrivateWallet::confirm(const Applied& applied) {
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

}  // namespace pfex::priv
