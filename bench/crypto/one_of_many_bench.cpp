// One-out-of-many proofs (docs/crypto/one-of-many.md) over N = 2^n points: proving, verifying one
// proof, and a batch of 64 proofs over the same set (time per proof, and its ratio to one
// verification measured in the same process). The set's digest is built once per set, as a
// validator does per window (BM_OneOfManySetCreate measures that cost).
#include <benchmark/benchmark.h>

#include <ctime>
#include <map>
#include <memory>
#include <vector>

#include "crypto/one_of_many.hpp"
#include "crypto/pedersen.hpp"
#include "crypto/test_util.hpp"

namespace {

using pfex::crypto::OneOfManyBatch;
using pfex::crypto::OneOfManyGens;
using pfex::crypto::OneOfManyProof;
using pfex::crypto::OneOfManySet;
using pfex::crypto::Point;
using pfex::crypto::Scalar;
using pfex::crypto::Transcript;
using pfex::crypto::testing::random_points;

constexpr std::string_view kDomain = "pfex/v1/bench";

const OneOfManyGens& gens() {
  static const OneOfManyGens g;
  return g;
}

// A set of N points with `count` valid proofs over it, each for its own offset and transcript
// (transcript t absorbs "tx" = t first). Built once per N and kept.
struct Fixture {
  std::unique_ptr<OneOfManySet> set;
  std::vector<Point> offsets;
  std::vector<OneOfManyProof> proofs;
  std::vector<Scalar> r;
  std::vector<std::size_t> index;
};

Transcript transcript(std::size_t t) {
  Transcript tr(kDomain);
  tr.append_u64("tx", t);
  return tr;
}

const Fixture& fixture(std::size_t N, std::size_t count) {
  static std::map<std::size_t, Fixture> cache;
  Fixture& f = cache[N];
  if (!f.set) f.set = std::make_unique<OneOfManySet>(*OneOfManySet::create(random_points(N)));
  while (f.proofs.size() < count) {
    const std::size_t t = f.proofs.size();
    const std::size_t index = (t * 7919 + 13) % N;
    const Scalar r = Scalar::random();
    const Point offset = f.set->points()[index] - r * pfex::crypto::blinding_generator();
    Transcript tr = transcript(t);
    f.proofs.push_back(*OneOfManyProof::prove(gens(), tr, *f.set, offset, index, r));
    f.offsets.push_back(offset);
    f.r.push_back(r);
    f.index.push_back(index);
  }
  return f;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

bool verify_one(const Fixture& f, std::size_t t) {
  Transcript tr = transcript(t);
  return f.proofs[t].verify(gens(), tr, *f.set, f.offsets[t]).is_ok();
}

void BM_OneOfManySetCreate(benchmark::State& state) {
  const auto N = static_cast<std::size_t>(state.range(0));
  const std::vector<Point> points = random_points(N);
  for (auto _ : state) {
    auto set = OneOfManySet::create(points);
    benchmark::DoNotOptimize(set);
  }
}

void BM_OneOfManyProve(benchmark::State& state) {
  const auto N = static_cast<std::size_t>(state.range(0));
  const Fixture& f = fixture(N, 1);
  for (auto _ : state) {
    Transcript tr = transcript(0);
    auto proof = OneOfManyProof::prove(gens(), tr, *f.set, f.offsets[0], f.index[0], f.r[0]);
    benchmark::DoNotOptimize(proof);
  }
  state.counters["proof_bytes"] =
      static_cast<double>(OneOfManyProof::encoded_size(f.set->log_size()));
}

void BM_OneOfManyVerify(benchmark::State& state) {
  const auto N = static_cast<std::size_t>(state.range(0));
  const Fixture& f = fixture(N, 1);
  for (auto _ : state) {
    if (!verify_one(f, 0)) {
      state.SkipWithError("proof did not verify");
      break;
    }
  }
  state.counters["proof_bytes"] =
      static_cast<double>(OneOfManyProof::encoded_size(f.set->log_size()));
}

// `count` proofs over one set: add() (transcript replay) for each, then one verify(). Up to 8
// distinct proofs are made (proving 64 at N = 4096 would take half a minute) and added in turn;
// every add() draws fresh weights, so the verifier's work is that of 64 distinct proofs.
// per_proof: CPU seconds per proof. vs_single: per_proof / one verify_one(), both timed here in
// thread CPU time (the machine is shared, so wall time is noisier).
void BM_OneOfManyBatchVerify(benchmark::State& state) {
  const auto N = static_cast<std::size_t>(state.range(0));
  const auto count = static_cast<std::size_t>(state.range(1));
  const std::size_t distinct = std::min<std::size_t>(count, 8);
  const Fixture& f = fixture(N, distinct);

  double single = 1e300;  // the fastest of a few single verifications
  for (int rep = 0; rep < 5; ++rep) {
    const double start = cpu_seconds();
    if (!verify_one(f, 0)) state.SkipWithError("proof did not verify");
    single = std::min(single, cpu_seconds() - start);
  }

  double total = 0;
  for (auto _ : state) {
    const double start = cpu_seconds();
    OneOfManyBatch batch(gens(), *f.set);
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t t = k % distinct;
      Transcript tr = transcript(t);
      if (!batch.add(tr, f.offsets[t], f.proofs[t]).is_ok()) state.SkipWithError("add failed");
    }
    if (!batch.verify().is_ok()) {
      state.SkipWithError("batch did not verify");
      break;
    }
    total += cpu_seconds() - start;
  }
  const double per_proof =
      total / static_cast<double>(state.iterations()) / static_cast<double>(count);
  state.counters["per_proof"] =
      benchmark::Counter(static_cast<double>(count), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
  state.counters["single_verify"] = single;
  state.counters["vs_single"] = per_proof / single;
  state.counters["proof_bytes"] =
      static_cast<double>(OneOfManyProof::encoded_size(f.set->log_size()));
}

BENCHMARK(BM_OneOfManySetCreate)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OneOfManyProve)->RangeMultiplier(4)->Range(16, 4096)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OneOfManyVerify)->RangeMultiplier(4)->Range(16, 4096)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OneOfManyBatchVerify)
    ->ArgsProduct({{16, 64, 256, 1024, 4096}, {64}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
