// The private mode's account model on the matching engine; see private_market.hpp.
#include "protocol/private_market.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <variant>

#include "core/checked.hpp"

namespace pfex::protocol {
namespace {

using market::CloseReason;
using market::OrderId;
using market::OrderTag;

market::Side side_of(priv::Side s) {
  return s == priv::Side::kBuy ? market::Side::kBuy : market::Side::kSell;
}

std::optional<market::OrderType> type_of(priv::OrderKind k) {
  switch (k) {
    case priv::OrderKind::kLimit:
      return market::OrderType::kLimit;
    case priv::OrderKind::kIoc:
      return market::OrderType::kImmediateOrCancel;
    case priv::OrderKind::kFok:
      return market::OrderType::kFillOrKill;
    case priv::OrderKind::kPostOnly:
      return market::OrderType::kPostOnly;
    case priv::OrderKind::kMarket:
      return market::OrderType::kMarket;
  }
  return std::nullopt;
}

constexpr std::int64_t kMaxQty = std::int64_t{1} << 32;

}  // namespace

OrderTag order_tag_of(const crypto::Point& tag) {
  const auto bytes = tag.encode();
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | bytes[static_cast<std::size_t>(i)];
  return OrderTag{v};
}

PrivateBook::PrivateBook(market::ContractSpec spec, market::Band band, LedgerTime start,
                         priv::PrivateLedger& ledger)
    : MatchingEngine(std::move(spec), band, start), ledger_(&ledger) {
  next_order_id_ = 0;  // the ledger's numbering
}

Result<PrivateBook> PrivateBook::open(market::ContractSpec spec, Price reference, LedgerTime start,
                                      priv::PrivateLedger& ledger) {
  PFEX_RETURN_IF_ERROR(spec.validate());
  PFEX_ASSIGN_OR_RETURN(market::Band band, market::make_band(spec, reference, spec.band_ppm));
  const priv::MarketTerms& t = ledger.terms();
  if (t.epoch != 0 || t.low != band.low.value() || t.high != band.high.value() ||
      ledger.order_count() != 0)
    return Status::invalid_argument("the private ledger is not at this market's genesis");
  PrivateBook book(std::move(spec), band, start, ledger);
  book.emit(market::EpochOpened{0, band, start, false});
  return book;
}

bool PrivateBook::diverged(const std::string& what) {
  if (fault_.is_ok()) {
    fault_ = Status::failed_precondition("the private book and ledger disagree: " + what);
  }
  return false;
}

bool PrivateBook::must(const Status& s, const char* what) {
  return s.is_ok() || diverged(std::string(what) + ": " + s.to_string());
}

Status PrivateBook::advance(LedgerTime now) {
  if (!fault_.is_ok()) return fault_;
  advance_to(now);
  if (fault_.is_ok()) lapse_exits();
  return fault_;
}

// As in the transparent exchange, the exit period runs from the batch's price to its end,
// exclusive: an exit at finished_at + exit_period is refused.
void PrivateBook::lapse_exits() {
  for (const market::LiquidationBatch& b : batches_) {
    if (!b.lapsed(time_, spec_.exit_period_ms) || ledger_->exits_lapsed_at(b.epoch - 1)) continue;
    const Checked<std::int64_t> end =
        Checked<std::int64_t>(b.finished_at.value()) + spec_.exit_period_ms;
    if (!must(ledger_->lapse_exits(b.epoch - 1,
                                   LedgerTime(end.overflowed() ? INT64_MAX : end.value())),
              "the exit period's end"))
      return;
  }
}

i128 PrivateBook::fund_equity(Price price) const {
  i128 equity = static_cast<i128>(fund_.cash) +
                static_cast<i128>(fund_.position) * price.value() * spec_.tick_value.value();
  for (std::size_t i = 0; i < batches_.size(); ++i) {
    equity -= market::batch_liability(batches_[i], owed_[i].cash, owed_[i].position,
                                      spec_.tick_value, owed_[i].paid, time_, spec_.exit_period_ms);
  }
  return equity;
}

Status PrivateBook::on_applied(const priv::PrivateTx& tx, const priv::Applied& applied) {
  if (!fault_.is_ok()) return fault_;
  apply_order(tx, applied);
  return fault_;
}

void PrivateBook::apply_order(const priv::PrivateTx& tx, const priv::Applied& applied) {
  if (const auto* exit = std::get_if<priv::ExitTx>(&tx)) {
    // The fund pays the claim into the identity's cash account.
    const Checked<std::int64_t> cash = Checked<std::int64_t>(fund_.cash) - exit->exit.claim;
    if (cash.overflowed()) {
      diverged("the fund's cash after an exit claim of " + std::to_string(exit->exit.claim) +
               " overflows");
      return;
    }
    fund_.cash = cash.value();
    // ... from what it owes the signer's batch (the round of the epoch after its token's).
    const std::optional<std::uint64_t> epoch = ledger_->default_epoch(exit->signer);
    for (std::size_t i = 0; epoch && i < batches_.size(); ++i) {
      if (batches_[i].epoch != *epoch + 1) continue;
      owed_[i].paid += exit->exit.claim;  // at most 2^46 per claim, one claim per defaulter
      return;
    }
    diverged("an exit from a round without a liquidation batch");
    return;
  }
  if (const auto* cancel = std::get_if<priv::CancelTx>(&tx)) {
    cancel_resting(cancel->order);
    return;
  }
  const auto* spend = std::get_if<priv::SpendTx>(&tx);
  if (spend == nullptr) return;
  if ((spend->type == priv::TxType::kPost || spend->type == priv::TxType::kCancelReplace) &&
      (!spend->order || !applied.new_order)) {
    diverged("a post without its order");
    return;
  }
  switch (spend->type) {
    case priv::TxType::kPost:
      place(*spend->order, applied.new_order.value(), std::nullopt);
      break;
    case priv::TxType::kCancelReplace:
      place(*spend->order, applied.new_order.value(), spend->target);
      break;
    case priv::TxType::kReduce:
      reduce_resting(spend->target, spend->reduce_by);
      break;
    default:
      break;  // settles, cash moves and refreshes leave the book as it is
  }
}

std::optional<OrderTag> PrivateBook::resting_owner(std::uint64_t id) {
  const Book::Slot slot = book_.find(OrderId{id});
  if (slot == Book::kNil) {
    diverged("order " + std::to_string(id) + " is open but not in the book");
    return std::nullopt;
  }
  return book_.at(slot).owner;
}

void PrivateBook::place(const priv::OrderFields& fields, std::uint64_t id,
                        std::optional<std::uint64_t> replaced) {
  if (next_order_id_ != id) {
    diverged("the ledger numbered order " + std::to_string(id) + ", the engine " +
             std::to_string(next_order_id_));
    return;
  }
  const std::optional<market::OrderType> type = type_of(fields.kind);
  if (!type) {
    diverged("unknown order kind");
    return;
  }
  market::OrderRequest r;
  r.side = side_of(fields.side);
  r.type = *type;
  r.qty = Qty(fields.qty);
  r.limit = Price(fields.price);  // a market order's reservation price p_r
  const std::optional<OrderTag> owner_of =
      replaced ? resting_owner(*replaced) : std::optional(order_tag_of(fields.tag));
  if (!owner_of) return;
  std::optional<OrderId> old;
  if (replaced) old = OrderId{*replaced};
  Result<market::OrderOutcome> out = place_order(*owner_of, r, old);
  if (!out.is_ok()) {
    diverged("order " + std::to_string(id) + ": " + out.status().to_string());
    return;
  }
  if (out->id.value != id) diverged("the engine gave order " + std::to_string(id) + " another id");
}

void PrivateBook::cancel_resting(std::uint64_t id) {
  const std::optional<OrderTag> owner = resting_owner(id);
  if (owner) must(cancel_order(*owner, OrderId{id}), "cancel");
}

void PrivateBook::reduce_resting(std::uint64_t id, std::int64_t by) {
  const Book::Slot slot = book_.find(OrderId{id});
  if (slot == Book::kNil) {
    diverged("reduced order " + std::to_string(id) + " is not in the book");
    return;
  }
  const Order o = book_.at(slot);
  const priv::PrivateOrder* lo = ledger_->order(id);
  if (lo == nullptr || by < 1 || by > o.open.value() ||
      lo->qty - lo->filled != o.open.value() - by) {
    diverged("order " + std::to_string(id) + ": the reduce does not match the book");
    return;
  }
  // Reduced to nothing, the engine closes it as the ledger did.
  Result<market::OrderOutcome> out = reduce_order(o.owner, o.id, Qty(by));
  if (!out.is_ok() || out->id != o.id) diverged("order " + std::to_string(id) + ": reduce failed");
}

void PrivateBook::on_fill(const market::Fill<OrderTag>& f) {
  if (!must(ledger_->record_fill(f.maker.value, f.maker_limit.value(), f.qty.value()),
            "maker fill"))
    return;
  must(ledger_->record_fill(f.taker.value, f.maker_limit.value(), f.qty.value()), "taker fill");
  const std::int64_t q = f.qty.value();
  if (!must(fund_.collect_fees(q, spec_.fee_per_contract), "fees")) return;
  if (!f.liquidation) return;
  // The fund's order is the maker or the taker; the trade settles to the other side's private
  // order like any fill (its owner claims it in a settle).
  const bool fund_makes = liquidation_order_ && *liquidation_order_ == f.maker;
  const market::Side fund_side = fund_makes ? market::opposite(f.taker_side) : f.taker_side;
  if (!must(fund_.trade(fund_side, f.maker_limit, q, spec_.tick_value, spec_.fee_per_contract),
            "the fund's trade"))
    return;
  if (!batches_.empty() && !batches_.back().finished && batches_.back().credit(f.maker_limit, q))
    finish_batch(static_cast<std::uint32_t>(batches_.size() - 1));
}

void PrivateBook::on_close(OrderId id, OrderTag, CloseReason) {
  const priv::PrivateOrder* o = ledger_->order(id.value);
  if (o == nullptr) {
    diverged("closed order " + std::to_string(id.value) + " unknown to the ledger");
    return;
  }
  // A cancel, a cancel-replace, a reduce to nothing or the last fill closed it already.
  if (!o->closed) must(ledger_->close_order(id.value), "close");
}

// Every resting order has expired: an unfinished liquidation ends (the fund keeps the rest,
// marked at the edge), as in the transparent exchange.
void PrivateBook::on_halt(market::HaltReason) {
  for (std::uint32_t i = 0; i < batches_.size(); ++i) {
    if (!batches_[i].finished) finish_batch(i);
  }
}

void PrivateBook::on_epoch_opened() {
  priv::MarketTerms next = ledger_->terms();
  next.epoch = epoch_;
  next.low = band_.low.value();
  next.high = band_.high.value();
  next.margin = band_.margin.value();
  // The shortfall levy, as in the transparent exchange (docs/design.md section 6): a deficit of
  // the fund net of what it owes the defaulters, at the new reference price, is levied per
  // contract of gross position at every refresh, lambda = ceil(deficit / g_S of the last
  // resolution); the fund is credited lambda * g_S at this round's resolution.
  const std::int64_t levy = market::shortfall_levy(fund_equity(band_.reference), gross_prev_,
                                                   market::kMaxLevyPerContract);
  if (Status valid = next.validate(); !valid.is_ok()) {
    if (fault_.is_ok()) {
      fault_ = Status::failed_precondition(
          "epoch " + std::to_string(epoch_) + "'s band [" + std::to_string(next.low) + ", " +
          std::to_string(next.high) + "] cannot be the private market's terms (" +
          valid.to_string() + "): the market cannot continue");
    }
    return;
  }
  if (!must(ledger_->begin_margin_round(next, levy), "margin round")) return;
  // The fund at the halt, for the round's equity sum (docs/design.md section 6): its position,
  // and the cash it holds inside the market apart from the fees tokens paid (counted by the
  // ledger): its cash without the forfeited bonds it took (from outside the market) and with the
  // exit claims it paid (out of the market) added back.
  const Checked<std::int64_t> cash = Checked<std::int64_t>(fund_.cash) - bonds_taken_ +
                                     ledger_->fund().exits_paid - ledger_->fees_charged();
  if (cash.overflowed()) {
    diverged("the fund's cash at the halt overflows");
    return;
  }
  halt_fund_position_ = fund_.position;
  halt_fund_cash_ = cash.value();
}

void PrivateBook::on_window_closed() {
  // The fund's position and market cash at the halt enter the round's equity sum (resolution).
  Result<std::vector<std::array<std::uint8_t, 32>>> defaulters =
      ledger_->close_refresh_window(priv::RoundClose{band_.reference.value(), window_close_,
                                                     halt_fund_position_, halt_fund_cash_});
  if (!must(defaulters.status(), "window close")) return;
  pending_ = Pending{epoch_, !defaulters->empty(), ledger_->levy()};
  // Without defaulters the fund offers what it kept from earlier rounds at once; with them, its
  // whole position once the resolution says what it took over.
  if (defaulters->empty()) post_fund_order();
}

void PrivateBook::on_resolution_deadline() {
  if (pending_ && stand_in_) {
    if (std::optional<DefaultsResolution> r = stand_in_(pending_->epoch))
      must(resolve_defaults(pending_->epoch, *r), "the stand-in's resolution");
  }
  // The validators' shares that came in before the deadline: recorded at the deadline itself.
  // The fund takes each over before the ledger records it; a refusal faults the book and leaves
  // the ledger's round pending.
  const Result<std::vector<priv::Resolution>> recorded =
      ledger_->advance_resolutions(time_, [this](const priv::Resolution& r) {
        return resolve_defaults(r.epoch + 1, DefaultsResolution{r.position, r.cash, r.gross});
      });
  if (!must(recorded.status(), "the round's resolution")) return;
  if (!pending_ || ledger_->resolutions().pending(pending_->epoch - 1) == nullptr)
    end_resolution_hold();
}

Status PrivateBook::resolve_defaults(std::uint64_t epoch, const DefaultsResolution& r) {
  if (!pending_ || pending_->epoch != epoch)
    return Status::failed_precondition("no round awaits its resolution at epoch " +
                                       std::to_string(epoch));
  if (!pending_->defaulters && (r.position != 0 || r.cash != 0))
    return Status::invalid_argument("nobody defaulted in the round of epoch " +
                                    std::to_string(epoch) + ": its resolution is (0, 0)");
  if (r.position <= -kMaxQty || r.position >= kMaxQty)
    return Status::invalid_argument("the defaulters' position " + std::to_string(r.position) +
                                    " is beyond what the book holds (2^32)");
  if (r.gross > static_cast<std::uint64_t>(priv::kCashSupplyCap))
    return Status::invalid_argument("the survivors' gross position is beyond 2^46");
  const std::int64_t bonds = ledger_->fund().bonds_forfeited - bonds_taken_;
  // The round's levy, lambda * g_S: what the survivors' refreshes paid (each c' = c + d -
  // lambda*g).
  const Checked<std::int64_t> levied =
      Checked<std::int64_t>(pending_->levy) * static_cast<std::int64_t>(r.gross);
  const Checked<std::int64_t> cash = Checked<std::int64_t>(fund_.cash) + r.cash + bonds + levied;
  const Checked<std::int64_t> position = Checked<std::int64_t>(fund_.position) + r.position;
  if (cash.overflowed() || position.overflowed() || position.value() <= -kMaxQty ||
      position.value() >= kMaxQty)
    return Status::invalid_argument("the fund's holdings would overflow");
  // Accepted: from here on nothing fails.
  const bool defaulters = pending_->defaulters;
  pending_.reset();
  gross_prev_ = r.gross;
  fund_.cash = cash.value();
  fund_.position = position.value();
  bonds_taken_ += bonds;
  if (defaulters) {
    const auto index = static_cast<std::uint32_t>(batches_.size());
    batches_.push_back(
        market::LiquidationBatch::open(static_cast<std::uint32_t>(epoch), r.position, band_));
    owed_.push_back(BatchOwed{r.cash, r.position, 0});
    // Priced by the fund's fills only when its order works the batch off; when the fund's own
    // inventory absorbed the aggregate, marked at the edge at once.
    if (!market::LiquidationBatch::worked_off(r.position, fund_.position)) finish_batch(index);
    post_fund_order();
  }
  end_resolution_hold();
  return Status::ok();
}

void PrivateBook::post_fund_order() {
  const std::optional<market::LiquidationOrder> order =
      market::liquidation_order(fund_.position, band_);
  if (!order || liquidation_order_ || phase_ == market::Phase::kClosed) return;
  const priv::Side side = order->side == market::Side::kBuy ? priv::Side::kBuy : priv::Side::kSell;
  Result<std::uint64_t> id =
      ledger_->add_liquidation_order(side, order->edge.value(), order->qty.value());
  if (!must(id.status(), "the fund's liquidation order")) return;
  if (*id != next_order_id_) {
    diverged("the fund's order numbered apart from the engine's");
    return;
  }
  post_liquidation(kFundOwner, order->side, order->edge, order->qty);
}

void PrivateBook::finish_batch(std::uint32_t index) {
  market::LiquidationBatch& b = batches_[index];
  emit(b.finish(index, time_, band_.reference));
  // The defaulters' tokens are on the list of the epoch before the round's.
  must(
      ledger_->record_liquidation_price(
          b.epoch - 1, priv::LiquidationPrice{b.price_num, static_cast<std::int64_t>(b.price_den)}),
      "the liquidation price");
}

// ---- encoding ----------------------------------------------------------------------------------

void PrivateBook::encode(Writer& w) const {
  w.u32(kVersion);
  w.i64(time_.value());
  encode_state(w);
}

void PrivateBook::encode_state(Writer& w) const {
  w.u8(static_cast<std::uint8_t>(phase_));
  w.u32(epoch_);
  w.i64(window_close_.value());
  w.i64(next_scheduled_ms_);
  for (std::int64_t x : {band_.reference.value(), band_.low.value(), band_.high.value(),
                         band_.margin.value(), band_.half_width_ppm})
    w.i64(x);
  w.boolean(liquidation_order_.has_value());
  w.u64(liquidation_order_ ? liquidation_order_->value : 0);
  w.i64(fund_.cash);
  w.i64(fund_.position);
  w.i64(bonds_taken_);
  w.u64(gross_prev_);
  w.i64(halt_fund_position_);
  w.i64(halt_fund_cash_);
  w.boolean(pending_.has_value());
  w.u32(pending_ ? pending_->epoch : 0);
  w.boolean(pending_ && pending_->defaulters);
  w.i64(pending_ ? pending_->levy : 0);
  w.boolean(resolution_held_);
  w.boolean(resolution_deadline_.has_value());
  w.i64(resolution_deadline_ ? resolution_deadline_->value() : 0);
  w.u64(batches_.size());
  for (std::size_t i = 0; i < batches_.size(); ++i) {
    batches_[i].encode(w);
    w.i64(owed_[i].cash);
    w.i64(owed_[i].position);
    w.i64(owed_[i].paid);
  }
  for (market::Side side : {market::Side::kBuy, market::Side::kSell}) {
    std::uint64_t n = 0;
    book_.for_each(side, [&](const Order&) { ++n; });
    w.u64(n);
    book_.for_each(side, [&](const Order& o) {  // best price first, oldest first in a level
      w.u64(o.id.value);
      w.u64(o.owner.value);
      w.i64(o.limit.value());
      w.i64(o.open.value());
    });
  }
  encode_trade_state<std::uint64_t>(w);
}

Bytes PrivateBook::encode() const {
  Bytes out;
  Writer w(&out);
  encode(w);
  return out;
}

Result<PrivateBook> PrivateBook::decode(market::ContractSpec spec, LedgerTime now,
                                        priv::PrivateLedger& ledger, ByteSpan bytes) {
  PFEX_RETURN_IF_ERROR(spec.validate());
  Reader r(bytes);
  if (r.u32("private book version") != kVersion && !r.failed())
    return Status::corruption("unknown private book version");
  const LedgerTime time(r.i64_in("book time", 0, market::kMaxLedgerTimeMs));
  const auto phase = static_cast<market::Phase>(r.u8_in("phase", 0, 1));
  const std::uint32_t epoch = r.u32("epoch");
  const LedgerTime window_close(
      r.i64_in("window close", 0, market::kMaxLedgerTimeMs + market::kMaxWindowMs));
  const std::int64_t next_scheduled =
      r.i64_in("next scheduled round", 0, market::kMaxLedgerTimeMs + market::kMaxWindowMs);
  const Price reference(r.i64("band reference"));
  const std::int64_t low = r.i64("band low"), high = r.i64("band high");
  const std::int64_t margin = r.i64("band margin"), half_width = r.i64("band half width");
  PFEX_RETURN_IF_ERROR(r.status());
  auto bad = [](const std::string& what) { return Status::corruption("private book: " + what); };
  Result<market::Band> band = market::make_band(spec, reference, half_width);
  if (!band || band->low.value() != low || band->high.value() != high ||
      band->margin.value() != margin)
    return bad("the band does not follow from its reference and width");
  const priv::MarketTerms& t = ledger.terms();
  if (t.epoch != epoch || t.low != low || t.high != high || t.margin != margin ||
      ledger.in_refresh_window() != (phase == market::Phase::kRefreshWindow) || time > now)
    return bad("not the ledger's epoch, band or phase");
  PrivateBook book(std::move(spec), *band, time, ledger);
  book.phase_ = phase;
  book.epoch_ = epoch;
  book.window_close_ = window_close;
  book.next_scheduled_ms_ = next_scheduled;
  const bool has_liquidation = r.boolean("has liquidation order");
  const std::uint64_t liquidation = r.u64("liquidation order");
  if (has_liquidation) book.liquidation_order_ = OrderId{liquidation};
  book.fund_.cash = r.i64("fund cash");
  book.fund_.position = r.i64_in("fund position", 1 - kMaxQty, kMaxQty - 1);
  book.bonds_taken_ = r.i64_in("bonds taken", 0, ledger.fund().bonds_forfeited);
  book.gross_prev_ = r.u64("gross at the last resolution");
  book.halt_fund_position_ = r.i64_in("fund position at the halt", 1 - kMaxQty, kMaxQty - 1);
  book.halt_fund_cash_ = r.i64("fund cash at the halt");
  const bool has_pending = r.boolean("awaiting resolution");
  const std::uint32_t pending_epoch = r.u32("awaiting epoch");
  const bool pending_defaulters = r.boolean("awaiting defaulters");
  const std::int64_t pending_levy = r.i64_in("awaiting levy", 0, market::kMaxLevyPerContract);
  if (has_pending) book.pending_ = Pending{pending_epoch, pending_defaulters, pending_levy};
  book.resolution_held_ = r.boolean("resolution hold");
  const bool has_deadline = r.boolean("has resolution deadline");
  const std::int64_t deadline = r.i64_in("resolution deadline", 0, market::kMaxLedgerTimeMs);
  if (has_deadline) book.resolution_deadline_ = LedgerTime(deadline);
  // Held from a close until its round is resolved; the deadline, until it has passed.
  if (!r.failed() &&
      ((book.resolution_held_ && (phase != market::Phase::kTrading || !has_pending)) ||
       (has_deadline && (!book.resolution_held_ || deadline <= time.value() ||
                         deadline != window_close.value() + book.spec_.resolution_ms)) ||
       (!has_deadline && deadline != 0)))
    return bad("the resolution hold and its deadline are inconsistent");
  const std::uint64_t batches = r.u64("liquidation batches");
  if (!r.failed() && batches > r.remaining() / 110) return bad("more batches than bytes");
  for (std::uint64_t i = 0; i < batches && !r.failed(); ++i) {
    book.batches_.push_back(market::LiquidationBatch::decode(r, time));
    BatchOwed owed;
    owed.cash = r.i64("defaulters' cash");
    owed.position = r.i64_in("defaulters' position", 1 - kMaxQty, kMaxQty - 1);
    owed.paid = r.i64_in("claims paid", 0, INT64_MAX);
    book.owed_.push_back(owed);
  }
  PFEX_RETURN_IF_ERROR(r.status());
  if (!has_liquidation && liquidation != 0) return bad("a liquidation order id without its order");
  if (!has_pending && (pending_epoch != 0 || pending_defaulters || pending_levy != 0))
    return bad("a pending resolution's fields without one");
  std::uint64_t resting = 0;
  for (market::Side side : {market::Side::kBuy, market::Side::kSell}) {
    const std::uint64_t n = r.u64("resting orders");
    if (!r.failed() && n > r.remaining() / 32) return bad("more orders than bytes");
    std::optional<std::int64_t> previous;
    for (std::uint64_t i = 0; i < n && !r.failed(); ++i) {
      const OrderId id{r.u64("order id")};
      const OrderTag owner{r.u64("order owner")};
      const Price limit(r.i64("order limit"));
      const Qty open(r.i64_in("order open", 1, kMaxQty));
      if (r.failed()) break;
      const priv::PrivateOrder* o = ledger.order(id.value);
      const bool worse = previous && (side == market::Side::kBuy ? limit.value() > *previous
                                                                 : limit.value() < *previous);
      const bool fund_order = book.liquidation_order_ && *book.liquidation_order_ == id;
      if (o == nullptr || o->closed || side_of(o->side) != side || o->price != limit.value() ||
          o->qty - o->filled != open.value() || !book.band_.contains(limit) || worse ||
          book.book_.find(id) != Book::kNil ||
          priv::PrivateLedger::is_fund_order(*o) != fund_order ||
          (fund_order && owner != kFundOwner))
        return bad("order " + std::to_string(id.value) + " is not open in the ledger as encoded");
      previous = limit.value();
      book.book_.insert(id, owner, side, limit, open, fund_order);
      ++resting;
    }
  }
  PFEX_RETURN_IF_ERROR(
      book.decode_trade_state<std::uint64_t>(r, kMaxQty).with_context("private book"));
  PFEX_RETURN_IF_ERROR(r.finish());
  std::uint64_t open_in_ledger = 0;
  for (std::uint64_t id = 0; id < ledger.order_count(); ++id)
    open_in_ledger += ledger.order(id)->closed ? 0U : 1U;
  if (book.next_order_id_ != ledger.order_count() || open_in_ledger != resting)
    return bad("the book's orders are not the ledger's open orders");
  if (book.liquidation_order_ && book.book_.find(*book.liquidation_order_) == Book::kNil)
    return bad("the fund's liquidation order does not rest");
  return book;
}

}  // namespace pfex::protocol
