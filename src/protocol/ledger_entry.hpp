// What the validator reads: one entry of the ordered log (its position, the time the appender
// stamped on it, its bytes) and the ledger clock those times drive. The protocol owns these types
// so that it depends on no log implementation; a log (src/ledger) is adapted to them where it is
// read (src/node/log_adapter.hpp). Ledger time is specified in docs/protocol/validator.md.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "core/units.hpp"

namespace pfex::protocol {

struct LedgerEntry {
  std::uint64_t sequence = 0;  // position in the log, from 1, strictly increasing
  LedgerTime entry_time;       // the appender's clock when it appended the entry
  Bytes payload;               // the entry envelope (transaction.hpp)
};

// Reads up to `max` entries of the log from position `first` on (fewer, or none, past its end):
// a log reader adapted to the protocol's types (src/node/log_adapter.hpp), for what must look at
// the log itself, such as a snapshot's anchor.
using LedgerEntryReader =
    std::function<Result<std::vector<LedgerEntry>>(std::uint64_t first, std::size_t max)>;

// Ledger time never runs backwards: each entry's ledger time is the largest entry time seen so
// far. Deterministic: every replica that reads the same log gets the same times.
class LedgerClock {
 public:
  // Starts at `start` (the ledger time of the last entry before the first one observed, e.g.
  // from a snapshot; 0 at the start of the log).
  explicit LedgerClock(LedgerTime start = LedgerTime{0}) : now_(start) {}

  // Ledger time of the next entry, given its entry time.
  LedgerTime observe(LedgerTime entry_time) {
    if (entry_time > now_) now_ = entry_time;
    return now_;
  }
  LedgerTime now() const { return now_; }

 private:
  LedgerTime now_;
};

}  // namespace pfex::protocol
