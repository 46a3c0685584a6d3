// `pfex demo` in a private market; see private_demo.hpp.
#include "private_demo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <vector>

#include "market/names.hpp"
#include "protocol/private/wallet.hpp"
#include "protocol/transaction.hpp"
#include "sim/report.hpp"

namespace pfex::cli {

extern const std::string_view kPrivateDemoScenario;

namespace {

std::string short_hex(ByteSpan bytes) {
  return to_hex(bytes.first(std::min<std::size_t>(bytes.size(), 6))) + "..";
}
std::string short_point(const crypto::Point& p) {
  const crypto::Point::Encoding e = p.encode();
  return short_hex(e);
}

market::Side market_side(priv::Side s) {
  return s == priv::Side::kBuy ? market::Side::kBuy : market::Side::kSell;
}
std::string describe_private_event(const market::ContractSpec& spec,
                                   const protocol::PrivateEvent& e);
std::string describe_entry(const market::ContractSpec& spec, const protocol::LedgerReplica& replica,
                           const Bytes& entry, const protocol::EntryOutcome& out);

// The demo's link with a narrator: after each entry, a line for what an observer of the log sees
// of it, then the private market's public events it caused. Keeps every public event.
class NarratingLink final : public flow::EntryLink {
 public:
  NarratingLink(DemoLink& inner, const market::ContractSpec& spec, bool verbose)
      : inner_(inner), spec_(spec), verbose_(verbose) {
    inner_.set_private_event_sink(
        [this](const protocol::EntryOutcome&, std::span<const protocol::PrivateEvent> events) {
          pending_.insert(pending_.end(), events.begin(), events.end());
        });
  }
  ~NarratingLink() override { inner_.set_private_event_sink(nullptr); }

  Result<protocol::EntryOutcome> append(const Bytes& entry, LedgerTime now) override {
    Result<protocol::EntryOutcome> out = inner_.append(entry, now);
    if (out.is_ok() && verbose_) fmt::print("{}\n", describe_entry(spec_, replica(), entry, *out));
    for (const protocol::PrivateEvent& e : pending_) {
      if (verbose_ &&
          !std::holds_alternative<market::BasicOrderAccepted<market::OrderTag>>(e.body)) {
        fmt::print("             {}\n", describe_private_event(spec_, e));
      }
      events_.push_back(e);
    }
    pending_.clear();
    return out;
  }
  const protocol::LedgerReplica& replica() const override { return inner_.replica(); }
  // Every public event of the private market so far.
  std::span<const protocol::PrivateEvent> events() const { return events_; }

 private:
  DemoLink& inner_;
  const market::ContractSpec& spec_;
  bool verbose_;
  std::vector<protocol::PrivateEvent> pending_, events_;
};

// The market and the traders' wallets of a private session (a flow::FlowDriver), with the
// transparent exchange running the same flow beside it (the reference): every action goes to
// both, in the same order and at the same ledger time, including what an online trader's node
// sends by itself (a refresh with no deposit as soon as it sees a margin round). exchange() and
// events() are the reference's: the scenario's expectations are checked on it, and the private
// run is compared with it at the end.
class PrivateVenue final : public sim::Venue {
 public:
  PrivateVenue(const sim::Scenario& sc, flow::FlowDriver& driver, const NarratingLink& link,
               market::Exchange reference, bool verbose, bool perturb)
      : sc_(sc),
        driver_(driver),
        link_(link),
        reference_(std::move(reference)),
        verbose_(verbose),
        perturb_(perturb) {}

  const market::Exchange& exchange() const override { return reference_; }
  std::span<const market::Event> events() const override { return reference_.events(); }

  Result<market::AccountId> add_trader(const sim::Trader& t) override {
    PFEX_ASSIGN_OR_RETURN(const market::ActionResult r,
                          both(reference_.time(), market::RegisterAction{}));
    const market::AccountId id = *r.account;
    if (driver_.wallet(id) == nullptr) {
      return Status::failed_precondition(t.name + " could not register in the private market: " +
                                         (divergences_.empty() ? "" : divergences_.back()));
    }
    if (t.deposit.value() > 0) {
      PFEX_RETURN_IF_ERROR(both(reference_.time(), market::DepositAction{id, t.deposit}).status());
    }
    traders_[id.value] = Trader{t.name, t.online};
    return id;
  }

  Result<market::ActionResult> apply(LedgerTime now, const market::Action& action) override {
    Result<market::ActionResult> r = both(now, action);
    if (Status s = refresh_online(reference_.time()); !s.is_ok()) return s;
    return r;
  }

  Status set_online(market::AccountId account, bool online) override {
    auto it = traders_.find(account.value);
    if (it == traders_.end()) {
      return Status::not_found("no trader for account " + std::to_string(account.value));
    }
    it->second.online = online;
    return refresh_online(reference_.time());
  }

  // Every wallet claims its fills and releases (its node settles them; the views and the
  // comparison then open the tokens as they are).
  Status settle_all(LedgerTime now) { return driver_.settle_all(now); }

  // The views (show steps and the end).
  void print_private_views() const;
  void print_public_view() const;
  // Prints the comparison with the reference; true when everything is the same.
  bool compare() const;
  // Both outcomes as JSON: {"agree", "transparent", "private"}, each with book, fills, holdings.
  std::string outcome_json(bool agree) const;

  const std::vector<std::string>& divergences() const { return divergences_; }
  std::uint64_t entries() const { return driver_.replica().entries(); }
  std::uint64_t refreshes() const { return refreshes_; }

 private:
  struct Trader {
    std::string name;
    bool online = true;
  };

  const priv::PrivateLedger& ledger() const { return *driver_.replica().private_ledger(); }
  const market::ContractSpec& spec() const { return sc_.contract; }

  // One action on both markets. The reference's result is the step's; a private result that
  // differs in acceptance is a divergence (and a private error that is not a refusal, such as a
  // lost ledger, ends the run).
  Result<market::ActionResult> both(LedgerTime now, const market::Action& action) {
    Result<market::ActionResult> r = market::apply_action(reference_, now, action);
    market::Action private_action = action;
    if (auto* submit = std::get_if<market::SubmitAction>(&private_action);
        submit != nullptr && perturb_ && submit->request.side == market::Side::kBuy) {
      perturb_ = false;
      submit->request.qty = Qty(submit->request.qty.value() + 1);
    }
    // Time passing needs an entry only when it moves past the private ledger's clock (as on a
    // ledger venue): the deadlines up to the last entry's time are already processed.
    if (std::holds_alternative<market::AdvanceAction>(action) &&
        now <= driver_.replica().ledger_time()) {
      return r;
    }
    Result<market::ActionResult> p = driver_.apply(now, private_action);
    if (!p.is_ok() && p.status().code() == ErrorCode::kIoError) return p.status();
    if (r.is_ok() != p.is_ok()) {
      divergences_.push_back(
          fmt::format("at {:.3f}s: the transparent exchange {}, the private market {}",
                      static_cast<double>(now.value()) / 1000,
                      r.is_ok() ? "accepted it" : "refused it (" + r.status().to_string() + ")",
                      p.is_ok() ? "accepted it" : "refused it (" + p.status().to_string() + ")"));
      if (verbose_) fmt::print("           DIFFERS: {}\n", divergences_.back());
    } else if (!p.is_ok() && verbose_ && !std::holds_alternative<market::RefreshAction>(action)) {
      fmt::print("           private: refused too: {}\n", p.status().to_string());
    }
    if (p.is_ok() && std::holds_alternative<market::RefreshAction>(action)) ++refreshes_;
    return r;
  }

  // What an online trader's node does in a margin round: refresh with no deposit. One short of
  // margin is refused (its wallet says by how much) and stays called.
  Status refresh_online(LedgerTime now) {
    if (reference_.phase() != market::Phase::kRefreshWindow) return Status::ok();
    for (const auto& [id, t] : traders_) {
      Result<market::Account> a = reference_.account(market::AccountId{id});
      if (!t.online || !a.is_ok() || a->status != market::AccountStatus::kActive || a->refreshed) {
        continue;
      }
      Result<market::ActionResult> r =
          both(now, market::RefreshAction{market::AccountId{id}, Cash(0)});
      if (!r.is_ok() && r.status().code() == ErrorCode::kIoError) return r.status();
      if (!r.is_ok() && verbose_ && told_.insert({id, reference_.epoch()}).second) {
        fmt::print("           {}'s node does not refresh: {}\n", t.name, r.status().message());
      }
    }
    return Status::ok();
  }

  const sim::Scenario& sc_;
  flow::FlowDriver& driver_;
  const NarratingLink& link_;
  market::Exchange reference_;
  bool verbose_;
  bool perturb_;
  std::map<std::uint32_t, Trader> traders_;  // by account id (the same in both markets)
  std::vector<std::string> divergences_;
  std::uint64_t refreshes_ = 0;
  std::set<std::pair<std::uint32_t, std::uint32_t>> told_;  // (account, epoch): refusal printed
};

// One line per public event of the private market (owners are order tags: the first 8 bytes of
// the order's tag, which a cancel-replace's new order keeps).
std::string_view close_reason_name(market::CloseReason r) {
  switch (r) {
    case market::CloseReason::kFilled:
      return "filled";
    case market::CloseReason::kCancelled:
      return "cancelled";
    case market::CloseReason::kExpired:
      return "expired";
    case market::CloseReason::kUnfilledIoc:
      return "rest of an immediate order";
    case market::CloseReason::kReplaced:
      return "replaced";
    case market::CloseReason::kKilled:
      return "fill-or-kill could not fill";
    case market::CloseReason::kPostOnlyWouldCross:
      return "post-only would trade";
  }
  return "?";
}

std::string describe_private_event(const market::ContractSpec& spec,
                                   const protocol::PrivateEvent& e) {
  auto p = [&](Price x) { return spec.format_price(x); };
  return std::visit(
      [&](const auto& ev) -> std::string {
        using T = std::decay_t<decltype(ev)>;
        if constexpr (std::is_same_v<T, market::BasicOrderAccepted<market::OrderTag>>) {
          return fmt::format("order #{} rests or matches: {} {} at {}", ev.id.value,
                             market::side_name(ev.side), ev.qty.value(), p(ev.limit));
        } else if constexpr (std::is_same_v<T, market::BasicTrade<market::OrderTag>>) {
          return fmt::format("TRADE #{}: {} at {}, taker order #{} ({}) against maker order #{}",
                             ev.seq, ev.qty.value(), p(ev.price), ev.taker.value,
                             market::side_name(ev.taker_side), ev.maker.value);
        } else if constexpr (std::is_same_v<T, market::BasicOrderClosed<market::OrderTag>>) {
          return fmt::format(
              "order #{} closed ({}){}", ev.id.value, close_reason_name(ev.reason),
              ev.released.value()
                  ? fmt::format(", {} to release by its owner's settle", ev.released.value())
                  : "");
        } else if constexpr (std::is_same_v<T, market::BasicOrderReduced<market::OrderTag>>) {
          return fmt::format("order #{} reduced by {} to {} (keeps its priority)", ev.id.value,
                             ev.released.value(), ev.open.value());
        } else if constexpr (std::is_same_v<T, market::MarketHalted>) {
          return fmt::format("HALT of epoch {}: {}", ev.epoch,
                             ev.reason == market::HaltReason::kBreakerVolume ||
                                     ev.reason == market::HaltReason::kBreakerStanding
                                 ? "the circuit breaker; every order expires"
                                 : "scheduled");
        } else if constexpr (std::is_same_v<T, market::EpochOpened>) {
          return fmt::format(
              "EPOCH {}: reference {}, band [{}, {}]{}, margin {} per contract{}", ev.epoch,
              p(ev.band.reference), p(ev.band.low), p(ev.band.high), ev.widened ? " (widened)" : "",
              spec.format_cash(ev.band.margin),
              ev.epoch == 0 ? ""
                            : fmt::format("; every identity refreshes by {:.3f}s",
                                          static_cast<double>(ev.window_close.value()) / 1000));
        } else if constexpr (std::is_same_v<T, market::LiquidationFinished>) {
          return fmt::format("LIQUIDATION {} finished: {} filled, {} kept by the fund, price {}",
                             ev.batch, ev.filled.value(), ev.kept.value(), p(ev.avg_price));
        } else {
          static_assert(std::is_same_v<T, market::WindowClosed>);
          return fmt::format("refresh window of epoch {} closed", ev.epoch);
        }
      },
      e.body);
}

// One line per private entry: what an observer of the log sees of it.
std::string describe_public(const market::ContractSpec& spec, const priv::PrivateTx& tx,
                            std::size_t bytes, const protocol::EntryOutcome& out);

std::string describe_public(const market::ContractSpec& spec, const priv::PrivateTx& tx,
                            std::size_t bytes, const protocol::EntryOutcome& out) {
  std::string what = std::visit(
      [&](const auto& t) -> std::string {
        using T = std::decay_t<decltype(t)>;
        if constexpr (std::is_same_v<T, priv::RegisterTx>) {
          return fmt::format("identity {} K {}", short_hex(t.signer), short_point(t.K));
        } else if constexpr (std::is_same_v<T, priv::MintTx>) {
          return fmt::format("{} to {}", spec.format_cash(Cash(t.amount)), short_hex(t.account));
        } else if constexpr (std::is_same_v<T, priv::CancelTx>) {
          return fmt::format("order #{}", t.order);
        } else if constexpr (std::is_same_v<T, priv::TransferTx>) {
          return fmt::format("{} -> {}", short_hex(t.sender), short_hex(t.receiver));
        } else if constexpr (std::is_same_v<T, priv::ExitTx>) {
          return fmt::format("identity {}", short_hex(t.signer));
        } else {
          const crypto::Scalar::Encoding sn = t.spend.serial.encode();
          std::string s =
              fmt::format("serial {} window ({},{},{})", short_hex(sn), t.spend.window.epoch,
                          t.spend.window.start, t.spend.window.length);
          if (!t.entries.empty()) {
            s += " settles";
            for (const priv::SettleEntry& e : t.entries)
              s += fmt::format(" #{}{}", e.order, e.release ? "r" : "");
          }
          if (t.type == priv::TxType::kCancelReplace || t.type == priv::TxType::kReduce) {
            s += fmt::format(" on #{}", t.target);
          }
          if (t.order) {
            s += fmt::format(" {} {} {} @ {} tag {}", market::side_name(market_side(t.order->side)),
                             t.order->qty,
                             market::order_type_name(static_cast<market::OrderType>(t.order->kind)),
                             spec.format_price(Price(t.order->price)), short_point(t.order->tag));
          }
          if (t.cash) {
            s += fmt::format(" signer {} Enc(amount) ({}, {})", short_hex(t.cash->signer),
                             short_point(t.cash->enc.R), short_point(t.cash->enc.E));
          }
          return s;
        }
      },
      tx);
  std::string result = out.accepted ? "" : "  REJECTED: " + out.reason.to_string();
  if (out.private_result && out.private_result->new_order) {
    result += fmt::format("  -> order #{}", *out.private_result->new_order);
  }
  return fmt::format("           log #{:<3} {:<14} {:>6} B  {}{}", out.sequence,
                     priv::tx_type_name(priv::tx_type(tx)), bytes, what, result);
}

std::string describe_entry(const market::ContractSpec& spec, const protocol::LedgerReplica& replica,
                           const Bytes& entry, const protocol::EntryOutcome& out) {
  protocol::MarketContext context;
  context.mode = replica.mode();
  if (const priv::PrivateLedger* l = replica.private_ledger()) {
    context.log_window = l->terms().log_window;
  }
  Result<protocol::Entry> decoded = protocol::decode_entry(entry, context);
  if (!decoded.is_ok()) {
    return fmt::format("           log #{:<3} {} B that do not decode: {}", out.sequence,
                       entry.size(), decoded.status().to_string());
  }
  if (const auto* p = std::get_if<protocol::PrivateEntry>(&*decoded)) {
    return describe_public(spec, p->tx, entry.size(), out);
  }
  std::string what;
  if (const auto* g = std::get_if<protocol::Genesis>(&*decoded)) {
    what =
        fmt::format("{:<14} {:>6} B  {} market, issuer {}{}", "genesis", entry.size(),
                    protocol::mode_name(g->mode()), short_hex(g->issuer),
                    g->private_terms ? fmt::format(", windows of {} tokens, validators' key {}",
                                                   std::size_t{1} << g->private_terms->log_window,
                                                   short_point(g->private_terms->validators_key))
                                     : "");
  } else {
    const auto& tx = std::get<protocol::TransparentTx>(*decoded);
    what = fmt::format(
        "{:<14} {:>6} B  signer {} (the issuer): ledger time reaches the engine",
        std::holds_alternative<market::AdvanceAction>(tx.action) ? "advance" : "transparent",
        entry.size(), short_hex(tx.signer));
  }
  return fmt::format("           log #{:<3} {}{}", out.sequence, what,
                     out.accepted ? "" : "  REJECTED: " + out.reason.to_string());
}

void PrivateVenue::print_private_views() const {
  fmt::print("\nPrivate views (each trader's wallet opens its own token; nobody else can)\n");
  fmt::print("{:<6} {:>14} {:>14} {:>8} {:>6} {:>6}  {}\n", "trader", "token cash", "cash account",
             "position", "buys", "sells", "open orders");
  for (const auto& [id, t] : traders_) {
    const priv::PrivateWallet& w = *driver_.wallet(market::AccountId{id});
    const priv::Attributes& a = w.attributes();
    std::string orders;
    for (std::uint64_t o : w.open_orders()) {
      const priv::PrivateOrder* po = ledger().order(o);
      if (po == nullptr || po->closed) continue;
      orders += fmt::format("#{} {} {}@{} filled {}  ", o, market::side_name(market_side(po->side)),
                            po->qty, spec().format_price(Price(po->price)), po->filled);
    }
    fmt::print("{:<6} {:>14} {:>14} {:>8} {:>6} {:>6}  {}\n", t.name, spec().format_cash(Cash(a.c)),
               spec().format_cash(Cash(static_cast<std::int64_t>(w.cash_balance()))),
               static_cast<std::int64_t>(a.vp) - static_cast<std::int64_t>(a.vm), a.B, a.S,
               orders.empty() ? "-" : orders);
  }
}

void PrivateVenue::print_public_view() const {
  const priv::PrivateLedger& l = ledger();
  const priv::MarketTerms& terms = l.terms();
  fmt::print(
      "\nPublic view (what every observer of the log sees)\n"
      "epoch {} ({}): band [{}, {}], margin {} per contract\n",
      terms.epoch,
      driver_.replica().private_book()
          ? market::phase_name(driver_.replica().private_book()->phase())
          : std::string_view("?"),
      spec().format_price(Price(terms.low)), spec().format_price(Price(terms.high)),
      spec().format_cash(Cash(terms.margin)));
  fmt::print("Book (open orders by tag; no identity)\n");
  std::vector<std::uint64_t> open;
  for (std::uint64_t i = 0; i < l.order_count(); ++i) {
    const priv::PrivateOrder* o = l.order(i);
    if (!o->closed && o->filled < o->qty) open.push_back(i);
  }
  std::stable_sort(open.begin(), open.end(), [&](std::uint64_t x, std::uint64_t y) {
    const priv::PrivateOrder* a = l.order(x);
    const priv::PrivateOrder* b = l.order(y);
    if (a->side != b->side) return a->side < b->side;
    return a->side == priv::Side::kBuy ? a->price > b->price : a->price < b->price;
  });
  for (std::uint64_t i : open) {
    const priv::PrivateOrder* o = l.order(i);
    fmt::print("  #{:<3} {:<4} {:>4} @ {:>8}  tag {}\n", i, market::side_name(market_side(o->side)),
               o->qty - o->filled, spec().format_price(Price(o->price)), short_point(o->tag));
  }
  if (open.empty()) fmt::print("  (empty)\n");
  std::string trades;
  std::size_t count = 0;
  for (const protocol::PrivateEvent& e : link_.events()) {
    const auto* t = std::get_if<market::BasicTrade<market::OrderTag>>(&e.body);
    if (t == nullptr) continue;
    ++count;
    trades += fmt::format("  {:>4} {:>9.3f}s {:>4} @ {:>8}  taker #{:<3} {:<4} maker #{:<3}\n",
                          t->seq, static_cast<double>(e.time.value()) / 1000, t->qty.value(),
                          spec().format_price(t->price), t->taker.value,
                          market::side_name(t->taker_side), t->maker.value);
  }
  fmt::print("Trades (by order; no identity){}\n{}", count == 0 ? ": none" : "", trades);
  std::size_t tokens = 0;
  for (std::uint64_t e = 0; e <= terms.epoch; ++e)
    tokens += l.tokens(e).size();
  const auto pi_r = l.paid_in().R.encode();
  const auto pi_e = l.paid_in().E.encode();
  fmt::print(
      "{} tokens on the lists, {} orders, Enc(Pi) = ({}, {}), cash supply {}, "
      "state hash {}\n",
      tokens, l.order_count(), short_hex(pi_r), short_hex(pi_e),
      spec().format_cash(Cash(l.cash_supply())), short_hex(driver_.replica().state_hash()));
}

bool PrivateVenue::compare() const {
  std::string out;
  const flow::FlowOutcome want = flow::transparent_outcome(reference_, reference_.events());
  const flow::FlowOutcome got = driver_.outcome();
  bool all = true;
  auto line = [&](const std::string& what, const std::string& transparent,
                  const std::string& priv) {
    const bool same = transparent == priv;
    all = all && same;
    out += fmt::format("  {:<18} {:<44} {}\n", what, transparent,
                       same ? "same" : "DIFFERS: private " + priv);
  };
  out += "\nThe private run against the transparent run of the same flow\n";
  auto book = [&](const flow::FlowOutcome& o) {
    std::string text;
    for (const flow::BookOrder& b : o.book) {
      text +=
          fmt::format("#{} {} {}@{} ", b.id.value, b.side == market::Side::kBuy ? "buy" : "sell",
                      b.open.value(), spec().format_price(b.price));
    }
    return text.empty() ? std::string("(empty)") : text;
  };
  line(fmt::format("book ({} orders)", want.book.size()), book(want), book(got));
  auto fills = [&](const flow::FlowOutcome& o) {
    std::int64_t lots = 0;
    for (const flow::OrderFill& f : o.fills)
      lots += f.qty.value();
    return fmt::format("{} fills, {} lots", o.fills.size(), lots);
  };
  const bool same_fills = want.fills == got.fills;
  line("trades", fills(want), same_fills ? fills(want) : fills(got) + ", not the same");
  if (!same_fills) {
    for (std::size_t i = 0; i < std::max(want.fills.size(), got.fills.size()); ++i) {
      auto text = [&](const std::vector<flow::OrderFill>& v) {
        return i < v.size() ? fmt::format("#{} {}@{}", v[i].order.value, v[i].qty.value(),
                                          spec().format_price(v[i].price))
                            : std::string("-");
      };
      if (text(want.fills) != text(got.fills)) {
        out += fmt::format("    fill {}: transparent {}, private {}\n", i, text(want.fills),
                           text(got.fills));
      }
    }
  }
  line("epoch and band",
       fmt::format("{} [{}, {}]", want.epoch, spec().format_price(want.band_low),
                   spec().format_price(want.band_high)),
       fmt::format("{} [{}, {}]", got.epoch, spec().format_price(got.band_low),
                   spec().format_price(got.band_high)));
  for (const auto& [trader_id, t] : traders_) {
    const auto id = trader_id;  // clang 14 cannot capture a structured binding
    auto holding = [&](const flow::FlowOutcome& o) -> std::optional<flow::Holding> {
      for (const flow::Holding& h : o.holdings) {
        if (h.account.value == id) return h;
      }
      return std::nullopt;
    };
    const auto w = holding(want);
    const auto g = holding(got);
    auto cash = [&](const std::optional<flow::Holding>& h) {
      return h ? spec().format_cash(h->cash) : std::string("(none)");
    };
    auto position = [&](const std::optional<flow::Holding>& h) {
      return h ? std::to_string(h->position) : std::string("(none)");
    };
    line(t.name + " cash", cash(w), cash(g));
    line(t.name + " position", position(w), position(g));
  }
  for (const std::string& d : divergences_) {
    all = false;
    out += fmt::format("  DIFFERS {}\n", d);
  }
  all = all && want == got;
  if (verbose_ || !all) fmt::print("{}", out);
  return all;
}

std::string PrivateVenue::outcome_json(bool agree) const {
  auto to_json = [&](const flow::FlowOutcome& o) {
    nlohmann::json j;
    j["epoch"] = o.epoch;
    j["band"] = {spec().format_price(o.band_low), spec().format_price(o.band_high)};
    j["book"] = nlohmann::json::array();
    for (const flow::BookOrder& b : o.book) {
      j["book"].push_back({{"order", b.id.value},
                           {"side", market::side_name(b.side)},
                           {"price", spec().format_price(b.price)},
                           {"open", b.open.value()}});
    }
    j["fills"] = nlohmann::json::array();
    for (const flow::OrderFill& f : o.fills) {
      j["fills"].push_back({{"order", f.order.value},
                            {"price", spec().format_price(f.price)},
                            {"qty", f.qty.value()}});
    }
    j["holdings"] = nlohmann::json::object();
    for (const flow::Holding& h : o.holdings) {
      auto t = traders_.find(h.account.value);
      const std::string name =
          t == traders_.end() ? std::to_string(h.account.value) : t->second.name;
      j["holdings"][name] = {{"cash", spec().format_cash(h.cash)}, {"position", h.position}};
    }
    return j;
  };
  nlohmann::json j;
  j["agree"] = agree;
  j["transparent"] = to_json(flow::transparent_outcome(reference_, reference_.events()));
  j["private"] = to_json(driver_.outcome());
  return j.dump(2);
}

}  // namespace

Result<sim::Scenario> private_demo_scenario() {
  return sim::parse_scenario(kPrivateDemoScenario);
}

flow::FlowDriverOptions private_demo_options() {
  flow::FlowDriverOptions o;
  o.log_window = kDemoLogWindow;
  o.issuer =
      std::make_shared<const crypto::Ed25519SigningKey>(crypto::Ed25519SigningKey::generate());
  o.validators_key = crypto::Point::mul_base(crypto::Scalar::random());
  return o;
}

PrivateSessionResult run_private_session(const sim::Scenario& sc,
                                         flow::FlowDriverOptions driver_options, DemoLink& link,
                                         const RunOptions& options, bool perturb) {
  PrivateSessionResult result;
  auto fail = [&](const Status& s) {
    fmt::print(stderr, "pfex demo: {}\n", s.to_string());
    result.code = s.code() == ErrorCode::kInvalidArgument ? 2 : 1;
    return result;
  };
  if (options.verbose) {
    fmt::print(
        "== {} (private market)\n{}\n\nEach \"log #\" line is an entry of the log as every "
        "observer sees it; the lines under it are the market's public events.\n",
        sc.name, sc.description);
  }
  NarratingLink narrating(link, sc.contract, options.verbose);
  driver_options.link = &narrating;
  Result<flow::FlowDriver> driver =
      flow::FlowDriver::open(sc.contract, sc.reference, std::move(driver_options));
  if (!driver.is_ok()) return fail(driver.status());
  Result<market::Exchange> ex = market::Exchange::open(sc.contract, sc.reference, LedgerTime(0));
  if (!ex.is_ok()) return fail(ex.status());
  PrivateVenue venue(sc, *driver, narrating, std::move(ex).value(), options.verbose, perturb);

  sim::ScenarioObserver observer;
  if (options.verbose) {
    observer.before_step = [](const sim::Step& s) {
      if (!s.note.empty()) fmt::print("\n-- {}\n", s.note);
      if (s.action != "note" && s.action != "show" && s.action != "expect") {
        fmt::print("[{:>9.3f}s] {}{}\n", static_cast<double>(s.at_ms) / 1000,
                   s.trader.empty() ? "" : s.trader + " ", s.action);
      }
    };
    observer.after_step = [&](const sim::Step& s, const market::Exchange&,
                              std::span<const market::Event>, const sim::Names&,
                              const Status& outcome) {
      if (!outcome.is_ok()) {
        fmt::print("           transparent: refused {} for {}: {}\n", s.action, s.trader,
                   outcome.to_string());
      }
      if (s.action == "show") {
        venue.print_private_views();
        venue.print_public_view();
      }
    };
  }
  Result<sim::ScenarioRun> run = sim::run_scenario(sc, venue, observer);
  if (!run.is_ok()) return fail(run.status());
  if (options.verbose) fmt::print("\n-- At the end every node settles its fills.\n");
  if (Status s = venue.settle_all(LedgerTime(sc.steps.empty() ? 0 : sc.steps.back().at_ms));
      !s.is_ok()) {
    return fail(s);
  }
  if (options.verbose) {
    venue.print_private_views();
    venue.print_public_view();
  }
  result.same_outcome = venue.compare();
  if (options.json) fmt::print("{}\n", venue.outcome_json(result.same_outcome));
  for (const std::string& f : run->failures)
    fmt::print(stderr, "FAILED {}\n", f);
  fmt::print(
      "\n{}: {} steps, {} log entries ({} refreshes), {} expectation(s) failed; private and "
      "transparent runs {}\n",
      sc.name, run->steps_run, venue.entries(), venue.refreshes(), run->failures.size(),
      result.same_outcome ? "agree" : "DISAGREE");
  result.code = result.same_outcome && run->failures.empty() ? 0 : 1;
  return result;
}

int run_private_demo(const RunOptions& options, bool perturb) {
  Result<sim::Scenario> sc = private_demo_scenario();
  if (!sc.is_ok()) {
    fmt::print(stderr, "pfex: the built-in private demo is broken: {}\n", sc.status().to_string());
    return 2;
  }
  EmbeddedLink link;
  return run_private_session(*sc, private_demo_options(), link, options, perturb).code;
}

}  // namespace pfex::cli
