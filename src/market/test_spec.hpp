// The small contract the market's tests and fuzz targets trade (no test framework needed).
#pragma once

#include "market/contract.hpp"

namespace pfex::market::testing {

// k = 10 per tick, fee 1 per contract, d = 5% (band [950, 1050] around 1000), m = 8%,
// so M = 10 * (ceil(0.08 * 1050) + 1) = 850 per contract. D_res is its least, 1 ms.
inline ContractSpec small_spec() {
  ContractSpec s;
  s.name = "TEST";
  s.tick_value = Cash(10);
  s.fee_per_contract = Cash(1);
  s.band_ppm = 50'000;
  s.margin_ppm = 80'000;
  s.widen_ppm = 1'500'000;
  s.protection_ticks = 5;
  s.breaker_qty = Qty(10);
  s.breaker_window_ms = 10'000;
  s.vwap_window_ms = 10'000;
  s.refresh_window_ms = 60'000;
  s.bond = Cash(100);
  s.liquidation_penalty_per_contract = Cash(5);
  s.max_order_qty = Qty(1'000'000);
  s.resolution_ms = 1;  // D_res: the defaulters are taken over 1 ms after the window's close
  return s;
}

}  // namespace pfex::market::testing
