// The encrypted wallet file; see sealed_file.hpp and docs/node/wallet.md.
#include "node/sealed_file.hpp"

#include <sodium.h>

#include <algorithm>
#include <filesystem>

#include "core/file.hpp"
#include "core/hash.hpp"

namespace pfex::node {
namespace {

constexpr std::uint64_t kMaxKdfMem = std::uint64_t{1} << 32;  // refuse absurd costs from a file
constexpr std::uint64_t kMaxKdfOps = 64;
constexpr std::string_view kChecksumDomain = "pfex/v1/wallet-file";
constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kNonceBytes == 24 && kTagBytes == 16);

Status derive_key(std::string_view passphrase, const std::array<std::uint8_t, 16>& salt,
                  const KdfParams& kdf, std::array<std::uint8_t, 32>& out) {
  if (crypto_pwhash(out.data(), out.size(), passphrase.data(), passphrase.size(), salt.data(),
                    kdf.ops, static_cast<std::size_t>(kdf.mem_bytes),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::io_error("Argon2id ran out of memory");
  }
  return Status::ok();
}

}  // namespace

KdfParams KdfParams::interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}
KdfParams KdfParams::for_tests() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

FileKey::~FileKey() {
  sodium_memzero(key.data(), key.size());
}

Result<FileKey> FileKey::derive(std::string_view passphrase, KdfParams kdf) {
  ensure_sodium_init();
  FileKey k;
  k.kdf = kdf;
  randombytes_buf(k.salt.data(), k.salt.size());
  PFEX_RETURN_IF_ERROR(derive_key(passphrase, k.salt, kdf, k.key));
  return k;
}

OpenedFile::~OpenedFile() {
  sodium_memzero(contents.data(), contents.size());
}

Status write_sealed_file(const std::string& path, const FileMagic& magic, const FileKey& key,
                         ByteSpan contents) {
  Bytes file(magic.begin(), magic.end());  // (not Writer::fixed on an empty vector: g++ 12
  Writer w(&file);                         // warns falsely on that insert)
  w.u64(key.kdf.ops);
  w.u64(key.kdf.mem_bytes);
  w.fixed(key.salt);
  std::array<std::uint8_t, kNonceBytes> nonce{};
  randombytes_buf(nonce.data(), nonce.size());
  w.fixed(nonce);
  const Bytes header = file;  // authenticated as associated data
  Bytes cipher(contents.size() + kTagBytes);
  unsigned long long cipher_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(cipher.data(), &cipher_len, contents.data(),
                                             contents.size(), header.data(), header.size(), nullptr,
                                             nonce.data(), key.key.data());
  cipher.resize(static_cast<std::size_t>(cipher_len));
  w.var_bytes(cipher);
  const Digest32 sum = [&] {
    Hasher h(kChecksumDomain);
    h.update(file);
    return h.finish();
  }();
  w.fixed(sum);
  return write_file_atomically(path, file);
}

Result<OpenedFile> read_sealed_file(const std::string& path, const FileMagic& magic,
                                    std::string_view passphrase, std::string_view what) {
  ensure_sodium_init();
  PFEX_ASSIGN_OR_RETURN(Bytes file, read_whole_file(path));
  const std::string damaged = std::string(what) + " " + path + " is damaged";
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
  FileMagic read_magic{};
  r.fixed("magic", read_magic);
  OpenedFile out;
  out.key.kdf.ops = r.u64_in("kdf ops", crypto_pwhash_OPSLIMIT_MIN, kMaxKdfOps);
  out.key.kdf.mem_bytes = r.u64_in("kdf memory", crypto_pwhash_MEMLIMIT_MIN, kMaxKdfMem);
  r.fixed("salt", out.key.salt);
  std::array<std::uint8_t, kNonceBytes> nonce{};
  r.fixed("nonce", nonce);
  const std::size_t header_len = file.size() - 32 - r.remaining();
  const Bytes cipher = r.var_bytes("ciphertext", 1U << 30);
  if (!r.finish().is_ok() || read_magic != magic || cipher.size() < kTagBytes) {
    return Status::corruption(damaged + " (not a pfex " + std::string(what) + " or a bad header)");
  }
  PFEX_RETURN_IF_ERROR(derive_key(passphrase, out.key.salt, out.key.kdf, out.key.key));
  out.contents.resize(cipher.size() - kTagBytes);
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.contents.data(), &plain_len, nullptr, cipher.data(), cipher.size(), file.data(),
          header_len, nonce.data(), out.key.key.data()) != 0) {
    // The checksum matched, so the file is as written: the passphrase is wrong.
    return Status::invalid_argument("wrong passphrase for " + std::string(what) + " " + path);
  }
  return out;
}

Result<std::string> resolve_file_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(path);
  for (int hops = 0; fs::is_symlink(fs::symlink_status(p, ec)); ++hops) {
    if (hops == 40) return Status::invalid_argument("too many symlinks at " + path);
    const fs::path target = fs::read_symlink(p, ec);
    if (ec) return Status::io_error("read symlink " + p.string() + ": " + ec.message());
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  const fs::path absolute = fs::weakly_canonical(p, ec);
  if (ec) return Status::io_error("resolve path " + path + ": " + ec.message());
  return absolute.string();
}

}  // namespace pfex::node
