// Sigma proofs of linear relations (docs/design.md section 4; the math, numbered step by step, is
// in docs/crypto/sigma.md): knowledge of secret witnesses w_0..w_{m-1} such that for every relation
// j
//     P_j = sum over the terms (a, i, b) of relation j of  a * w_i * X_b
// with public points P_j (the relations' left-hand sides), public bases X_b and public coefficients
// a. Every statement of the private protocol (token openings, "same kappa", "C' = C* + deltas",
// "the ciphertext encrypts the committed v", DLEQ) is one LinearStatement.
//
// The proof is the batchable form of Schnorr's protocol made non-interactive with the caller's
// Transcript: one commitment A_j per relation and one response z_i per witness, so that the
// verification equations are linear in the proof and many statements are checked with one MSM
// (append_linear_verification_terms).
//
// Prover: constant time in the witnesses and nonces (the constant-time MSM); whether the witnesses
// satisfy the statement is checked first and is the one public fact about them. Verifier: variable
// time, public data only.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"
#include "crypto/transcript.hpp"
#include "crypto/verification_terms.hpp"

namespace pfex::crypto {

inline constexpr std::string_view kLinearProofDomain = "sigma/linear/v1";

class LinearStatement {
 public:
  struct Term {
    std::uint32_t witness;
    std::uint32_t base;
    Scalar coefficient;
  };

  explicit LinearStatement(std::size_t num_witnesses);

  // Adds a public base X_b and returns b. Add each distinct point once: a base appears once in the
  // transcript and once in the verifier's MSM however many terms use it.
  std::size_t add_base(const Point& X);
  // Adds relation j with left-hand side P and returns j.
  std::size_t add_relation(const Point& P);
  // Adds a * w_i * X_b to relation j. kInvalidArgument for an unknown j, i or b; then nothing is
  // added.
  Status add_term(std::size_t j, std::size_t i, std::size_t b, const Scalar& a = Scalar::one());

  std::size_t num_witnesses() const { return num_witnesses_; }
  std::size_t num_relations() const { return lhs_.size(); }
  std::size_t num_bases() const { return bases_.size(); }
  const Point& base(std::size_t b) const { return bases_[b]; }
  const Point& lhs(std::size_t j) const { return lhs_[j]; }
  std::span<const Term> terms(std::size_t j) const { return terms_[j]; }

  // Absorbs the whole statement: the domain separator, the sizes, every base, every relation with
  // its terms. Called by the prover and the verifier before the proof's commitments.
  void append_to(Transcript& t) const;

 private:
  std::size_t num_witnesses_;
  std::vector<Point> bases_;
  std::vector<Point> lhs_;
  std::vector<std::vector<Term>> terms_;
};

class LinearProof {
 public:
  // A: one commitment per relation; z: one response per witness.
  LinearProof(std::vector<Point> A, std::vector<Scalar> z) : A_(std::move(A)), z_(std::move(z)) {}

  const std::vector<Point>& A() const { return A_; }
  const std::vector<Scalar>& z() const { return z_; }

  // A_0..A_{r-1} then z_0..z_{m-1}, 32 bytes each: 32 * (relations + witnesses) bytes.
  void encode(Writer& w) const;
  // Strict: the sizes come from the statement, every element must be canonical. Reads from r and
  // leaves trailing-byte checks to the caller's r.finish().
  static Result<LinearProof> decode(Reader& r, const LinearStatement& s);
  std::size_t encoded_size() const { return 32 * (A_.size() + z_.size()); }

 private:
  std::vector<Point> A_;
  std::vector<Scalar> z_;
};

// Proves the statement with the given witnesses (witnesses[i] is w_i). Refuses with
// kInvalidArgument if the count is wrong or the witnesses do not satisfy every relation (a false
// statement is never proved). Constant time in the witnesses otherwise.
Result<LinearProof> prove_linear(const LinearStatement& s, std::span<const Scalar> witnesses,
                                 Transcript& t);

namespace detail {
// prove_linear() with its nonces k_i taken from `nonce` (prove_linear uses Scalar::random): for
// the constant-time check, which marks them secret. Not for application code.
Result<LinearProof> prove_linear_with_nonces(const LinearStatement& s,
                                             std::span<const Scalar> witnesses, Transcript& t,
                                             const std::function<Scalar()>& nonce);
}  // namespace detail

// kInvalidProof if the proof does not verify; kInvalidArgument if its sizes do not match the
// statement. Variable time.
Status verify_linear(const LinearStatement& s, const LinearProof& p, Transcript& t);

// Appends weight * (the proof's combined verification equation) to out, so that many statements
// (and other proofs' terms) are checked by one MSM: out.is_identity_var() fails, except with
// probability about 1/l, if any relation of any statement fails. The relations of one statement
// are combined with weights derived from a fork of the transcript after the proof is absorbed;
// `weight` must be chosen by the verifier (random), not by the prover. Same errors as
// verify_linear for mismatched sizes; then nothing is added and the current entry of out is
// refused (out fails closed). Advances t exactly as verify_linear does.
Status append_linear_verification_terms(const LinearStatement& s, const LinearProof& p,
                                        Transcript& t, const Scalar& weight,
                                        VerificationTerms& out);

// One statement of a batch: its proof and its transcript in the state verify_linear would get
// it (the batch copies it; the caller's is not advanced). Everything must outlive the call.
struct LinearBatchItem {
  const LinearStatement* statement;
  const LinearProof* proof;
  const Transcript* transcript;
};

// Verifies every item with one MSM (each item one entry of a VerificationTerms, under a fresh
// random weight); when that fails, finds every bad item by the shared bisection (find_failing).
// kInvalidProof naming the bad positions, which also go to *bad when given; an item whose sizes do
// not match its statement counts as bad.
Status verify_linear_batch(std::span<const LinearBatchItem> items,
                           std::vector<std::size_t>* bad = nullptr);

}  // namespace pfex::crypto
