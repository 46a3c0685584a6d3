// Tests of EtcdLog (etcd_log.hpp) against a real 3-member etcd cluster started for each test by
// scripts/etcd-cluster (etcd_cluster.hpp). Without etcd installed these tests fail: CI installs it.
#include "ledger/etcd_log.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "ledger/etcd_cluster.hpp"
#include "ledger/log_test_util.hpp"

namespace pfex::ledger {
namespace {

using namespace std::chrono_literals;
using testing::read_all;

Bytes payload_for(std::uint64_t id) {
  Bytes out;
  Writer w(&out);
  w.u64(id);
  for (std::size_t i = 0; i < 64 + id % 64; ++i)
    out.push_back(static_cast<std::uint8_t>(id * 7 + i));
  return out;
}

std::uint64_t id_of(const Bytes& payload) {
  Reader r(payload);
  return r.u64("id");
}

// Waits (boundedly) until `done` holds; false if it never does.
template <typename Pred>
bool eventually(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// How many watchers the etcd member at `endpoint` ("http://127.0.0.1:<port>") serves, from the
// etcd_debugging_mvcc_watcher_total gauge of its /metrics page (-1 if it cannot be read). Lets a
// test act only once a follow is really blocked in its watch. A bare HTTP/1.0 GET, so the test
// does not depend on the client library under test.
long watchers_on(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(endpoint.substr(colon + 1))));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string page;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[8192];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        page.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const std::string_view name = "\netcd_debugging_mvcc_watcher_total ";
  const auto at = page.find(name);
  if (at == std::string::npos) return -1;
  return std::stol(page.substr(at + name.size()));
}

// The value of a result that must be ok (a failed expectation and T{} otherwise).
template <class T>
T ok(Result<T> r) {
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(r).value() : T{};
}

class EtcdLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status started = cluster_.start();
    ASSERT_TRUE(started.is_ok()) << started.to_string();
  }

  // A client whose first choice is member `first` (0-based), so tests can spread readers.
  std::unique_ptr<EtcdLog> open_log(std::size_t first = 0) {
    EtcdLog::Options options;
    const auto& endpoints = cluster_.endpoints();
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      options.endpoints.push_back(endpoints[(first + i) % endpoints.size()]);
    }
    auto log = EtcdLog::open(std::move(options));
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    return log.is_ok() ? std::move(log).value() : nullptr;
  }

  // Appends payload_for(0..count-1) in order; each must succeed with a larger sequence than the
  // one before. Returns what was appended (shorter if an append failed).
  static std::vector<Appended> append_payloads(Log& log, std::uint64_t count) {
    std::vector<Appended> appended;
    for (std::uint64_t i = 0; i < count; ++i) {
      auto result = log.append(payload_for(i));
      EXPECT_TRUE(result.is_ok()) << result.status().to_string();
      if (!result.is_ok()) break;
      if (!appended.empty()) {
        EXPECT_GT(result->sequence, appended.back().sequence);
      }
      EXPECT_GE(result->sequence, 1u);
      appended.push_back(*result);
    }
    return appended;
  }

  testing::EtcdCluster cluster_;
};

TEST_F(EtcdLogTest, AppendReadFollow) {
  auto log = open_log();
  ASSERT_TRUE(log);
  const std::vector<Appended> appended = append_payloads(*log, 20);
  ASSERT_EQ(appended.size(), 20u);
  auto all = read_all(*log);
  ASSERT_EQ(all.size(), 20u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence, appended[i].sequence);
    EXPECT_EQ(all[i].entry_time, appended[i].entry_time);
    EXPECT_EQ(all[i].payload, payload_for(i));
  }
  auto middle = log->read(appended[10].sequence, 5);
  ASSERT_TRUE(middle.is_ok());
  ASSERT_EQ(middle->size(), 5u);
  EXPECT_EQ(middle->front().payload, payload_for(10));
  EXPECT_TRUE(log->read(appended.back().sequence + 1, 10)->empty());

  // Nothing new: follow times out empty.
  auto start = std::chrono::steady_clock::now();
  auto quiet = log->follow(appended.back().sequence + 1, 10, 300ms);
  ASSERT_TRUE(quiet.is_ok()) << quiet.status().to_string();
  EXPECT_TRUE(quiet->empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);

  // A follower on another member wakes when an entry is appended. The append waits until the
  // follower's watch is in place on that member, so the watch (not the read) must deliver it.
  auto reader = open_log(2);
  ASSERT_TRUE(reader);
  const std::string member = cluster_.endpoints()[2];
  const long idle = watchers_on(member);
  ASSERT_GE(idle, 0) << "cannot read the watcher count of " << member;
  std::thread appender([&] {
    EXPECT_TRUE(eventually([&] { return watchers_on(member) > idle; }));
    EXPECT_TRUE(log->append(payload_for(100)).is_ok());
  });
  auto woken = reader->follow(appended.back().sequence + 1, 10, 10s);
  appender.join();
  ASSERT_TRUE(woken.is_ok()) << woken.status().to_string();
  ASSERT_EQ(woken->size(), 1u);
  EXPECT_EQ(woken->front().payload, payload_for(100));

  // A stop request ends a follow early, also once it is blocked in its watch.
  EXPECT_TRUE(eventually([&] { return watchers_on(member) == idle; }));  // the last watch ended
  std::stop_source stop;
  std::thread stopper([&] {
    EXPECT_TRUE(eventually([&] { return watchers_on(member) > idle; }));
    stop.request_stop();
  });
  start = std::chrono::steady_clock::now();
  auto stopped = reader->follow(woken->front().sequence + 1, 10, 20s, stop.get_token());
  stopper.join();
  ASSERT_TRUE(stopped.is_ok());
  EXPECT_TRUE(stopped->empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

  Bytes too_big(kMaxEntryBytes + 1, 1);
  EXPECT_EQ(log->append(too_big).status().code(), ErrorCode::kInvalidArgument);
}

// Pruning deletes what every registered validator's snapshot covers, and afterwards a reader
// asking for a pruned entry is told to restore a snapshot instead of silently missing entries.
TEST_F(EtcdLogTest, PruneDeletesOnlyWhatEverySnapshotCoversAndRefusesReadsBelowTheFloor) {
  auto log = open_log();
  ASSERT_TRUE(log);
  const std::vector<Appended> appended = append_payloads(*log, 12);
  ASSERT_EQ(appended.size(), 12u);
  // Nobody registered: nothing may go.
  auto none = log->prune();
  ASSERT_TRUE(none.is_ok()) << none.status().to_string();
  ASSERT_EQ(*none, 0u);
  EXPECT_EQ(read_all(*log).size(), 12u);
  EXPECT_EQ(ok(log->floor()), 1u);

  // A validator registered at 0 (no snapshot yet) keeps everything.
  ASSERT_TRUE(log->record_snapshot("v1", 0).is_ok());
  EXPECT_EQ(ok(log->prune()), 0u);
  EXPECT_EQ(read_all(*log).size(), 12u);

  ASSERT_TRUE(log->record_snapshot("v1", appended[6].sequence).is_ok());
  ASSERT_TRUE(log->record_snapshot("v2", appended[4].sequence).is_ok());  // the oldest
  EXPECT_EQ(log->record_snapshot("a/b", 1).code(), ErrorCode::kInvalidArgument);
  auto marks = log->snapshots();
  ASSERT_TRUE(marks.is_ok());
  EXPECT_EQ(marks->size(), 2u);

  auto deleted = log->prune();
  ASSERT_TRUE(deleted.is_ok()) << deleted.status().to_string();
  EXPECT_EQ(*deleted, 5u);  // entries 0..4
  EXPECT_EQ(ok(log->floor()), appended[4].sequence + 1);
  EXPECT_EQ(ok(log->prune()), 0u);  // idempotent

  // Below the floor: a clear error, from read and from follow, on any member.
  for (std::size_t member = 0; member < 3; ++member) {
    auto other = open_log(member);
    auto below = other->read(1, 10);
    ASSERT_FALSE(below.is_ok());
    EXPECT_EQ(below.status().code(), ErrorCode::kFailedPrecondition);
    EXPECT_NE(below.status().message().find("restore a snapshot"), std::string_view::npos);
    EXPECT_EQ(other->follow(appended[4].sequence, 10, 100ms).status().code(),
              ErrorCode::kFailedPrecondition);
  }
  // From the floor on, everything is there, and the log keeps going.
  auto rest = log->read(appended[4].sequence + 1, 100);
  ASSERT_TRUE(rest.is_ok()) << rest.status().to_string();
  ASSERT_EQ(rest->size(), 7u);
  for (std::size_t i = 0; i < rest->size(); ++i) {
    EXPECT_EQ((*rest)[i].sequence, appended[5 + i].sequence);
    EXPECT_EQ((*rest)[i].payload, payload_for(5 + i));
  }
  auto more = log->append(payload_for(99));
  ASSERT_TRUE(more.is_ok());
  auto followed = log->follow(appended.back().sequence + 1, 10, 2s);
  ASSERT_TRUE(followed.is_ok()) << followed.status().to_string();
  ASSERT_EQ(followed->size(), 1u);
  EXPECT_EQ(followed->front().payload, payload_for(99));
  // A validator that records an older snapshot later cannot lower the floor.
  ASSERT_TRUE(log->record_snapshot("v3", appended[1].sequence).is_ok());
  EXPECT_EQ(ok(log->prune()), 0u);
  EXPECT_EQ(ok(log->floor()), appended[4].sequence + 1);
}

TEST_F(EtcdLogTest, RetriedAppendDoesNotDuplicate) {
  // Every append reads a later clock, so a retry that returned its own time would show.
  auto ticks = std::make_shared<std::atomic<std::int64_t>>(1'000'000);
  auto open_ticking = [&](std::size_t first_member) {
    EtcdLog::Options options;
    const auto& endpoints = cluster_.endpoints();
    for (std::size_t i = 0; i < endpoints.size(); ++i)
      options.endpoints.push_back(endpoints[(first_member + i) % endpoints.size()]);
    options.clock = [ticks] { return LedgerTime(ticks->fetch_add(1000)); };
    return std::move(EtcdLog::open(std::move(options))).value();
  };
  auto first = open_ticking(0);
  auto second = open_ticking(1);
  ASSERT_TRUE(first && second);
  auto original = first->append(payload_for(1));
  ASSERT_TRUE(original.is_ok()) << original.status().to_string();
  auto retried = first->append(payload_for(1));
  auto elsewhere = second->append(payload_for(1));  // the same bytes through another member
  ASSERT_TRUE(retried.is_ok() && elsewhere.is_ok());
  EXPECT_EQ(retried->sequence, original->sequence);
  EXPECT_EQ(retried->entry_time, original->entry_time);
  EXPECT_EQ(elsewhere->sequence, original->sequence);

  // Racing retries of the same bytes also agree on one entry.
  std::vector<std::thread> racers;
  std::vector<std::uint64_t> sequences(4);
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    racers.emplace_back([&, i] {
      auto log = open_log(i);
      auto result = log->append(payload_for(2));
      ASSERT_TRUE(result.is_ok()) << result.status().to_string();
      sequences[i] = result->sequence;
    });
  }
  for (auto& racer : racers)
    racer.join();
  for (auto s : sequences)
    EXPECT_EQ(s, sequences[0]);

  auto all = read_all(*first);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].payload, payload_for(1));
  EXPECT_EQ(all[1].payload, payload_for(2));
}

// Two appenders stream entries while the leader, then a follower, is killed with SIGKILL and
// brought back. Every acknowledged append is in the log exactly once at its acknowledged
// sequence, a follower that watched throughout saw exactly the final log, and two readers on
// different members read identical logs.
TEST_F(EtcdLogTest, KillNineOfOneMemberLosesAndDuplicatesNothing) {
  std::mutex mutex;
  std::map<std::uint64_t, std::uint64_t> acked;  // sequence -> payload id
  std::atomic<bool> writing{true};
  std::atomic<int> failed_appends{0};
  std::vector<std::thread> writers;
  for (std::uint64_t t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      auto log = open_log(t);
      for (std::uint64_t i = 0; writing; ++i) {
        const std::uint64_t id = (t << 32) | i;
        auto result = log->append(payload_for(id));
        if (!result.is_ok()) {
          ++failed_appends;
          ADD_FAILURE() << result.status().to_string();
          return;
        }
        std::lock_guard lock(mutex);
        EXPECT_TRUE(acked.emplace(result->sequence, id).second) << "sequence acknowledged twice";
      }
    });
  }

  std::stop_source stop_following;
  std::vector<LogEntry> followed;
  std::thread follower([&] {
    auto log = open_log(1);
    std::uint64_t next = 1;
    while (!stop_following.stop_requested()) {
      auto entries = log->follow(next, 100, 500ms, stop_following.get_token());
      if (!entries.is_ok()) continue;  // a member went away mid-watch: follow again
      for (auto& entry : *entries) {
        next = entry.sequence + 1;
        followed.push_back(std::move(entry));
      }
    }
  });

  auto wait_for_more = [&](std::size_t more) {
    std::size_t target;
    {
      std::lock_guard lock(mutex);
      target = acked.size() + more;
    }
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      {
        std::lock_guard lock(mutex);
        if (acked.size() >= target) return true;
      }
      if (failed_appends > 0 || std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
  };

  ASSERT_TRUE(wait_for_more(40));
  auto leader = cluster_.leader();
  ASSERT_TRUE(leader.is_ok()) << leader.status().to_string();
  ASSERT_TRUE(cluster_.kill_member(*leader).is_ok());
  EXPECT_TRUE(wait_for_more(40)) << "appends stalled after the leader was killed";
  ASSERT_TRUE(cluster_.start().is_ok());
  EXPECT_TRUE(wait_for_more(40));
  auto new_leader = cluster_.leader();
  ASSERT_TRUE(new_leader.is_ok());
  const int victim = *new_leader % 3 + 1;  // a follower
  ASSERT_TRUE(cluster_.kill_member(victim).is_ok());
  EXPECT_TRUE(wait_for_more(40)) << "appends stalled after a follower was killed";
  ASSERT_TRUE(cluster_.start().is_ok());
  EXPECT_TRUE(wait_for_more(40));
  writing = false;
  for (auto& writer : writers)
    writer.join();
  ASSERT_EQ(failed_appends, 0);

  auto reader_a = open_log(0);
  auto reader_b = open_log(2);
  const auto all = read_all(*reader_a);
  const auto all_b = read_all(*reader_b);
  ASSERT_EQ(all.size(), all_b.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence, all_b[i].sequence);
    EXPECT_EQ(all[i].payload, all_b[i].payload);
  }

  // Every append either was acknowledged or failed; none failed, so the log is exactly the acks.
  ASSERT_EQ(all.size(), acked.size());
  std::set<std::uint64_t> ids;
  for (const auto& entry : all) {
    EXPECT_TRUE(ids.insert(id_of(entry.payload)).second) << "payload appended twice";
    EXPECT_EQ(entry.payload, payload_for(id_of(entry.payload)));
    auto ack = acked.find(entry.sequence);
    ASSERT_NE(ack, acked.end()) << "entry " << entry.sequence << " was never acknowledged";
    EXPECT_EQ(ack->second, id_of(entry.payload));
  }

  // The follower catches up to the end and saw exactly the same log.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline &&
         (followed.empty() || followed.back().sequence < all.back().sequence)) {
    std::this_thread::sleep_for(10ms);
  }
  stop_following.request_stop();
  follower.join();
  ASSERT_EQ(followed.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(followed[i].sequence, all[i].sequence);
    EXPECT_EQ(followed[i].payload, all[i].payload);
  }
  RecordProperty("acknowledged", static_cast<int>(acked.size()));
}

// With no member reachable, append and read give up with io_error after retry_deadline instead
// of hanging. (No cluster: the ports are free ones nobody listens on.)
TEST(EtcdLog, UnreachableClusterIsAnIoErrorAfterTheDeadline) {
  EtcdLog::Options options;
  testing::EtcdCluster never_started;
  options.endpoints = never_started.endpoints();
  options.request_timeout = 200ms;
  options.retry_deadline = 500ms;
  auto log = EtcdLog::open(options);
  ASSERT_TRUE(log.is_ok());
  const auto start = std::chrono::steady_clock::now();
  auto appended = (*log)->append(payload_for(1));
  ASSERT_FALSE(appended.is_ok());
  EXPECT_EQ(appended.status().code(), ErrorCode::kIoError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ((*log)->read(1, 10).status().code(), ErrorCode::kIoError);
  EXPECT_FALSE(EtcdLog::open(EtcdLog::Options{}).is_ok());  // no endpoints
}

}  // namespace
}  // namespace pfex::ledger
