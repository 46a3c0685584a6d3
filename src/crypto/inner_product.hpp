// The inner-product argument of Bulletproofs (Bünz et al. 2018, section 3, protocols 1 and 2),
// the logarithmic core of the range proof. The math, with the symbols used here, is in
// docs/crypto/bulletproofs.md section 7.
//
// The prover shows knowledge of vectors a, b of length n (a power of two) with
//     P = <a, G> + <b, H'> + <a, b> Q,      H'_i = h^i * H_i
// in lg n rounds, each sending (L_k, R_k) and halving the vectors, and ends with the scalars a, b.
// The factor h (y^-1 in the range proof) is folded into the prover's generator folding, so H' is
// never computed. The verifier side is split into pieces (challenges, the s_i coefficients) so
// that the range proof can merge them into its single MSM; there is no standalone verifier.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"
#include "crypto/transcript.hpp"

namespace pfex::crypto {

// A point of a proof together with its canonical encoding. Absorbing a point into a transcript
// needs its encoding, which costs an inverse square root (about as much as 60 scalar
// multiplications); a decoded proof already has it, so verification reuses it instead of
// re-encoding 20-odd points per proof.
struct ProofPoint {
  ProofPoint() = default;  // the identity, encoded as 32 zero bytes
  explicit ProofPoint(const Point& p) : point(p), encoding(p.encode()) {}
  // Strict, as Point::decode.
  static Result<ProofPoint> decode(ByteSpan bytes);

  Point point;
  Point::Encoding encoding{};
};

// Absorbs p exactly as Transcript::validate_and_append_point(label, p.point) does (the same
// record: its canonical encoding), without re-encoding it. kInvalidArgument for the identity, and
// then nothing is absorbed.
[[nodiscard]] Status validate_and_append(Transcript& transcript, std::string_view label,
                                         const ProofPoint& p);

struct InnerProductProof {
  std::vector<ProofPoint> L;  // one per round, round 0 first
  std::vector<ProofPoint> R;
  Scalar a;
  Scalar b;
};

// Runs the argument for a, b (same length n, a power of two, n >= 1) over G, H (length n), the
// factor h and Q, absorbing L_k, R_k and drawing u_k from the transcript (section 7, steps 1-4).
// Constant time in a and b (they are secret: the range proof's l and r); the generators, h, Q and
// the challenges are public, and folding the generators is variable time. Every published element
// (L_k, R_k, the final a and b) is declassify()d. Errors: kInvalidArgument for mismatched or
// non-power-of-two sizes; kFailedPrecondition in the 2^-252 event of a zero challenge or an
// identity L_k / R_k (retry with a fresh transcript).
Result<InnerProductProof> prove_inner_product(Transcript& transcript, const Point& Q,
                                              std::span<const Point> G, std::span<const Point> H,
                                              const Scalar& h, std::vector<Scalar> a,
                                              std::vector<Scalar> b);

// Verifier: absorbs every (L_k, R_k) as the prover did and returns the challenges u_k.
// kInvalidProof if an L_k or R_k is the identity or a challenge is zero. Variable time.
Result<std::vector<Scalar>> inner_product_challenges(Transcript& transcript,
                                                     const InnerProductProof& proof);

// s_i = prod_k u_k^{+1 if bit (lg n - 1 - k) of i is set, else -1}, for i < n = 2^u.size(), in n
// multiplications (section 7). u_inv are the inverses of the challenges and u_sq their squares.
// s_i^-1 is s_{n-1-i}. Variable time.
std::vector<Scalar> inner_product_s(std::span<const Scalar> u_inv, std::span<const Scalar> u_sq);

}  // namespace pfex::crypto
