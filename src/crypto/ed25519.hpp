// Ed25519 signature verification (RFC 8032 section 5.1.7) on pfex's own curve25519 arithmetic,
// with exactly the acceptance rule of libsodium 1.0.18's crypto_sign_verify_detached, so that
// every signature has the same validity under both. The rule, the algorithm and the measured
// costs are in docs/crypto/ed25519.md. Signing stays with libsodium (src/crypto/keys.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "core/codec.hpp"
#include "crypto/edwards25519.hpp"
#include "crypto/keys.hpp"

namespace pfex::crypto {

// Whether `signature` = R || S is a valid Ed25519 signature of `message` under `public_key` A.
// Accepts iff all of these hold (libsodium 1.0.18's rule, docs/crypto/ed25519.md section 2):
//   1. S < l (canonical scalar);
//   2. R is not one of the small-order encodings libsodium blacklists (top bit ignored);
//   3. A's y coordinate is below p (top bit ignored) and A is not on that blacklist;
//   4. A decodes to a curve point (RFC 8032 section 5.1.3);
//   5. encode([S]B - [k]A) equals the 32 bytes of R, where k = SHA-512(R || A || message) mod l.
// There is no cofactor multiplication: the equation is checked exactly in the full curve group.
// Variable time: every input is public.
bool ed25519_verify_var(std::span<const std::uint8_t, kEd25519SignatureBytes> signature,
                        ByteSpan message,
                        std::span<const std::uint8_t, kEd25519PublicKeyBytes> public_key);

namespace detail {

// RFC 8032 section 5.1.3 decoding of an Edwards point: rejects y >= p, a y with no x on the curve,
// and x = 0 with the sign bit set. Z = 1 on output. Variable time.
bool ed25519_decode_var(Ext* out, std::span<const std::uint8_t, 32> bytes);
// RFC 8032 section 5.1.2 encoding: y with the sign of x in the top bit. Reads X, Y and Z only
// (T may be absent, as after to_proj). Constant time.
std::array<std::uint8_t, 32> ed25519_encode(const Ext& p);
// [s1]B + [s2]P for the Ed25519 base point B and canonical scalars s1, s2 (< 2^253), as a
// projective point (T unset). Variable time.
Ext ed25519_double_scalar_mul_base_var(std::span<const std::uint8_t, 32> s1, const Ext& p,
                                       std::span<const std::uint8_t, 32> s2);

// The same verdict as ed25519_verify_var by the plain equation (step 5b of the note): one double
// scalar multiplication of full-size scalars, then encode and compare. For the tests.
bool ed25519_verify_plain_var(std::span<const std::uint8_t, 64> signature, ByteSpan message,
                              std::span<const std::uint8_t, 32> public_key);
// Finds c0 = c1 k (mod 8l) with c0 >= 0 and c1 odd, both below 2^160 (about 2^128 in practice),
// as little-endian magnitudes and the sign of c1 (docs/crypto/ed25519.md section 4). Returns
// false if it did not find them; every pair it returns has been checked. Variable time.
bool ed25519_half_size_var(std::span<const std::uint8_t, 32> k, std::array<std::uint8_t, 32>* c0,
                           std::array<std::uint8_t, 32>* c1, bool* c1_negative);

}  // namespace detail
}  // namespace pfex::crypto
