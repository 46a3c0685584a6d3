// The gateway under clients that do not cooperate: slow clients, bodies at the size limit, wrong
// content types, replays, other markets' transactions and genesis entries, and a log that cannot
// append. Each refusal is checked to leave the log unchanged.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "ledger/file_log.hpp"
#include "node/gateway.hpp"
#include "node/gateway_test_util.hpp"
#include "node/test_util.hpp"
#include "protocol/test_util.hpp"

namespace pfex::node {
namespace {

using namespace std::chrono_literals;
using protocol::testing::TestMarket;
using protocol::testing::Trader;
using testing::post_tx;
using testing::TempDir;

// A log that fails every append while `full` is set, as a full disk does.
class FailingLog final : public ledger::Log {
 public:
  explicit FailingLog(ledger::Log& inner) : inner_(inner) {}
  Result<ledger::Appended> append(ByteSpan payload) override {
    while (stalled)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (full) return Status::io_error("write: No space left on device");
    return inner_.append(payload);
  }
  Result<std::vector<ledger::LogEntry>> read(std::uint64_t from, std::size_t max) override {
    return inner_.read(from, max);
  }
  Result<std::vector<ledger::LogEntry>> follow(std::uint64_t from, std::size_t max,
                                               std::chrono::milliseconds timeout,
                                               std::stop_token stop) override {
    return inner_.follow(from, max, timeout, stop);
  }
  std::atomic<bool> full{false};
  std::atomic<bool> stalled{false};  // appends wait while set, as on a hung disk

 private:
  ledger::Log& inner_;
};

struct LimitsFixture {
  TempDir dir;
  TestMarket m;
  std::unique_ptr<ledger::FileLog> file;
  std::unique_ptr<FailingLog> log;
  std::unique_ptr<Gateway> gateway;
  std::uint16_t port = 0;

  explicit LimitsFixture(bool with_genesis = true, GatewayOptions options = {}) {
    auto opened = ledger::FileLog::open(dir.file("log"));
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    file = std::move(opened).value();
    log = std::make_unique<FailingLog>(*file);
    if (with_genesis) {
      EXPECT_TRUE(file->append(m.genesis).is_ok());
    }
    gateway = std::make_unique<Gateway>(*log, std::move(options));
    auto started = gateway->start();
    EXPECT_TRUE(started.is_ok()) << started.status().to_string();
    port = started.is_ok() ? *started : 0;
  }

  std::uint64_t entries() const { return file->last_sequence(); }
};

std::string error_of(const Result<net::HttpReply>& reply) {
  return reply.is_ok() ? reply->body : reply.status().to_string();
}

TEST(GatewayLimits, SlowClientsDoNotStarveOthers) {
  GatewayOptions options;
  options.request_deadline = 5s;
  LimitsFixture f(true, options);
  std::vector<Bytes> txs;
  for (int i = 0; i < 6; ++i) {
    Trader t;
    txs.push_back(f.m.sign(t, market::RegisterAction{}));
  }
  testing::expect_served_despite_slow_clients(f.port, txs, options.request_deadline);
  EXPECT_EQ(f.entries(), 7U);
}

// The documented body limit, 65,536 bytes, at limit - 1, limit and limit + 1: the first two are
// read and judged (junk: 400), the last is refused unread (413).
TEST(GatewayLimits, BodyLimitIs65536Bytes) {
  LimitsFixture f;
  ASSERT_EQ(protocol::kMaxTransactionBytes, 65'536U);
  for (std::size_t size : {65'535U, 65'536U, 65'537U}) {
    auto reply = post_tx(f.port, Bytes(size, 0x01));
    ASSERT_TRUE(reply.is_ok()) << size << ": " << reply.status().to_string();
    EXPECT_EQ(reply->status, size <= 65'536 ? 400 : 413) << size << ": " << reply->body;
  }
  EXPECT_EQ(f.entries(), 1U);
}

TEST(GatewayLimits, OnlyTheDocumentedContentTypeIsTaken) {
  LimitsFixture f;
  Trader t;
  const Bytes tx = f.m.sign(t, market::RegisterAction{});
  for (std::string_view type : {"text/plain", "application/json", "",
                                "application/x-www-form-urlencoded", "application/octet"}) {
    auto reply = post_tx(f.port, tx, type);
    ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
    EXPECT_EQ(reply->status, 415) << "\"" << type << "\": " << reply->body;
  }
  EXPECT_EQ(f.entries(), 1U);
  auto taken = post_tx(f.port, tx, "Application/Octet-Stream; charset=binary");
  ASSERT_TRUE(taken.is_ok());
  EXPECT_EQ(taken->status, 200) << taken->body;
  EXPECT_EQ(f.entries(), 2U);
}

// 2,000 submissions of one transaction, from 8 clients at once, give one entry.
TEST(GatewayLimits, ReplaysAreRefusedAndAppendNothing) {
  LimitsFixture f;
  Trader t;
  const Bytes tx = f.m.sign(t, market::RegisterAction{});
  std::atomic<int> ok{0}, conflict{0}, other{0};
  std::vector<std::thread> clients;
  clients.reserve(8);
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      auto client = net::HttpClient::open("127.0.0.1:" + std::to_string(f.port));
      if (!client.is_ok()) return void(other += 250);
      const std::string_view body(reinterpret_cast<const char*>(tx.data()), tx.size());
      for (int i = 0; i < 250; ++i) {
        auto reply = client->request("POST", "/v1/tx", body, "application/octet-stream", 10s);
        if (reply.is_ok() && reply->status == 200) {
          ++ok;
        } else if (reply.is_ok() && reply->status == 409) {
          ++conflict;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& c : clients)
    c.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(conflict.load(), 1999);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(f.entries(), 2U);
  auto again = post_tx(f.port, tx);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->status, 409);
  EXPECT_NE(again->body.find("already in the log at sequence 2"), std::string::npos) << again->body;
}

// The gateway remembers the hashes of the last `recent_hashes` entries, no more: a replay of an
// entry that did not use its signer's sequence number (a deposit by a key without an account) is
// refused while it is among them (limit - 1, limit) and appended again beyond (limit + 1), where
// every validator rejects it again. An accepted entry's replay is refused by its used sequence
// number whatever its age. A restarted gateway keeps the same window.
TEST(GatewayLimits, ReplayHashesAreKeptForTheDocumentedNumberOfEntries) {
  constexpr std::size_t kLimit = 4;
  GatewayOptions options;
  options.recent_hashes = kLimit;
  LimitsFixture f(true, options);
  Trader stranger, first;
  const Bytes registered = f.m.sign(first, market::RegisterAction{});
  ASSERT_EQ(post_tx(f.port, registered)->status, 200);
  const Bytes junk = f.m.sign(stranger, market::DepositAction{market::AccountId{99}, Cash(5)});
  auto posted = post_tx(f.port, junk);
  ASSERT_TRUE(posted.is_ok());
  ASSERT_EQ(posted->status, 200) << posted->body;
  ASSERT_EQ(f.entries(), 3U);
  auto append_registration = [&] {
    Trader t;
    auto reply = post_tx(f.port, f.m.sign(t, market::RegisterAction{}));
    ASSERT_TRUE(reply.is_ok());
    ASSERT_EQ(reply->status, 200) << reply->body;
  };
  auto expect_remembered = [&](std::uint16_t port) {
    auto replay = post_tx(port, junk);
    ASSERT_TRUE(replay.is_ok());
    EXPECT_EQ(replay->status, 409) << replay->body;
    EXPECT_NE(replay->body.find("already in the log at sequence 3"), std::string::npos)
        << replay->body;
  };
  append_registration();
  append_registration();  // the junk is the third most recent entry: limit - 1
  expect_remembered(f.port);
  append_registration();  // the fourth: limit
  expect_remembered(f.port);
  {
    GatewayOptions again;
    again.recent_hashes = kLimit;
    Gateway restarted(*f.log, again);  // remembers the same entries after replaying the log
    auto port = restarted.start();
    ASSERT_TRUE(port.is_ok()) << port.status().to_string();
    expect_remembered(*port);
  }
  EXPECT_EQ(f.entries(), 6U);
  append_registration();  // the fifth: limit + 1, forgotten
  auto replay = post_tx(f.port, junk);
  ASSERT_TRUE(replay.is_ok());
  EXPECT_EQ(replay->status, 200) << replay->body;
  EXPECT_EQ(f.entries(), 8U);
  // The first registration is long forgotten by hash; its used sequence number refuses it.
  auto old = post_tx(f.port, registered);
  ASSERT_TRUE(old.is_ok());
  EXPECT_EQ(old->status, 409) << old->body;
  EXPECT_NE(old->body.find("sequence number 1 is used"), std::string::npos) << old->body;
  EXPECT_EQ(f.entries(), 8U);
}

TEST(GatewayLimits, UsedSequenceNumbersAndOtherMarketsAreRefused) {
  LimitsFixture f;
  Trader t;
  auto first = post_tx(f.port, f.m.sign(t, market::RegisterAction{}));
  ASSERT_TRUE(first.is_ok());
  ASSERT_EQ(first->status, 200) << first->body;
  // Other bytes with the used sequence number 1.
  t.sequence = 0;
  auto reused = post_tx(f.port, f.m.sign(t, market::DepositAction{market::AccountId{1}, Cash(5)}));
  ASSERT_TRUE(reused.is_ok());
  EXPECT_EQ(reused->status, 409) << reused->body;
  EXPECT_NE(reused->body.find("sequence number 1 is used"), std::string::npos) << reused->body;
  // Signed for another market.
  TestMarket stranger;
  Trader s;
  auto elsewhere = post_tx(f.port, stranger.sign(s, market::RegisterAction{}));
  ASSERT_TRUE(elsewhere.is_ok());
  EXPECT_EQ(elsewhere->status, 400) << elsewhere->body;
  EXPECT_NE(elsewhere->body.find("this gateway serves market"), std::string::npos)
      << elsewhere->body;
  // Another genesis, for this log's market or another.
  for (const Bytes& genesis : {f.m.genesis, stranger.genesis}) {
    auto reply = post_tx(f.port, genesis);
    ASSERT_TRUE(reply.is_ok());
    EXPECT_EQ(reply->status, 409) << reply->body;
  }
  EXPECT_EQ(f.entries(), 2U);
}

// A gateway on an empty log must be told its market, and then takes only that market's genesis.
TEST(GatewayLimits, AnEmptyLogTakesOnlyTheGenesisOfTheMarketItServes) {
  TestMarket m, stranger;
  {
    TempDir dir;
    auto log = ledger::FileLog::open(dir.file("log"));
    ASSERT_TRUE(log.is_ok());
    Gateway untold(**log, GatewayOptions{});
    auto started = untold.start();
    ASSERT_FALSE(started.is_ok());
    EXPECT_EQ(started.status().code(), ErrorCode::kFailedPrecondition);
    EXPECT_NE(started.status().message().find("--market"), std::string_view::npos);
  }
  GatewayOptions options;
  options.market = m.id;
  LimitsFixture f(/*with_genesis=*/false, options);
  ASSERT_NE(f.port, 0);
  Trader t;
  auto early = post_tx(f.port, m.sign(t, market::RegisterAction{}));
  ASSERT_TRUE(early.is_ok());
  EXPECT_EQ(early->status, 409) << early->body;  // no market yet
  auto strange = post_tx(f.port, stranger.genesis);
  ASSERT_TRUE(strange.is_ok());
  EXPECT_EQ(strange->status, 400) << strange->body;
  EXPECT_EQ(f.entries(), 0U);
  auto own = post_tx(f.port, m.genesis);
  ASSERT_TRUE(own.is_ok());
  EXPECT_EQ(own->status, 200) << own->body;
  EXPECT_EQ(f.entries(), 1U);
  f.gateway->stop();

  // Restarted on that log and told another market, it refuses to start.
  GatewayOptions wrong;
  wrong.market = stranger.id;
  Gateway mistaken(*f.log, wrong);
  auto started = mistaken.start();
  ASSERT_FALSE(started.is_ok());
  EXPECT_EQ(started.status().code(), ErrorCode::kFailedPrecondition);
}

// Health reports the ability to append: after an append fails (disk full) it says not ok, and
// ok again once an append succeeds.
TEST(GatewayLimits, HealthReflectsTheLastAppend) {
  LimitsFixture f;
  auto health = testing::get_health(f.port, 5s);
  ASSERT_TRUE(health.is_ok());
  EXPECT_EQ(health->status, 200);
  f.log->full = true;
  Trader t;
  const Bytes tx = f.m.sign(t, market::RegisterAction{});
  auto failed = post_tx(f.port, tx);
  ASSERT_TRUE(failed.is_ok());
  EXPECT_EQ(failed->status, 503) << failed->body;
  health = testing::get_health(f.port, 5s);
  ASSERT_TRUE(health.is_ok());
  EXPECT_EQ(health->status, 503);
  EXPECT_NE(health->body.find("No space left"), std::string::npos) << health->body;
  f.log->full = false;
  auto retried = post_tx(f.port, tx);  // a failed append leaves nothing in flight
  ASSERT_TRUE(retried.is_ok());
  EXPECT_EQ(retried->status, 200) << error_of(retried);
  health = testing::get_health(f.port, 5s);
  ASSERT_TRUE(health.is_ok());
  EXPECT_EQ(health->status, 200);
}

// An append that hangs (more of them than the server has workers) turns health to not ok, and
// health is still answered promptly.
TEST(GatewayLimits, HealthIsAnsweredAndNotOkWhileAppendsHang) {
  GatewayOptions options;
  options.stalled_append = 300ms;
  LimitsFixture f(true, options);
  f.log->stalled = true;
  std::vector<std::thread> submitters;
  constexpr int kSubmitters = 20;  // more than the gateway's 16 workers
  submitters.reserve(kSubmitters);
  for (int i = 0; i < kSubmitters; ++i) {
    submitters.emplace_back([&f] {
      Trader t;
      (void)post_tx(f.port, f.m.sign(t, market::RegisterAction{}), "application/octet-stream", 30s);
    });
  }
  std::this_thread::sleep_for(600ms);
  const auto start = std::chrono::steady_clock::now();
  auto health = testing::get_health(f.port, 5s);
  ASSERT_TRUE(health.is_ok()) << health.status().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(health->status, 503);
  EXPECT_NE(health->body.find("waiting for the log"), std::string::npos) << health->body;
  f.log->stalled = false;
  for (auto& s : submitters)
    s.join();
  health = testing::get_health(f.port, 5s);
  ASSERT_TRUE(health.is_ok());
  EXPECT_EQ(health->status, 200) << health->body;
  EXPECT_EQ(f.entries(), 1U + kSubmitters);
}

}  // namespace
}  // namespace pfex::node
