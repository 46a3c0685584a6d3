// Fuzzes the validators' key generation through the log (protocol/private/dkg_session.hpp):
//  - DkgEntry::decode accepts only canonical framings (re-encoding gives back the input);
//  - an input is split into entries, each either raw or signed by one of four validators with
//    the harness's keys (so the fuzzer gets past the signature to the DKG's own checks), applied
//    at increasing ledger times: a refused entry leaves the state as the time step left it, and
//    the state's encoding restores to the same bytes at every step.
// Seeds (fuzz/corpus/pfex_fuzz_dkg_session): whole key generations in the input format, written
// by this file built with -DPFEX_FUZZ_WRITE_SEEDS and run as `prog <dir>` (the command is at the
// end of the file); src/protocol/private/dkg_session_fuzz_seeds_test.cpp replays them, reading
// them with the same parser (protocol/private/dkg_session_fuzz_input.hpp).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "protocol/private/dkg_session.hpp"
#include "protocol/private/dkg_session_fuzz_input.hpp"

namespace {

using namespace pfex;
using namespace pfex::priv;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "dkg_session_fuzz: %s\n", what);
  std::abort();
}

using dkg_fuzz::Harness;

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
  // The input's format is in protocol/private/dkg_session_fuzz_input.hpp.
  dkg_fuzz::for_each_entry(
      h, ByteSpan(data, size), s.session_id(), [&](LedgerTime now, const Bytes& entry) {
        s.advance(now);
        const Bytes before = s.encode_state();
        if (!s.apply(entry, now).is_ok() && s.encode_state() != before)
          die("a refused entry changed the state");
        Result<DkgSession> restored = DkgSession::decode_state(s.encode_state());
        if (!restored || restored->encode_state() != s.encode_state())
          die("the state does not restore");
      });
  return 0;
}

#ifdef PFEX_FUZZ_WRITE_SEEDS
// Built without libFuzzer, from the repository's root after a release build:
//   g++ -std=c++20 -O1 -DPFEX_FUZZ_WRITE_SEEDS -Isrc fuzz/dkg_session_fuzz.cpp \
//     build/release/src/protocol/private/libpfex_private.a
//     build/release/src/crypto/libpfex_crypto.a \ build/release/src/core/libpfex_core.a -lsodium -o
//     /tmp/dkg_seeds && /tmp/dkg_seeds fuzz/corpus/pfex_fuzz_dkg_session
#include <fstream>
#include <string>

namespace {

// The input format above, one chunk at a time.
struct SeedWriter {
  Bytes out;
  void chunk(std::uint8_t mode, std::uint8_t step, ByteSpan body) {
    out.push_back(mode);
    out.push_back(step);
    out.push_back(static_cast<std::uint8_t>(body.size()));
    out.push_back(static_cast<std::uint8_t>(body.size() >> 8));
    out.insert(out.end(), body.begin(), body.end());
  }
  // Validator j's entry of `kind`: mode = 4 * (3 + kind) + j - 1 (never 0, the raw mode).
  void signed_chunk(DkgEntryKind kind, std::uint32_t j, std::uint8_t step, ByteSpan body) {
    chunk(static_cast<std::uint8_t>(4 * (3 + static_cast<int>(kind)) + j - 1), step, body);
  }
  // A raw chunk that only moves the clock (refused: empty).
  void wait(std::uint8_t step) { chunk(0, step, {}); }
};

// Every validator deals; dealer `bad` (0: none) garbles its share to validator `victim`, who
// complains; the dealer justifies if `justify`. Then the clock runs past every window.
Bytes key_generation(const Harness& h, std::uint32_t bad, std::uint32_t victim, bool justify) {
  DkgSession s = DkgSession::open(Digest32{}, h.genesis, LedgerTime(0)).value();
  SeedWriter w;
  std::vector<crypto::Dealer> dealers;
  for (std::uint32_t i = 1; i <= 4; ++i) {
    dealers.push_back(crypto::Dealer::create(s.params(), i).value());
    crypto::DealerMessage m = dealers.back().deal();
    if (i == bad) m.encrypted_shares[victim - 1][7] ^= 1;
    w.signed_chunk(DkgEntryKind::kDealing, i, 1, m.encode());
    (void)s.apply(
        sign_dkg_entry(h.keys[i - 1], s.session_id(), DkgEntryKind::kDealing, i, m.encode()),
        LedgerTime(10 * std::int64_t{i}));
  }
  w.wait(100);  // 1,040 ms: the dealing window (1,000 ms) has closed
  s.advance(LedgerTime(1040));
  if (bad != 0) {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(static_cast<std::uint8_t>(0x80 + victim));
    for (const crypto::Complaint& c :
         s.dkg().complaints_for(victim, crypto::X25519SecretKey::from_bytes(seed))) {
      w.signed_chunk(DkgEntryKind::kComplaint, victim, 1, c.encode());
    }
    w.wait(100);  // 2,060 ms: the complaint window has closed
    if (justify) {
      w.signed_chunk(DkgEntryKind::kJustification, bad, 1,
                     dealers[bad - 1].justify(victim).value().encode());
    }
  }
  w.wait(255);
  w.wait(255);  // past every window: the key is fixed (or the generation failed)
  return w.out;
}

void write_seed(const std::string& dir, const std::string& name, const Bytes& bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  ensure_sodium_init();
  const Harness h;
  write_seed(argv[1], "honest", key_generation(h, 0, 0, false));
  write_seed(argv[1], "complaint-justified", key_generation(h, 2, 3, true));
  write_seed(argv[1], "complaint-unanswered", key_generation(h, 2, 3, false));
  return 0;
}
#endif
