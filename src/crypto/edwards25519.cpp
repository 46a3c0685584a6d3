#include "crypto/edwards25519.hpp"

#include <array>
#include <span>
#include <vector>

namespace pfex::crypto::detail {

void to_niels_batch(const Ext* points, Niels* out, std::size_t n) {
  std::vector<Fe> zinv(n);
  for (std::size_t i = 0; i < n; ++i)
    zinv[i] = points[i].Z;
  fe_batch_invert(zinv);
  for (std::size_t i = 0; i < n; ++i) {
    const Fe x = fe_mul(points[i].X, zinv[i]);
    const Fe y = fe_mul(points[i].Y, zinv[i]);
    out[i] = Niels{fe_add(y, x), fe_sub(y, x), fe_mul(fe_mul(x, y), fe_d2())};
  }
}

std::uint64_t ristretto_decode(Ext* out, const std::uint8_t* bytes) {
  const std::span<const std::uint8_t, 32> in(bytes, 32);
  const Fe s = fe_from_bytes(in);
  // Canonical: re-encoding gives the same bytes (this also rejects the top bit set).
  const auto canon = fe_to_bytes(s);
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < 32; ++i)
    diff |= static_cast<std::uint8_t>(canon[i] ^ bytes[i]);
  const std::uint64_t canonical = 1 & ((std::uint64_t{diff} - 1) >> 63);
  const std::uint64_t s_negative = fe_is_negative(s);

  const Fe ss = fe_sq(s);
  const Fe u1 = fe_sub(fe_one(), ss);
  const Fe u2 = fe_add(fe_one(), ss);
  const Fe u2_sqr = fe_sq(u2);
  const Fe v = fe_sub(fe_neg(fe_mul(fe_d(), fe_sq(u1))), u2_sqr);
  Fe invsqrt;
  const std::uint64_t was_square = fe_sqrt_ratio_m1(invsqrt, fe_one(), fe_mul(v, u2_sqr));
  const Fe den_x = fe_mul(invsqrt, u2);
  const Fe den_y = fe_mul(fe_mul(invsqrt, den_x), v);
  const Fe two_s = fe_add(s, s);
  const Fe x = fe_abs(fe_mul(two_s, den_x));
  const Fe y = fe_mul(u1, den_y);
  const Fe t = fe_mul(x, y);
  *out = Ext{x, y, fe_one(), t};
  return canonical & (1 ^ s_negative) & was_square & (1 ^ fe_is_negative(t)) & (1 ^ fe_is_zero(y));
}

void ristretto_encode(std::uint8_t* out, const Ext& p) {
  const Fe u1 = fe_mul(fe_add(p.Z, p.Y), fe_sub(p.Z, p.Y));
  const Fe u2 = fe_mul(p.X, p.Y);
  Fe invsqrt;
  (void)fe_sqrt_ratio_m1(invsqrt, fe_one(), fe_mul(u1, fe_sq(u2)));
  const Fe den1 = fe_mul(invsqrt, u1);
  const Fe den2 = fe_mul(invsqrt, u2);
  const Fe z_inv = fe_mul(fe_mul(den1, den2), p.T);
  const Fe ix0 = fe_mul(p.X, fe_sqrt_m1());
  const Fe iy0 = fe_mul(p.Y, fe_sqrt_m1());
  const Fe enchanted_denominator = fe_mul(den1, fe_invsqrt_a_minus_d());
  const std::uint64_t rotate = fe_is_negative(fe_mul(p.T, z_inv));
  Fe x = p.X;
  Fe y = p.Y;
  Fe den_inv = den2;
  fe_cmov(x, iy0, rotate);
  fe_cmov(y, ix0, rotate);
  fe_cmov(den_inv, enchanted_denominator, rotate);
  fe_cmov(y, fe_neg(y), fe_is_negative(fe_mul(x, z_inv)));
  const Fe s = fe_abs(fe_mul(den_inv, fe_sub(p.Z, y)));
  const auto bytes = fe_to_bytes(s);
  for (std::size_t i = 0; i < 32; ++i)
    out[i] = bytes[i];
}

std::uint64_t ristretto_eq(const Ext& p, const Ext& q) {
  return fe_eq(fe_mul(p.X, q.Y), fe_mul(p.Y, q.X)) | fe_eq(fe_mul(p.Y, q.Y), fe_mul(p.X, q.X));
}

Ext ristretto_map(const std::uint8_t* bytes) {
  const Fe t = fe_from_bytes(std::span<const std::uint8_t, 32>(bytes, 32));
  const Fe one = fe_one();
  const Fe r = fe_mul(fe_sqrt_m1(), fe_sq(t));
  const Fe u = fe_mul(fe_add(r, one), fe_one_minus_d_sq());
  const Fe v = fe_mul(fe_sub(fe_neg(one), fe_mul(r, fe_d())), fe_add(r, fe_d()));
  Fe s;
  const std::uint64_t was_square = fe_sqrt_ratio_m1(s, u, v);
  const Fe s_prime = fe_neg(fe_abs(fe_mul(s, t)));
  fe_cmov(s, s_prime, 1 ^ was_square);
  Fe c = fe_neg(one);
  fe_cmov(c, r, 1 ^ was_square);
  const Fe n = fe_sub(fe_mul(fe_mul(c, fe_sub(r, one)), fe_d_minus_one_sq()), v);
  const Fe w0 = fe_mul(fe_add(s, s), v);
  const Fe w1 = fe_mul(n, fe_sqrt_ad_minus_one());
  const Fe ss = fe_sq(s);
  const Fe w2 = fe_sub(one, ss);
  const Fe w3 = fe_add(one, ss);
  return Ext{fe_mul(w0, w3), fe_mul(w2, w1), fe_mul(w1, w3), fe_mul(w0, w2)};
}

}  // namespace pfex::crypto::detail
