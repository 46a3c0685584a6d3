#include "crypto/scalar.hpp"

#include <sodium.h>

#include <array>
#include <vector>

#include "core/hash.hpp"
#include "crypto/ct.hpp"

namespace pfex::crypto {
namespace {

// l, little-endian.
constexpr Scalar::Encoding kOrder = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

// 1 if s < l, else 0: the borrow out of s - l. Constant time.
unsigned is_canonical(const std::uint8_t* s) {
  unsigned borrow = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const unsigned diff = unsigned{s[i]} - unsigned{kOrder[i]} - borrow;
    borrow = (diff >> 8) & 1;
  }
  return borrow;
}

}  // namespace

Scalar::~Scalar() {
  sodium_memzero(bytes_.data(), bytes_.size());
}

Scalar Scalar::from_u64(std::uint64_t v) {
  Scalar r;
  for (std::size_t i = 0; i < 8; ++i)
    r.bytes_[i] = static_cast<std::uint8_t>(v >> (8 * i));
  return r;  // below 2^64 < l, canonical
}

Result<Scalar> Scalar::decode(ByteSpan bytes) {
  if (bytes.size() != kBytes) {
    return Status::invalid_argument("scalar encoding must be 32 bytes, got " +
                                    std::to_string(bytes.size()));
  }
  const unsigned canonical = is_canonical(bytes.data());
  // Whether an encoding is accepted is public: the caller learns it from the result anyway.
  declassify(canonical);
  if (!canonical) {
    return Status::invalid_argument("scalar encoding is not canonical (not below the order)");
  }
  Scalar r;
  std::copy(bytes.begin(), bytes.end(), r.bytes_.begin());
  return r;
}

Scalar Scalar::from_bytes_mod_order_wide(std::span<const std::uint8_t, 64> bytes) {
  ensure_sodium_init();
  Scalar r;
  crypto_core_ristretto255_scalar_reduce(r.bytes_.data(), bytes.data());
  return r;
}

Scalar Scalar::hash(ByteSpan data) {
  Digest64 d = sha512(data);
  Scalar r = from_bytes_mod_order_wide(d);
  sodium_memzero(d.data(), d.size());
  return r;
}

Scalar Scalar::random() {
  ensure_sodium_init();
  // 64 bytes reduced mod l (bias below 2^-259), not libsodium's rejection sampling: the draw
  // stays constant time, so the constant-time check can mark the random bytes secret.
  std::array<std::uint8_t, 64> wide;
  randombytes_buf(wide.data(), wide.size());
  Scalar r = from_bytes_mod_order_wide(wide);
  sodium_memzero(wide.data(), wide.size());
  return r;
}

bool Scalar::is_zero() const {
  return sodium_is_zero(bytes_.data(), bytes_.size()) == 1;
}

bool operator==(const Scalar& a, const Scalar& b) {
  return sodium_memcmp(a.bytes_.data(), b.bytes_.data(), Scalar::kBytes) == 0;
}

Scalar operator+(const Scalar& a, const Scalar& b) {
  Scalar r;
  crypto_core_ristretto255_scalar_add(r.bytes_.data(), a.bytes_.data(), b.bytes_.data());
  return r;
}

Scalar operator-(const Scalar& a, const Scalar& b) {
  Scalar r;
  crypto_core_ristretto255_scalar_sub(r.bytes_.data(), a.bytes_.data(), b.bytes_.data());
  return r;
}

Scalar operator*(const Scalar& a, const Scalar& b) {
  Scalar r;
  crypto_core_ristretto255_scalar_mul(r.bytes_.data(), a.bytes_.data(), b.bytes_.data());
  return r;
}

Scalar Scalar::operator-() const {
  Scalar r;
  crypto_core_ristretto255_scalar_negate(r.bytes_.data(), bytes_.data());
  return r;
}

Result<Scalar> Scalar::invert() const {
  Scalar r;
  const int rc = crypto_core_ristretto255_scalar_invert(r.bytes_.data(), bytes_.data());
  // The only failure is a zero input; revealing whether the input was zero is the contract.
  declassify(rc);
  if (rc != 0) {
    return Status::invalid_argument("cannot invert the zero scalar");
  }
  return r;
}

Status Scalar::batch_invert(std::span<Scalar> scalars) {
  for (const Scalar& s : scalars) {
    const bool zero = s.is_zero();
    // Revealing that some input was zero (not which value) is the contract.
    declassify(zero);
    if (zero) return Status::invalid_argument("cannot invert the zero scalar");
  }
  if (scalars.empty()) return Status::ok();
  std::vector<Scalar> prefix(scalars.size());
  Scalar acc = one();
  for (std::size_t i = 0; i < scalars.size(); ++i) {
    prefix[i] = acc;
    acc *= scalars[i];
  }
  PFEX_ASSIGN_OR_RETURN(Scalar inv, acc.invert());
  for (std::size_t i = scalars.size(); i-- > 0;) {
    const Scalar r = inv * prefix[i];
    inv *= scalars[i];
    scalars[i] = r;
  }
  return Status::ok();
}

}  // namespace pfex::crypto
