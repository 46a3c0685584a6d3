// Human-readable views of an exchange for the CLI, the demo and scenario runs: one line per event,
// and tables of the book, the trades and the accounts (cash, position, margin, constraint slack).
// Formatting only; nothing here changes state.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "market/exchange.hpp"

namespace pfex::sim {

// names[account id] -> display name ([0] is the insurance fund).
using Names = std::vector<std::string>;

std::string describe_event(const market::Exchange& ex, const market::Event& e, const Names& names);
std::string book_table(const market::Exchange& ex, std::size_t depth = 5);
// The last trades among `events` (every event since the market opened); the first form reads
// ex.events(), which a ledger replica's exchange does not keep.
std::string trades_table(const market::Exchange& ex, std::span<const market::Event> events,
                         const Names& names, std::size_t last = 10);
std::string trades_table(const market::Exchange& ex, const Names& names, std::size_t last = 10);
std::string accounts_table(const market::Exchange& ex, const Names& names);
std::string market_line(const market::Exchange& ex);

// The outcome as JSON (book, trades, accounts, market state, state hash): what the transparent and
// private modes must agree on, in a form two runs can be compared by.
std::string outcome_json(const market::Exchange& ex, std::span<const market::Event> events,
                         const Names& names);
std::string outcome_json(const market::Exchange& ex, const Names& names);

}  // namespace pfex::sim
