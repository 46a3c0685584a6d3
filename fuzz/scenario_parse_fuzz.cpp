// Fuzzes the scenario parser: any input is either rejected with an error or parsed into a
// scenario that then runs to completion without crashing (its expectations may fail).
#include <cstdint>
#include <string_view>

#include "sim/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  pfex::Result<pfex::sim::Scenario> sc = pfex::sim::parse_scenario(text);
  if (!sc.is_ok() || sc->steps.size() > 200) return 0;
  // Every scheduled margin round in the scripted time span runs; keep their number bounded.
  std::int64_t span = sc->steps.empty() ? 0 : sc->steps.back().at_ms;
  std::int64_t every = sc->contract.settlement_interval_ms;
  if (every > 0 && span / every > 1000) return 0;
  (void)pfex::sim::run_scenario(*sc);
  return 0;
}
