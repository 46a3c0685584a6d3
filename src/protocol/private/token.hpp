// Tokens and windows (docs/protocol/private.md sections 2 and 3).
//
// A token commits to a trader's whole inventory:
//     C = r*H + kappa*G_kappa + sn*G_sn + c*G_c + v+*G_vp + v-*G_vm + B*G_B + S*G_S + QB*G_QB +
//     QS*G_QS
// A window (epoch, s, t) names the N points a spend hides its token among: N consecutive tokens of
// the epoch's list, or, while the list is shorter than N, its first t tokens and dummy points.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "protocol/private/params.hpp"

namespace pfex::priv {

// The seven attributes, in the order of PrivateGens::attributes(). Secret in a wallet: wiped on
// destruction.
struct Attributes {
  std::int64_t c = 0;    // cash, minor units (may be negative)
  std::uint64_t vp = 0;  // v+
  std::uint64_t vm = 0;  // v-
  std::uint64_t B = 0;   // open buy quantity
  std::uint64_t S = 0;   // open sell quantity
  std::uint64_t QB = 0;  // sum of price x quantity over open buys (ticks x contracts)
  std::uint64_t QS = 0;

  ~Attributes();
  Attributes() = default;
  Attributes(const Attributes&) = default;
  Attributes& operator=(const Attributes&) = default;
  friend bool operator==(const Attributes&, const Attributes&) = default;

  // The seven values as scalars (c mod l for a negative c). Constant time.
  std::array<Scalar, 7> scalars() const;
};

// Everything needed to spend a token. Secret: the scalars wipe themselves, the attributes too.
struct TokenOpening {
  Scalar r;
  Scalar kappa;
  Scalar sn;
  Attributes a;

  // C. Constant time in every field.
  Point commit(const PrivateGens& gens) const;
};

// A fresh uniform non-zero scalar (serials must not be 0).
Scalar random_nonzero_scalar();

struct Window {
  std::uint64_t epoch = 0;
  std::uint64_t start = 0;   // s
  std::uint64_t length = 0;  // t: tokens of the list in the window (the rest are dummy points)

  friend bool operator==(const Window&, const Window&) = default;
  void encode(Writer& w) const;
  // Strict: 1 <= t <= N, and s = 0 when t < N (kInvalidArgument through the reader).
  static Window decode(Reader& r, std::size_t window_size);
};

// Whether `w` is a valid window of a list that now has `list_length` tokens.
Status check_window(const Window& w, std::size_t list_length, std::size_t window_size);

// The window's N points: list[s, s+t) followed by dummy_point(epoch, t .. N-1).
// kInvalidArgument / kFailedPrecondition as check_window.
Result<std::vector<Point>> window_points(const Window& w, std::span<const Point> list,
                                         std::size_t window_size);

// The window a wallet names to spend the token at `index` of a list of `list_length` tokens: the
// one ending at the newest token (the largest anonymity set) when it holds the token, else the
// aligned block of N tokens that does. index < list_length.
Window newest_window(std::uint64_t epoch, std::size_t index, std::size_t list_length,
                     std::size_t window_size);

}  // namespace pfex::priv
