// Ed25519 and X25519 keys on libsodium; see keys.hpp.
#include "crypto/keys.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/hash.hpp"

namespace pfex::crypto {

// ---- Ed25519 ----

Ed25519SigningKey Ed25519SigningKey::generate() {
  ensure_sodium_init();
  std::array<std::uint8_t, kEd25519SeedBytes> seed{};
  randombytes_buf(seed.data(), seed.size());
  Ed25519SigningKey key = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

Ed25519SigningKey Ed25519SigningKey::from_seed(
    std::span<const std::uint8_t, kEd25519SeedBytes> seed) {
  ensure_sodium_init();
  Ed25519SigningKey key;
  crypto_sign_seed_keypair(key.public_.data(), key.secret_.data(), seed.data());
  return key;
}

Ed25519SigningKey::Ed25519SigningKey(Ed25519SigningKey&& other) noexcept
    : public_(other.public_), secret_(other.secret_) {
  sodium_memzero(other.secret_.data(), other.secret_.size());
}

Ed25519SigningKey& Ed25519SigningKey::operator=(Ed25519SigningKey&& other) noexcept {
  if (this != &other) {
    public_ = other.public_;
    secret_ = other.secret_;
    sodium_memzero(other.secret_.data(), other.secret_.size());
  }
  return *this;
}

Ed25519SigningKey::~Ed25519SigningKey() {
  sodium_memzero(secret_.data(), secret_.size());
}

std::array<std::uint8_t, kEd25519SeedBytes> Ed25519SigningKey::seed() const {
  std::array<std::uint8_t, kEd25519SeedBytes> out{};
  crypto_sign_ed25519_sk_to_seed(out.data(), secret_.data());
  return out;
}

Ed25519Signature Ed25519SigningKey::sign(ByteSpan message) const {
  Ed25519Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

bool verify_signature_var(const Ed25519PublicKey& key, ByteSpan message,
                          const Ed25519Signature& signature) {
  ensure_sodium_init();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

std::string short_key(const Ed25519PublicKey& key) {
  return to_hex(ByteSpan(key.data(), 4));
}

// ---- X25519 ----

X25519SecretKey X25519SecretKey::generate() {
  ensure_sodium_init();
  X25519SecretKey k;
  randombytes_buf(k.sk_.data(), k.sk_.size());
  return k;
}

X25519SecretKey X25519SecretKey::from_bytes(std::span<const std::uint8_t, 32> bytes) {
  X25519SecretKey k;
  std::copy(bytes.begin(), bytes.end(), k.sk_.begin());
  return k;
}

X25519SecretKey::~X25519SecretKey() {
  sodium_memzero(sk_.data(), sk_.size());
}

X25519PublicKey X25519SecretKey::public_key() const {
  X25519PublicKey pk{};
  crypto_scalarmult_base(pk.data(), sk_.data());
  return pk;
}

}  // namespace pfex::crypto
