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

#include <algorithm>
#include <functional>
#include <span>
#include <string>
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

// Batch verification's fallback, shared by the batch verifiers: `holds(positions)` must say
// whether the combined equation of those items holds (with each item's weight fixed beforehand).
// Returns, in increasing order, every position whose own equation fails, found by bisection: a
// failing group is split, a half that holds is cleared whole, so k bad items among n cost about
// 2k log2(n) checks. Empty when holds(positions).
inline std::vector<std::size_t> find_failing(
    std::span<const std::size_t> positions,
    const std::function<bool(std::span<const std::size_t>)>& holds) {
  std::vector<std::size_t> bad;
  // `group` is known to fail.
  auto split = [&](auto&& self, std::span<const std::size_t> group) -> void {
    if (group.size() == 1) {
      bad.push_back(group[0]);
      return;
    }
    const auto left = group.first(group.size() / 2);
    const auto right = group.subspan(group.size() / 2);
    if (holds(left)) return self(self, right);  // then the failure is all on the right
    self(self, left);
    if (!holds(right)) self(self, right);
  };
  if (!positions.empty() && !holds(positions)) split(split, positions);
  std::sort(bad.begin(), bad.end());
  return bad;
}

// "proofs 3, 17 do not verify" (at most 32 listed): the message of a failed batch.
inline std::string describe_failing(std::span<const std::size_t> bad) {
  std::string list;
  for (std::size_t i = 0; i < bad.size() && i < 32; ++i)
    list += (i == 0 ? "" : ", ") + std::to_string(bad[i]);
  if (bad.size() > 32) list += ", ... (" + std::to_string(bad.size()) + " in all)";
  return (bad.size() > 1 ? "proofs " : "proof ") + list + (bad.size() > 1 ? " do" : " does") +
         " not verify";
}

}  // namespace pfex::crypto
