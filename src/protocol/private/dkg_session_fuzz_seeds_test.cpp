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

namespace pfex::priv {
namespace {

struct Target {
  std::vector<crypto::Ed25519SigningKey> keys;
  DkgGenesis genesis;
  Target() {  // the fuzz target's Harness
    genesis.threshold = 2;
    genesis.dealing_ms = genesis.complaint_ms = genesis.justification_ms = 1000;
    for (std::uint8_t j = 1; j <= 4; ++j) {
      std::array<std::uint8_t, 32> seed{};
      seed.fill(j);
      keys.push_back(crypto::Ed25519SigningKey::from_seed(seed));
      seed.fill(static_cast<std::uint8_t>(0x80 + j));
      genesis.validators.push_back(
          {keys.back().public_key(), crypto::X25519SecretKey::from_bytes(seed).public_key()});
    }
  }
};

// Replays a seed as the fuzz target does; returns the number of accepted entries.
std::size_t replay(const Target& t, const Bytes& data, DkgSession& s) {
  std::int64_t now = 0;
  std::size_t pos = 0;
  std::size_t accepted = 0;
  while (pos + 4 <= data.size()) {
    const std::uint8_t mode = data[pos];
    now += std::int64_t{data[pos + 1]} * 10;
    const std::size_t len = std::min<std::size_t>(data[pos + 2] | std::size_t{data[pos + 3]} << 8,
                                                  data.size() - pos - 4);
    const ByteSpan chunk(data.data() + pos + 4, len);
    pos += 4 + len;
    Bytes entry(chunk.begin(), chunk.end());
    if (mode != 0) {
      const std::uint32_t j = mode % 4 + 1;
      entry = sign_dkg_entry(t.keys[j - 1], s.session_id(), static_cast<DkgEntryKind>(mode / 4 % 3),
                             j, chunk);
    }
    if (s.apply(entry, LedgerTime(now)).is_ok()) ++accepted;
  }
  return accepted;
}

TEST(DkgSessionFuzzSeeds, SeedsRunWholeKeyGenerations) {
  ensure_sodium_init();
  const Target t;
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
