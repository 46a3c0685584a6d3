// The encrypted file both wallets are kept in (docs/node/wallet.md, "Format"): a header with the
// Argon2id cost, salt and nonce; the contents under XChaCha20-Poly1305 with the header as
// associated data; an unkeyed checksum over everything, so that a damaged file is told apart from
// a wrong passphrase. Each kind of file has its own magic. Writes are atomic (temp file, fsync,
// rename, fsync directory).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/codec.hpp"
#include "core/status.hpp"

namespace pfex::node {

// Argon2id cost. `interactive()` is libsodium's interactive level (64 MiB); `for_tests()` is the
// minimum, only for tests.
struct KdfParams {
  std::uint64_t ops = 0;
  std::uint64_t mem_bytes = 0;
  static KdfParams interactive();
  static KdfParams for_tests();
};

using FileMagic = std::array<std::uint8_t, 8>;

// The key a file is sealed under: Argon2id(passphrase, salt) at the file's cost. The key is
// secret: wiped on destruction.
struct FileKey {
  KdfParams kdf;
  std::array<std::uint8_t, 16> salt{};
  std::array<std::uint8_t, 32> key{};

  FileKey() = default;
  FileKey(const FileKey&) = default;
  FileKey& operator=(const FileKey&) = default;
  ~FileKey();
  // A fresh random salt and the key it gives.
  static Result<FileKey> derive(std::string_view passphrase, KdfParams kdf);
};

// Contents read from a sealed file, with the key that opened it. The contents are secret: wiped
// on destruction.
struct OpenedFile {
  FileKey key;
  Bytes contents;
  OpenedFile() = default;
  OpenedFile(OpenedFile&&) = default;
  OpenedFile& operator=(OpenedFile&&) = default;
  ~OpenedFile();
};

// Seals `contents` under `key` with a fresh nonce and replaces `path` atomically.
Status write_sealed_file(const std::string& path, const FileMagic& magic, const FileKey& key,
                         ByteSpan contents);

// Opens a sealed file. Damage of any kind (checksum, truncation, another magic, a KDF cost out of
// bounds) is kCorruption ("<what> <path> is damaged (...)"); a checksum that matches with
// contents that do not decrypt is a wrong passphrase (kInvalidArgument); no file is kNotFound.
Result<OpenedFile> read_sealed_file(const std::string& path, const FileMagic& magic,
                                    std::string_view passphrase, std::string_view what);

// The file a name stands for: symlinks followed (a dangling one too, for create), so a lock and
// every save apply to the one real file whatever name it was opened under.
Result<std::string> resolve_file_path(const std::string& path);

}  // namespace pfex::node
