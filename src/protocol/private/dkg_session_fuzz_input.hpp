// The input format of the key generation's fuzz target (fuzz/dkg_session_fuzz.cpp), shared with
// the test that replays its seeds (dkg_session_fuzz_seeds_test.cpp), so that both read an input
// the same way: the target's four validators and genesis, and the split of an input into entries.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "protocol/private/dkg_session.hpp"

namespace pfex::priv::dkg_fuzz {

constexpr std::size_t kChunkHeader = 4;

// Four validators, validator j's signing seed all j and its share key's seed all 0x80 + j;
// threshold 2, every window 1,000 ms.
struct Harness {
  std::vector<crypto::Ed25519SigningKey> keys;
  DkgGenesis genesis;

  Harness() {
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

// Splits `data` into entries and calls `on_entry(LedgerTime now, const Bytes& entry)` for each,
// in order. The format: [mode u8][time step u8][length u16 LE][bytes] ...; each chunk moves the
// clock by 10 ms per step; mode 0 is a raw entry, any other mode the bytes signed for session
// `session_id` by validator mode % 4 + 1 as kind mode / 4 % 3. A last chunk longer than the
// bytes left is cut; fewer than kChunkHeader bytes left end the input.
template <class OnEntry>
void for_each_entry(const Harness& h, ByteSpan data, const Digest32& session_id,
                    OnEntry&& on_entry) {
  std::int64_t now = 0;
  std::size_t pos = 0;
  while (pos + kChunkHeader <= data.size()) {
    const std::uint8_t mode = data[pos];
    now += std::int64_t{data[pos + 1]} * 10;
    const std::size_t stated = data[pos + 2] | std::size_t{data[pos + 3]} << 8;
    const std::size_t len = std::min<std::size_t>(stated, data.size() - pos - kChunkHeader);
    const ByteSpan chunk = data.subspan(pos + kChunkHeader, len);
    pos += kChunkHeader + len;
    Bytes entry;
    if (mode == 0) {
      entry.assign(chunk.begin(), chunk.end());
    } else {
      const std::uint32_t j = mode % 4 + 1;
      entry = sign_dkg_entry(h.keys[j - 1], session_id, static_cast<DkgEntryKind>(mode / 4 % 3), j,
                             chunk);
    }
    on_entry(LedgerTime(now), entry);
  }
}

}  // namespace pfex::priv::dkg_fuzz
