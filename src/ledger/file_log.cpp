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

// Reads exactly out.size() bytes at `offset`; a short read (end of file) is an error.
Status pread_all(int fd, std::span<std::uint8_t> out, std::uint64_t offset,
                 const std::string& path) {
  while (!out.empty()) {
    ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_failure("cannot read", path);
    }
    if (n == 0) return Status::io_error("unexpected end of file in " + path);
    out = out.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
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

// Creates `path` holding only the file header, atomically: a crash leaves either no file or a
// complete header, never a half-written one.
Status create_log_file(const std::string& path) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_failure("cannot create", tmp);
  Status s = pwrite_all(fd, fmt::kFileMagic, 0, tmp);
  if (s.is_ok() && ::fsync(fd) != 0) s = io_failure("cannot fsync", tmp);
  ::close(fd);
  PFEX_RETURN_IF_ERROR(s);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_failure("cannot rename to", path);
  return fsync_directory_of(path);
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

// Offset just past the last non-zero byte of [begin, end) of the file (begin when all are zero):
// the zero-filled tail a crash can leave behind when a size update outlives the data.
Result<std::uint64_t> end_of_nonzero(int fd, std::uint64_t begin, std::uint64_t end,
                                     const std::string& path) {
  Bytes chunk(std::size_t{1} << 16);
  while (end > begin) {
    std::uint64_t n = std::min<std::uint64_t>(chunk.size(), end - begin);
    PFEX_RETURN_IF_ERROR(pread_all(fd, std::span(chunk).first(n), end - n, path));
    for (std::uint64_t i = n; i > 0; --i) {
      if (chunk[i - 1] != 0) return end - n + i;
    }
    end -= n;
  }
  return begin;
}

// Reads and checks the records with sequences from, from + 1, ... at `offsets`; the last one ends
// at `end`.
Result<std::vector<LogEntry>> read_records(int fd, const std::string& path, std::uint64_t from,
                                           const std::vector<std::uint64_t>& offsets,
                                           std::uint64_t end) {
  Bytes raw(end - offsets.front());
  PFEX_RETURN_IF_ERROR(pread_all(fd, raw, offsets.front(), path));
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
    ByteSpan rest = ByteSpan(raw).subspan(at);
    if (rest.size() < fmt::kRecordHeaderSize) return bad("truncated");
    RecordHeader h = parse_header(rest.first(fmt::kRecordHeaderSize));
    if (!h.intact) return bad("header checksum mismatch");
    if (h.sequence != sequence) return bad("sequence " + std::to_string(h.sequence));
    if (rest.size() < fmt::kRecordHeaderSize + h.length) return bad("truncated");
    ByteSpan payload = rest.subspan(fmt::kRecordHeaderSize, h.length);
    if (crc32c(payload) != h.payload_crc) return bad("payload checksum mismatch");
    entries.push_back(LogEntry{sequence, h.entry_time, Bytes(payload.begin(), payload.end())});
  }
  return entries;
}

Bytes encode_synced(std::uint64_t end, std::uint64_t sequence) {
  Bytes out;
  Writer w(&out);
  w.u64(end);
  w.u64(sequence);
  w.u32(crc32c(out));
  return out;
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
}

FileLog::FileLog(std::string path, int fd, Options options)
    : path_(std::move(path)), fd_(fd), options_(std::move(options)) {}

FileLog::~FileLog() {
  if (synced_fd_ >= 0) ::close(synced_fd_);
  ::close(fd_);
}

// Scans every record from the start, rebuilding the offset index. The rules (which damage is a
// torn tail, which is refused) are those of docs/ledger/file-log-format.md, "Recovery".
Status FileLog::recover() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return io_failure("cannot stat", path_);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::array<std::uint8_t, fmt::kFileHeaderSize> magic{};
  if (size < magic.size() || !pread_all(fd_, magic, 0, path_).is_ok() || magic != fmt::kFileMagic) {
    return Status::corruption("file " + path_ + " is not a pfex file log (bad or missing header)");
  }

  std::uint64_t offset = fmt::kFileHeaderSize;
  std::uint64_t sequence = 1;
  LedgerTime last_time{0};
  std::optional<std::uint64_t> nonzero_end;  // computed on first need
  auto zeros_from = [&](std::uint64_t from) -> Result<bool> {
    if (!nonzero_end) {
      PFEX_ASSIGN_OR_RETURN(nonzero_end, end_of_nonzero(fd_, fmt::kFileHeaderSize, size, path_));
    }
    return *nonzero_end <= from;
  };
  auto damaged = [&](std::string_view what) {
    return Status::corruption("file log " + path_ + ": record " + std::to_string(sequence) +
                              " at offset " + std::to_string(offset) + " is damaged (" +
                              std::string(what) + "), " + std::to_string(size - offset) +
                              " bytes before the end of the file; refusing to open a log damaged "
                              "before its tail");
  };

  Bytes payload;
  while (offset < size) {
    if (size - offset < fmt::kRecordHeaderSize) break;  // torn: incomplete header
    std::array<std::uint8_t, fmt::kRecordHeaderSize> raw{};
    PFEX_RETURN_IF_ERROR(pread_all(fd_, raw, offset, path_));
    RecordHeader h = parse_header(raw);
    if (!h.intact) {
      // Torn only if the file is all zeros from inside this header on.
      PFEX_ASSIGN_OR_RETURN(bool torn, zeros_from(offset + fmt::kRecordHeaderSize));
      if (torn) break;
      return damaged("header checksum mismatch");
    }
    if (h.sequence != sequence) return damaged("sequence " + std::to_string(h.sequence));
    const std::uint64_t end = offset + fmt::kRecordHeaderSize + h.length;
    if (end > size) break;  // torn: incomplete payload
    payload.resize(h.length);
    PFEX_RETURN_IF_ERROR(pread_all(fd_, payload, offset + fmt::kRecordHeaderSize, path_));
    if (crc32c(payload) != h.payload_crc) {
      PFEX_ASSIGN_OR_RETURN(bool torn, zeros_from(end));
      if (torn) break;
      return damaged("payload checksum mismatch");
    }
    offsets_.push_back(offset);
    last_time = std::max(last_time, h.entry_time);
    ++sequence;
    offset = end;
  }

  if (offset < size) {
    if (::ftruncate(fd_, static_cast<off_t>(offset)) != 0)
      return io_failure("cannot truncate", path_);
    if (::fdatasync(fd_) != 0) return io_failure("cannot fsync", path_);
  }
  recovery_ = Recovery{.entries = offsets_.size(), .truncated_bytes = size - offset};
  next_sequence_ = sequence;
  durable_sequence_ = sequence - 1;
  last_time_ = last_time;
  assigned_end_ = write_offset_ = durable_end_ = offset;

  const std::string synced_path = path_ + std::string(fmt::kSyncedSuffix);
  synced_fd_ = ::open(synced_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (synced_fd_ < 0) return io_failure("cannot open", synced_path);
  return publish_synced(offset, durable_sequence_);
}

Status FileLog::publish_synced(std::uint64_t end, std::uint64_t sequence) {
  return pwrite_all(synced_fd_, encode_synced(end, sequence), 0,
                    path_ + std::string(fmt::kSyncedSuffix));
}

Status FileLog::write_batch(const Bytes& batch, std::uint64_t offset, std::uint64_t last_sequence) {
  PFEX_RETURN_IF_ERROR(pwrite_all(fd_, batch, offset, path_));
  if (::fdatasync(fd_) != 0) return io_failure("cannot fsync", path_);
  // Only after the fsync: readers must never see a record that a crash could still take away.
  return publish_synced(offset + batch.size(), last_sequence);
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

  // Group commit: whoever finds no write in progress writes and syncs everything pending
  // (its own record and any queued behind the previous batch); the rest wait for it.
  while (durable_sequence_ < sequence) {
    if (!failed_.is_ok()) return failed_.with_context("file log write failed");
    if (writing_) {
      changed_.wait(lock);
      continue;
    }
    writing_ = true;
    Bytes batch;
    batch.swap(pending_);
    const std::uint64_t batch_last = pending_last_sequence_;
    const std::uint64_t offset = write_offset_;
    write_offset_ += batch.size();
    lock.unlock();
    Status written = write_batch(batch, offset, batch_last);
    lock.lock();
    writing_ = false;
    ++sync_count_;
    if (written.is_ok()) {
      durable_sequence_ = batch_last;
      durable_end_ = offset + batch.size();
    } else {
      failed_ = written;
    }
    changed_.notify_all();
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
    changed_.wait_for(lock, stop, timeout,
                      [&] { return durable_sequence_ >= from || !failed_.is_ok(); });
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
  std::array<std::uint8_t, fmt::kFileHeaderSize> magic{};
  if (!pread_all(fd, magic, 0, path).is_ok() || magic != fmt::kFileMagic) {
    ::close(fd);
    return Status::corruption("file " + path + " is not a pfex file log (bad or missing header)");
  }
  return std::unique_ptr<FileLogReader>(new FileLogReader(path, fd, options));
}

FileLogReader::FileLogReader(std::string path, int fd, Options options)
    : path_(std::move(path)), fd_(fd), options_(options), indexed_end_(fmt::kFileHeaderSize) {}

FileLogReader::~FileLogReader() {
  if (synced_fd_ >= 0) ::close(synced_fd_);
  ::close(fd_);
}

Status FileLogReader::refresh() {
  const std::string synced_path = path_ + std::string(fmt::kSyncedSuffix);
  if (synced_fd_ < 0) {
    synced_fd_ = ::open(synced_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (synced_fd_ < 0)
      return errno == ENOENT ? Status::ok() : io_failure("cannot open", synced_path);
  }
  std::array<std::uint8_t, fmt::kSyncedSize> raw{};
  ssize_t n = ::pread(synced_fd_, raw.data(), raw.size(), 0);
  if (n < 0) return io_failure("cannot read", synced_path);
  Reader r(ByteSpan(raw).first(static_cast<std::size_t>(n)));
  const std::uint64_t end = r.u64("durable_end");
  const std::uint64_t sequence = r.u64("durable_sequence");
  const std::uint32_t crc = r.u32("synced_crc");
  if (!r.finish().is_ok() || crc != crc32c(ByteSpan(raw).first(fmt::kSyncedCrcOffset))) {
    return Status::ok();  // not written yet, or caught mid-rewrite: look again at the next poll
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
    PFEX_RETURN_IF_ERROR(pread_all(fd_, header, indexed_end_, path_));
    RecordHeader h = parse_header(header);
    if (!h.intact) return bad("header checksum mismatch");
    if (h.sequence != next) return bad("sequence " + std::to_string(h.sequence));
    const std::uint64_t record_end = indexed_end_ + fmt::kRecordHeaderSize + h.length;
    if (record_end > end) return bad("extends past the synced end");
    offsets_.push_back(indexed_end_);
    indexed_end_ = record_end;
  }
  if (indexed_end_ == end && offsets_.size() != sequence) {
    return Status::corruption("file log " + path_ + ": .synced names sequence " +
                              std::to_string(sequence) + " but the log holds " +
                              std::to_string(offsets_.size()) + " records");
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
    std::unique_lock lock(mutex_);
    stopped_.wait_for(
        lock, stop,
        std::min<std::chrono::steady_clock::duration>(options_.poll_interval, deadline - now),
        [] { return false; });
  }
}

}  // namespace pfex::ledger
