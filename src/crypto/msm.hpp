// Multi-scalar multiplication: sum_i s_i * P_i over ristretto255, the core cost of every proof
// verification and of most proving. The algorithms and their measured costs are in
// docs/crypto/group-and-msm.md.
//
// Two flavours:
//   msm()      Constant time in the scalars: no branch and no memory index depends on any s_i
//              (Straus with signed radix-16 digits and constant-time table lookups, in chunks of
//              128 points). For the prover, whose scalars are witnesses and blinding factors.
//              The points and the number of terms are treated as public.
//   msm_var()  Variable time: Straus with width-5 NAF for small inputs, Pippenger's bucket
//              method (signed digits, window width chosen from the input size) for large ones.
//              For verifiers and batch verification, where everything is public.
//              msm_is_identity_var() checks sum == identity without encoding the sum.
// All return kInvalidArgument when the spans differ in length. An empty sum is the identity.
#pragma once

#include <array>
#include <span>
#include <vector>

#include "core/status.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"

namespace pfex::crypto {

// Constant time in the scalars.
Result<Point> msm(std::span<const Scalar> scalars, std::span<const Point> points);

// Constant-time MSMs over one list of public points whose tables are built once: for several
// sums over the same points, or over consecutive parts of them (the one-of-many prover's G_k).
// Each msm() costs what msm() above costs without its tables' construction (about 8 of its 72
// additions per point). The tables take 960 bytes per point.
class MsmTables {
 public:
  explicit MsmTables(std::span<const Point> points);
  std::size_t size() const { return tables_.size(); }
  // sum_i scalars[i] * points[first + i]. Constant time in the scalars. kInvalidArgument if
  // the terms run past the last point.
  Result<Point> msm(std::span<const Scalar> scalars, std::size_t first = 0) const;

 private:
  std::vector<std::array<detail::Niels, 8>> tables_;  // {1..8} * P_j
};

// Variable time: scalars and points must be public.
Result<Point> msm_var(std::span<const Scalar> scalars, std::span<const Point> points);

// Variable time: true iff sum_i s_i * P_i is the identity.
Result<bool> msm_is_identity_var(std::span<const Scalar> scalars, std::span<const Point> points);

// Exposed for tests and benchmarks: force one algorithm regardless of size.
Point msm_straus_var(std::span<const Scalar> scalars, std::span<const Point> points);
// c = 0 picks the window width from the size; otherwise c is clamped to [1, 16].
Point msm_pippenger_var(std::span<const Scalar> scalars, std::span<const Point> points, int c = 0);
// The window width msm_pippenger_var() uses for n points.
int pippenger_window(std::size_t n);

}  // namespace pfex::crypto
