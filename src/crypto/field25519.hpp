// Arithmetic in GF(2^255 - 19), the base field of Curve25519 and ristretto255: internal to
// src/crypto (use Point and Scalar instead).
//
// An element is five unsigned 64-bit limbs in radix 2^51, value = sum limb[i] * 2^(51 i), products
// in unsigned 128-bit integers. Representations are not unique: every function accepts limbs below
// 2^52 and returns limbs below 2^52 ("weakly reduced"); only to_bytes() reduces fully. Everything
// here is constant time: no branch and no memory index depends on an element's value.
// The formulas follow RFC 9496 section 4 and the notes in docs/crypto/group-and-msm.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace pfex::crypto::detail {

// The hot field operations are forced inline: out-of-line calls returning 40-byte values cost
// about a fifth of an MSM (measured; docs/crypto/group-and-msm.md).
#define PFEX_FE_INLINE inline __attribute__((always_inline))

__extension__ using U128 = unsigned __int128;

struct Fe {
  std::uint64_t v[5];
};

inline constexpr std::uint64_t kMask51 = (std::uint64_t{1} << 51) - 1;

inline constexpr Fe fe_zero() {
  return Fe{{0, 0, 0, 0, 0}};
}
inline constexpr Fe fe_one() {
  return Fe{{1, 0, 0, 0, 0}};
}

// Propagates carries once so that every limb is below 2^51 + 2^18.
PFEX_FE_INLINE Fe fe_carry(Fe h) {
  std::uint64_t c;
  c = h.v[0] >> 51;
  h.v[0] &= kMask51;
  h.v[1] += c;
  c = h.v[1] >> 51;
  h.v[1] &= kMask51;
  h.v[2] += c;
  c = h.v[2] >> 51;
  h.v[2] &= kMask51;
  h.v[3] += c;
  c = h.v[3] >> 51;
  h.v[3] &= kMask51;
  h.v[4] += c;
  c = h.v[4] >> 51;
  h.v[4] &= kMask51;
  h.v[0] += 19 * c;
  return h;
}

PFEX_FE_INLINE Fe fe_add(const Fe& f, const Fe& g) {
  Fe h;
  for (int i = 0; i < 5; ++i)
    h.v[i] = f.v[i] + g.v[i];
  return fe_carry(h);
}

// f - g computed as f + 4p - g, so no limb underflows for weakly reduced inputs.
PFEX_FE_INLINE Fe fe_sub(const Fe& f, const Fe& g) {
  constexpr std::uint64_t k4p0 = 0x1fffffffffffb4;  // 4 * (2^51 - 19)
  constexpr std::uint64_t k4pi = 0x1ffffffffffffc;  // 4 * (2^51 - 1)
  Fe h;
  h.v[0] = f.v[0] + k4p0 - g.v[0];
  for (int i = 1; i < 5; ++i)
    h.v[i] = f.v[i] + k4pi - g.v[i];
  return fe_carry(h);
}

PFEX_FE_INLINE Fe fe_neg(const Fe& f) {
  return fe_sub(fe_zero(), f);
}

// Without the carry, for the point formulas, whose every use is checked against these bounds:
// fe_add_lazy returns f + g limb by limb (its callers keep the sums below 2^54); fe_sub_lazy takes
// f below 2^53 and g below 2^53 - 76 and returns limbs below 2^54. Their results may only feed
// fe_mul/fe_sq, which accept limbs below 2^54.
PFEX_FE_INLINE Fe fe_add_lazy(const Fe& f, const Fe& g) {
  Fe h;
  for (int i = 0; i < 5; ++i)
    h.v[i] = f.v[i] + g.v[i];
  return h;
}

PFEX_FE_INLINE Fe fe_sub_lazy(const Fe& f, const Fe& g) {
  constexpr std::uint64_t k4p0 = 0x1fffffffffffb4;
  constexpr std::uint64_t k4pi = 0x1ffffffffffffc;
  Fe h;
  h.v[0] = f.v[0] + k4p0 - g.v[0];
  for (int i = 1; i < 5; ++i)
    h.v[i] = f.v[i] + k4pi - g.v[i];
  return h;
}

// Column by column, carrying as it goes: only one 128-bit accumulator is live, which keeps the
// operands in registers (about a quarter fewer instructions than five live column sums).
// Inputs: limbs below 2^54. Then every column sum, with the carry in, is below 2^115, the carry out
// of the top column (which has no factor 19) is below 2^61, and the output limbs are below 2^52.
PFEX_FE_INLINE Fe fe_mul(const Fe& f, const Fe& g) {
  const std::uint64_t f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const std::uint64_t g0 = g.v[0], g1 = g.v[1], g2 = g.v[2], g3 = g.v[3], g4 = g.v[4];
  const std::uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
  Fe h;
  U128 t =
      U128{f0} * g0 + U128{f1} * g4_19 + U128{f2} * g3_19 + U128{f3} * g2_19 + U128{f4} * g1_19;
  h.v[0] = static_cast<std::uint64_t>(t) & kMask51;
  t = (t >> 51) + U128{f0} * g1 + U128{f1} * g0 + U128{f2} * g4_19 + U128{f3} * g3_19 +
      U128{f4} * g2_19;
  h.v[1] = static_cast<std::uint64_t>(t) & kMask51;
  t = (t >> 51) + U128{f0} * g2 + U128{f1} * g1 + U128{f2} * g0 + U128{f3} * g4_19 +
      U128{f4} * g3_19;
  h.v[2] = static_cast<std::uint64_t>(t) & kMask51;
  t = (t >> 51) + U128{f0} * g3 + U128{f1} * g2 + U128{f2} * g1 + U128{f3} * g0 + U128{f4} * g4_19;
  h.v[3] = static_cast<std::uint64_t>(t) & kMask51;
  t = (t >> 51) + U128{f0} * g4 + U128{f1} * g3 + U128{f2} * g2 + U128{f3} * g1 + U128{f4} * g0;
  h.v[4] = static_cast<std::uint64_t>(t) & kMask51;
  const U128 l0 = U128{static_cast<std::uint64_t>(t >> 51)} * 19 + h.v[0];
  h.v[0] = static_cast<std::uint64_t>(l0) & kMask51;
  h.v[1] += static_cast<std::uint64_t>(l0 >> 51);
  return h;
}

PFEX_FE_INLINE Fe fe_sq(const Fe& f) {
  const std::uint64_t f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const std::uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f2_2 = 2 * f2, f3_2 = 2 * f3;
  const std::uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4;
  Fe h;
  U128 t = U128{f0} * f0 + U128{f1_2} * f4_19 + U128{f2_2} * f3_19;
  h.v[0] = static_cast<std::uint64_t>(t) & kMask51;
  t = (t >> 51) + U128{f0_2} * f1 + U128{f2_2} * f4_19 + U128{f3} * f3_19;
  h.v[1] = static_cast<std::uint64_t>(t) & kMask51;
  t = (t >> 51) + U128{f0_2} * f2 + U128{f1} * f1 + U128{f3_2} * f4_19;
  h.v[2] = static_cast<std::uint64_t>(t) & kMask51;
  t = (t >> 51) + U128{f0_2} * f3 + U128{f1_2} * f2 + U128{f4} * f4_19;
  h.v[3] = static_cast<std::uint64_t>(t) & kMask51;
  t = (t >> 51) + U128{f0_2} * f4 + U128{f1_2} * f3 + U128{f2} * f2;
  h.v[4] = static_cast<std::uint64_t>(t) & kMask51;
  const U128 l0 = U128{static_cast<std::uint64_t>(t >> 51)} * 19 + h.v[0];
  h.v[0] = static_cast<std::uint64_t>(l0) & kMask51;
  h.v[1] += static_cast<std::uint64_t>(l0 >> 51);
  return h;
}

// f squared n times (n >= 1).
inline Fe fe_sq_n(Fe f, int n) {
  for (int i = 0; i < n; ++i)
    f = fe_sq(f);
  return f;
}

// Returns 0 or all ones: a mask from a 0/1 bit, without a branch.
inline std::uint64_t mask_from_bit(std::uint64_t bit) {
  return 0 - bit;
}

// r = b if bit is 1, r unchanged if 0. Constant time.
inline void fe_cmov(Fe& r, const Fe& b, std::uint64_t bit) {
  const std::uint64_t m = mask_from_bit(bit);
  for (int i = 0; i < 5; ++i)
    r.v[i] ^= m & (r.v[i] ^ b.v[i]);
}

// Little-endian, the top bit ignored (RFC 9496 decoding masks it; callers that must reject
// non-canonical input compare to_bytes(from_bytes(s)) with s).
Fe fe_from_bytes(std::span<const std::uint8_t, 32> s);
// The canonical encoding: the unique representative in [0, p).
std::array<std::uint8_t, 32> fe_to_bytes(const Fe& f);

// 1 if f == 0 mod p, else 0.
std::uint64_t fe_is_zero(const Fe& f);
// 1 if f == g mod p, else 0.
std::uint64_t fe_eq(const Fe& f, const Fe& g);
// RFC 9496 IS_NEGATIVE: the low bit of the canonical encoding.
std::uint64_t fe_is_negative(const Fe& f);
// RFC 9496 CT_ABS: -f if f is negative, else f.
Fe fe_abs(const Fe& f);
// f^(p-2), so 0 maps to 0.
Fe fe_invert(const Fe& f);
// f^((p-5)/8) = f^(2^252 - 3).
Fe fe_pow22523(const Fe& f);
// RFC 9496 SQRT_RATIO_M1: returns 1 and sets r = +sqrt(u/v) if u/v is square, else returns 0
// and sets r = +sqrt(i*u/v). Non-negative root in both cases.
std::uint64_t fe_sqrt_ratio_m1(Fe& r, const Fe& u, const Fe& v);

// Inverts every element in place with one field inversion (Montgomery's trick). Zeros stay zero.
// Variable time only in the length.
void fe_batch_invert(std::span<Fe> elements);

// Curve and ristretto255 constants (RFC 9496 section 4.1) as reduced limbs, checked against
// their defining equations in field25519_test.cpp.
inline constexpr Fe kFeD{
    {929955233495203, 466365720129213, 1662059464998953, 2033849074728123, 1442794654840575}};
inline constexpr Fe kFeD2{
    {1859910466990425, 932731440258426, 1072319116312658, 1815898335770999, 633789495995903}};
inline constexpr Fe kFeSqrtM1{
    {1718705420411056, 234908883556509, 2233514472574048, 2117202627021982, 765476049583133}};
inline constexpr Fe kFeInvSqrtAMinusD{
    {278908739862762, 821645201101625, 8113234426968, 1777959178193151, 2118520810568447}};
inline constexpr Fe kFeSqrtAdMinusOne{
    {2241493124984347, 425987919032274, 2207028919301688, 1220490630685848, 974799131293748}};
inline constexpr Fe kFeOneMinusDSq{
    {1136626929484150, 1998550399581263, 496427632559748, 118527312129759, 45110755273534}};
inline constexpr Fe kFeDMinusOneSq{
    {1507062230895904, 1572317787530805, 683053064812840, 317374165784489, 1572899562415810}};
inline const Fe& fe_d() {
  return kFeD;
}
inline const Fe& fe_d2() {
  return kFeD2;
}
inline const Fe& fe_sqrt_m1() {
  return kFeSqrtM1;
}
inline const Fe& fe_invsqrt_a_minus_d() {
  return kFeInvSqrtAMinusD;
}
inline const Fe& fe_sqrt_ad_minus_one() {
  return kFeSqrtAdMinusOne;
}
inline const Fe& fe_one_minus_d_sq() {
  return kFeOneMinusDSq;
}
inline const Fe& fe_d_minus_one_sq() {
  return kFeDMinusOneSq;
}

}  // namespace pfex::crypto::detail
