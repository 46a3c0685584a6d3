// Scalar: an integer modulo the ristretto255 group order
// l = 2^252 + 27742317777372353535851937790883648493 (RFC 9496 section 4.4).
//
// Held as its canonical 32-byte little-endian encoding (always < l). decode() rejects anything
// non-canonical with an error and never reduces silently; the reducing constructors say so in
// their names. Arithmetic is constant time (libsodium's crypto_core_ristretto255_scalar_*, the
// reference the tests compare against). A Scalar may be secret: its bytes are wiped when it is
// destroyed.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/codec.hpp"
#include "core/status.hpp"

namespace pfex::crypto {

class Scalar {
 public:
  static constexpr std::size_t kBytes = 32;
  using Encoding = std::array<std::uint8_t, kBytes>;

  Scalar() = default;  // zero
  Scalar(const Scalar&) = default;
  Scalar& operator=(const Scalar&) = default;
  ~Scalar();

  static Scalar zero() { return Scalar(); }
  static Scalar one() { return from_u64(1); }
  static Scalar from_u64(std::uint64_t v);

  // Strict decoding: exactly 32 bytes encoding an integer below l, else kInvalidArgument.
  static Result<Scalar> decode(ByteSpan bytes);
  // 64 bytes read as a little-endian integer and reduced mod l (uniform for uniform input).
  static Scalar from_bytes_mod_order_wide(std::span<const std::uint8_t, 64> bytes);
  // SHA-512 of the input, reduced mod l: hash to scalar. Domain separation is the caller's
  // (transcripts prefix their labels).
  static Scalar hash(ByteSpan data);
  // Uniform in [0, l) (64 bytes of libsodium's CSPRNG reduced mod l). Constant time.
  static Scalar random();

  const Encoding& bytes() const { return bytes_; }
  Encoding encode() const { return bytes_; }

  // Constant time.
  bool is_zero() const;
  friend bool operator==(const Scalar& a, const Scalar& b);

  friend Scalar operator+(const Scalar& a, const Scalar& b);
  friend Scalar operator-(const Scalar& a, const Scalar& b);
  friend Scalar operator*(const Scalar& a, const Scalar& b);
  Scalar operator-() const;
  Scalar& operator+=(const Scalar& b) { return *this = *this + b; }
  Scalar& operator-=(const Scalar& b) { return *this = *this - b; }
  Scalar& operator*=(const Scalar& b) { return *this = *this * b; }

  // 1/a, constant time except that whether a is zero (an error) is revealed.
  Result<Scalar> invert() const;
  // Replaces every element with its inverse using one inversion (Montgomery's trick). If any
  // element is zero, returns kInvalidArgument and leaves the span unchanged.
  static Status batch_invert(std::span<Scalar> scalars);

 private:
  Encoding bytes_{};
};

}  // namespace pfex::crypto
