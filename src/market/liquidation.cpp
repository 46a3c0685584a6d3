// The fund's liquidation batches; see liquidation.hpp.
#include "market/liquidation.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

namespace pfex::market {
namespace {

constexpr std::int64_t kMaxQtyValue = INT64_MAX;

void put_i128(Writer& w, i128 x) {
  w.u64(static_cast<std::uint64_t>(x));
  w.u64(static_cast<std::uint64_t>(x >> 64));
}

i128 get_i128(Reader& r, std::string_view field) {
  const std::uint64_t lo = r.u64(field);
  const std::uint64_t hi = r.u64(field);
  return static_cast<i128>((static_cast<u128>(hi) << 64) | lo);
}

}  // namespace

LiquidationBatch LiquidationBatch::open(std::uint32_t epoch, std::int64_t aggregate,
                                        const Band& band) {
  LiquidationBatch b;
  b.epoch = epoch;
  b.side = aggregate > 0 ? Side::kSell : Side::kBuy;
  b.edge = aggregate > 0 ? band.low : band.high;
  b.total = Qty(aggregate < 0 ? -aggregate : aggregate);
  return b;
}

bool LiquidationBatch::worked_off(std::int64_t aggregate, std::int64_t fund_position) {
  return aggregate != 0 && fund_position != 0 && (fund_position > 0) == (aggregate > 0);
}

bool LiquidationBatch::credit(Price price, std::int64_t qty) {
  const std::int64_t take = std::min(qty, total.value() - filled.value());
  filled = Qty(filled.value() + take);
  notional += static_cast<i128>(price.value()) * take;
  return filled == total;
}

LiquidationFinished LiquidationBatch::finish(std::uint32_t index, LedgerTime now, Price reference) {
  finished = true;
  finished_at = now;
  const std::int64_t kept = total.value() - filled.value();
  if (total.value() == 0) {
    price_num = reference.value();
    price_den = 1;
  } else {
    price_num = notional + static_cast<i128>(kept) * edge.value();
    price_den = total.value();
  }
  const auto avg = static_cast<std::int64_t>(floor_div(2 * price_num + price_den, 2 * price_den));
  return LiquidationFinished{index, filled, Qty(kept), Price(avg)};
}

void LiquidationBatch::encode(Writer& w) const {
  w.u32(epoch);
  w.u8(static_cast<std::uint8_t>(side));
  w.i64(edge.value());
  w.i64(total.value());
  w.i64(filled.value());
  put_i128(w, notional);
  w.boolean(finished);
  w.i64(finished_at.value());
  put_i128(w, price_num);
  put_i128(w, price_den);
}

LiquidationBatch LiquidationBatch::decode(Reader& r, LedgerTime now) {
  LiquidationBatch b;
  b.epoch = r.u32("liquidation epoch");
  b.side = static_cast<Side>(r.u8_in("liquidation side", 0, 1));
  b.edge = Price(r.i64("liquidation edge"));
  b.total = Qty(r.i64_in("liquidation total", 0, kMaxQtyValue));
  b.filled = Qty(r.i64_in("liquidation filled", 0, kMaxQtyValue));
  b.notional = get_i128(r, "liquidation notional");
  b.finished = r.boolean("liquidation finished");
  b.finished_at = LedgerTime(r.i64_in("liquidation finished at", 0, kMaxLedgerTimeMs));
  b.price_num = get_i128(r, "liquidation price");
  b.price_den = get_i128(r, "liquidation quantity");
  if (!r.failed() && (b.price_den <= 0 || b.filled > b.total || b.finished_at > now))
    r.fail(Status::corruption("snapshot: liquidation record"));
  return b;
}

std::optional<LiquidationOrder> liquidation_order(std::int64_t fund_position, const Band& band) {
  if (fund_position == 0) return std::nullopt;
  const Side side = fund_position > 0 ? Side::kSell : Side::kBuy;
  return LiquidationOrder{side, side == Side::kSell ? band.low : band.high,
                          Qty(fund_position > 0 ? fund_position : -fund_position)};
}

Status FundHoldings::collect_fees(std::int64_t qty, Cash fee_per_contract) {
  const Checked<std::int64_t> after =
      Checked<std::int64_t>(cash) + Checked<std::int64_t>(2) * fee_per_contract.value() * qty;
  if (after.overflowed()) return Status::overflow("the fund's cash with the fill's fees");
  cash = after.value();
  return Status::ok();
}

Status FundHoldings::trade(Side side, Price price, std::int64_t qty, Cash tick_value,
                           Cash fee_per_contract) {
  const Checked<std::int64_t> value =
      Checked<std::int64_t>(price.value()) * qty * tick_value.value();
  const Checked<std::int64_t> fee = Checked<std::int64_t>(fee_per_contract.value()) * qty;
  const bool buy = side == Side::kBuy;
  const Checked<std::int64_t> after_cash =
      buy ? Checked<std::int64_t>(cash) - value - fee : Checked<std::int64_t>(cash) + value - fee;
  const Checked<std::int64_t> after_position =
      buy ? Checked<std::int64_t>(position) + qty : Checked<std::int64_t>(position) - qty;
  if (after_cash.overflowed() || after_position.overflowed())
    return Status::overflow("the fund's liquidation trade of " + std::to_string(qty) + " at " +
                            std::to_string(price.value()) + " does not fit in 64 bits");
  cash = after_cash.value();
  position = after_position.value();
  return Status::ok();
}

i128 exit_claim(const LiquidationBatch& b, std::int64_t cash, std::int64_t position,
                Cash tick_value, Cash penalty_per_contract) {
  const i128 value = floor_div(static_cast<i128>(cash) * b.price_den +
                                   static_cast<i128>(position) * tick_value.value() * b.price_num,
                               b.price_den);
  const i128 gross = position < 0 ? -static_cast<i128>(position) : static_cast<i128>(position);
  return value - static_cast<i128>(penalty_per_contract.value()) * gross;
}

i128 batch_liability(const LiquidationBatch& b, i128 cash, i128 position, Cash tick_value,
                     i128 paid, LedgerTime now, std::int64_t exit_period_ms) {
  if (!b.finished || b.lapsed(now, exit_period_ms)) return 0;
  const i128 equity =
      floor_div(cash * b.price_den + position * tick_value.value() * b.price_num, b.price_den);
  return std::max<i128>(0, equity - paid);
}

std::int64_t shortfall_levy(i128 fund_equity, i128 gross_prev, std::int64_t cap) {
  if (fund_equity >= 0 || gross_prev <= 0) return 0;
  return static_cast<std::int64_t>(std::min<i128>(ceil_div(-fund_equity, gross_prev), cap));
}

}  // namespace pfex::market
