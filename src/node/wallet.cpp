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
#include <filesystem>

#include "core/file.hpp"
#include "core/hash.hpp"

namespace pfex::node {
namespace {

constexpr std::array<std::uint8_t, 8> kMagic = {'P', 'F', 'E', 'X', 'W', 'L', 'T', '1'};
constexpr std::uint32_t kContentsVersion = 1;
constexpr std::uint32_t kMaxPending = 1 << 16;
constexpr std::uint64_t kMaxKdfMem = std::uint64_t{1} << 32;  // refuse absurd costs from a file
constexpr std::uint64_t kMaxKdfOps = 64;
constexpr std::string_view kChecksumDomain = "pfex/v1/wallet-file";
constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kNonceBytes == 24 && kTagBytes == 16);

// Wipes a secret buffer when it goes out of scope.
struct Wipe {
  std::span<std::uint8_t> bytes;
  ~Wipe() { sodium_memzero(bytes.data(), bytes.size()); }
};

Status derive_key(std::string_view passphrase, const std::array<std::uint8_t, 16>& salt,
                  const KdfParams& kdf, std::array<std::uint8_t, 32>& out) {
  if (crypto_pwhash(out.data(), out.size(), passphrase.data(), passphrase.size(), salt.data(),
                    kdf.ops, static_cast<std::size_t>(kdf.mem_bytes),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::io_error("Argon2id ran out of memory");
  }
  return Status::ok();
}

// The file a wallet name stands for: symlinks followed (a dangling one too, for create), so the
// lock and every save apply to the one real file whatever name it was opened under.
Result<std::string> resolve_wallet_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(path);
  for (int hops = 0; fs::is_symlink(fs::symlink_status(p, ec)); ++hops) {
    if (hops == 40) return Status::invalid_argument("too many symlinks at wallet " + path);
    const fs::path target = fs::read_symlink(p, ec);
    if (ec) return Status::io_error("read symlink " + p.string() + ": " + ec.message());
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  const fs::path absolute = fs::weakly_canonical(p, ec);
  if (ec) return Status::io_error("resolve wallet path " + path + ": " + ec.message());
  return absolute.string();
}

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

KdfParams KdfParams::interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}
KdfParams KdfParams::for_tests() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

Wallet::~Wallet() {
  sodium_memzero(file_key_.data(), file_key_.size());
}

Result<Wallet> Wallet::create(const std::string& name, std::string_view passphrase, KdfParams kdf) {
  ensure_sodium_init();
  PFEX_ASSIGN_OR_RETURN(const std::string path, resolve_wallet_path(name));
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    return Status::already_exists("wallet " + path + " exists; not overwriting it");
  }
  PFEX_ASSIGN_OR_RETURN(WalletLock lock, WalletLock::acquire(path));
  Wallet w(path, std::move(lock), protocol::SigningKey::generate());
  w.kdf_ = kdf;
  randombytes_buf(w.salt_.data(), w.salt_.size());
  PFEX_RETURN_IF_ERROR(derive_key(passphrase, w.salt_, kdf, w.file_key_));
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
  Bytes file(kMagic.begin(), kMagic.end());  // (not Writer::fixed on an empty vector: g++ 12
  Writer w(&file);                           // warns falsely on that insert)
  w.u64(kdf_.ops);
  w.u64(kdf_.mem_bytes);
  w.fixed(salt_);
  std::array<std::uint8_t, kNonceBytes> nonce{};
  randombytes_buf(nonce.data(), nonce.size());
  w.fixed(nonce);
  const Bytes header = file;  // authenticated as associated data
  Bytes cipher(plain.size() + kTagBytes);
  unsigned long long cipher_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(cipher.data(), &cipher_len, plain.data(), plain.size(),
                                             header.data(), header.size(), nullptr, nonce.data(),
                                             file_key_.data());
  cipher.resize(static_cast<std::size_t>(cipher_len));
  w.var_bytes(cipher);
  const Digest32 sum = [&] {
    Hasher h(kChecksumDomain);
    h.update(file);
    return h.finish();
  }();
  w.fixed(sum);
  return write_file_atomically(path_, file);
}

Result<Wallet> Wallet::open(const std::string& name, std::string_view passphrase) {
  ensure_sodium_init();
  PFEX_ASSIGN_OR_RETURN(const std::string path, resolve_wallet_path(name));
  PFEX_ASSIGN_OR_RETURN(WalletLock lock, WalletLock::acquire(path));
  PFEX_ASSIGN_OR_RETURN(Bytes file, read_whole_file(path));
  const std::string damaged = "wallet " + path + " is damaged";
  if (file.size() < 32) return Status::corruption(damaged + " (truncated)");
  {
    Hasher h(kChecksumDomain);
    h.update(ByteSpan(file).first(file.size() - 32));
    const Digest32 sum = h.finish();
    if (!std::equal(sum.begin(), sum.end(), file.end() - 32)) {
      return Status::corruption(damaged + " (checksum mismatch)");
    }
  }
  Reader r(ByteSpan(file).first(file.size() - 32));
  std::array<std::uint8_t, 8> magic{};
  r.fixed("magic", magic);
  KdfParams kdf;
  kdf.ops = r.u64_in("kdf ops", crypto_pwhash_OPSLIMIT_MIN, kMaxKdfOps);
  kdf.mem_bytes = r.u64_in("kdf memory", crypto_pwhash_MEMLIMIT_MIN, kMaxKdfMem);
  std::array<std::uint8_t, 16> salt{};
  r.fixed("salt", salt);
  std::array<std::uint8_t, kNonceBytes> nonce{};
  r.fixed("nonce", nonce);
  const std::size_t header_len = file.size() - 32 - r.remaining();
  const Bytes cipher = r.var_bytes("ciphertext", 1U << 30);
  if (!r.finish().is_ok() || magic != kMagic || cipher.size() < kTagBytes) {
    return Status::corruption(damaged + " (not a pfex wallet or a bad header)");
  }

  std::array<std::uint8_t, 32> file_key{};
  Wipe wipe_key{file_key};
  PFEX_RETURN_IF_ERROR(derive_key(passphrase, salt, kdf, file_key));
  Bytes plain(cipher.size() - kTagBytes);
  Wipe wipe_plain{plain};
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &plain_len, nullptr, cipher.data(),
                                                 cipher.size(), file.data(), header_len,
                                                 nonce.data(), file_key.data()) != 0) {
    // The checksum matched, so the file is as written: the passphrase is wrong.
    return Status::invalid_argument("wrong passphrase for wallet " + path);
  }

  Reader c(plain);
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
  w.kdf_ = kdf;
  w.salt_ = salt;
  w.file_key_ = file_key;
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

Status Wallet::remove_pending(ByteSpan tx) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Bytes& p) {
    return std::equal(p.begin(), p.end(), tx.begin(), tx.end());
  });
  if (it == pending_.end()) return Status::ok();
  pending_.erase(it);
  return save();
}

}  // namespace pfex::node
