// Bounded signed discrete log by baby-step giant-step: given M = v*G with |v| <= bound, find v.
// Threshold decryption ends here (the plaintext of a sum of positions is (sum v)*G). The algorithm,
// its canonical point key and its costs are in docs/crypto/threshold-elgamal.md section 5.
//
// A table of 2^k baby steps (y-coordinates of 4*i*G, i = 0..2^k, which also cover -i) is built
// once, 2^(k+4) bytes; a search takes at most about bound / 2^k giant steps, fewer when |v| is
// small (the giant steps go outward from 0). Only public data: everything here is variable time.
// The table is immutable after construction, so const access from several threads is safe.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.hpp"
#include "crypto/point.hpp"

namespace pfex::crypto {

// The market's open-interest bound on a sum of positions (docs/design.md section 6).
inline constexpr std::uint64_t kDefaultDiscreteLogBound = std::uint64_t{1} << 40;
// Largest bound solve_var accepts (keeps v = j*W + i far inside int64).
inline constexpr std::uint64_t kMaxDiscreteLogBound = std::uint64_t{1} << 62;

class DiscreteLogTable {
 public:
  static constexpr unsigned kDefaultBabyStepsLog2 = 20;  // 16 MiB, about 2^20 giant steps at 2^40
  static constexpr unsigned kMinBabyStepsLog2 = 4;
  static constexpr unsigned kMaxBabyStepsLog2 = 28;

  // Builds the table of 2^k baby steps; k is clamped to [kMinBabyStepsLog2, kMaxBabyStepsLog2].
  explicit DiscreteLogTable(unsigned baby_steps_log2 = kDefaultBabyStepsLog2);
  DiscreteLogTable(const DiscreteLogTable&) = delete;  // 16 MiB: share it, do not copy it
  DiscreteLogTable& operator=(const DiscreteLogTable&) = delete;
  DiscreteLogTable(DiscreteLogTable&&) = default;
  DiscreteLogTable& operator=(DiscreteLogTable&&) = default;

  // The v with v*G == m and |v| <= bound. kNotFound if there is none; kInvalidArgument if
  // bound > kMaxDiscreteLogBound. Variable time.
  Result<std::int64_t> solve_var(const Point& m,
                                 std::uint64_t bound = kDefaultDiscreteLogBound) const;

  std::uint64_t baby_steps() const { return baby_steps_; }
  // Bytes held by the table.
  std::size_t memory_bytes() const { return slots_.size() * sizeof(std::uint64_t); }
  // Giant steps a search of the whole range [-bound, bound] takes at most.
  std::uint64_t max_giant_steps(std::uint64_t bound) const;

 private:
  // Stores baby step i under the affine y of canon(i*G) (32 canonical bytes) and the sign of x.
  void insert(const std::uint8_t* y, std::uint32_t i, bool x_negative);

  std::uint64_t baby_steps_;          // T = 2^k
  std::uint64_t mask_;                // slots - 1
  std::vector<std::uint64_t> slots_;  // tag << 32 | i << 1 | sign(x); 0 = empty
};

}  // namespace pfex::crypto
