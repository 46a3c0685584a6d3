// libFuzzer target for the validator: arbitrary log entries, and arbitrary actions signed by the
// harness's own keys (so the fuzzer also gets past the signature check). Checks that decoding is
// canonical, that a rejected entry changes nothing but the chain and counters, and that a snapshot
// restores to the same chain and state. Built when PFEX_FUZZ=ON (see src/protocol/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "protocol/action_codec.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/test_util.hpp"

namespace {

using namespace pfex;
using namespace pfex::protocol;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "validator_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Fixed keys so a crashing input reproduces.
  static testing::TestMarket* market = [] {
    auto* m = new testing::TestMarket();
    return m;
  }();
  std::array<std::uint8_t, kSeedBytes> seed{};
  seed.fill(7);
  static const SigningKey traders[2] = {SigningKey::from_seed(seed), SigningKey::from_seed([] {
                                          std::array<std::uint8_t, kSeedBytes> s{};
                                          s.fill(9);
                                          return s;
                                        }())};
  LedgerReplica v;
  std::uint64_t seq = 0;
  auto next = [&](Bytes payload) {
    ++seq;
    return LedgerEntry{seq, LedgerTime(1'000'000 + static_cast<std::int64_t>(seq)),
                       std::move(payload)};
  };
  if (!v.apply(next(market->genesis)).is_ok()) die("genesis");
  std::uint64_t signer_seq[2] = {0, 0};

  // Input: a sequence of chunks `mode:u8 len:u8 bytes[len]`.
  std::size_t pos = 0;
  while (pos + 2 <= size) {
    const std::uint8_t mode = data[pos];
    const std::size_t len = std::min<std::size_t>(data[pos + 1], size - pos - 2);
    const ByteSpan chunk(data + pos + 2, len);
    pos += 2 + len;
    Bytes payload;
    if (mode % 2 == 0) {
      payload.assign(chunk.begin(), chunk.end());  // a raw entry
      if (auto e = decode_entry(payload)) {
        if (encode_entry(*e) != payload) die("decoding is not canonical");
      }
    } else {  // an action signed by trader mode/2 % 2, if it decodes
      auto action = decode_action(chunk);
      if (!action) continue;
      const std::size_t who = (mode / 2) % 2;
      payload = sign_transparent(traders[who], market->id, ++signer_seq[who], *action);
    }
    const Digest32 before = v.state_hash();
    auto out = v.apply(next(std::move(payload)));
    if (!out) die("apply failed");
    if (!out->accepted && v.state_hash() != before) {
      // An exchange rejection may still process deadlines up to the entry's time; a protocol
      // rejection (before apply_action) must change nothing.
      if (out->reason.code() == ErrorCode::kAlreadyExists ||
          out->reason.message() == "bad signature") {
        die("a rejected entry changed the state");
      }
    }
  }
  const Bytes snap = v.snapshot();
  auto back = LedgerReplica::restore(snap);
  if (!back) die("snapshot does not restore");
  if (back->chain() != v.chain() || back->state_hash() != v.state_hash()) die("restore differs");
  return 0;
}
