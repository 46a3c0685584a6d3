// Reading and writing proof elements with the core codec (docs/codec.md): a point is its 32-byte
// canonical encoding, a scalar its 32-byte canonical little-endian encoding. Reads are strict
// (Point::decode, Scalar::decode) and follow the Reader's sticky-error rule: a bad element fails
// the Reader with a message naming the field, and the value returned is the identity / zero.
#pragma once

#include <string>
#include <string_view>

#include "core/codec.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"

namespace pfex::crypto {

inline void write_point(Writer& w, const Point& p) {
  w.fixed(p.encode());
}
inline void write_scalar(Writer& w, const Scalar& s) {
  w.fixed(s.bytes());
}

inline Point read_point(Reader& r, std::string_view field) {
  Point::Encoding bytes{};
  r.fixed(field, bytes);
  if (r.failed()) return Point::identity();
  auto p = Point::decode(bytes);
  if (!p.is_ok()) {
    r.fail(Status::invalid_argument(std::string(field) + ": not a canonical ristretto255 point"));
    return Point::identity();
  }
  return *p;
}

inline Scalar read_scalar(Reader& r, std::string_view field) {
  Scalar::Encoding bytes{};
  r.fixed(field, bytes);
  if (r.failed()) return Scalar::zero();
  auto s = Scalar::decode(bytes);
  if (!s.is_ok()) {
    r.fail(Status::invalid_argument(std::string(field) + ": not a canonical scalar (>= l)"));
    return Scalar::zero();
  }
  return *s;
}

}  // namespace pfex::crypto
