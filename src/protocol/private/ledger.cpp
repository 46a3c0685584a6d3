#include "protocol/private/ledger.hpp"

#include <optional>
#include <string>

#include "crypto/ed25519.hpp"

namespace pfex::priv {
namespace {

std::string order_name(std::uint64_t id) {
  return "order " + std::to_string(id);
}

}  // namespace

PrivateLedger::PrivateLedger(const PrivateGens& gens, MarketTerms terms)
    : gens_(gens), terms_(terms) {}

std::span<const Point> PrivateLedger::tokens(std::uint64_t epoch) const {
  auto it = tokens_.find(epoch);
  if (it == tokens_.end()) return {};
  return it->second;
}

std::vector<std::uint64_t> PrivateLedger::token_epochs() const {
  std::vector<std::uint64_t> out;
  out.reserve(tokens_.size());
  for (const auto& [epoch, list] : tokens_)
    out.push_back(epoch);
  return out;
}

const PrivateOrder* PrivateLedger::order(std::uint64_t id) const {
  return id < orders_.size() ? &orders_[id] : nullptr;
}

bool PrivateLedger::serial_seen(const Scalar& sn) const {
  return serials_.count(sn.bytes()) != 0;
}

const Identity* PrivateLedger::identity(const std::array<std::uint8_t, 32>& signer) const {
  auto it = identities_.find(signer);
  return it == identities_.end() ? nullptr : &it->second;
}

std::uint64_t PrivateLedger::last_sequence(const std::array<std::uint8_t, 32>& signer) const {
  auto it = sequences_.find(signer);
  return it == sequences_.end() ? 0 : it->second;
}

Status PrivateLedger::check_sequence(const std::array<std::uint8_t, 32>& signer,
                                     std::uint64_t sequence) const {
  if (auto it = sequences_.find(signer); it != sequences_.end() && sequence <= it->second)
    return Status::already_exists("sequence " + std::to_string(sequence) +
                                  " is not above the signer's last, " + std::to_string(it->second));
  return Status::ok();
}

Result<CashMovePublic> PrivateLedger::cash_move(const SpendTx& tx) const {
  const Identity* id = identity(tx.cash->signer);
  if (id == nullptr) return Status::not_found("the signer is not a registered identity");
  CashMovePublic out;
  out.deposit = tx.type == TxType::kDeposit;
  out.V_a = tx.cash->V_a;
  out.enc = tx.cash->enc;
  out.K = id->K;
  out.new_balance = balance_after(id->balance, tx.cash->V_a, out.deposit);
  out.pk = terms_.validators_key;
  return out;
}

Result<RefreshPublic> PrivateLedger::refresh_public(const SpendTx& tx) const {
  const Identity* id = identity(tx.cash->signer);
  if (id == nullptr) return Status::not_found("the signer is not a registered identity");
  RefreshPublic rp;
  rp.V_d = tx.cash->V_a;
  rp.enc_d = tx.cash->enc;
  rp.enc_v = tx.refresh->enc_v;
  rp.enc_c = tx.refresh->enc_c;
  rp.enc_g = tx.refresh->enc_g;
  rp.K = id->K;
  rp.new_balance = balance_after(id->balance, tx.cash->V_a, true);
  rp.pk = terms_.validators_key;
  rp.levy = levy_;
  return rp;
}

Status PrivateLedger::resolve_entries(const std::vector<SettleEntry>& entries,
                                      const MarketTerms& terms, const SpendTx* spend,
                                      SpendEffects& out) const {
  // Settle entries: claim fills (claimed, fill_index], release a closed order's remainder.
  for (const SettleEntry& e : entries) {
    const PrivateOrder* o = order(e.order);
    if (o == nullptr) return Status::not_found("settle entry: " + order_name(e.order) + " unknown");
    const std::string name = "settle entry for " + order_name(e.order);
    if (is_fund_order(*o))
      return Status::failed_precondition(name + ": the fund's liquidation order is not a trader's");
    if (e.fill_index < o->claimed || e.fill_index > o->fills.size())
      return Status::failed_precondition(name + ": fill index " + std::to_string(e.fill_index) +
                                         " outside [" + std::to_string(o->claimed) + ", " +
                                         std::to_string(o->fills.size()) + "]");
    if (e.fill_index == o->claimed && !e.release)
      return Status::failed_precondition(name + ": nothing to claim (fills up to " +
                                         std::to_string(o->claimed) + " already claimed)");
    if (e.release && !o->closed)
      return Status::failed_precondition(name + ": cannot release an open order");
    if (e.release && o->released) return Status::failed_precondition(name + ": already released");
    if (spend != nullptr && e.release && spend->type == TxType::kCancelReplace &&
        e.order == spend->target)
      return Status::invalid_argument(name + ": the cancel-replace itself releases it");
    Checked<std::int64_t> F(0), X(0);
    for (std::uint64_t i = o->claimed; i < e.fill_index; ++i) {
      F += o->fills[i].qty;
      X += Checked<std::int64_t>(o->fills[i].price) * o->fills[i].qty;
    }
    if (F.overflowed() || X.overflowed()) return Status::overflow(name + ": fills overflow");
    PFEX_RETURN_IF_ERROR(add_claim(out.deltas, o->side, o->price, F.value(), X.value(), terms));
    if (e.release && o->qty > o->filled)
      PFEX_RETURN_IF_ERROR(add_release(out.deltas, o->side, o->price, o->qty - o->filled));
    out.tags.push_back(o->tag);
  }
  return Status::ok();
}

Result<SpendEffects> PrivateLedger::resolve(const SpendTx& tx) const {
  // Fills are claimed under the terms of the epoch whose token is spent: during a refresh window
  // an old-epoch token settles its fills with that epoch's tick value and fee.
  const MarketTerms* claim_terms = terms_for_epoch(tx.spend.window.epoch);
  if (claim_terms == nullptr)
    return Status::failed_precondition("window of epoch " + std::to_string(tx.spend.window.epoch) +
                                       ": trading spends tokens of the current epoch " +
                                       std::to_string(terms_.epoch) +
                                       " (an older token is spendable only by exit)");
  SpendEffects out;
  PFEX_RETURN_IF_ERROR(resolve_entries(tx.entries, *claim_terms, &tx, out));
  // The order a reduce or cancel-replace acts on.
  if (tx.type == TxType::kReduce || tx.type == TxType::kCancelReplace) {
    PFEX_ASSIGN_OR_RETURN(const PrivateOrder* o, open_trader_order(tx.target));
    if (o->fills.size() != tx.fills_seen)
      return Status::failed_precondition(
          order_name(tx.target) + " has " + std::to_string(o->fills.size()) +
          " fills, the transaction saw " + std::to_string(tx.fills_seen));
    const std::int64_t open = o->qty - o->filled;
    const std::int64_t released = tx.type == TxType::kReduce ? tx.reduce_by : open;
    if (tx.type == TxType::kReduce && (tx.reduce_by < 1 || tx.reduce_by > open))
      return Status::invalid_argument("reduce by " + std::to_string(tx.reduce_by) + ": only " +
                                      std::to_string(open) + " open");
    if (released > 0) PFEX_RETURN_IF_ERROR(add_release(out.deltas, o->side, o->price, released));
    out.tags.push_back(o->tag);
  }
  // The new order of a post or cancel-replace.
  if (tx.type == TxType::kPost || tx.type == TxType::kCancelReplace) {
    if (!tx.order) return Status::invalid_argument("the transaction carries no order");
    const OrderFields& o = *tx.order;
    if (!terms_.in_band(o.price))
      return Status::invalid_argument("price " + std::to_string(o.price) +
                                      " is outside the band [" + std::to_string(terms_.low) + ", " +
                                      std::to_string(terms_.high) + "]");
    if (o.qty < 1 || o.qty > terms_.max_order_qty)
      return Status::invalid_argument("qty " + std::to_string(o.qty) + " outside [1, " +
                                      std::to_string(terms_.max_order_qty) + "]");
    PFEX_RETURN_IF_ERROR(add_post(out.deltas, o.side, o.price, o.qty));
    out.tags.push_back(o.tag);
  }
  return out;
}

Result<SpendEffects> PrivateLedger::resolve(const ExitTx& tx) const {
  auto epoch = default_epoch(tx.signer);
  if (!epoch) return Status::failed_precondition("only a defaulted identity exits");
  for (const SettleEntry& e : tx.entries) {
    const PrivateOrder* o = order(e.order);
    if (o != nullptr && (e.fill_index != o->fills.size() || (!e.release && !o->released)))
      return Status::failed_precondition("an exit's entry for " + order_name(e.order) +
                                         " claims every fill and releases the order");
  }
  SpendEffects out;
  PFEX_RETURN_IF_ERROR(resolve_entries(tx.entries, default_rounds_.at(*epoch).terms, nullptr, out));
  return out;
}

std::optional<std::uint64_t> PrivateLedger::default_epoch(
    const std::array<std::uint8_t, 32>& signer) const {
  auto it = defaulted_.find(signer);
  if (it == defaulted_.end()) return std::nullopt;
  return it->second;
}

Status PrivateLedger::record_liquidation_price(std::uint64_t epoch, const LiquidationPrice& price) {
  PFEX_RETURN_IF_ERROR(validate(price));
  auto it = default_rounds_.find(epoch);
  if (it == default_rounds_.end())
    return Status::failed_precondition("nobody defaulted in the round of epoch " +
                                       std::to_string(epoch));
  if (it->second.price) return Status::failed_precondition("the liquidation price is recorded");
  it->second.price = price;
  return Status::ok();
}

Status PrivateLedger::lapse_exits(std::uint64_t epoch, LedgerTime ended_at) {
  if (ended_at.value() < 0) return Status::invalid_argument("an exit period ends at time >= 0");
  auto it = default_rounds_.find(epoch);
  if (it == default_rounds_.end() || !it->second.price)
    return Status::failed_precondition("no liquidation price is recorded for the round of epoch " +
                                       std::to_string(epoch));
  if (it->second.lapsed_at)
    return Status::failed_precondition("the exit period of epoch " + std::to_string(epoch) +
                                       "'s defaulters already ended");
  it->second.lapsed_at = ended_at;
  return Status::ok();
}

std::optional<LedgerTime> PrivateLedger::exits_lapsed_at(std::uint64_t epoch) const {
  auto it = default_rounds_.find(epoch);
  if (it == default_rounds_.end()) return std::nullopt;
  return it->second.lapsed_at;
}

const MarketTerms* PrivateLedger::default_terms(const std::array<std::uint8_t, 32>& signer) const {
  const auto epoch = default_epoch(signer);
  return epoch ? &default_rounds_.at(*epoch).terms : nullptr;
}

crypto::Transcript PrivateLedger::exit_transcript(const ExitTx& tx, const ExitContext& ctx) const {
  // The terms of the epoch the identity defaulted in (the current ones for anyone else: such an
  // exit is refused before its proofs are looked at).
  const MarketTerms* terms = default_terms(tx.signer);
  crypto::Transcript t = tx_transcript(terms != nullptr ? *terms : terms_, PrivateTx(tx));
  absorb_exit_context(t, ctx);
  return t;
}

Result<ExitContext> PrivateLedger::exit_context(const std::array<std::uint8_t, 32>& signer) const {
  const Identity* id = identity(signer);
  auto epoch = default_epoch(signer);
  if (id == nullptr || !epoch)
    return Status::failed_precondition("only a defaulted identity exits");
  const DefaultRound& round = default_rounds_.at(*epoch);
  if (!round.price)
    return Status::failed_precondition(
        "the liquidation of the defaulters' position is still running; exit after it finishes");
  if (round.lapsed_at)
    return Status::failed_precondition(
        "the exit period of epoch " + std::to_string(*epoch) + "'s defaulters ended at " +
        std::to_string(round.lapsed_at->value()) + " ms of ledger time; the fund keeps the claim");
  ExitContext ctx;
  ctx.K = id->K;
  ctx.price = *round.price;
  ctx.penalty = round.terms.exit_penalty;
  ctx.tick_value = round.terms.tick_value;
  return ctx;
}

Result<std::shared_ptr<const crypto::OneOfManySet>> PrivateLedger::window_set(
    const Window& w) const {
  const std::array<std::uint64_t, 3> key = {w.epoch, w.start, w.length};
  if (auto it = sets_.find(key); it != sets_.end()) return it->second;
  PFEX_ASSIGN_OR_RETURN(auto points, window_points(w, tokens(w.epoch), terms_.window_size()));
  PFEX_ASSIGN_OR_RETURN(auto set, crypto::OneOfManySet::create(std::move(points)));
  // A bounded cache (windows move with the list); holders keep their sets alive.
  if (sets_.size() >= kWindowCacheSize) sets_.clear();
  auto shared = std::make_shared<const crypto::OneOfManySet>(std::move(set));
  sets_[key] = shared;
  return shared;
}

const MarketTerms* PrivateLedger::terms_for_epoch(std::uint64_t epoch) const {
  if (epoch == terms_.epoch) return &terms_;
  if (refresh_window_ && previous_ && epoch == previous_->epoch) return &*previous_;
  return nullptr;
}

Status PrivateLedger::begin_margin_round(const MarketTerms& next, std::int64_t levy) {
  if (refresh_window_) return Status::failed_precondition("a refresh window is open");
  if (next.epoch != terms_.epoch + 1 || next.market_id != terms_.market_id ||
      next.log_window != terms_.log_window || !(next.validators_key == terms_.validators_key) ||
      next.issuer != terms_.issuer)
    return Status::invalid_argument("the next epoch's terms must follow the current ones");
  PFEX_RETURN_IF_ERROR(next.validate());
  if (levy < 0 || levy >= (std::int64_t{1} << 40))
    return Status::invalid_argument("levy must be in [0, 2^40)");
  for (PrivateOrder& o : orders_)
    o.closed = true;  // the halt: every resting order expires
  previous_ = terms_;
  terms_ = next;
  refresh_window_ = true;
  levy_ = levy;
  refreshed_.clear();
  sums_ = RoundSums{};
  // What the round's equity sum starts from: the cash paid in and the fees charged by the halt.
  sums_.paid_in_at_halt = paid_in_;
  sums_.fees_at_halt = fees_;
  sets_.clear();
  return Status::ok();
}

namespace {

crypto::Ciphertext scaled(const crypto::Ciphertext& ct, i128 factor) {
  const Scalar s = scalar_from_i128_var(factor);
  return {s * ct.R, s * ct.E};
}

// Enc(x) with no randomness: a public term folded into a sum before decryption.
crypto::Ciphertext public_term(i128 x) {
  return {Point::identity(), Point::mul_base(scalar_from_i128_var(x))};
}

}  // namespace

Result<std::vector<std::array<std::uint8_t, 32>>> PrivateLedger::close_refresh_window(
    const RoundClose& close) {
  if (!refresh_window_) return Status::failed_precondition("no refresh window is open");
  const bool resolve = key_state_ == KeyState::kGenerated;
  if (resolve && (close.reference < 1 || close.reference > kMaxPriceTicks))
    return Status::invalid_argument("the round's reference price " +
                                    std::to_string(close.reference) + " is outside [1, 2^31]");
  if (resolve && (resolutions_.pending(previous_->epoch) != nullptr ||
                  resolutions_.recorded().count(previous_->epoch) != 0))
    return Status::already_exists("the round of epoch " + std::to_string(previous_->epoch) +
                                  " is already being resolved or resolved");
  std::vector<std::array<std::uint8_t, 32>> out;
  for (auto& [signer, id] : identities_) {
    if (refreshed_.count(signer) == 0 && defaulted_.count(signer) == 0) {
      defaulted_[signer] = previous_->epoch;
      out.push_back(signer);
      // Absentees forfeit their bonds to the fund.
      fund_.bonds_held -= id.bond;
      fund_.bonds_forfeited += id.bond;
      id.bond = 0;
    }
  }
  if (!out.empty())
    default_rounds_[previous_->epoch] = DefaultRound{*previous_, std::nullopt, std::nullopt};
  refresh_window_ = false;
  if (resolve) {
    // docs/design.md section 6.3, every term at the halt h: the cash in all live tokens
    // (unsettled fills included) plus the fund's trading cash is Enc(Pi_h) minus the fees charged,
    // and a survivor's c_i(h) = c_i' - d_i + lambda*g_i, so
    //   E_D = c_D + P*k*v_D = Pi_h - fees_h - F_h - P*k*v_fund
    //         + sum_S d_i - sum_S c_i' - lambda*g_S - P*k*sum_S v_i.
    const i128 pk = i128{close.reference} * terms_.tick_value;
    RoundToResolve round;
    round.epoch = previous_->epoch;
    round.deadline = LedgerTime(close.at.value() + resolution_ms_);
    round.reference = close.reference;
    round.tick_value = terms_.tick_value;
    round.fund_position = close.fund_position;
    crypto::Ciphertext equity = sums_.paid_in_at_halt + sums_.deposit + scaled(sums_.cash, -1) +
                                scaled(sums_.gross, -i128{levy_}) + scaled(sums_.position, -pk);
    equity += public_term(-i128{sums_.fees_at_halt} - close.fund_cash - pk * close.fund_position);
    round.sums = {sums_.position, equity, sums_.gross};
    PFEX_RETURN_IF_ERROR(resolutions_.open(round));
  }
  return out;
}

Status PrivateLedger::await_key_generation(std::int64_t resolution_ms) {
  if (key_state_ != KeyState::kGenesis || !tokens_.empty() || !identities_.empty())
    return Status::failed_precondition("the key generation starts with the market");
  if (resolution_ms < 1 || resolution_ms > kMaxResolutionMs)
    return Status::invalid_argument("the resolution deadline D_res of " +
                                    std::to_string(resolution_ms) + " ms is outside [1, " +
                                    std::to_string(kMaxResolutionMs) + "]");
  key_state_ = KeyState::kAwaiting;
  resolution_ms_ = resolution_ms;
  return Status::ok();
}

Status PrivateLedger::install_validators_key(const Point& key) {
  if (key_state_ != KeyState::kAwaiting)
    return Status::failed_precondition("no key generation awaits its key");
  if (key.is_identity()) return Status::invalid_argument("the validators' key is the identity");
  key_state_ = KeyState::kGenerated;
  terms_.validators_key = key;
  if (previous_) previous_->validators_key = key;
  for (auto& [epoch, round] : default_rounds_)
    round.terms.validators_key = key;
  sets_.clear();
  return Status::ok();
}

Result<std::optional<Resolution>> PrivateLedger::apply_shares(ByteSpan entry, LedgerTime now,
                                                              const DkgKey& key,
                                                              const DkgGenesis& genesis,
                                                              const Digest32& session_id,
                                                              const TakeResolution& take) {
  if (key_state_ != KeyState::kGenerated)
    return Status::failed_precondition("decryption shares before the validators' key exists");
  return resolutions_.apply(entry, now, key, genesis, session_id, take);
}

Result<std::vector<Resolution>> PrivateLedger::advance_resolutions(LedgerTime now,
                                                                   const TakeResolution& take) {
  return resolutions_.advance(now, take);
}

Status PrivateLedger::check_key() const {
  if (key_state_ == KeyState::kAwaiting)
    return Status::failed_precondition(
        "no validators' key yet: the key generation through the log has not produced one, and "
        "deposits, withdrawals and refreshes encrypt to it");
  return Status::ok();
}

Status PrivateLedger::check_refresh(const SpendTx& tx, bool rules_only) const {
  const SpendPublic& pub = tx.spend;
  PFEX_RETURN_IF_ERROR(check_key());
  if (!refresh_window_ || !previous_)
    return Status::failed_precondition("no refresh window is open");
  if (pub.window.epoch != previous_->epoch)
    return Status::failed_precondition("a refresh spends a token of epoch " +
                                       std::to_string(previous_->epoch));
  PFEX_RETURN_IF_ERROR(
      check_window(pub.window, tokens(pub.window.epoch).size(), terms_.window_size()));
  if (pub.serial.is_zero()) return Status::invalid_argument("serial 0");
  if (serial_seen(pub.serial)) return Status::already_exists("serial already spent (double spend)");
  if (!tx.cash || !tx.refresh || !tx.entries.empty())
    return Status::invalid_argument("malformed refresh");
  for (std::size_t i = SpendPublic::kB; i < kSpendRangeValues; ++i) {
    if (!pub.V[i].is_identity())
      return Status::invalid_argument("a refresh commits to no open orders (V_B..V_QS = 0)");
  }
  const auto& signer = tx.cash->signer;
  const Identity* id = identity(signer);
  if (id == nullptr) return Status::not_found("the signer is not a registered identity");
  if (refreshed(signer)) return Status::already_exists("this identity already refreshed");
  if (defaulted(signer)) return Status::failed_precondition("this identity defaulted");
  PFEX_RETURN_IF_ERROR(check_sequence(signer, tx.cash->sequence));
  if (!tx.proofs) return Status::invalid_argument("the refresh carries no proofs");
  if (rules_only) return Status::ok();
  if (!crypto::ed25519_verify_var(tx.cash->signature, cash_signed_bytes(tx), signer))
    return Status::invalid_proof("refresh: bad signature");
  PFEX_ASSIGN_OR_RETURN(const RefreshPublic rp, refresh_public(tx));
  PFEX_ASSIGN_OR_RETURN(const auto set, window_set(pub.window));
  crypto::Transcript t = tx_transcript(terms_, PrivateTx(tx));
  return verify_refresh(gens_, terms_, pub, rp, *set, *tx.proofs, t);
}

Status PrivateLedger::check_exit(const ExitTx& tx, bool rules_only) const {
  const ExitPublic& pub = tx.exit;
  const Identity* id = identity(tx.signer);
  if (id == nullptr) return Status::not_found("the signer is not a registered identity");
  auto epoch = default_epoch(tx.signer);
  if (!epoch) return Status::failed_precondition("only a defaulted identity exits");
  if (exited(tx.signer)) return Status::already_exists("this identity already exited");
  if (pub.window.epoch != *epoch)
    return Status::failed_precondition("an exit spends the token of epoch " +
                                       std::to_string(*epoch) + ", the one it defaulted in");
  PFEX_RETURN_IF_ERROR(check_sequence(tx.signer, tx.sequence));
  PFEX_ASSIGN_OR_RETURN(ExitContext ctx, exit_context(tx.signer));
  PFEX_RETURN_IF_ERROR(
      check_window(pub.window, tokens(pub.window.epoch).size(), terms_.window_size()));
  if (pub.serial.is_zero()) return Status::invalid_argument("serial 0");
  if (serial_seen(pub.serial)) return Status::already_exists("serial already spent (double spend)");
  if (pub.claim < 0 || pub.claim > kCashSupplyCap)
    return Status::invalid_argument("the claim must be in [0, 2^46]");
  PFEX_ASSIGN_OR_RETURN(SpendEffects effects, resolve(tx));
  if (!tx.proofs) return Status::invalid_argument("the exit carries no proofs");
  if (rules_only) return Status::ok();
  if (!crypto::ed25519_verify_var(tx.signature, exit_signed_bytes(tx), tx.signer))
    return Status::invalid_proof("exit: bad signature");
  PFEX_ASSIGN_OR_RETURN(const auto set, window_set(pub.window));
  crypto::Transcript t = exit_transcript(tx, ctx);
  return verify_exit(gens_, ctx, pub, effects.deltas, effects.tags, *set, *tx.proofs, t);
}

Status PrivateLedger::check_spend(const SpendTx& tx, bool rules_only) const {
  const SpendPublic& pub = tx.spend;
  if (tx.type == TxType::kRefresh) return check_refresh(tx, rules_only);
  if (tx.order && tx.order->tag.is_identity())
    return Status::invalid_argument("an order's tag may not be the identity (it marks the fund's)");
  const MarketTerms* spend_terms = terms_for_epoch(pub.window.epoch);
  if (spend_terms == nullptr)
    return Status::failed_precondition("window of epoch " + std::to_string(pub.window.epoch) +
                                       ": trading spends tokens of the current epoch " +
                                       std::to_string(terms_.epoch) +
                                       " (an older token is spendable only by exit)");
  if (spend_terms != &terms_ && tx.type != TxType::kSettle)
    return Status::failed_precondition("during the refresh window a token of epoch " +
                                       std::to_string(pub.window.epoch) +
                                       " may only settle or refresh");
  PFEX_RETURN_IF_ERROR(
      check_window(pub.window, tokens(pub.window.epoch).size(), terms_.window_size()));
  if (pub.serial.is_zero()) return Status::invalid_argument("serial 0");
  if (serial_seen(pub.serial)) return Status::already_exists("serial already spent (double spend)");
  const bool moves_cash = tx.type == TxType::kDeposit || tx.type == TxType::kWithdraw;
  if (moves_cash != tx.cash.has_value())
    return Status::invalid_argument("cash fields on the wrong transaction type");
  std::optional<CashMovePublic> cash;
  if (moves_cash) {
    PFEX_RETURN_IF_ERROR(check_key());
    PFEX_RETURN_IF_ERROR(check_sequence(tx.cash->signer, tx.cash->sequence));
    PFEX_ASSIGN_OR_RETURN(cash, cash_move(tx));
  }
  PFEX_ASSIGN_OR_RETURN(SpendEffects effects, resolve(tx));
  if (!tx.proofs) return Status::invalid_argument("the spend carries no proofs");
  if (rules_only) return Status::ok();
  if (moves_cash &&
      !crypto::ed25519_verify_var(tx.cash->signature, cash_signed_bytes(tx), tx.cash->signer))
    return Status::invalid_proof(std::string(tx_type_name(tx.type)) + ": bad signature");
  PFEX_ASSIGN_OR_RETURN(const auto set, window_set(pub.window));
  crypto::Transcript t = tx_transcript(*spend_terms, PrivateTx(tx));
  return verify_spend(gens_, *spend_terms, pub, effects.deltas, effects.tags, *set, *tx.proofs, t,
                      cash ? &*cash : nullptr);
}

Status PrivateLedger::check_register(const RegisterTx& tx, bool rules_only) const {
  if (auto it = sequences_.find(tx.signer); it != sequences_.end() && tx.sequence <= it->second)
    return Status::already_exists("sequence " + std::to_string(tx.sequence) +
                                  " is not above the signer's last, " + std::to_string(it->second));
  if (sequences_.count(tx.signer) != 0)
    return Status::already_exists("this identity is already registered");
  if (chain_values_.count(tx.J.encode()) != 0)
    return Status::already_exists("J seen before: one identity per chain key");
  if (tx.bond != terms_.bond)
    return Status::invalid_argument("the bond posted is " + std::to_string(tx.bond) +
                                    ", the market's is " + std::to_string(terms_.bond));
  if (tx.bond > kCashSupplyCap - supply_)
    return Status::failed_precondition("the bond would pass the cash supply cap 2^46 (supply " +
                                       std::to_string(supply_) + ")");
  if (rules_only) return Status::ok();
  const Bytes signed_bytes = register_signed_bytes(tx);
  if (!crypto::ed25519_verify_var(tx.signature, signed_bytes, tx.signer))
    return Status::invalid_proof("register: bad signature");
  crypto::Transcript t = tx_transcript(terms_, PrivateTx(tx));
  if (Status s = crypto::verify_linear(register_statement(gens_, tx), tx.proof, t); !s.is_ok())
    return Status::invalid_proof("register: " + std::string(s.message()));
  return Status::ok();
}

Result<const PrivateOrder*> PrivateLedger::open_trader_order(std::uint64_t id) const {
  const PrivateOrder* o = order(id);
  if (o == nullptr) return Status::not_found(order_name(id) + " unknown");
  if (is_fund_order(*o))
    return Status::failed_precondition(order_name(id) + " is the fund's liquidation order");
  if (o->closed) return Status::failed_precondition(order_name(id) + " is closed");
  return o;
}

Status PrivateLedger::check_cancel(const CancelTx& tx, bool rules_only) const {
  PFEX_ASSIGN_OR_RETURN(const PrivateOrder* o, open_trader_order(tx.order));
  if (rules_only) return Status::ok();
  crypto::Transcript t = tx_transcript(terms_, PrivateTx(tx));
  if (Status s = crypto::verify_linear(tag_statement(gens_, o->tag), tx.proof, t); !s.is_ok())
    return Status::invalid_proof("cancel: the tag's opening does not verify: " +
                                 std::string(s.message()));
  return Status::ok();
}

Status PrivateLedger::check_mint(const MintTx& tx, bool rules_only) const {
  PFEX_RETURN_IF_ERROR(check_sequence(terms_.issuer, tx.sequence));
  if (identity(tx.account) == nullptr)
    return Status::not_found("mint: the account is not a registered identity");
  if (tx.amount < 1 || tx.amount > kCashSupplyCap - supply_)
    return Status::failed_precondition("mint of " + std::to_string(tx.amount) +
                                       " would pass the cash supply cap 2^46 (supply " +
                                       std::to_string(supply_) + ")");
  if (rules_only) return Status::ok();
  if (!crypto::ed25519_verify_var(tx.signature, mint_signed_bytes(terms_.market_id, tx),
                                  terms_.issuer))
    return Status::invalid_proof("mint: not signed by the issuer");
  return Status::ok();
}

Status PrivateLedger::check_transfer(const TransferTx& tx, bool rules_only) const {
  PFEX_RETURN_IF_ERROR(check_sequence(tx.sender, tx.sequence));
  const Identity* from = identity(tx.sender);
  if (from == nullptr || identity(tx.receiver) == nullptr)
    return Status::not_found("transfer: sender and receiver must be registered identities");
  if (tx.sender == tx.receiver) return Status::invalid_argument("transfer to oneself");
  if (!tx.range) return Status::invalid_argument("transfer: no range proof");
  if (rules_only) return Status::ok();
  if (!crypto::ed25519_verify_var(tx.signature, transfer_signed_bytes(tx), tx.sender))
    return Status::invalid_proof("transfer: bad signature");
  // The amount and the sender's new balance are both in [0, 2^64): no overdraft.
  crypto::Transcript t = tx_transcript(terms_, PrivateTx(tx));
  const std::array<Point, 2> commitments = {tx.V_a, from->balance - tx.V_a};
  if (Status s = tx.range->verify(gens_.bulletproofs(), t, commitments); !s.is_ok())
    return Status::invalid_proof("transfer: " + std::string(s.message()));
  return Status::ok();
}

Status PrivateLedger::check_impl(const PrivateTx& tx, bool rules_only) const {
  if (const auto* transfer = std::get_if<TransferTx>(&tx))
    return check_transfer(*transfer, rules_only);
  if (const auto* mint = std::get_if<MintTx>(&tx)) return check_mint(*mint, rules_only);
  if (const auto* reg = std::get_if<RegisterTx>(&tx)) return check_register(*reg, rules_only);
  if (const auto* cancel = std::get_if<CancelTx>(&tx)) return check_cancel(*cancel, rules_only);
  if (const auto* exit = std::get_if<ExitTx>(&tx)) return check_exit(*exit, rules_only);
  return check_spend(std::get<SpendTx>(tx), rules_only);
}

Status PrivateLedger::check(const PrivateTx& tx) const {
  return check_impl(tx, false);
}

Status PrivateLedger::check_rules(const PrivateTx& tx) const {
  return check_impl(tx, true);
}

Result<Applied> PrivateLedger::apply(const PrivateTx& tx) {
  PFEX_RETURN_IF_ERROR(check(tx));
  return apply_checked(tx);
}

Applied PrivateLedger::apply_checked(const PrivateTx& tx) {
  Applied out;
  out.type = tx_type(tx);
  if (const auto* reg = std::get_if<RegisterTx>(&tx)) {
    sequences_[reg->signer] = reg->sequence;
    chain_values_.insert(reg->J.encode());
    identities_[reg->signer] = Identity{reg->K, Point::identity(), reg->bond};
    supply_ += reg->bond;  // the bond enters the market from outside, like a mint
    fund_.bonds_held += reg->bond;
    if (refresh_window_) refreshed_.insert(reg->signer);  // a survivor with Enc(0)
    out.token_epoch = terms_.epoch;
    auto& list = tokens_[terms_.epoch];
    out.token_index = list.size();
    list.push_back(reg->token);
    return out;
  }
  if (const auto* cancel = std::get_if<CancelTx>(&tx)) {
    orders_[cancel->order].closed = true;
    return out;
  }
  if (const auto* transfer = std::get_if<TransferTx>(&tx)) {
    sequences_[transfer->sender] = transfer->sequence;
    identities_[transfer->sender].balance -= transfer->V_a;
    identities_[transfer->receiver].balance += transfer->V_a;
    return out;
  }
  if (const auto* mint = std::get_if<MintTx>(&tx)) {
    sequences_[terms_.issuer] = mint->sequence;
    identities_[mint->account].balance +=
        Point::mul_base(Scalar::from_u64(static_cast<std::uint64_t>(mint->amount)));
    supply_ += mint->amount;
    return out;
  }
  if (const auto* exit = std::get_if<ExitTx>(&tx)) {
    sequences_[exit->signer] = exit->sequence;
    serials_.insert(exit->exit.serial.bytes());
    for (const SettleEntry& e : exit->entries) {
      PrivateOrder& o = orders_[e.order];
      o.claimed = e.fill_index;
      o.released = true;
    }
    exited_.insert(exit->signer);
    // The fund pays the claim into the identity's cash account (public amount).
    identities_[exit->signer].balance +=
        Point::mul_base(Scalar::from_u64(static_cast<std::uint64_t>(exit->exit.claim)));
    fund_.exits_paid += exit->exit.claim;
    out.token_epoch = exit->exit.window.epoch;
    return out;
  }
  const auto& s = std::get<SpendTx>(tx);
  if (s.cash) {
    const bool deposit = s.type == TxType::kDeposit || s.type == TxType::kRefresh;
    Identity& id = identities_[s.cash->signer];
    id.balance = balance_after(id.balance, s.cash->V_a, deposit);
    sequences_[s.cash->signer] = s.cash->sequence;
    paid_in_ += deposit ? s.cash->enc : crypto::Ciphertext{-s.cash->enc.R, -s.cash->enc.E};
  }
  serials_.insert(s.spend.serial.bytes());
  // A settle of an old token during the refresh window stays on its epoch's list.
  out.token_epoch = s.type == TxType::kRefresh ? terms_.epoch : s.spend.window.epoch;
  if (s.refresh) {
    refreshed_.insert(s.cash->signer);
    sums_.position += s.refresh->enc_v;
    sums_.cash += s.refresh->enc_c;
    sums_.gross += s.refresh->enc_g;
    sums_.deposit += s.cash->enc;
  }
  auto& list = tokens_[out.token_epoch];
  out.token_index = list.size();
  list.push_back(s.spend.c_next);
  for (const SettleEntry& e : s.entries) {
    PrivateOrder& o = orders_[e.order];
    o.claimed = e.fill_index;
    if (e.release) o.released = true;
  }
  if (s.type == TxType::kReduce) {
    PrivateOrder& o = orders_[s.target];
    o.qty -= s.reduce_by;
    if (o.qty == o.filled) o.closed = o.released = true;  // nothing left to release
  }
  if (s.type == TxType::kCancelReplace)
    orders_[s.target].closed = orders_[s.target].released = true;
  if (s.type == TxType::kPost || s.type == TxType::kCancelReplace) {
    PrivateOrder o;
    o.side = s.order->side;
    o.kind = s.order->kind;
    o.price = s.order->price;
    o.qty = s.order->qty;
    o.tag = s.order->tag;
    out.new_order = orders_.size();
    orders_.push_back(std::move(o));
  }
  return out;
}

Status PrivateLedger::record_fill(std::uint64_t id, std::int64_t price, std::int64_t qty) {
  if (id >= orders_.size()) return Status::not_found(order_name(id) + " unknown");
  PrivateOrder& o = orders_[id];
  if (o.closed) return Status::failed_precondition(order_name(id) + " is closed");
  if (qty < 1 || qty > o.qty - o.filled)
    return Status::invalid_argument("fill of " + std::to_string(qty) + " exceeds the open " +
                                    std::to_string(o.qty - o.filled));
  const bool better = o.side == Side::kBuy ? price <= o.price : price >= o.price;
  if (!better || !terms_.in_band(price))
    return Status::invalid_argument("fill price " + std::to_string(price) +
                                    " is worse than the order's or outside the band");
  // The fees the tokens pay: the fund's own orders pay theirs out of the fund's public cash.
  const Checked<std::int64_t> fees =
      Checked<std::int64_t>(fees_) +
      Checked<std::int64_t>(terms_.fee) * (is_fund_order(o) ? 0 : qty);
  if (fees.overflowed()) return Status::overflow("fees charged overflow");
  fees_ = fees.value();
  o.fills.push_back({price, qty});
  o.filled += qty;
  if (o.filled == o.qty) o.closed = true;
  return Status::ok();
}

Result<std::uint64_t> PrivateLedger::add_liquidation_order(Side side, std::int64_t price,
                                                           std::int64_t qty) {
  if (side != Side::kBuy && side != Side::kSell) return Status::invalid_argument("unknown side");
  if (!terms_.in_band(price))
    return Status::invalid_argument("liquidation price " + std::to_string(price) +
                                    " is outside the band");
  if (qty < 1) return Status::invalid_argument("liquidation qty must be at least 1");
  PrivateOrder o;
  o.side = side;
  o.kind = OrderKind::kLimit;
  o.price = price;
  o.qty = qty;
  o.tag = Point::identity();
  orders_.push_back(std::move(o));
  return orders_.size() - 1;
}

Status PrivateLedger::close_order(std::uint64_t id) {
  if (id >= orders_.size()) return Status::not_found(order_name(id) + " unknown");
  if (orders_[id].closed) return Status::failed_precondition(order_name(id) + " is closed");
  orders_[id].closed = true;
  return Status::ok();
}

namespace {

void put_point(Writer& w, const Point& p) {
  w.fixed(p.encode());
}

Point get_point(Reader& r, std::string_view field) {
  Point::Encoding bytes{};
  r.fixed(field, bytes);
  if (r.failed()) return Point::identity();
  Result<Point> p = Point::decode(bytes);
  if (!p) {
    r.fail(Status::corruption(std::string(field) + ": not a canonical point"));
    return Point::identity();
  }
  return *p;
}

crypto::Ciphertext get_ciphertext(Reader& r, std::string_view field) {
  crypto::Ciphertext c;
  c.R = get_point(r, field);
  c.E = get_point(r, field);
  return c;
}

void put_terms(Writer& w, const MarketTerms& t) {
  w.fixed(t.market_id);
  w.u64(t.epoch);
  w.u64(t.log_window);
  w.i64(t.tick_value);
  w.i64(t.fee);
  w.i64(t.low);
  w.i64(t.high);
  w.i64(t.margin);
  w.i64(t.max_order_qty);
  w.i64(t.bond);
  w.i64(t.exit_penalty);
  put_point(w, t.validators_key);
  w.fixed(t.issuer);
}

MarketTerms get_terms(Reader& r) {
  MarketTerms t;
  r.fixed("market id", t.market_id);
  t.epoch = r.u64("epoch");
  t.log_window = r.u64_in("log window", 1, 16);
  t.tick_value = r.i64("tick value");
  t.fee = r.i64("fee");
  t.low = r.i64("band low");
  t.high = r.i64("band high");
  t.margin = r.i64("margin");
  t.max_order_qty = r.i64("max order qty");
  t.bond = r.i64("bond");
  t.exit_penalty = r.i64("exit penalty");
  t.validators_key = get_point(r, "validators' key");
  r.fixed("issuer", t.issuer);
  if (!r.failed()) {
    if (Status s = t.validate(); !s.is_ok()) r.fail(Status::corruption(std::string(s.message())));
  }
  return t;
}

// A count of items of at least `item_bytes` each: more than the bytes left is damage.
std::uint64_t get_count(Reader& r, std::string_view field, std::size_t item_bytes) {
  const std::uint64_t n = r.u64(field);
  if (!r.failed() && n > r.remaining() / item_bytes)
    r.fail(Status::corruption(std::string(field) + " larger than the bytes left"));
  return r.failed() ? 0 : n;
}

template <class Key>
void require_increasing(Reader& r, const std::optional<Key>& previous, const Key& key,
                        std::string_view what) {
  if (previous && !(*previous < key))
    r.fail(Status::corruption(std::string(what) + " out of order or repeated"));
}

}  // namespace

void PrivateLedger::encode_state(Writer& w) const {
  w.u32(kStateVersion);
  put_terms(w, terms_);
  w.boolean(previous_.has_value());
  if (previous_) put_terms(w, *previous_);
  w.boolean(refresh_window_);
  w.i64(levy_);
  w.u64(tokens_.size());
  for (const auto& [epoch, list] : tokens_) {
    w.u64(epoch);
    w.u64(list.size());
    for (const Point& p : list)
      put_point(w, p);
  }
  w.u64(serials_.size());
  for (const auto& sn : serials_)
    w.fixed(sn);
  w.u64(orders_.size());
  for (const PrivateOrder& o : orders_) {
    w.u8(static_cast<std::uint8_t>(o.side));
    w.u8(static_cast<std::uint8_t>(o.kind));
    w.i64(o.price);
    w.i64(o.qty);
    put_point(w, o.tag);
    w.u64(o.fills.size());
    for (const Fill& f : o.fills) {
      w.i64(f.price);
      w.i64(f.qty);
    }
    w.i64(o.filled);
    w.u64(o.claimed);
    w.boolean(o.closed);
    w.boolean(o.released);
  }
  w.u64(chain_values_.size());
  for (const auto& j : chain_values_)
    w.fixed(j);
  w.u64(sequences_.size());
  for (const auto& [signer, seq] : sequences_) {
    w.fixed(signer);
    w.u64(seq);
  }
  w.u64(identities_.size());
  for (const auto& [signer, id] : identities_) {
    w.fixed(signer);
    put_point(w, id.K);
    put_point(w, id.balance);
    w.i64(id.bond);
  }
  paid_in_.encode(w);
  w.i64(supply_);
  w.u64(refreshed_.size());
  for (const auto& signer : refreshed_)
    w.fixed(signer);
  w.u64(defaulted_.size());
  for (const auto& [signer, epoch] : defaulted_) {
    w.fixed(signer);
    w.u64(epoch);
  }
  w.u64(exited_.size());
  for (const auto& signer : exited_)
    w.fixed(signer);
  w.u64(default_rounds_.size());
  for (const auto& [epoch, round] : default_rounds_) {
    w.u64(epoch);
    put_terms(w, round.terms);
    w.boolean(round.price.has_value());
    if (round.price) {
      const auto num = static_cast<u128>(round.price->num);
      w.u64(static_cast<std::uint64_t>(num));
      w.u64(static_cast<std::uint64_t>(num >> 64));
      w.i64(round.price->den);
    }
    w.boolean(round.lapsed_at.has_value());
    w.i64(round.lapsed_at ? round.lapsed_at->value() : 0);
  }
  w.i64(fund_.bonds_held);
  w.i64(fund_.bonds_forfeited);
  w.i64(fund_.exits_paid);
  sums_.position.encode(w);
  sums_.cash.encode(w);
  sums_.gross.encode(w);
  sums_.deposit.encode(w);
  sums_.paid_in_at_halt.encode(w);
  w.i64(sums_.fees_at_halt);
  w.u8(static_cast<std::uint8_t>(key_state_));
  w.i64(resolution_ms_);
  w.i64(fees_);
  resolutions_.encode(w);
}

Bytes PrivateLedger::encode_state() const {
  Bytes out;
  Writer w(&out);
  encode_state(w);
  return out;
}

Result<std::unique_ptr<PrivateLedger>> PrivateLedger::decode_state(const PrivateGens& gens,
                                                                   ByteSpan bytes) {
  Reader r(bytes);
  if (r.u32("private state version") != kStateVersion && !r.failed())
    return Status::corruption("unknown private state version");
  const MarketTerms terms = get_terms(r);
  PFEX_RETURN_IF_ERROR(r.status());
  auto ledger = std::make_unique<PrivateLedger>(gens, terms);
  PrivateLedger& l = *ledger;
  if (r.boolean("has previous terms")) l.previous_ = get_terms(r);
  l.refresh_window_ = r.boolean("refresh window");
  l.levy_ = r.i64_in("levy", 0, (std::int64_t{1} << 40) - 1);
  const std::uint64_t lists = get_count(r, "token lists", 16);
  std::optional<std::uint64_t> previous_epoch;
  for (std::uint64_t i = 0; i < lists && !r.failed(); ++i) {
    const std::uint64_t epoch = r.u64("token list epoch");
    require_increasing(r, previous_epoch, epoch, "token lists");
    previous_epoch = epoch;
    auto& list = l.tokens_[epoch];
    const std::uint64_t n = get_count(r, "tokens", 32);
    list.reserve(n);
    for (std::uint64_t k = 0; k < n && !r.failed(); ++k)
      list.push_back(get_point(r, "token"));
  }
  const std::uint64_t serials = get_count(r, "serials", 32);
  std::optional<Scalar::Encoding> previous_serial;
  for (std::uint64_t i = 0; i < serials && !r.failed(); ++i) {
    Scalar::Encoding sn{};
    r.fixed("serial", sn);
    require_increasing(r, previous_serial, sn, "serials");
    previous_serial = sn;
    if (!r.failed() && !Scalar::decode(sn).is_ok())
      r.fail(Status::corruption("serial: not a canonical scalar"));
    l.serials_.insert(sn);
  }
  const std::uint64_t orders = get_count(r, "orders", 76);
  for (std::uint64_t i = 0; i < orders && !r.failed(); ++i) {
    PrivateOrder o;
    o.side = static_cast<Side>(r.u8_in("order side", 0, 1));
    o.kind = static_cast<OrderKind>(r.u8_in("order kind", 0, 4));
    o.price = r.i64_in("order price", 1, kMaxPriceTicks);
    o.qty = r.i64_in("order qty", 0, INT64_MAX);
    o.tag = get_point(r, "order tag");
    const std::uint64_t fills = get_count(r, "fills", 16);
    Checked<std::int64_t> sum(0);
    for (std::uint64_t k = 0; k < fills && !r.failed(); ++k) {
      Fill f;
      f.price = r.i64_in("fill price", 1, kMaxPriceTicks);
      f.qty = r.i64_in("fill qty", 1, INT64_MAX);
      sum += f.qty;
      o.fills.push_back(f);
    }
    o.filled = r.i64("order filled");
    o.claimed = r.u64("order claimed");
    o.closed = r.boolean("order closed");
    o.released = r.boolean("order released");
    if (!r.failed() && (sum.overflowed() || sum.value() != o.filled || o.filled > o.qty ||
                        o.claimed > o.fills.size() || (o.released && !o.closed)))
      r.fail(Status::corruption("order " + std::to_string(i) + " is inconsistent"));
    l.orders_.push_back(std::move(o));
  }
  const std::uint64_t js = get_count(r, "J values", 32);
  std::optional<Point::Encoding> previous_j;
  for (std::uint64_t i = 0; i < js && !r.failed(); ++i) {
    Point::Encoding j{};
    r.fixed("J", j);
    require_increasing(r, previous_j, j, "J values");
    previous_j = j;
    l.chain_values_.insert(j);
  }
  using Key = std::array<std::uint8_t, 32>;
  const std::uint64_t seqs = get_count(r, "sequences", 40);
  std::optional<Key> previous_key;
  for (std::uint64_t i = 0; i < seqs && !r.failed(); ++i) {
    Key k{};
    r.fixed("signer", k);
    require_increasing(r, previous_key, k, "sequences");
    previous_key = k;
    l.sequences_[k] = r.u64_in("sequence", 1, UINT64_MAX);
  }
  const std::uint64_t ids = get_count(r, "identities", 104);
  previous_key.reset();
  for (std::uint64_t i = 0; i < ids && !r.failed(); ++i) {
    Key k{};
    r.fixed("identity", k);
    require_increasing(r, previous_key, k, "identities");
    previous_key = k;
    Identity id;
    id.K = get_point(r, "K");
    id.balance = get_point(r, "balance");
    id.bond = r.i64_in("bond", 0, kCashSupplyCap);
    l.identities_[k] = id;
  }
  l.paid_in_ = get_ciphertext(r, "Enc(Pi)");
  l.supply_ = r.i64_in("cash supply", 0, kCashSupplyCap);
  // A signer of one of the refresh sets: increasing, a known identity.
  auto get_member = [&](std::string_view what) {
    Key k{};
    r.fixed("signer", k);
    require_increasing(r, previous_key, k, what);
    previous_key = k;
    if (!r.failed() && l.identities_.count(k) == 0)
      r.fail(Status::corruption(std::string(what) + " name an unknown identity"));
    return k;
  };
  const std::uint64_t refreshed = get_count(r, "refreshed", 32);
  previous_key.reset();
  for (std::uint64_t i = 0; i < refreshed && !r.failed(); ++i)
    l.refreshed_.insert(get_member("refreshed"));
  const std::uint64_t defaulted = get_count(r, "defaulted", 40);
  previous_key.reset();
  for (std::uint64_t i = 0; i < defaulted && !r.failed(); ++i) {
    const Key k = get_member("defaulted");
    l.defaulted_[k] = r.u64("default epoch");
  }
  const std::uint64_t exited = get_count(r, "exited", 32);
  previous_key.reset();
  for (std::uint64_t i = 0; i < exited && !r.failed(); ++i) {
    const Key k = get_member("exited");
    if (!r.failed() && l.defaulted_.count(k) == 0)
      r.fail(Status::corruption("an exited identity that did not default"));
    l.exited_.insert(k);
  }
  const std::uint64_t rounds = get_count(r, "default rounds", 9);
  std::optional<std::uint64_t> previous_round;
  for (std::uint64_t i = 0; i < rounds && !r.failed(); ++i) {
    const std::uint64_t epoch = r.u64("default round epoch");
    require_increasing(r, previous_round, epoch, "default rounds");
    previous_round = epoch;
    DefaultRound round{get_terms(r), std::nullopt, std::nullopt};
    if (!r.failed() && round.terms.epoch != epoch)
      r.fail(Status::corruption("a default round's terms are of another epoch"));
    if (r.boolean("has liquidation price")) {
      const std::uint64_t lo = r.u64("liquidation price num");
      const std::uint64_t hi = r.u64("liquidation price num");
      LiquidationPrice price;
      price.num = static_cast<i128>((static_cast<u128>(hi) << 64) | lo);
      price.den = r.i64("liquidation price den");
      if (!r.failed() && (hi >= (std::uint64_t{1} << 32) || !validate(price).is_ok()))
        r.fail(Status::corruption("liquidation price out of range"));
      round.price = price;
    }
    const bool lapsed = r.boolean("exit period lapsed");
    const std::int64_t lapsed_at = r.i64_in("exit period end", 0, INT64_MAX);
    if (!r.failed() && ((lapsed && !round.price) || (!lapsed && lapsed_at != 0)))
      r.fail(Status::corruption("an exit period end without a liquidation price, or the reverse"));
    if (lapsed) round.lapsed_at = LedgerTime(lapsed_at);
    l.default_rounds_[epoch] = round;
  }
  l.fund_.bonds_held = r.i64_in("bonds held", 0, INT64_MAX);
  l.fund_.bonds_forfeited = r.i64_in("bonds forfeited", 0, INT64_MAX);
  l.fund_.exits_paid = r.i64_in("exits paid", 0, INT64_MAX);
  l.sums_.position = get_ciphertext(r, "round sum");
  l.sums_.cash = get_ciphertext(r, "round sum");
  l.sums_.gross = get_ciphertext(r, "round sum");
  l.sums_.deposit = get_ciphertext(r, "round sum");
  l.sums_.paid_in_at_halt = get_ciphertext(r, "round sum");
  l.sums_.fees_at_halt = r.i64_in("fees at the halt", 0, INT64_MAX);
  l.key_state_ = static_cast<KeyState>(r.u8_in("key state", 0, 2));
  l.resolution_ms_ = r.i64_in("resolution deadline", 0, kMaxResolutionMs);
  l.fees_ = r.i64_in("fees charged", 0, INT64_MAX);
  if (!r.failed()) {
    Result<Resolutions> res = Resolutions::decode(r);
    if (!res) return Status::corruption("resolutions: " + res.status().to_string());
    l.resolutions_ = std::move(res).value();
  }
  PFEX_RETURN_IF_ERROR(r.finish());
  if ((l.key_state_ == KeyState::kGenesis) != (l.resolution_ms_ == 0))
    return Status::corruption("a resolution deadline without a key generation or the reverse");
  if (l.key_state_ != KeyState::kGenerated &&
      (l.resolutions_.pending_count() != 0 || !l.resolutions_.recorded().empty()))
    return Status::corruption("resolutions without a generated key");
  if (l.refresh_window_ && !l.previous_)
    return Status::corruption("a refresh window without the previous epoch's terms");
  for (const auto& [signer, epoch] : l.defaulted_) {
    if (l.default_rounds_.count(epoch) == 0)
      return Status::corruption("a default without its round");
  }
  Checked<std::int64_t> held(0);
  for (const auto& [signer, id] : l.identities_)
    held += id.bond;
  if (held.overflowed() || held.value() != l.fund_.bonds_held)
    return Status::corruption("the fund's bonds held are not the identities' bonds");
  return ledger;
}

Digest32 PrivateLedger::state_hash() const {
  Hasher h("pfex/v1/private/state");
  h.update(encode_state());
  return h.finish();
}

}  // namespace pfex::priv
