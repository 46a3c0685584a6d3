// FileLog implementation: recovery scan, group-committed appends, checked reads. See file_log.hpp
// and docs/ledger/file-log-format.md.
#include "ledger/file_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "ledger/crc32c.hpp"
#include "ledger/file_log_format.hpp"

namespace pfex::ledger {
namespace fmt = file_log_format;
namespace {

std::string errno_text() {
  return std::error_code(errno, std::generic_category()).message();
}

Status io_failure(std::string_view what, const std::string& path) {
  return Status::io_error(std::string(what) + " " + path + ": " + errno_text());
}

Status pwrite_all(int fd, ByteSpan data, std::uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_failure("cannot write", path);
    }
    data = data.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return Status::ok();
}

// Reads up to out.size() bytes at `offset`, fewer only at the end of the file; returns how many.
Result<std::size_t> pread_upto(int fd, std::span<std::uint8_t> out, std::uint64_t offset,
                               const std::string& path) {
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_failure("cannot read", path);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

// Reads exactly out.size() bytes at `offset`; a short read (end of file) is an error naming the
// offset. Callers that know which record they read name it themselves (see read_records).
Status pread_all(int fd, std::span<std::uint8_t> out, std::uint64_t offset,
                 const std::string& path) {
  PFEX_ASSIGN_OR_RETURN(std::size_t n, pread_upto(fd, out, offset, path));
  if (n < out.size()) {
    return Status::corruption("file " + path + " ends at offset " + std::to_string(offset + n) +
                              ", inside the " + std::to_string(out.size()) +
                              " bytes expected at offset " + std::to_string(offset));
  }
  return Status::ok();
}

Status fsync_directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_failure("cannot open directory", dir);
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return io_failure("cannot fsync directory", dir);
  return Status::ok();
}

// Writes `bytes` to `path` via `path`.tmp, fsync and rename (the directory is fsync'd by the
// caller).
Status replace_file(const std::string& path, ByteSpan bytes) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_failure("cannot create", tmp);
  Status s = pwrite_all(fd, bytes, 0, tmp);
  if (s.is_ok() && ::fsync(fd) != 0) s = io_failure("cannot fsync", tmp);
  ::close(fd);
  PFEX_RETURN_IF_ERROR(s);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_failure("cannot rename to", path);
  return Status::ok();
}

std::string synced_path_of(const std::string& path) {
  return path + std::string(fmt::kSyncedSuffix);
}

Bytes encode_synced_slot(std::uint64_t end, std::uint64_t sequence) {
  Bytes out;
  Writer w(&out);
  w.u64(end);
  w.u64(sequence);
  w.u32(crc32c(out));
  return out;
}

// Creates `path` holding only the file header, atomically: a crash leaves either no file or a
// complete header, never a half-written one. Its .synced marker (nothing acknowledged yet) is in
// place before the log appears, so whoever finds the log finds the marker.
Status create_log_file(const std::string& path) {
  Bytes synced(fmt::kSyncedMagic.begin(), fmt::kSyncedMagic.end());
  for (std::size_t i = 0; i < fmt::kSyncedSlotCount; ++i) {
    Bytes slot = encode_synced_slot(fmt::kFileHeaderSize, 0);
    synced.insert(synced.end(), slot.begin(), slot.end());
  }
  PFEX_RETURN_IF_ERROR(replace_file(synced_path_of(path), synced));
  PFEX_RETURN_IF_ERROR(replace_file(path, fmt::kFileMagic));
  return fsync_directory_of(path);
}

// The file header: "pfexlog" and the version this build reads.
Status check_file_header(int fd, const std::string& path) {
  std::array<std::uint8_t, fmt::kFileHeaderSize> magic{};
  PFEX_ASSIGN_OR_RETURN(std::size_t n, pread_upto(fd, magic, 0, path));
  if (n < magic.size() ||
      !std::equal(magic.begin(), magic.begin() + fmt::kVersionOffset, fmt::kFileMagic.begin())) {
    return Status::corruption("file " + path + " is not a pfex file log (bad or missing header)");
  }
  if (magic[fmt::kVersionOffset] != fmt::kVersion) {
    return Status::corruption("file log " + path + " has format version " +
                              std::to_string(magic[fmt::kVersionOffset]) +
                              "; this build reads version " + std::to_string(fmt::kVersion));
  }
  return Status::ok();
}

// What the .synced marker says: every record below `end` was fsync'd and may have been
// acknowledged, the last of them being `sequence`. `slot` is where it was read from.
struct SyncedMark {
  std::uint64_t end = 0;
  std::uint64_t sequence = 0;
  std::size_t slot = 0;
};

Result<int> open_synced(const std::string& log_path, int flags) {
  const std::string path = synced_path_of(log_path);
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd >= 0) return fd;
  if (errno == ENOENT) {
    return Status::corruption("file log " + log_path + " has no marker " + path +
                              ": cannot tell which records were acknowledged; refusing to use it");
  }
  return io_failure("cannot open", path);
}

// The intact slot of the marker with the larger end (a crash while one slot is rewritten leaves
// the other); an error when neither is intact.
Result<SyncedMark> read_synced(int fd, const std::string& log_path) {
  const std::string path = synced_path_of(log_path);
  std::array<std::uint8_t, fmt::kSyncedSize> raw{};
  PFEX_ASSIGN_OR_RETURN(std::size_t n, pread_upto(fd, raw, 0, path));
  auto damaged = [&](const std::string& what) {
    return Status::corruption("marker " + path + " is damaged (" + what +
                              "): cannot tell which records of the log were acknowledged");
  };
  if (n < raw.size()) {
    return damaged(std::to_string(n) + " of " + std::to_string(raw.size()) + " bytes");
  }
  if (!std::equal(fmt::kSyncedMagic.begin(), fmt::kSyncedMagic.end(), raw.begin())) {
    return damaged("bad header or version");
  }
  std::optional<SyncedMark> best;
  for (std::size_t i = 0; i < fmt::kSyncedSlotCount; ++i) {
    ByteSpan slot = ByteSpan(raw).subspan(fmt::synced_slot_offset(i), fmt::kSyncedSlotSize);
    Reader r(slot);
    SyncedMark mark{r.u64("durable_end"), r.u64("durable_sequence"), i};
    const std::uint32_t crc = r.u32("slot_crc");
    if (!r.finish().is_ok() || crc != crc32c(slot.first(fmt::kSyncedCrcOffset))) continue;
    if (mark.end < fmt::kFileHeaderSize) continue;
    if (!best || mark.end > best->end || (mark.end == best->end && mark.sequence > best->sequence))
      best = mark;
  }
  if (!best) return damaged("no intact slot");
  return *best;
}

struct RecordHeader {
  std::uint32_t header_crc = 0;
  std::uint32_t payload_crc = 0;
  std::uint32_t length = 0;
  std::uint64_t sequence = 0;
  LedgerTime entry_time;
  bool intact = false;  // header_crc matches and length is within kMaxPayload
};

RecordHeader parse_header(ByteSpan raw) {
  Reader r(raw);
  RecordHeader h;
  h.header_crc = r.u32("header_crc");
  h.payload_crc = r.u32("payload_crc");
  h.length = r.u32("length");
  h.sequence = r.u64("sequence");
  h.entry_time = LedgerTime{r.i64("entry_time")};
  h.intact = r.finish().is_ok() &&
             h.header_crc == crc32c(raw.subspan(fmt::kPayloadCrcOffset, fmt::kHeaderCrcCovers)) &&
             h.length <= fmt::kMaxPayload;
  return h;
}

void encode_record(Bytes* out, std::uint64_t sequence, LedgerTime time, ByteSpan payload) {
  std::size_t start = out->size();
  Writer w(out);
  w.u32(0);  // header_crc, patched below once the rest of the header is in place
  w.u32(crc32c(payload));
  w.u32(static_cast<std::uint32_t>(payload.size()));
  w.u64(sequence);
  w.i64(time.value());
  w.fixed(payload);
  std::uint32_t header_crc =
      crc32c(ByteSpan(*out).subspan(start + fmt::kPayloadCrcOffset, fmt::kHeaderCrcCovers));
  for (std::size_t i = 0; i < 4; ++i) {
    (*out)[start + fmt::kHeaderCrcOffset + i] = static_cast<std::uint8_t>(header_crc >> (8 * i));
  }
}

// Reads and checks the records with sequences from, from + 1, ... at `offsets`; the last one ends
// at `end`.
Result<std::vector<LogEntry>> read_records(int fd, const std::string& path, std::uint64_t from,
                                           const std::vector<std::uint64_t>& offsets,
                                           std::uint64_t end) {
  Bytes raw(end - offsets.front());
  // A short read (the file was cut under us) is reported below for the first record it reaches.
  PFEX_ASSIGN_OR_RETURN(std::size_t got, pread_upto(fd, raw, offsets.front(), path));
  raw.resize(got);
  std::vector<LogEntry> entries;
  entries.reserve(offsets.size());
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    const std::uint64_t sequence = from + i;
    const std::size_t at = offsets[i] - offsets.front();
    auto bad = [&](std::string_view what) {
      return Status::corruption("file log " + path + ": record " + std::to_string(sequence) +
                                " at offset " + std::to_string(offsets[i]) + " is damaged (" +
                                std::string(what) + ")");
    };
    ByteSpan rest = at <= raw.size() ? ByteSpan(raw).subspan(at) : ByteSpan();
    if (rest.size() < fmt::kRecordHeaderSize) {
      return bad("truncated: the file ends at offset " + std::to_string(offsets.front() + got));
    }
    RecordHeader h = parse_header(rest.first(fmt::kRecordHeaderSize));
    if (!h.intact) return bad("header checksum mismatch");
    if (h.sequence != sequence) return bad("sequence " + std::to_string(h.sequence));
    if (rest.size() < fmt::kRecordHeaderSize + h.length) {
      return bad("truncated: the file ends at offset " + std::to_string(offsets.front() + got));
    }
    ByteSpan payload = rest.subspan(fmt::kRecordHeaderSize, h.length);
    if (crc32c(payload) != h.payload_crc) return bad("payload checksum mismatch");
    entries.push_back(LogEntry{sequence, h.entry_time, Bytes(payload.begin(), payload.end())});
  }
  return entries;
}

}  // namespace

LedgerTime system_clock_now() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return LedgerTime{std::chrono::duration_cast<std::chrono::milliseconds>(now).count()};
}

Result<std::unique_ptr<FileLog>> FileLog::open(const std::string& path, Options options) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    PFEX_RETURN_IF_ERROR(create_log_file(path));
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  }
  if (fd < 0) return io_failure("cannot open", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    Status s = errno == EWOULDBLOCK
                   ? Status::failed_precondition("file log " + path + " is open in another writer")
                   : io_failure("cannot lock", path);
    ::close(fd);
    return s;
  }
  if (!options.clock) options.clock = system_clock_now;
  std::unique_ptr<FileLog> log(new FileLog(path, fd, std::move(options)));
  PFEX_RETURN_IF_ERROR(log->recover());
  return log;
  // The analyzer loses the pointer inside Result's storage and reports a leak at the brace.
  // NOLINTNEXTLINE(clang-analyzer-cplusplus.NewDeleteLeaks)
}

FileLog::FileLog(std::string path, int fd, Options options)
    : path_(std::move(path)), fd_(fd), options_(std::move(options)) {}

FileLog::~FileLog() {
  if (synced_fd_ >= 0) ::close(synced_fd_);
  ::close(fd_);
}

// Scans every record from the start, rebuilding the offset index. The rules (which damage may be
// cut, which is refused) are those of docs/ledger/file-log-format.md, "Recovery": everything below
// the marker's acknowledged end must be intact; past it, the first damaged record and everything
// after it are cut (they were never acknowledged), and the cut is reported.
Status FileLog::recover() {
  PFEX_RETURN_IF_ERROR(check_file_header(fd_, path_));
  PFEX_ASSIGN_OR_RETURN(synced_fd_, open_synced(path_, O_RDWR));
  PFEX_ASSIGN_OR_RETURN(SyncedMark mark, read_synced(synced_fd_, path_));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return io_failure("cannot stat", path_);
  const auto size = static_cast<std::uint64_t>(st.st_size);

  std::uint64_t offset = fmt::kFileHeaderSize;
  std::uint64_t sequence = 1;
  LedgerTime last_time{0};
  auto refused = [&](const std::string& what) {
    return Status::corruption(
        "file log " + path_ + ": record " + std::to_string(sequence) + " at offset " +
        std::to_string(offset) + " is " + what + "; the marker says records 1 to " +
        std::to_string(mark.sequence) + " (offsets below " + std::to_string(mark.end) +
        ") were acknowledged, so refusing to open the log (nothing was changed)");
  };
  auto miscounted = [&] {
    return Status::corruption("file log " + path_ + ": the marker says records 1 to " +
                              std::to_string(mark.sequence) + " end at offset " +
                              std::to_string(mark.end) + ", but " + std::to_string(sequence - 1) +
                              " records end there; refusing to open the log (nothing was "
                              "changed)");
  };
  // Why the scan stopped past the acknowledged end (empty: it reached the end of the file).
  std::string cut_reason;

  Bytes payload;
  while (offset < size) {
    if (offset == mark.end && sequence - 1 != mark.sequence) return miscounted();
    const bool acknowledged = offset < mark.end;
    auto damage = [&](const std::string& what) -> Status {
      if (acknowledged) return refused("damaged (" + what + ")");
      cut_reason = what;
      return Status::ok();
    };
    if (size - offset < fmt::kRecordHeaderSize) {
      PFEX_RETURN_IF_ERROR(damage("the file ends inside its header"));
      break;
    }
    std::array<std::uint8_t, fmt::kRecordHeaderSize> raw{};
    PFEX_RETURN_IF_ERROR(pread_all(fd_, raw, offset, path_));
    RecordHeader h = parse_header(raw);
    if (!h.intact) {
      PFEX_RETURN_IF_ERROR(damage("header checksum mismatch"));
      break;
    }
    if (h.sequence != sequence) {
      PFEX_RETURN_IF_ERROR(damage("sequence " + std::to_string(h.sequence)));
      break;
    }
    const std::uint64_t end = offset + fmt::kRecordHeaderSize + h.length;
    if (end > size) {
      PFEX_RETURN_IF_ERROR(
          damage("the file ends at offset " + std::to_string(size) + ", inside its payload"));
      break;
    }
    if (acknowledged && end > mark.end) {
      return refused(
          "damaged (it extends past the acknowledged end, which is not a record "
          "boundary)");
    }
    payload.resize(h.length);
    PFEX_RETURN_IF_ERROR(pread_all(fd_, payload, offset + fmt::kRecordHeaderSize, path_));
    if (crc32c(payload) != h.payload_crc) {
      PFEX_RETURN_IF_ERROR(damage("payload checksum mismatch"));
      break;
    }
    offsets_.push_back(offset);
    last_time = std::max(last_time, h.entry_time);
    ++sequence;
    offset = end;
  }
  if (offset < mark.end) {
    return refused("missing (the file ends at offset " + std::to_string(size) + ")");
  }
  if (offset == mark.end && sequence - 1 != mark.sequence) return miscounted();

  if (offset < size) {
    if (::ftruncate(fd_, static_cast<off_t>(offset)) != 0)
      return io_failure("cannot truncate", path_);
    const std::string message =
        "file log " + path_ + ": cut " + std::to_string(size - offset) + " bytes at offset " +
        std::to_string(offset) + " (record " + std::to_string(sequence) + " on: " + cut_reason +
        "); they lie past the acknowledged end " + std::to_string(mark.end) +
        ", so no record there was ever acknowledged";
    if (options_.warn) {
      options_.warn(message);
    } else {
      std::fprintf(stderr, "pfex: %s\n", message.c_str());
    }
  }
  // Records kept past the acknowledged end become acknowledged now: make them durable first.
  if (offset != mark.end || offset < size) {
    if (::fdatasync(fd_) != 0) return io_failure("cannot fsync", path_);
  }
  recovery_ = Recovery{
      .entries = offsets_.size(), .truncated_bytes = size - offset, .acknowledged = mark.sequence};
  next_sequence_ = sequence;
  synced_sequence_ = durable_sequence_ = sequence - 1;
  last_time_ = last_time;
  assigned_end_ = write_offset_ = synced_end_ = durable_end_ = offset;
  next_slot_ = 1 - mark.slot;
  return publish_synced(offset, durable_sequence_);
}

// Overwrites the marker's older slot and makes it durable: only then may the batch be
// acknowledged.
Status FileLog::publish_synced(std::uint64_t end, std::uint64_t sequence) {
  const std::string path = synced_path_of(path_);
  PFEX_RETURN_IF_ERROR(pwrite_all(synced_fd_, encode_synced_slot(end, sequence),
                                  fmt::synced_slot_offset(next_slot_), path));
  if (::fdatasync(synced_fd_) != 0) return io_failure("cannot fsync", path);
  next_slot_ = 1 - next_slot_;
  return Status::ok();
}

Status FileLog::write_batch(const Bytes& batch, std::uint64_t offset) {
  PFEX_RETURN_IF_ERROR(pwrite_all(fd_, batch, offset, path_));
  if (::fdatasync(fd_) != 0) return io_failure("cannot fsync", path_);
  return Status::ok();
}

Result<Appended> FileLog::append(ByteSpan payload) {
  if (payload.size() > fmt::kMaxPayload) {
    return Status::invalid_argument("log entry of " + std::to_string(payload.size()) +
                                    " bytes exceeds the maximum of " +
                                    std::to_string(fmt::kMaxPayload));
  }
  std::unique_lock lock(mutex_);
  if (!failed_.is_ok()) return failed_.with_context("file log is failed");
  const std::uint64_t sequence = next_sequence_++;
  const LedgerTime time = std::max(options_.clock(), last_time_);
  last_time_ = time;
  offsets_.push_back(assigned_end_);
  const std::size_t before = pending_.size();
  encode_record(&pending_, sequence, time, payload);
  assigned_end_ += pending_.size() - before;
  pending_last_sequence_ = sequence;

  // Group commit in two stages, each run by one appender at a time for everyone: whoever finds
  // records synced but not yet acknowledged and no marker being written publishes the marker up
  // to them; whoever finds records pending and no batch being written writes and syncs them all
  // (its own and any queued behind the previous batch). Batches are written in order, so the
  // marker only ever names a prefix of the log that is on disk. The rest wait. The marker comes
  // first, so an appender that has just synced a batch acknowledges it itself: acknowledgements
  // never wait behind a stream of new batches.
  while (durable_sequence_ < sequence) {
    if (!failed_.is_ok()) return failed_.with_context("file log write failed");
    if (!marking_ && synced_sequence_ > durable_sequence_) {
      // Only after the log's fsync: readers must never see a record that a crash could still
      // take away, and a batch is acknowledged only once the marker that protects it from
      // recovery is durable.
      marking_ = true;
      const std::uint64_t end = synced_end_;
      const std::uint64_t last = synced_sequence_;
      lock.unlock();
      if (options_.before_sync) options_.before_sync(Options::SyncStage::kMarkerSync, last);
      Status published = publish_synced(end, last);
      lock.lock();
      marking_ = false;
      ++marker_sync_count_;
      if (published.is_ok()) {
        durable_sequence_ = last;
        durable_end_ = end;
      } else {
        failed_ = published;
      }
      changed_.notify_all();
      continue;
    }
    if (!writing_ && !pending_.empty()) {
      writing_ = true;
      Bytes batch;
      batch.swap(pending_);
      const std::uint64_t batch_last = pending_last_sequence_;
      const std::uint64_t offset = write_offset_;
      write_offset_ += batch.size();
      lock.unlock();
      if (options_.before_sync) options_.before_sync(Options::SyncStage::kLogSync, batch_last);
      Status written = write_batch(batch, offset);
      lock.lock();
      writing_ = false;
      ++sync_count_;
      if (written.is_ok()) {
        synced_sequence_ = batch_last;
        synced_end_ = offset + batch.size();
        // Nothing is acknowledged yet: this appender goes on to the marker (or waits for the one
        // being written), and one waiter is enough to take the next batch; all are woken when the
        // marker says more.
        changed_.notify_one();
      } else {
        failed_ = written;
        changed_.notify_all();
      }
      continue;
    }
    changed_.wait(lock);
  }
  return Appended{sequence, time};
}

Result<std::vector<LogEntry>> FileLog::read(std::uint64_t from, std::size_t max_entries) {
  from = std::max<std::uint64_t>(from, 1);
  std::vector<std::uint64_t> offsets;
  std::uint64_t end = 0;
  {
    std::lock_guard lock(mutex_);
    if (from > durable_sequence_ || max_entries == 0) return std::vector<LogEntry>{};
    const std::uint64_t last = std::min<std::uint64_t>(durable_sequence_, from - 1 + max_entries);
    offsets.assign(offsets_.begin() + static_cast<std::ptrdiff_t>(from - 1),
                   offsets_.begin() + static_cast<std::ptrdiff_t>(last));
    end = last == durable_sequence_ ? durable_end_ : offsets_[last];
  }
  // Records are immutable once durable, so the file can be read without the lock.
  return read_records(fd_, path_, from, offsets, end);
}

Result<std::vector<LogEntry>> FileLog::follow(std::uint64_t from, std::size_t max_entries,
                                              std::chrono::milliseconds timeout,
                                              std::stop_token stop) {
  from = std::max<std::uint64_t>(from, 1);
  {
    std::unique_lock lock(mutex_);
    ++waiting_followers_;
    changed_.wait_for(lock, stop, timeout,
                      [&] { return durable_sequence_ >= from || !failed_.is_ok(); });
    --waiting_followers_;
    // A failed log will not grow: say so rather than let a follower spin on empty results.
    if (durable_sequence_ < from && !failed_.is_ok())
      return failed_.with_context("file log failed");
  }
  return read(from, max_entries);
}

std::uint64_t FileLog::last_sequence() const {
  std::lock_guard lock(mutex_);
  return durable_sequence_;
}

std::uint64_t FileLog::sync_count() const {
  std::lock_guard lock(mutex_);
  return sync_count_;
}

std::uint64_t FileLog::marker_sync_count() const {
  std::lock_guard lock(mutex_);
  return marker_sync_count_;
}

std::size_t FileLog::waiting_followers() const {
  std::lock_guard lock(mutex_);
  return waiting_followers_;
}

Result<std::unique_ptr<FileLogReader>> FileLogReader::open(const std::string& path) {
  return open(path, Options{});
}

Result<std::unique_ptr<FileLogReader>> FileLogReader::open(const std::string& path,
                                                           Options options) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? Status::not_found("no file log at " + path)
                           : io_failure("cannot open", path);
  }
  Status header = check_file_header(fd, path);
  Result<int> synced = header.is_ok() ? open_synced(path, O_RDONLY) : Result<int>(header);
  if (!synced.is_ok()) {
    ::close(fd);
    return synced.status();
  }
  return std::unique_ptr<FileLogReader>(new FileLogReader(path, fd, *synced, options));
}

FileLogReader::FileLogReader(std::string path, int fd, int synced_fd, Options options)
    : path_(std::move(path)),
      fd_(fd),
      synced_fd_(synced_fd),
      options_(options),
      indexed_end_(fmt::kFileHeaderSize) {}

FileLogReader::~FileLogReader() {
  ::close(synced_fd_);
  ::close(fd_);
}

Status FileLogReader::refresh() {
  PFEX_ASSIGN_OR_RETURN(SyncedMark mark, read_synced(synced_fd_, path_));
  const std::uint64_t end = mark.end;
  if (end < indexed_end_) {
    return Status::corruption("file log " + path_ +
                              ": the marker's acknowledged end moved back from " +
                              std::to_string(indexed_end_) + " to " + std::to_string(end) +
                              " (the log was replaced or cut)");
  }
  // Everything below `end` was fsync'd intact by the writer, so any damage there is real.
  while (indexed_end_ < end) {
    const std::uint64_t next = offsets_.size() + 1;
    auto bad = [&](std::string_view what) {
      return Status::corruption("file log " + path_ + ": record " + std::to_string(next) +
                                " at offset " + std::to_string(indexed_end_) + " is damaged (" +
                                std::string(what) + ")");
    };
    if (end - indexed_end_ < fmt::kRecordHeaderSize) return bad("truncated");
    std::array<std::uint8_t, fmt::kRecordHeaderSize> header{};
    PFEX_ASSIGN_OR_RETURN(std::size_t got, pread_upto(fd_, header, indexed_end_, path_));
    if (got < header.size()) {
      return bad("truncated: the file ends at offset " + std::to_string(indexed_end_ + got));
    }
    RecordHeader h = parse_header(header);
    if (!h.intact) return bad("header checksum mismatch");
    if (h.sequence != next) return bad("sequence " + std::to_string(h.sequence));
    const std::uint64_t record_end = indexed_end_ + fmt::kRecordHeaderSize + h.length;
    if (record_end > end) return bad("extends past the synced end");
    offsets_.push_back(indexed_end_);
    indexed_end_ = record_end;
  }
  if (offsets_.size() != mark.sequence) {
    return Status::corruption("file log " + path_ + ": .synced names sequence " +
                              std::to_string(mark.sequence) + " but the log holds " +
                              std::to_string(offsets_.size()) + " records below its end");
  }
  return Status::ok();
}

Result<std::vector<LogEntry>> FileLogReader::read(std::uint64_t from, std::size_t max_entries) {
  from = std::max<std::uint64_t>(from, 1);
  std::lock_guard lock(mutex_);
  PFEX_RETURN_IF_ERROR(refresh());
  const std::uint64_t durable = offsets_.size();
  if (from > durable || max_entries == 0) return std::vector<LogEntry>{};
  const std::uint64_t last = std::min<std::uint64_t>(durable, from - 1 + max_entries);
  std::vector<std::uint64_t> offsets(offsets_.begin() + static_cast<std::ptrdiff_t>(from - 1),
                                     offsets_.begin() + static_cast<std::ptrdiff_t>(last));
  const std::uint64_t end = last == durable ? indexed_end_ : offsets_[last];
  return read_records(fd_, path_, from, offsets, end);
}

Result<std::vector<LogEntry>> FileLogReader::follow(std::uint64_t from, std::size_t max_entries,
                                                    std::chrono::milliseconds timeout,
                                                    std::stop_token stop) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    PFEX_ASSIGN_OR_RETURN(auto entries, read(from, max_entries));
    if (!entries.empty() || max_entries == 0) return entries;
    const auto now = std::chrono::steady_clock::now();
    if (stop.stop_requested() || now >= deadline) return entries;
    empty_polls_.fetch_add(1);
    std::unique_lock lock(mutex_);
    stopped_.wait_for(
        lock, stop,
        std::min<std::chrono::steady_clock::duration>(options_.poll_interval, deadline - now),
        [] { return false; });
  }
}

}  // namespace pfex::ledger
