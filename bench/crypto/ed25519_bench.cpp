// Ed25519 signature verification (docs/crypto/ed25519.md): ours (ed25519_verify_var) against
// libsodium's crypto_sign_verify_detached, whose acceptance rule ours reproduces, and libdecaf's
// decaf_ed25519_verify. One valid signature over a 150-byte message, about a transparent
// transaction's signed bytes; the plain-equation path of ours and its pieces (half-size scalar
// search, decoding, double scalar multiplication, encoding) are measured separately.
#include <benchmark/benchmark.h>
#include <decaf/ed255.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/hash.hpp"
#include "crypto/ed25519.hpp"

namespace {

struct SignedMessage {
  std::array<std::uint8_t, 32> pk{};
  std::array<std::uint8_t, 64> sig{};
  std::vector<std::uint8_t> msg;

  SignedMessage() : msg(150) {
    pfex::ensure_sodium_init();
    std::array<std::uint8_t, 64> sk{};
    crypto_sign_keypair(pk.data(), sk.data());
    randombytes_buf(msg.data(), msg.size());
    crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), sk.data());
    if (!pfex::crypto::ed25519_verify_var(sig, msg, pk) ||
        decaf_ed25519_verify(sig.data(), pk.data(), msg.data(), msg.size(), 0,
                             DECAF_ED25519_NO_CONTEXT, 0) != DECAF_SUCCESS) {
      std::abort();
    }
  }
};

const SignedMessage& signed_message() {
  static const SignedMessage m;
  return m;
}

void BM_Ed25519VerifyOurs(benchmark::State& state) {
  const SignedMessage& m = signed_message();
  for (auto _ : state)
    benchmark::DoNotOptimize(pfex::crypto::ed25519_verify_var(m.sig, m.msg, m.pk));
}

// The fallback path alone: one double scalar multiplication of full-size scalars, then encode.
void BM_Ed25519VerifyPlain(benchmark::State& state) {
  const SignedMessage& m = signed_message();
  for (auto _ : state)
    benchmark::DoNotOptimize(pfex::crypto::detail::ed25519_verify_plain_var(m.sig, m.msg, m.pk));
}

void BM_Ed25519HalfSize(benchmark::State& state) {
  std::array<std::uint8_t, 32> k{}, c0{}, c1{};
  crypto_core_ed25519_scalar_random(k.data());
  bool negative = false;
  for (auto _ : state) {
    benchmark::DoNotOptimize(pfex::crypto::detail::ed25519_half_size_var(k, &c0, &c1, &negative));
    benchmark::DoNotOptimize(c0);
  }
}

void BM_Ed25519VerifyLibsodium(benchmark::State& state) {
  const SignedMessage& m = signed_message();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        crypto_sign_verify_detached(m.sig.data(), m.msg.data(), m.msg.size(), m.pk.data()));
  }
}

void BM_Ed25519VerifyLibdecaf(benchmark::State& state) {
  const SignedMessage& m = signed_message();
  for (auto _ : state) {
    benchmark::DoNotOptimize(decaf_ed25519_verify(m.sig.data(), m.pk.data(), m.msg.data(),
                                                  m.msg.size(), 0, DECAF_ED25519_NO_CONTEXT, 0));
  }
}

void BM_Ed25519Decode(benchmark::State& state) {
  const SignedMessage& m = signed_message();
  pfex::crypto::detail::Ext p;
  for (auto _ : state) {
    benchmark::DoNotOptimize(pfex::crypto::detail::ed25519_decode_var(&p, m.pk));
    benchmark::DoNotOptimize(p);
  }
}

void BM_Ed25519DoubleScalarMul(benchmark::State& state) {
  const SignedMessage& m = signed_message();
  pfex::crypto::detail::Ext a;
  if (!pfex::crypto::detail::ed25519_decode_var(&a, m.pk)) std::abort();
  const std::span<const std::uint8_t, 32> s(m.sig.data() + 32, 32);
  const std::span<const std::uint8_t, 32> k(m.sig.data(), 32);  // any 32 bytes < 2^253 will do
  std::array<std::uint8_t, 32> k_reduced{};
  std::array<std::uint8_t, 64> wide{};
  std::copy(k.begin(), k.end(), wide.begin());
  crypto_core_ed25519_scalar_reduce(k_reduced.data(), wide.data());
  for (auto _ : state) {
    auto r = pfex::crypto::detail::ed25519_double_scalar_mul_base_var(s, a, k_reduced);
    benchmark::DoNotOptimize(r);
  }
}

void BM_Ed25519Encode(benchmark::State& state) {
  const SignedMessage& m = signed_message();
  pfex::crypto::detail::Ext a;
  if (!pfex::crypto::detail::ed25519_decode_var(&a, m.pk)) std::abort();
  for (auto _ : state)
    benchmark::DoNotOptimize(pfex::crypto::detail::ed25519_encode(a));
}

}  // namespace

BENCHMARK(BM_Ed25519VerifyOurs)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Ed25519VerifyPlain)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Ed25519HalfSize)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Ed25519VerifyLibsodium)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Ed25519VerifyLibdecaf)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Ed25519Decode)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Ed25519DoubleScalarMul)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Ed25519Encode)->Unit(benchmark::kMicrosecond);
