// The private wallet's file; see private_wallet_store.hpp and docs/node/private_wallet.md.
#include "node/private_wallet_store.hpp"

#include <sodium.h>
#include <sys/stat.h>

namespace pfex::node {
namespace {

constexpr FileMagic kMagic = {'P', 'F', 'E', 'X', 'P', 'W', 'L', '1'};
// The wallet's state grows with its orders (72 bytes each, at most 2^20 of them).
constexpr std::uint32_t kMaxWalletState = 1U << 27;

}  // namespace

Result<PrivateWalletStore> PrivateWalletStore::create(const std::string& name,
                                                      std::string_view passphrase,
                                                      const priv::PrivateGens& gens,
                                                      const protocol::MarketId& market,
                                                      KdfParams kdf) {
  ensure_sodium_init();
  PFEX_ASSIGN_OR_RETURN(const std::string path, resolve_file_path(name));
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    return Status::already_exists("wallet " + path + " exists; not overwriting it");
  PFEX_ASSIGN_OR_RETURN(WalletLock lock, WalletLock::acquire(path));
  PrivateWalletStore s(path, std::move(lock));
  PFEX_ASSIGN_OR_RETURN(s.file_key_, FileKey::derive(passphrase, kdf));
  s.market_ = market;
  s.wallet_ = std::make_unique<priv::PrivateWallet>(gens);
  PFEX_RETURN_IF_ERROR(s.save());
  return s;
}

Result<PrivateWalletStore> PrivateWalletStore::open(const std::string& name,
                                                    std::string_view passphrase,
                                                    const priv::PrivateGens& gens) {
  PFEX_ASSIGN_OR_RETURN(const std::string path, resolve_file_path(name));
  PFEX_ASSIGN_OR_RETURN(WalletLock lock, WalletLock::acquire(path));
  PFEX_ASSIGN_OR_RETURN(OpenedFile opened,
                        read_sealed_file(path, kMagic, passphrase, "private wallet"));
  const std::string damaged = "private wallet " + path + " is damaged";
  PrivateWalletStore s(path, std::move(lock));
  Reader r(opened.contents);
  const std::uint32_t version = r.u32("private wallet file version");
  if (!r.failed() && version != kContentsVersion)
    return Status::corruption(damaged + ": unknown version " + std::to_string(version) +
                              " (this build reads " + std::to_string(kContentsVersion) + ")");
  r.fixed("market", s.market_);
  s.followed_ = r.u64("followed log position");
  if (r.boolean("has pending entry"))
    s.pending_entry_ =
        r.var_bytes("pending entry", static_cast<std::uint32_t>(protocol::kMaxTransactionBytes));
  Bytes state = r.var_bytes("wallet state", kMaxWalletState);
  const Status read = r.finish();
  Result<std::unique_ptr<priv::PrivateWallet>> wallet =
      read ? priv::PrivateWallet::decode_state(gens, state)
           : Result<std::unique_ptr<priv::PrivateWallet>>(read);
  sodium_memzero(state.data(), state.size());
  if (!wallet.is_ok()) {
    const Status& e = wallet.status();
    return Status::corruption(damaged + ": " + std::string(e.message()));
  }
  s.file_key_ = opened.key;
  s.wallet_ = std::move(wallet).value();
  return s;
}

Status PrivateWalletStore::save() {
  Bytes state;
  Writer sw(&state);
  wallet_->encode_state(sw);
  Bytes contents;
  Writer w(&contents);
  w.u32(kContentsVersion);
  w.fixed(market_);
  w.u64(followed_);
  w.boolean(pending_entry_.has_value());
  if (pending_entry_) w.var_bytes(*pending_entry_);
  w.var_bytes(state);
  Status written = write_sealed_file(path_, kMagic, file_key_, contents);
  sodium_memzero(state.data(), state.size());
  sodium_memzero(contents.data(), contents.size());
  return written;
}

Status PrivateWalletStore::save_pending(Bytes entry) {
  if (entry.size() > protocol::kMaxTransactionBytes)
    return Status::invalid_argument("a pending entry of " + std::to_string(entry.size()) +
                                    " bytes is over the transaction limit of " +
                                    std::to_string(protocol::kMaxTransactionBytes));
  pending_entry_ = std::move(entry);
  return save();
}

Status PrivateWalletStore::save_progress(std::uint64_t log_sequence, bool clear_pending) {
  if (log_sequence > followed_) followed_ = log_sequence;
  if (clear_pending) pending_entry_.reset();
  return save();
}

}  // namespace pfex::node
