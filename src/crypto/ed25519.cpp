// Ed25519 verification with libsodium 1.0.18's acceptance rule; see ed25519.hpp and
// docs/crypto/ed25519.md (the step numbers below are the note's).
#include "crypto/ed25519.hpp"

#include <sodium.h>

#include <algorithm>
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

using BaseTable = std::array<Niels, kBaseTable>;

// {P, 3P, 5P, ..., (2 kBaseTable - 1)P} in Niels form.
BaseTable odd_multiples_niels(const Ext& p) {
  const Cached p2 = to_cached(ext_dbl(p));
  std::vector<Ext> multiples(kBaseTable);
  multiples[0] = p;
  for (std::size_t j = 1; j < kBaseTable; ++j)
    multiples[j] = to_ext(add(multiples[j - 1], p2));
  BaseTable out;
  to_niels_batch(multiples.data(), out.data(), kBaseTable);
  return out;
}

Ext base_point() {
  Ext b;
  const bool ok = ed25519_decode_var(&b, kBaseEncoding);
  (void)ok;  // a constant, checked by the RFC 8032 vectors in ed25519_test.cpp
  return b;
}

// The tables for B and for B128 = [2^128]B, built once.
const BaseTable& base_table() {
  static const BaseTable table = odd_multiples_niels(base_point());
  return table;
}
const BaseTable& base128_table() {
  static const BaseTable table = [] {
    Ext b = base_point();
    for (int i = 0; i < 128; ++i)
      b = ext_dbl(b);
    return odd_multiples_niels(b);
  }();
  return table;
}

// {P, 3P, ..., 15P} in Cached form.
std::array<Cached, kPointTable> odd_multiples_cached(const Ext& p) {
  std::array<Cached, kPointTable> table;
  table[0] = to_cached(p);
  const Cached p2 = to_cached(ext_dbl(p));
  Ext acc = p;
  for (std::size_t j = 1; j < kPointTable; ++j) {
    acc = to_ext(add(acc, p2));
    table[j] = to_cached(acc);
  }
  return table;
}

int top_nonzero(const std::array<std::int8_t, 256>& naf) {
  int i = 255;
  while (i >= 0 && naf[static_cast<std::size_t>(i)] == 0)
    --i;
  return i;
}

// ---- Half-size scalars (docs/crypto/ed25519.md section 4) ----

// 256-bit unsigned integers, little-endian 64-bit limbs; only what the extended Euclidean
// algorithm below needs.
using U256 = std::array<std::uint64_t, 4>;

U256 u256_from_bytes(const std::uint8_t* b) {
  U256 r{};
  for (std::size_t i = 0; i < 32; ++i)
    r[i / 8] |= std::uint64_t{b[i]} << (8 * (i % 8));
  return r;
}

std::array<std::uint8_t, 32> u256_to_bytes(const U256& a) {
  std::array<std::uint8_t, 32> b{};
  for (std::size_t i = 0; i < 32; ++i)
    b[i] = static_cast<std::uint8_t>(a[i / 8] >> (8 * (i % 8)));
  return b;
}

int u256_bits(const U256& a) {
  for (std::size_t i = 4; i-- > 0;) {
    if (a[i] != 0) return static_cast<int>(64 * i) + 64 - __builtin_clzll(a[i]);
  }
  return 0;
}

// floor(a / 2^s) mod 2^64, for 0 <= s < 256.
std::uint64_t bits64_at(const U256& a, int s) {
  const auto word = static_cast<std::size_t>(s / 64);
  const int off = s % 64;
  std::uint64_t v = a[word] >> off;
  if (off != 0 && word + 1 < 4) v |= a[word + 1] << (64 - off);
  return v;
}

long double u256_to_ld(const U256& a) {
  long double r = 0;
  for (std::size_t i = 4; i-- > 0;)
    r = r * 18446744073709551616.0L + static_cast<long double>(a[i]);
  return r;
}

// a < b, with b given as five limbs.
bool less5(const U256& a, const std::array<std::uint64_t, 5>& b) {
  if (b[4] != 0) return true;
  for (std::size_t i = 4; i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

bool u256_less(const U256& a, const U256& b) {
  for (std::size_t i = 4; i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

// a - b for a >= b (b may have five limbs, the fifth then zero).
template <std::size_t N>
U256 u256_sub(const U256& a, const std::array<std::uint64_t, N>& b) {
  U256 r;
  unsigned char borrow = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const U128 d = U128{a[i]} - b[i] - borrow;
    r[i] = static_cast<std::uint64_t>(d);
    borrow = static_cast<unsigned char>((d >> 64) != 0);
  }
  return r;
}

std::array<std::uint64_t, 5> sub5(const std::array<std::uint64_t, 5>& a, const U256& b) {
  std::array<std::uint64_t, 5> r;
  unsigned char borrow = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    const U128 d = U128{a[i]} - (i < 4 ? b[i] : 0) - borrow;
    r[i] = static_cast<std::uint64_t>(d);
    borrow = static_cast<unsigned char>((d >> 64) != 0);
  }
  return r;
}

std::array<std::uint64_t, 5> mul_small(const U256& a, std::uint64_t q) {
  std::array<std::uint64_t, 5> r;
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const U128 m = U128{a[i]} * q + carry;
    r[i] = static_cast<std::uint64_t>(m);
    carry = static_cast<std::uint64_t>(m >> 64);
  }
  r[4] = carry;
  return r;
}

// c0 = c1 k (mod 8l) with c0 >= 0, c1 odd, both small.
struct HalfSize {
  U256 c0{};
  U128 c1 = 0;  // |c1|
  bool c1_negative = false;
};

}  // namespace

bool ed25519_half_size_var(std::span<const std::uint8_t, 32> k, std::array<std::uint8_t, 32>* c0,
                           std::array<std::uint8_t, 32>* c1, bool* c1_negative) {
  // Extended Euclid on (n, k), n = 8l, keeping r_i = t_i k (mod n); stopped at the first
  // remainder below 2^128, where |t_i| <= n / r_(i-1) < 2^128. The t_i alternate in sign, so
  // |t_(i+1)| = |t_(i-1)| + q_i |t_i|.
  U256 r0 = u256_from_bytes(kL.data());
  r0[3] = (r0[3] << 3) | (r0[2] >> 61);
  r0[2] = (r0[2] << 3) | (r0[1] >> 61);
  r0[1] = (r0[1] << 3) | (r0[0] >> 61);
  r0[0] <<= 3;
  U256 r1 = u256_from_bytes(k.data());
  U128 t0 = 0, t1 = 1;
  bool t0_negative = false, t1_negative = false;
  while (u256_bits(r1) > 128) {
    // Estimate q = floor(r0 / r1) from the top 64 bits of r0 and the same bits of r1: within
    // one of q when those bits of r1 hold at least 32 significant bits (then q < 2^32; nearly
    // always, as quotients are mostly 1-3). Otherwise in long double.
    const int shift = u256_bits(r0) - 64;  // r0 > r1 >= 2^128, so shift > 64
    if (shift < 0 || shift >= 256) return false;
    const std::uint64_t a = bits64_at(r0, shift), b = bits64_at(r1, shift);
    std::uint64_t q;
    if (b >= (std::uint64_t{1} << 32)) {
      q = a / b;
    } else {
      const long double qd = u256_to_ld(r0) / u256_to_ld(r1);
      if (!(qd < 4611686018427387904.0L)) return false;  // q >= 2^62: give up (never seen)
      q = static_cast<std::uint64_t>(qd);
    }
    if (q == 0) q = 1;
    // Correct the estimate exactly.
    std::array<std::uint64_t, 5> qr1 = mul_small(r1, q);
    while (less5(r0, qr1)) {
      qr1 = sub5(qr1, r1);
      --q;
    }
    U256 r = u256_sub(r0, qr1);
    while (!u256_less(r, r1)) {
      r = u256_sub(r, r1);
      ++q;
    }
    U128 qt, t;
    if (__builtin_mul_overflow(U128{q}, t1, &qt) || __builtin_add_overflow(t0, qt, &t)) {
      return false;
    }
    r0 = r1;
    r1 = r;
    t0 = t1;
    t0_negative = t1_negative;
    t1 = t;
    t1_negative = !t1_negative;
  }
  // Consecutive t are coprime, so one of t0, t1 is odd.
  HalfSize h;
  if ((t1 & 1) == 1) {
    h = HalfSize{r1, t1, t1_negative};
  } else {
    h = HalfSize{r0, t0, t0_negative};
  }
  if ((h.c1 & 1) != 1 || u256_bits(h.c0) > 160) return false;
  *c0 = u256_to_bytes(h.c0);
  *c1 = u256_to_bytes(
      U256{static_cast<std::uint64_t>(h.c1), static_cast<std::uint64_t>(h.c1 >> 64), 0, 0});
  *c1_negative = h.c1_negative;
  // Check the congruence, mod l with libsodium's scalar arithmetic and mod 8 on the low bits, so
  // that a mistake here can only cost time (the caller falls back), never change a verdict.
  std::array<std::uint8_t, 32> c1k;
  crypto_core_ed25519_scalar_mul(c1k.data(), c1->data(), k.data());
  if (h.c1_negative) crypto_core_ed25519_scalar_negate(c1k.data(), c1k.data());
  const unsigned c1_mod8 = h.c1_negative ? (8 - ((*c1)[0] & 7U)) & 7U : (*c1)[0] & 7U;
  if (c1k != *c0 || ((c1_mod8 * (k[0] & 7U)) & 7U) != ((*c0)[0] & 7U)) return false;
  return true;
}

namespace {

// Two field elements raised to (p - 5) / 8 in lockstep, by the addition chain of fe_pow22523:
// a chain of squarings waits on its own results, so interleaving two fills part of that wait.
struct FePair {
  Fe a, b;
};
PFEX_FE_INLINE FePair sq2(const FePair& x) {
  return FePair{fe_sq(x.a), fe_sq(x.b)};
}
FePair sq2_n(FePair x, int n) {
  for (int i = 0; i < n; ++i)
    x = sq2(x);
  return x;
}
PFEX_FE_INLINE FePair mul2(const FePair& x, const FePair& y) {
  return FePair{fe_mul(x.a, y.a), fe_mul(x.b, y.b)};
}
FePair pow22523_pair(const FePair& z) {
  FePair t0 = sq2(z);
  FePair t1 = mul2(z, sq2_n(t0, 2));
  t0 = mul2(t0, t1);
  t1 = mul2(t1, sq2(t0));
  t1 = mul2(sq2_n(t1, 5), t1);
  FePair t2 = mul2(sq2_n(t1, 10), t1);
  t2 = mul2(sq2_n(t2, 20), t2);
  t1 = mul2(sq2_n(t2, 10), t1);
  t2 = mul2(sq2_n(t1, 50), t1);
  t2 = mul2(sq2_n(t2, 100), t2);
  t2 = mul2(sq2_n(t2, 50), t1);
  return mul2(sq2_n(t2, 2), z);
}

// RFC 8032 section 5.1.3 for two encodings at once; false if either is invalid.
bool decode_pair_var(Ext* p, const std::uint8_t* p_bytes, Ext* q, const std::uint8_t* q_bytes) {
  if (!y_is_canonical(p_bytes) || !y_is_canonical(q_bytes)) return false;
  const std::uint8_t* bytes[2] = {p_bytes, q_bytes};
  Ext* out[2] = {p, q};
  Fe y[2], u[2], v[2], v3[2], uv7[2];
  for (std::size_t i = 0; i < 2; ++i) {
    y[i] = fe_from_bytes(std::span<const std::uint8_t, 32>(bytes[i], 32));
    const Fe yy = fe_sq(y[i]);
    u[i] = fe_sub(yy, fe_one());
    v[i] = fe_add(fe_mul(yy, fe_d()), fe_one());
    v3[i] = fe_mul(fe_sq(v[i]), v[i]);
    uv7[i] = fe_mul(u[i], fe_mul(fe_sq(v3[i]), v[i]));
  }
  const FePair pw = pow22523_pair(FePair{uv7[0], uv7[1]});
  const Fe pws[2] = {pw.a, pw.b};
  for (std::size_t i = 0; i < 2; ++i) {
    // x = u v^3 (u v^7)^((p-5)/8) is a root of u / v, or of -u / v (then times sqrt(-1)).
    Fe x = fe_mul(fe_mul(u[i], v3[i]), pws[i]);
    const Fe check = fe_mul(v[i], fe_sq(x));
    if (fe_eq(check, u[i]) != 1) {
      if (fe_eq(check, fe_neg(u[i])) != 1) return false;
      x = fe_mul(x, fe_sqrt_m1());
    }
    const std::uint64_t x_sign = bytes[i][31] >> 7;
    if (x_sign == 1 && fe_is_zero(x) == 1) return false;
    if (fe_is_negative(x) != x_sign) x = fe_neg(x);
    *out[i] = Ext{x, y[i], fe_one(), fe_mul(x, y[i])};
  }
  return true;
}

// [s_lo]B + [s_hi]B128 + [c0]P + [c1]Q == identity, for scalars below 2^253. Variable time.
bool four_term_is_identity_var(std::span<const std::uint8_t, 32> s_lo,
                               std::span<const std::uint8_t, 32> s_hi,
                               std::span<const std::uint8_t, 32> c0, const Ext& p,
                               std::span<const std::uint8_t, 32> c1, const Ext& q) {
  const BaseTable* b_tables[2] = {&base_table(), &base128_table()};
  const std::array<std::int8_t, 256> naf_b[2] = {wnaf_var(s_lo, kBaseWidth),
                                                 wnaf_var(s_hi, kBaseWidth)};
  const std::array<Cached, kPointTable> p_tables[2] = {odd_multiples_cached(p),
                                                       odd_multiples_cached(q)};
  const std::array<std::int8_t, 256> naf_p[2] = {wnaf_var(c0, kPointWidth),
                                                 wnaf_var(c1, kPointWidth)};
  const int top = std::max(std::max(top_nonzero(naf_b[0]), top_nonzero(naf_b[1])),
                           std::max(top_nonzero(naf_p[0]), top_nonzero(naf_p[1])));
  Ext r = ext_identity();
  for (int i = top; i >= 0; --i) {
    Completed t = dbl(r);
    const auto at = static_cast<std::size_t>(i);
    for (std::size_t j = 0; j < 2; ++j) {
      // NOLINTNEXTLINE(bugprone-signed-char-misuse): a signed NAF digit, meant as one
      const int d = naf_b[j][at];
      if (d == 0) continue;
      const Niels& e = (*b_tables[j])[static_cast<std::size_t>((d > 0 ? d : -d) / 2)];
      t = add(to_ext(t), d > 0 ? e : neg(e));
    }
    for (std::size_t j = 0; j < 2; ++j) {
      // NOLINTNEXTLINE(bugprone-signed-char-misuse): a signed NAF digit, meant as one
      const int d = naf_p[j][at];
      if (d == 0) continue;
      const Cached& e = p_tables[j][static_cast<std::size_t>((d > 0 ? d : -d) / 2)];
      t = add(to_ext(t), d > 0 ? e : neg(e));
    }
    r = to_proj(t);
  }
  // (X : Y : Z) is the identity iff X = 0 and Y = Z.
  return fe_is_zero(r.X) == 1 && fe_eq(r.Y, r.Z) == 1;
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
  const BaseTable& b_table = base_table();
  const std::array<std::int8_t, 256> naf_b = wnaf_var(s1, kBaseWidth);
  const std::array<std::int8_t, 256> naf_p = wnaf_var(s2, kPointWidth);
  const std::array<Cached, kPointTable> p_table = odd_multiples_cached(p);
  const int top = std::max(top_nonzero(naf_b), top_nonzero(naf_p));
  Ext r = ext_identity();
  for (int i = top; i >= 0; --i) {
    Completed t = dbl(r);
    // One addition site per table, negating the operand for a negative digit: with separate
    // add/sub sites the inlined loop grew and ran its doublings about 1.8x slower (measured).
    // NOLINTNEXTLINE(bugprone-signed-char-misuse): a signed NAF digit, meant as one
    const int db = naf_b[static_cast<std::size_t>(i)];
    if (db != 0) {
      const Niels& e = b_table[static_cast<std::size_t>((db > 0 ? db : -db) / 2)];
      t = add(to_ext(t), db > 0 ? e : neg(e));
    }
    // NOLINTNEXTLINE(bugprone-signed-char-misuse): a signed NAF digit, meant as one
    const int dp = naf_p[static_cast<std::size_t>(i)];
    if (dp != 0) {
      const Cached& e = p_table[static_cast<std::size_t>((dp > 0 ? dp : -dp) / 2)];
      t = add(to_ext(t), dp > 0 ? e : neg(e));
    }
    r = to_proj(t);  // the next step is a doubling or the encoding: T unused
  }
  return r;
}

namespace {

// Steps 1-4 of the note: libsodium's checks on the encodings (before any arithmetic), then
// k = SHA-512(R || A || M) mod l. False if an encoding check fails.
bool check_encodings_and_hash(std::span<const std::uint8_t, 64> signature, ByteSpan message,
                              std::span<const std::uint8_t, 32> public_key,
                              std::array<std::uint8_t, 32>* k) {
  const std::uint8_t* r_bytes = signature.data();
  const std::uint8_t* s_bytes = signature.data() + 32;
  if (!scalar_is_canonical(s_bytes)) return false;
  if (has_small_order_encoding(r_bytes)) return false;
  if (!y_is_canonical(public_key.data()) || has_small_order_encoding(public_key.data())) {
    return false;
  }
  ensure_sodium_init();
  crypto_hash_sha512_state hs;
  crypto_hash_sha512_init(&hs);
  crypto_hash_sha512_update(&hs, r_bytes, 32);
  crypto_hash_sha512_update(&hs, public_key.data(), public_key.size());
  crypto_hash_sha512_update(&hs, message.data(), message.size());
  std::array<std::uint8_t, 64> h;
  crypto_hash_sha512_final(&hs, h.data());
  crypto_core_ed25519_scalar_reduce(k->data(), h.data());
  return true;
}

// Step 5, plain: R' = [S]B + [k](-A), accept iff encode(R') is the 32 bytes of R.
bool equation_plain_var(std::span<const std::uint8_t, 64> signature,
                        std::span<const std::uint8_t, 32> public_key,
                        std::span<const std::uint8_t, 32> k) {
  Ext a;
  if (!ed25519_decode_var(&a, public_key)) return false;
  const Ext r_prime = ed25519_double_scalar_mul_base_var(signature.last<32>(), ext_neg(a), k);
  const std::array<std::uint8_t, 32> r_check = ed25519_encode(r_prime);
  return std::memcmp(r_check.data(), signature.data(), 32) == 0;
}

}  // namespace

bool ed25519_verify_plain_var(std::span<const std::uint8_t, 64> signature, ByteSpan message,
                              std::span<const std::uint8_t, 32> public_key) {
  std::array<std::uint8_t, 32> k;
  if (!check_encodings_and_hash(signature, message, public_key, &k)) return false;
  return equation_plain_var(signature, public_key, k);
}

}  // namespace detail

bool ed25519_verify_var(std::span<const std::uint8_t, kEd25519SignatureBytes> signature,
                        ByteSpan message,
                        std::span<const std::uint8_t, kEd25519PublicKeyBytes> public_key) {
  // 1-4. Encoding checks and k.
  std::array<std::uint8_t, 32> k;
  if (!detail::check_encodings_and_hash(signature, message, public_key, &k)) return false;

  // 5. Half-size scalars: c0 = c1 k (mod 8l), c1 odd, both about 2^128. Then
  // [S]B - [k]A = R  iff  [c1 S mod l]B - [c0]A - [c1]R = 0, with half the doublings.
  std::array<std::uint8_t, 32> c0, c1;
  bool c1_negative = false;
  if (!detail::ed25519_half_size_var(k, &c0, &c1, &c1_negative)) {
    return detail::equation_plain_var(signature, public_key, k);  // not seen in practice
  }
  // A and R must decode; an R that does not is never the encoding of [S]B - [k]A.
  detail::Ext a, r;
  if (!detail::decode_pair_var(&a, public_key.data(), &r, signature.data())) return false;
  std::array<std::uint8_t, 32> s_c1;  // c1 S mod l, split at bit 128
  crypto_core_ed25519_scalar_mul(s_c1.data(), c1.data(), signature.data() + 32);
  if (c1_negative) crypto_core_ed25519_scalar_negate(s_c1.data(), s_c1.data());
  std::array<std::uint8_t, 32> s_lo{}, s_hi{};
  std::memcpy(s_lo.data(), s_c1.data(), 16);
  std::memcpy(s_hi.data(), s_c1.data() + 16, 16);
  return detail::four_term_is_identity_var(s_lo, s_hi, c0, detail::ext_neg(a), c1,
                                           c1_negative ? r : detail::ext_neg(r));
}

}  // namespace pfex::crypto
