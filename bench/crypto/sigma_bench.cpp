// Sigma proofs of linear relations (docs/crypto/sigma.md): a statement the size of the private
// protocol's "next token" proof — ten witnesses, eight relations over ten generators.
#include <benchmark/benchmark.h>

#include <vector>

#include "crypto/generators.hpp"
#include "crypto/sigma.hpp"

namespace {

using pfex::crypto::derive_generator;
using pfex::crypto::LinearProof;
using pfex::crypto::LinearStatement;
using pfex::crypto::Point;
using pfex::crypto::Scalar;
using pfex::crypto::Transcript;
using pfex::crypto::VerificationTerms;

struct SigmaInstance {
  LinearStatement statement{10};
  std::vector<Scalar> witnesses;
};

// Relation j uses witnesses j, j+1, j+2 (mod 10) on bases j, j+3, j+7 (mod 10), with coefficient 1
// on the first term and random public coefficients on the others: 24 terms in all.
SigmaInstance make_instance() {
  SigmaInstance inst;
  for (int i = 0; i < 10; ++i)
    inst.witnesses.push_back(Scalar::random());
  for (std::uint32_t b = 0; b < 10; ++b)
    inst.statement.add_base(derive_generator("bench/sigma", b));
  for (std::size_t j = 0; j < 8; ++j) {
    const std::size_t w[3] = {j % 10, (j + 1) % 10, (j + 2) % 10};
    const std::size_t b[3] = {j % 10, (j + 3) % 10, (j + 7) % 10};
    const Scalar a[3] = {Scalar::one(), Scalar::random(), Scalar::random()};
    Point P;
    for (int k = 0; k < 3; ++k)
      P += (a[k] * inst.witnesses[w[k]]) * inst.statement.base(b[k]);
    const std::size_t rel = inst.statement.add_relation(P);
    for (int k = 0; k < 3; ++k)
      (void)inst.statement.add_term(rel, w[k], b[k], a[k]);
  }
  return inst;
}

void BM_SigmaProve(benchmark::State& state) {
  const SigmaInstance inst = make_instance();
  for (auto _ : state) {
    Transcript t("pfex/v1/bench");
    benchmark::DoNotOptimize(pfex::crypto::prove_linear(inst.statement, inst.witnesses, t));
  }
}

void BM_SigmaVerify(benchmark::State& state) {
  const SigmaInstance inst = make_instance();
  Transcript tp("pfex/v1/bench");
  const LinearProof proof = *pfex::crypto::prove_linear(inst.statement, inst.witnesses, tp);
  for (auto _ : state) {
    Transcript t("pfex/v1/bench");
    if (!pfex::crypto::verify_linear(inst.statement, proof, t).is_ok()) {
      state.SkipWithError("proof did not verify");
      break;
    }
  }
  state.counters["proof_bytes"] = static_cast<double>(proof.encoded_size());
}

// 64 statements of the same shape in one MSM; time per statement.
void BM_SigmaBatchVerify(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  std::vector<SigmaInstance> instances;
  std::vector<LinearProof> proofs;
  for (std::size_t k = 0; k < count; ++k) {
    instances.push_back(make_instance());
    Transcript tp("pfex/v1/bench");
    proofs.push_back(
        *pfex::crypto::prove_linear(instances[k].statement, instances[k].witnesses, tp));
  }
  for (auto _ : state) {
    VerificationTerms terms;
    for (std::size_t k = 0; k < count; ++k) {
      Transcript t("pfex/v1/bench");
      (void)pfex::crypto::append_linear_verification_terms(instances[k].statement, proofs[k], t,
                                                           Scalar::random(), terms);
    }
    if (!terms.is_identity_var()) {
      state.SkipWithError("batch did not verify");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(count));
}

BENCHMARK(BM_SigmaProve)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SigmaVerify)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SigmaBatchVerify)->Arg(64)->Unit(benchmark::kMicrosecond);

}  // namespace
