// pfex_bench_crypto: the ristretto255 group layer and multi-scalar multiplication, ours against
// libsodium (the reference) and libdecaf. Every MSM benchmark reports `per_point`, the time per
// term (seconds; Google Benchmark prints it with a unit prefix). Figures and the decision they
// support: docs/crypto/group-and-msm.md.
#include <benchmark/benchmark.h>
#include <decaf/point_255.h>
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/hash.hpp"
#include "crypto/msm.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"
#include "crypto/scalar_recoding.hpp"

namespace {

using pfex::crypto::Point;
using pfex::crypto::Scalar;

// Random terms in every representation the benchmarks need, built once per size.
struct Terms {
  std::vector<Scalar> scalars;
  std::vector<Point> points;
  std::vector<Scalar::Encoding> scalar_bytes;
  std::vector<Point::Encoding> point_bytes;
  std::vector<decaf_255_scalar_s> decaf_scalars;
  std::vector<decaf_255_point_s> decaf_points;

  explicit Terms(std::size_t n) : decaf_scalars(n), decaf_points(n) {
    for (std::size_t i = 0; i < n; ++i) {
      scalars.push_back(Scalar::random());
      points.push_back(Point::random());
      scalar_bytes.push_back(scalars.back().encode());
      point_bytes.push_back(points.back().encode());
      if (decaf_255_scalar_decode(&decaf_scalars[i], scalar_bytes.back().data()) != DECAF_SUCCESS ||
          decaf_255_point_decode(&decaf_points[i], point_bytes.back().data(), DECAF_FALSE) !=
              DECAF_SUCCESS) {
        std::abort();
      }
    }
  }
};

// 16384 terms; a benchmark of size n uses the first n.
const Terms& terms() {
  static const Terms all(16384);
  return all;
}

void set_per_point(benchmark::State& state, std::size_t n) {
  state.counters["per_point"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}

void BM_MsmVartime(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Terms& t = terms();
  for (auto _ : state) {
    auto r = pfex::crypto::msm_var(std::span(t.scalars.data(), n), std::span(t.points.data(), n));
    benchmark::DoNotOptimize(r);
  }
  set_per_point(state, n);
}

void BM_MsmConstTime(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Terms& t = terms();
  for (auto _ : state) {
    auto r = pfex::crypto::msm(std::span(t.scalars.data(), n), std::span(t.points.data(), n));
    benchmark::DoNotOptimize(r);
  }
  set_per_point(state, n);
}

// The same sums with the points' constant-time tables built once beforehand (MsmTables, as the
// one-of-many prover reuses them): the cost of msm() without its tables' construction.
void BM_MsmConstTimeTables(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Terms& t = terms();
  const pfex::crypto::MsmTables tables(std::span(t.points.data(), n));
  for (auto _ : state) {
    auto r = tables.msm(std::span(t.scalars.data(), n));
    benchmark::DoNotOptimize(r);
  }
  set_per_point(state, n);
}

void BM_MsmStrausVartime(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Terms& t = terms();
  for (auto _ : state) {
    auto r =
        pfex::crypto::msm_straus_var(std::span(t.scalars.data(), n), std::span(t.points.data(), n));
    benchmark::DoNotOptimize(r);
  }
  set_per_point(state, n);
}

void BM_MsmPippengerVartime(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto c = static_cast<int>(state.range(1));
  const Terms& t = terms();
  for (auto _ : state) {
    auto r = pfex::crypto::msm_pippenger_var(std::span(t.scalars.data(), n),
                                             std::span(t.points.data(), n), c);
    benchmark::DoNotOptimize(r);
  }
  set_per_point(state, n);
  state.counters["c"] = c > 0 ? c : pfex::crypto::pippenger_window(n);
}

// The baseline of the issue: N libsodium scalar multiplications and N additions, on encodings
// (libsodium's only interface, so each addition also decodes and encodes).
void BM_NaiveLibsodium(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Terms& t = terms();
  for (auto _ : state) {
    Point::Encoding acc{};
    Point::Encoding term;
    for (std::size_t i = 0; i < n; ++i) {
      if (crypto_scalarmult_ristretto255(term.data(), t.scalar_bytes[i].data(),
                                         t.point_bytes[i].data()) != 0 ||
          crypto_core_ristretto255_add(acc.data(), acc.data(), term.data()) != 0) {
        state.SkipWithError("libsodium failed");
        break;
      }
    }
    benchmark::DoNotOptimize(acc);
  }
  set_per_point(state, n);
}

// The same naive sum on libdecaf's point type (no encoding in the loop).
void BM_NaiveLibdecaf(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Terms& t = terms();
  for (auto _ : state) {
    decaf_255_point_t acc, term;
    decaf_255_point_copy(acc, decaf_255_point_identity);
    for (std::size_t i = 0; i < n; ++i) {
      decaf_255_point_scalarmul(term, &t.decaf_points[i], &t.decaf_scalars[i]);
      decaf_255_point_add(acc, acc, term);
    }
    benchmark::DoNotOptimize(acc);
  }
  set_per_point(state, n);
}

// The alternative design: the same signed-digit Pippenger (same window choice) built on libdecaf's
// public point operations (full extended additions; libdecaf exposes no mixed or cached form).
decaf_255_point_s pippenger_on_libdecaf(const Terms& t, std::size_t n) {
  const int c = pfex::crypto::pippenger_window(n);
  const auto windows = static_cast<std::size_t>(pfex::crypto::detail::radix_2c_digits(c));
  const std::size_t low_buckets = std::size_t{1} << (c - 1);
  const std::size_t top_buckets = std::size_t{1} << pfex::crypto::detail::radix_2c_top_bits(c);
  const std::size_t num_buckets = std::max(low_buckets, top_buckets);
  std::vector<std::int32_t> digits(n * windows);
  std::array<std::int32_t, 256> one{};
  for (std::size_t j = 0; j < n; ++j) {
    pfex::crypto::detail::radix_2c_var(t.scalar_bytes[j], c, one.data());
    for (std::size_t w = 0; w < windows; ++w)
      digits[w * n + j] = one[w];
  }
  std::vector<decaf_255_point_s> buckets(num_buckets);
  decaf_255_point_t r, running, sum;
  decaf_255_point_copy(r, decaf_255_point_identity);
  for (std::size_t w = windows; w-- > 0;) {
    for (int k = 0; k < c; ++k)
      decaf_255_point_double(r, r);
    for (auto& b : buckets)
      decaf_255_point_copy(&b, decaf_255_point_identity);
    for (std::size_t j = 0; j < n; ++j) {
      const std::int32_t d = digits[w * n + j];
      if (d > 0)
        decaf_255_point_add(&buckets[static_cast<std::size_t>(d - 1)],
                            &buckets[static_cast<std::size_t>(d - 1)], &t.decaf_points[j]);
      if (d < 0)
        decaf_255_point_sub(&buckets[static_cast<std::size_t>(-d - 1)],
                            &buckets[static_cast<std::size_t>(-d - 1)], &t.decaf_points[j]);
    }
    decaf_255_point_copy(running, decaf_255_point_identity);
    decaf_255_point_copy(sum, decaf_255_point_identity);
    for (std::size_t b = w + 1 == windows ? top_buckets : low_buckets; b-- > 0;) {
      decaf_255_point_add(running, running, &buckets[b]);
      decaf_255_point_add(sum, sum, running);
    }
    decaf_255_point_add(r, r, sum);
  }
  return r[0];
}

void BM_MsmVartimeOnLibdecaf(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Terms& t = terms();
  for (auto _ : state) {
    decaf_255_point_s r = pippenger_on_libdecaf(t, n);
    benchmark::DoNotOptimize(r);
  }
  set_per_point(state, n);
}

// Single operations.
void BM_ScalarMul(benchmark::State& state) {
  const Terms& t = terms();
  for (auto _ : state)
    benchmark::DoNotOptimize(t.scalars[0] * t.points[0]);
}
void BM_ScalarMulLibsodium(benchmark::State& state) {
  const Terms& t = terms();
  Point::Encoding out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto_scalarmult_ristretto255(out.data(), t.scalar_bytes[0].data(),
                                                            t.point_bytes[0].data()));
  }
}
void BM_ScalarMulLibdecaf(benchmark::State& state) {
  const Terms& t = terms();
  decaf_255_point_t out;
  for (auto _ : state) {
    decaf_255_point_scalarmul(out, &t.decaf_points[0], &t.decaf_scalars[0]);
    benchmark::DoNotOptimize(out);
  }
}
void BM_BaseMul(benchmark::State& state) {
  const Terms& t = terms();
  for (auto _ : state)
    benchmark::DoNotOptimize(Point::mul_base(t.scalars[0]));
}
void BM_BaseMulLibsodium(benchmark::State& state) {
  const Terms& t = terms();
  Point::Encoding out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        crypto_scalarmult_ristretto255_base(out.data(), t.scalar_bytes[0].data()));
  }
}
void BM_BaseMulLibdecaf(benchmark::State& state) {
  const Terms& t = terms();
  decaf_255_point_t out;
  for (auto _ : state) {
    decaf_255_precomputed_scalarmul(out, decaf_255_precomputed_base, &t.decaf_scalars[0]);
    benchmark::DoNotOptimize(out);
  }
}
void BM_PointAdd(benchmark::State& state) {
  const Terms& t = terms();
  Point acc = t.points[0];
  for (auto _ : state) {
    acc = acc + t.points[1];
    benchmark::DoNotOptimize(acc);
  }
}
// libsodium adds encodings: two decodes, one addition, one encode.
void BM_PointAddLibsodium(benchmark::State& state) {
  const Terms& t = terms();
  Point::Encoding acc = t.point_bytes[0];
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        crypto_core_ristretto255_add(acc.data(), acc.data(), t.point_bytes[1].data()));
  }
}
void BM_PointAddLibdecaf(benchmark::State& state) {
  const Terms& t = terms();
  decaf_255_point_t acc;
  decaf_255_point_copy(acc, &t.decaf_points[0]);
  for (auto _ : state) {
    decaf_255_point_add(acc, acc, &t.decaf_points[1]);
    benchmark::DoNotOptimize(acc);
  }
}
void BM_Encode(benchmark::State& state) {
  const Terms& t = terms();
  const Point p = t.points[0] + t.points[1];  // Z != 1, as after arithmetic
  for (auto _ : state)
    benchmark::DoNotOptimize(p.encode());
}
void BM_EncodeLibdecaf(benchmark::State& state) {
  const Terms& t = terms();
  decaf_255_point_t p;
  decaf_255_point_add(p, &t.decaf_points[0], &t.decaf_points[1]);
  Point::Encoding out;
  for (auto _ : state) {
    decaf_255_point_encode(out.data(), p);
    benchmark::DoNotOptimize(out);
  }
}
void BM_Decode(benchmark::State& state) {
  const Terms& t = terms();
  for (auto _ : state)
    benchmark::DoNotOptimize(Point::decode(t.point_bytes[0]));
}
void BM_DecodeLibsodium(benchmark::State& state) {
  const Terms& t = terms();
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto_core_ristretto255_is_valid_point(t.point_bytes[0].data()));
  }
}
void BM_DecodeLibdecaf(benchmark::State& state) {
  const Terms& t = terms();
  decaf_255_point_t p;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decaf_255_point_decode(p, t.point_bytes[0].data(), DECAF_FALSE));
  }
}
void BM_FromHash(benchmark::State& state) {
  std::array<std::uint8_t, 64> h{};
  h[0] = 7;
  for (auto _ : state)
    benchmark::DoNotOptimize(Point::from_uniform_bytes(h));
}
void BM_FromHashLibsodium(benchmark::State& state) {
  std::array<std::uint8_t, 64> h{};
  h[0] = 7;
  Point::Encoding out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto_core_ristretto255_from_hash(out.data(), h.data()));
  }
}
void BM_ScalarMulScalar(benchmark::State& state) {
  const Terms& t = terms();
  Scalar acc = t.scalars[0];
  for (auto _ : state) {
    acc = acc * t.scalars[1];
    benchmark::DoNotOptimize(acc);
  }
}
void BM_ScalarInvert(benchmark::State& state) {
  const Terms& t = terms();
  for (auto _ : state)
    benchmark::DoNotOptimize(t.scalars[0].invert());
}

void msm_sizes(benchmark::internal::Benchmark* b) {
  for (int n : {16, 64, 256, 1024, 4096, 16384})
    b->Arg(n);
}
void naive_sizes(benchmark::internal::Benchmark* b) {
  for (int n : {16, 64, 256, 1024})
    b->Arg(n);
}

BENCHMARK(BM_MsmVartime)->Apply(msm_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MsmConstTime)->Apply(msm_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MsmConstTimeTables)->Apply(msm_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_NaiveLibsodium)->Apply(naive_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_NaiveLibdecaf)->Apply(naive_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MsmVartimeOnLibdecaf)->Apply(msm_sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MsmStrausVartime)
    ->Args({16})
    ->Args({64})
    ->Args({128})
    ->Args({192})
    ->Args({256})
    ->Args({384})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MsmPippengerVartime)
    ->ArgsProduct({{128, 192, 256, 384}, {0}})
    ->ArgsProduct({{1024, 4096, 16384}, {0, 6, 7, 8, 9, 10, 11, 12}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ScalarMul)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ScalarMulLibsodium)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ScalarMulLibdecaf)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BaseMul)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BaseMulLibsodium)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BaseMulLibdecaf)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PointAdd);
BENCHMARK(BM_PointAddLibsodium);
BENCHMARK(BM_PointAddLibdecaf);
BENCHMARK(BM_Encode);
BENCHMARK(BM_EncodeLibdecaf);
BENCHMARK(BM_Decode);
BENCHMARK(BM_DecodeLibsodium);
BENCHMARK(BM_DecodeLibdecaf);
BENCHMARK(BM_FromHash);
BENCHMARK(BM_FromHashLibsodium);
BENCHMARK(BM_ScalarMulScalar);
BENCHMARK(BM_ScalarInvert)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  pfex::ensure_sodium_init();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
