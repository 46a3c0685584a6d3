// Validator snapshots on disk; see snapshot_store.hpp.
#include "protocol/snapshot_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace pfex::protocol {
namespace {

constexpr std::string_view kPrefix = "snapshot-";
constexpr std::string_view kSuffix = ".pfxs";

Status errno_status(const std::string& what, const std::string& path) {
  return Status::io_error(what + " " + path + ": " + std::strerror(errno));
}

Status write_all(int fd, ByteSpan bytes, const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("write", path);
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::ok();
}

Status fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("open directory", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return errno_status("fsync directory", dir);
  return Status::ok();
}

}  // namespace

Status write_file_atomically(const std::string& path, ByteSpan bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_status("create", tmp);
  Status status = write_all(fd, bytes, tmp);
  if (status && ::fsync(fd) != 0) status = errno_status("fsync", tmp);
  ::close(fd);
  if (status && std::rename(tmp.c_str(), path.c_str()) != 0) status = errno_status("rename", tmp);
  if (!status) {
    ::unlink(tmp.c_str());
    return status;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  return fsync_dir(dir.empty() ? "." : dir);
}

Result<Bytes> read_whole_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::not_found("no file " + path);
    return errno_status("open", path);
  }
  Bytes out;
  std::uint8_t buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = errno_status("read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

Result<SnapshotStore> SnapshotStore::open(std::string dir, std::size_t keep) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error("create directory " + dir + ": " + ec.message());
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

Status SnapshotStore::save(const Validator& validator) {
  char name[64];
  std::snprintf(name, sizeof name, "snapshot-%020llu.pfxs",
                static_cast<unsigned long long>(validator.next_sequence() - 1));
  PFEX_RETURN_IF_ERROR(write_file_atomically(dir_ + "/" + name, validator.snapshot()));
  PFEX_ASSIGN_OR_RETURN(auto files, list());
  while (files.size() > keep_) {
    std::error_code ec;
    std::filesystem::remove(files.front().second, ec);
    if (ec) return Status::io_error("remove " + files.front().second + ": " + ec.message());
    files.erase(files.begin());
  }
  return Status::ok();
}

Result<std::optional<Validator>> SnapshotStore::load_latest(std::string* skipped) const {
  PFEX_ASSIGN_OR_RETURN(auto files, list());
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    Result<Bytes> bytes = read_whole_file(it->second);
    Status status = bytes.status();
    if (bytes) {
      Result<Validator> v = Validator::restore(*bytes);
      if (v) return std::optional<Validator>(std::move(v).value());
      status = v.status();
    }
    if (skipped) *skipped += it->second + ": " + status.to_string() + "\n";
  }
  return std::optional<Validator>();
}

}  // namespace pfex::protocol
