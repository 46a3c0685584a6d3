// Point arithmetic on the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19),
// the curve under ristretto255: internal to src/crypto (use Point instead).
//
// Representations (Hisil-Wong-Carter-Dawson 2008, "Twisted Edwards curves revisited", a = -1):
//   Ext        extended (X : Y : Z : T) with x = X/Z, y = Y/Z, xy = T/Z; what a Point holds.
//   Completed  ((X : Z), (Y : T)), the output of an addition or doubling before the final
//              multiplications; converting to Ext costs 4M, to projective (T dropped) 3M.
//   Cached     (Y+X, Y-X, Z, 2dT): the second operand of an addition, 8M per addition.
//   Niels      (y+x, y-x, 2dxy) with Z = 1: the second operand of a mixed addition, 7M.
// All operations here are constant time and use the complete formulas (no special cases for the
// identity or for doubling). Variable-time callers may branch on public data around them.
// Coordinates of Ext and Niels have limbs below 2^52; Cached and Completed coordinates may be
// lazily reduced (see fe_add_lazy) and are only ever multiplied.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "crypto/field25519.hpp"

namespace pfex::crypto::detail {

struct Ext {
  Fe X, Y, Z, T;
};
struct Completed {
  Fe X, Y, Z, T;
};
struct Cached {
  Fe YplusX, YminusX, Z, T2d;
};
struct Niels {
  Fe YplusX, YminusX, XY2d;
};

inline Ext ext_identity() {
  return Ext{fe_zero(), fe_one(), fe_one(), fe_zero()};
}
inline Cached cached_identity() {
  return Cached{fe_one(), fe_one(), fe_one(), fe_zero()};
}
inline Niels niels_identity() {
  return Niels{fe_one(), fe_one(), fe_zero()};
}

PFEX_FE_INLINE Ext to_ext(const Completed& c) {
  return Ext{fe_mul(c.X, c.T), fe_mul(c.Y, c.Z), fe_mul(c.Z, c.T), fe_mul(c.X, c.Y)};
}
// Drops T: enough when the next operation is a doubling.
PFEX_FE_INLINE Ext to_proj(const Completed& c) {
  return Ext{fe_mul(c.X, c.T), fe_mul(c.Y, c.Z), fe_mul(c.Z, c.T), fe_zero()};
}

PFEX_FE_INLINE Cached to_cached(const Ext& p) {
  return Cached{fe_add_lazy(p.Y, p.X), fe_sub_lazy(p.Y, p.X), p.Z, fe_mul(p.T, fe_d2())};
}

PFEX_FE_INLINE Completed add(const Ext& p, const Cached& q) {
  const Fe a = fe_mul(fe_sub_lazy(p.Y, p.X), q.YminusX);
  const Fe b = fe_mul(fe_add_lazy(p.Y, p.X), q.YplusX);
  const Fe c = fe_mul(p.T, q.T2d);
  const Fe zz = fe_mul(p.Z, q.Z);
  const Fe d = fe_add_lazy(zz, zz);
  return Completed{fe_sub_lazy(b, a), fe_add_lazy(b, a), fe_add_lazy(d, c), fe_sub_lazy(d, c)};
}

PFEX_FE_INLINE Completed sub(const Ext& p, const Cached& q) {
  const Fe a = fe_mul(fe_sub_lazy(p.Y, p.X), q.YplusX);
  const Fe b = fe_mul(fe_add_lazy(p.Y, p.X), q.YminusX);
  const Fe c = fe_mul(p.T, q.T2d);
  const Fe zz = fe_mul(p.Z, q.Z);
  const Fe d = fe_add_lazy(zz, zz);
  return Completed{fe_sub_lazy(b, a), fe_add_lazy(b, a), fe_sub_lazy(d, c), fe_add_lazy(d, c)};
}

PFEX_FE_INLINE Completed add(const Ext& p, const Niels& q) {
  const Fe a = fe_mul(fe_sub_lazy(p.Y, p.X), q.YminusX);
  const Fe b = fe_mul(fe_add_lazy(p.Y, p.X), q.YplusX);
  const Fe c = fe_mul(p.T, q.XY2d);
  const Fe d = fe_add_lazy(p.Z, p.Z);
  return Completed{fe_sub_lazy(b, a), fe_add_lazy(b, a), fe_add_lazy(d, c), fe_sub_lazy(d, c)};
}

PFEX_FE_INLINE Completed sub(const Ext& p, const Niels& q) {
  const Fe a = fe_mul(fe_sub_lazy(p.Y, p.X), q.YplusX);
  const Fe b = fe_mul(fe_add_lazy(p.Y, p.X), q.YminusX);
  const Fe c = fe_mul(p.T, q.XY2d);
  const Fe d = fe_add_lazy(p.Z, p.Z);
  return Completed{fe_sub_lazy(b, a), fe_add_lazy(b, a), fe_sub_lazy(d, c), fe_add_lazy(d, c)};
}

// Doubling reads only X, Y, Z, so p may come from to_proj().
PFEX_FE_INLINE Completed dbl(const Ext& p) {
  const Fe xx = fe_sq(p.X);
  const Fe yy = fe_sq(p.Y);
  const Fe zz = fe_sq(p.Z);
  const Fe b = fe_add_lazy(zz, zz);
  const Fe aa = fe_sq(fe_add_lazy(p.X, p.Y));
  const Fe y3 = fe_add_lazy(yy, xx);
  const Fe z3 = fe_sub(yy, xx);  // carried: it is subtracted from below
  return Completed{fe_sub_lazy(aa, y3), y3, z3, fe_sub_lazy(b, z3)};
}

inline Ext ext_add(const Ext& p, const Ext& q) {
  return to_ext(add(p, to_cached(q)));
}
inline Ext ext_sub(const Ext& p, const Ext& q) {
  return to_ext(sub(p, to_cached(q)));
}
inline Ext ext_dbl(const Ext& p) {
  return to_ext(dbl(p));
}
inline Ext ext_neg(const Ext& p) {
  return Ext{fe_neg(p.X), p.Y, p.Z, fe_neg(p.T)};
}

// r = b if bit is 1, unchanged if 0. Constant time.
inline void cmov(Cached& r, const Cached& b, std::uint64_t bit) {
  fe_cmov(r.YplusX, b.YplusX, bit);
  fe_cmov(r.YminusX, b.YminusX, bit);
  fe_cmov(r.Z, b.Z, bit);
  fe_cmov(r.T2d, b.T2d, bit);
}
inline void cmov(Niels& r, const Niels& b, std::uint64_t bit) {
  fe_cmov(r.YplusX, b.YplusX, bit);
  fe_cmov(r.YminusX, b.YminusX, bit);
  fe_cmov(r.XY2d, b.XY2d, bit);
}
inline Cached neg(const Cached& q) {
  return Cached{q.YminusX, q.YplusX, q.Z, fe_neg(q.T2d)};
}
inline Niels neg(const Niels& q) {
  return Niels{q.YminusX, q.YplusX, fe_neg(q.XY2d)};
}

// Negates r if bit is 1. Constant time.
inline void cneg(Cached& r, std::uint64_t bit) {
  Cached n{r.YminusX, r.YplusX, r.Z, fe_neg(r.T2d)};
  cmov(r, n, bit);
}
inline void cneg(Niels& r, std::uint64_t bit) {
  Niels n{r.YminusX, r.YplusX, fe_neg(r.XY2d)};
  cmov(r, n, bit);
}

// table[|d| - 1] for d in [-8, 8] (the identity for d = 0), negated when d < 0. Reads all eight
// entries and combines them with masks, 16 bytes at a time (GCC/Clang vector extension: SSE2 on
// x86-64, NEON on arm64); the byte-at-a-time copies are memcpy, which the compiler turns into
// vector loads. Constant time in d.
template <class Entry>
Entry ct_select(const std::array<Entry, 8>& table, std::int8_t d, const Entry& identity) {
  using V2 = std::uint64_t __attribute__((vector_size(16)));
  static_assert(sizeof(Entry) % 8 == 0 && std::is_trivially_copyable_v<Entry>);
  constexpr std::size_t kVec = sizeof(Entry) / 16;
  constexpr bool kTail = sizeof(Entry) % 16 != 0;
  const auto dd = static_cast<std::uint64_t>(static_cast<std::int64_t>(d));
  const std::uint64_t negative = dd >> 63;
  const std::uint64_t abs = (dd ^ (0 - negative)) + negative;
  V2 acc[kVec] = {};
  std::uint64_t tail = 0;
  for (std::uint64_t j = 0; j <= 8; ++j) {
    const std::uint64_t m1 = 0 - (((abs ^ j) - 1) >> 63);
    const V2 m = {m1, m1};
    const auto* e = reinterpret_cast<const unsigned char*>(j == 0 ? &identity : &table[j - 1]);
    for (std::size_t k = 0; k < kVec; ++k) {
      V2 x;
      std::memcpy(&x, e + 16 * k, 16);
      acc[k] |= m & x;
    }
    if constexpr (kTail) {
      std::uint64_t x;
      std::memcpy(&x, e + 16 * kVec, 8);
      tail |= m1 & x;
    }
  }
  Entry r;
  std::memcpy(&r, acc, 16 * kVec);
  if constexpr (kTail) std::memcpy(reinterpret_cast<unsigned char*>(&r) + 16 * kVec, &tail, 8);
  cneg(r, negative);
  return r;
}

// 1 if the Edwards point is in the ristretto identity class (X == 0 or Y == 0), else 0.
inline std::uint64_t is_identity_class(const Ext& p) {
  return fe_is_zero(p.X) | fe_is_zero(p.Y);
}

// Converts points to Niels form with one shared field inversion.
void to_niels_batch(const Ext* points, Niels* out, std::size_t n);

// Ristretto255 (RFC 9496 section 4.3). decode returns 0 and leaves *out unspecified for a
// non-canonical or invalid encoding. Constant time in the encoded value.
std::uint64_t ristretto_decode(Ext* out, const std::uint8_t* s);
void ristretto_encode(std::uint8_t* s, const Ext& p);
// 1 if p and q are the same ristretto255 element. Constant time.
std::uint64_t ristretto_eq(const Ext& p, const Ext& q);
// The one-way map MAP of RFC 9496 section 4.3.4 on 32 bytes (top bit ignored).
Ext ristretto_map(const std::uint8_t* t);

}  // namespace pfex::crypto::detail
