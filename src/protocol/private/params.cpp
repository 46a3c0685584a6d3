#include "protocol/private/params.hpp"

#include <sodium.h>

#include <string>

#include "crypto/generators.hpp"

namespace pfex::priv {
namespace {

Status term_error(std::string_view what) {
  return Status::invalid_argument("market terms: " + std::string(what));
}

}  // namespace

Status MarketTerms::validate() const {
  constexpr std::int64_t kLimit = std::int64_t{1} << 40;
  if (log_window < crypto::kOneOfManyMinLogSize || log_window > crypto::kOneOfManyMaxLogSize)
    return term_error("window size 2^" + std::to_string(log_window) + " outside [2^1, 2^16]");
  if (low < 1 || low > high || high > kMaxPriceTicks)
    return term_error("band [" + std::to_string(low) + ", " + std::to_string(high) +
                      "] must satisfy 1 <= L <= H <= 2^31");
  if (tick_value < 1 || tick_value > kLimit / high) return term_error("k*H must be in [1, 2^40)");
  if (fee < 0 || fee >= kLimit) return term_error("fee must be in [0, 2^40)");
  if (margin < 0 || margin >= kLimit) return term_error("margin must be in [0, 2^40)");
  if (max_order_qty < 1 || max_order_qty >= (std::int64_t{1} << 32))
    return term_error("max order quantity must be in [1, 2^32)");
  if (exit_penalty < 0 || exit_penalty >= kLimit)
    return term_error("exit penalty must be in [0, 2^40)");
  if (bond < 0 || bond > kCashSupplyCap) return term_error("bond must be in [0, 2^46]");
  return Status::ok();
}

PrivateGens::PrivateGens()
    : kappa_(crypto::derive_generator("token/kappa", 0)),
      sn_(crypto::derive_generator("token/sn", 0)),
      attributes_{crypto::derive_generator("token/c", 0),  crypto::derive_generator("token/v+", 0),
                  crypto::derive_generator("token/v-", 0), crypto::derive_generator("token/B", 0),
                  crypto::derive_generator("token/S", 0),  crypto::derive_generator("token/QB", 0),
                  crypto::derive_generator("token/QS", 0)},
      tag_kappa_(crypto::derive_generator("order/kappa", 0)),
      tag_secret_(crypto::derive_generator("order/secret", 0)),
      G_J_(crypto::derive_generator("chain/J", 0)),
      bulletproofs_(std::string(crypto::kBulletproofLabel), 16) {}

Point dummy_point(std::uint64_t epoch, std::uint32_t index) {
  Bytes preimage(kDummyDomain.begin(), kDummyDomain.end());
  for (int i = 0; i < 8; ++i)
    preimage.push_back(static_cast<std::uint8_t>(epoch >> (8 * i)));
  for (int i = 0; i < 4; ++i)
    preimage.push_back(static_cast<std::uint8_t>(index >> (8 * i)));
  std::array<std::uint8_t, 64> digest{};
  crypto_hash_sha512(digest.data(), preimage.data(), preimage.size());
  return Point::from_uniform_bytes(digest);
}

Scalar scalar_from_i128_var(i128 x) {
  const bool negative = x < 0;
  const u128 magnitude = negative ? static_cast<u128>(-(x + 1)) + 1 : static_cast<u128>(x);
  const Scalar two64 =
      Scalar::from_u64(std::uint64_t{1} << 32) * Scalar::from_u64(std::uint64_t{1} << 32);
  const Scalar s = Scalar::from_u64(static_cast<std::uint64_t>(magnitude)) +
                   two64 * Scalar::from_u64(static_cast<std::uint64_t>(magnitude >> 64));
  return negative ? -s : s;
}

}  // namespace pfex::priv
