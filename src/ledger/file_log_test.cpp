// Tests of FileLog (file_log.hpp): round trip, reopen, torn tails at every byte offset, damaged
// middle records, group commit under concurrent appenders, kill -9 of a writer process, limits.
#include "ledger/file_log.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "ledger/crc32c.hpp"
#include "ledger/file_log_format.hpp"
#include "ledger/log_test_util.hpp"
#include "ledger/test_util.hpp"

namespace pfex::ledger {
namespace {

using testing::read_all;
using testing::TempDir;
using namespace std::chrono_literals;

// A payload that names itself: its first 8 bytes are `id`, the rest is derived from `id`, so a
// reader can tell a genuine entry from a damaged one without any other state.
Bytes payload_for(std::uint64_t id) {
  Bytes out;
  Writer w(&out);
  w.u64(id);
  const std::size_t extra = (id * 7919) % 700;
  for (std::size_t i = 0; i < extra; ++i)
    out.push_back(static_cast<std::uint8_t>(id + i * 31));
  return out;
}

std::uint64_t id_of(const Bytes& payload) {
  Reader r(payload);
  return r.u64("id");
}

std::unique_ptr<FileLog> open_ok(const std::string& path, FileLog::Options options = {}) {
  auto log = FileLog::open(path, std::move(options));
  EXPECT_TRUE(log.is_ok()) << log.status().to_string();
  return log.is_ok() ? std::move(log).value() : nullptr;
}

Bytes file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, ByteSpan bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// A new file name for each case of the exhaustive tests: rewriting one file with O_TRUNC makes
// ext4 flush it on close (auto_da_alloc), which costs seconds over a thousand cases on a busy disk.
std::string fresh_file(const TempDir& dir) {
  static int counter = 0;
  std::string name("case-");
  name.append(std::to_string(++counter));
  return dir.file(name);
}

TEST(FileLog, RoundTrip) {
  TempDir dir;
  std::int64_t fake_now = 1000;
  FileLog::Options options;
  options.clock = [&] { return LedgerTime{fake_now -= 3}; };  // a clock running backwards
  auto log = open_ok(dir.file("log"), options);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->last_sequence(), 0u);
  for (std::uint64_t i = 0; i < 100; ++i) {
    auto appended = log->append(payload_for(i));
    ASSERT_TRUE(appended.is_ok()) << appended.status().to_string();
    EXPECT_EQ(appended->sequence, i + 1);
  }
  Bytes empty;
  ASSERT_EQ(log->append(empty)->sequence, 101u);

  auto all = read_all(*log);
  ASSERT_EQ(all.size(), 101u);
  for (std::uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(all[i].sequence, i + 1);
    EXPECT_EQ(all[i].payload, payload_for(i));
    EXPECT_EQ(all[i].entry_time, LedgerTime{997});  // stamps never go backwards
  }
  EXPECT_TRUE(all[100].payload.empty());

  auto middle = log->read(50, 10);
  ASSERT_TRUE(middle.is_ok());
  ASSERT_EQ(middle->size(), 10u);
  EXPECT_EQ(middle->front().sequence, 50u);
  EXPECT_EQ(middle->back().payload, payload_for(58));
  EXPECT_TRUE(log->read(102, 10)->empty());
  EXPECT_TRUE(log->read(1, 0)->empty());
  EXPECT_EQ(log->read(0, 1)->front().sequence, 1u);  // sequences start at 1
}

TEST(FileLog, ReopenKeepsEntriesAndContinuesTheSequence) {
  TempDir dir;
  {
    auto log = open_ok(dir.file("log"));
    ASSERT_TRUE(log);
    for (std::uint64_t i = 0; i < 20; ++i)
      ASSERT_TRUE(log->append(payload_for(i)).is_ok());
  }
  auto log = open_ok(dir.file("log"));
  ASSERT_TRUE(log);
  EXPECT_EQ(log->recovery().entries, 20u);
  EXPECT_EQ(log->recovery().truncated_bytes, 0u);
  EXPECT_EQ(log->last_sequence(), 20u);
  auto appended = log->append(payload_for(20));
  ASSERT_TRUE(appended.is_ok());
  EXPECT_EQ(appended->sequence, 21u);
  auto all = read_all(*log);
  ASSERT_EQ(all.size(), 21u);
  for (std::uint64_t i = 0; i < 21; ++i)
    EXPECT_EQ(all[i].payload, payload_for(i));
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

TEST(FileLog, ClosingReleasesEveryDescriptor) {
  TempDir dir;
  { ASSERT_TRUE(open_ok(dir.file("log"))); }
  const std::size_t before = open_descriptors();
  for (int i = 0; i < 5; ++i) {
    auto log = open_ok(dir.file("log"));
    ASSERT_TRUE(log);
    ASSERT_TRUE(log->append(payload_for(1)).is_ok());
    auto reader = FileLogReader::open(dir.file("log"));
    ASSERT_TRUE(reader.is_ok());
    ASSERT_EQ((*reader)->read(1, 10)->size(), static_cast<std::size_t>(i + 1));
  }
  EXPECT_EQ(open_descriptors(), before);
}

TEST(FileLog, SecondWriterIsRefused) {
  TempDir dir;
  auto first = open_ok(dir.file("log"));
  ASSERT_TRUE(first);
  auto second = FileLog::open(dir.file("log"));
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kFailedPrecondition);
}

TEST(FileLog, NotALogIsRefused) {
  TempDir dir;
  const std::string text = "hello, this is not a log";
  write_file(dir.file("log"),
             ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  auto log = FileLog::open(dir.file("log"));
  ASSERT_FALSE(log.is_ok());
  EXPECT_EQ(log.status().code(), ErrorCode::kCorruption);
}

TEST(FileLog, OversizedEntryIsRejected) {
  TempDir dir;
  auto log = open_ok(dir.file("log"));
  ASSERT_TRUE(log);
  Bytes too_big(kMaxEntryBytes + 1, 0x5a);
  auto refused = log->append(too_big);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  Bytes largest(kMaxEntryBytes, 0x5a);
  auto accepted = log->append(largest);
  ASSERT_TRUE(accepted.is_ok());
  EXPECT_EQ(accepted->sequence, 1u);  // the refused one took no sequence
  EXPECT_EQ(read_all(*log).at(0).payload, largest);
}

Bytes synced_slot(std::uint64_t end, std::uint64_t sequence) {
  Bytes slot;
  Writer w(&slot);
  w.u64(end);
  w.u64(sequence);
  w.u32(crc32c(slot));
  return slot;
}

// Writes "<log>.synced" as docs/ledger/file-log-format.md specifies it: the writer acknowledged
// every record below `end`, the last of them being `sequence` (both slots say so).
void write_synced(const std::string& log_path, std::uint64_t end, std::uint64_t sequence) {
  Bytes synced(file_log_format::kSyncedMagic.begin(), file_log_format::kSyncedMagic.end());
  for (std::size_t i = 0; i < file_log_format::kSyncedSlotCount; ++i) {
    Bytes slot = synced_slot(end, sequence);
    synced.insert(synced.end(), slot.begin(), slot.end());
  }
  write_file(log_path + std::string(file_log_format::kSyncedSuffix), synced);
}

// Options that collect what recovery reports.
FileLog::Options collecting(std::vector<std::string>* messages) {
  FileLog::Options options;
  options.warn = [messages](const std::string& m) { messages->push_back(m); };
  return options;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Offset where record `sequence` (1-based) of a log built by log_with_entries starts.
std::size_t record_start(std::uint64_t sequence) {
  std::size_t at = file_log_format::kFileHeaderSize;
  for (std::uint64_t s = 1; s < sequence; ++s)
    at += file_log_format::kRecordHeaderSize + payload_for(s + 2).size();
  return at;
}

// Builds a log of `n` entries and returns its bytes and the offset where the last record starts.
std::pair<Bytes, std::size_t> log_with_entries(const TempDir& dir, std::uint64_t n) {
  const std::string path = dir.file("original");
  std::size_t last_start = 0;
  {
    auto log = open_ok(path);
    for (std::uint64_t i = 0; i < n; ++i) {
      if (i + 1 == n) last_start = std::filesystem::file_size(path);
      EXPECT_TRUE(log->append(payload_for(i + 3)).is_ok());
    }
  }
  return {file_bytes(path), last_start};
}

// A crash while the last batch is being written leaves any prefix of it on disk (or that prefix
// followed by zeros, when the file size was updated before the data); the batch was never
// acknowledged, so .synced ends before it. Every such file must open with the last record gone,
// every earlier one intact, the cut reported, and must accept new appends.
TEST(FileLog, TornUnacknowledgedLastRecordAtEveryByteOffsetIsTruncatedAndReported) {
  TempDir dir;
  auto [original, last_start] = log_with_entries(dir, 4);
  ASSERT_GT(original.size() - last_start, file_log_format::kRecordHeaderSize + 10);
  for (std::size_t cut = last_start; cut < original.size(); ++cut) {
    for (bool zero_filled : {false, true}) {
      SCOPED_TRACE("cut at " + std::to_string(cut) + (zero_filled ? " zero-filled" : ""));
      Bytes torn(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(cut));
      if (zero_filled) torn.resize(original.size(), 0);
      const std::string path = fresh_file(dir);
      write_file(path, torn);
      write_synced(path, last_start, 3);
      std::vector<std::string> messages;
      auto log = open_ok(path, collecting(&messages));
      ASSERT_TRUE(log);
      EXPECT_EQ(log->recovery().entries, 3u);
      EXPECT_EQ(log->recovery().truncated_bytes, torn.size() - last_start);
      EXPECT_EQ(std::filesystem::file_size(path), last_start);
      if (torn.size() > last_start) {
        ASSERT_EQ(messages.size(), 1u);
        EXPECT_TRUE(contains(messages[0], "offset " + std::to_string(last_start))) << messages[0];
        EXPECT_TRUE(contains(messages[0], "record 4")) << messages[0];
      } else {
        EXPECT_TRUE(messages.empty());
      }
      auto all = read_all(*log);
      ASSERT_EQ(all.size(), 3u);
      for (std::uint64_t i = 0; i < 3; ++i)
        EXPECT_EQ(all[i].payload, payload_for(i + 3));
      if (cut % 16 == 0 || cut + 1 == original.size()) {  // an fsync each: a sample is enough
        auto appended = log->append(payload_for(99));
        ASSERT_TRUE(appended.is_ok());
        EXPECT_EQ(appended->sequence, 4u);
      }
    }
  }
}

// Every record below the acknowledged end was fsync'd and acknowledged: a log cut anywhere in
// them (by an operator, a copy, a broken disk) is refused, naming the first missing record and
// its offset, and the file is left as it was; new appends would otherwise reuse their sequences.
TEST(FileLog, TruncatedAcknowledgedRecordsAreRefusedNamingRecordAndOffset) {
  TempDir dir;
  auto [original, last_start] = log_with_entries(dir, 4);
  for (std::size_t cut = file_log_format::kFileHeaderSize; cut < original.size(); ++cut) {
    for (bool zero_filled : {false, true}) {
      SCOPED_TRACE("cut at " + std::to_string(cut) + (zero_filled ? " zero-filled" : ""));
      std::uint64_t missing = 1;
      while (record_start(missing + 1) <= cut)
        ++missing;
      Bytes cut_log(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(cut));
      if (zero_filled) cut_log.resize(original.size(), 0);
      const std::string path = fresh_file(dir);
      write_file(path, cut_log);
      write_synced(path, original.size(), 4);
      std::vector<std::string> messages;
      auto log = FileLog::open(path, collecting(&messages));
      ASSERT_FALSE(log.is_ok());
      EXPECT_EQ(log.status().code(), ErrorCode::kCorruption);
      const std::string text(log.status().message());
      EXPECT_TRUE(contains(text, "record " + std::to_string(missing))) << text;
      EXPECT_TRUE(contains(text, "offset " + std::to_string(record_start(missing)))) << text;
      EXPECT_EQ(file_bytes(path), cut_log);  // nothing truncated
      EXPECT_TRUE(messages.empty());
    }
  }
}

// A flipped bit anywhere in an acknowledged record, the last one included, is media damage, not
// a torn write: open refuses, naming the record and its offset, and leaves the file as it was.
TEST(FileLog, FlippedBitInAnyAcknowledgedRecordIsRefused) {
  TempDir dir;
  auto [original, last_start] = log_with_entries(dir, 3);
  // One file, damaged and repaired in place (same size, no truncation: cheap to rewrite).
  const std::string path = dir.file("original");
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  auto put = [&](std::size_t at, std::uint8_t value) {
    file.seekp(static_cast<std::streamoff>(at));
    file.put(static_cast<char>(value));
    file.flush();
  };
  for (std::uint64_t record : {2u, 3u}) {
    const std::size_t start = record_start(record);
    const std::size_t size = file_log_format::kRecordHeaderSize + payload_for(record + 2).size();
    for (std::size_t byte = start; byte < start + size; ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        SCOPED_TRACE("byte " + std::to_string(byte) + " bit " + std::to_string(bit));
        Bytes damaged = original;
        damaged[byte] = static_cast<std::uint8_t>(damaged[byte] ^ (1u << bit));
        put(byte, damaged[byte]);
        auto log = FileLog::open(path);
        ASSERT_FALSE(log.is_ok());
        EXPECT_EQ(log.status().code(), ErrorCode::kCorruption);
        EXPECT_TRUE(contains(log.status().message(), "offset " + std::to_string(start)))
            << log.status().to_string();
        EXPECT_TRUE(contains(log.status().message(), "record " + std::to_string(record)))
            << log.status().to_string();
        EXPECT_EQ(file_bytes(path), damaged);  // nothing truncated
        put(byte, original[byte]);
      }
    }
  }
}

// Past the acknowledged end nothing was promised: damage there of any kind (a damaged header
// followed by intact records, a hole of zeros in the middle of the batch) is cut at the first
// damaged record, and the cut is reported. Intact records there are kept.
TEST(FileLog, DamagePastTheAcknowledgedEndIsCutAtTheFirstDamagedRecord) {
  TempDir dir;
  auto [original, last_start] = log_with_entries(dir, 5);
  const std::string path = dir.file("damaged");
  struct Case {
    std::string name;
    std::size_t from, to;  // bytes to damage
    std::uint8_t value;    // 0: zero them; otherwise xor
    std::uint64_t kept;
  };
  const std::vector<Case> cases = {
      {"header of record 4 flipped", record_start(4) + file_log_format::kLengthOffset,
       record_start(4) + file_log_format::kLengthOffset + 1, 0x01, 3},
      {"hole of zeros over record 4", record_start(4), record_start(5), 0, 3},
      {"payload of record 5 flipped", original.size() - 1, original.size(), 0x40, 4},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Bytes damaged = original;
    for (std::size_t i = c.from; i < c.to; ++i)
      damaged[i] = c.value == 0 ? 0 : static_cast<std::uint8_t>(damaged[i] ^ c.value);
    write_file(path, damaged);
    write_synced(path, record_start(4), 3);
    std::vector<std::string> messages;
    auto log = open_ok(path, collecting(&messages));
    ASSERT_TRUE(log);
    EXPECT_EQ(log->recovery().entries, c.kept);
    EXPECT_EQ(std::filesystem::file_size(path), record_start(c.kept + 1));
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_TRUE(contains(messages[0], "offset " + std::to_string(record_start(c.kept + 1))))
        << messages[0];
    EXPECT_EQ(read_all(*log).size(), c.kept);
  }
}

// Without its .synced marker, or with both of its slots damaged, nobody can tell which records
// were acknowledged: the writer refuses to open the log, and readers refuse to read it, rather
// than take it for an empty log. One damaged slot is what a crash while rewriting it leaves.
TEST(FileLog, MissingOrDamagedSyncedMarkerIsRefused) {
  TempDir dir;
  auto [original, last_start] = log_with_entries(dir, 3);
  const std::string path = dir.file("original");
  const std::string synced = path + std::string(file_log_format::kSyncedSuffix);
  const Bytes good = file_bytes(synced);
  ASSERT_EQ(good.size(), file_log_format::kSyncedSize);

  std::filesystem::remove(synced);
  auto missing = FileLog::open(path);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_TRUE(contains(missing.status().message(), ".synced")) << missing.status().to_string();
  auto reader_missing = FileLogReader::open(path);
  EXPECT_FALSE(reader_missing.is_ok() && (*reader_missing)->read(1, 10).is_ok());

  Bytes both = good;
  both[file_log_format::synced_slot_offset(0) + 3] ^= 0x10;
  both[file_log_format::synced_slot_offset(1) + 3] ^= 0x10;
  write_file(synced, both);
  auto damaged = FileLog::open(path);
  ASSERT_FALSE(damaged.is_ok());
  EXPECT_EQ(damaged.status().code(), ErrorCode::kCorruption);
  EXPECT_TRUE(contains(damaged.status().message(), ".synced")) << damaged.status().to_string();
  auto reader = FileLogReader::open(path);
  if (reader.is_ok()) {
    auto read = (*reader)->read(1, 10);
    ASSERT_FALSE(read.is_ok());
    EXPECT_EQ(read.status().code(), ErrorCode::kCorruption);
  }
  EXPECT_EQ(file_bytes(path), original);

  for (std::size_t slot = 0; slot < file_log_format::kSyncedSlotCount; ++slot) {
    Bytes one = good;
    one[file_log_format::synced_slot_offset(slot) + 1] ^= 0x01;
    write_file(synced, one);
    auto log = open_ok(path);
    ASSERT_TRUE(log);
    EXPECT_EQ(read_all(*log).size(), 3u);
  }
}

// A marker that disagrees with the records (another count at its end, or an end inside a record)
// is refused: the log and its marker do not belong together.
TEST(FileLog, MarkerThatDisagreesWithTheRecordsIsRefused) {
  TempDir dir;
  auto [original, last_start] = log_with_entries(dir, 3);
  const std::string path = dir.file("original");
  write_synced(path, original.size(), 2);
  auto miscounted = FileLog::open(path);
  ASSERT_FALSE(miscounted.is_ok());
  EXPECT_EQ(miscounted.status().code(), ErrorCode::kCorruption);
  EXPECT_TRUE(contains(miscounted.status().message(),
                       "records 1 to 2 end at offset " + std::to_string(original.size())))
      << miscounted.status().to_string();
  write_synced(path, last_start + 5, 3);
  auto inside = FileLog::open(path);
  ASSERT_FALSE(inside.is_ok());
  EXPECT_TRUE(
      contains(inside.status().message(), "record 3 at offset " + std::to_string(last_start)))
      << inside.status().to_string();
  EXPECT_EQ(file_bytes(path), original);
}

// A log of an older format version is refused by name, not misread.
TEST(FileLog, OlderFormatVersionIsRefused) {
  TempDir dir;
  const std::string path = dir.file("log");
  Bytes old(file_log_format::kFileMagic.begin(), file_log_format::kFileMagic.end());
  old[file_log_format::kVersionOffset] = 1;
  write_file(path, old);
  auto log = FileLog::open(path);
  ASSERT_FALSE(log.is_ok());
  EXPECT_TRUE(contains(log.status().message(), "version 1")) << log.status().to_string();
  auto reader = FileLogReader::open(path);
  ASSERT_FALSE(reader.is_ok());
  EXPECT_TRUE(contains(reader.status().message(), "version 1")) << reader.status().to_string();
}

// A log cut under a running reader (or writer) is reported with the record and the offset where
// data is missing, not as a bare "unexpected end of file".
TEST(FileLog, ReadOfALogCutUnderneathNamesRecordAndOffset) {
  TempDir dir;
  const std::string path = dir.file("log");
  auto log = open_ok(path);
  ASSERT_TRUE(log);
  for (std::uint64_t i = 0; i < 3; ++i)
    ASSERT_TRUE(log->append(payload_for(i + 3)).is_ok());
  auto reader = FileLogReader::open(path);
  ASSERT_TRUE(reader.is_ok());
  ASSERT_EQ((*reader)->read(1, 1)->size(), 1u);  // indexes all three
  std::filesystem::resize_file(path, record_start(2) + 10);
  auto fresh = FileLogReader::open(path);
  ASSERT_TRUE(fresh.is_ok());
  for (LogReader* r : {static_cast<LogReader*>(log.get()), static_cast<LogReader*>(reader->get()),
                       static_cast<LogReader*>(fresh->get())}) {
    auto read = r->read(1, 10);
    ASSERT_FALSE(read.is_ok());
    EXPECT_EQ(read.status().code(), ErrorCode::kCorruption);
    EXPECT_TRUE(contains(read.status().message(), "record 2")) << read.status().to_string();
    EXPECT_TRUE(contains(read.status().message(), "offset " + std::to_string(record_start(2))))
        << read.status().to_string();
  }
}

TEST(FileLog, ConcurrentAppendersLoseNothing) {
  TempDir dir;
  auto log = open_ok(dir.file("log"));
  ASSERT_TRUE(log);
  constexpr std::uint64_t kThreads = 8;
  constexpr std::uint64_t kPerThread = 150;
  std::vector<std::vector<std::uint64_t>> sequences(kThreads);
  std::vector<std::thread> threads;
  for (std::uint64_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < kPerThread; ++i) {
        auto appended = log->append(payload_for(t * 1000 + i));
        ASSERT_TRUE(appended.is_ok()) << appended.status().to_string();
        sequences[t].push_back(appended->sequence);
      }
    });
  }
  for (auto& thread : threads)
    thread.join();

  auto all = read_all(*log);
  ASSERT_EQ(all.size(), kThreads * kPerThread);
  std::map<std::uint64_t, std::uint64_t> id_at;  // sequence -> payload id
  for (const auto& entry : all) {
    EXPECT_EQ(entry.payload, payload_for(id_of(entry.payload)));
    id_at[entry.sequence] = id_of(entry.payload);
  }
  for (std::uint64_t t = 0; t < kThreads; ++t) {
    for (std::uint64_t i = 0; i < kPerThread; ++i) {
      EXPECT_EQ(id_at[sequences[t][i]], t * 1000 + i);  // each ack names its own entry
      if (i > 0) {
        EXPECT_LT(sequences[t][i - 1], sequences[t][i]);
      }
    }
  }
  EXPECT_LE(log->sync_count(), kThreads * kPerThread);
  RecordProperty("appends", static_cast<int>(kThreads * kPerThread));
  RecordProperty("fsyncs", static_cast<int>(log->sync_count()));
}

// The two stages of a batch overlap: while one batch's marker is being synced, the next batch's
// records are written and synced. Neither is acknowledged or visible to readers before a marker
// covering it is durable.
TEST(FileLog, TheNextBatchIsSyncedWhileThePreviousMarkerIs) {
  TempDir dir;
  std::mutex mutex;
  std::condition_variable changed;
  bool first_marker_held = false, second_log_sync = false, overlapped = false;
  FileLogOptions options;
  options.before_sync = [&](FileLogOptions::SyncStage stage, std::uint64_t last) {
    std::unique_lock lock(mutex);
    if (stage == FileLogOptions::SyncStage::kLogSync && last == 2) {
      second_log_sync = true;
      changed.notify_all();
    }
    if (stage == FileLogOptions::SyncStage::kMarkerSync && last == 1) {
      first_marker_held = true;
      changed.notify_all();
      // Holds the first marker until the second batch's log sync starts (10 s at most).
      overlapped = changed.wait_for(lock, 10s, [&] { return second_log_sync; });
    }
  };
  auto opened = FileLog::open(dir.file("log"), options);
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  FileLog& log = **opened;
  std::thread first([&] { EXPECT_TRUE(log.append(payload_for(1)).is_ok()); });
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, 10s, [&] { return first_marker_held; }));
  }
  // Entry 1 is in the log file and synced, but its marker is not: not acknowledged yet.
  EXPECT_EQ(log.last_sequence(), 0u);
  auto early = log.read(1, 10);
  ASSERT_TRUE(early.is_ok());
  EXPECT_TRUE(early->empty());
  std::thread second([&] { EXPECT_TRUE(log.append(payload_for(2)).is_ok()); });
  first.join();
  second.join();
  EXPECT_TRUE(overlapped) << "the second batch waited for the first batch's marker";
  EXPECT_EQ(log.last_sequence(), 2u);
  EXPECT_EQ(log.sync_count(), 2u);
  EXPECT_EQ(log.marker_sync_count(), 2u);
  opened->reset();
  auto reader = FileLogReader::open(dir.file("log"));
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  auto all = (*reader)->read(1, 10);
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].payload, payload_for(2));
}

// Waits (boundedly) until `done` holds; false if it never does.
template <typename Pred>
bool eventually(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// The append and the stop happen only once the follower is known to be blocked in follow, so the
// wake-up path (not the "already there" path) is what is tested.
TEST(FileLog, FollowWakesOnAppendAndHonoursTimeoutAndStop) {
  TempDir dir;
  auto log = open_ok(dir.file("log"));
  ASSERT_TRUE(log);

  auto start = std::chrono::steady_clock::now();
  auto nothing = log->follow(1, 10, 100ms);
  ASSERT_TRUE(nothing.is_ok());
  EXPECT_TRUE(nothing->empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_EQ(log->waiting_followers(), 0u);

  std::thread appender([&] {
    EXPECT_TRUE(eventually([&] { return log->waiting_followers() == 1; }));
    EXPECT_TRUE(log->append(payload_for(7)).is_ok());
  });
  auto woken = log->follow(1, 10, 60s);
  appender.join();
  ASSERT_TRUE(woken.is_ok());
  ASSERT_EQ(woken->size(), 1u);
  EXPECT_EQ(woken->front().payload, payload_for(7));

  std::stop_source stop;
  std::thread stopper([&] {
    EXPECT_TRUE(eventually([&] { return log->waiting_followers() == 1; }));
    stop.request_stop();
  });
  auto stopped = log->follow(2, 10, 60s, stop.get_token());
  stopper.join();
  ASSERT_TRUE(stopped.is_ok());
  EXPECT_TRUE(stopped->empty());
  EXPECT_EQ(log->waiting_followers(), 0u);
}

// A writer process appending from several threads is killed with SIGKILL at an arbitrary moment.
// Every append it acknowledged (reported through a pipe after append returned) must be in the
// reopened log with its own payload, and every entry read must be a genuine one.
TEST(FileLog, KillNineOfWriterUnderLoadLosesNoAcknowledgedEntry) {
  TempDir dir;
  const std::string path = dir.file("log");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    auto log = FileLog::open(path);
    if (!log.is_ok()) ::_exit(2);
    std::vector<std::thread> writers;
    for (std::uint64_t t = 0; t < 4; ++t) {
      writers.emplace_back([&, t] {
        for (std::uint64_t i = 0;; ++i) {
          const std::uint64_t id = (t << 32) | i;
          auto appended = (*log)->append(payload_for(id));
          if (!appended.is_ok()) ::_exit(3);
          const std::uint64_t ack[2] = {appended->sequence, id};
          if (::write(fds[1], ack, sizeof ack) != sizeof ack) ::_exit(4);
        }
      });
    }
    for (auto& w : writers)
      w.join();
    ::_exit(0);
  }
  ::close(fds[1]);
  std::map<std::uint64_t, std::uint64_t> acked;  // sequence -> id
  bool killed = false;
  std::uint64_t ack[2];
  for (;;) {
    ssize_t n = ::read(fds[0], ack, sizeof ack);
    if (n == 0) break;  // the child is gone and its end of the pipe closed
    ASSERT_EQ(n, static_cast<ssize_t>(sizeof ack));
    EXPECT_TRUE(acked.emplace(ack[0], ack[1]).second) << "sequence acknowledged twice";
    if (!killed && acked.size() >= 400) {
      ASSERT_EQ(::kill(child, SIGKILL), 0);
      killed = true;
    }
  }
  ::close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "child status " << wstatus;

  auto log = open_ok(path);
  ASSERT_TRUE(log);
  auto all = read_all(*log);
  ASSERT_GE(all.size(), acked.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].sequence, i + 1);
    ASSERT_EQ(all[i].payload, payload_for(id_of(all[i].payload)));
  }
  for (const auto& [sequence, id] : acked) {
    ASSERT_LE(sequence, all.size());
    EXPECT_EQ(id_of(all[sequence - 1].payload), id);
  }
  RecordProperty("acknowledged", static_cast<int>(acked.size()));
  RecordProperty("recovered", static_cast<int>(all.size()));
}

std::unique_ptr<FileLogReader> open_reader(const std::string& path) {
  auto reader = FileLogReader::open(path, FileLogReader::Options{.poll_interval = 2ms});
  EXPECT_TRUE(reader.is_ok()) << reader.status().to_string();
  return reader.is_ok() ? std::move(reader).value() : nullptr;
}

TEST(FileLogReader, SeesWhatTheWriterSyncedAndFollows) {
  TempDir dir;
  EXPECT_EQ(FileLogReader::open(dir.file("log")).status().code(), ErrorCode::kNotFound);
  auto writer = open_ok(dir.file("log"));
  ASSERT_TRUE(writer);
  auto reader = open_reader(dir.file("log"));
  ASSERT_TRUE(reader);
  EXPECT_TRUE(reader->read(1, 10)->empty());
  for (std::uint64_t i = 0; i < 3; ++i)
    ASSERT_TRUE(writer->append(payload_for(i)).is_ok());
  auto three = reader->read(1, 10);
  ASSERT_TRUE(three.is_ok()) << three.status().to_string();
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ(three->at(2).payload, payload_for(2));
  EXPECT_EQ(three->at(2).sequence, 3u);

  // Append only after follow has looked and found nothing, so its polling picks the entry up.
  const std::uint64_t polls_before = reader->empty_polls();
  std::thread appender([&] {
    EXPECT_TRUE(eventually([&] { return reader->empty_polls() > polls_before; }));
    EXPECT_TRUE(writer->append(payload_for(3)).is_ok());
  });
  auto fourth = reader->follow(4, 10, 60s);
  appender.join();
  ASSERT_TRUE(fourth.is_ok());
  ASSERT_EQ(fourth->size(), 1u);
  EXPECT_EQ(fourth->front().payload, payload_for(3));

  std::stop_source stop;
  stop.request_stop();
  EXPECT_TRUE(reader->follow(5, 10, 10s, stop.get_token())->empty());
}

// Bytes past the synced end (a batch being written, or a torn tail the writer has not recovered
// yet) are invisible to readers; damage below it is an error.
TEST(FileLogReader, ReadsOnlyBelowTheSyncedEnd) {
  TempDir dir;
  auto [original, last_start] = log_with_entries(dir, 3);
  const std::string path = dir.file("log");
  Bytes with_garbage = original;
  for (int i = 0; i < 50; ++i)
    with_garbage.push_back(0xEE);
  write_file(path, with_garbage);
  write_synced(path, original.size(), 3);
  auto reader = open_reader(path);
  ASSERT_TRUE(reader);
  auto all = reader->read(1, 10);
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  EXPECT_EQ(all->size(), 3u);

  auto stale = open_reader(path);  // a .synced from before the last batch's fsync
  ASSERT_TRUE(stale);
  write_synced(path, last_start, 2);
  EXPECT_EQ(stale->read(1, 10)->size(), 2u);

  auto misled = open_reader(path);  // a .synced pointing into the garbage
  ASSERT_TRUE(misled);
  write_synced(path, with_garbage.size(), 4);
  auto refused = misled->read(1, 10);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kCorruption);
}

// The cross-process case the file log exists for: a writer process appends, a reader process
// follows, and the reader sees every entry, in order, intact.
TEST(FileLogReader, FollowsAWriterInAnotherProcess) {
  TempDir dir;
  const std::string path = dir.file("log");
  { ASSERT_TRUE(open_ok(path)); }  // create it, so the reader can open it at once
  constexpr std::uint64_t kEntries = 300;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto log = FileLog::open(path);
    if (!log.is_ok()) ::_exit(2);
    for (std::uint64_t i = 0; i < kEntries; ++i) {
      if (!(*log)->append(payload_for(i)).is_ok()) ::_exit(3);
      if (i % 50 == 0) std::this_thread::sleep_for(10ms);
    }
    ::_exit(0);
  }
  auto reader = open_reader(path);
  ASSERT_TRUE(reader);
  std::vector<LogEntry> seen;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (seen.size() < kEntries && std::chrono::steady_clock::now() < deadline) {
    auto entries = reader->follow(seen.size() + 1, 64, 1s);
    ASSERT_TRUE(entries.is_ok()) << entries.status().to_string();
    for (auto& entry : *entries)
      seen.push_back(std::move(entry));
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << wstatus;
  ASSERT_EQ(seen.size(), kEntries);
  for (std::uint64_t i = 0; i < kEntries; ++i) {
    EXPECT_EQ(seen[i].sequence, i + 1);
    EXPECT_EQ(seen[i].payload, payload_for(i));
  }
}

}  // namespace
}  // namespace pfex::ledger
