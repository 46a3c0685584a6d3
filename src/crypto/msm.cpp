#include "crypto/msm.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <vector>

#include "crypto/edwards25519.hpp"
#include "crypto/scalar_recoding.hpp"

namespace pfex::crypto {
namespace {

using detail::Cached;
using detail::Completed;
using detail::Ext;
using detail::Niels;

// Below this many points Straus beats Pippenger (measured; see the doc).
constexpr std::size_t kPippengerThreshold = 160;
// Points per constant-time Straus chunk: the chunk's tables (960 B per point) stay in L2.
constexpr std::size_t kConstTimeChunk = 128;
constexpr int kNafWidth = 5;

Status check_sizes(std::size_t scalars, std::size_t points) {
  if (scalars == points) return Status::ok();
  return Status::invalid_argument("msm: " + std::to_string(scalars) + " scalars but " +
                                  std::to_string(points) + " points");
}

using CtTable = std::array<Niels, 8>;

// {1..8} * P_j for every point, normalised to Niels form with one inversion for the lot:
// smaller lookups and 7M instead of 8M per addition.
void build_const_time_tables(std::span<const Point> points, CtTable* out) {
  const std::size_t n = points.size();
  std::vector<Ext> multiples(8 * n);
  for (std::size_t j = 0; j < n; ++j) {
    const Ext& p = points[j].ext();
    const Cached pc = detail::to_cached(p);
    multiples[8 * j] = p;
    for (std::size_t k = 1; k < 8; ++k) {
      multiples[8 * j + k] = detail::to_ext(detail::add(multiples[8 * j + k - 1], pc));
    }
  }
  detail::to_niels_batch(multiples.data(), out->data(), 8 * n);
}

// sum_j s_j * P_j over the points whose tables are tables[0..n): Straus with signed radix-16
// digits, every lookup reading all eight entries.
Ext straus_const_time(std::span<const Scalar> scalars, const CtTable* tables) {
  const std::size_t n = scalars.size();
  std::vector<std::array<std::int8_t, 64>> digits(n);
  for (std::size_t j = 0; j < n; ++j)
    digits[j] = detail::radix16(scalars[j].bytes());

  Ext r = detail::ext_identity();
  for (std::size_t i = 64; i-- > 0;) {
    if (i != 63) {
      r = detail::to_proj(detail::dbl(r));
      r = detail::to_proj(detail::dbl(r));
      r = detail::to_proj(detail::dbl(r));
      r = detail::to_ext(detail::dbl(r));
    }
    for (std::size_t j = 0; j < n; ++j) {
      r = detail::to_ext(
          detail::add(r, detail::ct_select(tables[j], digits[j][i], detail::niels_identity())));
    }
  }
  // The digits are the scalars in another form: wipe them like the scalars.
  sodium_memzero(digits.data(), digits.size() * sizeof(digits[0]));
  return r;
}

Ext msm_var_ext(std::span<const Scalar> scalars, std::span<const Point> points) {
  if (points.size() < kPippengerThreshold) return msm_straus_var(scalars, points).ext();
  return msm_pippenger_var(scalars, points).ext();
}

}  // namespace

Result<Point> msm(std::span<const Scalar> scalars, std::span<const Point> points) {
  PFEX_RETURN_IF_ERROR(check_sizes(scalars.size(), points.size()));
  Ext r = detail::ext_identity();
  for (std::size_t start = 0; start < points.size(); start += kConstTimeChunk) {
    const std::size_t len = std::min(kConstTimeChunk, points.size() - start);
    std::vector<CtTable> tables(len);
    build_const_time_tables(points.subspan(start, len), tables.data());
    r = detail::ext_add(r, straus_const_time(scalars.subspan(start, len), tables.data()));
  }
  return Point(r);
}

MsmTables::MsmTables(std::span<const Point> points) : tables_(points.size()) {
  build_const_time_tables(points, tables_.data());
}

Result<Point> MsmTables::msm(std::span<const Scalar> scalars, std::size_t first) const {
  if (first > tables_.size() || scalars.size() > tables_.size() - first) {
    return Status::invalid_argument("msm: " + std::to_string(scalars.size()) +
                                    " scalars from point " + std::to_string(first) + " of " +
                                    std::to_string(tables_.size()));
  }
  return Point(straus_const_time(scalars, tables_.data() + first));
}

Result<Point> msm_var(std::span<const Scalar> scalars, std::span<const Point> points) {
  PFEX_RETURN_IF_ERROR(check_sizes(scalars.size(), points.size()));
  return Point(msm_var_ext(scalars, points));
}

Result<bool> msm_is_identity_var(std::span<const Scalar> scalars, std::span<const Point> points) {
  PFEX_RETURN_IF_ERROR(check_sizes(scalars.size(), points.size()));
  return detail::is_identity_class(msm_var_ext(scalars, points)) == 1;
}

Point msm_straus_var(std::span<const Scalar> scalars, std::span<const Point> points) {
  const std::size_t n = points.size();
  constexpr std::size_t kTable = std::size_t{1} << (kNafWidth - 2);  // P, 3P, ..., 15P
  std::vector<std::array<Cached, kTable>> tables(n);
  std::vector<std::array<std::int8_t, 256>> nafs(n);
  int top = -1;
  for (std::size_t j = 0; j < n; ++j) {
    nafs[j] = detail::wnaf_var(scalars[j].bytes(), kNafWidth);
    for (int i = 255; i > top; --i) {
      if (nafs[j][static_cast<std::size_t>(i)] != 0) {
        top = i;
        break;
      }
    }
    const Ext& p = points[j].ext();
    const Cached p2 = detail::to_cached(detail::ext_dbl(p));
    tables[j][0] = detail::to_cached(p);
    Ext acc = p;
    for (std::size_t k = 1; k < kTable; ++k) {
      acc = detail::to_ext(detail::add(acc, p2));
      tables[j][k] = detail::to_cached(acc);
    }
  }
  Ext r = detail::ext_identity();
  for (int i = top; i >= 0; --i) {
    Completed t = detail::dbl(r);
    for (std::size_t j = 0; j < n; ++j) {
      // NOLINTNEXTLINE(bugprone-signed-char-misuse): NAF digits are signed values by design
      const int d = nafs[j][static_cast<std::size_t>(i)];
      if (d == 0) continue;
      // One addition site (negating the operand instead of a second, subtracting one) keeps
      // the inlined loop body small.
      const Cached& e = tables[j][static_cast<std::size_t>((d > 0 ? d : -d) / 2)];
      t = detail::add(detail::to_ext(t), d > 0 ? e : detail::neg(e));
    }
    r = i == 0 ? detail::to_ext(t) : detail::to_proj(t);  // a doubling comes next: T unused
  }
  return Point(r);
}

int pippenger_window(std::size_t n) {
  // Model cost in field multiplications: per window, n mixed additions (7M) into buckets and
  // two full additions (9M) per bucket to sum them; plus the doublings. Pick the cheapest c.
  int best_c = 4;
  double best = 0;
  for (int c = 4; c <= 16; ++c) {
    const int windows = detail::radix_2c_digits(c);
    const double buckets =
        static_cast<double>((windows - 1) * (1 << (c - 1)) + (1 << detail::radix_2c_top_bits(c)));
    const double cost = windows * 7.0 * static_cast<double>(n) + 18.0 * buckets + 253 * 7.0;
    if (c == 4 || cost < best) {
      best = cost;
      best_c = c;
    }
  }
  return best_c;
}

Point msm_pippenger_var(std::span<const Scalar> scalars, std::span<const Point> points, int c) {
  const std::size_t n = points.size();
  if (n == 0) return Point::identity();
  c = c <= 0 ? pippenger_window(n) : std::min(c, 16);
  const auto windows = static_cast<std::size_t>(detail::radix_2c_digits(c));
  // Windows below the top use 2^(c-1) buckets; the top (unsigned) digit needs up to 2^t.
  const std::size_t low_buckets = std::size_t{1} << (c - 1);
  const std::size_t top_buckets = std::size_t{1} << detail::radix_2c_top_bits(c);
  const std::size_t num_buckets = std::max(low_buckets, top_buckets);

  std::vector<Ext> ext(n);
  for (std::size_t j = 0; j < n; ++j)
    ext[j] = points[j].ext();
  // niels[2j] = P_j, niels[2j + 1] = -P_j: the digit's sign picks the entry by index, no
  // negation or mispredicted branch per addition.
  std::vector<Niels> niels(2 * n);
  detail::to_niels_batch(ext.data(), niels.data(), n);
  for (std::size_t j = n; j-- > 0;) {
    niels[2 * j] = niels[j];
    niels[2 * j + 1] = detail::neg(niels[j]);
  }
  // digits[w * n + j]: window-major, so each pass over the points reads memory in order.
  std::vector<std::int32_t> digits(n * windows);
  std::array<std::int32_t, 256> one{};
  for (std::size_t j = 0; j < n; ++j) {
    detail::radix_2c_var(scalars[j].bytes(), c, one.data());
    for (std::size_t w = 0; w < windows; ++w)
      digits[w * n + j] = one[w];
  }

  std::vector<Ext> buckets(num_buckets);
  std::vector<std::uint8_t> filled(num_buckets);
  Ext r = detail::ext_identity();
  bool r_is_identity = true;
  for (std::size_t w = windows; w-- > 0;) {
    if (!r_is_identity) {
      for (int k = 0; k < c - 1; ++k)
        r = detail::to_proj(detail::dbl(r));
      r = detail::to_ext(detail::dbl(r));
    }
    std::fill(filled.begin(), filled.end(), 0);
    const std::int32_t* wd = &digits[w * n];
    for (std::size_t j = 0; j < n; ++j) {
      const std::int32_t d = wd[j];
      if (j + 4 < n && wd[j + 4] != 0) {
        // The bucket four points ahead: hides most of an L2 miss behind the current addition.
        __builtin_prefetch(&buckets[static_cast<std::size_t>(std::abs(wd[j + 4]) - 1)]);
      }
      if (d == 0) continue;
      const auto b = static_cast<std::size_t>(std::abs(d) - 1);
      const auto negative = static_cast<std::uint64_t>(d < 0);
      if (!filled[b]) {
        buckets[b] = negative ? detail::ext_neg(ext[j]) : ext[j];
        filled[b] = 1;
        continue;
      }
      buckets[b] = detail::to_ext(detail::add(buckets[b], niels[2 * j + negative]));
    }
    // sum_b (b+1) * bucket[b] as a running sum from the top bucket down.
    Ext running;
    Ext sum;
    bool started = false;
    for (std::size_t b = w + 1 == windows ? top_buckets : low_buckets; b-- > 0;) {
      if (!started) {
        if (!filled[b]) continue;
        running = buckets[b];
        sum = running;
        started = true;
        continue;
      }
      if (filled[b]) running = detail::ext_add(running, buckets[b]);
      sum = detail::ext_add(sum, running);
    }
    if (started) {
      r = r_is_identity ? sum : detail::ext_add(r, sum);
      r_is_identity = false;
    }
  }
  return Point(r);
}

}  // namespace pfex::crypto
