#include "node/gateway.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "ledger/file_log.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "node/log_adapter.hpp"
#include "node/read_server.hpp"
#include "node/submit.hpp"
#include "node/test_util.hpp"
#include "node/wallet.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/test_util.hpp"

namespace pfex::node {
namespace {

using testing::Child;
using testing::free_loopback_port;
using testing::have_microsocks;
using testing::start_microsocks;
using testing::TempDir;

// A FileLog with a market opened in it, a gateway in front of it, and a wallet.
struct Fixture {
  TempDir dir;
  std::unique_ptr<ledger::FileLog> log;
  std::unique_ptr<Gateway> gateway;
  protocol::testing::TestMarket m;
  SubmitOptions direct;
  std::string wallet_path;

  Fixture() {
    auto opened = ledger::FileLog::open(dir.file("log"));
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    log = std::move(opened).value();
    EXPECT_TRUE(log->append(m.genesis).is_ok());
    gateway = std::make_unique<Gateway>(*log, GatewayOptions{});
    auto port = gateway->start();
    EXPECT_TRUE(port.is_ok()) << port.status().to_string();
    direct.gateway = Endpoint{"127.0.0.1", *port};
    direct.timeout = std::chrono::milliseconds(5000);
    wallet_path = dir.file("wallet");
  }

  // A replay of the whole log.
  protocol::LedgerReplica replay() {
    protocol::LedgerReplica v;
    auto entries = log->read(1, 1'000'000);
    EXPECT_TRUE(entries.is_ok());
    EXPECT_TRUE(v.apply_batch(to_protocol_entries(std::move(*entries))).is_ok());
    return v;
  }

  // Drops from the wallet's pending list what a replay of the log settled.
  void settle(Wallet& w) {
    auto entries = log->read(1, 1'000'000);
    ASSERT_TRUE(entries.is_ok());
    protocol::LedgerReplica v;
    ASSERT_TRUE(v.apply_batch(to_protocol_entries(*entries)).is_ok());
    ASSERT_TRUE(settle_pending(w, v, *entries).is_ok());
  }

  // A wallet registered in the market with `cash` deposited.
  Wallet registered_wallet(std::int64_t cash) {
    auto w = Wallet::create(wallet_path, "pass", KdfParams::for_tests());
    EXPECT_TRUE(w.is_ok());
    EXPECT_TRUE(w->set_market(m.id).is_ok());
    EXPECT_TRUE(w->prepare(market::RegisterAction{}).is_ok());
    EXPECT_TRUE(submit_pending(*w, direct).is_ok());
    settle(*w);
    auto account = replay().account_of(w->public_key());
    EXPECT_TRUE(account.has_value());
    EXPECT_TRUE(w->set_account(*account).is_ok());
    EXPECT_TRUE(w->prepare(market::DepositAction{*account, Cash(cash)}).is_ok());
    EXPECT_TRUE(submit_pending(*w, direct).is_ok());
    settle(*w);
    return std::move(w).value();
  }

  Cash cash_of(market::AccountId a) {
    auto v = replay();
    auto acc = v.exchange()->account(a);
    EXPECT_TRUE(acc.is_ok());
    return acc.is_ok() ? acc->cash : Cash(-1);
  }
};

TEST(Gateway, RegisterDepositAndTradeEndToEnd) {
  Fixture f;
  Wallet w = f.registered_wallet(1'000'000);
  const auto a = *w.account();
  EXPECT_EQ(f.cash_of(a), Cash(1'000'000));
  auto order =
      w.prepare(market::SubmitAction{a, protocol::testing::limit(market::Side::kBuy, 995, 2)});
  ASSERT_TRUE(order.is_ok());
  auto sent = submit_pending(w, f.direct);
  ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
  EXPECT_EQ(sent->size(), 1U);
  f.settle(w);
  EXPECT_TRUE(w.pending().empty());
  auto v = f.replay();
  EXPECT_EQ(v.rejected(), 0U);
  EXPECT_EQ(v.exchange()->book().size(), 1U);
}

TEST(Gateway, ScriptedTimeIsRefusedUnlessTheGatewayTakesIt) {
  Fixture f;  // a normal gateway: its own clock
  SubmitOptions scripted = f.direct;
  scripted.scripted_time = LedgerTime(5'000);
  auto sent = submit_transaction(f.m.genesis, scripted);
  ASSERT_FALSE(sent.is_ok());
  EXPECT_EQ(sent.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(sent.status().message().find("no scripted time"), std::string_view::npos);
  EXPECT_EQ(f.log->read(2, 10)->size(), 0U);  // nothing appended
}

TEST(Gateway, ScriptedClockStampsTheRequestedTimeAndNeverGoesBack) {
  TempDir dir;
  auto now = std::make_shared<std::atomic<std::int64_t>>(0);
  ledger::FileLog::Options options;
  options.clock = [now] { return LedgerTime(now->load()); };
  auto log = ledger::FileLog::open(dir.file("log"), options);
  ASSERT_TRUE(log.is_ok());
  protocol::testing::TestMarket m;
  GatewayOptions g;
  g.scripted_clock = [now](LedgerTime t) { now->store(t.value()); };
  g.market = m.id;
  Gateway gateway(**log, g);
  auto port = gateway.start();
  ASSERT_TRUE(port.is_ok());
  SubmitOptions o;
  o.gateway = Endpoint{"127.0.0.1", *port};
  std::vector<std::int64_t> stamps;
  std::vector<Bytes> entries{m.genesis};
  for (int i = 0; i < 3; ++i) {
    protocol::testing::Trader t;
    entries.push_back(m.sign(t, market::RegisterAction{}));
  }
  const std::int64_t times[] = {1'000, 60'000, 30'000, 90'000};
  for (std::size_t i = 0; i < entries.size(); ++i) {
    o.scripted_time = LedgerTime(times[i]);
    auto sent = submit_transaction(entries[i], o);
    ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
    stamps.push_back((*log)->read(sent->sequence, 1)->at(0).entry_time.value());
  }
  EXPECT_EQ(stamps, (std::vector<std::int64_t>{1'000, 60'000, 60'000, 90'000}));
}

TEST(Gateway, BadInputIsRefusedAndStateUnchanged) {
  Fixture f;
  Wallet w = f.registered_wallet(1'000'000);
  const auto a = *w.account();
  const auto entries_before = f.log->last_sequence();
  const Digest32 state_before = f.replay().state_hash();

  std::mt19937_64 rng(11);
  auto refused = [&](const Bytes& b) {
    Result<Submitted> r = submit_transaction(b, f.direct);
    EXPECT_FALSE(r.is_ok());
    return r.status();
  };
  for (int i = 0; i < 50; ++i) {
    Bytes junk(rng() % 400);
    for (auto& x : junk)
      x = static_cast<std::uint8_t>(rng());
    EXPECT_EQ(refused(junk).code(), ErrorCode::kInvalidArgument);
  }
  // A genuine transaction that never reaches the gateway intact.
  Bytes tx = protocol::sign_transparent(protocol::SigningKey::generate(), f.m.id, 1,
                                        market::DepositAction{a, Cash(5)});
  EXPECT_EQ(refused(Bytes(tx.begin(), tx.end() - 1)).code(), ErrorCode::kInvalidArgument);
  Bytes forged = tx;
  forged[forged.size() - 70] ^= 1;  // inside the action: decodes, signature fails
  Status s = refused(forged);
  EXPECT_NE(s.message().find("signature"), std::string_view::npos) << s.to_string();
  EXPECT_FALSE(refused(Bytes(protocol::kMaxTransactionBytes + 1, 0)).is_ok());
  EXPECT_EQ(f.log->last_sequence(), entries_before);
  EXPECT_EQ(f.replay().state_hash(), state_before);

  // Signed by a key that does not own the account: the stateless gateway cannot tell, the
  // validators reject it and nothing changes.
  ASSERT_TRUE(submit_transaction(tx, f.direct).is_ok());
  {
    auto v = f.replay();
    EXPECT_EQ(v.state_hash(), state_before);
    EXPECT_EQ(v.rejected(), 1U);
  }

  // A replay is refused by the gateway's replica: nothing appended, state unchanged.
  auto deposit = w.prepare(market::DepositAction{a, Cash(7)});
  ASSERT_TRUE(deposit.is_ok());
  ASSERT_TRUE(submit_pending(w, f.direct).is_ok());
  f.settle(w);
  const Digest32 after_once = f.replay().state_hash();
  const auto entries_after_once = f.log->last_sequence();
  Status replayed = refused(*deposit);
  EXPECT_NE(replayed.message().find("already in the log"), std::string_view::npos)
      << replayed.to_string();
  EXPECT_EQ(f.log->last_sequence(), entries_after_once);
  auto v = f.replay();
  EXPECT_EQ(v.state_hash(), after_once);
  EXPECT_EQ(v.rejected(), 1U);
  EXPECT_EQ(f.cash_of(a), Cash(1'000'007));
  EXPECT_GT(f.gateway->refused(), 50U);
}

// The node is killed (SIGKILL) after building and saving a transaction, before or after
// submitting it; the restarted node resubmits and the deposit counts exactly once.
TEST(Gateway, NodeKilledBetweenBuildAndSubmitLosesNothingAndSubmitsOnce) {
  Fixture f;
  const auto account = *f.registered_wallet(1'000'000).account();
  for (bool submitted_before_kill : {false, true}) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // the node
      auto w = Wallet::open(f.wallet_path, "pass");
      if (!w) ::_exit(2);
      auto tx = w->prepare(market::DepositAction{account, Cash(500)});
      if (!tx) ::_exit(3);
      if (submitted_before_kill && !submit_transaction(*tx, f.direct)) ::_exit(4);
      const char one = 1;
      if (::write(ready[1], &one, 1) != 1) ::_exit(5);
      for (;;)
        ::pause();  // killed here, before remove_pending
    }
    Child node(pid);
    char got = 0;
    ASSERT_EQ(::read(ready[0], &got, 1), 1);
    node.kill();
    ::close(ready[0]);
    ::close(ready[1]);

    const Cash before = f.cash_of(account);
    auto w = Wallet::open(f.wallet_path, "pass");
    ASSERT_TRUE(w.is_ok());
    ASSERT_EQ(w->pending().size(), 1U) << "the built transaction survived the kill";
    f.settle(*w);  // submitted before the kill: the log shows it, no second copy is sent
    ASSERT_TRUE(submit_pending(*w, f.direct).is_ok());
    f.settle(*w);
    EXPECT_TRUE(w->pending().empty());
    const Cash expected(before.value() + (submitted_before_kill ? 0 : 500));
    EXPECT_EQ(f.cash_of(account), expected) << "submitted before kill: " << submitted_before_kill;
  }
  auto v = f.replay();
  // The restarted node saw the one submitted before the kill in the log: no second copy.
  EXPECT_EQ(v.rejected(), 0U);
  EXPECT_EQ(f.cash_of(account), Cash(1'001'000));
}

// Neither a refused transaction (400), a refused request (403) nor a network failure drops
// anything from pending: only the log settles a transaction. The real gateway then takes both.
TEST(Gateway, RefusalsAndFailuresKeepTransactionsPending) {
  Fixture f;
  Wallet w = f.registered_wallet(1'000'000);
  const auto a = *w.account();
  // A stand-in gateway: 400 for the first transaction it sees, 403 for the second.
  net::HttpServer fake;
  std::atomic<int> seen = 0;
  fake.route("POST", "/v1/tx", [&](const net::HttpRequest&) {
    return net::HttpResponse{++seen == 1 ? 400 : 403, "application/json",
                             R"({"error": "refused by the test"})"};
  });
  const auto port = fake.start();
  ASSERT_TRUE(port.is_ok());
  SubmitOptions to_fake = f.direct;
  to_fake.gateway = Endpoint{"127.0.0.1", *port};

  ASSERT_TRUE(w.prepare(market::DepositAction{a, Cash(1)}).is_ok());
  ASSERT_TRUE(w.prepare(market::DepositAction{a, Cash(2)}).is_ok());
  // The 400 does not stop the second; the 403 does.
  auto first = submit_pending(w, to_fake);
  ASSERT_FALSE(first.is_ok());
  EXPECT_EQ(first.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(w.pending().size(), 2U);
  fake.stop();
  EXPECT_EQ(submit_pending(w, to_fake).status().code(), ErrorCode::kIoError);  // nobody there
  f.settle(w);
  EXPECT_EQ(w.pending().size(), 2U);

  ASSERT_TRUE(submit_pending(w, f.direct).is_ok());
  f.settle(w);
  EXPECT_TRUE(w.pending().empty());
  EXPECT_EQ(f.cash_of(a), Cash(1'000'003));
}

TEST(ReadServer, ServesJsonFromCallbacks) {
  ReadServer server;
  int calls = 0;
  server.get("/v1/state", [&] { return "{\"calls\": " + std::to_string(++calls) + "}"; });
  auto port = server.start();
  ASSERT_TRUE(port.is_ok()) << port.status().to_string();
  auto client = net::HttpClient::open("127.0.0.1:" + std::to_string(*port));
  ASSERT_TRUE(client.is_ok());
  auto res = client->request("GET", "/v1/state", "", "", std::chrono::seconds(5));
  ASSERT_TRUE(res.is_ok()) << res.status().to_string();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "{\"calls\": 1}");
  auto missing = client->request("GET", "/v1/nothing", "", "", std::chrono::seconds(5));
  ASSERT_TRUE(missing.is_ok());
  EXPECT_EQ(missing->status, 404);
  server.stop();
}

TEST(Socks5, SubmitsThroughMicrosocks) {
  ASSERT_TRUE(have_microsocks()) << "microsocks is not installed (scripts/install-deps)";
  Fixture f;
  Wallet w = f.registered_wallet(1'000'000);
  const std::uint16_t port = free_loopback_port();
  auto proxy = start_microsocks(port);
  ASSERT_NE(proxy, nullptr);
  SubmitOptions via = f.direct;
  via.socks5 = Endpoint{"127.0.0.1", port};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(w.prepare(market::DepositAction{*w.account(), Cash(1)}).is_ok());
  }
  auto sent = submit_pending(w, via);
  ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
  EXPECT_EQ(sent->size(), 3U);
  EXPECT_EQ(f.cash_of(*w.account()), Cash(1'000'003));
  f.settle(w);
  // Without the proxy the same route fails: the submissions really went through it.
  proxy->kill();
  ASSERT_TRUE(w.prepare(market::DepositAction{*w.account(), Cash(1)}).is_ok());
  EXPECT_EQ(submit_pending(w, via).status().code(), ErrorCode::kIoError);
  EXPECT_EQ(w.pending().size(), 1U);
}

TEST(Socks5, FreshUsernamePerSubmissionReachesTheProxy) {
  ASSERT_TRUE(have_microsocks()) << "microsocks is not installed (scripts/install-deps)";
  Fixture f;
  Wallet w = f.registered_wallet(1'000'000);
  const std::uint16_t port = free_loopback_port();
  // microsocks with fixed credentials checks the username we send on the wire.
  auto proxy = start_microsocks(port, {"-u", "pfex-user", "-P", "pfex-pass"});
  ASSERT_NE(proxy, nullptr);
  SubmitOptions via = f.direct;
  via.socks5 = Endpoint{"127.0.0.1", port};
  auto tx = w.prepare(market::DepositAction{*w.account(), Cash(1)});
  ASSERT_TRUE(tx.is_ok());
  // A fresh random username is sent and refused by a proxy that wants another one...
  Status s = submit_transaction(*tx, via).status();
  EXPECT_NE(s.message().find("refused the username"), std::string_view::npos) << s.to_string();
  // ...and the configured one is accepted.
  via.proxy_credentials = std::make_pair(std::string("pfex-user"), std::string("pfex-pass"));
  auto sent = submit_transaction(*tx, via);
  ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
  EXPECT_TRUE(sent->proxy_used_auth);
  EXPECT_EQ(sent->proxy_username, "pfex-user");
}

// A proxy that accepts any username (like Tor) sees a different one on every submission.
TEST(Socks5, EverySubmissionUsesADistinctUsername) {
  // A minimal SOCKS5 endpoint that records usernames and refuses to connect anywhere.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<std::string> seen;
  std::jthread recorder([&] {
    for (int i = 0; i < 5; ++i) {
      const int c = ::accept(listener, nullptr, nullptr);
      if (c < 0) return;
      std::uint8_t buf[600];
      auto recv_n = [&](std::size_t n) {
        return ::recv(c, buf, n, MSG_WAITALL) == static_cast<ssize_t>(n);
      };
      if (recv_n(2) && recv_n(buf[1])) {
        const std::uint8_t pick[2] = {5, 2};
        (void)::send(c, pick, 2, MSG_NOSIGNAL);
        if (recv_n(2)) {
          const std::size_t ulen = buf[1];
          if (recv_n(ulen)) {
            seen.emplace_back(reinterpret_cast<char*>(buf), ulen);
            if (recv_n(1) && recv_n(buf[0])) {
              const std::uint8_t ok[2] = {1, 0};
              (void)::send(c, ok, 2, MSG_NOSIGNAL);
              if (recv_n(10)) {
                const std::uint8_t fail[10] = {5, 1, 0, 1, 0, 0, 0, 0, 0, 0};
                (void)::send(c, fail, 10, MSG_NOSIGNAL);
              }
            }
          }
        }
      }
      ::close(c);
    }
  });
  SubmitOptions via;
  via.gateway = Endpoint{"127.0.0.1", 9};
  via.socks5 = Endpoint{"127.0.0.1", ntohs(addr.sin_port)};
  via.timeout = std::chrono::milliseconds(2000);
  for (int i = 0; i < 5; ++i) {
    Status s = submit_transaction(Bytes{1, 2, 3}, via).status();
    EXPECT_NE(s.message().find("SOCKS5 reply 1"), std::string_view::npos) << s.to_string();
  }
  recorder.join();
  ::close(listener);
  ASSERT_EQ(seen.size(), 5U);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 5U);
  for (const auto& u : seen)
    EXPECT_EQ(u.size(), 32U);
}

}  // namespace
}  // namespace pfex::node
