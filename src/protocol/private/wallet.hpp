// The prover side of the private exchange (docs/protocol/private.md sections 5, 8 and 9): a
// wallet holds the chain key, the current token's opening, its orders' tag openings and the
// signing key, and builds every transaction with its proofs against its view of the ledger.
// It refuses to build an action that would break solvency, saying by how much ("E_L short by X").
//
// Secrets (kappa, openings, order secrets, the signing key) are wiped when the wallet is
// destroyed; the wallet is not copyable. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/status.hpp"
#include "protocol/private/ledger.hpp"
#include "protocol/private/spend.hpp"
#include "protocol/private/token.hpp"
#include "protocol/private/transaction.hpp"

namespace pfex::priv {

class PrivateWallet {
 public:
  // A fresh chain key and Ed25519 identity. gens must outlive the wallet.
  explicit PrivateWallet(const PrivateGens& gens);
  ~PrivateWallet();
  PrivateWallet(const PrivateWallet&) = delete;
  PrivateWallet& operator=(const PrivateWallet&) = delete;

  const std::array<std::uint8_t, 32>& identity() const { return public_key_; }
  const Scalar& chain_key() const { return kappa_; }
  // The current token's attributes (the trader's private view).
  const Attributes& attributes() const { return token_.a; }
  const TokenOpening& token() const { return token_; }
  std::optional<std::uint64_t> token_index() const { return token_index_; }
  // The epoch whose token list holds the token.
  std::uint64_t token_epoch() const { return token_epoch_; }
  // Order ids this wallet owns that are not yet released.
  std::vector<std::uint64_t> open_orders() const;

  // Every transaction below is built against `ledger` as it is now and becomes pending; after the
  // ledger applied it, confirm() with the result makes its token (and order) the wallet's.
  Result<RegisterTx> build_register(const PrivateLedger& ledger, std::uint64_t sequence,
                                    std::int64_t bond);
  Result<SpendTx> build_post(const PrivateLedger& ledger, Side side, OrderKind kind,
                             std::int64_t price, std::int64_t qty);
  Result<SpendTx> build_settle(const PrivateLedger& ledger);
  Result<SpendTx> build_reduce(const PrivateLedger& ledger, std::uint64_t order,
                               std::int64_t reduce_by);
  Result<SpendTx> build_cancel_replace(const PrivateLedger& ledger, std::uint64_t order, Side side,
                                       OrderKind kind, std::int64_t price, std::int64_t qty);
  Result<CancelTx> build_cancel(const PrivateLedger& ledger, std::uint64_t order) const;
  // Signed: moves `amount` from the cash account into the token (deposit) or back (withdraw).
  // Refused when the cash account is short (deposit) or the token would break solvency.
  Result<SpendTx> build_deposit(const PrivateLedger& ledger, std::uint64_t amount);
  Result<SpendTx> build_withdraw(const PrivateLedger& ledger, std::uint64_t amount);
  // Signed, in a refresh window: spends the previous epoch's token into the new epoch with a
  // hidden deposit (possibly 0). Refused with open orders ("settle first") or when the token
  // breaks solvency over the new band ("E_L short by X": deposit that much more).
  Result<SpendTx> build_refresh(const PrivateLedger& ledger, std::uint64_t deposit);
  // Signed, after this identity defaulted and its round's liquidation price is recorded: spends
  // the token of the default's epoch with entries settling every order not yet settled, and
  // claims its worth at the liquidation price minus the penalty (paid into the cash account).
  // Refused when the claim would be negative ("nothing to claim") or more than 16 orders are
  // unsettled.
  Result<ExitTx> build_exit(const PrivateLedger& ledger);

  // Signed: pays `amount` from the cash account to `receiver`'s, with a memo for the receiver
  // (XChaCha20-Poly1305 under a fresh X25519 key agreement with the receiver's identity key).
  // Refused when the account is short ("cash account short by X"). Pending until confirm().
  Result<TransferTx> build_transfer(const PrivateLedger& ledger,
                                    const std::array<std::uint8_t, 32>& receiver,
                                    std::uint64_t amount);
  // Opens a transfer to this identity (after the ledger applied it) and adds it to the balance.
  // kInvalidArgument if the memo does not open or does not match V_a.
  Status receive(const TransferTx& tx);

  // The cash account's balance as the wallet knows it; a mint to this identity adds to it.
  std::uint64_t cash_balance() const { return balance_; }
  void on_mint(std::uint64_t amount) { balance_ += amount; }

  // Adopts the pending token and order after the ledger applied the last built transaction.
  Status confirm(const Applied& applied);
  // Forgets the pending transaction when the log rejected it (its token, orders and cash account
  // stay as they were, the next transaction is built from them again). A signed one's sequence
  // number is never used again, so its rejected bytes cannot follow a newer transaction.
  void discard_pending();
  // Drops the tag openings of orders the ledger shows closed, released and with every fill
  // claimed: no settle, release, cancel or exit can name them again, and without this the wallet
  // grows with every order it ever posted. Does nothing while a transaction is pending (the
  // ledger may show what the wallet has not confirmed yet). Returns how many it dropped.
  std::size_t forget_settled(const PrivateLedger& ledger);

  // The settle entries a spend should carry now: every owned order with unclaimed fills or a
  // closed, unreleased remainder, lowest ids first, at most 16; `exclude_release` is not released.
  std::vector<SettleEntry> pending_entries(const PrivateLedger& ledger,
                                           std::optional<std::uint64_t> exclude_release) const;

  // Whether a built transaction that changes the wallet (every type but cancel) awaits confirm().
  bool has_pending() const { return pending_token_.has_value() || pending_cash_.has_value(); }

  // Crash recovery (docs/node/private_wallet.md): whether `ledger` shows that `tx`, the pending
  // transaction this wallet built last, took effect, and the result confirm() takes; nullopt when
  // it did not (its bytes may be submitted again: they never spend a second time). A spend took
  // effect when the token's serial is in the ledger (its new token and order are looked up by
  // their commitments); a register when the identity is; a transfer or an exit when the signer's
  // sequence reached the transaction's. kFailedPrecondition when nothing is pending or `tx` is
  // not what is pending; kCorruption when the serial was spent but not into the pending token.
  Result<std::optional<Applied>> find_applied(const PrivateLedger& ledger,
                                              const PrivateTx& tx) const;

  // The whole secret state (chain key, identity seed, r_K, token opening with its index and
  // epoch, order tag openings, sequence, cash balance and blinding, the pending outcome), in a
  // strict versioned codec for the encrypted wallet file (docs/node/private_wallet.md). The
  // bytes hold every secret: the caller wipes them.
  static constexpr std::uint32_t kStateVersion = 1;
  void encode_state(Writer& w) const;
  // The inverse of encode_state, strictly: kCorruption naming the field for an unknown version,
  // truncation, trailing bytes, a non-canonical scalar, unsorted order ids or a seed that does not
  // give the recorded identity. gens must outlive the wallet.
  static Result<std::unique_ptr<PrivateWallet>> decode_state(const PrivateGens& gens,
                                                             ByteSpan bytes);

 private:
  Result<SpendTx> build_spend(const PrivateLedger& ledger, SpendTx draft,
                              const CashMoveWitness* cash = nullptr);
  Result<SpendTx> build_cash_move(const PrivateLedger& ledger, std::uint64_t amount, bool deposit);

  const PrivateGens& gens_;
  Scalar kappa_;
  std::array<std::uint8_t, 32> public_key_{};
  std::array<std::uint8_t, 64> secret_key_{};
  TokenOpening token_;
  std::optional<std::uint64_t> token_index_;
  std::uint64_t token_epoch_ = 0;
  std::map<std::uint64_t, TagOpening> orders_;
  // The last built transaction's results, until confirmed.
  std::optional<TokenOpening> pending_token_;
  std::optional<TagOpening> pending_tag_;
  Scalar r_K_;
  std::uint64_t sequence_ = 0;  // the last one used
  std::uint64_t balance_ = 0;   // the cash account's opening
  Scalar balance_blinding_;
  struct PendingCash {
    std::uint64_t sequence;
    std::uint64_t balance;
    Scalar blinding;
  };
  std::optional<PendingCash> pending_cash_;
};

}  // namespace pfex::priv
