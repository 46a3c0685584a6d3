// The standing fault campaign of the file ledger: the gateway's log writer and a validator are
// crashed (SIGKILL) at random points while writers append concurrently, and copies of the result
// are corrupted and truncated at random offsets. After each run the invariant is checked:
//
//   every acknowledged transaction is in the log exactly once, at the sequence it was
//   acknowledged with, and every validator reports the same chain and state hash or refuses
//   with a clear error (exit status non-zero, naming the damage).
//
// The writer is FileLog under concurrent appenders in a child process (what the gateway runs);
// the validator is the real `pfex validator` with snapshots. Seeds are fixed, so a run is
// repeatable; PFEX_FAULT_RUNS raises the number of runs for a longer campaign (default 3).
// Each test prints what it injected and what was lost (must be nothing).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/hash.hpp"
#include "fault_util.hpp"
#include "ledger/crc32c.hpp"
#include "ledger/file_log.hpp"
#include "ledger/file_log_format.hpp"
#include "ledger/test_util.hpp"
#include "protocol/test_util.hpp"

namespace pfex {
namespace {

using namespace std::chrono_literals;
using ledger::testing::TempDir;
using namespace faults;
namespace fs = std::filesystem;

void write_file(const std::string& path, ByteSpan bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// ---- the writer: a child process appending from several threads ----

// One message from the writer process through its pipe (written atomically: < PIPE_BUF).
struct Message {
  std::uint64_t kind = 0;  // kAck, kOpened or kRefused
  std::uint64_t a = 0;     // ack: sequence; opened: entries kept; refused: 0
  std::uint64_t b = 0;     // opened: bytes cut
  Digest32 hash{};         // ack: digest of the payload
};
constexpr std::uint64_t kAck = 1, kOpened = 2, kRefused = 3;

// A valid transaction: the registration of a new key (each changes the exchange's state).
Bytes registration(const protocol::MarketId& market) {
  return protocol::sign_transparent(protocol::SigningKey::generate(), market, 1,
                                    market::RegisterAction{});
}

// Runs in the child: opens the log (recovering it), appends the genesis if the log is empty,
// then appends registrations from `threads` threads forever, acknowledging each through `fd`.
[[noreturn]] void writer_process(const std::string& path, const Bytes& genesis,
                                 const protocol::MarketId& market, int threads, int fd) {
  auto send = [fd](const Message& m) {
    if (::write(fd, &m, sizeof m) != static_cast<ssize_t>(sizeof m)) ::_exit(4);
  };
  ledger::FileLogOptions options;
  options.warn = [](const std::string&) {};  // counted through the pipe instead
  auto opened = ledger::FileLog::open(path, options);
  if (!opened.is_ok()) {
    send(Message{kRefused, 0, 0, {}});
    std::fprintf(stderr, "%s\n", opened.status().to_string().c_str());
    ::_exit(2);
  }
  auto& log = **opened;
  send(Message{kOpened, log.recovery().entries, log.recovery().truncated_bytes, {}});
  if (log.last_sequence() == 0) {
    auto appended = log.append(genesis);
    if (!appended.is_ok()) ::_exit(3);
    send(Message{kAck, appended->sequence, 0, blake2b_256(genesis)});
  }
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&] {
      for (;;) {
        const Bytes payload = registration(market);
        auto appended = log.append(payload);
        if (!appended.is_ok()) ::_exit(3);
        send(Message{kAck, appended->sequence, 0, blake2b_256(payload)});
      }
    });
  }
  for (auto& w : writers)
    w.join();
  ::_exit(0);
}

// What a campaign run produced and what the checks found.
struct Tally {
  int runs = 0;
  int writer_crashes = 0;
  int validator_crashes = 0;
  int corruptions = 0;
  int recovered = 0;      // reopened after a fault (a tail cut or nothing to do)
  int cuts = 0;           // reopenings that cut an unacknowledged tail
  int power_losses = 0;   // writer crashes that also lost unsynced data
  int refused_open = 0;   // the writer refused a damaged log with a clear error
  int refused_reads = 0;  // validators refused a damaged log with a clear error
  int lagging = 0;        // a validator saw only the entries an older marker slot names
  std::uint64_t acknowledged = 0;
  std::uint64_t lost = 0;  // acknowledged but missing or moved (must be 0)
  std::uint64_t duplicated = 0;

  void print(const char* what) const {
    std::printf(
        "%s: %d runs; faults injected: %d writer crashes (%d with power loss), %d validator "
        "crashes, %d "
        "corruptions/truncations; %d reopened (%d cut an unacknowledged tail), %d refused to "
        "open, %d validator refusals, %d validators behind a damaged marker slot; %llu "
        "acknowledged, %llu lost, %llu duplicated\n",
        what, runs, writer_crashes, power_losses, validator_crashes, corruptions, recovered, cuts,
        refused_open, refused_reads, lagging, static_cast<unsigned long long>(acknowledged),
        static_cast<unsigned long long>(lost), static_cast<unsigned long long>(duplicated));
    std::fflush(stdout);
  }
};

// Checks the invariant on a log that opened: every acknowledged payload at its sequence, and no
// payload twice.
void check_log(const std::string& path, const std::map<std::uint64_t, Digest32>& acked,
               Tally& tally) {
  auto log = ledger::FileLogReader::open(path);
  ASSERT_TRUE(log.is_ok()) << log.status().to_string();
  auto entries = (*log)->read(1, 10'000'000);
  ASSERT_TRUE(entries.is_ok()) << entries.status().to_string();
  std::set<Digest32> seen;
  for (const auto& e : *entries) {
    if (!seen.insert(blake2b_256(e.payload)).second) ++tally.duplicated;
  }
  for (const auto& [sequence, hash] : acked) {
    if (sequence > entries->size() || blake2b_256((*entries)[sequence - 1].payload) != hash) {
      ++tally.lost;
      ADD_FAILURE() << "acknowledged entry " << sequence << " is missing or changed in " << path;
    }
  }
  EXPECT_EQ(tally.duplicated, 0u);
}

// A validator's outcome against the reference (a fresh replay of the undamaged log): the same
// chain and state, or a refusal that says what is wrong. With `may_lag` (one marker slot damaged,
// the writer not yet reopened), the validator may also stop at the older slot's end: a prefix of
// the log, which it reports as fewer entries.
void check_validator(const ValidatorRun& run, const ValidatorRun& reference, Tally& tally,
                     const std::string& what, bool may_lag = false) {
  if (run.exit_code == 0 && may_lag && run.entries < reference.entries) {
    ++tally.lagging;
    return;
  }
  if (run.exit_code == 0) {
    EXPECT_EQ(run.chain, reference.chain) << what << "\n" << run.output;
    EXPECT_EQ(run.state, reference.state) << what << "\n" << run.output;
    return;
  }
  ++tally.refused_reads;
  const bool clear = run.output.find("corruption") != std::string::npos &&
                     (run.output.find("offset") != std::string::npos ||
                      run.output.find("marker") != std::string::npos ||
                      run.output.find("pfex file log") != std::string::npos ||
                      run.output.find("format version") != std::string::npos ||
                      run.output.find("does not match the log") != std::string::npos);
  EXPECT_TRUE(clear) << what << ": refused without a clear error:\n" << run.output;
}

// One run: `lives` writer processes in turn, each SIGKILLed after a random number of acks, while
// a following validator with snapshots is SIGKILLed and restarted at random points. Leaves the
// log and the validator's snapshots in `dir`; returns the acknowledged entries.
std::map<std::uint64_t, Digest32> crash_run(const TempDir& dir, std::mt19937_64& rng,
                                            Tally& tally) {
  const std::string log = dir.file("log");
  const std::string snaps = dir.file("snaps");
  protocol::testing::TestMarket market;
  std::map<std::uint64_t, Digest32> acked;
  pid_t validator = 0;
  int validator_lives = 0;
  std::string validator_output;
  auto start_validator = [&] {
    validator_output = dir.file("validator") + std::to_string(++validator_lives) + ".out";
    validator = spawn_pfex({"validator", "--log", log, "--snapshots", snaps, "--snapshot-every",
                            std::to_string(20 + rng() % 60)},
                           validator_output);
  };
  // Crashes the following validator, which must still be running: it never gives up on a log
  // that only crashes touched.
  auto crash_validator = [&] {
    if (!kill_now(validator)) {
      const Bytes out = file_bytes(validator_output);
      ADD_FAILURE() << "the following validator exited by itself:\n"
                    << std::string(out.begin(), out.end());
    }
    ++tally.validator_crashes;
  };
  constexpr int kLives = 3;
  for (int life = 0; life < kLives; ++life) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    const pid_t writer = ::fork();
    if (writer == 0) {
      ::close(fds[0]);
      writer_process(log, market.genesis, market.id, 4, fds[1]);
    }
    ::close(fds[1]);
    const std::uint64_t target = acked.size() + 40 + rng() % 200;
    const std::uint64_t validator_kill_at = acked.size() + rng() % 200;
    bool killed = false;
    Message m;
    while (::read(fds[0], &m, sizeof m) == static_cast<ssize_t>(sizeof m)) {
      if (m.kind == kRefused) {
        ADD_FAILURE() << "the writer refused a log that only crashes touched";
        break;
      }
      if (m.kind == kOpened) {
        if (life > 0) {
          ++tally.recovered;
          if (m.b > 0) ++tally.cuts;
        }
        if (validator == 0) start_validator();  // once the log exists
        continue;
      }
      if (!acked.emplace(m.a, m.hash).second) {
        ++tally.duplicated;
        ADD_FAILURE() << "sequence " << m.a << " acknowledged twice";
      }
      if (validator != 0 && acked.size() == validator_kill_at) {
        crash_validator();
        start_validator();
      }
      if (!killed && acked.size() >= target) {
        ::kill(writer, SIGKILL);
        killed = true;
      }
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(writer, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status)) << "writer exit status " << status;
    ++tally.writer_crashes;
    // Half the crashes are power losses: the operating system also loses part of what was written
    // but not yet synced (a cut or zeroed range past the acknowledged end).
    if (rng() % 2 == 0) {
      ++tally.power_losses;
      lose_unsynced_tail(log, rng);
    }
    // The validator dies at a random moment of the writer's downtime too, now and then.
    if (rng() % 2 == 0) {
      crash_validator();
      start_validator();
    }
  }
  // A last writer life recovers the last crash, then the following validator is stopped.
  {
    ledger::FileLogOptions options;
    options.warn = [&](const std::string&) { ++tally.cuts; };
    auto reopened = ledger::FileLog::open(log, options);
    EXPECT_TRUE(reopened.is_ok()) << reopened.status().to_string();
    ++tally.recovered;
  }
  // Let the following validator write a snapshot (if none of its lives has yet), so the restart
  // below really restores one.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  auto has_snapshot = [&] {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(snaps, ec)) {
      if (e.path().extension() == ".pfxs") return true;
    }
    return false;
  };
  while (!has_snapshot() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  crash_validator();
  tally.acknowledged += acked.size();
  return acked;
}

TEST(FileLogFaults, CrashesOfWriterAndValidatorUnderConcurrentWritersLoseNothing) {
  Tally tally;
  std::mt19937_64 rng(20261201);
  for (int run = 0; run < runs(); ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    TempDir dir;
    const auto acked = crash_run(dir, rng, tally);
    ++tally.runs;
    check_log(dir.file("log"), acked, tally);
    const ValidatorRun fresh = validate_once(dir.file("log"), "", dir.file("fresh"));
    ASSERT_EQ(fresh.exit_code, 0) << fresh.output;
    ASSERT_FALSE(fresh.chain.empty()) << fresh.output;
    // The validator that was killed over and over finishes from its snapshots.
    const ValidatorRun restored =
        validate_once(dir.file("log"), dir.file("snaps"), dir.file("restored"));
    ASSERT_EQ(restored.exit_code, 0) << restored.output;
    EXPECT_NE(restored.output.find("restored snapshot"), std::string::npos) << restored.output;
    EXPECT_EQ(restored.chain, fresh.chain);
    EXPECT_EQ(restored.state, fresh.state);
  }
  tally.print("crash campaign");
  EXPECT_EQ(tally.lost, 0u);
  EXPECT_EQ(tally.duplicated, 0u);
  RecordProperty("runs", tally.runs);
  RecordProperty("writer_crashes", tally.writer_crashes);
  RecordProperty("validator_crashes", tally.validator_crashes);
  RecordProperty("acknowledged", static_cast<int>(tally.acknowledged));
  RecordProperty("lost", static_cast<int>(tally.lost));
}

// One fault applied to a copy of a log and its marker; `one_slot` says the fault damaged one slot
// of the marker only.
std::string inject(const std::string& log, std::mt19937_64& rng, bool& one_slot) {
  one_slot = false;
  Bytes bytes = file_bytes(log);
  const std::size_t size = bytes.size();
  auto at = [&](std::size_t from, std::size_t to) { return from + rng() % (to - from); };
  switch (rng() % 7) {
    case 0: {
      const std::size_t cut = at(0, size);
      bytes.resize(cut);
      write_file(log, bytes);
      return "truncated to " + std::to_string(cut) + " of " + std::to_string(size);
    }
    case 1: {
      const std::size_t where = at(0, size);
      const int bit = static_cast<int>(rng() % 8);
      bytes[where] = static_cast<std::uint8_t>(bytes[where] ^ (1u << bit));
      write_file(log, bytes);
      return "bit " + std::to_string(bit) + " flipped at " + std::to_string(where);
    }
    case 2: {
      const std::size_t from = at(0, size);
      const std::size_t to = std::min(size, from + 1 + rng() % 600);
      std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(from),
                bytes.begin() + static_cast<std::ptrdiff_t>(to), 0);
      write_file(log, bytes);
      return "zeroed [" + std::to_string(from) + ", " + std::to_string(to) + ")";
    }
    case 3: {  // a torn, never acknowledged batch
      const std::size_t extra = 1 + rng() % 1000;
      for (std::size_t i = 0; i < extra; ++i)
        bytes.push_back(static_cast<std::uint8_t>(rng()));
      write_file(log, bytes);
      return std::to_string(extra) + " bytes of garbage appended";
    }
    case 4: {
      Bytes synced = file_bytes(synced_of(log));
      const std::size_t slot = rng() % ledger::file_log_format::kSyncedSlotCount;
      synced[ledger::file_log_format::synced_slot_offset(slot) + rng() % 20] ^= 0x20;
      write_file(synced_of(log), synced);
      one_slot = true;
      return "marker slot " + std::to_string(slot) + " damaged";
    }
    case 5: {
      Bytes synced = file_bytes(synced_of(log));
      synced[at(0, synced.size())] ^= 0x04;
      synced[ledger::file_log_format::synced_slot_offset(0) + 2] ^= 0x01;
      synced[ledger::file_log_format::synced_slot_offset(1) + 2] ^= 0x01;
      write_file(synced_of(log), synced);
      return "marker damaged in both slots";
    }
    default:
      fs::remove(synced_of(log));
      return "marker deleted";
  }
}

TEST(FileLogFaults, CorruptionAndTruncationAreRefusedOrCutOnlyUnacknowledgedTails) {
  Tally tally;
  std::mt19937_64 rng(777);
  constexpr int kFaultsPerRun = 12;
  for (int run = 0; run < runs(); ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    TempDir dir;
    const auto acked = crash_run(dir, rng, tally);
    ++tally.runs;
    const ValidatorRun reference = validate_once(dir.file("log"), "", dir.file("reference"));
    ASSERT_EQ(reference.exit_code, 0) << reference.output;
    for (int f = 0; f < kFaultsPerRun; ++f) {
      const std::string copy = dir.file("fault") + std::to_string(f);
      fs::create_directory(copy);
      const std::string log = copy + "/log";
      fs::copy_file(dir.file("log"), log);
      fs::copy_file(synced_of(dir.file("log")), synced_of(log));
      fs::copy(dir.file("snaps"), copy + "/snaps");
      bool one_slot = false;
      const std::string fault = inject(log, rng, one_slot);
      SCOPED_TRACE(fault);
      ++tally.corruptions;
      // Validators read the damaged log before the writer recovers it, then after.
      check_validator(validate_once(log, "", copy + "/fresh"), reference, tally, fault, one_slot);
      check_validator(validate_once(log, copy + "/snaps", copy + "/restored"), reference, tally,
                      fault, one_slot);
      bool cut = false;
      ledger::FileLogOptions options;
      options.warn = [&](const std::string&) { cut = true; };
      auto reopened = ledger::FileLog::open(log, options);
      if (!reopened.is_ok()) {
        ++tally.refused_open;
        const std::string text(reopened.status().message());
        EXPECT_EQ(reopened.status().code(), ErrorCode::kCorruption) << text;
        EXPECT_TRUE(text.find("offset") != std::string::npos ||
                    text.find("marker") != std::string::npos ||
                    text.find("not a pfex file log") != std::string::npos)
            << text;
        continue;
      }
      ++tally.recovered;
      if (cut) ++tally.cuts;
      reopened->reset();
      check_log(log, acked, tally);
      check_validator(validate_once(log, "", copy + "/after"), reference, tally, fault);
      check_validator(validate_once(log, copy + "/snaps", copy + "/after-restored"), reference,
                      tally, fault);
    }
  }
  tally.print("corruption campaign");
  EXPECT_EQ(tally.lost, 0u);
  EXPECT_EQ(tally.duplicated, 0u);
  RecordProperty("corruptions", tally.corruptions);
  RecordProperty("refused_open", tally.refused_open);
  RecordProperty("lost", static_cast<int>(tally.lost));
}

// The defect behind the campaign: a log cut below a validator's snapshot and refilled with new
// transactions. The validator restored from that snapshot must refuse it, not report a chain no
// fresh replay reproduces.
TEST(FileLogFaults, ValidatorRefusesASnapshotTheLogNoLongerHolds) {
  TempDir dir;
  const std::string log = dir.file("log");
  const std::string snaps = dir.file("snaps");
  protocol::testing::TestMarket market;
  auto fill = [&](std::uint64_t n) {
    auto opened = ledger::FileLog::open(log);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    ASSERT_TRUE((*opened)->append(market.genesis).is_ok());
    for (std::uint64_t i = 1; i < n; ++i)
      ASSERT_TRUE((*opened)->append(registration(market.id)).is_ok());
  };
  fill(60);
  const ValidatorRun first = validate_once(log, snaps, dir.file("first"));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  fs::remove(log);  // the operator's "repair": a new log, refilled past the snapshot
  fs::remove(synced_of(log));
  fill(80);
  const ValidatorRun fresh = validate_once(log, "", dir.file("fresh"));
  ASSERT_EQ(fresh.exit_code, 0) << fresh.output;
  const ValidatorRun restored = validate_once(log, snaps, dir.file("restored"));
  EXPECT_NE(restored.exit_code, 0) << restored.output;
  EXPECT_NE(restored.output.find("does not match the log"), std::string::npos) << restored.output;
  EXPECT_NE(restored.output.find("log entry 60"), std::string::npos) << restored.output;
}

// `--snapshot-every 50` snapshots at log entries 50, 100, ..., not at whatever a read batch
// happened to end on.
TEST(FileLogFaults, SnapshotEveryWritesAtEveryMultiple) {
  TempDir dir;
  const std::string log = dir.file("log");
  {
    protocol::testing::TestMarket market;
    auto opened = ledger::FileLog::open(log);
    ASSERT_TRUE(opened.is_ok());
    ASSERT_TRUE((*opened)->append(market.genesis).is_ok());
    for (int i = 1; i < 130; ++i)
      ASSERT_TRUE((*opened)->append(registration(market.id)).is_ok());
  }
  for (const int every : {49, 50, 51}) {
    SCOPED_TRACE("every " + std::to_string(every));
    const std::string snaps = dir.file("snaps") + std::to_string(every);
    // 130 entries: the store keeps the last multiple and the final snapshot at 130.
    const pid_t pid = spawn_pfex({"validator", "--log", log, "--snapshots", snaps,
                                  "--snapshot-every", std::to_string(every), "--once"},
                                 snaps + ".out");
    ASSERT_EQ(wait_bounded(pid, 60s), 0)
        << std::string(file_bytes(snaps + ".out").begin(), file_bytes(snaps + ".out").end());
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(snaps))
      names.insert(e.path().filename().string());
    char expected[64];
    std::snprintf(expected, sizeof expected, "snapshot-%020d.pfxs", (130 / every) * every);
    EXPECT_TRUE(names.contains(expected)) << expected;
  }
}

}  // namespace
}  // namespace pfex
