// Checked integer arithmetic: overflow is a reported error, never undefined behaviour.
//
// Checked<T> carries a value and a sticky overflow flag through a whole formula, so a constraint
// such as `c - QB*k - f*B + (v+B)*L*k` is written once and checked once:
//
//   Checked<i128> e = Checked<i128>(c) - Checked<i128>(qb) * k - ...;
//   if (e.overflowed()) return Status::overflow(...);
//
// Built on the compiler's __builtin_*_overflow, which is exact for every signed type including
// __int128. Constant time in the operands' values (no data-dependent branches).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.hpp"

namespace pfex {

// 128-bit integers for intermediate products; __extension__ keeps -Wpedantic quiet.
__extension__ typedef __int128 i128;           // NOLINT(modernize-use-using)
__extension__ typedef unsigned __int128 u128;  // NOLINT(modernize-use-using)

template <class T>
class Checked {
 public:
  constexpr Checked() = default;
  constexpr Checked(T v) : v_(v) {}  // NOLINT(google-explicit-constructor)

  constexpr bool overflowed() const { return overflow_; }
  // The value; meaningful only when !overflowed().
  constexpr T value() const { return v_; }

  friend constexpr Checked operator+(Checked a, Checked b) {
    Checked r;
    r.overflow_ = __builtin_add_overflow(a.v_, b.v_, &r.v_) | a.overflow_ | b.overflow_;
    return r;
  }
  friend constexpr Checked operator-(Checked a, Checked b) {
    Checked r;
    r.overflow_ = __builtin_sub_overflow(a.v_, b.v_, &r.v_) | a.overflow_ | b.overflow_;
    return r;
  }
  friend constexpr Checked operator*(Checked a, Checked b) {
    Checked r;
    r.overflow_ = __builtin_mul_overflow(a.v_, b.v_, &r.v_) | a.overflow_ | b.overflow_;
    return r;
  }
  constexpr Checked& operator+=(Checked b) { return *this = *this + b; }
  constexpr Checked& operator-=(Checked b) { return *this = *this - b; }

 private:
  T v_ = 0;
  bool overflow_ = false;
};

// Narrows a checked wide value to int64, reporting overflow or a value out of int64's range.
template <class T>
[[nodiscard]] Result<std::int64_t> to_int64(Checked<T> x, std::string_view what) {
  std::int64_t out = 0;
  if (x.overflowed() || __builtin_add_overflow(x.value(), T{0}, &out)) {
    return Status::overflow(std::string(what) + " does not fit in 64 bits");
  }
  return out;
}

// a + b, a - b, a * b on int64 with an error naming `what` on overflow.
[[nodiscard]] inline Result<std::int64_t> checked_add(std::int64_t a, std::int64_t b,
                                                      std::string_view what) {
  return to_int64(Checked<std::int64_t>(a) + b, what);
}
[[nodiscard]] inline Result<std::int64_t> checked_sub(std::int64_t a, std::int64_t b,
                                                      std::string_view what) {
  return to_int64(Checked<std::int64_t>(a) - b, what);
}
[[nodiscard]] inline Result<std::int64_t> checked_mul(std::int64_t a, std::int64_t b,
                                                      std::string_view what) {
  return to_int64(Checked<std::int64_t>(a) * b, what);
}

// floor(a / b) and ceil(a / b) for b > 0 (C++ division truncates toward zero).
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && a > 0) ? q + 1 : q;
}
constexpr i128 floor_div(i128 a, i128 b) {
  i128 q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
constexpr i128 ceil_div(i128 a, i128 b) {
  i128 q = a / b;
  return (a % b != 0 && a > 0) ? q + 1 : q;
}

}  // namespace pfex
