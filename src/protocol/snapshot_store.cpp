// LedgerReplica snapshots on disk; see snapshot_store.hpp.
#include "protocol/snapshot_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/file.hpp"

namespace pfex::protocol {
namespace {

constexpr std::string_view kPrefix = "snapshot-";
constexpr std::string_view kSuffix = ".pfxs";
constexpr std::string_view kTmpSuffix = ".tmp";

// snapshot_file := "pfxsnap" version:u8 position:u64 anchored:u8 anchor:32 validator_snapshot
//                  file_sum:32
// file_sum = BLAKE2b("pfex/v1/snapshot-file", everything before it); anchor = entry_digest of the
// log entry at `position` when anchored = 1 (zeros otherwise).
constexpr std::array<std::uint8_t, 8> kFileMagic = {'p', 'f', 'x', 's', 'n', 'a', 'p', 1};
constexpr std::string_view kFileDomain = "pfex/v1/snapshot-file";
constexpr std::string_view kEntryDomain = "pfex/v1/snapshot-anchor";

struct SnapshotFile {
  std::uint64_t position = 0;
  std::optional<Digest32> anchor;
  ByteSpan validator;
};

Bytes encode_file(std::uint64_t position, const std::optional<Digest32>& anchor,
                  ByteSpan validator) {
  Bytes out;
  Writer w(&out);
  w.fixed(kFileMagic);
  w.u64(position);
  w.boolean(anchor.has_value());
  w.fixed(anchor.value_or(Digest32{}));
  w.fixed(validator);
  Hasher h(kFileDomain);
  h.update(out);
  w.fixed(h.finish());
  return out;
}

Result<SnapshotFile> decode_file(ByteSpan bytes) {
  constexpr std::size_t kHead = 8 + 8 + 1 + 32;
  if (bytes.size() < kHead + 32 ||
      !std::equal(kFileMagic.begin(), kFileMagic.end() - 1, bytes.begin())) {
    return Status::corruption(
        "not a snapshot file of this version (no log anchor; written by an "
        "older pfex?)");
  }
  if (bytes[7] != kFileMagic[7]) {
    return Status::corruption("snapshot file version " + std::to_string(bytes[7]) +
                              "; this build reads version " + std::to_string(kFileMagic[7]));
  }
  const ByteSpan body = bytes.first(bytes.size() - 32);
  Hasher h(kFileDomain);
  h.update(body);
  const Digest32 sum = h.finish();
  if (!std::equal(sum.begin(), sum.end(), bytes.end() - 32)) {
    return Status::corruption("snapshot file checksum mismatch (damaged file)");
  }
  Reader r(body.first(kHead));
  std::array<std::uint8_t, 8> magic{};
  r.fixed("magic", magic);
  SnapshotFile file;
  file.position = r.u64("position");
  const bool anchored = r.boolean("anchored");
  Digest32 anchor{};
  r.fixed("anchor", anchor);
  PFEX_RETURN_IF_ERROR(r.finish());
  if (anchored) file.anchor = anchor;
  file.validator = body.subspan(kHead);
  return file;
}

}  // namespace

Result<SnapshotSchedule> SnapshotSchedule::every(std::uint64_t every) {
  if (every == 0) return Status::invalid_argument("snapshots every 0 entries: must be at least 1");
  return SnapshotSchedule(every);
}

std::size_t SnapshotSchedule::batch_limit(std::uint64_t position, std::size_t max_entries) const {
  const std::uint64_t to_next = every_ - position % every_;
  return static_cast<std::size_t>(std::min<std::uint64_t>(to_next, max_entries));
}

bool SnapshotSchedule::due(std::uint64_t before, std::uint64_t after) const {
  return after / every_ > before / every_;
}

Digest32 entry_digest(const LedgerEntry& entry) {
  Bytes head;
  Writer w(&head);
  w.u64(entry.sequence);
  w.i64(entry.entry_time.value());
  w.u64(entry.payload.size());
  Hasher h(kEntryDomain);
  h.update(head);
  h.update(entry.payload);
  return h.finish();
}

Result<SnapshotStore> SnapshotStore::open(std::string dir, std::size_t keep) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error("create directory " + dir + ": " + ec.message());
  // A crash between creating a snapshot's temp file and renaming it leaves the temp file: it was
  // never a snapshot, and the next save of that position would truncate it anyway.
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(kPrefix) &&
        name.ends_with(std::string(kSuffix) + std::string(kTmpSuffix))) {
      std::filesystem::remove(e.path(), ec);
      if (ec) return Status::io_error("remove " + e.path().string() + ": " + ec.message());
    }
  }
  if (ec) return Status::io_error("list " + dir + ": " + ec.message());
  return SnapshotStore(std::move(dir), std::max<std::size_t>(1, keep));
}

Result<std::vector<std::pair<std::uint64_t, std::string>>> SnapshotStore::list() const {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() != kPrefix.size() + 20 + kSuffix.size() || !name.starts_with(kPrefix) ||
        !name.ends_with(kSuffix)) {
      continue;
    }
    const std::string digits = name.substr(kPrefix.size(), 20);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    out.emplace_back(std::stoull(digits), e.path().string());
  }
  if (ec) return Status::io_error("list " + dir_ + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Status SnapshotStore::save(const LedgerReplica& validator, const LedgerEntryReader& log) {
  const std::uint64_t position = validator.next_sequence() - 1;
  if (position == 0) return save(validator, std::nullopt);
  PFEX_ASSIGN_OR_RETURN(auto entries, log(position, 1));
  if (entries.empty() || entries.front().sequence != position) {
    return Status::failed_precondition("cannot snapshot at log entry " + std::to_string(position) +
                                       ": the log does not hold that entry");
  }
  return save(validator, entry_digest(entries.front()));
}

Status SnapshotStore::save(const LedgerReplica& validator) {
  return save(validator, std::nullopt);
}

Status SnapshotStore::save(const LedgerReplica& validator, const std::optional<Digest32>& anchor) {
  const std::uint64_t position = validator.next_sequence() - 1;
  char name[64];
  std::snprintf(name, sizeof name, "snapshot-%020llu.pfxs",
                static_cast<unsigned long long>(position));
  PFEX_RETURN_IF_ERROR(write_file_atomically(dir_ + "/" + name,
                                             encode_file(position, anchor, validator.snapshot())));
  PFEX_ASSIGN_OR_RETURN(auto files, list());
  while (files.size() > keep_) {
    std::error_code ec;
    std::filesystem::remove(files.front().second, ec);
    if (ec) return Status::io_error("remove " + files.front().second + ": " + ec.message());
    files.erase(files.begin());
  }
  return Status::ok();
}

Result<std::optional<LedgerReplica>> SnapshotStore::load_latest(std::string* skipped) {
  loaded_anchor_.reset();
  loaded_path_.clear();
  PFEX_ASSIGN_OR_RETURN(auto files, list());
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    Result<Bytes> bytes = read_whole_file(it->second);
    Status status = bytes.status();
    if (bytes) {
      Result<SnapshotFile> file = decode_file(*bytes);
      status = file.status();
      if (file) {
        Result<LedgerReplica> v = LedgerReplica::restore(file->validator);
        status = v.status();
        if (v && (v->next_sequence() - 1 != file->position || file->position != it->first)) {
          status = Status::corruption(
              "snapshot file names log entry " + std::to_string(file->position) +
              " but holds a validator at " + std::to_string(v->next_sequence() - 1));
        } else if (v) {
          loaded_anchor_ = file->anchor;
          loaded_path_ = it->second;
          return std::optional<LedgerReplica>(std::move(v).value());
        }
      }
    }
    if (skipped) *skipped += it->second + ": " + status.to_string() + "\n";
  }
  return std::optional<LedgerReplica>();
}

Status SnapshotStore::check_log(const LedgerReplica& restored, const LedgerEntryReader& log) const {
  const std::uint64_t position = restored.next_sequence() - 1;
  if (position == 0) return Status::ok();
  auto refuse = [&](const std::string& what) {
    return Status::corruption("snapshot " +
                              (loaded_path_.empty() ? std::string("(in memory)") : loaded_path_) +
                              " at log entry " + std::to_string(position) + " (chain " +
                              to_hex(restored.chain()) + ") does not match the log: " + what +
                              "; refusing to continue from it (move the snapshot away to replay "
                              "the log from the start)");
  };
  Result<std::vector<LedgerEntry>> entries = log(position, 1);
  if (!entries) {
    // Pruned below the floor: every validator's snapshot covers it, nothing left to compare.
    if (entries.status().code() == ErrorCode::kFailedPrecondition) return Status::ok();
    return entries.status().with_context("checking the snapshot against the log");
  }
  if (entries->empty()) return refuse("the log has no entry " + std::to_string(position));
  if (entries->front().sequence != position) {
    return refuse("the log has no entry " + std::to_string(position) + " (the next is " +
                  std::to_string(entries->front().sequence) + ")");
  }
  if (loaded_anchor_ && entry_digest(entries->front()) != *loaded_anchor_) {
    return refuse("the log's entry " + std::to_string(position) +
                  " is not the one the snapshot applied (the log was cut and refilled, "
                  "replaced, or is another market's)");
  }
  return Status::ok();
}

}  // namespace pfex::protocol
