// The names of the market's enumerations as people type and read them (scenario files, the
// command line, reports, JSON outcomes): one table per enumeration (names.cpp), so that every
// parser and every printer spells a value the same way. Parsing is exact (case and hyphens
// matter); an unknown name is kInvalidArgument listing the accepted ones.
#pragma once

#include <string>
#include <string_view>

#include "core/status.hpp"
#include "market/account.hpp"
#include "market/types.hpp"

namespace pfex::market {

std::string_view side_name(Side s);             // "buy", "sell"
std::string_view order_type_name(OrderType t);  // "limit", "ioc", "fok", "post-only", "market"
std::string_view phase_name(Phase p);           // "trading", "refresh-window", "closed"
std::string_view account_status_name(AccountStatus s);  // "active", "defaulted", "exited"

Result<Side> parse_side(std::string_view name);
Result<OrderType> parse_order_type(std::string_view name);
Result<Phase> parse_phase(std::string_view name);
Result<AccountStatus> parse_account_status(std::string_view name);

// The accepted names of each enumeration in table order, comma-separated: for help texts.
std::string side_names();
std::string order_type_names();
std::string phase_names();
std::string account_status_names();

}  // namespace pfex::market
