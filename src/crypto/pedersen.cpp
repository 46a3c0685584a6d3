#include "crypto/pedersen.hpp"

#include <string>
#include <vector>

#include "crypto/msm.hpp"

namespace pfex::crypto {

const Point& blinding_generator() {
  static const Point h = derive_generator(kBlindingGeneratorLabel, 0);
  return h;
}

PedersenGens::PedersenGens() : g_table_(Point::base()), h_table_(blinding_generator()) {}

Point PedersenGens::commit(const Scalar& x, const Scalar& r) const {
  return g_table_.mul(x) + h_table_.mul(r);
}

bool PedersenGens::opens_var(const Point& c, const Scalar& x, const Scalar& r) const {
  const Scalar scalars[3] = {x, r, -Scalar::one()};
  const Point points[3] = {G(), H(), c};
  auto zero = msm_is_identity_var(scalars, points);
  return zero.is_ok() && *zero;
}

VectorPedersenGens::VectorPedersenGens(std::string label, std::size_t size)
    : g_(std::move(label), size) {}

Result<Point> VectorPedersenGens::commit(std::span<const Scalar> a, const Scalar& r) const {
  if (a.size() > g_.size()) {
    return Status::invalid_argument("vector commitment: " + std::to_string(a.size()) +
                                    " values but only " + std::to_string(g_.size()) +
                                    " generators");
  }
  std::vector<Scalar> scalars(a.begin(), a.end());
  std::vector<Point> points(g_.points().begin(),
                            g_.points().begin() + static_cast<std::ptrdiff_t>(a.size()));
  scalars.push_back(r);
  points.push_back(blinding_generator());
  return msm(scalars, points);  // the copies of a and r are wiped by ~Scalar
}

}  // namespace pfex::crypto
