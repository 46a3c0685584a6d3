#include "crypto/elgamal.hpp"

#include <utility>

#include "crypto/proof_codec.hpp"

namespace pfex::crypto {

namespace {

constexpr std::uint64_t kTopBit = std::uint64_t{1} << 63;

// Witness indices and base indices of the refresh's statement (note section 2).
enum : std::size_t { kWitnessV = 0, kWitnessR = 1, kWitnessRho = 2, kNumWitnesses = 3 };

// A statement of the refresh's shape, for decoding: LinearProof::decode only reads its sizes.
const LinearStatement& encryption_statement_shape() {
  static const LinearStatement shape = [] {
    LinearStatement s(kNumWitnesses);
    for (int j = 0; j < 3; ++j)
      s.add_relation(Point::identity());
    return s;
  }();
  return shape;
}

}  // namespace

Scalar position_to_scalar(std::int64_t v) {
  // u = v + 2^63 as an unsigned integer; then u - 2^63 = v mod l, with no branch on v.
  const std::uint64_t u = static_cast<std::uint64_t>(v) ^ kTopBit;
  return Scalar::from_u64(u) - Scalar::from_u64(kTopBit);
}

void Ciphertext::encode(Writer& w) const {
  write_point(w, R);
  write_point(w, E);
}

Bytes Ciphertext::encode() const {
  return encode_to_bytes(*this);
}

Result<Ciphertext> Ciphertext::decode(Reader& r) {
  Ciphertext ct;
  ct.R = read_point(r, "ciphertext R");
  ct.E = read_point(r, "ciphertext E");
  PFEX_RETURN_IF_ERROR(r.status());
  return ct;
}

Result<Ciphertext> Ciphertext::decode(ByteSpan bytes) {
  return decode_exactly<Ciphertext>(bytes);
}

Ciphertext sum_ciphertexts(std::span<const Ciphertext> cts) {
  Ciphertext sum = Ciphertext::zero();
  for (const Ciphertext& ct : cts)
    sum += ct;
  return sum;
}

Ciphertext encrypt(const Point& pk, const Scalar& v, const Scalar& rho) {
  return {Point::mul_base(rho), Point::mul_base(v) + rho * pk};
}

Result<std::int64_t> decrypt_with_key_var(const Scalar& x, const Ciphertext& ct,
                                          const DiscreteLogTable& table, std::uint64_t bound) {
  return table.solve_var(ct.E - x * ct.R, bound);
}

LinearStatement encryption_statement(const PedersenGens& gens, const Point& pk, const Point& V,
                                     const Ciphertext& ct) {
  LinearStatement s(kNumWitnesses);
  const std::size_t g = s.add_base(gens.G());
  const std::size_t h = s.add_base(gens.H());
  const std::size_t p = s.add_base(pk);
  const std::size_t rel_v = s.add_relation(V);
  const std::size_t rel_r = s.add_relation(ct.R);
  const std::size_t rel_e = s.add_relation(ct.E);
  // Indices are fresh and in range, so add_term cannot fail.
  (void)s.add_term(rel_v, kWitnessV, g);
  (void)s.add_term(rel_v, kWitnessR, h);
  (void)s.add_term(rel_r, kWitnessRho, g);
  (void)s.add_term(rel_e, kWitnessV, g);
  (void)s.add_term(rel_e, kWitnessRho, p);
  return s;
}

Bytes EncryptionProof::encode() const {
  return encode_to_bytes(*this);
}

Result<EncryptionProof> EncryptionProof::decode(Reader& r) {
  PFEX_ASSIGN_OR_RETURN(LinearProof p, LinearProof::decode(r, encryption_statement_shape()));
  return EncryptionProof(std::move(p));
}

Result<EncryptionProof> EncryptionProof::decode(ByteSpan bytes) {
  return decode_exactly<EncryptionProof>(bytes);
}

Result<EncryptionProof> prove_encryption(const PedersenGens& gens, const Point& pk, const Point& V,
                                         const Ciphertext& ct, const Scalar& v, const Scalar& r,
                                         const Scalar& rho, Transcript& t) {
  // Step 1: the domain separator; steps 2-3 (statement, proof) are the sigma prover's.
  t.append_domain_separator(kEncryptionProofDomain);
  const LinearStatement s = encryption_statement(gens, pk, V, ct);
  const Scalar witnesses[kNumWitnesses] = {v, r, rho};
  PFEX_ASSIGN_OR_RETURN(LinearProof p, prove_linear(s, witnesses, t));
  return EncryptionProof(std::move(p));
}

Status verify_encryption(const PedersenGens& gens, const Point& pk, const Point& V,
                         const Ciphertext& ct, const EncryptionProof& proof, Transcript& t) {
  t.append_domain_separator(kEncryptionProofDomain);
  Status st = verify_linear(encryption_statement(gens, pk, V, ct), proof.linear(), t);
  if (!st.is_ok()) return st.with_context("encryption proof");
  return st;
}

Status append_encryption_verification_terms(const PedersenGens& gens, const Point& pk,
                                            const Point& V, const Ciphertext& ct,
                                            const EncryptionProof& proof, Transcript& t,
                                            const Scalar& weight, VerificationTerms& out) {
  t.append_domain_separator(kEncryptionProofDomain);
  return append_linear_verification_terms(encryption_statement(gens, pk, V, ct), proof.linear(), t,
                                          weight, out);
}

}  // namespace pfex::crypto
