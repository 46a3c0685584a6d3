// Ed25519 identity keys on libsodium: the signer key of every transparent transaction
// (docs/protocol/transactions.md). Signing is constant time (libsodium); verification is
// variable time, on public data only.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/codec.hpp"
#include "core/status.hpp"

namespace pfex::protocol {

inline constexpr std::size_t kPublicKeyBytes = 32;
inline constexpr std::size_t kSignatureBytes = 64;
inline constexpr std::size_t kSeedBytes = 32;

using PublicKey = std::array<std::uint8_t, kPublicKeyBytes>;
using Signature = std::array<std::uint8_t, kSignatureBytes>;

// An Ed25519 key pair. The secret half is wiped on destruction; copying is deleted so a secret
// lives in exactly one place (move it instead).
class SigningKey {
 public:
  // A fresh key from the operating system's random source.
  static SigningKey generate();
  // The key derived from a 32-byte seed (what a wallet stores).
  static SigningKey from_seed(std::span<const std::uint8_t, kSeedBytes> seed);

  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  ~SigningKey();

  const PublicKey& public_key() const { return public_; }
  // The seed the key was derived from: secret.
  std::array<std::uint8_t, kSeedBytes> seed() const;
  Signature sign(ByteSpan message) const;

 private:
  SigningKey() = default;
  PublicKey public_{};
  std::array<std::uint8_t, 64> secret_{};  // libsodium's seed || public key
};

// Whether `signature` is a valid Ed25519 signature of `message` under `key` (libsodium's
// crypto_sign_verify_detached, which rejects small-order keys and non-canonical encodings).
// Variable time; all inputs are public.
bool verify_signature_var(const PublicKey& key, ByteSpan message, const Signature& signature);

std::string short_key(const PublicKey& key);  // first 8 hex digits, for logs

}  // namespace pfex::protocol
