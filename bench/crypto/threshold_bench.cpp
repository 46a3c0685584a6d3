// Threshold ElGamal benchmarks (docs/crypto/threshold-elgamal.md section 7): encryption with the
// refresh's proof, its verification, a DKG dealing with its verification by every recipient,
// decryption shares, the whole threshold decryption of a margin round's sum, and the
// baby-step giant-step table (build time, memory, search time by table size).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "crypto/bsgs.hpp"
#include "crypto/dkg.hpp"
#include "crypto/elgamal.hpp"
#include "crypto/pedersen.hpp"
#include "crypto/threshold.hpp"

namespace {

using namespace pfex::crypto;  // NOLINT(google-build-using-namespace): a benchmark file

Point times_g(std::int64_t v) {
  return Point::mul_base(position_to_scalar(v));
}

// One table per size, built once (BM_BsgsTableBuild times builds on their own); the build time of
// each is kept for the counters.
struct BuiltTable {
  std::unique_ptr<DiscreteLogTable> table;
  double build_seconds = 0;
};

const BuiltTable& built_table(unsigned k) {
  static std::map<unsigned, BuiltTable> tables;
  BuiltTable& t = tables[k];
  if (!t.table) {
    const auto start = std::chrono::steady_clock::now();
    t.table = std::make_unique<DiscreteLogTable>(k);
    t.build_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return t;
}

const DiscreteLogTable& table(unsigned k) {
  return *built_table(k).table;
}

// A finished DKG and every validator's share.
struct Committee {
  DkgOutcome outcome;
  std::vector<Scalar> shares;
};

Committee make_committee(std::uint32_t n, std::uint32_t t) {
  std::vector<X25519SecretKey> keys;
  std::vector<X25519PublicKey> pks;
  for (std::uint32_t j = 0; j < n; ++j) {
    keys.push_back(X25519SecretKey::generate());
    pks.push_back(keys.back().public_key());
  }
  const pfex::Bytes sid = {'b', 'e', 'n', 'c', 'h'};
  const DkgParams params = *DkgParams::create(n, t, sid, pks);
  DkgSession s(params);
  for (std::uint32_t i = 1; i <= n; ++i)
    (void)s.add_dealing(Dealer::create(params, i)->deal());
  s.close_complaints();
  Committee c{*s.finalize(), {}};
  for (std::uint32_t j = 1; j <= n; ++j)
    c.shares.push_back(*s.secret_share(j, keys[j - 1]));
  return c;
}

void BM_ElGamalEncryptWithProof(benchmark::State& state) {
  const PedersenGens gens;
  const Point pk = Point::random();
  const Scalar v = position_to_scalar(-1234);
  const Scalar r = Scalar::random();
  const Point V = gens.commit(v, r);
  for (auto _ : state) {
    const Scalar rho = Scalar::random();
    const Ciphertext ct = encrypt(pk, v, rho);
    Transcript t("pfex/v1/bench");
    auto p = prove_encryption(gens, pk, V, ct, v, r, rho, t);
    benchmark::DoNotOptimize(p);
  }
  state.counters["proof_bytes"] = EncryptionProof::kBytes;
}
BENCHMARK(BM_ElGamalEncryptWithProof)->Unit(benchmark::kMicrosecond);

void BM_ElGamalProofVerify(benchmark::State& state) {
  const PedersenGens gens;
  const Point pk = Point::random();
  const Scalar v = position_to_scalar(-1234);
  const Scalar r = Scalar::random();
  const Scalar rho = Scalar::random();
  const Point V = gens.commit(v, r);
  const Ciphertext ct = encrypt(pk, v, rho);
  Transcript tp("pfex/v1/bench");
  const EncryptionProof p = *prove_encryption(gens, pk, V, ct, v, r, rho, tp);
  for (auto _ : state) {
    Transcript t("pfex/v1/bench");
    if (!verify_encryption(gens, pk, V, ct, p, t).is_ok()) state.SkipWithError("rejected");
  }
}
BENCHMARK(BM_ElGamalProofVerify)->Unit(benchmark::kMicrosecond);

// One dealer's round 1: deal (commitments, n encrypted shares), then every recipient opens and
// Feldman-checks its share. Args: n (t = (n + 1) / 2).
void BM_DkgDealVerify(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  const std::uint32_t t = (n + 1) / 2;
  std::vector<X25519SecretKey> keys;
  std::vector<X25519PublicKey> pks;
  for (std::uint32_t j = 0; j < n; ++j) {
    keys.push_back(X25519SecretKey::generate());
    pks.push_back(keys.back().public_key());
  }
  const pfex::Bytes sid = {'b'};
  const DkgParams params = *DkgParams::create(n, t, sid, pks);
  const Dealer dealer = *Dealer::create(params, 1);
  for (auto _ : state) {
    DkgSession s(params);
    if (!s.add_dealing(dealer.deal()).is_ok()) state.SkipWithError("dealing refused");
    for (std::uint32_t j = 1; j <= n; ++j) {
      if (!s.open_share(1, j, keys[j - 1]).is_ok()) state.SkipWithError("share refused");
    }
  }
  state.counters["dealing_bytes"] = static_cast<double>(DealerMessage::encoded_size(params));
}
BENCHMARK(BM_DkgDealVerify)->Arg(5)->Arg(16)->Unit(benchmark::kMillisecond);

void BM_DecryptionShareCreate(benchmark::State& state) {
  const Committee c = make_committee(5, 3);
  const Ciphertext ct = encrypt(c.outcome.public_key, position_to_scalar(5), Scalar::random());
  for (auto _ : state) {
    Transcript t("pfex/v1/bench");
    auto s = create_decryption_share(1, c.shares[0], ct, t);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_DecryptionShareCreate)->Unit(benchmark::kMicrosecond);

// The validators' work at a margin round's close: sum 500 ciphertexts, verify the DLEQ proofs of
// 3 of 5 shares, combine, and find the sum by BSGS (default table, 2^20 baby steps, built
// beforehand). Positions are uniform in [-2^31, 2^31), so |sum| <= 500 * 2^31 < 2^40; the sum
// of 500 such positions is typically about 2^35 (sum_abs_log2 reports it).
void BM_ThresholdDecrypt(benchmark::State& state) {
  const Committee c = make_committee(5, 3);
  std::mt19937_64 rng(42);
  std::vector<Ciphertext> cts;
  std::int64_t sum = 0;
  for (int i = 0; i < 500; ++i) {
    const auto v =
        static_cast<std::int64_t>(rng() % (std::uint64_t{1} << 32)) - (std::int64_t{1} << 31);
    sum += v;
    cts.push_back(encrypt(c.outcome.public_key, position_to_scalar(v), Scalar::random()));
  }
  const Ciphertext total = sum_ciphertexts(cts);
  const Transcript prefix("pfex/v1/bench");
  std::vector<DecryptionShare> shares;
  for (std::uint32_t j = 1; j <= 3; ++j) {
    Transcript t = prefix;
    shares.push_back(*create_decryption_share(j, c.shares[j - 1], total, t));
  }
  const DiscreteLogTable& tab = table(DiscreteLogTable::kDefaultBabyStepsLog2);
  for (auto _ : state) {
    const Ciphertext ct = sum_ciphertexts(cts);
    auto res = decrypt_threshold(c.outcome.verification_keys, 3, ct, shares, prefix, tab);
    if (!res.is_ok() || res->value != sum) state.SkipWithError("wrong sum");
  }
  const double abs_sum = static_cast<double>(sum < 0 ? -sum : sum);
  state.counters["sum_abs_log2"] = std::log2(abs_sum);
  const BuiltTable& built = built_table(DiscreteLogTable::kDefaultBabyStepsLog2);
  state.counters["table_build_s"] = built.build_seconds;
  state.counters["table_MiB"] = static_cast<double>(tab.memory_bytes()) / (1 << 20);
}
BENCHMARK(BM_ThresholdDecrypt)->Unit(benchmark::kMillisecond);

// Table build time and memory by size. Arg: log2 of the baby steps.
void BM_BsgsTableBuild(benchmark::State& state) {
  const auto k = static_cast<unsigned>(state.range(0));
  std::size_t bytes = 0;
  for (auto _ : state) {
    const DiscreteLogTable t(k);
    bytes = t.memory_bytes();
  }
  state.counters["memory_MiB"] = static_cast<double>(bytes) / (1 << 20);
}
BENCHMARK(BM_BsgsTableBuild)->DenseRange(16, 22, 2)->Unit(benchmark::kMillisecond)->Iterations(2);

// Search time. Args: log2 of the baby steps, log2 |v| (v = -2^a + 12345 for a = 40: the far
// edge of the range, all giant steps; a = 35: a typical aggregate).
void BM_BsgsSolve(benchmark::State& state) {
  const auto k = static_cast<unsigned>(state.range(0));
  const auto a = static_cast<int>(state.range(1));
  const DiscreteLogTable& t = table(k);
  const std::int64_t v = -(std::int64_t{1} << a) + 12345;
  const Point m = times_g(v);
  for (auto _ : state) {
    auto got = t.solve_var(m);
    if (!got.is_ok() || *got != v) state.SkipWithError("wrong log");
  }
  state.counters["max_giant_steps"] =
      static_cast<double>(t.max_giant_steps(kDefaultDiscreteLogBound));
  state.counters["memory_MiB"] = static_cast<double>(t.memory_bytes()) / (1 << 20);
}
BENCHMARK(BM_BsgsSolve)
    ->ArgsProduct({{16, 18, 20, 22}, {35, 40}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

}  // namespace
