// The Log: the ordered, replicated sequence of transaction bytes that every validator replays.
// Its role is described in docs/design.md section 7; the two implementations are FileLog (embedded,
// docs/ledger/file-log-format.md) and EtcdLog (distributed, docs/ledger/etcd.md).
//
// A Log orders opaque byte strings and stamps each with the appender's clock. It knows nothing of
// transactions: validity is the validators' business, and invalid entries stay in the log and are
// skipped identically by every replica.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stop_token>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "core/units.hpp"

namespace pfex::ledger {

// Largest payload either log accepts. It keeps one FileLog record and one etcd request (payload,
// base64 and JSON around it) under etcd's default 1.5 MiB request limit.
inline constexpr std::size_t kMaxEntryBytes = std::size_t{1} << 20;

// One entry as stored. `sequence` starts at 1 and strictly increases along the log; it is dense
// for FileLog and may have gaps for EtcdLog (see docs/ledger/etcd.md). `entry_time` is the
// appender's clock at append, in milliseconds since the Unix epoch: NOT yet ledger time, which a
// reader derives (protocol::LedgerClock).
struct LogEntry {
  std::uint64_t sequence = 0;
  LedgerTime entry_time;
  Bytes payload;
};

struct Appended {
  std::uint64_t sequence = 0;
  LedgerTime entry_time;
};

// The reading side of a log: what validators and trader nodes need. FileLogReader (a FileLog
// written by another process) implements only this.
class LogReader {
 public:
  LogReader() = default;
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;
  virtual ~LogReader() = default;

  // Up to `max_entries` entries with sequence >= `from`, in sequence order; empty when there are
  // none yet. Never returns an entry that failed its integrity check (that is an error instead),
  // and only returns durable entries.
  virtual Result<std::vector<LogEntry>> read(std::uint64_t from, std::size_t max_entries) = 0;

  // Like read, but when there is no entry at or after `from` yet, blocks until one arrives, the
  // timeout passes or `stop` is requested; returns an empty vector in the last two cases.
  virtual Result<std::vector<LogEntry>> follow(std::uint64_t from, std::size_t max_entries,
                                               std::chrono::milliseconds timeout,
                                               std::stop_token stop = {}) = 0;
};

class Log : public LogReader {
 public:
  // Appends `payload` (at most kMaxEntryBytes) and returns its place once it is durable: an
  // acknowledged append survives a crash of the appender (FileLog: fsync; EtcdLog: Raft quorum,
  // which fsyncs). Thread-safe. An error means the entry may or may not be in the log; EtcdLog
  // appends are idempotent (retrying the same bytes returns the first entry), FileLog appends are
  // not retried over a network and are not deduplicated.
  virtual Result<Appended> append(ByteSpan payload) = 0;
};

// Milliseconds since the Unix epoch on this machine's clock: what an appender stamps.
LedgerTime system_clock_now();

}  // namespace pfex::ledger
