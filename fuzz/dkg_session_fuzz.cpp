// Fuzzes the validators' key generation through the log (protocol/private/dkg_session.hpp):
//  - DkgEntry::decode accepts only canonical framings (re-encoding gives back the input);
//  - an input is split into entries, each either raw or signed by one of four validators with
//    the harness's keys (so the fuzzer gets past the signature to the DKG's own checks), applied
//    at increasing ledger times: a refused entry leaves the state as the time step left it, and
//    the state's encoding restores to the same bytes at every step.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "protocol/private/dkg_session.hpp"

namespace {

using namespace pfex;
using namespace pfex::priv;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "dkg_session_fuzz: %s\n", what);
  std::abort();
}

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Harness h;
  if (Result<DkgEntry> e = DkgEntry::decode(ByteSpan(data, size))) {
    const Bytes again = e->encode();
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0)
      die("entry framing is not canonical");
  }
  Result<DkgSession> opened = DkgSession::open(Digest32{}, h.genesis, LedgerTime(0));
  if (!opened) die("the harness's genesis is refused");
  DkgSession s = std::move(opened).value();
  std::int64_t now = 0;
  std::size_t pos = 0;
  // [mode u8][time step u8][length u8][bytes] ...: mode 0 raw, else signed by validator mode % 4
  // + 1 as kind mode / 4 % 3.
  while (pos + 3 <= size) {
    const std::uint8_t mode = data[pos];
    now += data[pos + 1] * 10;
    const std::size_t len = std::min<std::size_t>(data[pos + 2], size - pos - 3);
    const ByteSpan chunk(data + pos + 3, len);
    pos += 3 + len;
    Bytes entry;
    if (mode == 0) {
      entry.assign(chunk.begin(), chunk.end());
    } else {
      const std::uint32_t j = mode % 4 + 1;
      entry = sign_dkg_entry(h.keys[j - 1], s.session_id(), static_cast<DkgEntryKind>(mode / 4 % 3),
                             j, chunk);
    }
    s.advance(LedgerTime(now));
    const Bytes before = s.encode_state();
    if (!s.apply(entry, LedgerTime(now)).is_ok() && s.encode_state() != before)
      die("a refused entry changed the state");
    Result<DkgSession> restored = DkgSession::decode_state(s.encode_state());
    if (!restored || restored->encode_state() != s.encode_state())
      die("the state does not restore");
  }
  return 0;
}
