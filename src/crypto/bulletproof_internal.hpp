// The range proof's internals (docs/crypto/bulletproofs.md sections 5 and 8), exposed for the
// tests and the constant-time check only. Application code uses bulletproof.hpp: these functions
// do not check that a_L holds bits or that V matches the values, so they can prove false
// statements (which then fail verification: that is what the tests check).
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "crypto/bulletproof.hpp"

namespace pfex::crypto::detail {

// One proof's verification equation (section 8), already multiplied by its weight: the
// coefficients of the shared generators G_i, H_i (i < N), each split into a part common to every i
// (g_const, h_const) and a per-index part (g, h) so that a batch sums the common parts once, then
// the coefficients of G, H, Q_0 and of the proof's own points (V_j, T1, T2, A, S, L_k, R_k).
struct RangeProofEquation {
  Scalar g_const;
  std::vector<Scalar> g;
  Scalar h_const;
  std::vector<Scalar> h;
  Scalar base;
  Scalar blind;
  Scalar q;
  std::vector<Scalar> scalars;
  std::vector<Point> points;
};

struct RangeProofAccess {
  // Every nonce of the prover (alpha, s_L, s_R, rho, tau_1, tau_2, in that order) comes from here.
  using NonceSource = std::function<Scalar()>;

  // Section 5 steps 2-9 for the given a_L (N = 64 m scalars, normally bits), commitments V and
  // blindings gamma (m each), with N and m checked but nothing else. Constant time in a_L, gamma
  // and the nonces. a_L_is_binary: the caller vouches that every a_L[i] is 0 or 1
  // (prove_values does); A is then a constant-time selection of G_i or -H_i per bit, 2N
  // additions instead of an MSM of 2N + 1 terms. With any other a_L it would be wrong.
  static Result<RangeProof> prove_bits(const BulletproofGens& gens, Transcript& transcript,
                                       std::span<const Scalar> a_L, std::span<const Point> V,
                                       std::span<const Scalar> gamma, const NonceSource& nonce,
                                       bool a_L_is_binary = false);

  // Section 5 steps 1-2, then prove_bits(): what RangeProof::prove() runs with Scalar::random.
  static Result<RangeProofWithCommitments> prove_values(const BulletproofGens& gens,
                                                        Transcript& transcript,
                                                        std::span<const std::uint64_t> values,
                                                        std::span<const Scalar> blindings,
                                                        const NonceSource& nonce);

  // Section 8: replays the transcript and returns the equation times weight, with a fresh random c.
  static Result<RangeProofEquation> equation(const BulletproofGens& gens, Transcript& transcript,
                                             const RangeProof& proof,
                                             std::span<const Point> commitments,
                                             const Scalar& weight);
};

}  // namespace pfex::crypto::detail
