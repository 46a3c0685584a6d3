#include "core/hash.hpp"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

namespace pfex {

static_assert(sizeof(crypto_generichash_state) <= 384, "Hasher::state_ too small");

void ensure_sodium_init() {
  static const int rc = sodium_init();  // thread-safe static initialisation
  if (rc < 0) std::abort();             // no safe way to continue without a CSPRNG
}

Digest32 sha256(ByteSpan data) {
  ensure_sodium_init();
  Digest32 out{};
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

Digest64 sha512(ByteSpan data) {
  ensure_sodium_init();
  Digest64 out{};
  crypto_hash_sha512(out.data(), data.data(), data.size());
  return out;
}

Digest32 blake2b_256(ByteSpan data) {
  ensure_sodium_init();
  Digest32 out{};
  crypto_generichash(out.data(), out.size(), data.data(), data.size(), nullptr, 0);
  return out;
}

Hasher::Hasher(std::string_view domain) {
  ensure_sodium_init();
  auto* st = reinterpret_cast<crypto_generichash_state*>(state_.data());
  crypto_generichash_init(st, nullptr, 0, 32);
  Bytes prefix;
  Writer w(&prefix);
  w.string(domain);
  update(prefix);
}

Hasher::~Hasher() {
  sodium_memzero(state_.data(), state_.size());
}

void Hasher::update(ByteSpan data) {
  auto* st = reinterpret_cast<crypto_generichash_state*>(state_.data());
  crypto_generichash_update(st, data.data(), data.size());
}

Digest32 Hasher::finish() {
  auto* st = reinterpret_cast<crypto_generichash_state*>(state_.data());
  Digest32 out{};
  crypto_generichash_final(st, out.data(), out.size());
  return out;
}

std::string to_hex(ByteSpan data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (std::uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

Result<Bytes> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::invalid_argument("hex string has an odd length");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Status::invalid_argument("not a hex digit at position " + std::to_string(2 * i));
    }
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return out;
}

}  // namespace pfex
