// Ed25519 verification with libsodium 1.0.18's acceptance rule; see ed25519.hpp and
// docs/crypto/ed25519.md (the step numbers below are the note's).
#include "crypto/ed25519.hpp"

#include <sodium.h>

#include <array>
#include <cstring>
#include <vector>

#include "core/hash.hpp"
#include "crypto/scalar_recoding.hpp"

namespace pfex::crypto {
namespace detail {
namespace {

// The group order l, little-endian.
constexpr std::array<std::uint8_t, 32> kL = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

// The encodings libsodium 1.0.18's ge25519_has_small_order rejects (compared with the top bit of
// the last byte cleared): y = 0 (order 4), y = 1 (the identity), the two y of the order-8 points,
// y = p - 1 (order 2), and the non-canonical y = p and y = p + 1. With either sign bit they cover
// all eight points of small order.
constexpr std::uint8_t kSmallOrder[7][32] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
    {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

// The RFC 8032 base point B: y = 4/5, x even.
constexpr std::array<std::uint8_t, 32> kBaseEncoding = {
    0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};

// wNAF widths: 5 for the variable point (8 odd multiples, built per call), 8 for B (64 odd
// multiples, built once). Measured in bench/crypto/ed25519_bench.cpp; docs/crypto/ed25519.md.
constexpr int kPointWidth = 5;
constexpr int kBaseWidth = 8;
constexpr std::size_t kPointTable = std::size_t{1} << (kPointWidth - 2);
constexpr std::size_t kBaseTable = std::size_t{1} << (kBaseWidth - 2);

bool scalar_is_canonical(const std::uint8_t* s) {
  for (std::size_t i = 32; i-- > 0;) {
    if (s[i] != kL[i]) return s[i] < kL[i];
  }
  return false;  // s == l
}

bool has_small_order_encoding(const std::uint8_t* s) {
  for (const auto& bad : kSmallOrder) {
    if (std::memcmp(s, bad, 31) == 0 && (s[31] & 0x7f) == bad[31]) return true;
  }
  return false;
}

// y (the low 255 bits) < p = 2^255 - 19: libsodium's ge25519_is_canonical.
bool y_is_canonical(const std::uint8_t* s) {
  if ((s[31] & 0x7f) != 0x7f) return true;
  for (std::size_t i = 30; i > 0; --i) {
    if (s[i] != 0xff) return true;
  }
  return s[0] < 0xed;
}

// {B, 3B, 5B, ..., (2 kBaseTable - 1)B} in Niels form, built once.
const std::array<Niels, kBaseTable>& base_table() {
  static const std::array<Niels, kBaseTable> table = [] {
    Ext b;
    const bool ok = ed25519_decode_var(&b, kBaseEncoding);
    (void)ok;  // a constant, checked by the RFC 8032 vectors in ed25519_test.cpp
    const Cached b2 = to_cached(ext_dbl(b));
    std::vector<Ext> multiples(kBaseTable);
    multiples[0] = b;
    for (std::size_t j = 1; j < kBaseTable; ++j)
      multiples[j] = to_ext(add(multiples[j - 1], b2));
    std::array<Niels, kBaseTable> out;
    to_niels_batch(multiples.data(), out.data(), kBaseTable);
    return out;
  }();
  return table;
}

}  // namespace

bool ed25519_decode_var(Ext* out, std::span<const std::uint8_t, 32> bytes) {
  if (!y_is_canonical(bytes.data())) return false;
  const bool x_sign = (bytes[31] >> 7) != 0;
  const Fe y = fe_from_bytes(bytes);  // ignores the top bit
  const Fe yy = fe_sq(y);
  const Fe u = fe_sub(yy, fe_one());                  // y^2 - 1
  const Fe v = fe_add(fe_mul(yy, fe_d()), fe_one());  // d y^2 + 1, never zero
  Fe x;
  if (fe_sqrt_ratio_m1(x, u, v) != 1) return false;  // x = +sqrt(u / v), the even root
  if (x_sign) {
    if (fe_is_zero(x) == 1) return false;
    x = fe_neg(x);
  }
  *out = Ext{x, y, fe_one(), fe_mul(x, y)};
  return true;
}

std::array<std::uint8_t, 32> ed25519_encode(const Ext& p) {
  const Fe z_inv = fe_invert(p.Z);
  const Fe x = fe_mul(p.X, z_inv);
  auto out = fe_to_bytes(fe_mul(p.Y, z_inv));
  out[31] = static_cast<std::uint8_t>(out[31] | (fe_is_negative(x) << 7));
  return out;
}

Ext ed25519_double_scalar_mul_base_var(std::span<const std::uint8_t, 32> s1, const Ext& p,
                                       std::span<const std::uint8_t, 32> s2) {
  const std::array<Niels, kBaseTable>& b_table = base_table();
  const std::array<std::int8_t, 256> naf_b = wnaf_var(s1, kBaseWidth);
  const std::array<std::int8_t, 256> naf_p = wnaf_var(s2, kPointWidth);
  std::array<Cached, kPointTable> p_table;
  p_table[0] = to_cached(p);
  const Cached p2 = to_cached(ext_dbl(p));
  Ext acc = p;
  for (std::size_t j = 1; j < kPointTable; ++j) {
    acc = to_ext(add(acc, p2));
    p_table[j] = to_cached(acc);
  }

  int top = 255;
  while (top >= 0 && naf_b[static_cast<std::size_t>(top)] == 0 &&
         naf_p[static_cast<std::size_t>(top)] == 0)
    --top;
  Ext r = ext_identity();
  for (int i = top; i >= 0; --i) {
    Completed t = dbl(r);
    // One addition site per table, negating the operand for a negative digit: with separate
    // add/sub sites the inlined loop grew and ran its doublings about 1.8x slower (measured).
    const int db = naf_b[static_cast<std::size_t>(i)];
    if (db != 0) {
      const Niels& e = b_table[static_cast<std::size_t>((db > 0 ? db : -db) / 2)];
      t = add(to_ext(t), db > 0 ? e : neg(e));
    }
    const int dp = naf_p[static_cast<std::size_t>(i)];
    if (dp != 0) {
      const Cached& e = p_table[static_cast<std::size_t>((dp > 0 ? dp : -dp) / 2)];
      t = add(to_ext(t), dp > 0 ? e : neg(e));
    }
    r = to_proj(t);  // the next step is a doubling or the encoding: T unused
  }
  return r;
}

}  // namespace detail

bool ed25519_verify_var(std::span<const std::uint8_t, kEd25519SignatureBytes> signature,
                        ByteSpan message,
                        std::span<const std::uint8_t, kEd25519PublicKeyBytes> public_key) {
  const std::span<const std::uint8_t, 32> r_bytes = signature.first<32>();
  const std::span<const std::uint8_t, 32> s_bytes = signature.last<32>();
  // 1-3. libsodium's checks on the encodings, before any arithmetic.
  if (!detail::scalar_is_canonical(s_bytes.data())) return false;
  if (detail::has_small_order_encoding(r_bytes.data())) return false;
  if (!detail::y_is_canonical(public_key.data()) ||
      detail::has_small_order_encoding(public_key.data())) {
    return false;
  }
  // 4. A on the curve.
  detail::Ext a;
  if (!detail::ed25519_decode_var(&a, public_key)) return false;
  // 5. k = SHA-512(R || A || M) mod l; R' = [S]B + [k](-A); compare encode(R') with R.
  ensure_sodium_init();
  crypto_hash_sha512_state hs;
  crypto_hash_sha512_init(&hs);
  crypto_hash_sha512_update(&hs, r_bytes.data(), r_bytes.size());
  crypto_hash_sha512_update(&hs, public_key.data(), public_key.size());
  crypto_hash_sha512_update(&hs, message.data(), message.size());
  std::array<std::uint8_t, 64> h;
  crypto_hash_sha512_final(&hs, h.data());
  std::array<std::uint8_t, 32> k;
  crypto_core_ed25519_scalar_reduce(k.data(), h.data());
  const detail::Ext r_prime =
      detail::ed25519_double_scalar_mul_base_var(s_bytes, detail::ext_neg(a), k);
  const std::array<std::uint8_t, 32> r_check = detail::ed25519_encode(r_prime);
  return std::memcmp(r_check.data(), r_bytes.data(), 32) == 0;
}

}  // namespace pfex::crypto
