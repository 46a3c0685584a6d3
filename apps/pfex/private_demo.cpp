// `pfex demo` in a private market; see private_demo.hpp.
#include "private_demo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
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

priv::Side private_side(market::Side s) {
  return s == market::Side::kBuy ? priv::Side::kBuy : priv::Side::kSell;
}
market::Side market_side(priv::Side s) {
  return s == priv::Side::kBuy ? market::Side::kBuy : market::Side::kSell;
}
priv::OrderKind private_kind(market::OrderType t) {
  switch (t) {
    case market::OrderType::kLimit:
      return priv::OrderKind::kLimit;
    case market::OrderType::kImmediateOrCancel:
      return priv::OrderKind::kIoc;
    case market::OrderType::kFillOrKill:
      return priv::OrderKind::kFok;
    case market::OrderType::kPostOnly:
      return priv::OrderKind::kPostOnly;
    case market::OrderType::kMarket:
      return priv::OrderKind::kMarket;
  }
  return priv::OrderKind::kLimit;
}

// The market and the traders' wallets of a private session, with the transparent exchange running
// the same flow beside it (the reference). exchange() and events() are the reference's: the
// scenario's expectations are checked on it, and the private run is compared with it at the end.
class PrivateVenue final : public sim::Venue {
 public:
  PrivateVenue(const sim::Scenario& sc, PrivateLink& link, const protocol::SigningKey& issuer,
               market::Exchange reference, bool verbose, bool perturb)
      : sc_(sc),
        link_(link),
        issuer_(issuer),
        reference_(std::move(reference)),
        verbose_(verbose),
        perturb_(perturb) {}

  const market::Exchange& exchange() const override { return reference_; }
  std::span<const market::Event> events() const override { return reference_.events(); }

  Result<market::AccountId> add_trader(const sim::Trader& t) override {
    PFEX_ASSIGN_OR_RETURN(const market::AccountId id,
                          reference_.register_account(reference_.time()));
    if (t.deposit.value() > 0) {
      PFEX_RETURN_IF_ERROR(reference_.deposit(reference_.time(), id, t.deposit));
    }
    Trader& tr = traders_[id.value];
    tr.name = t.name;
    tr.online = t.online;
    tr.wallet = std::make_unique<priv::PrivateWallet>(ledger().gens());
    const LedgerTime now = reference_.time();
    PFEX_RETURN_IF_ERROR(
        send(tr, tr.wallet->build_register(ledger(), 1, ledger().terms().bond), now).status());
    if (t.deposit.value() > 0) PFEX_RETURN_IF_ERROR(pay_in(tr, t.deposit.value(), now));
    return id;
  }

  Result<market::ActionResult> apply(LedgerTime now, const market::Action& action) override {
    Result<market::ActionResult> r = market::apply_action(reference_, now, action);
    Status priv = apply_private(now, action, r);
    if (!priv.is_ok() && priv.code() == ErrorCode::kIoError) return priv;  // the ledger is gone
    if (r.is_ok() != priv.is_ok()) {
      divergences_.push_back(fmt::format(
          "at {} ms: the transparent exchange {} it, the private market {}", now.value(),
          r.is_ok() ? "accepted" : "refused (" + r.status().to_string() + ")",
          priv.is_ok() ? "accepted it" : "refused it (" + priv.to_string() + ")"));
    } else if (!priv.is_ok() && verbose_) {
      fmt::print("           private: refused too: {}\n", priv.to_string());
    }
    if (Status s = refresh_online(now); !s.is_ok()) return s;
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
  Status settle_all(LedgerTime now) {
    for (auto& [id, t] : traders_)
      PFEX_RETURN_IF_ERROR(settle(t, now));
    return Status::ok();
  }

  // The views (show steps and the end).
  void print_private_views() const;
  void print_public_view() const;
  // Prints the comparison with the reference; true when everything is the same.
  bool compare() const;

  const std::vector<std::string>& divergences() const { return divergences_; }
  std::uint64_t entries() const { return link_.replica().entries(); }
  std::uint64_t refreshes() const { return refreshes_; }

 private:
  struct Trader {
    std::string name;
    bool online = true;
    std::unique_ptr<priv::PrivateWallet> wallet;
  };

  const priv::PrivateLedger& ledger() const { return *link_.replica().private_ledger(); }
  const market::ContractSpec& spec() const { return sc_.contract; }

  // Appends a wallet's transaction; an accepted one becomes the wallet's. A refusal by the ledger
  // is an error (the wallet built it against the ledger it saw, so the run is broken).
  template <class Tx>
  Result<priv::Applied> send(Trader& t, Result<Tx> built, LedgerTime now) {
    if (!built.is_ok()) return built.status().with_context(t.name + "'s wallet");
    const priv::PrivateTx tx(*built);
    PFEX_RETURN_IF_ERROR(send_entry(tx, now));
    const protocol::EntryOutcome& out = last_;
    if (!out.accepted) {
      return Status::failed_precondition(fmt::format("the ledger rejected {}'s {}: {}", t.name,
                                                     priv::tx_type_name(priv::tx_type(tx)),
                                                     out.reason.to_string()));
    }
    if constexpr (!std::is_same_v<Tx, priv::CancelTx>) {
      PFEX_RETURN_IF_ERROR(t.wallet->confirm(*out.private_result));
    }
    if (out.private_result && out.private_result->new_order) {
      owners_[*out.private_result->new_order] = t.name;
    }
    return *out.private_result;
  }

  // Sends one private transaction and narrates what an observer of the log sees of it.
  Status send_entry(const priv::PrivateTx& tx, LedgerTime now) {
    const Bytes entry = protocol::encode_entry(protocol::PrivateEntry{tx});
    PFEX_ASSIGN_OR_RETURN(last_, link_.send(entry, now));
    if (verbose_) fmt::print("{}\n", describe_public(tx, entry.size(), last_));
    return Status::ok();
  }

  // The issuer mints `amount` into the trader's cash account.
  Status mint(Trader& t, std::int64_t amount, LedgerTime now) {
    priv::MintTx tx;
    tx.account = t.wallet->identity();
    tx.amount = amount;
    tx.sequence = ledger().last_sequence(issuer_.public_key()) + 1;
    tx.signature = issuer_.sign(priv::mint_signed_bytes(tx));
    PFEX_RETURN_IF_ERROR(send_entry(priv::PrivateTx(tx), now));
    if (!last_.accepted) return last_.reason.with_context("mint to " + t.name);
    t.wallet->on_mint(static_cast<std::uint64_t>(amount));
    return Status::ok();
  }

  // Cash into the market: a mint into the cash account, then a deposit into the token.
  Status pay_in(Trader& t, std::int64_t amount, LedgerTime now) {
    PFEX_RETURN_IF_ERROR(mint(t, amount, now));
    return send(t, t.wallet->build_deposit(ledger(), static_cast<std::uint64_t>(amount)), now)
        .status();
  }

  Status settle(Trader& t, LedgerTime now) {
    // At most 16 entries per spend: settle until nothing is pending.
    while (!t.wallet->pending_entries(ledger(), std::nullopt).empty()) {
      PFEX_RETURN_IF_ERROR(send(t, t.wallet->build_settle(ledger()), now).status());
    }
    return Status::ok();
  }

  Result<Trader*> trader(market::AccountId id) {
    auto it = traders_.find(id.value);
    if (it == traders_.end()) return Status::not_found("no trader " + std::to_string(id.value));
    return &it->second;
  }

  Result<std::uint64_t> private_order(market::OrderId id) const {
    auto it = order_ids_.find(id.value);
    if (it == order_ids_.end()) {
      return Status::not_found("order " + std::to_string(id.value) + " has no private counterpart");
    }
    return it->second;
  }

  // The public price a private order of this request carries: its limit, or for a market order
  // the reservation price, the transparent exchange's protection limit through the best opposite
  // price on the public book, inside the band.
  Result<std::int64_t> order_price(const market::OrderRequest& r) const {
    if (r.type != market::OrderType::kMarket) return r.limit->value();
    const priv::Side opposite = r.side == market::Side::kBuy ? priv::Side::kSell : priv::Side::kBuy;
    std::optional<std::int64_t> best;
    for (std::uint64_t i = 0; i < ledger().order_count(); ++i) {
      const priv::PrivateOrder* o = ledger().order(i);
      if (o->closed || o->side != opposite || o->filled >= o->qty) continue;
      if (!best || (opposite == priv::Side::kSell ? o->price < *best : o->price > *best)) {
        best = o->price;
      }
    }
    if (!best) return Status::failed_precondition("a market order needs a resting opposite order");
    const std::int64_t p = r.side == market::Side::kBuy ? *best + spec().protection_ticks
                                                        : *best - spec().protection_ticks;
    return std::clamp(p, ledger().terms().low, ledger().terms().high);
  }

  Status post(Trader& t, const market::OrderRequest& r, LedgerTime now,
              const Result<market::ActionResult>& reference) {
    PFEX_ASSIGN_OR_RETURN(const std::int64_t price, order_price(r));
    std::int64_t qty = r.qty.value();
    if (perturb_ && r.side == market::Side::kBuy) {
      perturb_ = false;
      ++qty;
    }
    PFEX_ASSIGN_OR_RETURN(
        const priv::Applied applied,
        send(t,
             t.wallet->build_post(ledger(), private_side(r.side), private_kind(r.type), price, qty),
             now));
    if (reference.is_ok() && reference->order && applied.new_order) {
      order_ids_[reference->order->id.value] = *applied.new_order;
    }
    return Status::ok();
  }

  Status apply_private(LedgerTime now, const market::Action& action,
                       const Result<market::ActionResult>& reference) {
    return std::visit(
        [&](const auto& a) -> Status {
          using A = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<A, market::SubmitAction>) {
            PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
            return post(*t, a.request, now, reference);
          } else if constexpr (std::is_same_v<A, market::ReplaceAction>) {
            PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
            PFEX_ASSIGN_OR_RETURN(const std::uint64_t old, private_order(a.order));
            PFEX_ASSIGN_OR_RETURN(const std::int64_t price, order_price(a.request));
            PFEX_ASSIGN_OR_RETURN(
                const priv::Applied applied,
                send(*t,
                     t->wallet->build_cancel_replace(ledger(), old, private_side(a.request.side),
                                                     private_kind(a.request.type), price,
                                                     a.request.qty.value()),
                     now));
            if (reference.is_ok() && reference->order && applied.new_order) {
              order_ids_[reference->order->id.value] = *applied.new_order;
            }
            return Status::ok();
          } else if constexpr (std::is_same_v<A, market::CancelAction>) {
            PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
            PFEX_ASSIGN_OR_RETURN(const std::uint64_t id, private_order(a.order));
            return send(*t, t->wallet->build_cancel(ledger(), id), now).status();
          } else if constexpr (std::is_same_v<A, market::DepositAction>) {
            PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
            return pay_in(*t, a.amount.value(), now);
          } else if constexpr (std::is_same_v<A, market::WithdrawAction>) {
            PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
            PFEX_RETURN_IF_ERROR(settle(*t, now));
            return send(*t,
                        t->wallet->build_withdraw(ledger(),
                                                  static_cast<std::uint64_t>(a.amount.value())),
                        now)
                .status();
          } else if constexpr (std::is_same_v<A, market::RefreshAction>) {
            PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
            return refresh(*t, a.deposit.value(), now);
          } else if constexpr (std::is_same_v<A, market::ExitAction>) {
            PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
            return send(*t, t->wallet->build_exit(ledger()), now).status();
          } else if constexpr (std::is_same_v<A, market::SettleFinalAction>) {
            return Status::failed_precondition("a private market has no final settlement yet");
          } else {
            // Register goes through add_trader; time passing (Advance) needs no entry of its
            // own: ledger time reaches the private market with the next entry.
            return Status::ok();
          }
        },
        action);
  }

  // A refresh for the new epoch: settle everything first (a refresh carries no settle entries
  // and needs zero open orders), pay the deposit into the cash account, then refresh.
  Status refresh(Trader& t, std::int64_t deposit, LedgerTime now) {
    PFEX_RETURN_IF_ERROR(settle(t, now));
    if (deposit > 0) PFEX_RETURN_IF_ERROR(mint(t, deposit, now));
    PFEX_RETURN_IF_ERROR(
        send(t, t.wallet->build_refresh(ledger(), static_cast<std::uint64_t>(deposit)), now)
            .status());
    ++refreshes_;
    return Status::ok();
  }

  // What an online trader's node does in a margin round, in both markets: refresh with no
  // deposit. One short of margin is refused (its wallet says by how much) and stays called.
  Status refresh_online(LedgerTime now) {
    if (reference_.phase() == market::Phase::kRefreshWindow) {
      for (const auto& [id, t] : traders_) {
        Result<market::Account> a = reference_.account(market::AccountId{id});
        if (!t.online || !a.is_ok() || a->status != market::AccountStatus::kActive ||
            a->refreshed) {
          continue;
        }
        (void)reference_.refresh(now, market::AccountId{id}, Cash(0));
      }
    }
    if (!ledger().in_refresh_window()) return Status::ok();
    for (auto& [id, t] : traders_) {
      const auto& key = t.wallet->identity();
      if (!t.online || ledger().refreshed(key) || ledger().defaulted(key)) continue;
      PFEX_RETURN_IF_ERROR(settle(t, now));
      Result<priv::SpendTx> tx = t.wallet->build_refresh(ledger(), 0);
      if (!tx.is_ok()) {
        if (verbose_)
          fmt::print("           {}'s node does not refresh: {}\n", t.name, tx.status().message());
        continue;
      }
      PFEX_RETURN_IF_ERROR(send(t, std::move(tx), now).status());
      ++refreshes_;
    }
    return Status::ok();
  }

  std::string describe_public(const priv::PrivateTx& tx, std::size_t bytes,
                              const protocol::EntryOutcome& out) const;

  const sim::Scenario& sc_;
  PrivateLink& link_;
  const protocol::SigningKey& issuer_;
  market::Exchange reference_;
  bool verbose_;
  bool perturb_;
  std::map<std::uint32_t, Trader> traders_;           // by the reference's account id
  std::map<std::uint64_t, std::uint64_t> order_ids_;  // reference order id -> private order id
  std::map<std::uint64_t, std::string> owners_;       // private order id -> owner (private views)
  protocol::EntryOutcome last_;
  std::vector<std::string> divergences_;
  std::uint64_t refreshes_ = 0;
};

std::string PrivateVenue::describe_public(const priv::PrivateTx& tx, std::size_t bytes,
                                          const protocol::EntryOutcome& out) const {
  std::string what = std::visit(
      [&](const auto& t) -> std::string {
        using T = std::decay_t<decltype(t)>;
        if constexpr (std::is_same_v<T, priv::RegisterTx>) {
          return fmt::format("identity {} K {}", short_hex(t.signer), short_point(t.K));
        } else if constexpr (std::is_same_v<T, priv::MintTx>) {
          return fmt::format("{} to {}", spec().format_cash(Cash(t.amount)), short_hex(t.account));
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
                             spec().format_price(Price(t.order->price)), short_point(t.order->tag));
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

void PrivateVenue::print_private_views() const {
  fmt::print("\nPrivate views (each trader's wallet opens its own token; nobody else can)\n");
  fmt::print("{:<6} {:>14} {:>14} {:>8} {:>6} {:>6}  {}\n", "trader", "token cash", "cash account",
             "position", "buys", "sells", "open orders (id side qty@price filled)");
  for (const auto& [id, t] : traders_) {
    const priv::Attributes& a = t.wallet->attributes();
    std::string orders;
    for (std::uint64_t o : t.wallet->open_orders()) {
      const priv::PrivateOrder* po = ledger().order(o);
      if (po == nullptr) continue;
      orders += fmt::format("#{} {} {}@{} f{}{} ", o, market::side_name(market_side(po->side)),
                            po->qty, spec().format_price(Price(po->price)), po->filled,
                            po->closed ? " closed" : "");
    }
    fmt::print("{:<6} {:>14} {:>14} {:>8} {:>6} {:>6}  {}\n", t.name, spec().format_cash(Cash(a.c)),
               spec().format_cash(Cash(static_cast<std::int64_t>(t.wallet->cash_balance()))),
               static_cast<std::int64_t>(a.vp) - static_cast<std::int64_t>(a.vm), a.B, a.S,
               orders.empty() ? "-" : orders);
  }
}

void PrivateVenue::print_public_view() const {
  const priv::PrivateLedger& l = ledger();
  const priv::MarketTerms& terms = l.terms();
  fmt::print(
      "\nPublic view (what every observer of the log sees)\n"
      "epoch {}{}: band [{}, {}], margin {} per contract\n",
      terms.epoch, l.in_refresh_window() ? " (refresh window)" : "",
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
  std::size_t fills = 0;
  std::string fill_lines;
  for (std::uint64_t i = 0; i < l.order_count(); ++i) {
    const priv::PrivateOrder* o = l.order(i);
    for (const priv::Fill& f : o->fills) {
      ++fills;
      fill_lines +=
          fmt::format("  #{:<3} {:<4} {:>4} @ {:>8}\n", i, market::side_name(market_side(o->side)),
                      f.qty, spec().format_price(Price(f.price)));
    }
  }
  fmt::print("Fills (per order){}\n{}", fills == 0 ? ": none" : "", fill_lines);
  std::size_t tokens = 0;
  for (std::uint64_t e = 0; e <= terms.epoch; ++e)
    tokens += l.tokens(e).size();
  const auto pi_r = l.paid_in().R.encode();
  const auto pi_e = l.paid_in().E.encode();
  fmt::print(
      "{} tokens on the lists, {} orders, Enc(Pi) = ({}, {}), cash supply {}, "
      "state hash {}\n",
      tokens, l.order_count(), short_hex(pi_r), short_hex(pi_e),
      spec().format_cash(Cash(l.cash_supply())), short_hex(link_.replica().state_hash()));
}

bool PrivateVenue::compare() const {
  bool all = true;
  auto line = [&](const std::string& what, const std::string& transparent,
                  const std::string& priv) {
    const bool same = transparent == priv;
    all = all && same;
    fmt::print("  {:<22} {:<40} {}\n", what, transparent,
               same ? "same" : "DIFFERS: private " + priv);
  };
  fmt::print("\nThe private run against the transparent run of the same flow\n");
  // The book, order by order: side, price, open quantity (the reference's ids mapped to the
  // private ones).
  using BookRow = std::tuple<int, std::int64_t, std::uint64_t, std::int64_t>;
  std::vector<BookRow> ref_book, priv_book;
  bool unmapped = false;
  for (market::Side side : {market::Side::kBuy, market::Side::kSell}) {
    reference_.book().for_each(side, [&](const auto& o) {
      auto it = order_ids_.find(o.id.value);
      if (it == order_ids_.end()) unmapped = true;
      ref_book.emplace_back(static_cast<int>(side), o.limit.value(),
                            it == order_ids_.end() ? ~std::uint64_t{0} : it->second,
                            o.open.value());
    });
  }
  for (std::uint64_t i = 0; i < ledger().order_count(); ++i) {
    const priv::PrivateOrder* o = ledger().order(i);
    if (o->closed || o->filled >= o->qty) continue;
    priv_book.emplace_back(static_cast<int>(o->side), o->price, i, o->qty - o->filled);
  }
  std::sort(ref_book.begin(), ref_book.end());
  std::sort(priv_book.begin(), priv_book.end());
  auto book_text = [&](const std::vector<BookRow>& rows) {
    std::string s;
    for (const auto& [side, price, id, qty] : rows)
      s += fmt::format("{}{}@{} ", side == 0 ? "b" : "s", qty, spec().format_price(Price(price)));
    return s.empty() ? std::string("(empty)") : s;
  };
  line(fmt::format("book ({} orders)", ref_book.size()),
       book_text(ref_book) + (unmapped ? "?" : ""),
       ref_book == priv_book ? book_text(ref_book) : book_text(priv_book));

  // Trades: every reference trade's fills on both orders, against the private orders' fills.
  std::map<std::uint64_t, std::vector<std::pair<std::int64_t, std::int64_t>>> ref_fills, priv_fills;
  std::size_t trades = 0;
  std::int64_t volume = 0;
  for (const market::Event& e : reference_.events()) {
    const auto* t = std::get_if<market::Trade>(&e.body);
    if (t == nullptr) continue;
    ++trades;
    volume += t->qty.value();
    for (market::OrderId id : {t->maker, t->taker}) {
      auto it = order_ids_.find(id.value);
      const std::uint64_t key = it == order_ids_.end() ? ~std::uint64_t{0} : it->second;
      ref_fills[key].emplace_back(t->price.value(), t->qty.value());
    }
  }
  std::size_t priv_count = 0;
  for (std::uint64_t i = 0; i < ledger().order_count(); ++i) {
    for (const priv::Fill& f : ledger().order(i)->fills) {
      priv_fills[i].emplace_back(f.price, f.qty);
      ++priv_count;
    }
  }
  line(fmt::format("trades ({}, {} lots)", trades, volume),
       fmt::format("{} fills on {} orders", trades * 2, ref_fills.size()),
       ref_fills == priv_fills
           ? fmt::format("{} fills on {} orders", trades * 2, ref_fills.size())
           : fmt::format("{} fills on {} orders, not the same", priv_count, priv_fills.size()));
  // Cash and position of every trader: the reference's account against the wallet's token.
  for (const auto& [id, t] : traders_) {
    const market::Account a = *reference_.account(market::AccountId{id});
    const priv::Attributes& attr = t.wallet->attributes();
    line(t.name + " cash", spec().format_cash(a.cash), spec().format_cash(Cash(attr.c)));
    line(t.name + " position", std::to_string(a.position),
         std::to_string(static_cast<std::int64_t>(attr.vp) - static_cast<std::int64_t>(attr.vm)));
  }
  for (const std::string& d : divergences_) {
    all = false;
    fmt::print("  DIFFERS {}\n", d);
  }
  return all;
}

}  // namespace

Result<sim::Scenario> private_demo_scenario() {
  return sim::parse_scenario(kPrivateDemoScenario);
}

Bytes private_genesis_entry(const sim::Scenario& sc, const protocol::SigningKey& issuer,
                            const crypto::Point& validators_key, std::uint8_t log_window) {
  return protocol::encode_entry(
      protocol::Genesis{sc.contract, sc.reference, issuer.public_key(),
                        protocol::PrivateGenesisTerms{log_window, validators_key}});
}

PrivateSessionResult run_private_session(const sim::Scenario& sc, const Bytes& genesis,
                                         PrivateLink& link, const protocol::SigningKey& issuer,
                                         const RunOptions& options, bool perturb) {
  PrivateSessionResult result;
  auto fail = [&](const Status& s) {
    fmt::print(stderr, "pfex demo: {}\n", s.to_string());
    result.code = s.code() == ErrorCode::kInvalidArgument ? 2 : 1;
    return result;
  };
  if (!link.replica().market_id()) {
    Result<protocol::EntryOutcome> out = link.send(genesis, LedgerTime(0));
    if (!out.is_ok()) return fail(out.status());
    if (!out->accepted) return fail(out->reason.with_context("the private genesis"));
  }
  if (link.replica().private_ledger() == nullptr) {
    return fail(Status::failed_precondition("the log does not open a private market"));
  }
  Result<market::Exchange> ex = market::Exchange::open(sc.contract, sc.reference, LedgerTime(0));
  if (!ex.is_ok()) return fail(ex.status());
  PrivateVenue venue(sc, link, issuer, std::move(ex).value(), options.verbose, perturb);

  sim::ScenarioObserver observer;
  if (options.verbose) {
    const priv::MarketTerms& terms = link.replica().private_ledger()->terms();
    fmt::print(
        "== {} (private market)\n{}\n\nmarket {}, windows of {} tokens; every line \"log #\" is "
        "an entry as an observer sees it\n",
        sc.name, sc.description, short_hex(*link.replica().market_id()), terms.window_size());
    observer.before_step = [](const sim::Step& s) {
      if (!s.note.empty()) fmt::print("\n-- {}\n", s.note);
      if (s.action != "note" && s.action != "show" && s.action != "expect") {
        fmt::print("[{:>9.3f}s] {} {}\n", static_cast<double>(s.at_ms) / 1000, s.trader, s.action);
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
  // The validators' threshold key: in the demo one key stands for the committee the DKG elects.
  const crypto::Point validators_key = crypto::Point::mul_base(crypto::Scalar::random());
  const protocol::SigningKey issuer = protocol::SigningKey::generate();
  EmbeddedLink link;
  const Bytes genesis = private_genesis_entry(*sc, issuer, validators_key, kDemoLogWindow);
  return run_private_session(*sc, genesis, link, issuer, options, perturb).code;
}

}  // namespace pfex::cli
