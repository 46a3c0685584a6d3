// Fuzzes ristretto255 point decoding (crypto/point.hpp) against its contract and libsodium:
//  - decode accepts exactly 32-byte canonical valid encodings, and then re-encodes to the input;
//  - acceptance agrees with libsodium's crypto_core_ristretto255_is_valid_point, except that
//    libsodium 1.0.18 ignores the top bit (RFC 9496 rejects it, and so do we);
//  - a 64-byte input maps to the same element as libsodium's crypto_core_ristretto255_from_hash.
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/hash.hpp"
#include "crypto/point.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pfex::crypto::Point;
  pfex::ensure_sodium_init();
  const pfex::ByteSpan in(data, size);
  const auto p = Point::decode(in);
  if (size != Point::kBytes) {
    if (p.is_ok()) std::abort();
  } else {
    const bool top_bit = (data[31] & 0x80) != 0;
    const bool sodium_ok = !top_bit && crypto_core_ristretto255_is_valid_point(data) == 1;
    if (p.is_ok() != sodium_ok) std::abort();
    if (p.is_ok()) {
      const auto enc = p->encode();
      if (std::memcmp(enc.data(), data, Point::kBytes) != 0) std::abort();
      if (!(Point::decode(enc).value() == *p)) std::abort();
    }
  }
  if (size == 64) {
    Point::Encoding want;
    crypto_core_ristretto255_from_hash(want.data(), data);
    const auto got =
        Point::from_uniform_bytes(std::span<const std::uint8_t, 64>(data, 64)).encode();
    if (got != want) std::abort();
  }
  return 0;
}
