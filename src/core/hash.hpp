// Hashing helpers on libsodium: SHA-256, SHA-512 and BLAKE2b-256, one-shot and streaming, and
// hex encoding for display. State hashes, transaction ids and checksums all go through here.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/codec.hpp"

namespace pfex {

using Digest32 = std::array<std::uint8_t, 32>;
using Digest64 = std::array<std::uint8_t, 64>;

Digest32 sha256(ByteSpan data);
Digest64 sha512(ByteSpan data);
Digest32 blake2b_256(ByteSpan data);

// Streaming BLAKE2b-256 with a domain label absorbed first, so hashes of different kinds of
// objects never collide by construction ("pfex/v1/state", "pfex/v1/tx", ...).
class Hasher {
 public:
  explicit Hasher(std::string_view domain);
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  ~Hasher();

  void update(ByteSpan data);
  Digest32 finish();

 private:
  alignas(64) std::array<std::uint8_t, 384> state_{};  // crypto_generichash_state, opaque here
};

std::string to_hex(ByteSpan data);
// Lower- or upper-case hex; an odd length or a non-hex character is an error.
Result<Bytes> from_hex(std::string_view hex);

// Makes sure libsodium is initialised; safe to call from any thread, any number of times.
void ensure_sodium_init();

}  // namespace pfex
