// The private exchange's public state and its rules (docs/protocol/private.md sections 3 to 8):
// the per-epoch token lists, the serial set, the per-order public state, the chain-key values J
// and the signers' sequence numbers. check() runs every deterministic check first, then the
// proofs; apply() changes the state only for a transaction that passed check(). A reference for
// the validator (which batches the proofs of a block) and the state the tests attack.
//
// Not thread-safe: the window-set cache is mutable.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "core/hash.hpp"
#include "core/status.hpp"
#include "crypto/one_of_many.hpp"
#include "protocol/private/params.hpp"
#include "protocol/private/refresh.hpp"
#include "protocol/private/resolution.hpp"
#include "protocol/private/spend.hpp"
#include "protocol/private/transaction.hpp"

namespace pfex::priv {

struct Fill {
  std::int64_t price = 0;
  std::int64_t qty = 0;
};

// The public state of one order. Its owner is not part of it.
struct PrivateOrder {
  Side side = Side::kBuy;
  OrderKind kind = OrderKind::kLimit;
  std::int64_t price = 0;  // limit, or p_r
  std::int64_t qty = 0;    // current quantity (a reduce lowers it)
  Point tag;
  std::vector<Fill> fills;
  std::int64_t filled = 0;
  std::uint64_t claimed = 0;  // fills claimed by settle entries
  bool closed = false;
  bool released = false;
};

// What a spend changes in its token, from the ledger's order state: the public deltas and the
// tags whose ownership it proves, in statement order.
struct SpendEffects {
  Deltas deltas;
  std::vector<Point> tags;

  friend bool operator==(const SpendEffects&, const SpendEffects&) = default;
};

// The effect of an applied transaction, for the wallet that sent it.
struct Applied {
  TxType type = TxType::kSettle;
  std::optional<std::uint64_t> token_index;  // position of the created token in its epoch list
  std::uint64_t token_epoch = 0;             // the list it went to
  std::optional<std::uint64_t> new_order;    // id of the order a post or cancel-replace added
};

// An identity's public record: its chain-key commitment and its cash account (a Pedersen
// commitment to the balance; a mint adds amount*G, a deposit subtracts V_a, a withdrawal adds it).
// The bond is the market's, posted (public, from outside the cash ledger) at registration; it is
// held while the identity is active and forfeited to the fund when it defaults.
struct Identity {
  Point K;
  Point balance;
  std::int64_t bond = 0;  // held; 0 once forfeited
};

// The fund's public accounts in this library: what it received and what it paid.
struct FundLedger {
  std::int64_t bonds_held = 0;       // bonds of identities that have not defaulted
  std::int64_t bonds_forfeited = 0;  // received from defaulters
  std::int64_t exits_paid = 0;       // exit claims paid to defaulters' cash accounts
};

// The public terms of a refresh window's close that the ledger does not keep itself: the new
// epoch's reference price P and the close's ledger time, and the fund's position and trading cash
// at the halt (the fund's liquidation is run by the validator).
struct RoundClose {
  std::int64_t reference = 0;  // ticks; >= 1 when the round is resolved by threshold decryption
  LedgerTime at;
  std::int64_t fund_position = 0;
  std::int64_t fund_cash = 0;
};

class PrivateLedger {
 public:
  // The version of encode_state's layout, checked by decode_state. 2: the validators' key state
  // and the resolution deadline, the fees charged, the round's halt snapshot (Enc(Pi) and fees)
  // and refresh deposits, and the rounds to resolve and resolutions.
  // 3: a default round's exit period end, once it lapsed.
  static constexpr std::uint32_t kStateVersion = 3;

  // Where the key every encryption is under comes from (docs/protocol/private.md section 14).
  enum class KeyState : std::uint8_t {
    kGenesis = 0,    // the genesis's validators_key (a genesis without key generation)
    kAwaiting = 1,   // the key generation through the log has not produced a key yet
    kGenerated = 2,  // terms().validators_key is the generated key
  };

  // gens must outlive the ledger. terms.validate() must hold.
  PrivateLedger(const PrivateGens& gens, MarketTerms terms);

  const MarketTerms& terms() const { return terms_; }
  // The terms a token of `epoch` is spent under: the current epoch's, or during a refresh window
  // the previous epoch's (its tokens may then only settle or refresh). Null otherwise: such a
  // token is spendable only by exit.
  const MarketTerms* terms_for_epoch(std::uint64_t epoch) const;
  bool in_refresh_window() const { return refresh_window_; }
  std::int64_t levy() const { return levy_; }

  // The margin round (docs/design.md section 3): every open order expires, epoch e+1 starts with
  // `next` (its band and margin) and the levy per contract of gross position; until
  // close_refresh_window() the previous epoch's tokens may only settle (band e) or refresh.
  // kInvalidArgument unless next.epoch == epoch + 1 with the same market, window size and keys.
  Status begin_margin_round(const MarketTerms& next, std::int64_t levy);
  // Ends the refresh window; every identity that did not refresh is recorded as defaulted and
  // returned (its old token is then spendable only by exit). With a generated key it also fixes
  // the round's three sums to decrypt (resolution.hpp), due at close.at + D_res;
  // kInvalidArgument then for a reference outside [1, 2^31].
  Result<std::vector<std::array<std::uint8_t, 32>>> close_refresh_window(
      const RoundClose& close = {});

  // The key generation: a genesis that starts one calls await_key_generation (deposits,
  // withdrawals and refreshes are refused until install_validators_key), with D_res in
  // [1, kMaxResolutionMs]. install_validators_key puts the generated key in the terms (current,
  // previous and the default rounds'). kFailedPrecondition out of order, kInvalidArgument for
  // the identity or a D_res out of range.
  Status await_key_generation(std::int64_t resolution_ms);
  Status install_validators_key(const Point& key);
  KeyState key_state() const { return key_state_; }
  std::int64_t resolution_ms() const { return resolution_ms_; }
  // The rounds being resolved and the resolutions recorded; a validator's shares entry (checked
  // against the generated key: see Resolutions::apply) and the deadlines as ledger time passes;
  // `take` is handed each resolution before it is recorded, and its error refuses it.
  const Resolutions& resolutions() const { return resolutions_; }
  Result<std::optional<Resolution>> apply_shares(ByteSpan entry, LedgerTime now, const DkgKey& key,
                                                 const DkgGenesis& genesis,
                                                 const Digest32& session_id,
                                                 const TakeResolution& take = {});
  Result<std::vector<Resolution>> advance_resolutions(LedgerTime now,
                                                      const TakeResolution& take = {});
  // Fees charged on every fill so far (each side: f per contract).
  std::int64_t fees_charged() const { return fees_; }
  bool refreshed(const std::array<std::uint8_t, 32>& signer) const {
    return refreshed_.count(signer) != 0;
  }
  bool defaulted(const std::array<std::uint8_t, 32>& signer) const {
    return defaulted_.count(signer) != 0;
  }
  // The epoch whose refresh window the identity defaulted in (its token is on that epoch's list).
  std::optional<std::uint64_t> default_epoch(const std::array<std::uint8_t, 32>& signer) const;
  bool exited(const std::array<std::uint8_t, 32>& signer) const {
    return exited_.count(signer) != 0;
  }
  // The liquidation price of the defaulters of `epoch`'s round (the validator's, from the fund's
  // fills; here for the tests): exits of that round are possible from then on. kInvalidArgument
  // for a price outside validate(LiquidationPrice); kFailedPrecondition if nobody defaulted in that
  // round or its price is already recorded.
  Status record_liquidation_price(std::uint64_t epoch, const LiquidationPrice& price);
  // The end of the exit period of `epoch`'s defaulters (the validator's, when ledger time reaches
  // the batch's finish + the market's exit period): from then on their exits are refused and the
  // fund keeps the claims. kFailedPrecondition unless that round's price is recorded and its
  // period has not lapsed yet; kInvalidArgument for a negative time.
  Status lapse_exits(std::uint64_t epoch, LedgerTime ended_at);
  // When the exit period of `epoch`'s defaulters ended, once it has.
  std::optional<LedgerTime> exits_lapsed_at(std::uint64_t epoch) const;
  // What an exit's relations take from the ledger, for `signer` (defaulted, price recorded).
  Result<ExitContext> exit_context(const std::array<std::uint8_t, 32>& signer) const;
  const FundLedger& fund() const { return fund_; }
  // The terms of the epoch whose round `signer` defaulted in (what its exit's transcript
  // absorbs), or null when it did not default.
  const MarketTerms* default_terms(const std::array<std::uint8_t, 32>& signer) const;
  // The exit's transcript: the transaction under the terms of the epoch it spends from, then the
  // context (exit_context(tx.signer) must be ok).
  crypto::Transcript exit_transcript(const ExitTx& tx, const ExitContext& ctx) const;
  // This round's sums of the refreshes' Enc(v), Enc(c'), Enc(v+ + v-) and deposits Enc(d), and
  // Enc(Pi) and the fees charged at the halt.
  struct RoundSums {
    crypto::Ciphertext position, cash, gross, deposit, paid_in_at_halt;
    std::int64_t fees_at_halt = 0;
  };
  const RoundSums& round_sums() const { return sums_; }
  const PrivateGens& gens() const { return gens_; }
  std::span<const Point> tokens(std::uint64_t epoch) const;
  // The epochs that have a token list, increasing.
  std::vector<std::uint64_t> token_epochs() const;
  const PrivateOrder* order(std::uint64_t id) const;
  std::size_t order_count() const { return orders_.size(); }
  bool serial_seen(const Scalar& sn) const;
  const Identity* identity(const std::array<std::uint8_t, 32>& signer) const;
  // The signer's last sequence number (0 before its first signed transaction; the issuer's too).
  std::uint64_t last_sequence(const std::array<std::uint8_t, 32>& signer) const;
  // Enc(Pi): the net cash paid into the market, encrypted under the validators' key.
  const crypto::Ciphertext& paid_in() const { return paid_in_; }
  std::int64_t cash_supply() const { return supply_; }

  // The spend's deltas and tags after the deterministic checks of its entries, its target and
  // its new order (section 6 and 8); no proof is looked at. The wallet builds with it and the
  // verifier checks with it. Fills are claimed under terms_for_epoch(tx.spend.window.epoch) (an
  // old-epoch settle in a refresh window uses that epoch's k and f); kFailedPrecondition when that
  // epoch's tokens are spendable only by exit.
  Result<SpendEffects> resolve(const SpendTx& tx) const;
  // The public side of a deposit's or withdrawal's cash move, and of a refresh, against the
  // signer's cash account and this state (terms, validators' key, levy). kNotFound for a signer
  // that is not registered. The ledger's check and the block verifier both build them here.
  Result<CashMovePublic> cash_move(const SpendTx& tx) const;
  Result<RefreshPublic> refresh_public(const SpendTx& tx) const;
  // An exit's deltas and tags: every entry claims the order's last fill and releases it.
  Result<SpendEffects> resolve(const ExitTx& tx) const;
  // Every rule, cheapest first, then the signatures and proofs. Changes nothing.
  [[nodiscard]] Status check(const PrivateTx& tx) const;
  // The deterministic rules of check() only (phase, band, window, serial unseen, order state,
  // sequence, supply), no signature or proof: the validator's stage 2. A transaction that passes
  // them fails check() only with kInvalidProof. Changes nothing.
  [[nodiscard]] Status check_rules(const PrivateTx& tx) const;
  // check(), then the transaction's effect. On error nothing changes.
  Result<Applied> apply(const PrivateTx& tx);
  // The effect of a transaction that passed check() against this very state (the validator ran
  // the rules and the proofs itself); anything else is a programming error.
  Applied apply_checked(const PrivateTx& tx);

  // The matcher's results (the validator's job; here for the tests): a fill of an open order,
  // which closes when fully filled; closing an order (an immediate order's remainder, a halt).
  Status record_fill(std::uint64_t id, std::int64_t price, std::int64_t qty);
  Status close_order(std::uint64_t id);
  // The insurance fund's liquidation order (the matcher's, docs/design.md section 6.4): a public
  // limit order of `qty` at `price` inside the band whose tag is the identity point. No spend can
  // open that tag and the ledger refuses it in a post, so no trader can settle, cancel, reduce or
  // replace the fund's order; its fills stay with the fund. Returns its id.
  Result<std::uint64_t> add_liquidation_order(Side side, std::int64_t price, std::int64_t qty);
  static bool is_fund_order(const PrivateOrder& o) { return o.tag.is_identity(); }

  // The whole public state in the canonical codec (docs/protocol/validator.md, "Private state"):
  // the terms (current and, during and after a margin round, previous; each with its bond and
  // exit penalty), the refresh window and levy, the token lists per epoch, the serials, every
  // order, the J values, the sequences, the identities with their cash balances and bonds,
  // Enc(Pi), the cash supply, the refreshed set, the defaulted identities with their epochs, the
  // exited set, the default rounds (terms and liquidation price), the fund's totals and the
  // round sums. Every set and map in increasing key order. Starts with kStateVersion.
  void encode_state(Writer& w) const;
  Bytes encode_state() const;
  // The inverse of encode_state, strictly: kCorruption for an unknown version, truncation,
  // trailing bytes, a non-canonical point or scalar, unsorted or repeated keys, terms out of
  // range, an inconsistent order, default or fund total. gens must outlive the ledger.
  static Result<std::unique_ptr<PrivateLedger>> decode_state(const PrivateGens& gens,
                                                             ByteSpan bytes);
  // BLAKE2b-256("pfex/v1/private/state", encode_state()).
  Digest32 state_hash() const;

  // The membership set of a window, built once per window (a window's points never change) and
  // kept in a cache of at most kWindowCacheSize windows. The set is shared: it stays valid for its
  // holder when the cache drops it (past kWindowCacheSize windows, or at a margin round).
  static constexpr std::size_t kWindowCacheSize = 64;
  Result<std::shared_ptr<const crypto::OneOfManySet>> window_set(const Window& w) const;

 private:
  // Each stops before the first signature or proof when rules_only.
  Status check_impl(const PrivateTx& tx, bool rules_only) const;
  Status check_spend(const SpendTx& tx, bool rules_only) const;
  Status check_register(const RegisterTx& tx, bool rules_only) const;
  Status check_cancel(const CancelTx& tx, bool rules_only) const;
  // The order a cancel, reduce or cancel-replace acts on: known, a trader's (not the fund's) and
  // still open; else the refusal naming it.
  Result<const PrivateOrder*> open_trader_order(std::uint64_t id) const;
  Status check_mint(const MintTx& tx, bool rules_only) const;
  Status check_transfer(const TransferTx& tx, bool rules_only) const;
  Status check_refresh(const SpendTx& tx, bool rules_only) const;
  Status check_exit(const ExitTx& tx, bool rules_only) const;
  Status resolve_entries(const std::vector<SettleEntry>& entries, const MarketTerms& terms,
                         const SpendTx* spend, SpendEffects& out) const;
  Status check_sequence(const std::array<std::uint8_t, 32>& signer, std::uint64_t sequence) const;
  // kFailedPrecondition while the key generation has not produced the key.
  Status check_key() const;
  const PrivateGens& gens_;
  MarketTerms terms_;
  std::map<std::uint64_t, std::vector<Point>> tokens_;
  std::set<Scalar::Encoding> serials_;
  std::vector<PrivateOrder> orders_;
  std::set<Point::Encoding> chain_values_;  // J
  std::map<std::array<std::uint8_t, 32>, std::uint64_t> sequences_;
  std::map<std::array<std::uint8_t, 32>, Identity> identities_;
  crypto::Ciphertext paid_in_;
  std::int64_t supply_ = 0;
  std::optional<MarketTerms> previous_;  // epoch e during and after its margin round
  bool refresh_window_ = false;
  std::int64_t levy_ = 0;
  std::set<std::array<std::uint8_t, 32>> refreshed_, exited_;
  std::map<std::array<std::uint8_t, 32>, std::uint64_t> defaulted_;  // signer -> epoch
  struct DefaultRound {
    MarketTerms terms;  // of the epoch the defaulters' tokens are on
    std::optional<LiquidationPrice> price;
    std::optional<LedgerTime> lapsed_at;  // the end of its exit period, once reached
  };
  std::map<std::uint64_t, DefaultRound> default_rounds_;
  FundLedger fund_;
  RoundSums sums_;
  KeyState key_state_ = KeyState::kGenesis;
  std::int64_t resolution_ms_ = 0;
  std::int64_t fees_ = 0;
  Resolutions resolutions_;
  mutable std::map<std::array<std::uint64_t, 3>, std::shared_ptr<const crypto::OneOfManySet>> sets_;
};

}  // namespace pfex::priv
