// Threshold decryption of a summed ElGamal ciphertext (docs/design.md section 6; the math is in
// docs/crypto/threshold-elgamal.md section 4): validator j publishes D_j = s_j*R with a DLEQ proof
// (Chaum-Pedersen, an instance of the linear sigma framework) that log_G Y_j = log_R D_j; any t
// valid shares give M = E - sum_j lambda_j*D_j = (sum v)*G by Lagrange interpolation at 0, and
// bsgs.hpp finds the sum.
//
// Creating a share is constant time in s_j; verification and combination handle public data and
// are variable time.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "crypto/bsgs.hpp"
#include "crypto/elgamal.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"
#include "crypto/sigma.hpp"
#include "crypto/transcript.hpp"

namespace pfex::crypto {

inline constexpr std::string_view kDecryptionShareDomain = "threshold-elgamal/decryption-share/v1";

// The DLEQ statement: witness s_j, bases (G, R), relations Y_j = s_j*G and D_j = s_j*R.
LinearStatement dleq_statement(const Point& Y, const Point& R, const Point& D);

// Validator `index`'s share of the decryption of one ciphertext. Wire format (130 bytes):
//   index (u16) || D (32) || DLEQ proof (A_Y, A_D, z: 96)
struct DecryptionShare {
  static constexpr std::size_t kBytes = 130;

  std::uint32_t index = 0;
  Point D;
  LinearProof proof{{}, {}};

  void encode(Writer& w) const;
  Bytes encode() const;
  // Strict; index must be in 1..kMaxDkgValidators (the caller checks it against n).
  static Result<DecryptionShare> decode(Reader& r);
  static Result<DecryptionShare> decode(ByteSpan bytes);
};

// D_j = s_j*R and its proof (note 4.1 steps 1-3), for validator `index` with share s_j.
// kInvalidArgument for index 0 or above kMaxDkgValidators. Constant time in s_j.
Result<DecryptionShare> create_decryption_share(std::uint32_t index, const Scalar& s_j,
                                                const Ciphertext& ct, Transcript& t);

// kInvalidProof if the proof does not show log_G Y_j = log_R D_j. Variable time.
Status verify_decryption_share(const DecryptionShare& share, const Point& Y_j, const Ciphertext& ct,
                               Transcript& t);

// For batch verification: appends weight * (the share's verification equation) to out. Advances t
// as verify_decryption_share does; weight must be the verifier's random choice.
Status append_decryption_share_verification_terms(const DecryptionShare& share, const Point& Y_j,
                                                  const Ciphertext& ct, Transcript& t,
                                                  const Scalar& weight, VerificationTerms& out);

// lambda_j = prod_{m != j} m / (m - j) for the given distinct non-zero indices, in their order.
// kInvalidArgument for a zero or repeated index.
Result<std::vector<Scalar>> lagrange_coefficients_at_zero(std::span<const std::uint32_t> indices);

// M = E - sum_j lambda_j * D_j over exactly t shares (note 4.2), which the caller has verified.
// kInvalidArgument for a share count other than t, or a zero or repeated index. Variable time.
Result<Point> combine_decryption_shares_var(std::span<const DecryptionShare> shares,
                                            std::uint32_t t, const Ciphertext& ct);

struct ThresholdDecryption {
  std::int64_t value = 0;               // sum of the plaintexts
  std::vector<std::uint32_t> used;      // the t indices combined, ascending
  std::vector<std::uint32_t> rejected;  // indices whose share failed verification
};

// The whole of note 4.2: verifies every share (each on a copy of `prefix`, the transcript its
// creator used), excludes the invalid ones, combines the t valid ones with the smallest indices and
// solves the discrete log within [-bound, bound]. verification_keys[j-1] is Y_j; n is their count.
// Errors: kInvalidArgument for an index outside 1..n or a repeated index; kFailedPrecondition
// with fewer than t valid shares; kNotFound if the sum is out of range. Variable time.
Result<ThresholdDecryption> decrypt_threshold(std::span<const Point> verification_keys,
                                              std::uint32_t t, const Ciphertext& ct,
                                              std::span<const DecryptionShare> shares,
                                              const Transcript& prefix,
                                              const DiscreteLogTable& table,
                                              std::uint64_t bound = kDefaultDiscreteLogBound);

}  // namespace pfex::crypto
