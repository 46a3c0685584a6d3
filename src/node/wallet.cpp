// The trader's wallet; see wallet.hpp and docs/node/wallet.md.
#include "node/wallet.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pfex::node {
namespace {

constexpr FileMagic kMagic = {'P', 'F', 'E', 'X', 'W', 'L', 'T', '1'};
constexpr std::uint32_t kContentsVersion = 1;
constexpr std::uint32_t kMaxPending = 1 << 16;

// Wipes a secret buffer when it goes out of scope.
struct Wipe {
  std::span<std::uint8_t> bytes;
  ~Wipe() { sodium_memzero(bytes.data(), bytes.size()); }
};

}  // namespace

Result<WalletLock> WalletLock::acquire(const std::string& wallet_path) {
  const std::string path = wallet_path + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io_error("open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::failed_precondition("wallet " + wallet_path + " is in use by another process");
    }
    return Status::io_error("lock " + path + ": " + std::strerror(err));
  }
  return WalletLock(fd);
}

WalletLock& WalletLock::operator=(WalletLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

WalletLock::~WalletLock() {
  if (fd_ >= 0) ::close(fd_);  // drops the flock
}

Result<Wallet> Wallet::create(const std::string& name, std::string_view passphrase, KdfParams kdf) {
  ensure_sodium_init();
  PFEX_ASSIGN_OR_RETURN(const std::string path, resolve_file_path(name));
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    return Status::already_exists("wallet " + path + " exists; not overwriting it");
  }
  PFEX_ASSIGN_OR_RETURN(WalletLock lock, WalletLock::acquire(path));
  Wallet w(path, std::move(lock), protocol::SigningKey::generate());
  PFEX_ASSIGN_OR_RETURN(w.file_key_, FileKey::derive(passphrase, kdf));
  PFEX_RETURN_IF_ERROR(w.save());
  return w;
}

Bytes Wallet::encode_contents() const {
  Bytes out;
  Writer w(&out);
  w.u32(kContentsVersion);
  auto seed = key_.seed();
  w.fixed(seed);
  sodium_memzero(seed.data(), seed.size());
  w.boolean(market_.has_value());
  if (market_) w.fixed(*market_);
  w.boolean(account_.has_value());
  if (account_) w.u32(account_->value);
  w.u64(last_sequence_);
  w.u32(static_cast<std::uint32_t>(pending_.size()));
  for (const Bytes& tx : pending_)
    w.var_bytes(tx);
  return out;
}

Status Wallet::save() {
  Bytes plain = encode_contents();
  Wipe wipe_plain{plain};
  return write_sealed_file(path_, kMagic, file_key_, plain);
}

Result<Wallet> Wallet::open(const std::string& name, std::string_view passphrase) {
  ensure_sodium_init();
  PFEX_ASSIGN_OR_RETURN(const std::string path, resolve_file_path(name));
  PFEX_ASSIGN_OR_RETURN(WalletLock lock, WalletLock::acquire(path));
  PFEX_ASSIGN_OR_RETURN(OpenedFile opened, read_sealed_file(path, kMagic, passphrase, "wallet"));
  const std::string damaged = "wallet " + path + " is damaged";
  Reader c(opened.contents);
  if (c.u32("wallet version") != kContentsVersion) {
    c.fail(Status::corruption("unknown wallet version"));
  }
  std::array<std::uint8_t, protocol::kSeedBytes> seed{};
  Wipe wipe_seed{seed};
  c.fixed("identity seed", seed);
  std::optional<protocol::MarketId> market;
  if (c.boolean("has market")) {
    protocol::MarketId m{};
    c.fixed("market", m);
    market = m;
  }
  std::optional<market::AccountId> account;
  if (c.boolean("has account")) account = market::AccountId{c.u32("account")};
  const std::uint64_t last_sequence = c.u64("last sequence");
  const std::uint32_t count = c.u32("pending count");
  if (count > kMaxPending) c.fail(Status::corruption("too many pending transactions"));
  std::vector<Bytes> pending;
  for (std::uint32_t i = 0; i < count && !c.failed(); ++i) {
    pending.push_back(c.var_bytes("pending transaction",
                                  static_cast<std::uint32_t>(protocol::kMaxTransactionBytes)));
  }
  if (Status s = c.finish(); !s) return s.with_context(damaged);

  Wallet w(path, std::move(lock), protocol::SigningKey::from_seed(seed));
  w.file_key_ = opened.key;
  w.market_ = market;
  w.account_ = account;
  w.last_sequence_ = last_sequence;
  w.pending_ = std::move(pending);
  return w;
}

Status Wallet::set_market(const protocol::MarketId& market) {
  if (market_ && *market_ != market) {
    return Status::failed_precondition("this wallet already belongs to another market");
  }
  market_ = market;
  return save();
}

Status Wallet::set_account(market::AccountId account) {
  if (account_ && *account_ != account) {
    return Status::failed_precondition("this wallet already has account " +
                                       std::to_string(account_->value));
  }
  account_ = account;
  return save();
}

Status Wallet::sync_sequence(std::uint64_t ledger_last) {
  if (ledger_last <= last_sequence_) return Status::ok();
  last_sequence_ = ledger_last;
  return save();
}

Result<Bytes> Wallet::prepare(const market::Action& action) {
  if (!market_) return Status::failed_precondition("the wallet has no market yet");
  if (last_sequence_ == UINT64_MAX)
    return Status::overflow("the wallet's sequence numbers are used up");
  Bytes tx = protocol::sign_transparent(key_, *market_, last_sequence_ + 1, action);
  ++last_sequence_;
  pending_.push_back(tx);
  if (Status s = save(); !s) {
    // The sequence number stays used: the file may or may not hold it, and a number is never
    // signed twice for different transactions.
    pending_.pop_back();
    return s;
  }
  return tx;
}

Result<Bytes> Wallet::sign_mint(const std::array<std::uint8_t, 32>& identity, std::int64_t amount,
                                std::uint64_t sequence) const {
  if (!market_) return Status::failed_precondition("the wallet has no market yet");
  priv::MintTx tx;
  tx.account = identity;
  tx.amount = amount;
  tx.sequence = sequence;
  const auto signature = key_.sign(priv::mint_signed_bytes(*market_, tx));
  std::copy(signature.begin(), signature.end(), tx.signature.begin());
  return protocol::encode_entry(protocol::PrivateEntry{priv::PrivateTx(tx)});
}

Status Wallet::remove_pending(ByteSpan tx) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Bytes& p) {
    return std::equal(p.begin(), p.end(), tx.begin(), tx.end());
  });
  if (it == pending_.end()) return Status::ok();
  pending_.erase(it);
  return save();
}

}  // namespace pfex::node
