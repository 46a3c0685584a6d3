#include "service/node_replica.hpp"

#include <gtest/gtest.h>

#include "core/file.hpp"
#include "ledger/file_log.hpp"
#include "ledger/test_util.hpp"
#include "node/log_adapter.hpp"
#include "protocol/test_util.hpp"

namespace pfex::service {
namespace {

using ledger::testing::TempDir;
using protocol::testing::limit;
using protocol::testing::TestMarket;
using protocol::testing::Trader;

// Counts the entries a node reads: what a command costs.
class CountingReader final : public ledger::LogReader {
 public:
  explicit CountingReader(ledger::LogReader& inner) : inner_(inner) {}
  Result<std::vector<ledger::LogEntry>> read(std::uint64_t from, std::size_t max) override {
    auto r = inner_.read(from, max);
    if (r.is_ok()) entries += r->size();
    return r;
  }
  Result<std::vector<ledger::LogEntry>> follow(std::uint64_t from, std::size_t max,
                                               std::chrono::milliseconds timeout,
                                               std::stop_token stop) override {
    auto r = inner_.follow(from, max, timeout, stop);
    if (r.is_ok()) entries += r->size();
    return r;
  }
  std::size_t entries = 0;

 private:
  ledger::LogReader& inner_;
};

// A log with a market and two traders who trade `rounds` times.
struct Market {
  TempDir dir;
  TestMarket m;
  Trader a, b;
  std::unique_ptr<ledger::FileLog> log = std::move(ledger::FileLog::open(dir.file("log"))).value();

  Market() {
    a.account = market::AccountId{1};
    b.account = market::AccountId{2};
    append(m.genesis);
    for (Trader* t : {&a, &b}) {
      append(m.sign(*t, market::RegisterAction{}));
      append(m.sign(*t, market::DepositAction{t->account, Cash(10'000'000)}));
    }
  }
  void append(const Bytes& payload) { ASSERT_TRUE(log->append(payload).is_ok()); }
  void trade(int rounds) {
    for (int i = 0; i < rounds; ++i) {
      append(m.sign(a, market::SubmitAction{a.account, limit(market::Side::kSell, 1000, 1)}));
      append(m.sign(b, market::SubmitAction{b.account, limit(market::Side::kBuy, 1000, 1)}));
    }
  }
  protocol::LedgerReplica replay() {
    protocol::LedgerReplica v;
    EXPECT_TRUE(v.apply_batch(node::to_protocol_entries(*log->read(1, 1'000'000))).is_ok());
    return v;
  }
};

TEST(NodeReplica, ACommandReadsOnlyWhatIsNewInTheLog) {
  Market market;
  market.trade(30);
  const std::string path = market.dir.file("replica");
  {
    auto r = NodeReplica::load(path);
    ASSERT_TRUE(r.is_ok());
    r->set_owner(market.a.key.public_key());
    CountingReader reader(*market.log);
    ASSERT_TRUE(r->catch_up(reader).is_ok());
    EXPECT_EQ(reader.entries, 65U);
    EXPECT_EQ(r->fills().size(), kKeptFills);  // the last 10 of 30
    EXPECT_EQ(r->fills().back().side, market::Side::kSell);
    ASSERT_TRUE(r->save().is_ok());
  }
  market.trade(2);
  std::string note;
  auto r = NodeReplica::load(path, &note);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(note.empty()) << note;
  EXPECT_EQ(r->validator().next_sequence(), 66U);
  EXPECT_EQ(r->fills().size(), kKeptFills);
  r->set_owner(market.a.key.public_key());
  CountingReader reader(*market.log);
  ASSERT_TRUE(r->catch_up(reader, {}, &note).is_ok());
  EXPECT_TRUE(note.empty()) << note;
  EXPECT_EQ(reader.entries, 1U + 4U);  // the entry at the position (checked), then the new ones
  const protocol::LedgerReplica fresh = market.replay();
  EXPECT_EQ(r->validator().chain(), fresh.chain());
  EXPECT_EQ(r->validator().state_hash(), fresh.state_hash());
  EXPECT_EQ(r->fills().back().trade, fresh.exchange()->trade_count());
}

TEST(NodeReplica, KeepsTheLastTenFillsThroughASave) {
  for (const int trades : {9, 10, 11}) {
    Market market;
    market.trade(trades);
    const std::string path = market.dir.file("replica");
    {
      auto r = NodeReplica::load(path);
      r->set_owner(market.b.key.public_key());
      ASSERT_TRUE(r->catch_up(*market.log).is_ok());
      ASSERT_TRUE(r->save().is_ok());
    }
    auto r = NodeReplica::load(path);
    ASSERT_TRUE(r.is_ok());
    const auto kept = static_cast<std::size_t>(std::min(trades, 10));
    ASSERT_EQ(r->fills().size(), kept) << trades;
    EXPECT_EQ(r->fills().front().trade, static_cast<std::uint64_t>(trades) - kept + 1);
    EXPECT_EQ(r->fills().back().trade, static_cast<std::uint64_t>(trades));
    EXPECT_EQ(r->fills().back().side, market::Side::kBuy);
    EXPECT_TRUE(r->fills().back().taker);
  }
}

TEST(NodeReplica, AnotherLogUnderTheReplicaIsReplayedFromTheStart) {
  Market one;
  one.trade(3);
  Market other;  // same length, other keys
  other.trade(3);
  const std::string path = one.dir.file("replica");
  {
    auto r = NodeReplica::load(path);
    ASSERT_TRUE(r->catch_up(*one.log).is_ok());
    ASSERT_TRUE(r->save().is_ok());
  }
  std::string note;
  auto r = NodeReplica::load(path, &note);
  ASSERT_TRUE(r.is_ok());
  ASSERT_TRUE(r->catch_up(*other.log, {}, &note).is_ok());
  EXPECT_NE(note.find("replaying the log"), std::string::npos) << note;
  EXPECT_EQ(r->validator().chain(), other.replay().chain());
}

TEST(NodeReplica, ADamagedOrUnknownFileIsNotTrusted) {
  Market market;
  market.trade(2);
  const std::string path = market.dir.file("replica");
  {
    auto r = NodeReplica::load(path);
    ASSERT_TRUE(r->catch_up(*market.log).is_ok());
    ASSERT_TRUE(r->save().is_ok());
  }
  const Bytes good = *read_whole_file(path);
  auto damaged = [&](Bytes bytes) {
    EXPECT_TRUE(write_file_atomically(path, bytes).is_ok());
    std::string note;
    auto r = NodeReplica::load(path, &note);
    EXPECT_TRUE(r.is_ok());
    EXPECT_EQ(r->validator().next_sequence(), 1U);  // fresh
    return note;
  };
  Bytes flipped = good;
  flipped[flipped.size() - 40] ^= 1;  // inside the snapshot: its checksum fails
  EXPECT_NE(damaged(flipped).find("replaying the log"), std::string::npos);
  EXPECT_NE(damaged(Bytes(good.begin(), good.end() - 1)).find("not used"), std::string::npos);
  Bytes version = good;
  version[8] = 2;  // version 2 is unknown
  EXPECT_NE(damaged(version).find("version"), std::string::npos);
  Bytes position = good;
  position[12] ^= 1;  // a position the snapshot does not have
  EXPECT_NE(damaged(position).find("position"), std::string::npos);
  // The good file still loads.
  EXPECT_TRUE(write_file_atomically(path, good).is_ok());
  std::string note;
  EXPECT_EQ(NodeReplica::load(path, &note)->validator().next_sequence(), 10U);
  EXPECT_TRUE(note.empty());
}

}  // namespace
}  // namespace pfex::service
