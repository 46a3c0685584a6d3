#include "protocol/ledger_replica.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "core/file.hpp"
#include "ledger/file_log.hpp"
#include "ledger/test_util.hpp"
#include "market/contract.hpp"
#include "protocol/snapshot_store.hpp"
#include "protocol/test_util.hpp"

namespace pfex::protocol {
namespace {

using market::AccountId;
using market::Side;
using testing::limit;
using testing::TestMarket;
using testing::Trader;

using ledger::testing::TempDir;

// The log's entries as the validator reads them (src/node/log_adapter.hpp does this outside tests).
std::vector<LedgerEntry> from_log(std::vector<ledger::LogEntry> entries) {
  std::vector<LedgerEntry> out;
  out.reserve(entries.size());
  for (ledger::LogEntry& e : entries)
    out.push_back(LedgerEntry{e.sequence, e.entry_time, std::move(e.payload)});
  return out;
}

EntryOutcome apply(LedgerReplica& v, const LedgerEntry& e) {
  Result<EntryOutcome> r = v.apply(e);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(r).value() : EntryOutcome{};
}

// A validator with a market and two registered, funded traders.
struct Fixture {
  TestMarket m;
  Trader a, b;
  LedgerReplica v;

  Fixture() {
    EXPECT_TRUE(apply(v, m.entry(m.genesis)).accepted);
    for (Trader* t : {&a, &b}) {
      EntryOutcome o = apply(v, m.entry(m.sign(*t, market::RegisterAction{})));
      EXPECT_TRUE(o.accepted) << o.reason.to_string();
      t->account = *o.result.account;
      o = apply(v, m.entry(m.sign(*t, market::DepositAction{t->account, Cash(1'000'000)})));
      EXPECT_TRUE(o.accepted) << o.reason.to_string();
    }
  }

  // Applies `payload` and checks it is rejected with the state unchanged.
  Status expect_rejected_unchanged(Bytes payload) {
    const Digest32 before = v.state_hash();
    const auto seq_a = v.last_sequence_of(a.key.public_key());
    const auto seq_b = v.last_sequence_of(b.key.public_key());
    const auto rejected = v.rejected();
    EntryOutcome o = apply(v, m.entry(std::move(payload)));
    EXPECT_FALSE(o.accepted);
    EXPECT_EQ(v.state_hash(), before);
    EXPECT_EQ(v.last_sequence_of(a.key.public_key()), seq_a);
    EXPECT_EQ(v.last_sequence_of(b.key.public_key()), seq_b);
    EXPECT_EQ(v.rejected(), rejected + 1);
    return o.reason;
  }
};

TEST(LedgerReplica, AppliesSignedTransactionsAndTrades) {
  Fixture f;
  EXPECT_EQ(f.v.account_of(f.a.key.public_key()), f.a.account);
  EXPECT_NE(f.a.account, f.b.account);
  EntryOutcome o = apply(
      f.v, f.m.entry(f.m.sign(f.a, market::SubmitAction{f.a.account, limit(Side::kBuy, 1000, 5)})));
  ASSERT_TRUE(o.accepted) << o.reason.to_string();
  o = apply(f.v, f.m.entry(f.m.sign(
                     f.b, market::SubmitAction{f.b.account, limit(Side::kSell, 1000, 3)})));
  ASSERT_TRUE(o.accepted) << o.reason.to_string();
  EXPECT_EQ(o.result.order->filled, Qty(3));
  EXPECT_EQ(f.v.exchange()->trade_count(), 1U);
  EXPECT_EQ(f.v.rejected(), 0U);
}

// On a ledger nobody refreshes for a trader: at a margin round every account gets a margin call
// and survives only if its own node sends a Refresh before the window closes.
TEST(LedgerReplica, MarginRoundsNeedARefreshTransaction) {
  Fixture f;
  // 20 lots at the low edge (960) trip the breaker: a margin round opens.
  ASSERT_TRUE(apply(f.v, f.m.entry(f.m.sign(
                             f.a, market::SubmitAction{f.a.account, limit(Side::kSell, 960, 20)})))
                  .accepted);
  ASSERT_TRUE(apply(f.v, f.m.entry(f.m.sign(
                             f.b, market::SubmitAction{f.b.account, limit(Side::kBuy, 960, 20)})))
                  .accepted);
  ASSERT_EQ(f.v.exchange()->phase(), market::Phase::kRefreshWindow);
  EXPECT_FALSE(f.v.exchange()->account(f.a.account)->refreshed);
  EXPECT_FALSE(f.v.exchange()->account(f.b.account)->refreshed);
  EntryOutcome o =
      apply(f.v, f.m.entry(f.m.sign(f.a, market::RefreshAction{f.a.account, Cash(0)})));
  ASSERT_TRUE(o.accepted) << o.reason.to_string();
  EXPECT_TRUE(f.v.exchange()->account(f.a.account)->refreshed);
  // The issuer moves time past the window's close: b, which did not refresh, defaults.
  const LedgerTime after(f.v.exchange()->window_close().value() + 1);
  o = apply(f.v, LedgerEntry{++f.m.next_seq, after, f.m.sign(f.m.issuer, market::AdvanceAction{})});
  ASSERT_TRUE(o.accepted) << o.reason.to_string();
  EXPECT_EQ(f.v.exchange()->account(f.a.account)->status, market::AccountStatus::kActive);
  EXPECT_EQ(f.v.exchange()->account(f.b.account)->status, market::AccountStatus::kDefaulted);
}

TEST(LedgerReplica, WrongSignerIsRejectedAndStateUnchanged) {
  Fixture f;
  // b signs an action naming a's account.
  Status s =
      f.expect_rejected_unchanged(f.m.sign(f.b, market::WithdrawAction{f.a.account, Cash(10)}));
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.to_string();
  // A trader may not advance the clock or settle: only the issuer.
  s = f.expect_rejected_unchanged(f.m.sign(f.a, market::SettleFinalAction{Price(1000)}));
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.to_string();
  // A second registration by the same key.
  s = f.expect_rejected_unchanged(f.m.sign(f.a, market::RegisterAction{}));
  EXPECT_EQ(s.code(), ErrorCode::kAlreadyExists) << s.to_string();
}

TEST(LedgerReplica, ReplayedAndOldSequencesAreRejected) {
  Fixture f;
  Bytes order = f.m.sign(f.a, market::SubmitAction{f.a.account, limit(Side::kBuy, 990, 1)});
  EXPECT_TRUE(apply(f.v, f.m.entry(order)).accepted);
  Status s = f.expect_rejected_unchanged(order);  // the same bytes again
  EXPECT_EQ(s.code(), ErrorCode::kAlreadyExists) << s.to_string();
  // A fresh signature with an old sequence number.
  Bytes old = sign_transparent(f.a.key, f.m.id, 1, market::DepositAction{f.a.account, Cash(5)});
  EXPECT_EQ(f.expect_rejected_unchanged(old).code(), ErrorCode::kAlreadyExists);
  // Gaps are allowed: the sequence only has to increase.
  f.a.sequence += 10;
  EXPECT_TRUE(
      apply(f.v, f.m.entry(f.m.sign(f.a, market::DepositAction{f.a.account, Cash(5)}))).accepted);
}

TEST(LedgerReplica, UnknownAccountBadSignatureAndGarbageAreRejected) {
  Fixture f;
  Trader stranger;
  Status s = f.expect_rejected_unchanged(
      f.m.sign(stranger, market::DepositAction{AccountId{1}, Cash(10)}));
  EXPECT_EQ(s.code(), ErrorCode::kNotFound) << s.to_string();

  Bytes forged = f.m.sign(f.a, market::DepositAction{f.a.account, Cash(10)});
  forged.back() ^= 1;
  s = f.expect_rejected_unchanged(forged);
  EXPECT_EQ(s.message(), "bad signature");
  // The forged entry did not use up a's sequence number: the genuine one still goes through.
  forged.back() ^= 1;
  EXPECT_TRUE(apply(f.v, f.m.entry(forged)).accepted);

  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) {
    Bytes junk(rng() % 300);
    for (auto& x : junk)
      x = static_cast<std::uint8_t>(rng());
    (void)f.expect_rejected_unchanged(junk);
  }
  Bytes ok = f.m.sign(f.a, market::DepositAction{f.a.account, Cash(10)});
  (void)f.expect_rejected_unchanged(Bytes(ok.begin(), ok.end() - 1));
  Bytes trailing = ok;
  trailing.push_back(0);
  (void)f.expect_rejected_unchanged(trailing);
  (void)f.expect_rejected_unchanged(Bytes(kMaxTransactionBytes + 1, 1));
  // Another market's transaction, and a second genesis.
  TestMarket other;
  (void)f.expect_rejected_unchanged(sign_transparent(f.a.key, other.id, f.a.sequence + 1,
                                                     market::DepositAction{f.a.account, Cash(10)}));
  (void)f.expect_rejected_unchanged(other.genesis);
}

// Against a model: random entries (honest, replayed, stale, wrongly signed, forged, for another
// market, junk). The model says which pass the protocol's checks; those, and only those, reach
// the exchange, and a reference Exchange fed the same actions directly ends in the same state.
TEST(LedgerReplica, MatchesAModelOfTheProtocolRules) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    std::mt19937_64 rng(seed);
    TestMarket m;
    TestMarket other;
    std::vector<Trader> traders(4);
    std::map<PublicKey, std::uint64_t> model_seq;  // last used sequence per key
    std::map<PublicKey, AccountId> model_account;  // bound accounts
    LedgerReplica v;
    ASSERT_TRUE(apply(v, m.entry(m.genesis)).accepted);
    auto reference = market::Exchange::open(*market::contract_preset("seed-example"),
                                            Price(testing::kReference), LedgerTime(1'000'001));
    ASSERT_TRUE(reference.is_ok());
    std::vector<Bytes> sent;  // for replays
    for (int i = 0; i < 400; ++i) {
      Trader& t = traders[rng() % traders.size()];
      const PublicKey& key = t.key.public_key();
      const bool registered = model_account.count(key) != 0;
      market::Action action;
      const auto pick = rng() % 10;
      if (!registered || pick == 0) {
        action = market::RegisterAction{};
      } else if (pick == 1) {
        action = market::DepositAction{model_account[key], Cash(100'000)};
      } else if (pick == 2) {  // names someone else's account (or a missing one)
        action = market::DepositAction{AccountId{static_cast<std::uint32_t>(rng() % 6)}, Cash(5)};
      } else if (pick == 3) {
        action = market::AdvanceAction{};  // issuer only
      } else {
        const auto side = rng() % 2 ? Side::kBuy : Side::kSell;
        action = market::SubmitAction{model_account[key],
                                      limit(side, 990 + static_cast<std::int64_t>(rng() % 21),
                                            1 + static_cast<std::int64_t>(rng() % 3))};
      }
      std::uint64_t seq = t.sequence + 1;
      const auto how = rng() % 12;
      if (how == 0) seq = t.sequence;                  // stale or replayed number
      if (how == 1) seq = t.sequence + 1 + rng() % 3;  // a gap: allowed
      Bytes tx = sign_transparent(t.key, how == 2 ? other.id : m.id, seq, action);
      if (how == 3) tx[tx.size() - 1] ^= 0x40;                        // forged signature
      if (how == 4 && !sent.empty()) tx = sent[rng() % sent.size()];  // an old entry again
      if (how == 5) tx.resize(rng() % tx.size());                     // junk
      sent.push_back(tx);
      if (seq > t.sequence && how != 4 && how != 5) t.sequence = seq;

      // The model: decode, then the protocol's checks in order.
      bool passes = false;
      Result<Entry> decoded = decode_entry(tx);
      const TransparentTx* ptx = decoded ? std::get_if<TransparentTx>(&*decoded) : nullptr;
      if (ptx && ptx->market == m.id && ptx->sequence > model_seq[ptx->signer] &&
          verify_transparent(tx, *ptx)) {
        const auto bound = model_account.find(ptx->signer);
        if (std::holds_alternative<market::RegisterAction>(ptx->action)) {
          passes = bound == model_account.end();
        } else if (std::holds_alternative<market::AdvanceAction>(ptx->action)) {
          passes = false;  // no trader is the issuer
        } else {
          std::optional<AccountId> named;
          std::visit(
              [&](const auto& a) {
                if constexpr (requires { a.account; }) named = a.account;
              },
              ptx->action);
          passes = bound != model_account.end() && named == bound->second;
        }
      }
      const LedgerEntry e = m.entry(tx);
      EntryOutcome out = apply(v, e);
      if (!passes) {
        EXPECT_FALSE(out.accepted) << "seed " << seed << " entry " << i;
        continue;
      }
      model_seq[ptx->signer] = ptx->sequence;
      auto direct = market::apply_action(*reference, e.entry_time, ptx->action);
      EXPECT_EQ(out.accepted, direct.is_ok())
          << "seed " << seed << " entry " << i << ": " << out.reason.to_string();
      if (direct && direct->account) model_account[ptx->signer] = *direct->account;
      reference->clear_events();
    }
    EXPECT_EQ(v.state_hash(), reference->state_hash()) << "seed " << seed;
    EXPECT_GT(v.accepted(), 100U);  // the mix exercises both sides
    EXPECT_GT(v.rejected(), 100U);
    EXPECT_GT(v.exchange()->trade_count(), 5U);
    for (auto& t : traders) {
      EXPECT_EQ(v.last_sequence_of(t.key.public_key()), model_seq[t.key.public_key()]);
    }
  }
}

TEST(LedgerReplica, EntriesMustComeInLogOrder) {
  Fixture f;
  LedgerEntry e = f.m.entry(f.m.genesis);
  e.sequence = 1;
  EXPECT_FALSE(f.v.apply(e).is_ok());
}

// A log of `n` orders from `traders` traders crossing around the reference price, each entry
// tagged with the trader who signed it (-1: genesis, setup and junk).
std::vector<std::pair<int, Bytes>> tagged_flow(TestMarket& m, std::vector<Trader>& traders, int n,
                                               std::uint64_t seed) {
  std::vector<std::pair<int, Bytes>> out{{-1, m.genesis}};
  for (auto& t : traders) {
    t.account = AccountId{static_cast<std::uint32_t>(&t - traders.data() + 1)};
    out.emplace_back(-1, m.sign(t, market::RegisterAction{}));
    out.emplace_back(-1, m.sign(t, market::DepositAction{t.account, Cash(10'000'000)}));
  }
  std::mt19937_64 rng(seed);
  for (int i = 0; i < n; ++i) {
    const auto who = static_cast<int>(rng() % traders.size());
    Trader& t = traders[static_cast<std::size_t>(who)];
    const auto side = rng() % 2 ? Side::kBuy : Side::kSell;
    const auto price = static_cast<std::int64_t>(990 + rng() % 21);
    const auto qty = 1 + static_cast<std::int64_t>(rng() % 5);
    if (rng() % 10 == 0) {
      out.emplace_back(who,
                       m.sign(t, market::CancelAction{t.account, market::OrderId{1 + rng() % 50}}));
    } else {
      out.emplace_back(who, m.sign(t, market::SubmitAction{t.account, limit(side, price, qty)}));
    }
    if (rng() % 50 == 0) out.emplace_back(who, Bytes{1, 1, 2, 3});  // junk stays in the log
  }
  return out;
}

std::vector<Bytes> order_flow(TestMarket& m, std::vector<Trader>& traders, int n,
                              std::uint64_t seed) {
  std::vector<Bytes> out;
  for (auto& [who, b] : tagged_flow(m, traders, n, seed))
    out.push_back(std::move(b));
  return out;
}

// Appends the flow to `log`: setup entries in order, then one thread per trader (each trader's
// entries stay in order; the interleaving is whatever group commit makes of it).
void write_flow(ledger::Log& log, const std::vector<std::pair<int, Bytes>>& flow, int traders) {
  for (const auto& [who, b] : flow) {
    if (who < 0) {
      ASSERT_TRUE(log.append(b).is_ok());
    }
  }
  std::vector<std::jthread> threads;
  threads.reserve(static_cast<std::size_t>(traders));
  for (int t = 0; t < traders; ++t) {
    threads.emplace_back([&log, &flow, t] {
      for (const auto& [who, b] : flow) {
        if (who == t) {
          EXPECT_TRUE(log.append(b).is_ok());
        }
      }
    });
  }
}

// The same log gives the same chain and state hash, release after release: a fixed market (keys
// from fixed seeds, so signatures are fixed too) and a fixed flow with rejections and junk, the
// hashes pinned (the chain computed before the validator became a pipeline, and unchanged by it;
// the state hash re-pinned when the exchange snapshot became version 3, with the same chain; both
// re-pinned for envelope version 2 and snapshot version 4, the contract terms' exit period; the
// chain re-pinned for envelope version 3, the transparent rules of the private mode). A
// change here changes every replica's chain: it is a protocol change (CHANGELOG.md).
TEST(LedgerReplica, ChainAndStateOfAFixedLogArePinned) {
  auto key = [](std::uint8_t fill) {
    std::array<std::uint8_t, kSeedBytes> seed{};
    seed.fill(fill);
    return SigningKey::from_seed(seed);
  };
  TestMarket m;
  m.issuer.key = key(1);
  m.genesis = encode_entry(Genesis{market::seed_example_preset(), Price(testing::kReference),
                                   m.issuer.key.public_key()});
  m.id = market_id_of(m.genesis);
  std::vector<Trader> traders(4);
  for (std::size_t i = 0; i < traders.size(); ++i)
    traders[i].key = key(static_cast<std::uint8_t>(10 + i));
  LedgerReplica v;
  for (Bytes& b : order_flow(m, traders, 600, 1))
    (void)apply(v, m.entry(std::move(b)));
  EXPECT_EQ(v.entries(), 621U);
  EXPECT_GT(v.rejected(), 0U);
  EXPECT_EQ(to_hex(v.chain()), "9643e7549928e9a0a2811b1c1b2d8cebc8c6c831fb2cae53515a2d05253742f0");
  EXPECT_EQ(to_hex(v.state_hash()),
            "3e1b09125ae1f90647b5c5b7b83972749b1a7f2fd2374a5b7aab7f8cd4ab8873");
}

TEST(LedgerReplica, BatchedAndParallelVerificationGiveTheSameChain) {
  TestMarket m;
  std::vector<Trader> traders(4);
  std::vector<LedgerEntry> entries;
  for (Bytes& b : order_flow(m, traders, 600, 1))
    entries.push_back(m.entry(std::move(b)));
  LedgerReplica one, many;
  for (const auto& e : entries)
    (void)apply(one, e);
  ASSERT_TRUE(many.apply_batch(entries, 4).is_ok());
  EXPECT_EQ(one.chain(), many.chain());
  EXPECT_EQ(one.state_hash(), many.state_hash());
  EXPECT_GT(one.exchange()->trade_count(), 10U);
  EXPECT_GT(one.rejected(), 0U);
}

Status replay(ledger::LogReader& log, LedgerReplica& v, std::uint64_t until = UINT64_MAX) {
  for (;;) {
    if (v.next_sequence() > until) return Status::ok();
    PFEX_ASSIGN_OR_RETURN(auto batch, log.read(v.next_sequence(), 100));
    if (batch.empty()) return Status::ok();
    while (!batch.empty() && batch.back().sequence > until)
      batch.pop_back();
    PFEX_RETURN_IF_ERROR(v.apply_batch(from_log(std::move(batch)), 2).status());
  }
}

TEST(LedgerReplica, TwoValidatorsOnTheSameFileLogAgree) {
  TempDir dir;
  const std::string path = dir.file("log");
  auto log = ledger::FileLog::open(path);
  ASSERT_TRUE(log.is_ok()) << log.status().to_string();
  TestMarket m;
  std::vector<Trader> traders(16);
  write_flow(**log, tagged_flow(m, traders, 5000, 2), 16);

  LedgerReplica in_process, other_process;
  ASSERT_TRUE(replay(**log, in_process).is_ok());
  auto reader = ledger::FileLogReader::open(path);
  ASSERT_TRUE(reader.is_ok());
  ASSERT_TRUE(replay(**reader, other_process).is_ok());
  EXPECT_EQ(in_process.entries(), (*log)->last_sequence());
  EXPECT_EQ(in_process.chain(), other_process.chain());
  EXPECT_EQ(in_process.state_hash(), other_process.state_hash());
  EXPECT_GT(in_process.entries(), kStateCheckpointEntries);  // the chain folded a state hash
}

TEST(LedgerReplica, RestartFromSnapshotEndsOnTheSameHash) {
  TempDir dir;
  auto log = ledger::FileLog::open(dir.file("log"));
  ASSERT_TRUE(log.is_ok());
  TestMarket m;
  std::vector<Trader> traders(16);
  write_flow(**log, tagged_flow(m, traders, 2000, 3), 16);

  LedgerReplica from_zero;
  ASSERT_TRUE(replay(**log, from_zero).is_ok());

  auto store = SnapshotStore::open(dir.file("snapshots"));
  ASSERT_TRUE(store.is_ok());
  {
    LedgerReplica first_life;
    for (std::uint64_t stop : {500U, 900U, 1300U}) {
      ASSERT_TRUE(replay(**log, first_life, stop).is_ok());
      ASSERT_TRUE(store->save(first_life).is_ok());
    }
    ASSERT_TRUE(replay(**log, first_life, 1500).is_ok());  // work lost in the "crash"
  }
  auto restored = store->load_latest();
  ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
  ASSERT_TRUE(restored->has_value());
  LedgerReplica& second_life = **restored;
  EXPECT_EQ(second_life.next_sequence(), 1301U);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(store->dir()),
                          std::filesystem::directory_iterator()),
            2);  // keeps two
  ASSERT_TRUE(replay(**log, second_life).is_ok());
  EXPECT_EQ(second_life.chain(), from_zero.chain());
  EXPECT_EQ(second_life.state_hash(), from_zero.state_hash());
  EXPECT_EQ(second_life.accepted(), from_zero.accepted());
  EXPECT_EQ(second_life.account_of(traders[2].key.public_key()), traders[2].account);
}

// A validator process writing a snapshot every 50 entries is killed with SIGKILL at a random
// moment (possibly inside a snapshot write); its successor restarts from the newest snapshot on
// disk and ends on the same chain and state hash as a validator that replayed from zero.
TEST(LedgerReplica, KilledValidatorProcessRestartsFromItsSnapshot) {
  TempDir dir;
  const std::string log_path = dir.file("log");
  auto log = ledger::FileLog::open(log_path);
  ASSERT_TRUE(log.is_ok());
  TestMarket m;
  std::vector<Trader> traders(16);
  write_flow(**log, tagged_flow(m, traders, 3000, 4), 16);
  LedgerReplica from_zero;
  ASSERT_TRUE(replay(**log, from_zero).is_ok());

  std::mt19937_64 rng(5);
  for (int round = 0; round < 3; ++round) {
    const std::string snaps = dir.file("snapshots") + std::to_string(round);
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // the validator process: replays slowly, snapshotting as it goes
      auto reader = ledger::FileLogReader::open(log_path);
      auto store = SnapshotStore::open(snaps);
      if (!reader || !store) ::_exit(2);
      LedgerReplica v;
      bool signalled = false;
      for (;;) {
        auto batch = (*reader)->read(v.next_sequence(), 50);
        if (!batch || !v.apply_batch(from_log(*batch)).is_ok()) ::_exit(3);
        if (batch->empty()) {
          for (;;)
            ::pause();  // caught up: wait for the kill
        }
        if (!store->save(v)) ::_exit(4);
        if (!signalled) {
          const char one = 1;
          signalled = ::write(ready[1], &one, 1) == 1;
        }
      }
    }
    char got = 0;
    ASSERT_EQ(::read(ready[0], &got, 1), 1);
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 150'000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(ready[0]);
    ::close(ready[1]);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "the child finished before the kill (exit " << WEXITSTATUS(status) << ")";

    auto store = SnapshotStore::open(snaps);
    ASSERT_TRUE(store.is_ok());
    std::string skipped;
    auto restored = store->load_latest(&skipped);
    ASSERT_TRUE(restored.is_ok()) << restored.status().to_string();
    ASSERT_TRUE(restored->has_value());
    EXPECT_TRUE(skipped.empty()) << skipped;  // atomic writes: no half-written snapshot
    LedgerReplica& v = **restored;
    EXPECT_GT(v.next_sequence(), 1U);
    std::printf("round %d: killed; restarting at log entry %llu of %llu\n", round,
                static_cast<unsigned long long>(v.next_sequence()),
                static_cast<unsigned long long>((*log)->last_sequence()));
    ASSERT_TRUE(replay(**log, v).is_ok());
    EXPECT_EQ(v.chain(), from_zero.chain());
    EXPECT_EQ(v.state_hash(), from_zero.state_hash());
  }
}

TEST(LedgerReplica, DamagedSnapshotIsRefusedAndAnOlderOneUsed) {
  Fixture f;
  Bytes snap = f.v.snapshot();
  auto back = LedgerReplica::restore(snap);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(back->chain(), f.v.chain());
  EXPECT_EQ(back->state_hash(), f.v.state_hash());
  EXPECT_EQ(back->snapshot(), snap);
  for (std::size_t i = 0; i < snap.size(); i += 7) {
    Bytes c = snap;
    c[i] ^= 0x10;
    EXPECT_EQ(LedgerReplica::restore(c).status().code(), ErrorCode::kCorruption) << i;
  }
  EXPECT_FALSE(LedgerReplica::restore(Bytes(snap.begin(), snap.end() - 1)).is_ok());
  // A snapshot with a valid checksum that binds a key to a missing or another key's account.
  auto rebind = [&](std::uint32_t account) {
    Bytes c(snap.begin(), snap.end() - 32);
    const auto& key = f.a.key.public_key();
    auto at = std::search(c.begin(), c.end(), key.begin(), key.end()) - c.begin() + 33;
    for (int i = 0; i < 4; ++i)
      c[static_cast<std::size_t>(at + i)] = static_cast<std::uint8_t>(account >> (8 * i));
    Hasher h("pfex/v1/validator-snapshot");
    h.update(c);
    const Digest32 sum = h.finish();
    c.insert(c.end(), sum.begin(), sum.end());
    return LedgerReplica::restore(c).status();
  };
  EXPECT_TRUE(rebind(f.a.account.value).is_ok());
  EXPECT_EQ(rebind(99).code(), ErrorCode::kCorruption);
  EXPECT_EQ(rebind(f.b.account.value).code(), ErrorCode::kCorruption);

  TempDir dir;
  auto store = SnapshotStore::open(dir.path().string());
  ASSERT_TRUE(store.is_ok());
  ASSERT_TRUE(store->save(f.v).is_ok());
  const auto older = f.v.next_sequence();
  (void)apply(f.v, f.m.entry(f.m.sign(f.a, market::DepositAction{f.a.account, Cash(1)})));
  ASSERT_TRUE(store->save(f.v).is_ok());
  // Damage the newest file.
  std::string newest;
  for (const auto& e : std::filesystem::directory_iterator(dir.path().string())) {
    if (newest.empty() || e.path().string() > newest) newest = e.path().string();
  }
  auto bytes = read_whole_file(newest);
  ASSERT_TRUE(bytes.is_ok());
  (*bytes)[40] ^= 1;
  ASSERT_TRUE(write_file_atomically(newest, *bytes).is_ok());
  std::string skipped;
  auto loaded = store->load_latest(&skipped);
  ASSERT_TRUE(loaded.is_ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->next_sequence(), older);
  EXPECT_NE(skipped.find("checksum"), std::string::npos) << skipped;
}

}  // namespace
}  // namespace pfex::protocol
