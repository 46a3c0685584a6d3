// Pedersen commitments (docs/design.md section 4; docs/crypto/transcript.md lists the labels):
//     Com(x; r)   = x*G + r*H
//     Com(a; r)   = sum_i a_i*G_i + r*H          (vector commitment)
// G is the standard base point, H = derive_generator("H", 0), and the vector generators are
// derive_generator(label, i) for the caller's label. Nobody knows a discrete-log relation between
// any two of them, so a commitment binds its opening (computationally) and hides it (perfectly,
// for uniform r).
//
// Committing is constant time in the values and blinding factors (fixed-base tables for G and H,
// the constant-time MSM for vectors). Opening checks are for public data.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/status.hpp"
#include "crypto/generators.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"

namespace pfex::crypto {

inline constexpr std::string_view kBlindingGeneratorLabel = "H";

// The pair (G, H), with tables for fast constant-time multiples of each (about 60 KiB; build
// once and share).
class PedersenGens {
 public:
  PedersenGens();

  const Point& G() const { return g_table_.point(); }
  const Point& H() const { return h_table_.point(); }

  // x*G + r*H. Constant time.
  Point commit(const Scalar& x, const Scalar& r) const;
  // r*H. Constant time.
  Point blind(const Scalar& r) const { return h_table_.mul(r); }
  // x*G + r*H == c, for public x, r. Variable time.
  bool opens_var(const Point& c, const Scalar& x, const Scalar& r) const;

 private:
  FixedBaseTable g_table_;
  FixedBaseTable h_table_;
};

// The H of every Pedersen commitment: derive_generator(kBlindingGeneratorLabel, 0).
const Point& blinding_generator();

// Vector commitments over G_i = derive_generator(label, i) and the blinding generator H.
class VectorPedersenGens {
 public:
  VectorPedersenGens(std::string label, std::size_t size);

  std::size_t size() const { return g_.size(); }
  const GeneratorSet& G() const { return g_; }
  const Point& H() const { return blinding_generator(); }

  // sum_i a_i*G_i + r*H. Constant time in a and r. kInvalidArgument if a has more elements than
  // there are generators (fewer is fine: the missing a_i are zero).
  Result<Point> commit(std::span<const Scalar> a, const Scalar& r) const;

 private:
  GeneratorSet g_;
};

}  // namespace pfex::crypto
