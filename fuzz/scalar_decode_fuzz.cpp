// Fuzzes scalar decoding (crypto/scalar.hpp): decode accepts exactly the 32-byte encodings of
// integers below the group order l (checked against libsodium's reduction: canonical iff reducing
// changes nothing), and an accepted scalar re-encodes to the input. 64-byte inputs check the wide
// reduction against libsodium's crypto_core_ristretto255_scalar_reduce.
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/hash.hpp"
#include "crypto/scalar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pfex::crypto::Scalar;
  pfex::ensure_sodium_init();
  const auto s = Scalar::decode(pfex::ByteSpan(data, size));
  if (size != Scalar::kBytes) {
    if (s.is_ok()) std::abort();
  } else {
    std::array<std::uint8_t, 64> wide{};
    std::memcpy(wide.data(), data, 32);
    Scalar::Encoding reduced;
    crypto_core_ristretto255_scalar_reduce(reduced.data(), wide.data());
    const bool canonical = std::memcmp(reduced.data(), data, 32) == 0;
    if (s.is_ok() != canonical) std::abort();
    if (s.is_ok() && std::memcmp(s->bytes().data(), data, 32) != 0) std::abort();
  }
  if (size == 64) {
    Scalar::Encoding want;
    crypto_core_ristretto255_scalar_reduce(want.data(), data);
    if (Scalar::from_bytes_mod_order_wide(std::span<const std::uint8_t, 64>(data, 64)).bytes() !=
        want) {
      std::abort();
    }
  }
  return 0;
}
