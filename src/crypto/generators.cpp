#include "crypto/generators.hpp"

#include <utility>

#include "core/hash.hpp"

namespace pfex::crypto {

Point derive_generator(std::string_view label, std::uint32_t index) {
  Bytes preimage;
  preimage.reserve(kGeneratorPrefix.size() + label.size() + 4);
  preimage.insert(preimage.end(), kGeneratorPrefix.begin(), kGeneratorPrefix.end());
  preimage.insert(preimage.end(), label.begin(), label.end());
  for (int i = 0; i < 4; ++i)
    preimage.push_back(static_cast<std::uint8_t>(index >> (8 * i)));
  return Point::hash(preimage);
}

GeneratorSet::GeneratorSet(std::string label, std::size_t count) : label_(std::move(label)) {
  reserve_generators(count);
}

void GeneratorSet::reserve_generators(std::size_t count) {
  points_.reserve(count);
  while (points_.size() < count) {
    // More than 2^32 generators would need a wider index; far beyond any proof size.
    const auto index = static_cast<std::uint32_t>(points_.size());
    points_.push_back(derive_generator(label_, index));
  }
}

}  // namespace pfex::crypto
