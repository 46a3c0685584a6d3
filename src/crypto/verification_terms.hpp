// VerificationTerms: the terms of one verification equation  sum_k s_k * P_k == identity,
// collected from one statement or from many, so that a transaction's or a batch's proofs are
// checked with a single variable-time MSM (msm.hpp).
//
// Batching many equations: each verifier emits its own equation's terms already multiplied by a
// random weight (a fresh random scalar per equation, chosen by the verifier, never by the prover),
// so that a false equation makes the sum non-zero except with probability 1/l. Terms on the same
// fixed generator (the Bulletproof G_i, a one-out-of-many set) should be merged by their producer
// before add(), since an MSM is linear in its number of points.
//
// Only public data: everything here is variable time.
#pragma once

#include <span>
#include <vector>

#include "core/status.hpp"
#include "crypto/msm.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"

namespace pfex::crypto {

class VerificationTerms {
 public:
  void add(const Scalar& s, const Point& p) {
    scalars_.push_back(s);
    points_.push_back(p);
  }
  void reserve(std::size_t n) {
    scalars_.reserve(n);
    points_.reserve(n);
  }
  void clear() {
    scalars_.clear();
    points_.clear();
  }
  std::size_t size() const { return scalars_.size(); }
  std::span<const Scalar> scalars() const { return scalars_; }
  std::span<const Point> points() const { return points_; }

  // Appends other's terms multiplied by weight.
  void append_weighted(const VerificationTerms& other, const Scalar& weight) {
    reserve(size() + other.size());
    for (std::size_t k = 0; k < other.size(); ++k)
      add(weight * other.scalars_[k], other.points_[k]);
  }

  // True iff the sum is the identity. Variable time.
  bool is_identity_var() const {
    auto zero = msm_is_identity_var(scalars_, points_);
    return zero.is_ok() && *zero;  // the spans always match in length
  }

 private:
  std::vector<Scalar> scalars_;
  std::vector<Point> points_;
};

}  // namespace pfex::crypto
