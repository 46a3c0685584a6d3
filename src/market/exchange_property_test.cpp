// Properties of the transparent exchange on random order flow (rapidcheck): after every action the
// book is not crossed, money is conserved, positions sum to zero, open totals match the book,
// every refreshed account satisfies both constraints; and replaying the flow gives the same state.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "market/exchange.hpp"
#include "market/exchange_test_util.hpp"

namespace pfex::market {
namespace {

struct Op {
  int kind = 0;     // which action (see apply)
  int account = 0;  // index into the registered accounts
  int offset = 0;   // price offset from the reference, in ticks (may leave the band)
  int qty = 1;
  int type = 0;
  int amount = 0;  // cash or time step, depending on the action
};

rc::Gen<Op> gen_op() {
  return rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::inRange(0, 100)),
                            rc::gen::set(&Op::account, rc::gen::inRange(0, 5)),
                            rc::gen::set(&Op::offset, rc::gen::inRange(-70, 71)),
                            rc::gen::set(&Op::qty, rc::gen::inRange(-1, 25)),
                            rc::gen::set(&Op::type, rc::gen::inRange(0, 5)),
                            rc::gen::set(&Op::amount, rc::gen::inRange(0, 400'000)));
}

// The test contract with a scheduled margin round every 2 minutes of ledger time.
ContractSpec flow_spec() {
  ContractSpec s = testing::small_spec();
  s.settlement_interval_ms = 120'000;
  return s;
}

struct Flow {
  Exchange ex = *Exchange::open(flow_spec(), Price(1000), LedgerTime(0));
  std::vector<AccountId> accounts;
  std::vector<OrderId> orders;  // every id ever returned (some closed since)
  std::vector<bool> online = std::vector<bool>(5, true);  // its node refreshes at margin rounds
  std::int64_t now = 0;
  int accepted = 0;
};

void setup(Flow& f) {
  for (int i = 0; i < 5; ++i) {
    AccountId id = *f.ex.register_account(LedgerTime(0));
    f.accounts.push_back(id);
    (void)f.ex.deposit(LedgerTime(0), id, Cash(200'000 + 150'000 * i));
  }
}

// What an online node does: refresh (deposit 0) as soon as it sees a margin round.
void refresh_online(Flow& f) {
  if (f.ex.phase() != Phase::kRefreshWindow) return;
  for (std::size_t i = 0; i < f.accounts.size(); ++i) {
    Result<Account> a = f.ex.account(f.accounts[i]);
    if (f.online[i] && a->status == AccountStatus::kActive && !a->refreshed) {
      (void)f.ex.refresh(LedgerTime(f.now), f.accounts[i], Cash(0));
    }
  }
}

void apply(Flow& f, const Op& op) {
  AccountId who = f.accounts[static_cast<std::size_t>(op.account)];
  LedgerTime now(f.now);
  auto some_order = [&]() {
    return f.orders.empty() ? OrderId{1}
                            : f.orders[static_cast<std::size_t>(op.amount) % f.orders.size()];
  };
  auto request = [&]() {
    auto type = static_cast<OrderType>(op.type);
    std::optional<Price> limit;
    // Offsets beyond +-65 ticks go to the band's edges, where the circuit breaker lives.
    if (op.offset > 65) {
      limit = f.ex.band().high;
    } else if (op.offset < -65) {
      limit = f.ex.band().low;
    } else if (type != OrderType::kMarket) {
      limit = Price(f.ex.band().reference.value() + op.offset);
    }
    if (type == OrderType::kMarket) limit.reset();
    return OrderRequest{op.offset % 2 == 0 ? Side::kBuy : Side::kSell, type, limit, Qty(op.qty)};
  };
  Status s;
  if (op.kind < 50) {
    Result<OrderOutcome> r = f.ex.submit(now, who, request());
    if (r.is_ok()) f.orders.push_back(r->id);
    s = r.status();
  } else if (op.kind < 62) {
    s = f.ex.cancel(now, who, some_order());
  } else if (op.kind < 67) {
    Result<OrderOutcome> r = f.ex.replace(now, who, some_order(), request());
    if (r.is_ok()) f.orders.push_back(r->id);
    s = r.status();
  } else if (op.kind < 72) {
    s = f.ex.deposit(now, who, Cash(op.amount));
  } else if (op.kind < 77) {
    s = f.ex.withdraw(now, who, Cash(op.amount / 4));
  } else if (op.kind < 90) {
    // Up to 100 s, in steps short enough for online nodes to see every margin round.
    const std::int64_t until = f.now + op.amount / 4;
    while (f.now < until) {
      f.now = std::min<std::int64_t>(f.now + 20'000, until);
      f.ex.advance(LedgerTime(f.now));
      refresh_online(f);
    }
  } else if (op.kind < 94) {
    f.online[static_cast<std::size_t>(op.account)] = op.amount % 3 != 0;
  } else if (op.kind < 97) {
    s = f.ex.refresh(now, who, Cash(op.amount / 10));
  } else {
    s = f.ex.exit(now, who).status();
  }
  if (s.is_ok()) ++f.accepted;
  refresh_online(f);
}

void check_invariants(const Flow& f) {
  const Exchange& ex = f.ex;
  std::optional<Price> bid = ex.book().best(Side::kBuy);
  std::optional<Price> ask = ex.book().best(Side::kSell);
  if (bid && ask) RC_ASSERT(*bid < *ask);

  std::int64_t money = 0;
  std::int64_t positions = 0;
  std::map<std::uint32_t, Account> recomputed;
  for (Side side : {Side::kBuy, Side::kSell}) {
    ex.book().for_each(side, [&](const OrderBook::Order& o) {
      RC_ASSERT(ex.band().contains(o.limit));
      Account& a = recomputed[o.owner.value];
      if (side == Side::kBuy) {
        a.open_buy = Qty(a.open_buy.value() + o.open.value());
        a.open_buy_ticks += o.limit.value() * o.open.value();
      } else {
        a.open_sell = Qty(a.open_sell.value() + o.open.value());
        a.open_sell_ticks += o.limit.value() * o.open.value();
      }
    });
  }
  for (std::uint32_t i = 0; i < ex.account_count(); ++i) {
    Account a = *ex.account(AccountId{i});
    money += a.cash.value() + a.bond.value();
    positions += a.position;
    const Account& r = recomputed[i];
    RC_ASSERT(a.open_buy == r.open_buy);
    RC_ASSERT(a.open_sell == r.open_sell);
    RC_ASSERT(a.open_buy_ticks == r.open_buy_ticks);
    RC_ASSERT(a.open_sell_ticks == r.open_sell_ticks);
    if (i != 0 && a.status == AccountStatus::kActive && a.refreshed) {
      Status s = check_solvency(a, ex.band(), ex.spec());
      RC_ASSERT(s.is_ok());
    }
  }
  RC_ASSERT(money == ex.external_balance().value());
  RC_ASSERT(positions == 0);
}

RC_GTEST_PROP(ExchangeProperties, InvariantsHoldOnRandomFlow, ()) {
  const std::vector<Op> ops = *rc::gen::container<std::vector<Op>>(gen_op());
  Flow f;
  setup(f);
  for (const Op& op : ops) {
    apply(f, op);
    check_invariants(f);
  }
  RC_TAG(f.ex.epoch() > 0 ? "margin round" : "one epoch");
  RC_TAG(f.ex.fund().cash.value() != 0 ? "fund active" : "fund idle");
  RC_TAG(f.ex.trade_count() > 0 ? "traded" : "no trade");
}

RC_GTEST_PROP(ExchangeProperties, ReplayGivesTheSameStateHash, ()) {
  const std::vector<Op> ops = *rc::gen::container<std::vector<Op>>(gen_op());
  Flow a;
  Flow b;
  setup(a);
  setup(b);
  for (const Op& op : ops)
    apply(a, op);
  for (const Op& op : ops)
    apply(b, op);
  RC_ASSERT(a.ex.state_hash() == b.ex.state_hash());
  RC_ASSERT(a.ex.events().size() == b.ex.events().size());
}

RC_GTEST_PROP(ExchangeProperties, SnapshotRestoresAnExchangeThatBehavesTheSame, ()) {
  const std::vector<Op> first = *rc::gen::container<std::vector<Op>>(gen_op());
  const std::vector<Op> then = *rc::gen::container<std::vector<Op>>(gen_op());
  Flow a;
  setup(a);
  for (const Op& op : first)
    apply(a, op);
  Bytes snap = a.ex.snapshot();
  Result<Exchange> restored = Exchange::restore(snap);
  RC_ASSERT(restored.is_ok());
  RC_ASSERT(restored->state_hash() == a.ex.state_hash());
  RC_ASSERT(restored->snapshot() == snap);
  Flow b{std::move(*restored), a.accounts, a.orders, a.online, a.now, 0};
  b.ex.clear_events();
  a.ex.clear_events();
  for (const Op& op : then) {
    apply(a, op);
    apply(b, op);
    RC_ASSERT(a.ex.state_hash() == b.ex.state_hash());
  }
  RC_ASSERT(a.ex.events().size() == b.ex.events().size());
}

TEST(ExchangeSnapshot, TruncatedOrExtendedSnapshotsAreRejected) {
  Flow f;
  setup(f);
  for (int i = 0; i < 50; ++i)
    apply(f, Op{i * 7 % 50, i % 5, (i * 13) % 40 - 20, 1 + i % 7, 0, 1000 * i});
  Bytes snap = f.ex.snapshot();
  ASSERT_TRUE(Exchange::restore(snap).is_ok());
  for (std::size_t n = 0; n < snap.size(); n += 7) {
    EXPECT_FALSE(Exchange::restore(ByteSpan(snap.data(), n)).is_ok()) << n;
  }
  Bytes longer = snap;
  longer.push_back(0);
  EXPECT_EQ(Exchange::restore(longer).status().code(), ErrorCode::kCorruption);
  // 2 had auto refresh; 3 had no exit period; 4 liquidated at the close, without D_res.
  for (std::uint8_t version :
       {std::uint8_t{2}, std::uint8_t{3}, std::uint8_t{4}, std::uint8_t{6}}) {
    Bytes other_version = snap;
    other_version[0] = version;
    EXPECT_EQ(Exchange::restore(other_version).status().message(), "unknown snapshot version");
  }
}

// The account count's plausibility bound must admit every real snapshot: each account is 59
// bytes, and a bound of 60 refused exchanges of more than about a hundred accounts.
TEST(ExchangeSnapshot, ManyAccountsRestore) {
  for (int accounts : {1, 99, 100, 101, 1000}) {
    Exchange ex = *Exchange::open(flow_spec(), Price(1000), LedgerTime(0));
    for (int i = 0; i < accounts; ++i)
      ASSERT_TRUE(ex.register_account(LedgerTime(0)).is_ok());
    const Bytes snap = ex.snapshot();
    auto restored = Exchange::restore(snap);
    ASSERT_TRUE(restored.is_ok()) << accounts << " accounts: " << restored.status().to_string();
    EXPECT_EQ(restored->snapshot(), snap);
  }
}

// A long flow hits every path (breakers, defaults, liquidations, exits) with high probability;
// this asserts it really does, so the properties above are not vacuous.
TEST(ExchangeProperties, LongRandomFlowReachesMarginRoundsAndDefaults) {
  Flow f;
  setup(f);
  std::uint64_t x = 88172645463325252ull;  // xorshift64: deterministic, no library RNG needed
  auto next = [&](int lo, int hi) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return lo + static_cast<int>(x % static_cast<std::uint64_t>(hi - lo));
  };
  int defaults = 0;
  for (int i = 0; i < 20'000; ++i) {
    Op op{next(0, 100), next(0, 5), next(-70, 71), next(-1, 25), next(0, 5), next(0, 400'000)};
    apply(f, op);
    check_invariants(f);
    if (i % 97 == 0) {
      // Keep the flow from dying out: top up, and new traders replace defaulted ones.
      for (std::size_t j = 0; j < f.accounts.size(); ++j) {
        AccountId& id = f.accounts[j];
        if (f.ex.account(id)->status != AccountStatus::kActive) {
          id = *f.ex.register_account(LedgerTime(f.now));
          f.online[j] = true;
        }
        (void)f.ex.deposit(LedgerTime(f.now), id, Cash(50'000));
      }
      refresh_online(f);
    }
  }
  for (const Event& e : f.ex.events())
    defaults += std::holds_alternative<Defaulted>(e.body);
  EXPECT_GT(f.ex.trade_count(), 1000u);
  EXPECT_GT(f.ex.epoch(), 5u);
  EXPECT_GT(defaults, 0);
  EXPECT_GT(f.ex.account_count(), 6u);  // traders defaulted and were replaced
  EXPECT_GT(f.accepted, 5000);
}

}  // namespace
}  // namespace pfex::market
