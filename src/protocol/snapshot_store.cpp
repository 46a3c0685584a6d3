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

}  // namespace

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
