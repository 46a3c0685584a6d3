// Aggregated 64-bit range proofs (docs/crypto/bulletproofs.md): proving and verifying for
// m = 1..16, and batch verification of 64 proofs of m = 2. Every benchmark reports the proof size
// (`proof_bytes`); the batch reports `per_proof` (CPU seconds per proof), `single_verify` (CPU
// seconds of one m = 2 verification, timed in the same run) and `ratio_to_single`, their ratio.
// CPU time, not wall time, so that other processes on the machine do not skew the ratio.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <ctime>
#include <vector>

#include "crypto/bulletproof.hpp"

namespace {

using pfex::crypto::BulletproofGens;
using pfex::crypto::Point;
using pfex::crypto::RangeProof;
using pfex::crypto::RangeProofBatchItem;
using pfex::crypto::RangeProofWithCommitments;
using pfex::crypto::Scalar;
using pfex::crypto::Transcript;

const BulletproofGens& gens() {
  static const BulletproofGens g;
  return g;
}

Transcript bench_transcript() {
  return Transcript("pfex/v1/bench");
}

struct Instance {
  std::vector<std::uint64_t> values;
  std::vector<Scalar> blindings;
};

Instance make_instance(std::size_t m) {
  Instance inst;
  for (std::size_t j = 0; j < m; ++j) {
    inst.values.push_back(Scalar::random().bytes()[0] * 0x0123456789abcdefULL);
    inst.blindings.push_back(Scalar::random());
  }
  return inst;
}

RangeProofWithCommitments make_proof(std::size_t m) {
  const Instance inst = make_instance(m);
  Transcript t = bench_transcript();
  auto proved = RangeProof::prove(gens(), t, inst.values, inst.blindings);
  if (!proved.is_ok()) std::abort();
  return std::move(proved).value();
}

void set_proof_bytes(benchmark::State& state, std::size_t m) {
  state.counters["proof_bytes"] = static_cast<double>(RangeProof::encoded_size(m));
}

void BM_BulletproofProve(benchmark::State& state) {
  const auto m = static_cast<std::size_t>(state.range(0));
  const Instance inst = make_instance(m);
  for (auto _ : state) {
    Transcript t = bench_transcript();
    auto proved = RangeProof::prove(gens(), t, inst.values, inst.blindings);
    benchmark::DoNotOptimize(proved);
  }
  set_proof_bytes(state, m);
}

void BM_BulletproofVerify(benchmark::State& state) {
  const auto m = static_cast<std::size_t>(state.range(0));
  const RangeProofWithCommitments proved = make_proof(m);
  for (auto _ : state) {
    Transcript t = bench_transcript();
    if (!proved.proof.verify(gens(), t, proved.commitments).is_ok()) std::abort();
  }
  set_proof_bytes(state, m);
}

double cpu_seconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

// CPU seconds per single verification of p, timed over `reps` runs.
double single_verify_seconds(const RangeProofWithCommitments& p, int reps) {
  const double start = cpu_seconds();
  for (int i = 0; i < reps; ++i) {
    Transcript t = bench_transcript();
    if (!p.proof.verify(gens(), t, p.commitments).is_ok()) std::abort();
  }
  return (cpu_seconds() - start) / reps;
}

void BM_BulletproofBatchVerify(benchmark::State& state) {
  constexpr std::size_t kProofs = 64;
  constexpr std::size_t kValues = 2;
  // Built once: the benchmark function runs several times while it calibrates.
  static const std::vector<RangeProofWithCommitments> proofs = [] {
    std::vector<RangeProofWithCommitments> out;
    for (std::size_t k = 0; k < kProofs; ++k)
      out.push_back(make_proof(kValues));
    return out;
  }();
  const double single = single_verify_seconds(proofs[0], 50);

  std::vector<Transcript> transcripts(kProofs, bench_transcript());
  std::vector<RangeProofBatchItem> items;
  for (std::size_t k = 0; k < kProofs; ++k)
    items.push_back({&transcripts[k], &proofs[k].proof, proofs[k].commitments});
  const double start = cpu_seconds();
  for (auto _ : state) {
    transcripts.assign(kProofs, bench_transcript());
    if (!pfex::crypto::verify_batch(gens(), items).is_ok()) std::abort();
  }
  const double per_proof =
      (cpu_seconds() - start) / (static_cast<double>(state.iterations()) * kProofs);
  state.counters["per_proof"] = benchmark::Counter(
      static_cast<double>(kProofs),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["single_verify"] = single;
  state.counters["ratio_to_single"] = per_proof / single;
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kProofs));
  set_proof_bytes(state, kValues);
}

BENCHMARK(BM_BulletproofProve)
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->Arg(16)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BulletproofVerify)
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->Arg(16)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BulletproofBatchVerify)
    ->Name("BM_BulletproofBatchVerify/64x2")
    ->Unit(benchmark::kMillisecond);

}  // namespace
