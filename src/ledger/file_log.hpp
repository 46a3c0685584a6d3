// FileLog: the embedded Log, one append-only file of checksummed records. The record format and
// the recovery rules are in docs/ledger/file-log-format.md (wire constants: file_log_format.hpp).
//
// Durability: append returns only after the record is written and fdatasync'd. Concurrent
// appenders share fsyncs (group commit): the first waiting appender writes and syncs every record
// queued so far, the others wait for it, so N threads pay roughly one fsync per batch, not N.
// A batch goes through two stages, each run by one appender at a time: the log's fdatasync, then
// the marker's (below). They overlap: while one batch's marker is being synced, the next batch's
// records are written and synced, and one marker write may cover several batches.
// After a failed write or fsync the log refuses every further append (the state of the file's
// tail is then unknown until it is reopened and recovered).
//
// Other processes read the log with FileLogReader (below). After each fsync of the log the writer
// records how far the log is on disk in "<path>.synced", fsyncs that marker too, and only then
// acknowledges the batch. Readers never go past the marker, and recovery never cuts below it:
// only a tail that was never acknowledged may be dropped (and every cut is reported).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ledger/log.hpp"

namespace pfex::ledger {

struct FileLogOptions {
  // The appender's clock stamped into each entry (the stamp is the maximum of this clock and the
  // previous entry's stamp, so a FileLog's entry times are already ledger time).
  std::function<LedgerTime()> clock = system_clock_now;
  // Where open() reports what recovery cut from an unacknowledged tail (one line each). Unset:
  // standard error.
  std::function<void(const std::string&)> warn;
  // Tests only: called by the appender about to sync, with kLogSync before it writes and syncs
  // a batch of records (argument: the batch's last sequence) and kMarkerSync before it writes
  // and syncs the marker (argument: the last sequence the marker will acknowledge).
  enum class SyncStage { kLogSync, kMarkerSync };
  std::function<void(SyncStage, std::uint64_t)> before_sync;
};

class FileLog final : public Log {
 public:
  using Options = FileLogOptions;

  // What open() found and repaired.
  struct Recovery {
    std::uint64_t entries = 0;          // intact records kept
    std::uint64_t truncated_bytes = 0;  // bytes of torn tail removed (0 after a clean shutdown)
    std::uint64_t acknowledged = 0;     // records the .synced marker said were acknowledged
  };

  // Opens the log at `path`, creating it (atomically, with its header and its .synced marker) if
  // it does not exist, and recovers it: damage past the acknowledged end (a torn, never
  // acknowledged batch) is truncated and reported through Options::warn; a damaged or missing
  // acknowledged record, or a missing or damaged marker, is refused with Status::corruption
  // naming the record and its offset, leaving the files as they were. Holds an exclusive lock on
  // the file while open, so a second writer, in this process or another, gets failed_precondition.
  static Result<std::unique_ptr<FileLog>> open(const std::string& path, Options options = {});

  ~FileLog() override;

  Result<Appended> append(ByteSpan payload) override;
  Result<std::vector<LogEntry>> read(std::uint64_t from, std::size_t max_entries) override;
  Result<std::vector<LogEntry>> follow(std::uint64_t from, std::size_t max_entries,
                                       std::chrono::milliseconds timeout,
                                       std::stop_token stop = {}) override;

  const Recovery& recovery() const { return recovery_; }
  // Sequence of the last durable entry (0 when the log is empty).
  std::uint64_t last_sequence() const;
  // Number of batches appends wrote and synced since open (each costs one fdatasync of the log;
  // a marker fdatasync covers one or more of them): with group commit, fewer than appends.
  std::uint64_t sync_count() const;
  // Number of marker fdatasyncs appends made since open (at most sync_count()).
  std::uint64_t marker_sync_count() const;
  // Number of follow calls currently blocked waiting for an entry (for tests of the wake-up path).
  std::size_t waiting_followers() const;

 private:
  FileLog(std::string path, int fd, Options options);
  Status recover();
  Status write_batch(const Bytes& batch, std::uint64_t offset);
  Status publish_synced(std::uint64_t end, std::uint64_t sequence);

  const std::string path_;
  const int fd_;               // owned; closed by the destructor (which also drops the lock)
  int synced_fd_ = -1;         // "<path>.synced", owned; written only by the one appender writing
  std::size_t next_slot_ = 0;  // the marker's older slot, overwritten by the next publish
  const Options options_;
  Recovery recovery_;

  mutable std::mutex mutex_;
  std::condition_variable_any changed_;  // durable_sequence_ advanced or failed_ was set
  // Guarded by mutex_:
  std::vector<std::uint64_t> offsets_;  // file offset of record with sequence s at [s - 1]
  std::uint64_t next_sequence_ = 1;
  LedgerTime last_time_{0};
  Bytes pending_;  // encoded records not yet handed to a writer
  std::uint64_t pending_last_sequence_ = 0;
  std::uint64_t assigned_end_ = 0;  // file offset after the last encoded record
  std::uint64_t write_offset_ = 0;  // file offset where the next batch goes
  // Records synced in the log, not yet acknowledged by the marker: up to here.
  std::uint64_t synced_sequence_ = 0;
  std::uint64_t synced_end_ = 0;
  // Acknowledged (the marker, synced, says so): readers and append's callers see up to here.
  std::uint64_t durable_sequence_ = 0;
  std::uint64_t durable_end_ = 0;  // file offset after the last durable record
  bool writing_ = false;           // some appender is writing and syncing a batch of records
  bool marking_ = false;           // some appender is writing and syncing the marker
  std::size_t waiting_followers_ = 0;
  std::uint64_t sync_count_ = 0;
  std::uint64_t marker_sync_count_ = 0;
  Status failed_;
};

// A read-only view of a FileLog that another process (or another object) writes. It returns
// only records the writer has fsync'd and acknowledged (per "<path>.synced"), checks every record
// like FileLog, and never modifies the files: a torn tail is the writer's to truncate when it
// reopens. A missing or damaged marker, or one that moves backwards, is an error (never an empty
// log). follow polls. Thread-safe.
class FileLogReader final : public LogReader {
 public:
  struct Options {
    std::chrono::milliseconds poll_interval{5};  // how often follow looks for new records
  };

  // The log file and its .synced marker must exist (the writer creates both before the log
  // appears).
  static Result<std::unique_ptr<FileLogReader>> open(const std::string& path);
  static Result<std::unique_ptr<FileLogReader>> open(const std::string& path, Options options);
  ~FileLogReader() override;

  Result<std::vector<LogEntry>> read(std::uint64_t from, std::size_t max_entries) override;
  Result<std::vector<LogEntry>> follow(std::uint64_t from, std::size_t max_entries,
                                       std::chrono::milliseconds timeout,
                                       std::stop_token stop = {}) override;

  // Number of times follow looked for new records and found none (for tests of the wake-up path).
  std::uint64_t empty_polls() const { return empty_polls_.load(); }

 private:
  FileLogReader(std::string path, int fd, int synced_fd, Options options);
  // Indexes the records the writer has synced since the last call. Requires mutex_.
  Status refresh();

  const std::string path_;
  const int fd_;         // owned
  const int synced_fd_;  // owned
  const Options options_;
  std::atomic<std::uint64_t> empty_polls_{0};
  std::mutex mutex_;
  std::condition_variable_any stopped_;  // only to sleep between polls, interruptibly
  // Guarded by mutex_:
  std::vector<std::uint64_t> offsets_;
  std::uint64_t indexed_end_ = 0;  // file offset after the last indexed record
};

}  // namespace pfex::ledger
