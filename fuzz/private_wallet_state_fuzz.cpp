// Fuzzes the private wallet's state decoder (docs/node/private_wallet.md, "Format"), what the
// encrypted wallet file holds: any input either fails to decode or decodes to a wallet whose
// encoding is exactly the input (the encoding is canonical).
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "protocol/private/wallet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const pfex::priv::PrivateGens gens;
  const pfex::ByteSpan bytes(data, size);
  auto wallet = pfex::priv::PrivateWallet::decode_state(gens, bytes);
  if (!wallet.is_ok()) return 0;
  pfex::Bytes again;
  pfex::Writer w(&again);
  (*wallet)->encode_state(w);
  if (again.size() != bytes.size() || std::memcmp(again.data(), bytes.data(), bytes.size()) != 0) {
    std::abort();
  }
  return 0;
}
