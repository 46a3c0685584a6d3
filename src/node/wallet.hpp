// The trader's wallet: the Ed25519 identity key, the account it registered, its sequence numbers
// and the transactions it has signed but not yet seen acknowledged. File format and crash rules:
// docs/node/wallet.md.
//
// Stored encrypted: a key derived from the passphrase with Argon2id encrypts the contents with
// XChaCha20-Poly1305; the header (KDF parameters, salt, nonce) is authenticated, and an unkeyed
// checksum over the whole file tells a damaged file apart from a wrong passphrase. Every change
// is written atomically (temp file, fsync, rename, fsync directory) before the call returns.
//
// Crash safety of submissions: prepare() takes the next sequence number, signs, records the
// transaction as pending and saves, and only then returns the bytes to submit. After a crash the
// pending bytes are submitted again; the validator rejects a second copy (same sequence), so a
// transaction is applied at most once and never lost.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "market/action.hpp"
#include "node/sealed_file.hpp"
#include "protocol/keys.hpp"
#include "protocol/transaction.hpp"

namespace pfex::node {

// An exclusive advisory lock (flock) on "<wallet>.lock", held while a Wallet is open, so two
// processes never sign with the same sequence number from the same wallet. Released when the
// Wallet is destroyed or its process dies.
class WalletLock {
 public:
  static Result<WalletLock> acquire(const std::string& wallet_path);
  WalletLock(WalletLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  WalletLock& operator=(WalletLock&& other) noexcept;
  WalletLock(const WalletLock&) = delete;
  WalletLock& operator=(const WalletLock&) = delete;
  ~WalletLock();

 private:
  explicit WalletLock(int fd) : fd_(fd) {}
  int fd_;
};

class Wallet {
 public:
  // `path` may be a symlink: the wallet is the file it resolves to (locked and written there;
  // the link stays a link), so two names of one file never act as two wallets.
  //
  // Creates a new wallet with a fresh identity key at `path`; fails if the file exists.
  static Result<Wallet> create(const std::string& path, std::string_view passphrase,
                               KdfParams kdf = KdfParams::interactive());
  // Opens an existing wallet. A wrong passphrase is invalid_argument, a damaged or truncated file
  // is corruption; neither ever yields an empty or new wallet. A wallet another process (or
  // another Wallet object) has open is failed_precondition.
  static Result<Wallet> open(const std::string& path, std::string_view passphrase);

  Wallet(Wallet&&) noexcept = default;
  Wallet& operator=(Wallet&&) noexcept = default;

  const protocol::PublicKey& public_key() const { return key_.public_key(); }
  const std::optional<protocol::MarketId>& market() const { return market_; }
  const std::optional<market::AccountId>& account() const { return account_; }
  std::uint64_t last_sequence() const { return last_sequence_; }
  // Signed, saved, not yet acknowledged by the ledger: submit these (again) after a restart.
  const std::vector<Bytes>& pending() const { return pending_; }

  // Records the market (at most one per wallet) and the account the validator bound the key to.
  Status set_market(const protocol::MarketId& market);
  Status set_account(market::AccountId account);

  // The ledger has used this key's sequence numbers up to `ledger_last` (a replica's
  // last_sequence_of): the next one signed is above it. A wallet restored from a backup is behind
  // the ledger and would otherwise sign a used number. Saves when it moves; never moves back.
  Status sync_sequence(std::uint64_t ledger_last);

  // Signs `action` for the wallet's market with the next sequence number, adds it to pending()
  // and saves the wallet; returns the transaction bytes. Fails if no market is set.
  Result<Bytes> prepare(const market::Action& action);
  // The issuer of a private market: a mint of `amount` (minor units) into `identity`'s cash
  // account, with the issuer's mint sequence number `sequence`, signed for the wallet's market;
  // returns the entry's bytes. Not kept as pending: a mint is the issuer's to repeat or not.
  Result<Bytes> sign_mint(const std::array<std::uint8_t, 32>& identity, std::int64_t amount,
                          std::uint64_t sequence) const;
  // Drops the transaction from pending() and saves. Only for what the node's replica of the log
  // settled (node::settle_pending): the log holds it, or another entry used its sequence number.
  // Unknown bytes are not an error (already dropped).
  Status remove_pending(ByteSpan tx);

  // The resolved path of the wallet file.
  const std::string& path() const { return path_; }

 private:
  Wallet(std::string path, WalletLock lock, protocol::SigningKey key)
      : path_(std::move(path)), lock_(std::move(lock)), key_(std::move(key)) {}
  Status save();
  Bytes encode_contents() const;

  std::string path_;
  WalletLock lock_;
  protocol::SigningKey key_;
  FileKey file_key_;  // Argon2id(passphrase, salt): secret, wiped
  std::optional<protocol::MarketId> market_;
  std::optional<market::AccountId> account_;
  std::uint64_t last_sequence_ = 0;
  std::vector<Bytes> pending_;
};

}  // namespace pfex::node
