// The transparent reference run and the private flow driver; see flow_driver.hpp.
#include "flow/flow_driver.hpp"

#include <algorithm>
#include <sstream>
#include <type_traits>
#include <utility>
#include <variant>

#include "protocol/transaction.hpp"

namespace pfex::flow {
namespace {

using market::AccountId;
using market::OrderId;
using market::OrderType;

priv::Side private_side(market::Side s) {
  return s == market::Side::kBuy ? priv::Side::kBuy : priv::Side::kSell;
}

market::Side public_side(priv::Side s) {
  return s == priv::Side::kBuy ? market::Side::kBuy : market::Side::kSell;
}

priv::OrderKind private_kind(OrderType t) {
  switch (t) {
    case OrderType::kLimit:
      return priv::OrderKind::kLimit;
    case OrderType::kImmediateOrCancel:
      return priv::OrderKind::kIoc;
    case OrderType::kFillOrKill:
      return priv::OrderKind::kFok;
    case OrderType::kPostOnly:
      return priv::OrderKind::kPostOnly;
    case OrderType::kMarket:
      return priv::OrderKind::kMarket;
  }
  return priv::OrderKind::kLimit;
}

// Bids best first, then asks best first; oldest (lowest id) first within a level.
void sort_book(std::vector<BookOrder>& book) {
  std::sort(book.begin(), book.end(), [](const BookOrder& a, const BookOrder& b) {
    if (a.side != b.side) return a.side == market::Side::kBuy;
    if (a.price != b.price) {
      return a.side == market::Side::kBuy ? a.price > b.price : a.price < b.price;
    }
    return a.id < b.id;
  });
}

// The fixed validators' key of a driven market: x*G for x = 0x5eed. The driver decrypts nothing.
crypto::Point driver_validators_key() {
  return crypto::Point::mul_base(crypto::Scalar::from_u64(0x5eed));
}

}  // namespace

std::string describe(const FlowOutcome& o) {
  std::ostringstream s;
  s << "epoch " << o.epoch << " band [" << o.band_low.value() << ", " << o.band_high.value()
    << "]\n";
  for (const Holding& h : o.holdings) {
    s << "  account " << h.account.value << ": cash " << h.cash.value() << " position "
      << h.position << (h.defaulted ? " (defaulted)" : "");
    if (h.exit_claim) s << " exited with " << h.exit_claim->value();
    s << "\n";
  }
  s << "  fund: cash " << o.fund_cash.value() << " position " << o.fund_position << "\n";
  s << "  book:";
  for (const BookOrder& b : o.book)
    s << " #" << b.id.value << (b.side == market::Side::kBuy ? " buy " : " sell ") << b.open.value()
      << "@" << b.price.value() << ";";
  s << "\n  fills:";
  for (const OrderFill& f : o.fills)
    s << " #" << f.order.value << " " << f.qty.value() << "@" << f.price.value() << ";";
  s << "\n";
  return s.str();
}

FlowOutcome transparent_outcome(const market::Exchange& ex, std::span<const market::Event> events) {
  FlowOutcome out;
  for (std::size_t i = 1; i < ex.account_count(); ++i) {
    const AccountId id{static_cast<std::uint32_t>(i)};
    const market::Account a = *ex.account(id);
    out.holdings.push_back(
        Holding{id, a.cash, a.position, a.status != market::AccountStatus::kActive, std::nullopt});
  }
  for (market::Side side : {market::Side::kBuy, market::Side::kSell}) {
    ex.book().for_each(side, [&](const auto& o) {
      out.book.push_back(BookOrder{o.id, o.side, o.limit, o.open});
    });
  }
  sort_book(out.book);
  for (const market::Event& e : events) {
    if (const auto* d = std::get_if<market::Defaulted>(&e.body)) {
      Holding& h = out.holdings.at(d->account.value - 1);
      h.cash = d->cash;
      h.position = d->position;
    }
    if (const auto* x = std::get_if<market::Exited>(&e.body))
      out.holdings.at(x->account.value - 1).exit_claim = x->claim;
    if (const auto* t = std::get_if<market::Trade>(&e.body)) {
      out.fills.push_back(OrderFill{t->maker, t->price, t->qty});
      out.fills.push_back(OrderFill{t->taker, t->price, t->qty});
    }
  }
  std::stable_sort(out.fills.begin(), out.fills.end(),
                   [](const OrderFill& a, const OrderFill& b) { return a.order < b.order; });
  out.epoch = ex.epoch();
  out.band_low = ex.band().low;
  out.band_high = ex.band().high;
  out.fund_cash = ex.fund().cash;
  out.fund_position = ex.fund().position;
  return out;
}

Result<FlowOutcome> run_transparent(const market::ContractSpec& contract, Price reference,
                                    std::span<const TimedAction> flow,
                                    std::vector<Status>* results) {
  PFEX_ASSIGN_OR_RETURN(market::Exchange ex,
                        market::Exchange::open(contract, reference, LedgerTime(0)));
  for (const TimedAction& a : flow) {
    Result<market::ActionResult> r = market::apply_action(ex, a.at, a.action);
    if (results) results->push_back(r.status());
  }
  return transparent_outcome(ex, ex.events());
}

// ---- the private run ----

struct FlowDriver::Trader {
  explicit Trader(const priv::PrivateGens& gens) : wallet(gens) {}
  priv::PrivateWallet wallet;
};

FlowDriver::~FlowDriver() = default;

Bytes genesis_entry(const market::ContractSpec& contract, Price reference,
                    const FlowDriverOptions& options) {
  return protocol::encode_entry(protocol::Genesis(
      contract, reference, options.issuer->public_key(),
      protocol::PrivateGenesisTerms{options.log_window,
                                    options.validators_key.value_or(driver_validators_key())}));
}

Result<FlowDriver> FlowDriver::open(const market::ContractSpec& contract, Price reference,
                                    FlowDriverOptions options) {
  FlowDriver d;
  d.contract_ = contract;
  d.gens_ = options.gens ? options.gens : std::make_shared<const priv::PrivateGens>();
  d.link_ = options.link;
  if (!d.link_) d.replica_ = std::make_unique<protocol::LedgerReplica>(d.gens_);
  if (!options.issuer) {
    options.issuer =
        std::make_shared<const crypto::Ed25519SigningKey>(crypto::Ed25519SigningKey::generate());
  }
  d.issuer_ = options.issuer;
  const Bytes genesis = genesis_entry(contract, reference, options);
  protocol::EntryOutcome out;
  if (d.link_) {
    PFEX_ASSIGN_OR_RETURN(out, d.link_->append(genesis, LedgerTime(0)));
  } else {
    PFEX_ASSIGN_OR_RETURN(out, d.replica_->apply(protocol::LedgerEntry{1, LedgerTime(0), genesis}));
  }
  d.log_.push_back(protocol::LedgerEntry{out.sequence, LedgerTime(0), genesis});
  if (!out.accepted) return Status::invalid_argument("genesis refused: " + out.reason.to_string());
  if (d.replica().private_ledger() == nullptr) {
    return Status::invalid_argument("the log opened no private market");
  }
  return d;
}

void FlowDriver::install_stand_in() {
  if (!replica_) return;
  replica_->set_resolution_stand_in(
      [this](std::uint32_t epoch) -> std::optional<protocol::DefaultsResolution> {
        return stand_in_resolution(epoch);
      });
}

const priv::PrivateWallet* FlowDriver::wallet(AccountId account) const {
  if (account.value == 0 || account.value > traders_.size()) return nullptr;
  return &traders_[account.value - 1]->wallet;
}

Result<protocol::EntryOutcome> FlowDriver::append_entry(LedgerTime now, Bytes bytes) {
  protocol::EntryOutcome out;
  if (link_) {
    PFEX_ASSIGN_OR_RETURN(out, link_->append(bytes, now));
  } else {
    PFEX_ASSIGN_OR_RETURN(
        out, replica_->apply(protocol::LedgerEntry{replica_->next_sequence(), now, bytes}));
  }
  log_.push_back(protocol::LedgerEntry{out.sequence, now, std::move(bytes)});
  adopt_fund_orders();
  return out;
}

void FlowDriver::adopt_fund_orders() {
  // A window's close inside an entry comes before the entry's own order, as in the transparent
  // exchange, so the fund's order takes its transparent id before the entry's order does.
  for (; orders_seen_ < ledger().order_count(); ++orders_seen_) {
    if (!priv::PrivateLedger::is_fund_order(*ledger().order(orders_seen_))) continue;
    placed_.push_back(orders_seen_);
    public_id_[orders_seen_] = placed_.size();
  }
}

std::pair<std::int64_t, std::int64_t> FlowDriver::defaulter_holding(const Trader& t) const {
  const priv::Attributes& a = t.wallet.attributes();
  std::int64_t cash = a.c;
  std::int64_t position = static_cast<std::int64_t>(a.vp) - static_cast<std::int64_t>(a.vm);
  priv::Deltas d;
  for (std::uint64_t id : t.wallet.open_orders()) {
    const priv::PrivateOrder* o = ledger().order(id);
    std::int64_t qty = 0, value = 0;
    for (std::size_t k = o->claimed; k < o->fills.size(); ++k) {
      qty += o->fills[k].qty;
      value += o->fills[k].price * o->fills[k].qty;
    }
    if (qty > 0) (void)priv::add_claim(d, o->side, o->price, qty, value, ledger().terms());
  }
  return {cash + d.c, position + d.vp - d.vm};
}

// TEST-ONLY: what the validators' threshold decryption recovers (docs/design.md section 6.3),
// computed here from the wallets the driver holds.
protocol::DefaultsResolution FlowDriver::stand_in_resolution(std::uint32_t epoch) const {
  protocol::DefaultsResolution r;
  for (const auto& t : traders_) {
    const auto at = ledger().default_epoch(t->wallet.identity());
    if (!at || *at + 1 != epoch) continue;
    const auto [cash, position] = defaulter_holding(*t);
    r.cash += cash;
    r.position += position;
  }
  if (auto it = gross_.find(epoch); it != gross_.end()) r.gross = it->second;
  return r;
}

Result<protocol::EntryOutcome> FlowDriver::append(LedgerTime now, const priv::PrivateTx& tx) {
  PFEX_ASSIGN_OR_RETURN(protocol::EntryOutcome out,
                        append_entry(now, protocol::encode_entry(protocol::PrivateEntry{tx})));
  if (!out.accepted) {
    rejections_.push_back(out.reason.to_string());
    return out.reason.with_context(std::string(priv::tx_type_name(priv::tx_type(tx))) +
                                   " rejected by the replica");
  }
  return out;
}

template <class Tx>
Result<priv::Applied> FlowDriver::submit(LedgerTime now, Trader& t, Result<Tx> built) {
  if (!built) return built.status();
  PFEX_ASSIGN_OR_RETURN(protocol::EntryOutcome out, append(now, priv::PrivateTx(*built)));
  if (!out.private_result)
    return Status::failed_precondition("an accepted private entry without a result");
  if constexpr (!std::is_same_v<Tx, priv::CancelTx>) {
    PFEX_RETURN_IF_ERROR(t.wallet.confirm(*out.private_result));
  }
  return *out.private_result;
}

Status FlowDriver::mint(LedgerTime now, Trader& t, std::int64_t amount) {
  priv::MintTx tx;
  tx.account = t.wallet.identity();
  tx.amount = amount;
  tx.sequence = issuer_sequence_ + 1;
  const auto signature = issuer_->sign(priv::mint_signed_bytes(*replica().market_id(), tx));
  std::copy(signature.begin(), signature.end(), tx.signature.begin());
  PFEX_ASSIGN_OR_RETURN(protocol::EntryOutcome out, append(now, priv::PrivateTx(tx)));
  (void)out;
  ++issuer_sequence_;
  t.wallet.on_mint(static_cast<std::uint64_t>(amount));
  return Status::ok();
}

std::size_t FlowDriver::unsettled(const Trader& t) const {
  std::size_t n = 0;
  for (std::uint64_t id : t.wallet.open_orders()) {
    const priv::PrivateOrder* o = ledger().order(id);
    if (o != nullptr && (o->claimed < o->fills.size() || (o->closed && !o->released))) ++n;
  }
  return n;
}

Status FlowDriver::settle_down_to(LedgerTime now, Trader& t, std::size_t room) {
  while (unsettled(t) > room) {
    PFEX_ASSIGN_OR_RETURN(priv::Applied a, submit(now, t, t.wallet.build_settle(ledger())));
    (void)a;
    ++settles_;
  }
  return Status::ok();
}

Status FlowDriver::settle_all(LedgerTime now) {
  install_stand_in();
  for (auto& t : traders_) {
    if (ledger().defaulted(t->wallet.identity())) continue;
    PFEX_RETURN_IF_ERROR(settle_down_to(now, *t, 0));
  }
  return Status::ok();
}

Result<FlowDriver::Trader*> FlowDriver::trader(AccountId account) {
  if (account.value == 0 || account.value > traders_.size()) {
    return Status::not_found("unknown account " + std::to_string(account.value));
  }
  return traders_[account.value - 1].get();
}

Result<std::uint64_t> FlowDriver::private_order(OrderId order) const {
  if (order.value == 0 || order.value > placed_.size()) {
    return Status::not_found("unknown order #" + std::to_string(order.value));
  }
  return placed_[order.value - 1];
}

Result<FlowDriver::OpenOrder> FlowDriver::open_order(OrderId order) const {
  PFEX_ASSIGN_OR_RETURN(std::uint64_t id, private_order(order));
  const priv::PrivateOrder* o = ledger().order(id);
  if (o == nullptr || o->closed) {
    return Status::not_found("order #" + std::to_string(order.value) + " is no longer open");
  }
  return OpenOrder{id, o};
}

OrderId FlowDriver::public_order(std::uint64_t private_id) const {
  auto it = public_id_.find(private_id);
  return it == public_id_.end() ? OrderId{0} : OrderId{it->second};
}

market::OrderOutcome FlowDriver::order_outcome(std::uint64_t private_id) const {
  const priv::PrivateOrder* o = ledger().order(private_id);
  market::OrderOutcome out{public_order(private_id), Qty(0), Qty(0)};
  if (o == nullptr) return out;
  out.filled = Qty(o->filled);
  if (!o->closed) out.resting = Qty(o->qty - o->filled);
  return out;
}

Result<market::ActionResult> FlowDriver::place(LedgerTime now, Trader& t,
                                               const market::OrderRequest& r,
                                               std::optional<OrderId> replaced) {
  std::optional<std::uint64_t> old;
  if (replaced) {
    PFEX_ASSIGN_OR_RETURN(std::uint64_t id, private_order(*replaced));
    old = id;
  }
  const priv::PrivateOrder* old_order = old ? ledger().order(*old) : nullptr;
  if (old_order != nullptr && old_order->closed) {
    return Status::not_found("order #" + std::to_string(replaced->value) + " is no longer open");
  }
  // What the wallet's node checks before it proves: the public band (for a market order, its
  // reservation price's).
  if (r.type != OrderType::kMarket && !r.limit) {
    return Status::invalid_argument("this order type needs a limit price");
  }
  const Price low(ledger().terms().low);
  const Price high(ledger().terms().high);
  if (r.limit && (*r.limit < low || *r.limit > high)) {
    return Status::invalid_argument("price " + std::to_string(r.limit->value()) +
                                    " is outside the band [" + std::to_string(low.value()) + ", " +
                                    std::to_string(high.value()) + "]");
  }
  std::int64_t price = 0;
  if (r.limit) {
    price = r.limit->value();
  } else {
    // A market order's reservation price when the action names none: the transparent exchange's
    // rule on the public book (the best opposite order other than the replaced one).
    const priv::Side opposite = private_side(market::opposite(r.side));
    std::optional<Price> best;
    for (std::uint64_t id = 0; id < ledger().order_count(); ++id) {
      const priv::PrivateOrder* o = ledger().order(id);
      if (o->closed || o->side != opposite || (old && id == *old)) continue;
      if (!best ||
          (opposite == priv::Side::kSell ? Price(o->price) < *best : Price(o->price) > *best)) {
        best = Price(o->price);
      }
    }
    price = market::market_reservation(contract_, low, high, r.side, best).value();
  }
  PFEX_RETURN_IF_ERROR(settle_down_to(now, t, priv::kMaxSettleEntries));
  Result<priv::SpendTx> built =
      old ? t.wallet.build_cancel_replace(ledger(), *old, private_side(r.side),
                                          private_kind(r.type), price, r.qty.value())
          : t.wallet.build_post(ledger(), private_side(r.side), private_kind(r.type), price,
                                r.qty.value());
  PFEX_ASSIGN_OR_RETURN(priv::Applied a, submit(now, t, std::move(built)));
  if (!a.new_order) return Status::failed_precondition("an accepted order without an order id");
  placed_.push_back(*a.new_order);
  public_id_[*a.new_order] = placed_.size();
  market::ActionResult result;
  result.order = order_outcome(*a.new_order);
  return result;
}

Status FlowDriver::advance(LedgerTime now) {
  // The issuer's signed Advance carries ledger time when nobody else sends anything.
  PFEX_ASSIGN_OR_RETURN(protocol::EntryOutcome out,
                        append_entry(now, protocol::sign_transparent(
                                              *issuer_, *replica().market_id(),
                                              replica().last_sequence_of(issuer_->public_key()) + 1,
                                              market::AdvanceAction{})));
  if (!out.accepted) {
    rejections_.push_back(out.reason.to_string());
    return out.reason.with_context("advance rejected by the replica");
  }
  return Status::ok();
}

Result<market::ActionResult> FlowDriver::apply(LedgerTime now, const market::Action& action) {
  install_stand_in();
  // The transparent exchange acts in the epoch and phase of the action's time. The wallets build
  // against the ledger as it is, so the time (a margin round, a window's close, a breaker's
  // deadline) reaches the market first, by the issuer's Advance.
  if (now > replica().ledger_time() && !std::holds_alternative<market::AdvanceAction>(action)) {
    PFEX_RETURN_IF_ERROR(advance(now));
  }
  return std::visit(
      [&](const auto& a) -> Result<market::ActionResult> {
        using A = std::decay_t<decltype(a)>;
        market::ActionResult result;
        // In a margin round a token of the old epoch may only settle or refresh: what the node
        // checks before it builds anything else.
        if constexpr (std::is_same_v<A, market::WithdrawAction>) {
          // An exited identity's claim is in its cash account already (the fund paid it there):
          // withdrawing it from the market, as the transparent account does, moves nothing.
          if (auto it = exited_cash_.find(a.account.value); it != exited_cash_.end()) {
            if (a.amount.value() <= 0)
              return Status::invalid_argument("withdrawal must be positive");
            if (a.amount.value() > it->second)
              return Status::failed_precondition("account " + std::to_string(a.account.value) +
                                                 " exited with " + std::to_string(it->second) +
                                                 " left to withdraw");
            it->second -= a.amount.value();
            return result;
          }
        }
        if constexpr (std::is_same_v<A, market::DepositAction> ||
                      std::is_same_v<A, market::WithdrawAction> ||
                      std::is_same_v<A, market::SubmitAction> ||
                      std::is_same_v<A, market::ReplaceAction> ||
                      std::is_same_v<A, market::ReduceAction>) {
          PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
          if (ledger().in_refresh_window() && !ledger().refreshed(t->wallet.identity())) {
            return Status::failed_precondition(
                "account " + std::to_string(a.account.value) +
                " has not refreshed in this margin round: its token may only settle or refresh "
                "(a deposit goes with the refresh)");
          }
        }
        if constexpr (std::is_same_v<A, market::RegisterAction>) {
          auto t = std::make_unique<Trader>(*gens_);
          Trader& ref = *t;
          PFEX_ASSIGN_OR_RETURN(
              priv::Applied applied,
              submit(now, ref, ref.wallet.build_register(ledger(), 1, ledger().terms().bond)));
          (void)applied;
          traders_.push_back(std::move(t));
          result.account = AccountId{static_cast<std::uint32_t>(traders_.size())};
        } else if constexpr (std::is_same_v<A, market::DepositAction>) {
          PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
          if (a.amount.value() <= 0) return Status::invalid_argument("deposit must be positive");
          PFEX_RETURN_IF_ERROR(mint(now, *t, a.amount.value()));
          PFEX_RETURN_IF_ERROR(settle_down_to(now, *t, priv::kMaxSettleEntries));
          PFEX_ASSIGN_OR_RETURN(
              priv::Applied applied,
              submit(
                  now, *t,
                  t->wallet.build_deposit(ledger(), static_cast<std::uint64_t>(a.amount.value()))));
          (void)applied;
        } else if constexpr (std::is_same_v<A, market::WithdrawAction>) {
          PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
          if (a.amount.value() <= 0) return Status::invalid_argument("withdrawal must be positive");
          PFEX_RETURN_IF_ERROR(settle_down_to(now, *t, priv::kMaxSettleEntries));
          PFEX_ASSIGN_OR_RETURN(
              priv::Applied applied,
              submit(now, *t,
                     t->wallet.build_withdraw(ledger(),
                                              static_cast<std::uint64_t>(a.amount.value()))));
          (void)applied;
        } else if constexpr (std::is_same_v<A, market::SubmitAction>) {
          PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
          return place(now, *t, a.request, std::nullopt);
        } else if constexpr (std::is_same_v<A, market::ReplaceAction>) {
          PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
          return place(now, *t, a.request, a.order);
        } else if constexpr (std::is_same_v<A, market::ReduceAction>) {
          PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
          PFEX_ASSIGN_OR_RETURN(OpenOrder open, open_order(a.order));
          const std::uint64_t id = open.id;
          const std::int64_t left = open.state->qty - open.state->filled;
          if (a.by.value() < 1 || a.by.value() > left) {
            return Status::invalid_argument("a reduce takes 1 to " + std::to_string(left) +
                                            " contracts off");
          }
          PFEX_RETURN_IF_ERROR(settle_down_to(now, *t, priv::kMaxSettleEntries));
          PFEX_ASSIGN_OR_RETURN(
              priv::Applied applied,
              submit(now, *t, t->wallet.build_reduce(ledger(), id, a.by.value())));
          (void)applied;
          result.order = order_outcome(id);
          result.order->filled = Qty(0);  // what this action filled: a reduce fills nothing
        } else if constexpr (std::is_same_v<A, market::CancelAction>) {
          PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
          PFEX_ASSIGN_OR_RETURN(OpenOrder open, open_order(a.order));
          PFEX_ASSIGN_OR_RETURN(priv::Applied applied,
                                submit(now, *t, t->wallet.build_cancel(ledger(), open.id)));
          (void)applied;
        } else if constexpr (std::is_same_v<A, market::RefreshAction>) {
          // The old epoch's orders closed at the halt: release them (and claim their last fills)
          // with the old token, then refresh it with the deposit paid from the cash account.
          PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
          if (a.deposit.value() < 0) {
            return Status::invalid_argument("a refresh deposit must be >= 0");
          }
          if (!ledger().in_refresh_window()) {
            return Status::failed_precondition("no margin round is open");
          }
          PFEX_RETURN_IF_ERROR(settle_down_to(now, *t, 0));
          if (a.deposit.value() > 0) PFEX_RETURN_IF_ERROR(mint(now, *t, a.deposit.value()));
          PFEX_ASSIGN_OR_RETURN(priv::Applied applied,
                                submit(now, *t,
                                       t->wallet.build_refresh(ledger(), static_cast<std::uint64_t>(
                                                                             a.deposit.value()))));
          (void)applied;
          // g_i = |v| of the refreshed token (the stand-in's part of g_S).
          const priv::Attributes& held = t->wallet.attributes();
          const std::int64_t v =
              static_cast<std::int64_t>(held.vp) - static_cast<std::int64_t>(held.vm);
          gross_[ledger().terms().epoch] += static_cast<std::uint64_t>(v < 0 ? -v : v);
        } else if constexpr (std::is_same_v<A, market::AdvanceAction>) {
          PFEX_RETURN_IF_ERROR(advance(now));
        } else if constexpr (std::is_same_v<A, market::ExitAction>) {
          // What the node checks before it proves; the wallet refuses the rest (still running,
          // nothing to claim) and the ledger an exit twice.
          PFEX_ASSIGN_OR_RETURN(Trader * t, trader(a.account));
          if (!ledger().defaulted(t->wallet.identity())) {
            return Status::failed_precondition("account " + std::to_string(a.account.value) +
                                               " has not defaulted; nothing to exit");
          }
          if (ledger().exited(t->wallet.identity())) {
            return Status::failed_precondition("account " + std::to_string(a.account.value) +
                                               " already exited");
          }
          Result<priv::ExitTx> built = t->wallet.build_exit(ledger());
          if (!built) return built.status();
          const std::int64_t claim = built->exit.claim;
          const auto basis = defaulter_holding(*t);
          PFEX_ASSIGN_OR_RETURN(priv::Applied applied, submit(now, *t, std::move(built)));
          (void)applied;
          claims_[a.account.value] = claim;
          exited_cash_[a.account.value] = claim;
          exit_basis_[a.account.value] = basis;
          result.claim = Cash(claim);
        } else {
          return Status::failed_precondition(
              "the private flow driver does not carry this action yet (final settlement)");
        }
        return result;
      },
      action);
}

FlowOutcome FlowDriver::outcome() const {
  FlowOutcome out;
  for (std::size_t i = 0; i < traders_.size(); ++i) {
    const priv::PrivateWallet& w = traders_[i]->wallet;
    const priv::Attributes& a = w.attributes();
    Holding h{AccountId{static_cast<std::uint32_t>(i + 1)}, Cash(a.c),
              static_cast<std::int64_t>(a.vp) - static_cast<std::int64_t>(a.vm),
              ledger().defaulted(w.identity()), std::nullopt};
    if (h.defaulted) {
      auto basis = exit_basis_.find(h.account.value);
      const auto [cash, position] =
          basis != exit_basis_.end() ? basis->second : defaulter_holding(*traders_[i]);
      h.cash = Cash(cash);
      h.position = position;
    }
    if (auto it = claims_.find(h.account.value); it != claims_.end())
      h.exit_claim = Cash(it->second);
    out.holdings.push_back(h);
  }
  for (std::uint64_t id = 0; id < ledger().order_count(); ++id) {
    const priv::PrivateOrder* o = ledger().order(id);
    if (!o->closed && o->qty > o->filled) {
      out.book.push_back(BookOrder{public_order(id), public_side(o->side), Price(o->price),
                                   Qty(o->qty - o->filled)});
    }
    for (const priv::Fill& f : o->fills)
      out.fills.push_back(OrderFill{public_order(id), Price(f.price), Qty(f.qty)});
  }
  sort_book(out.book);
  std::stable_sort(out.fills.begin(), out.fills.end(),
                   [](const OrderFill& a, const OrderFill& b) { return a.order < b.order; });
  out.epoch = static_cast<std::uint32_t>(ledger().terms().epoch);
  out.band_low = Price(ledger().terms().low);
  out.band_high = Price(ledger().terms().high);
  out.fund_cash = Cash(replica().private_book()->fund().cash);
  out.fund_position = replica().private_book()->fund().position;
  return out;
}

}  // namespace pfex::flow
