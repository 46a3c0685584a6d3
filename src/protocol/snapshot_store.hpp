// LedgerReplica snapshots on disk: one file per snapshot, "snapshot-<log position>.pfxs", written
// atomically (temp file, fsync, rename, fsync of the directory) so a crash leaves either the old
// set of snapshots or the new one, never a half-written file under a snapshot name; a leftover
// temp file is removed when the store is opened. A file holds LedgerReplica::snapshot() and an
// anchor (a digest of the log entry the snapshot was taken after), so a validator restored from it
// can check that the log it follows is the log it snapshotted (docs/protocol/validator.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/codec.hpp"
#include "core/hash.hpp"
#include "core/status.hpp"
#include "protocol/ledger_entry.hpp"
#include "protocol/ledger_replica.hpp"

namespace pfex::protocol {

// When a following validator snapshots: at every log position that is a multiple of `every`
// (and, on logs with gaps, at the first position past each multiple).
class SnapshotSchedule {
 public:
  // `every` must be at least 1.
  static Result<SnapshotSchedule> every(std::uint64_t every);
  // How many entries to read after `position` (the last applied) so that a batch of a dense log
  // ends on the next multiple: min(max_entries, entries up to that multiple).
  std::size_t batch_limit(std::uint64_t position, std::size_t max_entries) const;
  // Whether applying the entries after `before` up to `after` reached or passed a multiple.
  bool due(std::uint64_t before, std::uint64_t after) const;

 private:
  explicit SnapshotSchedule(std::uint64_t every) : every_(every) {}
  std::uint64_t every_;
};

// The digest of one log entry (sequence, entry time, payload) that anchors a snapshot.
Digest32 entry_digest(const LedgerEntry& entry);

class SnapshotStore {
 public:
  // `dir` is created if missing; snapshot temp files a crash left behind are removed (one
  // validator per directory). Keeps the newest `keep` snapshots (at least 1).
  static Result<SnapshotStore> open(std::string dir, std::size_t keep = 2);

  // Writes the validator's snapshot, anchored to the log entry at its position (read from
  // `log`), and removes snapshots beyond `keep`.
  Status save(const LedgerReplica& validator, const LedgerEntryReader& log);
  // The same without an anchor: a restored validator can then only check that the log reaches
  // its position. For tests and tools that have no log.
  Status save(const LedgerReplica& validator);
  // The validator of the newest snapshot that restores, or nullopt when there is none. A newer
  // snapshot that fails to restore is skipped (and reported through `skipped`), never deleted.
  // Remembers the loaded snapshot's anchor for check_log.
  Result<std::optional<LedgerReplica>> load_latest(std::string* skipped = nullptr);

  // Refuses (Status::corruption, naming the position, the snapshot's chain hash and what the log
  // holds) a validator restored by load_latest when the log it is about to follow does not hold,
  // at the snapshot's position, the entry the snapshot was taken after: the log was cut and
  // refilled, replaced, or is another market's. Following it would report a chain and state that
  // no replica replaying the log from the start can reproduce. An entry the log has pruned
  // (failed_precondition from the reader) cannot be checked and is accepted.
  Status check_log(const LedgerReplica& restored, const LedgerEntryReader& log) const;

  const std::string& dir() const { return dir_; }

 private:
  explicit SnapshotStore(std::string dir, std::size_t keep) : dir_(std::move(dir)), keep_(keep) {}
  Result<std::vector<std::pair<std::uint64_t, std::string>>> list() const;
  Status save(const LedgerReplica& validator, const std::optional<Digest32>& anchor);
  std::string dir_;
  std::size_t keep_;
  std::optional<Digest32> loaded_anchor_;  // of the snapshot load_latest returned, if anchored
  std::string loaded_path_;
};

}  // namespace pfex::protocol
