// Helpers of the fault campaign's tests: running the real `pfex` binary (gateway, validator) as
// child processes, killing them, and reading what a validator reported.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/codec.hpp"
#include "ledger/crc32c.hpp"
#include "ledger/file_log_format.hpp"

#ifndef PFEX_BINARY
#error "PFEX_BINARY must name the pfex executable"
#endif

namespace pfex::faults {

// Runs of each campaign: PFEX_FAULT_RUNS, default 3.
inline int runs() {
  const char* env = std::getenv("PFEX_FAULT_RUNS");
  const int n = env != nullptr ? std::atoi(env) : 0;
  return n > 0 ? n : 3;
}

inline Bytes file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

inline std::string file_text(const std::string& path) {
  const Bytes bytes = file_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

// Starts `pfex` with `args`, its stdout and stderr going to `output`.
inline pid_t spawn_pfex(const std::vector<std::string>& args, const std::string& output) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) ::_exit(126);
  ::dup2(fd, 1);
  ::dup2(fd, 2);
  std::vector<char*> argv;
  std::string binary = PFEX_BINARY;
  argv.push_back(binary.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(binary.c_str(), argv.data());
  ::_exit(127);
}

// Waits for `pid`, killing it after `limit`; returns its exit code (-signal if killed).
inline int wait_bounded(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "process " << pid << " did not finish within " << limit.count() << " ms";
      return -SIGKILL;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// Sends `signal_number` to the child `pid`; never to a process group (pid 0 or below).
inline void signal_child(pid_t pid, int signal_number) {
  if (pid > 0) {
    ::kill(pid, signal_number);
  } else {
    ADD_FAILURE() << "no process to signal";
  }
}

// Kills `pid`; false if it had already exited by itself. Never signals a process group.
inline bool kill_now(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return false;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return !WIFEXITED(status);
}

// True while `pid` (a child) runs.
inline bool running(pid_t pid) {
  if (pid <= 0) return false;
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

struct ValidatorRun {
  int exit_code = 0;
  std::string output;
  std::string chain, state;  // from the final state print
  std::uint64_t entries = 0;
};

// The last value printed as "<name> <value>" on a line of `output` ("" if none).
inline std::string printed_field(const std::string& output, const std::string& name) {
  const std::string lines = "\n" + output;
  const auto at = lines.rfind("\n" + name + " ");
  if (at == std::string::npos) return std::string();
  const auto start = at + name.size() + 2;
  return lines.substr(start, lines.find('\n', start) - start);
}

// Fills chain, state and entries from a validator's output.
inline void parse_state(ValidatorRun& run) {
  run.chain = printed_field(run.output, "chain");
  run.state = printed_field(run.output, "state");
  const std::string entries = printed_field(run.output, "entries");
  run.entries = entries.empty() ? 0 : std::stoull(entries);
}

// `pfex validator --once` over `log` (a path or an etcd: spec), with `snapshots` if not empty.
inline ValidatorRun validate_once(const std::string& log, const std::string& snapshots,
                                  const std::string& scratch) {
  std::vector<std::string> args = {"validator", "--log", log, "--once"};
  if (!snapshots.empty()) {
    args.push_back("--snapshots");
    args.push_back(snapshots);
  }
  const std::string output = scratch + ".out";
  ValidatorRun run;
  run.exit_code = wait_bounded(spawn_pfex(args, output), std::chrono::seconds(120));
  run.output = file_text(output);
  parse_state(run);
  return run;
}

// ---- the file log ----

inline std::string synced_of(const std::string& log) {
  return log + std::string(ledger::file_log_format::kSyncedSuffix);
}

// The acknowledged end the marker of `log` names (docs/ledger/file-log-format.md, "The synced
// marker": the intact slot with the larger end).
inline std::uint64_t acknowledged_end(const std::string& log) {
  namespace f = ledger::file_log_format;
  const Bytes marker = file_bytes(synced_of(log));
  std::uint64_t best = 0;
  for (std::size_t i = 0; i < f::kSyncedSlotCount && marker.size() == f::kSyncedSize; ++i) {
    const ByteSpan slot = ByteSpan(marker).subspan(f::synced_slot_offset(i), f::kSyncedSlotSize);
    Reader r(slot);
    const std::uint64_t end = r.u64("end");
    r.u64("sequence");
    const std::uint32_t crc = r.u32("crc");
    if (crc == ledger::crc32c(slot.first(f::kSyncedCrcOffset))) best = std::max(best, end);
  }
  return best;
}

// What an operating-system crash can do to a log whose writer died: lose or zero any part of what
// lies past the acknowledged end (written, not yet synced).
inline void lose_unsynced_tail(const std::string& log, std::mt19937_64& rng) {
  Bytes bytes = file_bytes(log);
  const std::uint64_t end = acknowledged_end(log);
  ASSERT_GE(end, ledger::file_log_format::kFileHeaderSize);
  ASSERT_LE(end, bytes.size());
  if (end == bytes.size()) return;
  const std::size_t from = end + rng() % (bytes.size() - end);
  // In place (a validator is reading the file): never below the acknowledged end.
  if (rng() % 2 == 0) {
    std::filesystem::resize_file(log, from);
  } else {
    const std::size_t to = std::min(bytes.size(), from + 1 + rng() % 4096);
    std::fstream file(log, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(from));
    const std::string zeros(to - from, '\0');
    file.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
}

}  // namespace pfex::faults
