// The insurance fund's liquidation of defaulters (docs/design.md sections 6.4 and 6.6), shared by
// both account models: the transparent exchange (exchange.hpp) and the private mode
// (protocol/private_market.hpp). A round's defaulters form one batch: the fund takes over their
// aggregate position and works it off with one limit order at the adverse edge of the band; the
// batch is priced (volume weighted, what the fund kept marked at the edge) when it fills
// completely or the epoch ends, and that price is what the defaulters' exits claim at.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/checked.hpp"
#include "core/codec.hpp"
#include "core/units.hpp"
#include "market/band.hpp"
#include "market/events.hpp"
#include "market/types.hpp"

namespace pfex::market {

struct LiquidationBatch {
  std::uint32_t epoch = 0;  // the epoch whose refresh window closed with these defaulters
  Side side = Side::kSell;  // the fund's side: buy back a short aggregate, sell a long one
  Price edge;               // the adverse band edge the order is posted at
  Qty total;                // |v_D|
  Qty filled;
  i128 notional = 0;  // sum of price x qty over its fills
  bool finished = false;
  LedgerTime finished_at;  // its claims may be exited until finished_at + the exit period
  i128 price_num = 0;      // exact liquidation price = price_num / price_den ticks
  i128 price_den = 1;

  // The batch of a round whose defaulters' aggregate position is `aggregate`, in `band` (the
  // epoch `epoch` that opened with the round).
  static LiquidationBatch open(std::uint32_t epoch, std::int64_t aggregate, const Band& band);
  // Whether the fund's liquidation order works this batch off: only when the fund's position
  // after the takeover, `fund_position`, lies on the aggregate's side. Otherwise the fund's own
  // inventory absorbed it and the batch is priced at once (finish()).
  static bool worked_off(std::int64_t aggregate, std::int64_t fund_position);
  // A liquidation fill of `qty` at `price`: the batch takes what it still needs. True when it is
  // then complete (finish() it).
  bool credit(Price price, std::int64_t qty);
  // Prices the batch at `now` (`reference`: the price of an empty batch) and says so.
  LiquidationFinished finish(std::uint32_t index, LedgerTime now, Price reference);
  // Whether the batch's exit period has ended at `now`: it runs from the moment the batch is
  // priced, so every defaulter has all of it to exit, however long the liquidation ran.
  bool lapsed(LedgerTime now, std::int64_t exit_period_ms) const {
    return finished && now.value() - finished_at.value() >= exit_period_ms;
  }

  // The canonical codec (both snapshots): the fields in declaration order, i128 as two LE u64
  // halves. decode() fails `r` on a value out of range or a finish after `now`.
  void encode(Writer& w) const;
  static LiquidationBatch decode(Reader& r, LedgerTime now);
};

// The fund's order for its whole position `fund_position` in `band`: sell at L for a long
// position, buy at H for a short one. None when the fund is flat.
struct LiquidationOrder {
  Side side;
  Price edge;
  Qty qty;
};
std::optional<LiquidationOrder> liquidation_order(std::int64_t fund_position, const Band& band);

// The fund's cash and position change from one fill it takes part in as the liquidating side
// (`side`, `qty` at `price`), each side paying `fee` per contract, and the fees both sides pay on
// every fill. The fund is margined like any account: its cash may go negative.
struct FundHoldings {
  std::int64_t cash = 0;
  std::int64_t position = 0;

  // Both sides' fees of a fill of `qty` contracts. kOverflow (nothing changed) when the cash
  // would not fit in 64 bits.
  [[nodiscard]] Status collect_fees(std::int64_t qty, Cash fee_per_contract);
  // The fund's own side of a liquidation fill (its fee included). kOverflow (nothing changed)
  // when the trade's value or the fund's cash or position would not fit in 64 bits.
  [[nodiscard]] Status trade(Side side, Price price, std::int64_t qty, Cash tick_value,
                             Cash fee_per_contract);
};

// A defaulter's exit claim at a batch's price: c + v*k*(num/den), rounded down, minus the
// penalty per contract (negative: nothing to claim).
i128 exit_claim(const LiquidationBatch& batch, std::int64_t cash, std::int64_t position,
                Cash tick_value, Cash penalty_per_contract);

// What the fund owes a batch's defaulters at `now` (docs/design.md section 6): at most their
// aggregate equity at the batch's price, E_b = floor((cash*den + position*k*num)/den) (`cash`,
// `position`: the sums over the batch's defaulters at the takeover), less the claims already paid
// from the batch, `paid`; 0 below that, while the liquidation runs (no claim can be exited yet;
// every batch is priced by the end of its epoch) and once the exit period has lapsed. The same in
// both modes: the private one knows only the sums, never a defaulter's own equity before its exit.
// It is conservative: the exit penalties and any claim floored at 0 count as owed until the
// period ends.
i128 batch_liability(const LiquidationBatch& batch, i128 cash, i128 position, Cash tick_value,
                     i128 paid, LedgerTime now, std::int64_t exit_period_ms);

// The largest levy per contract, in both modes (a private refresh proves c' = c + d - lambda*g
// with lambda < 2^40); what a capped levy leaves carries forward like any uncovered part.
inline constexpr std::int64_t kMaxLevyPerContract = (std::int64_t{1} << 40) - 1;

// The shortfall levy per contract of gross position (docs/design.md section 6): lambda =
// ceil(deficit / gross_prev) for a fund equity below 0, else 0; 0 as well without a base
// (gross_prev = 0: nobody held a position at the last round's refreshes). Capped at `cap`.
std::int64_t shortfall_levy(i128 fund_equity, i128 gross_prev, std::int64_t cap);

}  // namespace pfex::market
