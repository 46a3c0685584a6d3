#include "node/submit.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "node/test_util.hpp"
#include "protocol/test_util.hpp"
#include "protocol/validator.hpp"

namespace pfex::node {
namespace {

using testing::TempDir;

// A stand-in gateway answering every POST /v1/tx with a fixed status and body: a proxy or a
// forger, whose word the node must not take for what the log holds.
class FakeGateway {
 public:
  FakeGateway(int status, std::string body) {
    server_.Post("/v1/tx", [=](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      res.set_content(body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    serving_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running())  // stop() before listening would not stop it
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeGateway() {
    server_.stop();
    serving_.join();
  }
  SubmitOptions options() const {
    SubmitOptions o;
    o.gateway = Endpoint{"127.0.0.1", static_cast<std::uint16_t>(port_)};
    o.timeout = std::chrono::milliseconds(5000);
    return o;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread serving_;
};

// A market in a replica fed by hand (no log process needed), and a wallet in it.
struct Fixture {
  TempDir dir;
  protocol::testing::TestMarket m;
  protocol::Validator replica;
  Wallet wallet = [this] {
    auto w = Wallet::create(dir.file("w"), "p", KdfParams::for_tests());
    EXPECT_TRUE(w.is_ok());
    EXPECT_TRUE(w->set_market(m.id).is_ok());
    return std::move(w).value();
  }();

  Fixture() { append({m.genesis}); }

  // Appends `payloads` to the "log" and applies them; returns the new entries.
  std::vector<ledger::LogEntry> append(const std::vector<Bytes>& payloads) {
    std::vector<ledger::LogEntry> batch;
    for (const Bytes& p : payloads)
      batch.push_back(m.entry(p));
    EXPECT_TRUE(replica.apply_batch(batch).is_ok());
    return batch;
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
  httplib::Server gateway;
  std::vector<Bytes> received;
  gateway.Post("/v1/tx", [&](const httplib::Request& req, httplib::Response& res) {
    const Bytes body(req.body.begin(), req.body.end());
    if (body == refused) {
      res.status = 400;
      res.set_content(R"({"error": "too large"})", "application/json");
      return;
    }
    received.push_back(body);
    res.set_content(R"({"sequence": 2})", "application/json");
  });
  const int port = gateway.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { gateway.listen_after_bind(); });
  while (!gateway.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  SubmitOptions o;
  o.gateway = Endpoint{"127.0.0.1", static_cast<std::uint16_t>(port)};
  auto sent = submit_pending(f.wallet, o);
  gateway.stop();
  serving.join();
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
