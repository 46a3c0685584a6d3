// Point: an element of the ristretto255 group (RFC 9496), prime order l.
//
// Encodings are the canonical 32 bytes of RFC 9496 section 4.3.2; decode() rejects every
// non-canonical or invalid encoding with an error. Internally a Point is one representative in
// extended twisted Edwards coordinates (see edwards25519.hpp); equality is ristretto equality, so
// two representatives of the same element compare equal and encode to the same bytes.
//
// Timing: everything here is constant time in the scalar and in the point (a public point may
// still be derived from secrets, e.g. a commitment before it is published) except the functions
// whose names end in `_var`, which are variable time and must only see public data.
// Multi-scalar multiplication is in msm.hpp; generator derivation in generators.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "crypto/edwards25519.hpp"
#include "crypto/scalar.hpp"

namespace pfex::crypto {

class Point {
 public:
  static constexpr std::size_t kBytes = 32;
  using Encoding = std::array<std::uint8_t, kBytes>;

  Point() : p_(detail::ext_identity()) {}  // the identity
  static Point identity() { return Point(); }
  // The standard generator G of RFC 9496 (encoding e2f2ae0a...2d76).
  static Point base();

  // Strict decoding: exactly 32 bytes and a canonical, valid encoding, else kInvalidArgument.
  static Result<Point> decode(ByteSpan bytes);
  Encoding encode() const;

  // RFC 9496 element derivation (section 4.3.4), the same as libsodium's
  // crypto_core_ristretto255_from_hash: MAP(bytes[0..32]) + MAP(bytes[32..64]).
  static Point from_uniform_bytes(std::span<const std::uint8_t, 64> bytes);
  // from_uniform_bytes(SHA-512(data)): hash to the group. Domain separation is the caller's.
  static Point hash(ByteSpan data);
  // A uniform element with unknown discrete log (hash of 64 random bytes).
  static Point random();

  friend Point operator+(const Point& a, const Point& b);
  friend Point operator-(const Point& a, const Point& b);
  Point operator-() const { return Point(detail::ext_neg(p_)); }
  Point& operator+=(const Point& b) { return *this = *this + b; }
  Point& operator-=(const Point& b) { return *this = *this - b; }
  Point dbl() const { return Point(detail::ext_dbl(p_)); }

  // s * P. Constant time (signed radix-16 window, constant-time table lookups).
  friend Point operator*(const Scalar& s, const Point& p);
  // s * G with a precomputed table. Constant time.
  static Point mul_base(const Scalar& s);

  // Constant time.
  friend bool operator==(const Point& a, const Point& b);
  bool is_identity() const { return detail::is_identity_class(p_) == 1; }

  // Internal representation, for the rest of src/crypto (msm.cpp, tables).
  explicit Point(const detail::Ext& p) : p_(p) {}
  const detail::Ext& ext() const { return p_; }

 private:
  detail::Ext p_;
};

// A table for fast constant-time multiples of one fixed point P (the base point, a Pedersen H):
// 32 sub-tables of {1..8} * 16^(2i) * P in Niels form, about 30 KiB. mul() costs 64 mixed
// additions and 4 doublings, about a third of a generic scalar multiplication. Building it costs
// about 300 additions and one inversion, so it pays from a handful of multiplications on.
class FixedBaseTable {
 public:
  explicit FixedBaseTable(const Point& p);
  const Point& point() const { return point_; }
  // s * P. Constant time.
  Point mul(const Scalar& s) const;

 private:
  Point point_;
  std::vector<std::array<detail::Niels, 8>> table_;  // 32 rows
};

}  // namespace pfex::crypto
