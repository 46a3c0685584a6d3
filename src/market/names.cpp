// The name tables; see names.hpp.
#include "market/names.hpp"

#include <array>
#include <span>
#include <utility>

namespace pfex::market {
namespace {

template <class E>
using NameTable = std::span<const std::pair<E, std::string_view>>;

constexpr std::array<std::pair<Side, std::string_view>, 2> kSides = {{
    {Side::kBuy, "buy"},
    {Side::kSell, "sell"},
}};
constexpr std::array<std::pair<OrderType, std::string_view>, 5> kOrderTypes = {{
    {OrderType::kLimit, "limit"},
    {OrderType::kImmediateOrCancel, "ioc"},
    {OrderType::kFillOrKill, "fok"},
    {OrderType::kPostOnly, "post-only"},
    {OrderType::kMarket, "market"},
}};
static_assert(kOrderTypes.size() == kMaxOrderType + 1, "every order type has a name");
constexpr std::array<std::pair<Phase, std::string_view>, 3> kPhases = {{
    {Phase::kTrading, "trading"},
    {Phase::kRefreshWindow, "refresh-window"},
    {Phase::kClosed, "closed"},
}};
constexpr std::array<std::pair<AccountStatus, std::string_view>, 3> kStatuses = {{
    {AccountStatus::kActive, "active"},
    {AccountStatus::kDefaulted, "defaulted"},
    {AccountStatus::kExited, "exited"},
}};

template <class E>
std::string_view name_of(NameTable<E> table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";  // only for a value cast from outside the enumeration
}

template <class E>
std::string names_of(NameTable<E> table) {
  std::string out;
  for (const auto& [v, name] : table) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

template <class E>
Result<E> parse(NameTable<E> table, std::string_view what, std::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return Status::invalid_argument("unknown " + std::string(what) + " \"" + std::string(name) +
                                  "\" (" + names_of(table) + ")");
}

}  // namespace

std::string_view side_name(Side s) {
  return name_of<Side>(kSides, s);
}
std::string_view order_type_name(OrderType t) {
  return name_of<OrderType>(kOrderTypes, t);
}
std::string_view phase_name(Phase p) {
  return name_of<Phase>(kPhases, p);
}
std::string_view account_status_name(AccountStatus s) {
  return name_of<AccountStatus>(kStatuses, s);
}

Result<Side> parse_side(std::string_view name) {
  return parse<Side>(kSides, "side", name);
}
Result<OrderType> parse_order_type(std::string_view name) {
  return parse<OrderType>(kOrderTypes, "order type", name);
}
Result<Phase> parse_phase(std::string_view name) {
  return parse<Phase>(kPhases, "phase", name);
}
Result<AccountStatus> parse_account_status(std::string_view name) {
  return parse<AccountStatus>(kStatuses, "account status", name);
}

std::string side_names() {
  return names_of<Side>(kSides);
}
std::string order_type_names() {
  return names_of<OrderType>(kOrderTypes);
}
std::string phase_names() {
  return names_of<Phase>(kPhases);
}
std::string account_status_names() {
  return names_of<AccountStatus>(kStatuses);
}

}  // namespace pfex::market
