#include "crypto/field25519.hpp"

#include <vector>

namespace pfex::crypto::detail {
namespace {

std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t r = 0;
  for (int i = 7; i >= 0; --i)
    r = (r << 8) | p[i];
  return r;
}

void store64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace

Fe fe_from_bytes(std::span<const std::uint8_t, 32> s) {
  Fe h;
  h.v[0] = load64(s.data()) & kMask51;
  h.v[1] = (load64(s.data() + 6) >> 3) & kMask51;
  h.v[2] = (load64(s.data() + 12) >> 6) & kMask51;
  h.v[3] = (load64(s.data() + 19) >> 1) & kMask51;
  h.v[4] = (load64(s.data() + 24) >> 12) & kMask51;
  return h;
}

std::array<std::uint8_t, 32> fe_to_bytes(const Fe& f) {
  // Two carry passes leave a value below 2p with limbs below 2^51 (limb 0 may exceed by a few).
  Fe h = fe_carry(fe_carry(f));
  // q = 1 iff h >= p, found by propagating the carry of h + 19 out of bit 255.
  std::uint64_t q = (h.v[0] + 19) >> 51;
  q = (h.v[1] + q) >> 51;
  q = (h.v[2] + q) >> 51;
  q = (h.v[3] + q) >> 51;
  q = (h.v[4] + q) >> 51;
  h.v[0] += 19 * q;
  h.v[1] += h.v[0] >> 51;
  h.v[0] &= kMask51;
  h.v[2] += h.v[1] >> 51;
  h.v[1] &= kMask51;
  h.v[3] += h.v[2] >> 51;
  h.v[2] &= kMask51;
  h.v[4] += h.v[3] >> 51;
  h.v[3] &= kMask51;
  h.v[4] &= kMask51;  // drops 2^255, completing the subtraction of p
  std::array<std::uint8_t, 32> s{};
  store64(s.data(), h.v[0] | (h.v[1] << 51));
  store64(s.data() + 8, (h.v[1] >> 13) | (h.v[2] << 38));
  store64(s.data() + 16, (h.v[2] >> 26) | (h.v[3] << 25));
  store64(s.data() + 24, (h.v[3] >> 39) | (h.v[4] << 12));
  return s;
}

std::uint64_t fe_is_zero(const Fe& f) {
  const auto s = fe_to_bytes(f);
  std::uint64_t acc = 0;
  for (auto b : s)
    acc |= b;
  return 1 & ((acc - 1) >> 63);
}

std::uint64_t fe_eq(const Fe& f, const Fe& g) {
  return fe_is_zero(fe_sub(f, g));
}

std::uint64_t fe_is_negative(const Fe& f) {
  return fe_to_bytes(f)[0] & 1u;
}

Fe fe_abs(const Fe& f) {
  Fe r = f;
  fe_cmov(r, fe_neg(f), fe_is_negative(f));
  return r;
}

namespace {
// Returns z^(2^250 - 1) and z^11, the shared prefix of the inversion and square-root chains.
Fe pow_2_250_minus_1(const Fe& z, Fe* z11) {
  Fe t0 = fe_sq(z);                   // 2
  Fe t1 = fe_mul(z, fe_sq_n(t0, 2));  // 9
  t0 = fe_mul(t0, t1);                // 11
  *z11 = t0;
  t1 = fe_mul(t1, fe_sq(t0));           // 2^5 - 1
  t1 = fe_mul(fe_sq_n(t1, 5), t1);      // 2^10 - 1
  Fe t2 = fe_mul(fe_sq_n(t1, 10), t1);  // 2^20 - 1
  t2 = fe_mul(fe_sq_n(t2, 20), t2);     // 2^40 - 1
  t1 = fe_mul(fe_sq_n(t2, 10), t1);     // 2^50 - 1
  t2 = fe_mul(fe_sq_n(t1, 50), t1);     // 2^100 - 1
  t2 = fe_mul(fe_sq_n(t2, 100), t2);    // 2^200 - 1
  return fe_mul(fe_sq_n(t2, 50), t1);   // 2^250 - 1
}
}  // namespace

Fe fe_invert(const Fe& f) {
  Fe z11;
  const Fe t = pow_2_250_minus_1(f, &z11);
  return fe_mul(fe_sq_n(t, 5), z11);  // 2^255 - 32 + 11 = p - 2
}

Fe fe_pow22523(const Fe& f) {
  Fe z11;
  const Fe t = pow_2_250_minus_1(f, &z11);
  return fe_mul(fe_sq_n(t, 2), f);  // 2^252 - 4 + 1
}

std::uint64_t fe_sqrt_ratio_m1(Fe& r, const Fe& u, const Fe& v) {
  const Fe v3 = fe_mul(fe_sq(v), v);
  const Fe v7 = fe_mul(fe_sq(v3), v);
  Fe x = fe_mul(fe_mul(u, v3), fe_pow22523(fe_mul(u, v7)));
  const Fe check = fe_mul(v, fe_sq(x));
  const Fe neg_u = fe_neg(u);
  const std::uint64_t correct = fe_eq(check, u);
  const std::uint64_t flipped = fe_eq(check, neg_u);
  const std::uint64_t flipped_i = fe_eq(check, fe_mul(neg_u, fe_sqrt_m1()));
  fe_cmov(x, fe_mul(x, fe_sqrt_m1()), flipped | flipped_i);
  r = fe_abs(x);
  return correct | flipped;
}

void fe_batch_invert(std::span<Fe> elements) {
  if (elements.empty()) return;
  // prefix[i] = product of elements[0..i) with zeros replaced by one, so a zero neither poisons
  // the product nor gets "inverted".
  std::vector<Fe> prefix(elements.size());
  Fe acc = fe_one();
  for (std::size_t i = 0; i < elements.size(); ++i) {
    prefix[i] = acc;
    Fe e = elements[i];
    fe_cmov(e, fe_one(), fe_is_zero(e));
    acc = fe_mul(acc, e);
  }
  Fe inv = fe_invert(acc);
  for (std::size_t i = elements.size(); i-- > 0;) {
    Fe e = elements[i];
    const std::uint64_t zero = fe_is_zero(e);
    fe_cmov(e, fe_one(), zero);
    Fe r = fe_mul(inv, prefix[i]);
    inv = fe_mul(inv, e);
    fe_cmov(r, fe_zero(), zero);
    elements[i] = r;
  }
}

}  // namespace pfex::crypto::detail
