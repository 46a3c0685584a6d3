// Validator snapshots on disk: one file per snapshot, "snapshot-<log position>.pfxs", written
// atomically (temp file, fsync, rename, fsync of the directory) so a crash leaves either the old
// set of snapshots or the new one, never a half-written file under a snapshot name. The bytes are
// Validator::snapshot() (docs/protocol/validator.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/codec.hpp"
#include "core/file.hpp"
#include "core/status.hpp"
#include "protocol/validator.hpp"

namespace pfex::protocol {

// Moved to core/file.hpp; kept here by name for the protocol's callers.
using ::pfex::read_whole_file;
using ::pfex::write_file_atomically;

class SnapshotStore {
 public:
  // `dir` is created if missing. Keeps the newest `keep` snapshots (at least 1).
  static Result<SnapshotStore> open(std::string dir, std::size_t keep = 2);

  // Writes the validator's snapshot and removes snapshots beyond `keep`.
  Status save(const Validator& validator);
  // The validator of the newest snapshot that restores, or nullopt when there is none. A newer
  // snapshot that fails to restore is skipped (and reported through `skipped`), never deleted.
  Result<std::optional<Validator>> load_latest(std::string* skipped = nullptr) const;

  const std::string& dir() const { return dir_; }

 private:
  explicit SnapshotStore(std::string dir, std::size_t keep) : dir_(std::move(dir)), keep_(keep) {}
  Result<std::vector<std::pair<std::uint64_t, std::string>>> list() const;
  std::string dir_;
  std::size_t keep_;
};

}  // namespace pfex::protocol
