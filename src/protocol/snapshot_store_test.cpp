// Tests of SnapshotStore and SnapshotSchedule (snapshot_store.hpp): the snapshot schedule's
// multiples, leftover temp files, and the check of a restored snapshot against the log it follows.
#include "protocol/snapshot_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/file.hpp"
#include "ledger/file_log.hpp"
#include "ledger/test_util.hpp"

namespace pfex::protocol {
namespace {

using ledger::testing::TempDir;

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// A file log of `n` entries whose payloads (not transactions: the validator rejects them, which
// still moves its position and chain) start with `tag`, all stamped at the same time, so that
// logs built alike are identical.
std::unique_ptr<ledger::FileLog> log_of(const std::string& path, std::uint64_t n,
                                        std::uint8_t tag) {
  ledger::FileLogOptions options;
  options.clock = [] { return LedgerTime(1'000'000); };
  auto log = ledger::FileLog::open(path, options);
  EXPECT_TRUE(log.is_ok()) << log.status().to_string();
  if (!log.is_ok()) return nullptr;
  for (std::uint64_t i = 0; i < n; ++i) {
    Bytes payload{tag, static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8)};
    EXPECT_TRUE((*log)->append(payload).is_ok());
  }
  return std::move(log).value();
}

// The protocol's view of a ledger reader (what src/node/log_adapter.hpp gives the services).
LedgerEntryReader entries_of(ledger::LogReader& log) {
  return [&log](std::uint64_t first, std::size_t max) -> Result<std::vector<LedgerEntry>> {
    PFEX_ASSIGN_OR_RETURN(auto entries, log.read(first, max));
    std::vector<LedgerEntry> out;
    out.reserve(entries.size());
    for (ledger::LogEntry& e : entries)
      out.push_back(LedgerEntry{e.sequence, e.entry_time, std::move(e.payload)});
    return out;
  };
}

void replay(ledger::LogReader& log, LedgerReplica& v, std::uint64_t up_to) {
  while (v.next_sequence() <= up_to) {
    auto batch = entries_of(log)(v.next_sequence(), up_to + 1 - v.next_sequence());
    ASSERT_TRUE(batch.is_ok()) << batch.status().to_string();
    ASSERT_FALSE(batch->empty());
    ASSERT_TRUE(v.apply_batch(*batch).is_ok());
  }
}

TEST(SnapshotSchedule, BatchesEndOnEveryMultiple) {
  EXPECT_FALSE(SnapshotSchedule::every(0).is_ok());
  auto s = SnapshotSchedule::every(500);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->batch_limit(0, 4096), 500u);
  EXPECT_EQ(s->batch_limit(1, 4096), 499u);
  EXPECT_EQ(s->batch_limit(499, 4096), 1u);
  EXPECT_EQ(s->batch_limit(500, 4096), 500u);
  EXPECT_EQ(s->batch_limit(501, 4096), 499u);
  EXPECT_EQ(s->batch_limit(0, 100), 100u);
  EXPECT_FALSE(s->due(0, 499));
  EXPECT_TRUE(s->due(0, 500));
  EXPECT_TRUE(s->due(499, 500));
  EXPECT_FALSE(s->due(500, 501));
  EXPECT_FALSE(s->due(500, 999));
  EXPECT_TRUE(s->due(999, 1000));
  EXPECT_TRUE(s->due(498, 503));  // a log with gaps skipped 500 itself
  auto one = SnapshotSchedule::every(1);
  ASSERT_TRUE(one.is_ok());
  EXPECT_EQ(one->batch_limit(7, 4096), 1u);
  EXPECT_TRUE(one->due(7, 8));
  auto large = SnapshotSchedule::every(10'000);
  ASSERT_TRUE(large.is_ok());
  EXPECT_EQ(large->batch_limit(0, 4096), 4096u);
  EXPECT_EQ(large->batch_limit(8192, 4096), 1808u);
}

// A crash between creating a snapshot's temp file and renaming it leaves the temp file: opening
// the store removes it, and it is never loaded.
TEST(SnapshotStore, LeftoverTempFilesAreRemovedAndNeverLoaded) {
  TempDir dir;
  const std::string snaps = dir.file("snaps");
  auto log = log_of(dir.file("log"), 10, 1);
  ASSERT_TRUE(log);
  LedgerReplica v;
  replay(*log, v, 5);
  {
    auto store = SnapshotStore::open(snaps);
    ASSERT_TRUE(store.is_ok());
    ASSERT_TRUE(store->save(v, entries_of(*log)).is_ok());
  }
  const std::string tmp = snaps + "/snapshot-00000000000000000010.pfxs.tmp";
  std::ofstream(tmp) << "half a snapshot";
  const std::string other = snaps + "/notes.tmp";  // not the store's: left alone
  std::ofstream(other) << "x";
  auto store = SnapshotStore::open(snaps);
  ASSERT_TRUE(store.is_ok());
  EXPECT_FALSE(std::filesystem::exists(tmp));
  EXPECT_TRUE(std::filesystem::exists(other));
  std::string skipped;
  auto loaded = store->load_latest(&skipped);
  ASSERT_TRUE(loaded.is_ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->next_sequence(), 6u);
  EXPECT_TRUE(skipped.empty()) << skipped;
}

// The defect this guards against: a log cut below a validator's snapshot and refilled with new
// entries. The restored validator must refuse to follow it, naming the position and its chain,
// while the same snapshot checks out against the log it was taken from.
TEST(SnapshotStore, RestoredSnapshotIsCheckedAgainstTheLog) {
  TempDir dir;
  auto original = log_of(dir.file("original"), 40, 1);
  ASSERT_TRUE(original);
  LedgerReplica v;
  replay(*original, v, 30);
  auto store = SnapshotStore::open(dir.file("snaps"));
  ASSERT_TRUE(store.is_ok());
  ASSERT_TRUE(store->save(v, entries_of(*original)).is_ok());

  auto loaded = store->load_latest();
  ASSERT_TRUE(loaded.is_ok());
  ASSERT_TRUE(loaded->has_value());
  const LedgerReplica& restored = **loaded;
  EXPECT_TRUE(store->check_log(restored, entries_of(*original)).is_ok());

  auto shorter = log_of(dir.file("shorter"), 29, 1);  // the same entries, cut before 30
  ASSERT_TRUE(shorter);
  Status cut = store->check_log(restored, entries_of(*shorter));
  EXPECT_EQ(cut.code(), ErrorCode::kCorruption);
  EXPECT_TRUE(contains(cut.message(), "no entry 30")) << cut.to_string();
  EXPECT_TRUE(contains(cut.message(), to_hex(restored.chain()))) << cut.to_string();

  auto refilled = log_of(dir.file("refilled"), 40, 2);  // cut at 22, say, and refilled
  ASSERT_TRUE(refilled);
  Status rewritten = store->check_log(restored, entries_of(*refilled));
  EXPECT_EQ(rewritten.code(), ErrorCode::kCorruption);
  EXPECT_TRUE(contains(rewritten.message(), "entry 30 is not the one")) << rewritten.to_string();

  // limit - 1 (above), limit, limit + 1: a log of 29, 30 and 31 entries of the original.
  auto exact = log_of(dir.file("exact"), 30, 1);
  auto longer = log_of(dir.file("longer"), 31, 1);
  ASSERT_TRUE(exact && longer);
  EXPECT_TRUE(store->check_log(restored, entries_of(*exact)).is_ok());
  EXPECT_TRUE(store->check_log(restored, entries_of(*longer)).is_ok());
}

// Snapshot files of the format before the log anchor, and damaged ones, are skipped by name.
TEST(SnapshotStore, UnanchoredOrDamagedFilesAreSkippedWithTheReason) {
  TempDir dir;
  auto log = log_of(dir.file("log"), 20, 1);
  ASSERT_TRUE(log);
  LedgerReplica v;
  replay(*log, v, 10);
  auto store = SnapshotStore::open(dir.file("snaps"), 5);
  ASSERT_TRUE(store.is_ok());
  ASSERT_TRUE(store->save(v, entries_of(*log)).is_ok());
  replay(*log, v, 15);
  ASSERT_TRUE(write_file_atomically(dir.file("snaps") + "/snapshot-00000000000000000015.pfxs",
                                    v.snapshot())
                  .is_ok());  // the old layout: the validator's bytes alone
  std::string skipped;
  auto loaded = store->load_latest(&skipped);
  ASSERT_TRUE(loaded.is_ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->next_sequence(), 11u);
  EXPECT_TRUE(contains(skipped, "no log anchor")) << skipped;
}

}  // namespace
}  // namespace pfex::protocol
