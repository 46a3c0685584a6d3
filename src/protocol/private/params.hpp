// The private exchange's public parameters (docs/protocol/private.md sections 1 and 3): the
// generators of tokens, tags and the chain key, the proof systems' generators, the dummy points
// that fill a short window, and the market terms every relation uses (tick value, fee, band,
// margin, window size). Everything here is public.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/checked.hpp"
#include "core/hash.hpp"
#include "core/status.hpp"
#include "crypto/bulletproof.hpp"
#include "crypto/one_of_many.hpp"
#include "crypto/pedersen.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"

namespace pfex::priv {

using crypto::Point;
using crypto::Scalar;

// The market cap on the cash supply (docs/design.md section 5): bounds every cash value.
inline constexpr std::int64_t kCashSupplyCap = std::int64_t{1} << 46;
// Highest price in ticks (the transparent exchange's limit; keeps p*q*k inside 64 bits).
inline constexpr std::int64_t kMaxPriceTicks = std::int64_t{1} << 31;
// Settle entries per transaction.
inline constexpr std::size_t kMaxSettleEntries = 16;
// Values in a trading spend's range proof: E_L, E_H and the six range-checked attributes.
inline constexpr std::size_t kSpendRangeValues = 8;

// The terms of one market and epoch that the relations use. All public.
struct MarketTerms {
  Digest32 market_id{};
  std::uint64_t epoch = 0;
  std::size_t log_window = 10;  // n: windows have N = 2^n tokens
  std::int64_t tick_value = 1;  // k: cash per tick per contract
  std::int64_t fee = 0;         // f: per contract per fill, each side
  std::int64_t low = 1;         // L, ticks
  std::int64_t high = 1;        // H, ticks
  std::int64_t margin = 0;      // M: cash per contract
  std::int64_t max_order_qty = 1'000'000;
  std::int64_t bond = 0;          // posted by every identity at registration, forfeited on default
  std::int64_t exit_penalty = 0;  // pen: cash per contract taken from a defaulter's exit claim
  Point validators_key;           // PK of the validators' threshold ElGamal key
  std::array<std::uint8_t, 32> issuer{};  // Ed25519 key of the cash issuer (signs mints)

  std::size_t window_size() const { return std::size_t{1} << log_window; }
  bool in_band(std::int64_t price) const { return price >= low && price <= high; }
  // kInvalidArgument naming the first term out of range: n in [1, 16]; 1 <= L <= H <= 2^31;
  // k >= 1 and k*H < 2^40; 0 <= f, M, pen < 2^40; 1 <= max_order_qty < 2^32; 0 <= bond <= 2^46.
  Status validate() const;

  friend bool operator==(const MarketTerms&, const MarketTerms&) = default;
};

// Every generator of docs/protocol/private.md section 1, derived once (about 50 ms with the
// Bulletproof generators); share one instance, const access is thread-safe.
class PrivateGens {
 public:
  PrivateGens();
  PrivateGens(const PrivateGens&) = delete;
  PrivateGens& operator=(const PrivateGens&) = delete;

  const Point& G() const { return pedersen_.G(); }
  const Point& H() const { return pedersen_.H(); }
  const Point& kappa() const { return kappa_; }
  const Point& sn() const { return sn_; }
  // The seven attribute generators in the order of Attributes: c, v+, v-, B, S, QB, QS.
  const std::array<Point, 7>& attributes() const { return attributes_; }
  const Point& tag_kappa() const { return tag_kappa_; }
  const Point& tag_secret() const { return tag_secret_; }
  const Point& G_J() const { return G_J_; }

  const crypto::PedersenGens& pedersen() const { return pedersen_; }
  const crypto::BulletproofGens& bulletproofs() const { return bulletproofs_; }
  const crypto::OneOfManyGens& one_of_many() const { return one_of_many_; }

 private:
  crypto::PedersenGens pedersen_;
  Point kappa_, sn_;
  std::array<Point, 7> attributes_;
  Point tag_kappa_, tag_secret_, G_J_;
  crypto::BulletproofGens bulletproofs_;
  crypto::OneOfManyGens one_of_many_;
};

inline constexpr std::string_view kDummyDomain = "pfex/v1/dummy";

// The dummy point at position `index` of a short window of `epoch`:
// from_uniform_bytes(SHA-512("pfex/v1/dummy" || LE64(epoch) || LE32(index))). Nobody knows its
// opening, so it cannot be spent.
Point dummy_point(std::uint64_t epoch, std::uint32_t index);

// The integer x as a scalar (x mod l). For public values (variable time).
Scalar scalar_from_i128_var(i128 x);

}  // namespace pfex::priv
