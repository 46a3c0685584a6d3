#include "crypto/bsgs.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <optional>
#include <string>

#include "crypto/edwards25519.hpp"
#include "crypto/field25519.hpp"

namespace pfex::crypto {

namespace {

using detail::Ext;
using detail::Fe;

constexpr std::size_t kBatch = 256;  // points normalised per field inversion
constexpr std::uint64_t kTagBit = std::uint64_t{1} << 31;

// canon(P) = 4*P: the same Edwards point for every representative of a ristretto element
// (note section 5).
Ext canon(const Point& p) {
  return detail::ext_dbl(detail::ext_dbl(p.ext()));
}

std::uint64_t load64(const std::uint8_t* b) {
  std::uint64_t v = 0;
  std::memcpy(&v, b, 8);  // little-endian hosts only; the key is internal to this process
  return v;
}

// Slot bits from y[0..8], tag from y[8..12] with the top bit set so that no entry is 0.
std::uint64_t tag_of(const std::uint8_t* y) {
  std::uint32_t t = 0;
  std::memcpy(&t, y + 8, 4);
  return (t | kTagBit) & 0xffffffffu;
}

// Affine y bytes (and 1/Z, for x on demand) of up to kBatch points, one inversion.
struct Normalised {
  std::array<Fe, kBatch> zinv;
  std::array<std::array<std::uint8_t, 32>, kBatch> y;
};

void normalise(const Ext* pts, std::size_t n, Normalised& out) {
  for (std::size_t i = 0; i < n; ++i)
    out.zinv[i] = pts[i].Z;
  detail::fe_batch_invert(std::span<Fe>(out.zinv.data(), n));
  for (std::size_t i = 0; i < n; ++i)
    out.y[i] = detail::fe_to_bytes(detail::fe_mul(pts[i].Y, out.zinv[i]));
}

bool x_negative(const Ext& p, const Fe& zinv) {
  return detail::fe_is_negative(detail::fe_mul(p.X, zinv)) != 0;
}

Scalar signed_scalar(std::int64_t v) {
  const Scalar abs =
      Scalar::from_u64(v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v));
  return v < 0 ? -abs : abs;
}

Status not_in_range(std::uint64_t bound) {
  const bool power_of_two = bound != 0 && (bound & (bound - 1)) == 0;
  const std::string text =
      power_of_two ? "2^" + std::to_string(std::countr_zero(bound)) : std::to_string(bound);
  return Status::not_found("the plaintext is not in [-" + text + ", " + text +
                           "]: no v in that range with v*G = M");
}

}  // namespace

DiscreteLogTable::DiscreteLogTable(unsigned baby_steps_log2) {
  const unsigned k = std::clamp(baby_steps_log2, kMinBabyStepsLog2, kMaxBabyStepsLog2);
  baby_steps_ = std::uint64_t{1} << k;
  slots_.assign(std::size_t{2} << k, 0);
  mask_ = slots_.size() - 1;

  // canon(i*G) for i = 0..T by repeated addition of canon(G), normalised in batches.
  const detail::Cached step = detail::to_cached(canon(Point::base()));
  std::array<Ext, kBatch> pts;
  Normalised norm;
  Ext cur = detail::ext_identity();
  std::uint64_t i = 0;
  while (i <= baby_steps_) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(kBatch, baby_steps_ + 1 - i));
    for (std::size_t b = 0; b < n; ++b) {
      pts[b] = cur;
      cur = detail::to_ext(detail::add(cur, step));
    }
    normalise(pts.data(), n, norm);
    for (std::size_t b = 0; b < n; ++b)
      insert(norm.y[b].data(), static_cast<std::uint32_t>(i + b), x_negative(pts[b], norm.zinv[b]));
    i += n;
  }
}

void DiscreteLogTable::insert(const std::uint8_t* y, std::uint32_t i, bool x_neg) {
  const std::uint64_t entry = tag_of(y) << 32 | std::uint64_t{i} << 1 | (x_neg ? 1u : 0u);
  std::uint64_t s = load64(y) & mask_;
  while (slots_[s] != 0)
    s = (s + 1) & mask_;
  slots_[s] = entry;
}

std::uint64_t DiscreteLogTable::max_giant_steps(std::uint64_t bound) const {
  const std::uint64_t w = 2 * baby_steps_ + 1;
  return 2 * ((bound + baby_steps_) / w) + 1;
}

Result<std::int64_t> DiscreteLogTable::solve_var(const Point& m, std::uint64_t bound) const {
  if (bound > kMaxDiscreteLogBound) {
    return Status::invalid_argument("discrete log bound " + std::to_string(bound) +
                                    " is above 2^62");
  }
  // Every v in [-bound, bound] is j*W + i with |i| <= T, |j| <= J (note section 5).
  const std::uint64_t w = 2 * baby_steps_ + 1;
  const std::uint64_t max_j = (bound + baby_steps_) / w;
  const detail::Cached giant = detail::to_cached(canon(Point::mul_base(Scalar::from_u64(w))));
  const Ext c = canon(m);

  // Looks up point p (the giant step j) and returns the v it gives, if any.
  auto lookup = [&](const Ext& p, const std::uint8_t* y, const Fe& zinv,
                    std::int64_t j) -> std::optional<std::int64_t> {
    const std::uint64_t tag = tag_of(y);
    for (std::uint64_t s = load64(y) & mask_; slots_[s] != 0; s = (s + 1) & mask_) {
      const std::uint64_t e = slots_[s];
      if ((e >> 32) != tag) continue;
      const auto i = static_cast<std::int64_t>((e & 0xffffffffu) >> 1);
      const bool neg = ((e & 1) != 0) != x_negative(p, zinv);
      const std::int64_t v = j * static_cast<std::int64_t>(w) + (neg ? -i : i);
      if (Point::mul_base(signed_scalar(v)) == m) return v;  // a tag collision only costs time
    }
    return std::nullopt;
  };

  // Giant steps j = 0, 1, -1, 2, -2, ..., in batches: pos = c - j*S, neg = c + j*S.
  std::array<Ext, kBatch> pts;
  std::array<std::int64_t, kBatch> js;
  Normalised norm;
  Ext pos = c;
  Ext neg = c;
  std::uint64_t next_j = 0;
  while (next_j <= max_j) {
    std::size_t n = 0;
    while (n + 2 <= kBatch && next_j <= max_j) {
      const auto j = static_cast<std::int64_t>(next_j);
      if (next_j == 0) {
        pts[n] = c;
        js[n++] = 0;
      } else {
        pos = detail::to_ext(detail::sub(pos, giant));
        neg = detail::to_ext(detail::add(neg, giant));
        pts[n] = pos;
        js[n++] = j;
        pts[n] = neg;
        js[n++] = -j;
      }
      ++next_j;
    }
    normalise(pts.data(), n, norm);
    for (std::size_t b = 0; b < n; ++b) {
      const auto v = lookup(pts[b], norm.y[b].data(), norm.zinv[b], js[b]);
      if (!v) continue;
      const std::uint64_t abs =
          *v < 0 ? 0 - static_cast<std::uint64_t>(*v) : static_cast<std::uint64_t>(*v);
      if (abs <= bound) return *v;
      return not_in_range(bound);  // the discrete log is unique mod l: none in range
    }
  }
  return not_in_range(bound);
}

}  // namespace pfex::crypto
