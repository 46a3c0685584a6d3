#include "sim/report.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/hash.hpp"
#include "market/names.hpp"

namespace pfex::sim {
namespace {

using namespace market;

std::string name_of(const Names& names, AccountId id) {
  return id.value < names.size() ? names[id.value] : "#" + std::to_string(id.value);
}

std::string seconds(LedgerTime t) {
  return fmt::format("{}.{:03}", t.value() / 1000, t.value() % 1000);
}

std::string_view close_reason(CloseReason r) {
  switch (r) {
    case CloseReason::kFilled:
      return "filled";
    case CloseReason::kCancelled:
      return "cancelled";
    case CloseReason::kExpired:
      return "expired";
    case CloseReason::kUnfilledIoc:
      return "rest cancelled (IOC)";
    case CloseReason::kReplaced:
      return "replaced";
    case CloseReason::kKilled:
      return "killed (fill-or-kill could not fill)";
    case CloseReason::kPostOnlyWouldCross:
      return "refused (post-only would trade)";
  }
  return "?";
}

std::string_view halt_reason(HaltReason r) {
  switch (r) {
    case HaltReason::kBreakerVolume:
      return "circuit breaker: volume at the band edge";
    case HaltReason::kBreakerStanding:
      return "circuit breaker: quote standing at the band edge";
    case HaltReason::kScheduled:
      return "scheduled settlement";
    case HaltReason::kFinalSettlement:
      return "final settlement";
  }
  return "?";
}

std::string_view status_text(AccountStatus s) {
  switch (s) {
    case AccountStatus::kActive:
      return "active";
    case AccountStatus::kDefaulted:
      return "DEFAULTED";
    case AccountStatus::kExited:
      return "exited";
  }
  return "?";
}

}  // namespace

std::string describe_event(const Exchange& ex, const Event& e, const Names& names) {
  const ContractSpec& spec = ex.spec();
  auto p = [&](Price x) { return spec.format_price(x); };
  auto c = [&](Cash x) { return spec.format_cash(x); };
  auto n = [&](AccountId id) { return name_of(names, id); };
  std::string body = std::visit(
      [&](const auto& ev) -> std::string {
        using T = std::decay_t<decltype(ev)>;
        if constexpr (std::is_same_v<T, OrderAccepted>) {
          return fmt::format("{} order #{} by {}: {} {} at {}{}", order_type_name(ev.type),
                             ev.id.value, n(ev.owner), side_name(ev.side), ev.qty.value(),
                             p(ev.limit), ev.liquidation ? " (liquidation)" : "");
        } else if constexpr (std::is_same_v<T, Trade>) {
          AccountId buyer = ev.taker_side == Side::kBuy ? ev.taker_owner : ev.maker_owner;
          AccountId seller = ev.taker_side == Side::kBuy ? ev.maker_owner : ev.taker_owner;
          return fmt::format("TRADE #{}: {} at {}, {} buys from {}{}", ev.seq, ev.qty.value(),
                             p(ev.price), n(buyer), n(seller),
                             ev.liquidation ? " (liquidation)" : "");
        } else if constexpr (std::is_same_v<T, OrderClosed>) {
          return fmt::format(
              "order #{} {}{}", ev.id.value, close_reason(ev.reason),
              ev.released.value() ? fmt::format(", {} released", ev.released.value()) : "");
        } else if constexpr (std::is_same_v<T, OrderReduced>) {
          return fmt::format("order #{} reduced by {} to {} (keeps its priority)", ev.id.value,
                             ev.released.value(), ev.open.value());
        } else if constexpr (std::is_same_v<T, CashMoved>) {
          return fmt::format(
              "{} {} {}", n(ev.account), ev.amount.value() >= 0 ? "deposits" : "withdraws",
              c(Cash(ev.amount.value() >= 0 ? ev.amount.value() : -ev.amount.value())));
        } else if constexpr (std::is_same_v<T, AccountRegistered>) {
          return fmt::format("{} registers, bond {}", n(ev.account), c(ev.bond));
        } else if constexpr (std::is_same_v<T, MarketHalted>) {
          return fmt::format("HALT of epoch {}: {}", ev.epoch, halt_reason(ev.reason));
        } else if constexpr (std::is_same_v<T, EpochOpened>) {
          return fmt::format(
              "EPOCH {}: reference {}, band [{}, {}]{}, margin {} per contract{}", ev.epoch,
              p(ev.band.reference), p(ev.band.low), p(ev.band.high), ev.widened ? " (widened)" : "",
              c(ev.band.margin),
              ev.epoch == 0 ? ""
                            : fmt::format(", refresh window until {}s", seconds(ev.window_close)));
        } else if constexpr (std::is_same_v<T, MarginCall>) {
          return fmt::format("MARGIN CALL: {} must deposit {} (or at least refresh)", n(ev.account),
                             c(ev.amount));
        } else if constexpr (std::is_same_v<T, Refreshed>) {
          return fmt::format("{} refreshed{}{}", n(ev.account),
                             ev.deposit.value() ? ", deposit " + c(ev.deposit) : "",
                             ev.levy.value() ? ", shortfall levy " + c(ev.levy) : "");
        } else if constexpr (std::is_same_v<T, ShortfallLevied>) {
          return fmt::format("SHORTFALL: fund deficit {}, levy {} per contract", c(ev.fund_deficit),
                             c(ev.per_contract));
        } else if constexpr (std::is_same_v<T, ShortfallHaircut>) {
          return fmt::format(
              "SHORTFALL at final settlement: {} left after the levy per contract, charged pro "
              "rata "
              "on the survivors' equity {}{}",
              c(ev.remainder), c(ev.survivors_equity),
              ev.uncovered.value() ? ", uncovered " + c(ev.uncovered) : "");
        } else if constexpr (std::is_same_v<T, WindowClosed>) {
          return fmt::format("refresh window of epoch {} closed", ev.epoch);
        } else if constexpr (std::is_same_v<T, Defaulted>) {
          return fmt::format("DEFAULT: {} (cash {}, position {}, bond {} forfeited)", n(ev.account),
                             c(ev.cash), ev.position, c(ev.bond));
        } else if constexpr (std::is_same_v<T, LiquidationFinished>) {
          return fmt::format("liquidation {} finished: {} filled, {} kept by the fund, average {}",
                             ev.batch, ev.filled.value(), ev.kept.value(), p(ev.avg_price));
        } else if constexpr (std::is_same_v<T, Exited>) {
          return fmt::format("{} exits with {}", n(ev.account), c(ev.claim));
        } else {
          static_assert(std::is_same_v<T, FinalSettlement>);
          return fmt::format("FINAL SETTLEMENT at {}", p(ev.price));
        }
      },
      e.body);
  return fmt::format("[{:>9}s] {}", seconds(e.time), body);
}

std::string market_line(const Exchange& ex) {
  const ContractSpec& s = ex.spec();
  const Band& b = ex.band();
  const std::string_view phase = phase_name(ex.phase());
  return fmt::format("{} epoch {} ({}) at {}s: reference {}, band [{}, {}], margin {} per contract",
                     s.name, ex.epoch(), phase, seconds(ex.time()), s.format_price(b.reference),
                     s.format_price(b.low), s.format_price(b.high), s.format_cash(b.margin));
}

std::string book_table(const Exchange& ex, std::size_t depth) {
  const ContractSpec& s = ex.spec();
  auto bids = ex.book().depth(Side::kBuy, depth);
  auto asks = ex.book().depth(Side::kSell, depth);
  std::string out =
      fmt::format("{:>8} {:>10} | {:<10} {:<8}\n", "bid qty", "bid", "ask", "ask qty");
  for (std::size_t i = 0; i < std::max(bids.size(), asks.size()); ++i) {
    std::string bq = i < bids.size() ? std::to_string(bids[i].qty.value()) : "";
    std::string bp = i < bids.size() ? s.format_price(bids[i].price) : "";
    std::string ap = i < asks.size() ? s.format_price(asks[i].price) : "";
    std::string aq = i < asks.size() ? std::to_string(asks[i].qty.value()) : "";
    out += fmt::format("{:>8} {:>10} | {:<10} {:<8}\n", bq, bp, ap, aq);
  }
  if (bids.empty() && asks.empty()) out += fmt::format("{:^39}\n", "(empty book)");
  return out;
}

std::string trades_table(const Exchange& ex, const Names& names, std::size_t last) {
  return trades_table(ex, ex.events(), names, last);
}

std::string trades_table(const Exchange& ex, std::span<const Event> events, const Names& names,
                         std::size_t last) {
  std::vector<const Event*> trades;
  for (const Event& e : events) {
    if (std::holds_alternative<Trade>(e.body)) trades.push_back(&e);
  }
  std::size_t from = trades.size() > last ? trades.size() - last : 0;
  std::string out = fmt::format("{:>5} {:>10} {:>6} {:>10}  {:<10} {:<10}\n", "#", "time", "qty",
                                "price", "buyer", "seller");
  for (std::size_t i = from; i < trades.size(); ++i) {
    const auto& t = std::get<Trade>(trades[i]->body);
    AccountId buyer = t.taker_side == Side::kBuy ? t.taker_owner : t.maker_owner;
    AccountId seller = t.taker_side == Side::kBuy ? t.maker_owner : t.taker_owner;
    out +=
        fmt::format("{:>5} {:>10} {:>6} {:>10}  {:<10} {:<10}{}\n", t.seq, seconds(trades[i]->time),
                    t.qty.value(), ex.spec().format_price(t.price), name_of(names, buyer),
                    name_of(names, seller), t.liquidation ? " liquidation" : "");
  }
  if (trades.empty()) out += "  (no trades)\n";
  return out;
}

std::string accounts_table(const Exchange& ex, const Names& names) {
  const ContractSpec& s = ex.spec();
  const Band& b = ex.band();
  std::string out =
      fmt::format("{:<10} {:>12} {:>8} {:>6} {:>6} {:>12} {:>10} {:>12} {:>12}  {}\n", "account",
                  "cash", "position", "buys", "sells", "equity", "margin", "E_L", "E_H", "status");
  for (std::uint32_t i = 0; i < ex.account_count(); ++i) {
    Account a = *ex.account(AccountId{i});
    i128 equity = static_cast<i128>(a.cash.value()) +
                  static_cast<i128>(a.position) * b.reference.value() * s.tick_value.value();
    std::int64_t margin = b.margin.value() * (a.position < 0 ? -a.position : a.position);
    Solvency sv = evaluate_solvency(a, b, s);
    auto cash128 = [&](i128 x) {
      return sv.e_low.overflowed() || sv.e_high.overflowed()
                 ? std::string("overflow")
                 : s.format_cash(Cash(static_cast<std::int64_t>(x)));
    };
    std::string status(status_text(a.status));
    if (a.status == AccountStatus::kActive && !a.refreshed) status += ", must refresh";
    if (i == 0) status = "insurance fund";
    out += fmt::format("{:<10} {:>12} {:>8} {:>6} {:>6} {:>12} {:>10} {:>12} {:>12}  {}\n",
                       name_of(names, AccountId{i}), s.format_cash(a.cash), a.position,
                       a.open_buy.value(), a.open_sell.value(), cash128(equity),
                       s.format_cash(Cash(margin)), cash128(sv.e_low.value()),
                       cash128(sv.e_high.value()), status);
  }
  return out;
}

std::string outcome_json(const Exchange& ex, const Names& names) {
  return outcome_json(ex, ex.events(), names);
}

std::string outcome_json(const Exchange& ex, std::span<const Event> events, const Names& names) {
  using nlohmann::json;
  const ContractSpec& s = ex.spec();
  json out;
  out["contract"] = s.name;
  out["epoch"] = ex.epoch();
  out["phase"] = phase_name(ex.phase());
  out["ledger_time_ms"] = ex.time().value();
  out["band"] = {{"reference", s.format_price(ex.band().reference)},
                 {"low", s.format_price(ex.band().low)},
                 {"high", s.format_price(ex.band().high)},
                 {"margin", s.format_cash(ex.band().margin)}};
  json accounts = json::array();
  for (std::uint32_t i = 0; i < ex.account_count(); ++i) {
    Account a = *ex.account(AccountId{i});
    accounts.push_back({{"name", name_of(names, AccountId{i})},
                        {"cash", s.format_cash(a.cash)},
                        {"position", a.position},
                        {"open_buy", a.open_buy.value()},
                        {"open_sell", a.open_sell.value()},
                        {"status", status_text(a.status)}});
  }
  out["accounts"] = accounts;
  json book = json::object();
  for (Side side : {Side::kBuy, Side::kSell}) {
    json orders = json::array();
    ex.book().for_each(side, [&](const OrderBook::Order& o) {
      orders.push_back(
          {{"id", o.id.value}, {"price", s.format_price(o.limit)}, {"qty", o.open.value()}});
    });
    book[side == Side::kBuy ? "bids" : "asks"] = orders;
  }
  out["book"] = book;
  json trades = json::array();
  for (const Event& e : events) {
    if (const auto* t = std::get_if<Trade>(&e.body)) {
      trades.push_back({{"seq", t->seq},
                        {"time_ms", e.time.value()},
                        {"price", s.format_price(t->price)},
                        {"qty", t->qty.value()},
                        {"maker", t->maker.value},
                        {"taker", t->taker.value},
                        {"liquidation", t->liquidation}});
    }
  }
  out["trades"] = trades;
  out["state_hash"] = to_hex(ex.state_hash());
  return out.dump(2);
}

}  // namespace pfex::sim
