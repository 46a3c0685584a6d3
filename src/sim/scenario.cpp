#include "sim/scenario.hpp"

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "market/names.hpp"

namespace pfex::sim {
namespace {

using market::ContractSpec;
using nlohmann::json;

// A reader over one JSON object that rejects unknown keys, so a typo is an error, not a no-op.
class Fields {
 public:
  Fields(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  bool has(const std::string& key) const { return obj_.contains(key); }

  Result<std::string> str(const std::string& key) {
    seen_.insert(key);
    const json* v = find(key);
    if (!v || !v->is_string()) return bad(key, "must be a string");
    return v->get<std::string>();
  }
  Result<std::int64_t> integer(const std::string& key) {
    seen_.insert(key);
    const json* v = find(key);
    if (!v || !v->is_number_integer()) return bad(key, "must be an integer");
    return v->get<std::int64_t>();
  }
  Result<bool> boolean(const std::string& key) {
    seen_.insert(key);
    const json* v = find(key);
    if (!v || !v->is_boolean()) return bad(key, "must be true or false");
    return v->get<bool>();
  }
  // Seconds as a JSON number (fractions down to milliseconds) -> milliseconds.
  Result<std::int64_t> seconds_ms(const std::string& key) {
    seen_.insert(key);
    const json* v = find(key);
    if (!v || !v->is_number() || v->get<double>() < 0 || v->get<double>() > 1e12) {
      return bad(key, "must be a number of seconds >= 0");
    }
    if (v->is_number_integer()) return v->get<std::int64_t>() * kMillisPerSecond;
    double ms = v->get<double>() * 1000.0;
    std::int64_t whole = std::llround(ms);
    if (std::abs(ms - static_cast<double>(whole)) > 1e-6)
      return bad(key, "has sub-millisecond part");
    return whole;
  }
  Result<Price> price(const std::string& key, const ContractSpec& spec) {
    PFEX_ASSIGN_OR_RETURN(std::string text, str(key));
    Result<Price> p = spec.parse_price(text);
    if (!p.is_ok()) return p.status().with_context(where_);
    return p;
  }
  Result<Cash> cash(const std::string& key, const ContractSpec& spec) {
    Result<std::string> read = str(key);
    if (!read.is_ok()) return read.status();
    const std::string& text = read.value();
    bool negative = !text.empty() && text[0] == '-';
    Result<Cash> c = spec.parse_cash(negative ? text.substr(1) : text);
    if (!c.is_ok()) return c.status().with_context(where_);
    return negative ? Cash(-c->value()) : *c;
  }
  [[nodiscard]] Status finish() const {
    for (const auto& [key, value] : obj_.items()) {
      if (!seen_.count(key)) {
        return Status::invalid_argument(where_ + ": unknown field \"" + key + "\"");
      }
    }
    return Status::ok();
  }
  Status bad(const std::string& key, const std::string& why) const {
    return Status::invalid_argument(where_ + ": \"" + key + "\" " + why);
  }

 private:
  const json* find(const std::string& key) const {
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }
  const json& obj_;
  std::string where_;
  std::set<std::string> seen_;
};

template <class T, class F>
Status optional_field(Fields& f, const std::string& key, std::optional<T>& out, F&& read) {
  if (!f.has(key)) return Status::ok();
  auto r = read(key);
  if (!r.is_ok()) return r.status();
  out = T(*r);
  return Status::ok();
}

Result<ContractSpec> parse_contract(const json& j) {
  if (j.is_string()) return market::contract_preset(j.get<std::string>());
  if (!j.is_object()) return Status::invalid_argument("contract: a preset name or an object");
  Fields f(j, "contract");
  PFEX_ASSIGN_OR_RETURN(std::string preset, f.str("preset"));
  PFEX_ASSIGN_OR_RETURN(ContractSpec s, market::contract_preset(preset));
  auto ppm = [&](const char* key, std::int64_t& out) -> Status {
    if (!f.has(key)) return Status::ok();
    PFEX_ASSIGN_OR_RETURN(out, f.integer(key));
    return Status::ok();
  };
  auto ms = [&](const char* key, std::int64_t& out) -> Status {
    if (!f.has(key)) return Status::ok();
    PFEX_ASSIGN_OR_RETURN(out, f.seconds_ms(key));
    return Status::ok();
  };
  auto money = [&](const char* key, Cash& out) -> Status {
    if (!f.has(key)) return Status::ok();
    PFEX_ASSIGN_OR_RETURN(out, f.cash(key, s));
    return Status::ok();
  };
  std::int64_t breaker_qty = s.breaker_qty.value();
  std::int64_t max_qty = s.max_order_qty.value();
  for (const Status& st :
       {ppm("band_ppm", s.band_ppm), ppm("margin_ppm", s.margin_ppm), ppm("widen_ppm", s.widen_ppm),
        ppm("protection_ticks", s.protection_ticks), ppm("breaker_qty", breaker_qty),
        ppm("max_order_qty", max_qty), ms("breaker_window_s", s.breaker_window_ms),
        ms("vwap_window_s", s.vwap_window_ms), ms("refresh_window_s", s.refresh_window_ms),
        ms("settlement_interval_s", s.settlement_interval_ms),
        ms("exit_period_s", s.exit_period_ms), ms("resolution_s", s.resolution_ms),
        money("tick_value", s.tick_value), money("fee", s.fee_per_contract), money("bond", s.bond),
        money("liquidation_penalty", s.liquidation_penalty_per_contract)}) {
    PFEX_RETURN_IF_ERROR(st);
  }
  s.breaker_qty = Qty(breaker_qty);
  s.max_order_qty = Qty(max_qty);
  PFEX_RETURN_IF_ERROR(f.finish());
  PFEX_RETURN_IF_ERROR(s.validate());
  return s;
}

Status parse_expectation(Fields& f, const ContractSpec& spec, Expectation& e) {
  auto price = [&](const std::string& k) { return f.price(k, spec); };
  auto cash = [&](const std::string& k) { return f.cash(k, spec); };
  auto integer = [&](const std::string& k) { return f.integer(k); };
  auto str = [&](const std::string& k) { return f.str(k); };
  for (const Status& st : {
           optional_field(f, "phase", e.phase, str),
           optional_field(f, "epoch", e.epoch, integer),
           optional_field(f, "reference", e.reference, price),
           optional_field(f, "band_low", e.band_low, price),
           optional_field(f, "band_high", e.band_high, price),
           optional_field(f, "margin", e.margin, cash),
           optional_field(f, "best_bid", e.best_bid, price),
           optional_field(f, "best_ask", e.best_ask, price),
           optional_field(f, "last_price", e.last_price, price),
           optional_field(f, "trades", e.trades, integer),
           optional_field(f, "fund_cash", e.fund_cash, cash),
           optional_field(f, "fund_position", e.fund_position, integer),
           optional_field(f, "cash", e.cash, cash),
           optional_field(f, "position", e.position, integer),
           optional_field(f, "status", e.status, str),
           optional_field(f, "refreshed", e.refreshed,
                          [&](const std::string& k) { return f.boolean(k); }),
           optional_field(f, "open_buy", e.open_buy, integer),
           optional_field(f, "open_sell", e.open_sell, integer),
           optional_field(f, "margin_call", e.margin_call, cash),
       }) {
    PFEX_RETURN_IF_ERROR(st);
  }
  // A misspelt name would otherwise only fail the comparison when the step runs.
  if (e.phase && !market::parse_phase(*e.phase)) {
    return f.bad("phase", "must be one of " + market::phase_names());
  }
  if (e.status && !market::parse_account_status(*e.status)) {
    return f.bad("status", "must be one of " + market::account_status_names());
  }
  return Status::ok();
}

Result<Step> parse_step(const json& j, std::size_t index, const ContractSpec& spec,
                        const std::set<std::string>& traders) {
  if (!j.is_object())
    return Status::invalid_argument("step " + std::to_string(index) + ": not an object");
  std::string action =
      j.contains("action") && j["action"].is_string() ? j["action"].get<std::string>() : "?";
  Fields f(j, "step " + std::to_string(index) + " (" + action + ")");
  Step s;
  s.index = index;
  PFEX_ASSIGN_OR_RETURN(s.action, f.str("action"));
  if (f.has("at")) {
    PFEX_ASSIGN_OR_RETURN(s.at_ms, f.seconds_ms("at"));
  }
  if (f.has("note")) {
    PFEX_ASSIGN_OR_RETURN(s.note, f.str("note"));
  }
  if (f.has("expect_error")) {
    PFEX_ASSIGN_OR_RETURN(s.expect_error, f.str("expect_error"));
  }
  if (f.has("trader")) {
    PFEX_ASSIGN_OR_RETURN(s.trader, f.str("trader"));
    if (!traders.count(s.trader)) return f.bad("trader", "names no trader of the scenario");
  }
  const std::set<std::string> needs_trader = {"buy",    "sell",    "cancel",   "replace",
                                              "reduce", "deposit", "withdraw", "refresh",
                                              "exit",   "online"};
  if (needs_trader.count(s.action) && s.trader.empty()) return f.bad("trader", "is required");
  if (s.action == "buy" || s.action == "sell" || s.action == "replace") {
    s.request.side = s.action == "sell" ? market::Side::kSell : market::Side::kBuy;
    if (s.action == "replace") {
      PFEX_ASSIGN_OR_RETURN(std::string side, f.str("side"));
      Result<market::Side> parsed = market::parse_side(side);
      if (!parsed) return f.bad("side", "must be " + market::side_names());
      s.request.side = *parsed;
      PFEX_ASSIGN_OR_RETURN(s.order, f.str("order"));
    }
    std::string type = "limit";
    if (f.has("type")) {
      PFEX_ASSIGN_OR_RETURN(type, f.str("type"));
    }
    PFEX_ASSIGN_OR_RETURN(s.request.type, market::parse_order_type(type));
    if (f.has("price")) {
      PFEX_ASSIGN_OR_RETURN(s.request.limit, f.price("price", spec));
    }
    PFEX_ASSIGN_OR_RETURN(std::int64_t qty, f.integer("qty"));
    s.request.qty = Qty(qty);
    if (f.has("label")) {
      PFEX_ASSIGN_OR_RETURN(s.label, f.str("label"));
    }
  } else if (s.action == "cancel") {
    PFEX_ASSIGN_OR_RETURN(s.order, f.str("order"));
  } else if (s.action == "reduce") {
    PFEX_ASSIGN_OR_RETURN(s.order, f.str("order"));
    PFEX_ASSIGN_OR_RETURN(std::int64_t by, f.integer("qty"));
    s.request.qty = Qty(by);
  } else if (s.action == "deposit" || s.action == "withdraw") {
    PFEX_ASSIGN_OR_RETURN(s.amount, f.cash("amount", spec));
  } else if (s.action == "refresh") {
    if (f.has("amount")) {
      PFEX_ASSIGN_OR_RETURN(s.amount, f.cash("amount", spec));
    }
  } else if (s.action == "online") {
    PFEX_ASSIGN_OR_RETURN(s.flag, f.boolean("value"));
  } else if (s.action == "settle") {
    PFEX_ASSIGN_OR_RETURN(s.price, f.price("price", spec));
  } else if (s.action == "expect") {
    PFEX_RETURN_IF_ERROR(parse_expectation(f, spec, s.expect));
  } else if (s.action != "exit" && s.action != "advance" && s.action != "show" &&
             s.action != "note") {
    return Status::invalid_argument(
        "step " + std::to_string(index) + ": unknown action \"" + s.action +
        "\" (buy, sell, cancel, replace, deposit, withdraw, refresh, exit, online, advance, "
        "settle, expect, show, note)");
  }
  PFEX_RETURN_IF_ERROR(f.finish());
  return s;
}

}  // namespace

Result<Scenario> parse_scenario(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid_argument("scenario is not valid JSON");
  if (!j.is_object()) return Status::invalid_argument("scenario must be a JSON object");
  Fields f(j, "scenario");
  Scenario sc;
  PFEX_ASSIGN_OR_RETURN(sc.name, f.str("name"));
  if (f.has("description")) {
    PFEX_ASSIGN_OR_RETURN(sc.description, f.str("description"));
  }
  if (!j.contains("contract"))
    return Status::invalid_argument("scenario: \"contract\" is required");
  (void)f.has("contract");
  PFEX_ASSIGN_OR_RETURN(sc.contract, parse_contract(j["contract"]));
  PFEX_RETURN_IF_ERROR(sc.contract.validate());
  PFEX_ASSIGN_OR_RETURN(sc.reference, f.price("reference_price", sc.contract));
  std::set<std::string> names;
  if (!j.contains("traders") || !j["traders"].is_array()) {
    return Status::invalid_argument("scenario: \"traders\" must be an array");
  }
  for (std::size_t i = 0; i < j["traders"].size(); ++i) {
    Fields t(j["traders"][i], "trader " + std::to_string(i));
    Trader tr;
    PFEX_ASSIGN_OR_RETURN(tr.name, t.str("name"));
    if (tr.name == "fund" || !names.insert(tr.name).second) {
      return t.bad("name", "must be unique and not \"fund\"");
    }
    if (t.has("deposit")) {
      PFEX_ASSIGN_OR_RETURN(tr.deposit, t.cash("deposit", sc.contract));
    }
    if (t.has("online")) {
      PFEX_ASSIGN_OR_RETURN(tr.online, t.boolean("online"));
    }
    PFEX_RETURN_IF_ERROR(t.finish());
    sc.traders.push_back(tr);
  }
  if (!j.contains("steps") || !j["steps"].is_array()) {
    return Status::invalid_argument("scenario: \"steps\" must be an array");
  }
  std::int64_t last = 0;
  for (std::size_t i = 0; i < j["steps"].size(); ++i) {
    PFEX_ASSIGN_OR_RETURN(Step s, parse_step(j["steps"][i], i, sc.contract, names));
    if (!j["steps"][i].contains("at")) s.at_ms = last;
    if (s.at_ms < last) {
      return Status::invalid_argument("step " + std::to_string(i) + ": \"at\" goes back in time");
    }
    last = s.at_ms;
    sc.steps.push_back(std::move(s));
  }
  for (const auto& [key, value] : j.items()) {
    static const std::set<std::string> known = {
        "name", "description", "contract", "reference_price", "traders", "steps"};
    if (!known.count(key))
      return Status::invalid_argument("scenario: unknown field \"" + key + "\"");
  }
  return sc;
}

Result<Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found("cannot open scenario file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  Result<Scenario> sc = parse_scenario(ss.str());
  if (!sc.is_ok()) return sc.status().with_context(path);
  return sc;
}

namespace {

class Runner {
 public:
  Runner(const Scenario& sc, Venue& venue) : sc_(sc), venue_(venue) {}

  Status setup() {
    for (const Trader& t : sc_.traders) {
      Result<market::AccountId> id = venue_.add_trader(t);
      if (!id.is_ok()) return id.status().with_context(t.name);
      ids_[t.name] = *id;
      names_.push_back(t.name);
    }
    return Status::ok();
  }

  void step(const Step& s, const ScenarioObserver& obs) {
    if (obs.before_step) obs.before_step(s);
    std::size_t first_event = venue_.events().size();
    Status outcome = perform(s);
    std::string where = "step " + std::to_string(s.index) + " (" + s.action +
                        (s.trader.empty() ? "" : " " + s.trader) + ")";
    if (s.expect_error) {
      if (outcome.is_ok()) {
        fail(where + ": expected a " + *s.expect_error + " error, but it succeeded");
      } else if (error_code_name(outcome.code()) != *s.expect_error) {
        fail(where + ": expected a " + *s.expect_error + " error, got " + outcome.to_string());
      }
    } else if (!outcome.is_ok()) {
      fail(where + ": " + outcome.to_string());
    }
    ++steps_run_;
    if (obs.after_step) {
      auto events = venue_.events().subspan(first_event);
      obs.after_step(s, ex(), events, names_, outcome);
    }
  }

  ScenarioRun take() {
    return ScenarioRun{ex(), std::move(names_), std::move(failures_), steps_run_};
  }

 private:
  const market::Exchange& ex() const { return venue_.exchange(); }
  void fail(std::string msg) { failures_.push_back(std::move(msg)); }

  Result<market::OrderId> order_of(const Step& s) {
    auto it = labels_.find(*s.order);
    if (it == labels_.end()) return Status::not_found("no order labelled \"" + *s.order + "\"");
    return it->second;
  }

  // The step as a market action (every step but `online`, which is not one).
  Result<market::Action> action_of(const Step& s, market::AccountId who) {
    using market::Action;
    if (s.action == "buy" || s.action == "sell")
      return Action(market::SubmitAction{who, s.request});
    if (s.action == "replace") {
      PFEX_ASSIGN_OR_RETURN(market::OrderId old, order_of(s));
      return Action(market::ReplaceAction{who, old, s.request});
    }
    if (s.action == "cancel") {
      PFEX_ASSIGN_OR_RETURN(market::OrderId id, order_of(s));
      return Action(market::CancelAction{who, id});
    }
    if (s.action == "reduce") {
      PFEX_ASSIGN_OR_RETURN(market::OrderId id, order_of(s));
      return Action(market::ReduceAction{who, id, s.request.qty});
    }
    if (s.action == "deposit") return Action(market::DepositAction{who, s.amount});
    if (s.action == "withdraw") return Action(market::WithdrawAction{who, s.amount});
    if (s.action == "refresh") return Action(market::RefreshAction{who, s.amount});
    if (s.action == "exit") return Action(market::ExitAction{who});
    if (s.action == "settle") return Action(market::SettleFinalAction{s.price});
    return Action(market::AdvanceAction{});  // advance, show, note, expect: time passes
  }

  Status perform(const Step& s) {
    market::AccountId who{};
    if (!s.trader.empty()) who = ids_.at(s.trader);
    if (s.action == "online") return venue_.set_online(who, s.flag);
    PFEX_ASSIGN_OR_RETURN(market::Action action, action_of(s, who));
    Result<market::ActionResult> r = venue_.apply(LedgerTime(s.at_ms), action);
    if (r.is_ok() && s.label && r->order) labels_[*s.label] = r->order->id;
    if (s.action == "expect") check(s);
    return r.status();
  }

  template <class T, class U>
  void compare(const Step& s, const char* what, const std::optional<T>& want, const U& got,
               auto&& show) {
    if (want && !(*want == got)) {
      fail("step " + std::to_string(s.index) + ": " + (s.trader.empty() ? "" : s.trader + " ") +
           what + " is " + show(got) + ", expected " + show(*want));
    }
  }

  void check(const Step& s) {
    const Expectation& e = s.expect;
    const market::ContractSpec& spec = sc_.contract;
    auto price = [&](Price p) { return spec.format_price(p); };
    auto cash = [&](Cash c) { return spec.format_cash(c); };
    auto num = [](auto x) { return std::to_string(x); };
    auto text = [](const std::string& x) { return x; };
    auto qty = [](Qty q) { return std::to_string(q.value()); };
    auto yesno = [](bool b) { return std::string(b ? "true" : "false"); };
    const market::Exchange& x = ex();
    compare(s, "phase", e.phase, std::string(market::phase_name(x.phase())), text);
    compare(s, "epoch", e.epoch, x.epoch(), num);
    compare(s, "reference price", e.reference, x.band().reference, price);
    compare(s, "band low", e.band_low, x.band().low, price);
    compare(s, "band high", e.band_high, x.band().high, price);
    compare(s, "margin per contract", e.margin, x.band().margin, cash);
    compare(s, "best bid", e.best_bid, x.book().best(market::Side::kBuy).value_or(Price(0)), price);
    compare(s, "best ask", e.best_ask, x.book().best(market::Side::kSell).value_or(Price(0)),
            price);
    compare(s, "last price", e.last_price, x.last_trade_price().value_or(Price(0)), price);
    compare(s, "trade count", e.trades, x.trade_count(), num);
    compare(s, "fund cash", e.fund_cash, x.fund().cash, cash);
    compare(s, "fund position", e.fund_position, x.fund().position, num);
    if (s.trader.empty()) return;
    market::AccountId id = ids_.at(s.trader);
    market::Account a = *x.account(id);
    compare(s, "cash", e.cash, a.cash, cash);
    compare(s, "position", e.position, a.position, num);
    compare(s, "status", e.status, std::string(market::account_status_name(a.status)), text);
    compare(s, "refreshed", e.refreshed, a.refreshed, yesno);
    compare(s, "open buy", e.open_buy, a.open_buy, qty);
    compare(s, "open sell", e.open_sell, a.open_sell, qty);
    if (e.margin_call) {
      std::optional<Cash> last;
      for (const market::Event& ev : venue_.events()) {
        if (const auto* m = std::get_if<market::MarginCall>(&ev.body); m && m->account == id) {
          last = m->amount;
        }
      }
      if (!last) {
        fail("step " + std::to_string(s.index) + ": " + s.trader + " got no margin call");
      } else {
        compare(s, "margin call", e.margin_call, *last, cash);
      }
    }
  }

  const Scenario& sc_;
  Venue& venue_;
  std::vector<std::string> names_{"fund"};
  std::vector<std::string> failures_;
  std::size_t steps_run_ = 0;
  std::map<std::string, market::AccountId> ids_;
  std::map<std::string, market::OrderId> labels_;
};

}  // namespace

Result<market::AccountId> ExchangeVenue::add_trader(const Trader& t) {
  PFEX_ASSIGN_OR_RETURN(market::ActionResult r, run(LedgerTime(0), market::RegisterAction{}));
  const market::AccountId id = *r.account;
  if (t.deposit.value() > 0) {
    PFEX_RETURN_IF_ERROR(run(LedgerTime(0), market::DepositAction{id, t.deposit}).status());
  }
  online_[id.value] = t.online;
  return id;
}

Result<market::ActionResult> ExchangeVenue::apply(LedgerTime now, const market::Action& action) {
  Result<market::ActionResult> r = run(now, action);
  refresh_online(exchange_.time());
  return r;
}

Status ExchangeVenue::set_online(market::AccountId account, bool online) {
  auto it = online_.find(account.value);
  if (it == online_.end()) {
    return Status::not_found("no trader for account " + std::to_string(account.value));
  }
  it->second = online;
  refresh_online(exchange_.time());
  return Status::ok();
}

Result<market::ActionResult> ExchangeVenue::run(LedgerTime now, const market::Action& action) {
  return market::apply_action(exchange_, now, action);
}

void ExchangeVenue::refresh_online(LedgerTime now) {
  if (exchange_.phase() != market::Phase::kRefreshWindow) return;
  for (const auto& [id, online] : online_) {
    Result<market::Account> a = exchange_.account(market::AccountId{id});
    if (!online || !a.is_ok() || a->status != market::AccountStatus::kActive || a->refreshed) {
      continue;
    }
    // Short of margin: the call stands until the owner's deposit.
    (void)run(now, market::RefreshAction{market::AccountId{id}, Cash(0)});
  }
}

Result<ScenarioRun> run_scenario(const Scenario& sc, Venue& venue,
                                 const ScenarioObserver& observer) {
  Runner runner(sc, venue);
  PFEX_RETURN_IF_ERROR(runner.setup());
  for (const Step& s : sc.steps)
    runner.step(s, observer);
  return runner.take();
}

Result<ScenarioRun> run_scenario(const Scenario& sc, const ScenarioObserver& observer) {
  PFEX_ASSIGN_OR_RETURN(market::Exchange ex,
                        market::Exchange::open(sc.contract, sc.reference, LedgerTime(0)));
  ExchangeVenue venue(std::move(ex));
  return run_scenario(sc, venue, observer);
}

}  // namespace pfex::sim
