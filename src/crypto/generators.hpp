// Generator derivation (docs/design.md section 4): G is the standard base point; every other
// generator is
//     generator(label, index) = Point::from_uniform_bytes(SHA-512("pfex/v1/" || label ||
//     LE32(index)))
// where label is the UTF-8 bytes of the label (no length prefix, no terminator) and LE32(index) is
// the index as a 4-byte little-endian unsigned integer. The index has a fixed width at the end, so
// the preimage determines (label, index) uniquely. Because every generator is a hash output, nobody
// knows a discrete-log relation between any two of them. The first encodings are pinned in
// generators_test.cpp: changing this derivation changes every commitment, so it is versioned.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/point.hpp"

namespace pfex::crypto {

inline constexpr std::string_view kGeneratorPrefix = "pfex/v1/";

Point derive_generator(std::string_view label, std::uint32_t index);

// The generators label[0], label[1], ... derived once and kept (a cache owned by its user, e.g. a
// proof system's parameters). Not thread-safe while growing; const access is.
class GeneratorSet {
 public:
  GeneratorSet(std::string label, std::size_t count);

  const std::string& label() const { return label_; }
  std::size_t size() const { return points_.size(); }
  const Point& operator[](std::size_t i) const { return points_[i]; }
  std::span<const Point> points() const { return points_; }
  // Derives more generators so that size() >= count; never shrinks.
  void reserve_generators(std::size_t count);

 private:
  std::string label_;
  std::vector<Point> points_;
};

}  // namespace pfex::crypto
