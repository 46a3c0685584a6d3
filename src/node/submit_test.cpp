#include "node/submit.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "net/http_server.hpp"
#include "node/test_util.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/test_util.hpp"

namespace pfex::node {
namespace {

using testing::TempDir;

// A stand-in gateway answering every POST /v1/tx with a fixed status and body: a proxy or a
// forger, whose word the node must not take for what the log holds.
class FakeGateway {
 public:
  FakeGateway(int status, const std::string& body) {
    server_.route("POST", "/v1/tx", [=](const net::HttpRequest&) {
      return net::HttpResponse{status, "application/json", body};
    });
    auto port = server_.start();
    EXPECT_TRUE(port.is_ok()) << port.status().to_string();
    port_ = port.is_ok() ? *port : 0;
  }
  SubmitOptions options() const {
    SubmitOptions o;
    o.gateway = Endpoint{"127.0.0.1", static_cast<std::uint16_t>(port_)};
    o.timeout = std::chrono::milliseconds(5000);
    return o;
  }

 private:
  net::HttpServer server_;
  std::uint16_t port_ = 0;
};

// A market in a replica fed by hand (no log process needed), and a wallet in it.
struct Fixture {
  TempDir dir;
  protocol::testing::TestMarket m;
  protocol::LedgerReplica replica;
  Wallet wallet = [this] {
    auto w = Wallet::create(dir.file("w"), "p", KdfParams::for_tests());
    EXPECT_TRUE(w.is_ok());
    EXPECT_TRUE(w->set_market(m.id).is_ok());
    return std::move(w).value();
  }();

  Fixture() { append({m.genesis}); }

  // Appends `payloads` to the "log" and applies them; returns the new entries.
  std::vector<ledger::LogEntry> append(const std::vector<Bytes>& payloads) {
    std::vector<protocol::LedgerEntry> batch;
    batch.reserve(payloads.size());
    for (const Bytes& p : payloads)
      batch.push_back(m.entry(p));
    EXPECT_TRUE(replica.apply_batch(batch).is_ok());
    std::vector<ledger::LogEntry> entries;
    entries.reserve(batch.size());
    for (protocol::LedgerEntry& e : batch)
      entries.push_back(ledger::LogEntry{e.sequence, e.entry_time, std::move(e.payload)});
    return entries;
  }
};

TEST(SubmitPending, AForgedAcknowledgementDropsNothing) {
  Fixture f;
  ASSERT_TRUE(f.wallet.prepare(market::RegisterAction{}).is_ok());
  FakeGateway forger(200, R"({"sequence": 999999})");
  auto sent = submit_pending(f.wallet, forger.options());
  ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
  EXPECT_EQ(sent->at(0).sequence, 999999U);
  EXPECT_EQ(f.wallet.pending().size(), 1U);
  // The replica has no such entry: nothing is settled.
  auto settled = settle_pending(f.wallet, f.replica, {});
  ASSERT_TRUE(settled.is_ok());
  EXPECT_TRUE(settled->empty());
  EXPECT_EQ(f.wallet.pending().size(), 1U);
}

TEST(SubmitPending, ARefusalDropsNothing) {
  Fixture f;
  ASSERT_TRUE(f.wallet.prepare(market::RegisterAction{}).is_ok());
  ASSERT_TRUE(f.wallet.prepare(market::RegisterAction{}).is_ok());
  for (int code : {400, 403, 500}) {
    FakeGateway refuser(code, R"({"error": "refused by the test"})");
    auto sent = submit_pending(f.wallet, refuser.options());
    ASSERT_FALSE(sent.is_ok()) << code;
    EXPECT_NE(sent.status().message().find("refused by the test"), std::string_view::npos);
    EXPECT_EQ(f.wallet.pending().size(), 2U) << code;
  }
  // Nobody listening: a network error, also dropping nothing.
  SubmitOptions nowhere = FakeGateway(200, "{}").options();
  EXPECT_EQ(submit_pending(f.wallet, nowhere).status().code(), ErrorCode::kIoError);
  EXPECT_EQ(f.wallet.pending().size(), 2U);
}

// One transaction no gateway takes does not block the later ones; once one of them is in the
// log, the refused one settles as never applied.
TEST(SubmitPending, ARefusedTransactionDoesNotBlockTheLaterOnes) {
  Fixture f;
  const Bytes refused = *f.wallet.prepare(market::RegisterAction{});
  const Bytes later = *f.wallet.prepare(market::RegisterAction{});
  net::HttpServer gateway;
  std::mutex mutex;
  std::vector<Bytes> received;
  gateway.route("POST", "/v1/tx", [&](const net::HttpRequest& req) {
    const Bytes body(req.body.begin(), req.body.end());
    if (body == refused) {
      return net::HttpResponse{400, "application/json", R"({"error": "too large"})"};
    }
    std::lock_guard lock(mutex);
    received.push_back(body);
    return net::HttpResponse{200, "application/json", R"({"sequence": 2})"};
  });
  auto port = gateway.start();
  ASSERT_TRUE(port.is_ok()) << port.status().to_string();
  SubmitOptions o;
  o.gateway = Endpoint{"127.0.0.1", *port};
  auto sent = submit_pending(f.wallet, o);
  gateway.stop();
  ASSERT_FALSE(sent.is_ok());
  EXPECT_EQ(sent.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(sent.status().message().find("too large"), std::string_view::npos);
  EXPECT_EQ(received, std::vector<Bytes>{later});
  EXPECT_EQ(f.wallet.pending().size(), 2U);
  const auto entries = f.append(received);
  auto settled = settle_pending(f.wallet, f.replica, entries);
  ASSERT_TRUE(settled.is_ok());
  ASSERT_EQ(settled->size(), 2U);
  EXPECT_EQ(settled->at(0).log_sequence, std::nullopt);  // never applied
  EXPECT_TRUE(f.wallet.pending().empty());
}

TEST(SettlePending, WhatTheLogHoldsLeavesPendingWithItsEntry) {
  Fixture f;
  const Bytes reg = *f.wallet.prepare(market::RegisterAction{});
  const Bytes again = *f.wallet.prepare(market::RegisterAction{});  // rejected: one account a key
  const auto entries = f.append({reg, again});
  ASSERT_EQ(f.replica.rejected(), 1U);
  auto settled = settle_pending(f.wallet, f.replica, entries);
  ASSERT_TRUE(settled.is_ok());
  ASSERT_EQ(settled->size(), 2U);
  EXPECT_EQ(settled->at(0).tx, reg);
  EXPECT_EQ(settled->at(0).log_sequence, entries[0].sequence);
  EXPECT_EQ(settled->at(1).log_sequence, entries[1].sequence);  // seen, though rejected
  EXPECT_TRUE(f.wallet.pending().empty());
  // Persisted.
  const std::string path = f.wallet.path();
  { Wallet closed = std::move(f.wallet); }
  EXPECT_TRUE(Wallet::open(path, "p")->pending().empty());
}

TEST(SettlePending, ASequenceUsedByAnotherEntryProvesItCanNeverApply) {
  Fixture f;
  const Bytes lost = *f.wallet.prepare(market::RegisterAction{});   // sequence 1: never submitted
  const Bytes later = *f.wallet.prepare(market::RegisterAction{});  // sequence 2: in the log
  EXPECT_TRUE(settle_pending(f.wallet, f.replica, {})->empty());    // nothing in the log yet
  const auto entries = f.append({later});
  auto settled = settle_pending(f.wallet, f.replica, entries);
  ASSERT_TRUE(settled.is_ok());
  ASSERT_EQ(settled->size(), 2U);
  EXPECT_EQ(settled->at(0).tx, lost);
  EXPECT_EQ(settled->at(0).tx_sequence, 1U);
  EXPECT_EQ(settled->at(0).log_sequence, std::nullopt);  // superseded, never in the log
  EXPECT_EQ(settled->at(1).log_sequence, entries[0].sequence);
  EXPECT_TRUE(f.wallet.pending().empty());
}

TEST(SettlePending, SeenInTheLogButNotAuthenticatedStillLeaves) {
  Fixture f;
  // A deposit before registering: rejected before its sequence number counts, so only its
  // bytes in the log show that it was seen.
  ASSERT_TRUE(f.wallet.set_account(market::AccountId{7}).is_ok());
  const Bytes early = *f.wallet.prepare(market::DepositAction{market::AccountId{7}, Cash(5)});
  const auto entries = f.append({early});
  ASSERT_EQ(f.replica.rejected(), 1U);
  EXPECT_EQ(f.replica.last_sequence_of(f.wallet.public_key()), 0U);
  EXPECT_TRUE(settle_pending(f.wallet, f.replica, {})->empty());  // the sequence proves nothing
  auto settled = settle_pending(f.wallet, f.replica, entries);
  ASSERT_TRUE(settled.is_ok());
  ASSERT_EQ(settled->size(), 1U);
  EXPECT_EQ(settled->at(0).log_sequence, entries[0].sequence);
  EXPECT_TRUE(f.wallet.pending().empty());
}

}  // namespace
}  // namespace pfex::node
