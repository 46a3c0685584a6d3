// Ed25519 keys on libsodium; see keys.hpp.
#include "protocol/keys.hpp"

#include <sodium.h>

#include <cstring>
#include <utility>

#include "core/hash.hpp"

namespace pfex::protocol {

SigningKey SigningKey::generate() {
  ensure_sodium_init();
  std::array<std::uint8_t, kSeedBytes> seed{};
  randombytes_buf(seed.data(), seed.size());
  SigningKey key = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

SigningKey SigningKey::from_seed(std::span<const std::uint8_t, kSeedBytes> seed) {
  ensure_sodium_init();
  SigningKey key;
  crypto_sign_seed_keypair(key.public_.data(), key.secret_.data(), seed.data());
  return key;
}

SigningKey::SigningKey(SigningKey&& other) noexcept
    : public_(other.public_), secret_(other.secret_) {
  sodium_memzero(other.secret_.data(), other.secret_.size());
}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    public_ = other.public_;
    secret_ = other.secret_;
    sodium_memzero(other.secret_.data(), other.secret_.size());
  }
  return *this;
}

SigningKey::~SigningKey() {
  sodium_memzero(secret_.data(), secret_.size());
}

std::array<std::uint8_t, kSeedBytes> SigningKey::seed() const {
  std::array<std::uint8_t, kSeedBytes> out{};
  crypto_sign_ed25519_sk_to_seed(out.data(), secret_.data());
  return out;
}

Signature SigningKey::sign(ByteSpan message) const {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

bool verify_signature_var(const PublicKey& key, ByteSpan message, const Signature& signature) {
  ensure_sodium_init();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

std::string short_key(const PublicKey& key) {
  return to_hex(ByteSpan(key.data(), 4));
}

}  // namespace pfex::protocol
