// Exponential ElGamal on ristretto255 for positions (docs/design.md section 6): encryption of a
// small signed integer under the validators' threshold key, homomorphic sums, and the refresh's
// proof that a ciphertext encrypts the value of a Pedersen commitment. The math, with the step
// numbers the code follows, is in docs/crypto/threshold-elgamal.md sections 1 and 2; the
// distributed key is in dkg.hpp, threshold decryption in threshold.hpp, the bounded discrete log in
// bsgs.hpp.
//
//     Enc(v; rho) = (R, E) = (rho*G, v*G + rho*PK)
//
// Encryption and proving are constant time in v, rho and the commitment's blinding factor.
// Verification and decryption handle public data and are variable time (`_var`).
#pragma once

#include <cstdint>
#include <span>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "crypto/bsgs.hpp"
#include "crypto/pedersen.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"
#include "crypto/sigma.hpp"
#include "crypto/transcript.hpp"

namespace pfex::crypto {

inline constexpr std::string_view kEncryptionProofDomain =
    "threshold-elgamal/encrypts-committed/v1";

// v mod l: v for v >= 0, l - |v| for v < 0 (note section 1). Constant time in v.
Scalar position_to_scalar(std::int64_t v);

// An ElGamal ciphertext (R, E). Encoding: R || E, 64 bytes, canonical points; decoding is strict.
struct Ciphertext {
  static constexpr std::size_t kBytes = 64;

  Point R;
  Point E;

  // The encryption of 0 with rho = 0: (identity, identity), the neutral element of the sum.
  static Ciphertext zero() { return {}; }

  void encode(Writer& w) const;
  Bytes encode() const;
  // Reads 64 bytes from r (the caller's r.finish() checks for trailing bytes).
  static Result<Ciphertext> decode(Reader& r);
  // Exactly 64 bytes.
  static Result<Ciphertext> decode(ByteSpan bytes);

  // Enc(v1; rho1) + Enc(v2; rho2) = Enc(v1 + v2; rho1 + rho2).
  friend Ciphertext operator+(const Ciphertext& a, const Ciphertext& b) {
    return {a.R + b.R, a.E + b.E};
  }
  Ciphertext& operator+=(const Ciphertext& b) { return *this = *this + b; }
  friend bool operator==(const Ciphertext& a, const Ciphertext& b) {
    return a.R == b.R && a.E == b.E;
  }
};

// The sum of all ciphertexts (Ciphertext::zero() for none).
Ciphertext sum_ciphertexts(std::span<const Ciphertext> cts);

// Enc(v; rho) under pk. Constant time in v and rho.
Ciphertext encrypt(const Point& pk, const Scalar& v, const Scalar& rho);

// Decrypts with the whole secret key x (pk = x*G): M = E - x*R, then the bounded discrete log.
// For tests and tools: in the protocol nobody holds x (threshold.hpp). kNotFound if the plaintext
// is not in [-bound, bound]. Variable time: x and the plaintext are treated as public.
Result<std::int64_t> decrypt_with_key_var(const Scalar& x, const Ciphertext& ct,
                                          const DiscreteLogTable& table,
                                          std::uint64_t bound = kDefaultDiscreteLogBound);

// The refresh's statement (note section 2): witnesses (v, r, rho), bases (G, H, PK), relations
//   V = v*G + r*H,   R = rho*G,   E = v*G + rho*PK.
LinearStatement encryption_statement(const PedersenGens& gens, const Point& pk, const Point& V,
                                     const Ciphertext& ct);

// A proof that ct encrypts under pk the value committed in V. 192 bytes.
class EncryptionProof {
 public:
  static constexpr std::size_t kBytes = 192;

  explicit EncryptionProof(LinearProof proof) : proof_(std::move(proof)) {}
  const LinearProof& linear() const { return proof_; }

  void encode(Writer& w) const { proof_.encode(w); }
  Bytes encode() const;
  // Reads 192 bytes from r; strict.
  static Result<EncryptionProof> decode(Reader& r);
  static Result<EncryptionProof> decode(ByteSpan bytes);

 private:
  LinearProof proof_;
};

// Proves that ct = Enc(v; rho) under pk and V = v*G + r*H. kInvalidArgument if the witnesses do
// not satisfy the statement (nothing false is ever proved). Constant time in v, r and rho.
Result<EncryptionProof> prove_encryption(const PedersenGens& gens, const Point& pk, const Point& V,
                                         const Ciphertext& ct, const Scalar& v, const Scalar& r,
                                         const Scalar& rho, Transcript& t);

// kInvalidProof if the proof does not verify. Variable time.
Status verify_encryption(const PedersenGens& gens, const Point& pk, const Point& V,
                         const Ciphertext& ct, const EncryptionProof& proof, Transcript& t);

// For batch verification: appends weight * (the proof's verification equation) to out. Advances t
// as verify_encryption does. weight must be the verifier's random choice.
Status append_encryption_verification_terms(const PedersenGens& gens, const Point& pk,
                                            const Point& V, const Ciphertext& ct,
                                            const EncryptionProof& proof, Transcript& t,
                                            const Scalar& weight, VerificationTerms& out);

}  // namespace pfex::crypto
