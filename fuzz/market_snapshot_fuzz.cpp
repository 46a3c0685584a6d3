// Fuzzes Exchange::restore: any input is either rejected with an error or restores an exchange
// whose snapshot() is byte-for-byte the input (the snapshot encoding is canonical), and which
// then accepts an order and a time jump without breaking its invariants.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "market/exchange.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pfex;
  using namespace pfex::market;
  Result<Exchange> ex = Exchange::restore(ByteSpan(data, size));
  if (!ex.is_ok()) return 0;
  Bytes again = ex->snapshot();
  if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
  if (ex->account_count() > 1) {
    OrderRequest r{Side::kBuy, OrderType::kLimit, ex->band().reference, Qty(1)};
    (void)ex->submit(ex->time(), AccountId{1}, r);
  }
  auto bid = ex->book().best(Side::kBuy);
  auto ask = ex->book().best(Side::kSell);
  if (bid && ask && !(*bid < *ask)) std::abort();
  return 0;
}
