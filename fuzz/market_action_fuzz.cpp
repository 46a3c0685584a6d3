// Fuzzes the transparent exchange's action decoder (protocol/action_codec.hpp) and the engine
// behind it:
//  - decode_action accepts only canonical encodings (re-encoding gives back the input);
//  - an input is split into actions applied to a small market; whatever they do, the book is
//    never crossed, money is conserved and positions sum to zero, and a rejected action leaves
//    the state hash unchanged unless ledger time moved.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "market/action.hpp"
#include "market/test_spec.hpp"
#include "protocol/action_codec.hpp"

namespace {

using namespace pfex;
using namespace pfex::market;
using pfex::protocol::decode_action;
using pfex::protocol::encode_action;

// The tests' contract, with a scheduled margin round every two minutes of ledger time.
ContractSpec fuzz_spec() {
  ContractSpec s = testing::small_spec();
  s.settlement_interval_ms = 120'000;
  return s;
}

void check(const Exchange& ex) {
  auto bid = ex.book().best(Side::kBuy);
  auto ask = ex.book().best(Side::kSell);
  if (bid && ask && !(*bid < *ask)) std::abort();
  std::int64_t money = 0;
  std::int64_t positions = 0;
  for (std::uint32_t i = 0; i < ex.account_count(); ++i) {
    Account a = *ex.account(AccountId{i});
    money += a.cash.value() + a.bond.value();
    positions += a.position;
  }
  if (money != ex.external_balance().value() || positions != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The whole input as one action: decoding must be canonical.
  Result<Action> whole = decode_action(ByteSpan(data, size));
  if (whole.is_ok()) {
    Bytes again = encode_action(*whole);
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
  }
  // Then as a stream: [u8 length][u8 time step][length bytes of action] ...
  Exchange ex = *Exchange::open(fuzz_spec(), Price(1000), LedgerTime(0));
  for (int i = 0; i < 4; ++i) {
    AccountId id = *ex.register_account(LedgerTime(0));
    (void)ex.deposit(LedgerTime(0), id, Cash(1'000'000));
  }
  std::int64_t now = 0;
  std::size_t pos = 0;
  while (pos + 2 <= size) {
    std::size_t len = data[pos];
    now += static_cast<std::int64_t>(data[pos + 1]) * 1000;
    pos += 2;
    if (len > size - pos) break;
    Result<Action> action = decode_action(ByteSpan(data + pos, len));
    pos += len;
    if (!action.is_ok()) continue;
    ex.advance(LedgerTime(now));
    Digest32 before = ex.state_hash();
    Result<ActionResult> r = apply_action(ex, LedgerTime(now), *action);
    if (!r.is_ok() && ex.state_hash() != before) std::abort();
    check(ex);
  }
  return 0;
}
