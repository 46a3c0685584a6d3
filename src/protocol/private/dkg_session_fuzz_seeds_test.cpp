// The seeds of pfex_fuzz_dkg_session (fuzz/corpus/pfex_fuzz_dkg_session): inputs in the fuzz
// target's format ([mode u8][time step u8][length u16 LE][bytes] ..., see
// fuzz/dkg_session_fuzz.cpp) that run whole key generations. Replayed here with the target's
// genesis, each must fix a key with the qualified set its name promises: a seed that stopped
// reaching the end (a changed format, keys or windows) would leave the fuzzer at the first
// round.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "protocol/private/dkg_session.hpp"
#include "protocol/private/dkg_session_fuzz_input.hpp"

namespace pfex::priv {
namespace {

// Replays a seed as the fuzz target does; returns the number of accepted entries.
std::size_t replay(const dkg_fuzz::Harness& h, const Bytes& data, DkgSession& s) {
  std::size_t accepted = 0;
  dkg_fuzz::for_each_entry(h, data, s.session_id(), [&](LedgerTime now, const Bytes& entry) {
    if (s.apply(entry, now).is_ok()) ++accepted;
  });
  return accepted;
}

TEST(DkgSessionFuzzSeeds, SeedsRunWholeKeyGenerations) {
  ensure_sodium_init();
  const dkg_fuzz::Harness t;
  const std::filesystem::path dir =
      std::filesystem::path(PFEX_SOURCE_DIR) / "fuzz/corpus/pfex_fuzz_dkg_session";
  struct Expected {
    const char* name;
    std::size_t accepted;
    std::vector<std::uint32_t> qualified;
  };
  const Expected expected[] = {{"honest", 4, {1, 2, 3, 4}},
                               {"complaint-justified", 6, {1, 2, 3, 4}},
                               {"complaint-unanswered", 5, {1, 3, 4}}};
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.name);
    std::ifstream in(dir / e.name, std::ios::binary);
    ASSERT_TRUE(in) << "missing seed";
    const Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    DkgSession s = DkgSession::open(Digest32{}, t.genesis, LedgerTime(0)).value();
    EXPECT_EQ(replay(t, data, s), e.accepted);
    ASSERT_EQ(s.phase(), DkgSession::Phase::kDone) << s.failure();
    ASSERT_TRUE(s.key().has_value());
    EXPECT_EQ(s.key()->qualified, e.qualified);
  }
}

}  // namespace
}  // namespace pfex::priv
