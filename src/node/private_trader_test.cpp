// The trader's node in a private market: killed at every step of every kind of transaction, the
// restarted node neither loses nor double-spends (the ledger and the wallet agree with a run that
// was never killed); fills are settled after their delay; a margin round is met with a refresh,
// depositing the shortfall the wallet names.
#include "node/private_trader.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "net/http_server.hpp"
#include "node/test_util.hpp"
#include "protocol/private/test_util.hpp"
#include "protocol/private_test_util.hpp"

namespace pfex::node {
namespace {

using priv::OrderKind;
using priv::PrivateTx;
using priv::Side;
using priv::testing::gens;

// The test market's id (its terms are built on first use, not at static initialization).
protocol::MarketId test_market() {
  return priv::testing::small_terms().market_id;
}

// A log in memory in front of a private ledger: submitted entries wait until apply(), which
// decodes and applies each in order as a replica does (a rejected entry changes nothing).
struct TestLog {
  priv::PrivateLedger ledger{gens(), priv::testing::small_terms()};
  std::vector<protocol::LedgerEntry> entries;
  std::vector<protocol::EntryOutcome> outcomes;
  std::int64_t clock = 1'000;
  std::uint64_t issuer_sequence = 0;

  // Submissions a gateway answers without appending (as it answers bytes whose serial or
  // sequence number the log already used: 409, which the node counts as sent).
  bool swallow = false;

  Status submit(ByteSpan entry) {
    if (swallow) return Status::ok();
    entries.push_back({entries.size() + 1, LedgerTime(clock), Bytes(entry.begin(), entry.end())});
    return Status::ok();
  }
  void apply() {
    for (std::size_t i = outcomes.size(); i < entries.size(); ++i) {
      protocol::EntryOutcome out;
      out.sequence = entries[i].sequence;
      out.time = entries[i].entry_time;
      auto e = protocol::decode_entry(entries[i].payload,
                                      {protocol::Mode::kPrivate, ledger.terms().log_window});
      auto* p = e.is_ok() ? std::get_if<protocol::PrivateEntry>(&*e) : nullptr;
      ASSERT_NE(p, nullptr);
      auto applied = ledger.apply(p->tx);
      out.accepted = applied.is_ok();
      if (applied.is_ok()) out.private_result = *applied;
      if (!applied.is_ok()) out.reason = applied.status();
      outcomes.push_back(std::move(out));
    }
  }
  void mint(const std::array<std::uint8_t, 32>& to, std::int64_t amount) {
    priv::MintTx tx;
    tx.account = to;
    tx.amount = amount;
    tx.sequence = ++issuer_sequence;
    const Bytes message = priv::mint_signed_bytes(ledger.terms().market_id, tx);
    crypto_sign_detached(tx.signature.data(), nullptr, message.data(), message.size(),
                         priv::testing::issuer().sk.data());
    ASSERT_TRUE(submit(protocol::encode_entry(protocol::PrivateEntry{PrivateTx(tx)})).is_ok());
  }
  std::size_t accepted() const {
    return static_cast<std::size_t>(
        std::count_if(outcomes.begin(), outcomes.end(), [](const auto& o) { return o.accepted; }));
  }
};

// One trader node on a wallet file, which it can be killed and restarted on.
struct Node {
  TestLog& log;
  std::string path;
  std::optional<PrivateWalletStore> store;
  std::unique_ptr<PrivateTrader> trader;
  PrivateTraderOptions options;

  Node(TestLog& l, std::string p, PrivateTraderOptions o = {})
      : log(l), path(std::move(p)), options(std::move(o)) {
    auto s =
        PrivateWalletStore::create(path, "pass", gens(), test_market(), KdfParams::for_tests());
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    store.emplace(std::move(s).value());
    start();
  }
  void start() {
    trader = std::make_unique<PrivateTrader>(
        *store, [this](ByteSpan e) { return log.submit(e); }, options);
  }
  // Drops everything in memory and starts again from the file, as after SIGKILL.
  void restart() {
    trader.reset();
    store.reset();
    auto s = PrivateWalletStore::open(path, "pass", gens());
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    store.emplace(std::move(s).value());
    start();
  }
  // The replica applies what was submitted and the node follows it.
  Status sync() {
    log.apply();
    return trader->follow(log.ledger, log.entries, log.outcomes);
  }
  priv::PrivateWallet& wallet() { return store->wallet(); }
};

// The actions of the crash test, in order; each is one transaction of the node.
using Action = std::function<Status(Node&)>;
std::vector<Action> actions() {
  return {
      [](Node& n) { return n.trader->register_identity(n.log.ledger, n.log.ledger.terms().bond); },
      [](Node& n) { return n.trader->deposit(n.log.ledger, 600'000); },
      [](Node& n) { return n.trader->post(n.log.ledger, Side::kBuy, OrderKind::kLimit, 100, 5); },
      [](Node& n) { return n.trader->post(n.log.ledger, Side::kSell, OrderKind::kLimit, 105, 2); },
      [](Node& n) { return n.trader->cancel(n.log.ledger, 1); },
      [](Node& n) { return n.trader->settle(n.log.ledger); },
      [](Node& n) { return n.trader->withdraw(n.log.ledger, 1'000); },
  };
}

// Between actions, what the market does: a mint after registering, a fill of the buy.
void market_after(Node& n, std::size_t action) {
  if (action == 0) n.log.mint(n.wallet().identity(), 1'000'000);
  if (action == 3) {
    ASSERT_TRUE(n.log.ledger.record_fill(0, 100, 3).is_ok());
  }
}

struct Outcome {
  priv::Attributes attributes;
  std::uint64_t cash = 0;
  std::vector<std::uint64_t> orders;
  std::size_t accepted = 0;
};

Outcome run(const std::string& path, std::optional<std::pair<std::size_t, TraderStep>> kill,
            bool resubmit_before_catching_up = false) {
  TestLog log;
  Node n(log, path);
  const auto list = actions();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const bool killed_here = kill && kill->first == i;
    if (killed_here)
      n.trader->set_fault_hook([step = kill->second](TraderStep s) { return s != step; });
    Status s = list[i](n);
    if (s.is_ok()) s = n.sync();
    if (!killed_here) {
      EXPECT_TRUE(s.is_ok()) << "action " << i << ": " << s.to_string();
    } else {
      EXPECT_FALSE(s.is_ok()) << "action " << i << " was not stopped";
      n.restart();
      if (resubmit_before_catching_up) {
        EXPECT_TRUE(n.trader->resubmit_pending(n.log.ledger).is_ok());
      }
      EXPECT_TRUE(n.sync().is_ok());
      EXPECT_TRUE(n.trader->resubmit_pending(n.log.ledger).is_ok());
      EXPECT_TRUE(n.sync().is_ok());
      EXPECT_FALSE(n.trader->busy()) << "action " << i;
      // Killed before anything was saved: the action never happened; the node does it again.
      if (kill->second == TraderStep::kBuilt) {
        EXPECT_TRUE(list[i](n).is_ok());
        EXPECT_TRUE(n.sync().is_ok());
      }
    }
    EXPECT_FALSE(n.trader->busy()) << "action " << i;
    market_after(n, i);
    EXPECT_TRUE(n.sync().is_ok());
  }
  // The wallet's token is the ledger's token at its index.
  const auto index = n.wallet().token_index();
  EXPECT_TRUE(index.has_value());
  if (index) {
    const auto list_now = log.ledger.tokens(log.ledger.terms().epoch);
    EXPECT_LT(*index, list_now.size());
    if (*index < list_now.size()) {
      EXPECT_EQ(n.wallet().token().commit(gens()), list_now[*index]);
    }
  }
  return {n.wallet().attributes(), n.wallet().cash_balance(), n.wallet().open_orders(),
          log.accepted()};
}

TEST(PrivateTraderCrash, KilledAtEveryStepOfEveryActionItNeitherLosesNorDoubleSpends) {
  testing::TempDir dir;
  const Outcome reference = run(dir.file("reference"), std::nullopt);
  EXPECT_EQ(reference.cash, 1'000'000U - 600'000U + 1'000U);
  // Order 1 was cancelled and its remainder released by the settle: it left the wallet.
  EXPECT_EQ(reference.orders, (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(reference.attributes.vp, 3U);
  const std::size_t n = actions().size();
  int runs = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (const TraderStep step :
         {TraderStep::kBuilt, TraderStep::kSaved, TraderStep::kSubmitted, TraderStep::kConfirmed}) {
      SCOPED_TRACE("killed at action " + std::to_string(i) + " step " +
                   std::to_string(static_cast<int>(step)));
      const Outcome o =
          run(dir.file(std::string("w").append(std::to_string(runs++))), std::pair{i, step});
      EXPECT_EQ(o.attributes, reference.attributes);
      EXPECT_EQ(o.cash, reference.cash);
      EXPECT_EQ(o.orders, reference.orders);
      EXPECT_EQ(o.accepted, reference.accepted);  // each action took effect exactly once
    }
  }
}

// Killed after submitting, the restarted node sends the same bytes again before its replica saw
// the first copy: both reach the log, the second is rejected (its serial or sequence is spent),
// and the wallet confirms the first.
TEST(PrivateTraderCrash, ASecondCopyOfTheSameBytesIsRejectedAndNothingIsSpentTwice) {
  testing::TempDir dir;
  const Outcome reference = run(dir.file("reference"), std::nullopt);
  for (std::size_t i = 0; i < actions().size(); ++i) {
    SCOPED_TRACE("action " + std::to_string(i));
    const Outcome o = run(dir.file(std::string("w").append(std::to_string(i))),
                          std::pair{i, TraderStep::kSubmitted},
                          /*resubmit_before_catching_up=*/true);
    EXPECT_EQ(o.attributes, reference.attributes);
    EXPECT_EQ(o.cash, reference.cash);
    EXPECT_EQ(o.accepted, reference.accepted);
  }
}

TEST(PrivateTrader, AWalletOfAnotherMarketIsRefused) {
  testing::TempDir dir;
  TestLog log;
  protocol::MarketId other = test_market();
  other[0] ^= 1;
  auto store =
      PrivateWalletStore::create(dir.file("w"), "pass", gens(), other, KdfParams::for_tests());
  ASSERT_TRUE(store.is_ok());
  PrivateTrader trader(*store, [&](ByteSpan e) { return log.submit(e); });
  const Status s = trader.follow(log.ledger, log.entries, log.outcomes);
  EXPECT_EQ(s.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("another market"), std::string_view::npos);
}

// A transfer the ledger accepted whose memo does not open (its sender's doing) is noted and
// skipped; the node reads on and takes in what follows.
TEST(PrivateTrader, ATransferWhoseMemoDoesNotOpenDoesNotStopTheNode) {
  testing::TempDir dir;
  TestLog log;
  Node n(log, dir.file("w"));
  ASSERT_TRUE(n.trader->register_identity(log.ledger, log.ledger.terms().bond).is_ok());
  ASSERT_TRUE(n.sync().is_ok());
  auto sender = priv::testing::registered(log.ledger);
  ASSERT_TRUE(log.ledger.apply(PrivateTx(priv::testing::mint_tx(*sender, 500, 1))).is_ok());
  sender->on_mint(500);
  log.issuer_sequence = 1;
  auto transfer = sender->build_transfer(log.ledger, n.wallet().identity(), 200);
  ASSERT_TRUE(transfer.is_ok());
  priv::TransferTx garbled = *transfer;
  garbled.memo[60] ^= 1;
  // Handed to the node as accepted (the node does not re-verify what its replica accepted).
  log.entries.push_back({log.entries.size() + 1, LedgerTime(2'000),
                         protocol::encode_entry(protocol::PrivateEntry{PrivateTx(garbled)})});
  protocol::EntryOutcome accepted;
  accepted.sequence = log.entries.back().sequence;
  accepted.time = LedgerTime(2'000);
  accepted.accepted = true;
  log.outcomes.push_back(accepted);
  log.mint(n.wallet().identity(), 70);
  ASSERT_TRUE(n.sync().is_ok());
  EXPECT_EQ(n.trader->unopened_transfers(), std::vector<std::uint64_t>{accepted.sequence});
  EXPECT_EQ(n.wallet().cash_balance(), 70U);  // the mint after it was taken in
}

TEST(PrivateTrader, OneTransactionAtATime) {
  testing::TempDir dir;
  TestLog log;
  Node n(log, dir.file("w"));
  ASSERT_TRUE(n.trader->register_identity(log.ledger, log.ledger.terms().bond).is_ok());
  EXPECT_TRUE(n.trader->busy());
  EXPECT_EQ(n.trader->deposit(log.ledger, 1).code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(n.sync().is_ok());
  EXPECT_FALSE(n.trader->busy());
}

// A registered node with cash in its token and its account, and a buy of 3 at 100 filled.
struct Trading {
  testing::TempDir dir;
  TestLog log;
  Node n;
  explicit Trading(PrivateTraderOptions options = {}) : n(log, dir.file("w"), std::move(options)) {
    EXPECT_TRUE(n.trader->register_identity(log.ledger, log.ledger.terms().bond).is_ok());
    EXPECT_TRUE(n.sync().is_ok());
    log.mint(n.wallet().identity(), 100'000);
    EXPECT_TRUE(n.sync().is_ok());
    EXPECT_TRUE(n.trader->deposit(log.ledger, 50'000).is_ok());
    EXPECT_TRUE(n.sync().is_ok());
    EXPECT_TRUE(n.trader->post(log.ledger, Side::kBuy, OrderKind::kLimit, 100, 3).is_ok());
    EXPECT_TRUE(n.sync().is_ok());
  }
  // An entry of someone else's at ledger time `t` (the node's clock moves with the log).
  void tick(std::int64_t t) {
    log.clock = t;
    log.mint(stranger, 1);
    ASSERT_TRUE(n.sync().is_ok());
  }
  std::array<std::uint8_t, 32> stranger = [] {
    priv::PrivateWallet w(gens());
    return w.identity();
  }();
};

TEST(PrivateTraderLoop, SettlesAFillOnlyOnceItsDelayHasPassed) {
  PrivateTraderOptions options;
  options.max_settle_delay = LedgerTime(1'000);
  options.draw_delay = [](std::int64_t max) { return max; };
  Trading t(options);
  ASSERT_TRUE(t.log.ledger.record_fill(0, 100, 3).is_ok());
  t.tick(5'000);  // the node sees the fill at 5000: due at 6000
  EXPECT_FALSE(*t.n.trader->step(t.log.ledger));
  t.tick(5'999);
  EXPECT_FALSE(*t.n.trader->step(t.log.ledger));
  t.tick(6'000);
  ASSERT_TRUE(*t.n.trader->step(t.log.ledger));
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_FALSE(t.n.trader->busy());
  EXPECT_EQ(t.n.wallet().attributes().vp, 3U);
  EXPECT_EQ(t.log.ledger.order(0)->claimed, 1U);
  EXPECT_FALSE(*t.n.trader->step(t.log.ledger));  // nothing left to settle
}

TEST(PrivateTraderLoop, WithoutADelayItSettlesAtOnce) {
  Trading t;
  ASSERT_TRUE(t.log.ledger.record_fill(0, 100, 2).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(*t.n.trader->step(t.log.ledger));
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_EQ(t.n.wallet().attributes().vp, 2U);
}

priv::MarketTerms harsh_terms(const priv::PrivateLedger& ledger, std::int64_t margin) {
  priv::MarketTerms next = ledger.terms();
  next.epoch += 1;
  next.low = 95;
  next.high = 115;
  next.margin = margin;
  return next;
}

// The margin round: the node releases its expired order, then refreshes, depositing from its cash
// account exactly what the wallet says the token is short of in the new band.
TEST(PrivateTraderLoop, RefreshesByItselfDepositingTheShortfall) {
  Trading t;
  ASSERT_TRUE(t.log.ledger.record_fill(0, 100, 3).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(*t.n.trader->step(t.log.ledger));  // settles the fill
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(t.n.trader->post(t.log.ledger, Side::kBuy, OrderKind::kLimit, 95, 1).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  const std::int64_t c = t.n.wallet().attributes().c;
  ASSERT_TRUE(t.log.ledger.begin_margin_round(harsh_terms(t.log.ledger, 20'000), 5).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(*t.n.trader->step(t.log.ledger));  // releases the expired buy
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_FALSE(t.log.ledger.refreshed(t.n.wallet().identity()));
  ASSERT_TRUE(*t.n.trader->step(t.log.ledger));  // refreshes
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_FALSE(t.n.trader->busy());
  EXPECT_TRUE(t.log.ledger.refreshed(t.n.wallet().identity()));
  // c' = c - 5*3 (levy) + X with E_L = c' + 3*(95*10 - 20000) = 0: the deposit is exactly X.
  const std::int64_t x = std::int64_t{3} * (20'000 - 950) - (c - 15);
  ASSERT_GT(x, 0);
  EXPECT_EQ(t.n.wallet().cash_balance(), 50'000U - static_cast<std::uint64_t>(x));
  EXPECT_EQ(t.n.wallet().attributes().c, c - 15 + x);
  EXPECT_FALSE(*t.n.trader->step(t.log.ledger));  // nothing more to do in this round
}

TEST(PrivateTraderLoop, AMarginCallTheCashAccountCannotPayIsAClearError) {
  Trading t;
  ASSERT_TRUE(t.log.ledger.record_fill(0, 100, 3).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(*t.n.trader->step(t.log.ledger));
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(t.log.ledger.begin_margin_round(harsh_terms(t.log.ledger, 60'000), 0).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  auto refused = t.n.trader->step(t.log.ledger);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInsolvent);
  EXPECT_NE(refused.status().message().find("margin call: E_L short by"), std::string_view::npos)
      << refused.status().to_string();
  EXPECT_NE(refused.status().message().find("the cash account holds 50000"),
            std::string_view::npos);
  EXPECT_FALSE(t.n.trader->busy());  // nothing sent
}

// The log rejects a pending post (a margin round began before it): follow() drops it with a
// message naming the entry and the reason, the wallet is as before the post was built (its token
// is the ledger's, its orders and cash unchanged), and the node goes on (releases, refreshes and
// posts again). Before, the post stayed pending and the node could send nothing ever again.
TEST(PrivateTrader, APendingTransactionTheLogRejectedIsDroppedAndTheWalletStaysConsistent) {
  Trading t;
  const priv::Attributes before = t.n.wallet().attributes();
  const auto index = t.n.wallet().token_index();
  const auto orders = t.n.wallet().open_orders();
  const std::uint64_t cash = t.n.wallet().cash_balance();
  ASSERT_TRUE(t.n.trader->post(t.log.ledger, Side::kBuy, OrderKind::kLimit, 101, 1).is_ok());
  ASSERT_TRUE(t.n.trader->busy());
  ASSERT_TRUE(t.log.ledger.begin_margin_round(harsh_terms(t.log.ledger, 20'000), 0).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_FALSE(t.log.outcomes.back().accepted);
  EXPECT_FALSE(t.n.trader->busy());
  EXPECT_FALSE(t.n.wallet().has_pending());
  ASSERT_TRUE(t.n.trader->rejection().has_value());
  const std::string why(t.n.trader->rejection()->message());
  EXPECT_NE(
      why.find("rejected the pending transaction at entry " + std::to_string(t.log.entries.size())),
      std::string::npos)
      << why;
  EXPECT_NE(why.find(std::string(t.log.outcomes.back().reason.message())), std::string::npos)
      << why;
  EXPECT_EQ(t.n.wallet().attributes(), before);
  EXPECT_EQ(t.n.wallet().token_index(), index);
  EXPECT_EQ(t.n.wallet().open_orders(), orders);
  EXPECT_EQ(t.n.wallet().cash_balance(), cash);
  // The drop is saved: a restarted node has nothing pending either.
  t.n.restart();
  EXPECT_FALSE(t.n.trader->busy());
  EXPECT_FALSE(t.n.wallet().has_pending());
  // The wallet goes on from its token: release the expired buy, refresh, post in the new band.
  ASSERT_TRUE(*t.n.trader->step(t.log.ledger));
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(*t.n.trader->step(t.log.ledger));
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_TRUE(t.log.ledger.refreshed(t.n.wallet().identity()));
  EXPECT_FALSE(t.n.trader->rejection().has_value());
  ASSERT_TRUE(t.log.ledger.close_refresh_window().is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(t.n.trader->post(t.log.ledger, Side::kBuy, OrderKind::kLimit, 100, 1).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_TRUE(t.log.outcomes.back().accepted) << t.log.outcomes.back().reason.to_string();
  EXPECT_FALSE(t.n.trader->busy());
}

// An older copy of the wallet (restored from a backup) builds a deposit with a sequence number a
// transfer of the newer copy already used: the gateway never appends it (409), so it never shows
// in the log. The node drops it once its replica shows the sequence used, and its token is
// spent by the next transaction as if the deposit had never been built.
TEST(PrivateTrader, APendingSpendWhoseSequenceAnotherEntryUsedIsDropped) {
  Trading t;
  const std::string backup = t.dir.file("backup");
  Node other(t.log, t.dir.file("other"));
  ASSERT_TRUE(other.trader->register_identity(t.log.ledger, t.log.ledger.terms().bond).is_ok());
  ASSERT_TRUE(other.sync().is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  std::filesystem::copy_file(t.n.path, backup);
  auto transfer = t.n.wallet().build_transfer(t.log.ledger, other.wallet().identity(), 10);
  ASSERT_TRUE(transfer.is_ok()) << transfer.status().to_string();
  ASSERT_TRUE(
      t.log.submit(protocol::encode_entry(protocol::PrivateEntry{PrivateTx(*transfer)})).is_ok());
  t.log.apply();
  ASSERT_TRUE(t.log.outcomes.back().accepted) << t.log.outcomes.back().reason.to_string();
  // The node is restarted on the backup.
  t.n.trader.reset();
  t.n.store.reset();
  std::filesystem::copy_file(backup, t.n.path, std::filesystem::copy_options::overwrite_existing);
  t.n.restart();
  ASSERT_TRUE(t.n.sync().is_ok());
  const priv::Attributes before = t.n.wallet().attributes();
  t.log.swallow = true;
  ASSERT_TRUE(t.n.trader->deposit(t.log.ledger, 1'000).is_ok());
  const std::size_t logged = t.log.entries.size();
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_EQ(t.log.entries.size(), logged);
  EXPECT_FALSE(t.n.trader->busy());
  EXPECT_FALSE(t.n.wallet().has_pending());
  ASSERT_TRUE(t.n.trader->rejection().has_value());
  EXPECT_NE(t.n.trader->rejection()->message().find("was used by another entry"),
            std::string_view::npos)
      << t.n.trader->rejection()->to_string();
  EXPECT_EQ(t.n.wallet().attributes(), before);
  t.log.swallow = false;
  ASSERT_TRUE(t.n.trader->post(t.log.ledger, Side::kSell, OrderKind::kLimit, 104, 1).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_TRUE(t.log.outcomes.back().accepted) << t.log.outcomes.back().reason.to_string();
  EXPECT_FALSE(t.n.trader->busy());
  EXPECT_EQ(t.n.wallet().attributes().S, before.S + 1);
}

// Orders closed, released and with every fill claimed leave the wallet; an order with a fill
// not yet claimed, or open, stays (a settle or cancel still needs its tag opening). The file
// shrinks back with them.
TEST(PrivateTrader, SettledOrdersLeaveTheWallet) {
  Trading t;  // order 0: buy 3 at 100
  ASSERT_TRUE(t.n.trader->post(t.log.ledger, Side::kBuy, OrderKind::kLimit, 99, 2).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());  // order 1
  ASSERT_EQ(t.n.wallet().open_orders(), (std::vector<std::uint64_t>{0, 1}));
  // Order 0 fills completely and closes: its fill is unclaimed, so it stays.
  ASSERT_TRUE(t.log.ledger.record_fill(0, 100, 3).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(t.log.ledger.order(0)->closed);
  EXPECT_EQ(t.n.wallet().open_orders(), (std::vector<std::uint64_t>{0, 1}));
  EXPECT_EQ(t.n.trader->forgotten_orders(), 0U);
  // The settle claims the fill and releases the (empty) remainder: order 0 leaves.
  ASSERT_TRUE(*t.n.trader->step(t.log.ledger));
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(t.log.ledger.order(0)->released);
  EXPECT_EQ(t.n.wallet().open_orders(), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(t.n.trader->forgotten_orders(), 1U);
  EXPECT_EQ(t.n.wallet().attributes().vp, 3U);
  // Order 1 is cancelled: closed, then released by the next settle, then gone.
  ASSERT_TRUE(t.n.trader->cancel(t.log.ledger, 1).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_EQ(t.n.wallet().open_orders(), (std::vector<std::uint64_t>{1}));
  ASSERT_TRUE(*t.n.trader->step(t.log.ledger));
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_TRUE(t.n.wallet().open_orders().empty());
  EXPECT_EQ(t.n.wallet().attributes().B, 0U);
  // What was dropped is saved: the reopened wallet has no orders and still trades.
  t.n.restart();
  EXPECT_TRUE(t.n.wallet().open_orders().empty());
  ASSERT_TRUE(t.n.trader->post(t.log.ledger, Side::kSell, OrderKind::kLimit, 104, 1).is_ok());
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_TRUE(t.log.outcomes.back().accepted) << t.log.outcomes.back().reason.to_string();
  EXPECT_EQ(t.n.wallet().open_orders(), (std::vector<std::uint64_t>{2}));
}

// The node's transactions reach the gateway through a real SOCKS5 proxy (microsocks), each on a
// new connection offering a fresh username, and the node follows the log with a LedgerReplica
// from the private genesis on; without the proxy the entry stays pending, and the same bytes go
// through once it is back.
// The gateway's answers through submit_through: a 5xx or a timeout leaves the transaction
// pending, resubmitted until the log has it; a 400 for bytes the node's replica refuses too is
// final: the transaction is dropped at once, with the gateway's reason and the replica's, the
// wallet as before it was built, and the node goes on; a 400 for bytes the node's replica accepts
// leaves it pending (an answer is not proof of what the log holds).
TEST(PrivateTraderGateway, ARefusalIsFinalAFailureOrATimeoutIsRetried) {
  Trading t;
  std::mutex mutex;
  enum class Answer : std::uint8_t { kAppend, kRefuse, kRefuseAfterARound, kFail, kSlow };
  std::atomic<Answer> answer = Answer::kFail;
  std::atomic<int> received = 0;
  std::atomic<bool> slow_answered = false;
  net::HttpServer gateway;  // a stand-in gateway in front of the test's log
  gateway.route("POST", "/v1/tx", [&](const net::HttpRequest& req) {
    std::lock_guard lock(mutex);
    ++received;
    switch (answer.load()) {
      case Answer::kAppend:
        EXPECT_TRUE(t.log
                        .submit(ByteSpan(reinterpret_cast<const std::uint8_t*>(req.body.data()),
                                         req.body.size()))
                        .is_ok());
        return net::HttpResponse{200, "application/json",
                                 "{\"sequence\": " + std::to_string(t.log.entries.size()) + "}"};
      case Answer::kRefuse:
        return net::HttpResponse{400, "application/json", R"({"error": "a stand-in's refusal"})"};
      case Answer::kRefuseAfterARound:
        return net::HttpResponse{400, "application/json",
                                 R"({"error": "the refresh window is open"})"};
      case Answer::kFail:
        return net::HttpResponse{503, "application/json", R"({"error": "overloaded"})"};
      case Answer::kSlow:
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
        slow_answered = true;
        return net::HttpResponse{500, "application/json", R"({"error": "late"})"};
    }
    return net::HttpResponse{500, "application/json", "{}"};
  });
  auto port = gateway.start();
  ASSERT_TRUE(port.is_ok()) << port.status().to_string();
  SubmitOptions via;
  via.gateway = Endpoint{"127.0.0.1", *port};
  via.timeout = std::chrono::milliseconds(200);
  // Before the gateway refuses a post for a margin round, the round begins (on this thread: the
  // node's replica and the gateway's log move on between the post's building and its sending).
  t.n.trader = std::make_unique<PrivateTrader>(*t.n.store, [&, send = submit_through(via)](
                                                               ByteSpan entry) {
    if (answer == Answer::kRefuseAfterARound) {
      EXPECT_TRUE(t.log.ledger.begin_margin_round(harsh_terms(t.log.ledger, 20'000), 0).is_ok());
    }
    return send(entry);
  });
  auto sync = [&] {
    std::lock_guard lock(mutex);
    return t.n.sync();
  };
  ASSERT_TRUE(sync().is_ok());
  const priv::PrivateLedger& ledger = t.log.ledger;

  // A 5xx, then a timeout, then a 400 the replica does not confirm: pending each time.
  const Status failed = t.n.trader->post(ledger, Side::kBuy, OrderKind::kLimit, 101, 1);
  EXPECT_EQ(failed.code(), ErrorCode::kIoError) << failed.to_string();
  EXPECT_TRUE(t.n.trader->busy());
  EXPECT_TRUE(t.n.wallet().has_pending());
  answer = Answer::kSlow;
  EXPECT_EQ(t.n.trader->resubmit_pending(ledger).code(), ErrorCode::kIoError);
  EXPECT_TRUE(t.n.trader->busy());
  // The stand-in answers one request at a time: let it finish the late answer.
  for (int i = 0; i < 1'000 && !slow_answered; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(slow_answered);
  answer = Answer::kRefuse;
  const Status unconfirmed = t.n.trader->resubmit_pending(ledger);
  EXPECT_EQ(unconfirmed.code(), ErrorCode::kFailedPrecondition) << unconfirmed.to_string();
  EXPECT_NE(unconfirmed.message().find("a stand-in's refusal"), std::string_view::npos);
  EXPECT_NE(unconfirmed.message().find("stays pending"), std::string_view::npos);
  EXPECT_TRUE(t.n.trader->busy());
  EXPECT_FALSE(t.n.trader->rejection().has_value());
  ASSERT_TRUE(sync().is_ok());
  EXPECT_TRUE(t.n.trader->busy());  // the log has not seen it
  answer = Answer::kAppend;
  ASSERT_TRUE(t.n.trader->resubmit_pending(ledger).is_ok());
  ASSERT_TRUE(sync().is_ok());
  EXPECT_FALSE(t.n.trader->busy());
  ASSERT_TRUE(t.log.outcomes.back().accepted) << t.log.outcomes.back().reason.to_string();
  EXPECT_EQ(t.n.wallet().open_orders().size(), 2U);
  EXPECT_EQ(received, 4);

  // A 400 for a post the log can never apply (a margin round began): dropped at once.
  const priv::Attributes before = t.n.wallet().attributes();
  const auto index = t.n.wallet().token_index();
  const auto orders = t.n.wallet().open_orders();
  const std::uint64_t cash = t.n.wallet().cash_balance();
  const std::size_t logged = t.log.entries.size();
  answer = Answer::kRefuseAfterARound;
  const Status refused = t.n.trader->post(ledger, Side::kBuy, OrderKind::kLimit, 102, 1);
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidArgument) << refused.to_string();
  EXPECT_FALSE(t.n.trader->busy());
  EXPECT_FALSE(t.n.wallet().has_pending());
  ASSERT_TRUE(t.n.trader->rejection().has_value());
  const std::string why(t.n.trader->rejection()->message());
  EXPECT_NE(why.find("gateway refused the transaction: the refresh window is open"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("the node's replica refuses it too"), std::string::npos) << why;
  EXPECT_NE(why.find("dropped from pending"), std::string::npos) << why;
  EXPECT_EQ(t.n.wallet().attributes(), before);
  EXPECT_EQ(t.n.wallet().token_index(), index);
  EXPECT_EQ(t.n.wallet().open_orders(), orders);
  EXPECT_EQ(t.n.wallet().cash_balance(), cash);
  EXPECT_EQ(t.log.entries.size(), logged);
  // The drop is saved; the restarted node goes on from its token: it releases its orders and
  // refreshes.
  gateway.stop();
  t.n.restart();
  EXPECT_FALSE(t.n.trader->busy());
  EXPECT_FALSE(t.n.wallet().has_pending());
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(*t.n.trader->step(ledger));
  ASSERT_TRUE(t.n.sync().is_ok());
  ASSERT_TRUE(*t.n.trader->step(ledger));
  ASSERT_TRUE(t.n.sync().is_ok());
  EXPECT_TRUE(t.log.ledger.refreshed(t.n.wallet().identity()));
  EXPECT_FALSE(t.n.trader->busy());
}

TEST(PrivateTraderSocks5, SendsThroughARealProxyAndResubmitsWhenItIsBack) {
  ASSERT_TRUE(testing::have_microsocks()) << "microsocks is not installed (scripts/install-deps)";
  testing::TempDir dir;
  const protocol::SigningKey issuer = protocol::testing::fixed_issuer();
  const Bytes genesis =
      protocol::encode_entry(protocol::testing::private_genesis(issuer.public_key()));
  protocol::LedgerReplica replica(
      std::shared_ptr<const priv::PrivateGens>(&gens(), [](const priv::PrivateGens*) {}));
  std::vector<protocol::LedgerEntry> entries;
  std::vector<protocol::EntryOutcome> outcomes;
  std::mutex mutex;
  auto append = [&](Bytes payload) {  // under the mutex
    entries.push_back({entries.size() + 1,
                       LedgerTime(1'000 + static_cast<std::int64_t>(entries.size())),
                       std::move(payload)});
  };
  append(genesis);
  std::size_t received = 0;
  net::HttpServer gateway;  // a stand-in gateway appending to the test's log
  gateway.route("POST", "/v1/tx", [&](const net::HttpRequest& req) {
    std::lock_guard lock(mutex);
    append(Bytes(req.body.begin(), req.body.end()));
    ++received;
    return net::HttpResponse{200, "application/json",
                             "{\"sequence\": " + std::to_string(entries.size()) + "}"};
  });
  auto gateway_port = gateway.start();
  ASSERT_TRUE(gateway_port.is_ok()) << gateway_port.status().to_string();
  const std::uint16_t proxy_port = testing::free_loopback_port();
  auto proxy = testing::start_microsocks(proxy_port);
  ASSERT_NE(proxy, nullptr);
  SubmitOptions via;
  via.gateway = Endpoint{"127.0.0.1", *gateway_port};
  via.socks5 = Endpoint{"127.0.0.1", proxy_port};
  via.timeout = std::chrono::milliseconds(5'000);

  auto store = PrivateWalletStore::create(dir.file("w"), "pass", gens(),
                                          protocol::market_id_of(genesis), KdfParams::for_tests());
  ASSERT_TRUE(store.is_ok());
  PrivateTrader trader(*store, submit_through(via));
  auto sync = [&] {
    std::lock_guard lock(mutex);
    for (std::size_t i = outcomes.size(); i < entries.size(); ++i) {
      auto out = replica.apply(entries[i]);
      EXPECT_TRUE(out.is_ok()) << out.status().to_string();
      if (out.is_ok()) outcomes.push_back(*out);
    }
    return trader.follow(replica, entries, outcomes);
  };
  ASSERT_TRUE(sync().is_ok());
  const priv::PrivateLedger& ledger = *replica.private_ledger();
  ASSERT_TRUE(trader.register_identity(ledger, ledger.terms().bond).is_ok());
  ASSERT_TRUE(sync().is_ok());
  {
    std::lock_guard lock(mutex);
    priv::MintTx mint;
    mint.account = store->wallet().identity();
    mint.amount = 1'000'000;
    mint.sequence = 1;
    mint.signature = issuer.sign(priv::mint_signed_bytes(ledger.terms().market_id, mint));
    append(protocol::encode_entry(protocol::PrivateEntry{PrivateTx(mint)}));
  }
  ASSERT_TRUE(sync().is_ok());
  EXPECT_EQ(store->wallet().cash_balance(), 1'000'000U);
  ASSERT_TRUE(trader.deposit(ledger, 500'000).is_ok());
  ASSERT_TRUE(sync().is_ok());
  EXPECT_EQ(received, 2U);
  EXPECT_EQ(store->wallet().attributes().c, 500'000);
  EXPECT_EQ(replica.rejected(), 0U);

  proxy->kill();
  const Status down =
      trader.post(ledger, Side::kBuy, OrderKind::kLimit, protocol::testing::kReference, 1);
  EXPECT_EQ(down.code(), ErrorCode::kIoError) << down.to_string();
  EXPECT_TRUE(trader.busy());
  EXPECT_EQ(received, 2U);
  proxy = testing::start_microsocks(proxy_port);
  ASSERT_NE(proxy, nullptr);
  ASSERT_TRUE(trader.resubmit_pending(ledger).is_ok());
  ASSERT_TRUE(sync().is_ok());
  EXPECT_FALSE(trader.busy());
  EXPECT_EQ(received, 3U);
  EXPECT_EQ(replica.rejected(), 0U);
  EXPECT_EQ(store->wallet().open_orders().size(), 1U);
  gateway.stop();
}

}  // namespace
}  // namespace pfex::node
