// The private mode's account model on the matching engine; see private_market.hpp.
#include "protocol/private_market.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace pfex::protocol {
namespace {

using market::CloseReason;
using market::OrderId;
using market::OrderTag;

// The engine and the ledger disagree: the replica's state is no longer the protocol's. Not an
// input error (every input was checked before it reached here), so stop rather than diverge.
[[noreturn]] void diverged(const std::string& what) {
  std::fprintf(stderr, "pfex: the private book and ledger disagree: %s\n", what.c_str());
  std::abort();
}

void must(const Status& s, const char* what) {
  if (!s.is_ok()) diverged(std::string(what) + ": " + s.to_string());
}

market::Side side_of(priv::Side s) {
  return s == priv::Side::kBuy ? market::Side::kBuy : market::Side::kSell;
}

market::OrderType type_of(priv::OrderKind k) {
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
  diverged("unknown order kind");
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

void PrivateBook::advance(LedgerTime now) {
  advance_to(now);
}

void PrivateBook::on_applied(const priv::PrivateTx& tx, const priv::Applied& applied) {
  if (const auto* cancel = std::get_if<priv::CancelTx>(&tx)) {
    cancel_resting(cancel->order);
    return;
  }
  const auto* spend = std::get_if<priv::SpendTx>(&tx);
  if (spend == nullptr) return;
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

OrderTag PrivateBook::resting_owner(std::uint64_t id) const {
  const Book::Slot slot = book_.find(OrderId{id});
  if (slot == Book::kNil) diverged("order " + std::to_string(id) + " is open but not in the book");
  return book_.at(slot).owner;
}

void PrivateBook::place(const priv::OrderFields& fields, std::uint64_t id,
                        std::optional<std::uint64_t> replaced) {
  if (next_order_id_ != id)
    diverged("the ledger numbered order " + std::to_string(id) + ", the engine " +
             std::to_string(next_order_id_));
  market::OrderRequest r;
  r.side = side_of(fields.side);
  r.type = type_of(fields.kind);
  r.qty = Qty(fields.qty);
  market::PlaceOptions options;
  options.reduce_in_place = false;  // the ledger numbers a new order; reduce is its own tx
  if (fields.kind == priv::OrderKind::kMarket) {
    options.reservation = Price(fields.price);
  } else {
    r.limit = Price(fields.price);
  }
  const OrderTag owner = replaced ? resting_owner(*replaced) : order_tag_of(fields.tag);
  std::optional<OrderId> old;
  if (replaced) old = OrderId{*replaced};
  Result<market::OrderOutcome> out = place_order(owner, r, old, options);
  if (out.is_ok()) {
    if (out->id.value != id)
      diverged("the engine gave order " + std::to_string(id) + " another id");
    return;
  }
  // The engine refuses what the ledger's checks cannot see: a market order with nothing to trade
  // against. The order was paid for by its spend: it gets its id and closes at once, unfilled,
  // like an immediate order that found nothing (its remainder is released by a settle).
  if (replaced) must(cancel_order(owner, *old), "the replaced order");
  const OrderId oid{next_order_id_++};
  const Price limit(fields.price);
  emit(market::BasicOrderAccepted<OrderTag>{oid, owner, r.side, r.type, limit, r.qty, false});
  emit(market::BasicOrderClosed<OrderTag>{oid, owner, CloseReason::kUnfilledIoc, r.qty});
  on_close(oid, owner, CloseReason::kUnfilledIoc);
}

void PrivateBook::cancel_resting(std::uint64_t id) {
  must(cancel_order(resting_owner(id), OrderId{id}), "cancel");
}

void PrivateBook::reduce_resting(std::uint64_t id, std::int64_t by) {
  const Book::Slot slot = book_.find(OrderId{id});
  if (slot == Book::kNil) diverged("reduced order " + std::to_string(id) + " is not in the book");
  const Order o = book_.at(slot);
  const priv::PrivateOrder* lo = ledger_->order(id);
  if (lo == nullptr || by < 1 || by > o.open.value() || lo->qty - lo->filled != o.open.value() - by)
    diverged("order " + std::to_string(id) + ": the reduce does not match the book");
  if (by == o.open.value()) {  // nothing left: the ledger closed it
    must(cancel_order(o.owner, o.id), "reduce to nothing");
    return;
  }
  market::OrderRequest r;
  r.side = o.side;
  r.type = market::OrderType::kLimit;
  r.limit = o.limit;
  r.qty = Qty(o.open.value() - by);
  Result<market::OrderOutcome> out = place_order(o.owner, r, o.id);  // keeps id and priority
  if (!out.is_ok() || out->id != o.id) diverged("order " + std::to_string(id) + ": reduce failed");
}

void PrivateBook::on_fill(const market::Fill<OrderTag>& f) {
  must(ledger_->record_fill(f.maker.value, f.maker_limit.value(), f.qty.value()), "maker fill");
  must(ledger_->record_fill(f.taker.value, f.maker_limit.value(), f.qty.value()), "taker fill");
}

void PrivateBook::on_close(OrderId id, OrderTag, CloseReason) {
  const priv::PrivateOrder* o = ledger_->order(id.value);
  if (o == nullptr) diverged("closed order " + std::to_string(id.value) + " unknown to the ledger");
  // A cancel, a cancel-replace, a reduce to nothing or the last fill closed it already.
  if (!o->closed) must(ledger_->close_order(id.value), "close");
}

void PrivateBook::on_epoch_opened() {
  priv::MarketTerms next = ledger_->terms();
  next.epoch = epoch_;
  next.low = band_.low.value();
  next.high = band_.high.value();
  next.margin = band_.margin.value();
  // The levy stays 0: the fund's equity in the private mode comes from the decrypted round sums
  // and the liquidation, which the private ledger does not run yet.
  must(ledger_->begin_margin_round(next, 0), "margin round");
}

void PrivateBook::on_window_closed() {
  // The fund's position and cash at the halt are 0 until the fund trades in the private mode.
  must(ledger_->close_refresh_window(priv::RoundClose{band_.reference.value(), window_close_})
           .status(),
       "window close");
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
  w.u64(next_order_id_);
  w.u64(trade_seq_);
  w.boolean(last_trade_price_.has_value());
  w.i64(last_trade_price_ ? last_trade_price_->value() : 0);
  w.boolean(standing_since_.has_value());
  w.i64(standing_since_ ? standing_since_->value() : 0);
  w.u64(edge_trades_.size());
  for (const EdgeTrade& t : edge_trades_) {
    w.i64(t.time.value());
    w.boolean(t.high);
    w.i64(t.qty);
  }
  w.u64(recent_trades_.size());
  for (const WindowTrade& t : recent_trades_) {
    w.i64(t.time.value());
    w.i64(t.price);
    w.i64(t.qty);
  }
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
      if (o == nullptr || o->closed || side_of(o->side) != side || o->price != limit.value() ||
          o->qty - o->filled != open.value() || !book.band_.contains(limit) || worse ||
          book.book_.find(id) != Book::kNil)
        return bad("order " + std::to_string(id.value) + " is not open in the ledger as encoded");
      previous = limit.value();
      book.book_.insert(id, owner, side, limit, open, false);
      ++resting;
    }
  }
  book.next_order_id_ = r.u64("next order id");
  book.trade_seq_ = r.u64("trade count");
  const bool has_last = r.boolean("has last trade");
  const std::int64_t last = r.i64("last trade price");
  if (has_last) book.last_trade_price_ = Price(last);
  const bool has_since = r.boolean("standing quote");
  const std::int64_t since = r.i64_in("standing since", 0, market::kMaxLedgerTimeMs);
  if (has_since) book.standing_since_ = LedgerTime(since);
  const std::uint64_t edges = r.u64("edge trades");
  if (!r.failed() && edges > r.remaining() / 17) return bad("more edge trades than bytes");
  for (std::uint64_t i = 0; i < edges && !r.failed(); ++i) {
    const LedgerTime at(r.i64_in("edge trade time", 0, market::kMaxLedgerTimeMs));
    const bool high_edge = r.boolean("edge");
    book.edge_trades_.push_back({at, high_edge, r.i64_in("edge trade qty", 1, kMaxQty)});
  }
  const std::uint64_t recent = r.u64("recent trades");
  if (!r.failed() && recent > r.remaining() / 24) return bad("more trades than bytes");
  for (std::uint64_t i = 0; i < recent && !r.failed(); ++i) {
    const LedgerTime at(r.i64_in("trade time", 0, market::kMaxLedgerTimeMs));
    const std::int64_t price = r.i64_in("trade price", 1, market::kMaxPriceTicks);
    book.recent_trades_.push_back({at, price, r.i64_in("trade qty", 1, kMaxQty)});
  }
  PFEX_RETURN_IF_ERROR(r.finish());
  std::uint64_t open_in_ledger = 0;
  for (std::uint64_t id = 0; id < ledger.order_count(); ++id)
    open_in_ledger += ledger.order(id)->closed ? 0U : 1U;
  if (book.next_order_id_ != ledger.order_count() || open_in_ledger != resting)
    return bad("the book's orders are not the ledger's open orders");
  return book;
}

}  // namespace pfex::protocol
