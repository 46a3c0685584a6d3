// Fuzzes Ed25519 verification (crypto/ed25519.hpp) against libsodium 1.0.18's
// crypto_sign_verify_detached, whose acceptance rule ours reproduces: any disagreement aborts.
// The first byte picks the mode:
//  0: the rest is pk (32) || sig (64) || message, verified as they are;
//  1: the same, with the top nibble of S cleared, so that S is mostly below l and the check
//     reaches the point decoding and the double scalar multiplication;
//  2: the next 32 bytes are a seed and the rest a message: libsodium signs it, the signature must
//     verify, and then one bit of pk || sig (position and bit from the seed) is flipped.
// Seeds (fuzz/corpus/pfex_fuzz_ed25519_verify/): the RFC 8032 section 7.1 vectors 1-3 in mode 0,
// vector 1 with a small-order key, and one input in each of modes 1 and 2.
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/hash.hpp"
#include "crypto/ed25519.hpp"

namespace {

void check(const std::uint8_t* pk, const std::uint8_t* sig, const std::uint8_t* msg,
           std::size_t len) {
  const bool sodium = crypto_sign_verify_detached(sig, msg, len, pk) == 0;
  const bool ours = pfex::crypto::ed25519_verify_var(std::span<const std::uint8_t, 64>(sig, 64),
                                                     pfex::ByteSpan(msg, len),
                                                     std::span<const std::uint8_t, 32>(pk, 32));
  if (sodium != ours) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pfex::ensure_sodium_init();
  if (size < 1) return 0;
  const std::uint8_t mode = data[0] % 3;
  ++data;
  --size;
  if (mode == 0 || mode == 1) {
    if (size < 96) return 0;
    std::array<std::uint8_t, 96> head;
    std::memcpy(head.data(), data, 96);
    if (mode == 1) head[32 + 63] &= 0x0f;
    check(head.data(), head.data() + 32, data + 96, size - 96);
    return 0;
  }
  if (size < 32) return 0;
  std::array<std::uint8_t, 32> pk;
  std::array<std::uint8_t, 64> sk;
  crypto_sign_seed_keypair(pk.data(), sk.data(), data);
  const std::uint8_t* msg = data + 32;
  const std::size_t len = size - 32;
  std::array<std::uint8_t, 96> both;
  std::memcpy(both.data(), pk.data(), 32);
  crypto_sign_detached(both.data() + 32, nullptr, msg, len, sk.data());
  if (!pfex::crypto::ed25519_verify_var(std::span<const std::uint8_t, 64>(both.data() + 32, 64),
                                        pfex::ByteSpan(msg, len), pk)) {
    std::abort();
  }
  both[data[0] % 96] ^= static_cast<std::uint8_t>(1U << (data[1] % 8));
  check(both.data(), both.data() + 32, msg, len);
  return 0;
}
