// One-out-of-many proofs (Groth-Kohlweiss 2015 with the Bootle et al. 2015 bit-matrix
// commitments): for a public set C_0..C_{N-1} of N = 2^n points and a public offset O, knowledge
// of an index l and a scalar r with C_l - O = r*H. pfex spends a token this way (docs/design.md
// section 5): the set is a window of tokens and O = sn*G_sn + C*. The math, with the symbols and
// the numbered steps the code follows, is in docs/crypto/one-of-many.md.
//
// Prover: constant time in l, r and its random values; it refuses a false statement. Verifier
// and batch: variable time, public data only. A batch checks many proofs over one set with one MSM
// in which the N set points appear once.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec.hpp"
#include "core/hash.hpp"
#include "core/status.hpp"
#include "crypto/generators.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"
#include "crypto/transcript.hpp"
#include "crypto/verification_terms.hpp"

namespace pfex::crypto {

inline constexpr std::string_view kOneOfManyDomain = "one-of-many/v1";
inline constexpr std::string_view kOneOfManyGeneratorLabel = "one-of-many/E";
inline constexpr std::string_view kOneOfManySetDigestDomain = "pfex/v1/one-of-many/set";
// Set sizes 2^n with n in [kOneOfManyMinLogSize, kOneOfManyMaxLogSize].
inline constexpr std::size_t kOneOfManyMinLogSize = 1;
inline constexpr std::size_t kOneOfManyMaxLogSize = 16;

// The bit-commitment generators E_0..E_{kOneOfManyMaxLogSize-1} = derive_generator(label, j);
// H is blinding_generator(). Derive once and share (about 130 us).
class OneOfManyGens {
 public:
  OneOfManyGens() : OneOfManyGens(std::string(kOneOfManyGeneratorLabel)) {}
  // Another label gives unrelated generators (tests; another protocol).
  explicit OneOfManyGens(std::string label);

  const std::string& label() const { return E_.label(); }
  const GeneratorSet& E() const { return E_; }
  const Point& H() const;

 private:
  GeneratorSet E_;
};

// The public set C_0..C_{N-1} with its digest, the value the transcript absorbs in place of the N
// encodings (docs/crypto/one-of-many.md section 6). Building one encodes every point once (about
// 3.9 us each); build it once per window and share it between proofs and batches.
class OneOfManySet {
 public:
  // kInvalidArgument unless points.size() is 2^n with n in [kOneOfManyMinLogSize,
  // kOneOfManyMaxLogSize]. The identity is allowed as a member.
  static Result<OneOfManySet> create(std::vector<Point> points);

  std::size_t size() const { return points_.size(); }
  std::size_t log_size() const { return n_; }
  std::span<const Point> points() const { return points_; }
  // BLAKE2b-256 under kOneOfManySetDigestDomain of LE64(N) and the N encodings in order.
  const Digest32& digest() const { return digest_; }

 private:
  OneOfManySet(std::vector<Point> points, std::size_t n, const Digest32& digest)
      : points_(std::move(points)), n_(n), digest_(digest) {}
  std::vector<Point> points_;
  std::size_t n_;
  Digest32 digest_;
};

// The digest OneOfManySet::create() gives a set of N points, from their encodings
// (encoding(i) for i < N), for a caller that keeps the encodings (a ledger's token lists).
Digest32 one_of_many_set_digest(std::size_t N,
                                const std::function<const Point::Encoding&(std::size_t)>& encoding);

class OneOfManyProof {
 public:
  // Proves that C_index - offset = r*H for C = set.points(), on transcript t (which the caller may
  // have used before: a transaction absorbs its public fields first). Refuses with kInvalidArgument
  // if index >= set.size() or C_index - offset != r*H: a false statement is never proved.
  // Constant time in index and r (only whether the statement holds is revealed).
  static Result<OneOfManyProof> prove(const OneOfManyGens& gens, Transcript& t,
                                      const OneOfManySet& set, const Point& offset,
                                      std::size_t index, const Scalar& r);

  // ok iff the proof verifies for (set, offset) on transcript t, which it advances exactly as the
  // prover did. kInvalidArgument if the proof's n differs from the set's; kInvalidProof if it does
  // not verify (including an identity among A, B, C, D). Variable time.
  [[nodiscard]] Status verify(const OneOfManyGens& gens, Transcript& t, const OneOfManySet& set,
                              const Point& offset) const;

  // Replays the proof's transcript (advancing t exactly as verify() does) and appends its
  // verification equation, under weight (the verifier's random scalar) and the verifier's own
  // random weights, to the current entry of terms: N + n + 1 shared points (the set, E_j, H) and
  // n + 5 of its own. kInvalidProof if the proof's n differs from the set's or A..D contains the
  // identity; then nothing is added and the entry is refused (terms fails closed). set and gens
  // must outlive terms' use. Variable time.
  Status append_verification_terms(const OneOfManyGens& gens, Transcript& t,
                                   const OneOfManySet& set, const Point& offset,
                                   const Scalar& weight, VerificationTerms& terms) const;

  // append_verification_terms() for a set known by its log size n and digest (what the
  // transcript absorbs), whose points the caller places itself: the 2^n set coefficients go to
  // set_coefficients (resized and overwritten), every other term to terms. The caller adds them
  // to terms on the set's points, so that overlapping sets (a block's windows) put each point in
  // the MSM once. Errors as append_verification_terms (the entry is refused). Variable time.
  Status append_verification_terms_unplaced(const OneOfManyGens& gens, Transcript& t, std::size_t n,
                                            const Digest32& set_digest, const Point& offset,
                                            const Scalar& weight, VerificationTerms& terms,
                                            std::vector<Scalar>& set_coefficients) const;

  std::size_t log_size() const { return G_.size(); }

  // A, B, C, D, G_0..G_{n-1}, f_0..f_{n-1}, z_A, z_C, z; 32 bytes each.
  static constexpr std::size_t encoded_size(std::size_t n) { return 32 * (2 * n + 7); }
  void encode(Writer& w) const;
  Bytes encode() const;
  // Strict decoding of a proof for sets of 2^n points: exactly encoded_size(n) bytes, canonical
  // points and scalars. The Reader form leaves the trailing-byte check to the caller's finish().
  // kInvalidArgument for n outside [kOneOfManyMinLogSize, kOneOfManyMaxLogSize].
  static Result<OneOfManyProof> decode(Reader& r, std::size_t n);
  static Result<OneOfManyProof> decode(ByteSpan bytes, std::size_t n);

  const Point& A() const { return A_; }
  const Point& B() const { return B_; }
  const Point& C() const { return C_; }
  const Point& D() const { return D_; }
  const std::vector<Point>& G() const { return G_; }
  const std::vector<Scalar>& f() const { return f_; }
  const Scalar& z_A() const { return z_A_; }
  const Scalar& z_C() const { return z_C_; }
  const Scalar& z() const { return z_; }

 private:
  friend Result<OneOfManyProof> detail_prove_unchecked(const OneOfManyGens&, Transcript&,
                                                       const OneOfManySet&, const Point&,
                                                       std::size_t, const Scalar&);
  friend Result<OneOfManyProof> detail_prove_with_nonces(const OneOfManyGens&, Transcript&,
                                                         const OneOfManySet&, const Point&,
                                                         std::size_t, const Scalar&,
                                                         const std::function<Scalar()>&);
  OneOfManyProof() = default;
  // prove() with the prover's random values (a_j, rho_j, r_A..r_D) from `nonce`.
  static Result<OneOfManyProof> prove_with_nonces(const OneOfManyGens& gens, Transcript& t,
                                                  const OneOfManySet& set, const Point& offset,
                                                  std::size_t index, const Scalar& r,
                                                  const std::function<Scalar()>& nonce);
  // Prover steps 1-8, without the statement check of step 0.
  static Result<OneOfManyProof> prove_unchecked(const OneOfManyGens& gens, Transcript& t,
                                                const OneOfManySet& set, const Point& offset,
                                                std::size_t index, const Scalar& r,
                                                const std::function<Scalar()>& nonce);

  Point A_, B_, C_, D_;
  std::vector<Point> G_;
  std::vector<Scalar> f_;
  Scalar z_A_, z_C_, z_;
};

// Many proofs over the same set, each with its own offset and transcript, checked with one MSM:
// one entry of a VerificationTerms per proof (append_verification_terms), so the N set points
// appear once. Positions are the order of add() calls, starting at 0.
class OneOfManyBatch {
 public:
  // gens and set must outlive the batch.
  OneOfManyBatch(const OneOfManyGens& gens, const OneOfManySet& set);
  OneOfManyBatch(OneOfManyGens&&, const OneOfManySet&) = delete;  // would dangle
  OneOfManyBatch(const OneOfManyGens&, OneOfManySet&&) = delete;
  OneOfManyBatch(OneOfManyGens&&, OneOfManySet&&) = delete;
  OneOfManyBatch(const OneOfManyBatch&) = delete;
  OneOfManyBatch& operator=(const OneOfManyBatch&) = delete;

  // Replays the proof's transcript (advancing t exactly as verify() does), draws its random
  // weights and keeps its terms (N + n + 1 + ... scalars). A proof that cannot be checked (wrong
  // n, an identity among A..D) is an error here; it still takes its position, and the batch fails
  // closed: verify(), invalid_positions() and append_terms() all report it. Variable time.
  [[nodiscard]] Status add(Transcript& t, const Point& offset, const OneOfManyProof& proof);

  std::size_t size() const { return terms_.num_entries(); }

  // ok iff every proof verifies, else kInvalidProof naming the positions of the bad ones (found by
  // bisection). One MSM of N + n + 1 + size()*(n + 5) points when all are good.
  [[nodiscard]] Status verify() const;
  // The positions of the proofs that do not verify, in increasing order (empty if all do).
  std::vector<std::size_t> invalid_positions() const;

  // Appends weight * (the batch's combined equation) to the current entry of out, for a caller
  // that checks several proof systems with one MSM; weight must be chosen by the verifier. Fails
  // closed: if add() refused any proof, out's current entry is refused too.
  void append_terms(VerificationTerms& out, const Scalar& weight) const;

 private:
  const OneOfManyGens& gens_;
  const OneOfManySet& set_;
  VerificationTerms terms_;
};

// For the constant-time check only: prove() with the prover's random values taken from `nonce`,
// so that they can be marked secret. Never use it elsewhere.
Result<OneOfManyProof> detail_prove_with_nonces(const OneOfManyGens& gens, Transcript& t,
                                                const OneOfManySet& set, const Point& offset,
                                                std::size_t index, const Scalar& r,
                                                const std::function<Scalar()>& nonce);

// For tests only: the prover without the statement check of step 0, so that a test can show the
// verifier rejecting a proof of a false statement. Never use it elsewhere (the result is simply an
// invalid proof). index must be below set.size().
Result<OneOfManyProof> detail_prove_unchecked(const OneOfManyGens& gens, Transcript& t,
                                              const OneOfManySet& set, const Point& offset,
                                              std::size_t index, const Scalar& r);

}  // namespace pfex::crypto
