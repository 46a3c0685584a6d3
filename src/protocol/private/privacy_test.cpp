// What an observer of the whole public log learns (docs/protocol/private.md section 10): a
// simulated session of 64 traders (registration, mint, deposit, then posts, settles and cancels;
// the test matches the posted orders itself and records the fills through record_fill). The
// observer sees every public field of every transaction and tries to tell which token each
// anonymous spend consumed (linking it to the transaction that made the token, and so to an
// identity when that was a signed one), with one strategy per kind of clue: timing, window
// choice, encoding sizes, serials, the other 32-byte fields, and (a listed leak) the order ids of
// settle entries. Each strategy's success is compared with chance: the ideal guesser that knows
// which tokens of the window are some trader's current one and that the window follows the
// wallet's rule, and guesses uniformly among them.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "protocol/private/ledger.hpp"
#include "protocol/private/test_util.hpp"
#include "protocol/private/wallet.hpp"

namespace pfex::priv {
namespace {

using testing::apply_ok;
using testing::gens;
using testing::mint_tx;
using testing::small_terms;

using Field = std::array<std::uint8_t, 32>;

constexpr std::size_t kTraders = 64;
constexpr std::size_t kSteps = 256;    // anonymous actions after the deposits, 4 per trader
constexpr std::size_t kLogWindow = 4;  // N = 16: fewer than the traders, so windows matter

// One transaction as the observer sees it, with the ground truth the test keeps beside it.
struct Seen {
  TxType type = TxType::kPost;
  std::size_t size = 0;               // bytes of its encoding
  std::optional<Field> signer;        // signed transactions
  std::optional<Window> window;       // spends
  std::optional<std::uint64_t> made;  // index of the token it appended (epoch 1)
  std::vector<Field> fields;          // every 32-byte field of its body
  std::optional<Field> token;         // the token it made
  std::optional<Field> tag;           // the tag of the order it posted
  Scalar serial;                      // spends
  Point c_star;                       // spends
  std::vector<std::uint64_t> named;   // order ids its entries (and target) name
  std::optional<std::uint64_t> new_order;
  std::size_t list_length = 0;  // tokens in the list when it was applied
  // Ground truth, hidden from the observer.
  std::size_t trader = 0;
  std::optional<std::uint64_t> spent;  // the token it spent
  std::vector<std::uint64_t> live;     // every trader's current token when it was applied
};

std::vector<Field> body_fields(const SpendTx& tx) {
  std::vector<Field> out = {tx.spend.serial.bytes(), tx.spend.c_star.encode(),
                            tx.spend.c_next.encode()};
  for (const Point& v : tx.spend.V)
    out.push_back(v.encode());
  if (tx.order) out.push_back(tx.order->tag.encode());
  if (tx.cash) {
    out.push_back(tx.cash->V_a.encode());
    out.push_back(tx.cash->enc.R.encode());
    out.push_back(tx.cash->enc.E.encode());
  }
  return out;
}

// The simple deterministic matcher of the test: price-time priority, fills at the resting price.
struct Resting {
  std::uint64_t id;
  Side side;
  std::int64_t price;
  std::int64_t open;
};

class Session {
 public:
  Session() : ledger_(gens(), small_terms(kLogWindow)), rng_(20261201) {}

  void run() {
    for (std::size_t i = 0; i < kTraders; ++i) {
      auto w = std::make_unique<PrivateWallet>(gens());
      auto reg = w->build_register(ledger_, 1, 0);
      ASSERT_TRUE(reg.is_ok());
      record(i, PrivateTx(*reg), apply_ok(ledger_, *w, reg), std::nullopt);
      traders_.push_back(std::move(w));
    }
    for (std::size_t i = 0; i < kTraders; ++i) {
      PrivateWallet& w = *traders_[i];
      const MintTx mint = mint_tx(w, 100'000, i + 1);
      auto applied = ledger_.apply(PrivateTx(mint));
      ASSERT_TRUE(applied.is_ok());
      w.on_mint(100'000);
      record(i, PrivateTx(mint), *applied, std::nullopt);
      spend(i, w.build_deposit(ledger_, 60'000));
    }
    // Every trader acts kSteps / kTraders times, in a shuffled order.
    std::vector<std::size_t> turns;
    for (std::size_t step = 0; step < kSteps; ++step)
      turns.push_back(step % kTraders);
    std::shuffle(turns.begin(), turns.end(), rng_);
    for (const std::size_t i : turns) {
      PrivateWallet& w = *traders_[i];
      const auto pending = w.pending_entries(ledger_, std::nullopt);
      const auto mine = open_resting(w);
      const std::uint64_t roll = pick(4);
      if (!pending.empty() && roll == 0) {
        spend(i, w.build_settle(ledger_));
      } else if (!mine.empty() && roll <= 2) {
        auto cancel = w.build_cancel(ledger_, mine.front());
        ASSERT_TRUE(cancel.is_ok()) << cancel.status().to_string();
        auto applied = ledger_.apply(PrivateTx(*cancel));
        ASSERT_TRUE(applied.is_ok()) << applied.status().to_string();
        unrest(mine.front());
        record(i, PrivateTx(*cancel), *applied, std::nullopt);
      } else {
        post(i);
      }
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

  const std::vector<Seen>& log() const { return log_; }
  std::size_t spends_of(std::size_t trader) const {
    return static_cast<std::size_t>(std::count_if(log_.begin(), log_.end(), [&](const Seen& s) {
      return s.trader == trader && s.window && !s.signer;
    }));
  }

 private:
  std::uint64_t pick(std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
  }

  std::vector<std::uint64_t> open_resting(const PrivateWallet& w) const {
    std::vector<std::uint64_t> out;
    for (std::uint64_t id : w.open_orders()) {
      if (!ledger_.order(id)->closed) out.push_back(id);
    }
    return out;
  }

  void unrest(std::uint64_t id) {
    std::erase_if(book_, [&](const Resting& r) { return r.id == id; });
  }

  void post(std::size_t i) {
    PrivateWallet& w = *traders_[i];
    const Side side = pick(2) == 0 ? Side::kBuy : Side::kSell;
    const OrderKind kind = pick(5) == 0 ? OrderKind::kIoc : OrderKind::kLimit;
    const auto price = static_cast<std::int64_t>(96 + pick(9));  // the band is [90, 110]
    const auto qty = static_cast<std::int64_t>(1 + pick(3));
    auto tx = w.build_post(ledger_, side, kind, price, qty);
    const Applied applied = spend(i, tx);
    if (!applied.new_order) return;
    const std::uint64_t id = *applied.new_order;
    // Match against the resting orders of the other side, best price then oldest first.
    std::int64_t open = qty;
    for (;;) {
      auto best = book_.end();
      for (auto it = book_.begin(); it != book_.end(); ++it) {
        if (it->side == side) continue;
        const bool crosses = side == Side::kBuy ? it->price <= price : it->price >= price;
        if (!crosses) continue;
        if (best == book_.end() ||
            (side == Side::kBuy ? it->price < best->price : it->price > best->price))
          best = it;
      }
      if (best == book_.end() || open == 0) break;
      const std::int64_t q = std::min(open, best->open);
      ASSERT_TRUE(ledger_.record_fill(best->id, best->price, q).is_ok());
      ASSERT_TRUE(ledger_.record_fill(id, best->price, q).is_ok());
      open -= q;
      best->open -= q;
      if (best->open == 0) book_.erase(best);
    }
    if (open == 0) return;
    if (kind == OrderKind::kIoc) {
      ASSERT_TRUE(ledger_.close_order(id).is_ok());  // the remainder closes it
    } else {
      book_.push_back({id, side, price, open});
    }
  }

  Applied spend(std::size_t i, const Result<SpendTx>& tx) {
    EXPECT_TRUE(tx.is_ok()) << tx.status().to_string();
    if (!tx.is_ok()) return {};
    const std::optional<std::uint64_t> spent = traders_[i]->token_index();
    const std::size_t length = ledger_.tokens(1).size();
    const std::vector<std::uint64_t> live = current_tokens();
    const Applied applied = apply_ok(ledger_, *traders_[i], tx);
    record(i, PrivateTx(*tx), applied, spent);
    log_.back().list_length = length;
    log_.back().live = live;
    return applied;
  }

  std::vector<std::uint64_t> current_tokens() const {
    std::vector<std::uint64_t> out;
    for (const auto& w : traders_) {
      if (w->token_index()) out.push_back(*w->token_index());
    }
    return out;
  }

  void record(std::size_t trader, const PrivateTx& tx, const Applied& applied,
              std::optional<std::uint64_t> spent) {
    Seen s;
    s.type = tx_type(tx);
    s.size = encode(tx).size();
    s.trader = trader;
    s.spent = spent;
    s.made = applied.token_index;
    s.new_order = applied.new_order;
    if (const auto* reg = std::get_if<RegisterTx>(&tx)) {
      s.signer = reg->signer;
      s.fields = {reg->token.encode(), reg->K.encode(), reg->J.encode()};
      s.token = reg->token.encode();
    } else if (const auto* cancel = std::get_if<CancelTx>(&tx)) {
      s.named = {cancel->order};
    } else if (const auto* mint = std::get_if<MintTx>(&tx)) {
      s.signer = mint->account;
    } else if (const auto* sp = std::get_if<SpendTx>(&tx)) {
      if (sp->cash) s.signer = sp->cash->signer;
      s.window = sp->spend.window;
      s.serial = sp->spend.serial;
      s.c_star = sp->spend.c_star;
      s.fields = body_fields(*sp);
      s.token = sp->spend.c_next.encode();
      if (sp->order) s.tag = sp->order->tag.encode();
      for (const SettleEntry& e : sp->entries)
        s.named.push_back(e.order);
      if (sp->type == TxType::kReduce || sp->type == TxType::kCancelReplace)
        s.named.push_back(sp->target);
    }
    log_.push_back(std::move(s));
  }

  PrivateLedger ledger_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<PrivateWallet>> traders_;
  std::vector<Resting> book_;
  std::vector<Seen> log_;
};

// The tokens of `w` that a wallet's spend naming it may have spent (docs/protocol/private.md
// section 3, newest_window): the newest window holds the newest N tokens; an aligned block names
// a token older than those.
bool consistent(const Window& w, std::uint64_t token, std::size_t list_length, std::size_t n) {
  if (token < w.start || token >= w.start + w.length) return false;
  if (list_length < n || w.start + n == list_length) return true;
  return token + n < list_length;
}

std::size_t hamming(const Field& a, const Field& b) {
  std::size_t d = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    d += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(a[i] ^ b[i])));
  return d;
}

struct Strategy {
  std::string name;
  bool listed_leak = false;  // exploits a leak docs/protocol/private.md section 10 lists
  std::size_t hits = 0;
  std::size_t first_hits = 0;  // on spends of a token a signed transaction made (identity link)
};

TEST(PrivacySession, AnObserverLinksNoBetterThanChanceBeyondTheListedLeaks) {
  const std::clock_t cpu0 = std::clock();
  const auto wall0 = std::chrono::steady_clock::now();
  Session session;
  session.run();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const std::vector<Seen>& log = session.log();
  const std::size_t n = std::size_t{1} << kLogWindow;

  // Who made each token (public: tokens are appended in log order).
  std::map<std::uint64_t, std::size_t> maker;  // token index -> log position
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log[i].made) maker[*log[i].made] = i;
  }
  std::map<std::uint64_t, std::size_t> order_maker;  // order id -> log position of its post
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log[i].new_order) order_maker[*log[i].new_order] = i;
  }

  // Every trader did several of each.
  std::map<TxType, std::size_t> counts;
  std::size_t anonymous = 0;
  for (const Seen& s : log) {
    ++counts[s.type];
    if (!s.signer) ++anonymous;
  }
  EXPECT_GE(counts[TxType::kPost], 2 * kTraders);
  EXPECT_GE(counts[TxType::kSettle], kTraders / 4);
  EXPECT_GE(counts[TxType::kCancel], kTraders / 4);

  // No 32-byte field of any transaction repeats anywhere in the log (serials, C*, C', the value
  // commitments, tags, ciphertexts are fresh each time).
  std::map<Field, std::size_t> where;
  for (std::size_t i = 0; i < log.size(); ++i) {
    for (const Field& f : log[i].fields) {
      auto [it, fresh] = where.emplace(f, i);
      EXPECT_TRUE(fresh || it->second == i)
          << "a field of transaction " << i << " repeats one of transaction " << it->second;
    }
  }
  // The only order ids an anonymous transaction shares with another of its trader are those of
  // its post (listed): an entry, a cancel or a target names an order that trader posted.
  for (std::size_t i = 0; i < log.size(); ++i) {
    for (std::uint64_t id : log[i].named)
      EXPECT_EQ(log[order_maker.at(id)].trader, log[i].trader);
  }

  // An encoding's size depends only on public facts (its type and how many orders it names):
  // no secret value changes the length of a field or a proof.
  std::map<std::pair<TxType, std::size_t>, std::set<std::size_t>> sizes;
  for (const Seen& s : log) {
    if (!s.signer) sizes[{s.type, s.named.size()}].insert(s.size);
  }
  for (const auto& [key, found] : sizes)
    EXPECT_EQ(found.size(), 1u) << tx_type_name(key.first) << " naming " << key.second << " orders";

  std::vector<Strategy> strategies = {{"uniform guess in the window"},
                                      {"timing: the newest token"},
                                      {"timing: the oldest token"},
                                      {"sizes: a token made by a transaction of the same size"},
                                      {"serials: nearest serial (Hamming)"},
                                      {"fields: the token nearest C* (Hamming)"},
                                      {"tags: the maker's tag nearest this one's (Hamming)"},
                                      {"signers: the newest token a signed transaction made"},
                                      {"order ids of the entries (listed)", true}};
  std::mt19937_64 rng(7);
  double chance = 0, variance = 0, first_chance = 0, first_variance = 0;
  std::size_t trials = 0, first_trials = 0;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const Seen& s = log[i];
    if (!s.window || s.signer || !s.spent) continue;  // anonymous spends only
    ASSERT_TRUE(consistent(*s.window, *s.spent, s.list_length, n)) << i;
    // Chance: uniform among the current tokens consistent with the window.
    std::size_t candidates = 0;
    for (std::uint64_t t : s.live)
      if (consistent(*s.window, t, s.list_length, n)) ++candidates;
    ASSERT_GE(candidates, 1u);
    const double p = 1.0 / static_cast<double>(candidates);
    const bool first = log[maker.at(*s.spent)].signer.has_value();
    ++trials;
    chance += p;
    variance += p * (1 - p);
    if (first) {
      ++first_trials;
      first_chance += p;
      first_variance += p * (1 - p);
    }
    // The tokens the observer may name: the window's, consistent with the rule.
    std::vector<std::uint64_t> window;
    for (std::uint64_t t = s.window->start; t < s.window->start + s.window->length; ++t) {
      if (consistent(*s.window, t, s.list_length, n)) window.push_back(t);
    }
    const Field serial = s.serial.bytes();
    const Field c_star = s.c_star.encode();
    auto nearest = [&](auto distance) {
      std::uint64_t best = window.back();
      std::size_t best_d = SIZE_MAX;
      for (std::uint64_t t : window) {
        const std::size_t d = distance(log[maker.at(t)], t);
        if (d < best_d) best = t, best_d = d;
      }
      return best;
    };
    std::vector<std::uint64_t> guess;
    guess.push_back(window[std::uniform_int_distribution<std::size_t>(0, window.size() - 1)(rng)]);
    guess.push_back(window.back());
    guess.push_back(window.front());
    guess.push_back(nearest([&](const Seen& m, std::uint64_t t) -> std::size_t {
      return (m.size == s.size ? 0 : 1'000'000) + (window.back() - t);
    }));
    guess.push_back(nearest([&](const Seen& m, std::uint64_t) -> std::size_t {
      return m.window ? hamming(m.serial.bytes(), serial) : 1'000;
    }));
    guess.push_back(nearest([&](const Seen& m, std::uint64_t) -> std::size_t {
      return m.token ? hamming(*m.token, c_star) : 1'000;
    }));
    guess.push_back(nearest([&](const Seen& m, std::uint64_t) -> std::size_t {
      return m.tag && s.tag ? hamming(*m.tag, *s.tag) : 1'000;
    }));
    guess.push_back(nearest([&](const Seen& m, std::uint64_t t) -> std::size_t {
      return (m.signer ? 0 : 1'000'000) + (window.back() - t);
    }));
    // The listed leak: the token made by the transaction that posted an order this one names
    // (its owner's), or else by the last transaction that named one of those orders.
    std::uint64_t linked = window.back();
    for (std::uint64_t id : s.named) {
      const std::size_t post = order_maker.at(id);
      for (std::size_t j = post; j < i; ++j) {
        const bool same = j == post || std::find(log[j].named.begin(), log[j].named.end(), id) !=
                                           log[j].named.end();
        if (same && log[j].made &&
            std::find(window.begin(), window.end(), *log[j].made) != window.end())
          linked = *log[j].made;
      }
    }
    guess.push_back(linked);
    for (std::size_t k = 0; k < strategies.size(); ++k) {
      if (guess[k] == *s.spent) {
        ++strategies[k].hits;
        if (first) ++strategies[k].first_hits;
      }
    }
  }
  const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf(
      "session: %zu traders, %zu transactions (%zu anonymous), N = %zu; %.1f s CPU, %.1f s "
      "wall\n",
      kTraders, log.size(), anonymous, n, cpu, wall);
  std::printf("  posts %zu, settles %zu, cancels %zu, deposits %zu\n", counts[TxType::kPost],
              counts[TxType::kSettle], counts[TxType::kCancel], counts[TxType::kDeposit]);
  std::printf(
      "  which token did an anonymous spend consume? %zu spends, chance %.3f; of them %zu "
      "spend a token a signed transaction made (an identity link), chance %.3f\n",
      trials, chance / static_cast<double>(trials), first_trials,
      first_chance / static_cast<double>(first_trials));
  // A strategy that only guesses finds at most chance plus four standard deviations.
  const double bound = chance + 4 * std::sqrt(variance) + 1;
  const double first_bound = first_chance + 4 * std::sqrt(first_variance) + 1;
  for (const Strategy& st : strategies) {
    std::printf(
        "  %-58s %.3f (advantage %+.3f); identity %.3f (advantage %+.3f)\n", st.name.c_str(),
        static_cast<double>(st.hits) / static_cast<double>(trials),
        (static_cast<double>(st.hits) - chance) / static_cast<double>(trials),
        static_cast<double>(st.first_hits) / static_cast<double>(first_trials),
        (static_cast<double>(st.first_hits) - first_chance) / static_cast<double>(first_trials));
    if (st.listed_leak) continue;
    EXPECT_LE(static_cast<double>(st.hits), bound) << st.name;
    EXPECT_LE(static_cast<double>(st.first_hits), first_bound) << st.name;
  }
  for (std::size_t t = 0; t < kTraders; ++t)
    EXPECT_GE(session.spends_of(t), 1u) << "trader " << t;
}

}  // namespace
}  // namespace pfex::priv
