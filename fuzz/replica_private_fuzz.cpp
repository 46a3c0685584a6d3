// libFuzzer target for the LedgerReplica on a private market (docs/protocol/validator.md,
// "Private transactions"): arbitrary log entries after a fixed private genesis. Checks that
// decoding is canonical, that a rejected entry changes no state, that a replica applying the
// same entries in one batch on two threads ends on the same outcomes, chain and state hash, and
// that a snapshot restores to the same chain and state. Input: chunks `length:u16 payload`
// (src/protocol/private_test_util.hpp); the seeds (fuzz/corpus/pfex_fuzz_replica_private) are
// valid logs written by the protocol's tests: "log" (every transaction type), its first four
// entries (registrations and mints) and those four followed by one later entry of each type
// ("then-post", ...), which the rules mostly refuse before any proof.
// Inputs longer than kMaxInputBytes are skipped: every spend's proofs are verified twice here (in
// order, then in a batch), about a second each under the fuzz build's sanitizers, so the whole
// "log" seed alone would take the CI's 10-second run; the short seeds keep it on the decoders and
// the rules (several hundred inputs a run). "log" stays for the replay test and longer runs with
// a larger limit (PFEX_FUZZ_REPLICA_MAX_BYTES).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "protocol/ledger_replica.hpp"
#include "protocol/private_test_util.hpp"

namespace {

using namespace pfex;
using namespace pfex::protocol;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "replica_private_fuzz: %s\n", what);
  std::abort();
}

constexpr std::size_t kMaxInputBytes = 8192;

std::size_t max_input_bytes() {
  const char* v = std::getenv("PFEX_FUZZ_REPLICA_MAX_BYTES");
  return v != nullptr ? std::strtoull(v, nullptr, 10) : kMaxInputBytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::size_t max_bytes = max_input_bytes();
  if (size > max_bytes) return 0;
  static const auto gens = std::make_shared<const priv::PrivateGens>();
  static const Bytes genesis =
      encode_entry(testing::private_genesis(testing::fixed_issuer().public_key()));

  std::vector<LedgerEntry> entries = {LedgerEntry{1, LedgerTime(1'000'001), genesis}};
  for (Bytes& p : testing::split_chunks(ByteSpan(data, size))) {
    const std::uint64_t seq = entries.size() + 1;
    entries.push_back(
        LedgerEntry{seq, LedgerTime(1'000'000 + static_cast<std::int64_t>(seq)), std::move(p)});
  }

  LedgerReplica one(gens);
  std::vector<EntryOutcome> outcomes;
  for (const LedgerEntry& e : entries) {
    const MarketContext context =
        one.private_ledger()
            ? MarketContext{Mode::kPrivate, one.private_ledger()->terms().log_window}
            : MarketContext{};
    if (auto decoded = decode_entry(e.payload, context)) {
      if (encode_entry(*decoded) != e.payload) die("decoding is not canonical");
    }
    const Digest32 before = one.state_hash();
    auto out = one.apply(e);
    if (!out) die("apply failed");
    if (!out->accepted && one.state_hash() != before) die("a rejected entry changed the state");
    outcomes.push_back(std::move(out).value());
  }
  if (one.mode() != Mode::kPrivate) die("the genesis did not open a private market");

  LedgerReplica batched(gens);
  auto outs = batched.apply_batch(entries, 2);
  if (!outs) die("apply_batch failed");
  for (std::size_t i = 0; i < outs->size(); ++i) {
    if ((*outs)[i].accepted != outcomes[i].accepted ||
        (*outs)[i].reason.to_string() != outcomes[i].reason.to_string()) {
      die("a batch decided an entry differently");
    }
  }
  if (batched.chain() != one.chain() || batched.state_hash() != one.state_hash()) {
    die("a batch ended on another chain or state");
  }

  const Bytes snap = one.snapshot();
  auto back = LedgerReplica::restore(snap, gens);
  if (!back) die("snapshot does not restore");
  if (back->chain() != one.chain() || back->state_hash() != one.state_hash())
    die("restore differs");
  if (back->snapshot() != snap) die("snapshot is not canonical");
  return 0;
}
