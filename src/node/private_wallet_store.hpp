// The private wallet's file (docs/node/private_wallet.md): a priv::PrivateWallet's whole secret
// state (chain key, identity seed, token opening, order tag openings, sequence, cash balance and
// blinding, the pending transaction's outcome), the private market it belongs to, how far the
// node has taken the log into it, and the pending transaction's entry bytes, sealed like the
// transparent wallet (node/sealed_file.hpp: Argon2id, XChaCha20-Poly1305, checksum, atomic
// writes) under its own magic.
//
// Crash safety: the node saves the pending entry with the wallet's pending outcome before it
// submits the entry, so after a restart it either finds the transaction's effect in the ledger
// (PrivateWallet::find_applied) or submits the very same bytes again; it never builds a second
// spend of the token (node/private_trader.hpp).
//
// An open store holds the wallet's lock (node::WalletLock), like the transparent wallet.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "node/sealed_file.hpp"
#include "node/wallet.hpp"
#include "protocol/private/wallet.hpp"
#include "protocol/transaction.hpp"

namespace pfex::node {

class PrivateWalletStore {
 public:
  // The version of the contents, checked on read.
  static constexpr std::uint32_t kContentsVersion = 1;

  // A new wallet (a fresh chain key and identity) for `market` at `path`; fails if the file
  // exists. gens must outlive the store.
  static Result<PrivateWalletStore> create(const std::string& path, std::string_view passphrase,
                                           const priv::PrivateGens& gens,
                                           const protocol::MarketId& market,
                                           KdfParams kdf = KdfParams::interactive());
  // Opens an existing one. A wrong passphrase is kInvalidArgument; a damaged or truncated file is
  // kCorruption naming the place; one open elsewhere is kFailedPrecondition.
  static Result<PrivateWalletStore> open(const std::string& path, std::string_view passphrase,
                                         const priv::PrivateGens& gens);

  PrivateWalletStore(PrivateWalletStore&&) noexcept = default;
  PrivateWalletStore& operator=(PrivateWalletStore&&) noexcept = default;

  priv::PrivateWallet& wallet() { return *wallet_; }
  const priv::PrivateWallet& wallet() const { return *wallet_; }
  const protocol::MarketId& market() const { return market_; }
  // The last log position whose effects on the wallet (mints, transfers received, its own
  // transactions confirmed) the saved wallet holds: the node reads on after it.
  std::uint64_t followed() const { return followed_; }
  // The entry (envelope bytes) of the transaction built last, saved before it is submitted and
  // kept until the ledger shows its effect: submit it again after a restart.
  const std::optional<Bytes>& pending_entry() const { return pending_entry_; }

  // Records `entry` as pending and saves (call before submitting it). kInvalidArgument, changing
  // nothing, for an entry over protocol::kMaxTransactionBytes.
  Status save_pending(Bytes entry);
  // Records, in one save, that the wallet holds the log's effects up to `log_sequence` (never
  // moves back) and, with `clear_pending`, drops the pending entry (the wallet confirmed it, or
  // the log decided a cancel, which changes no wallet state). One save, so that a crash never
  // keeps a mint taken in with the position before it (it would be taken in twice).
  Status save_progress(std::uint64_t log_sequence, bool clear_pending);
  // Saves the wallet as it is now.
  Status save();

  const std::string& path() const { return path_; }

 private:
  PrivateWalletStore(std::string path, WalletLock lock)
      : path_(std::move(path)), lock_(std::move(lock)) {}

  std::string path_;
  WalletLock lock_;
  FileKey file_key_;
  protocol::MarketId market_{};
  std::uint64_t followed_ = 0;
  std::optional<Bytes> pending_entry_;
  std::unique_ptr<priv::PrivateWallet> wallet_;
};

}  // namespace pfex::node
