// Aggregated 64-bit Bulletproof range proofs (Bünz, Bootle, Boneh, Poelstra, Wuille, Maxwell 2018,
// sections 4.1, 4.3 and 6.2): one proof that each of m Pedersen commitments
//     V_j = v_j*G + gamma_j*H      (G the base point, H = blinding_generator(), pedersen.hpp)
// opens to a value in [0, 2^64), for m in {1, 2, 4, 8, 16}, in 32 * (9 + 2 lg(64 m)) bytes.
// The math (statement, generators, numbered prover steps, the verifier as one MSM, batch
// verification, soundness) is docs/crypto/bulletproofs.md; the code follows its step numbers.
//
// Proving is constant time in the values and blinding factors (and the prover's nonces).
// Verification is variable time (public data only). Single verification is one msm_var; batch
// verification of many proofs (or of a block's mixed proofs, through append_verification_terms)
// is one msm_var with the shared generators' coefficients merged.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "crypto/generators.hpp"
#include "crypto/inner_product.hpp"
#include "crypto/pedersen.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"
#include "crypto/transcript.hpp"
#include "crypto/verification_terms.hpp"

namespace pfex::crypto {

inline constexpr std::string_view kRangeProofDomain = "bulletproof/range/v2";
inline constexpr std::string_view kBulletproofLabel = "bp";

// The generators of the range proof (bulletproofs.md section 2): G_i = generator(label + "/G", i),
// H_i = generator(label + "/H", i) for i < 64 * max_values, Q_0 = generator(label + "/Q", 0), and
// the Pedersen pair (G, H) with its fixed-base tables. Deriving 2048 generators costs a few tens
// of milliseconds: build one at start-up and share it between provers and verifiers (const access
// is thread-safe). The label exists so that tests can show proofs do not transfer between
// generator sets; production code uses the default.
class BulletproofGens {
 public:
  static constexpr std::size_t kBits = 64;
  static constexpr std::size_t kMaxValues = 16;

  explicit BulletproofGens(std::string label = std::string(kBulletproofLabel),
                           std::size_t max_values = kMaxValues);
  BulletproofGens(const BulletproofGens&) = delete;  // large: share by reference
  BulletproofGens& operator=(const BulletproofGens&) = delete;

  const std::string& label() const { return label_; }
  // The largest m this set supports.
  std::size_t max_values() const { return G_.size() / kBits; }
  const GeneratorSet& G_vec() const { return G_; }
  const GeneratorSet& H_vec() const { return H_; }
  const Point& Q() const { return Q_; }
  const PedersenGens& pedersen() const { return pedersen_; }

 private:
  std::string label_;
  GeneratorSet G_;
  GeneratorSet H_;
  Point Q_;
  PedersenGens pedersen_;
};

struct RangeProofWithCommitments;
namespace detail {
struct RangeProofAccess;  // prover and verifier internals (bulletproof_internal.hpp)
}

class RangeProof {
 public:
  static constexpr std::size_t kBits = BulletproofGens::kBits;

  // m in {1, 2, 4, 8, 16}.
  static bool is_valid_value_count(std::size_t m);
  // 32 * (9 + 2 lg(64 m)) for a valid m: 672, 736, 800, 864, 928.
  static std::size_t encoded_size(std::size_t m);

  // Proves that every values[j] is in [0, 2^64) (always true of a uint64: the prover cannot make
  // a false statement) and returns the proof with the commitments V_j = values[j]*G +
  // blindings[j]*H it proves about, in order; the verifier needs exactly those. The transcript
  // must be in the state the verifier's will be in (the caller absorbs its context first).
  // Constant time in values and blindings. kInvalidArgument if values.size() is not a valid m,
  // exceeds gens.max_values(), or differs from blindings.size(); kFailedPrecondition in the
  // 2^-252 event of a zero challenge.
  static Result<RangeProofWithCommitments> prove(const BulletproofGens& gens,
                                                 Transcript& transcript,
                                                 std::span<const std::uint64_t> values,
                                                 std::span<const Scalar> blindings);

  // Checks the proof against the commitments (their number is m). kInvalidArgument if
  // commitments.size() is not this proof's m or exceeds gens.max_values(); kInvalidProof if the
  // proof does not verify (including an identity A, S, T1, T2, L_k or R_k). One msm_var.
  Status verify(const BulletproofGens& gens, Transcript& transcript,
                std::span<const Point> commitments) const;

  // Replays the transcript and appends this proof's verification equation, multiplied by weight
  // (a random scalar chosen by the verifier, fresh per equation), to the current entry of terms:
  // for a block- or transaction-wide MSM (verification_terms.hpp). The equation holds iff the
  // proof is valid (with probability 1 - 1/l over the verifier's randomness). Errors as for
  // verify(); on error no term is added and the current entry is refused (terms fails closed).
  Status append_verification_terms(const BulletproofGens& gens, Transcript& transcript,
                                   std::span<const Point> commitments, const Scalar& weight,
                                   VerificationTerms& terms) const;

  // The number of values m this proof is for.
  std::size_t num_values() const { return (std::size_t{1} << ipp_.L.size()) / kBits; }

  // A, S, T1, T2, t_hat, tau_x, mu, (L_k, R_k)..., a, b: encoded_size(m) bytes (section 10).
  Bytes encode() const;
  // Strict: m must be valid and bytes exactly encoded_size(m) long with canonical points and
  // scalars, else kInvalidArgument. Identity points decode (verification rejects them).
  static Result<RangeProof> decode(ByteSpan bytes, std::size_t m);

 private:
  friend struct detail::RangeProofAccess;
  RangeProof() = default;

  ProofPoint A_;
  ProofPoint S_;
  ProofPoint T1_;
  ProofPoint T2_;
  Scalar t_hat_;
  Scalar tau_x_;
  Scalar mu_;
  InnerProductProof ipp_;
};

struct RangeProofWithCommitments {
  RangeProof proof;
  std::vector<Point> commitments;  // V_j, in the order of the values
};

// One proof of a batch: its own transcript (in the state verify() would get it), the proof and
// its commitments. Everything must outlive the call.
struct RangeProofBatchItem {
  Transcript* transcript;
  const RangeProof* proof;
  std::span<const Point> commitments;
};

// Verifies every item with one msm_var (bulletproofs.md section 9): each proof's
// append_verification_terms() under an independent random weight, as one entry of a
// VerificationTerms (the shared generators' coefficients summed across proofs). Proofs may have
// different m. On failure the shared bisection (find_failing) finds every bad proof; the
// kInvalidProof error names their indices, and if bad_indices is given it receives them, sorted
// (it is cleared on success). kInvalidArgument (naming the index) for an item whose commitment
// count does not match its proof. An empty batch verifies.
Status verify_batch(const BulletproofGens& gens, std::span<const RangeProofBatchItem> items,
                    std::vector<std::size_t>* bad_indices = nullptr);

}  // namespace pfex::crypto
