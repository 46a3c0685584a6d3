// Helpers shared by the src/crypto tests and benchmarks: hex conversion, a deterministic byte
// source (so failures reproduce) and random points.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "core/hash.hpp"
#include "crypto/point.hpp"

namespace pfex::crypto::testing {

template <std::size_t N>
std::array<std::uint8_t, N> hex_array(std::string_view hex) {
  auto bytes = from_hex(hex);
  std::array<std::uint8_t, N> out{};
  if (!bytes.is_ok() || bytes->size() != N) return out;
  for (std::size_t i = 0; i < N; ++i)
    out[i] = (*bytes)[i];
  return out;
}

class TestRng {
 public:
  explicit TestRng(std::uint64_t seed) : gen_(seed) {}
  template <std::size_t N>
  std::array<std::uint8_t, N> bytes() {
    std::array<std::uint8_t, N> out{};
    for (auto& b : out)
      b = static_cast<std::uint8_t>(gen_());
    return out;
  }
  std::uint64_t next() { return gen_(); }

 private:
  std::mt19937_64 gen_;
};

// `count` uniform points with unknown discrete logs (Point::random).
inline std::vector<Point> random_points(std::size_t count) {
  std::vector<Point> points;
  points.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    points.push_back(Point::random());
  return points;
}

}  // namespace pfex::crypto::testing
