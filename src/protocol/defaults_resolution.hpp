// What the validators' threshold decryption of a margin round's sums gives the fund
// (docs/design.md section 6.3): the defaulters' aggregate position and cash and the survivors'
// gross position. The replica hands it to PrivateMarket::resolve_defaults when the resolution is
// recorded (docs/protocol/private.md, "Resolution").
#pragma once

#include <cstdint>

namespace pfex::protocol {

struct DefaultsResolution {
  std::int64_t position = 0;  // v_D = -(sum over survivors of v_i) - v_fund
  std::int64_t cash = 0;      // c_D = E_D - P*k*v_D
  std::uint64_t gross = 0;    // g_S = sum over survivors of (v+ + v-)

  friend bool operator==(const DefaultsResolution&, const DefaultsResolution&) = default;
};

}  // namespace pfex::protocol
