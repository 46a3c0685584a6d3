// The exchange's keys, in one place: Ed25519 identity keys (the signer of every transparent
// transaction; on libsodium) and X25519 keys (a validator's key for receiving its DKG shares).
// Secret halves are wiped on destruction. Signing and X25519 are constant time (libsodium);
// verification is variable time, on public data only. Ed25519 verification with pfex's own
// arithmetic, and its exact acceptance rule, is in crypto/ed25519.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "core/codec.hpp"
#include "core/status.hpp"

namespace pfex::crypto {

// ---- Ed25519 ----

inline constexpr std::size_t kEd25519PublicKeyBytes = 32;
inline constexpr std::size_t kEd25519SignatureBytes = 64;
inline constexpr std::size_t kEd25519SeedBytes = 32;

using Ed25519PublicKey = std::array<std::uint8_t, kEd25519PublicKeyBytes>;
using Ed25519Signature = std::array<std::uint8_t, kEd25519SignatureBytes>;

// An Ed25519 key pair. The secret half is wiped on destruction; copying is deleted so a secret
// lives in exactly one place (move it instead).
class Ed25519SigningKey {
 public:
  // A fresh key from the operating system's random source.
  static Ed25519SigningKey generate();
  // The key derived from a 32-byte seed (what a wallet stores).
  static Ed25519SigningKey from_seed(std::span<const std::uint8_t, kEd25519SeedBytes> seed);

  Ed25519SigningKey(const Ed25519SigningKey&) = delete;
  Ed25519SigningKey& operator=(const Ed25519SigningKey&) = delete;
  Ed25519SigningKey(Ed25519SigningKey&& other) noexcept;
  Ed25519SigningKey& operator=(Ed25519SigningKey&& other) noexcept;
  ~Ed25519SigningKey();

  const Ed25519PublicKey& public_key() const { return public_; }
  // The seed the key was derived from: secret.
  std::array<std::uint8_t, kEd25519SeedBytes> seed() const;
  Ed25519Signature sign(ByteSpan message) const;

 private:
  Ed25519SigningKey() = default;
  Ed25519PublicKey public_{};
  std::array<std::uint8_t, 64> secret_{};  // libsodium's seed || public key
};

// Whether `signature` is a valid Ed25519 signature of `message` under `key` (libsodium's
// crypto_sign_verify_detached, which rejects small-order keys and non-canonical encodings).
// Variable time; all inputs are public.
bool verify_signature_var(const Ed25519PublicKey& key, ByteSpan message,
                          const Ed25519Signature& signature);

std::string short_key(const Ed25519PublicKey& key);  // first 8 hex digits, for logs

// ---- X25519 ----

using X25519PublicKey = std::array<std::uint8_t, 32>;

// A validator's X25519 secret key, for receiving its DKG shares. Wiped on destruction.
class X25519SecretKey {
 public:
  static X25519SecretKey generate();
  static X25519SecretKey from_bytes(std::span<const std::uint8_t, 32> bytes);
  X25519SecretKey(const X25519SecretKey&) = default;
  X25519SecretKey& operator=(const X25519SecretKey&) = default;
  ~X25519SecretKey();

  X25519PublicKey public_key() const;
  const std::array<std::uint8_t, 32>& bytes() const { return sk_; }

 private:
  X25519SecretKey() = default;
  std::array<std::uint8_t, 32> sk_{};
};

}  // namespace pfex::crypto
