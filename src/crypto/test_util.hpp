// Helpers shared by the src/crypto tests: hex conversion and a deterministic byte source, so
// failures reproduce.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string_view>

#include "core/hash.hpp"

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

}  // namespace pfex::crypto::testing
