// Fuzzes the private transaction decoder (docs/protocol/private.md, "Codec"): any input either
// fails to decode or decodes to a transaction whose encoding is exactly the input (the encoding
// is canonical, so no two byte strings name one transaction). The first input byte picks the
// market's window size, 2^1 .. 2^12 tokens, since proof sizes depend on it.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "protocol/private/transaction.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t log_window = 1 + data[0] % 12;
  const pfex::ByteSpan bytes(data + 1, size - 1);
  pfex::Result<pfex::priv::PrivateTx> tx = pfex::priv::decode(bytes, log_window);
  if (!tx.is_ok()) return 0;
  const pfex::Bytes again = pfex::priv::encode(*tx);
  if (again.size() != bytes.size() || std::memcmp(again.data(), bytes.data(), bytes.size()) != 0) {
    std::abort();
  }
  return 0;
}
