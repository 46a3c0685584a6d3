#include "crypto/threshold.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "crypto/dkg.hpp"
#include "crypto/msm.hpp"
#include "crypto/proof_codec.hpp"

namespace pfex::crypto {

namespace {

// The DLEQ statement's shape, for decoding: LinearProof::decode only reads its sizes.
const LinearStatement& dleq_statement_shape() {
  static const LinearStatement shape =
      dleq_statement(Point::identity(), Point::identity(), Point::identity());
  return shape;
}

// Steps 1-2 of note 4.1: the domain separator and the public inputs beyond the statement.
void append_share_context(Transcript& t, std::uint32_t index, const Ciphertext& ct) {
  t.append_domain_separator(kDecryptionShareDomain);
  t.append_u64("index", index);
  t.append_point("E", ct.E);
}

Status check_share_index(std::uint32_t index) {
  if (index < 1 || index > kMaxDkgValidators) {
    return Status::invalid_argument("decryption share index " + std::to_string(index) +
                                    " is outside 1.." + std::to_string(kMaxDkgValidators));
  }
  return Status::ok();
}

}  // namespace

LinearStatement dleq_statement(const Point& Y, const Point& R, const Point& D) {
  LinearStatement s(1);
  const std::size_t g = s.add_base(Point::base());
  const std::size_t r = s.add_base(R);
  const std::size_t rel_y = s.add_relation(Y);
  const std::size_t rel_d = s.add_relation(D);
  (void)s.add_term(rel_y, 0, g);  // fresh indices: cannot fail
  (void)s.add_term(rel_d, 0, r);
  return s;
}

void DecryptionShare::encode(Writer& w) const {
  w.u16(static_cast<std::uint16_t>(index));
  write_point(w, D);
  proof.encode(w);
}

Bytes DecryptionShare::encode() const {
  return encode_to_bytes(*this);
}

Result<DecryptionShare> DecryptionShare::decode(Reader& r) {
  DecryptionShare s;
  s.index = r.u16("decryption share index");
  if (!r.failed() && !check_share_index(s.index).is_ok()) r.fail(check_share_index(s.index));
  s.D = read_point(r, "decryption share D");
  PFEX_RETURN_IF_ERROR(r.status());
  PFEX_ASSIGN_OR_RETURN(s.proof, LinearProof::decode(r, dleq_statement_shape()));
  return s;
}

Result<DecryptionShare> DecryptionShare::decode(ByteSpan bytes) {
  return decode_exactly<DecryptionShare>(bytes);
}

Result<DecryptionShare> create_decryption_share(std::uint32_t index, const Scalar& s_j,
                                                const Ciphertext& ct, Transcript& t) {
  PFEX_RETURN_IF_ERROR(check_share_index(index));
  DecryptionShare share;
  share.index = index;
  share.D = s_j * ct.R;  // constant time
  append_share_context(t, index, ct);
  // Step 3: Y_j is recomputed from s_j (constant time); it is public once the DKG has run.
  const LinearStatement s = dleq_statement(Point::mul_base(s_j), ct.R, share.D);
  const Scalar witness[1] = {s_j};
  PFEX_ASSIGN_OR_RETURN(share.proof, prove_linear(s, witness, t));
  return share;
}

Status verify_decryption_share(const DecryptionShare& share, const Point& Y_j, const Ciphertext& ct,
                               Transcript& t) {
  append_share_context(t, share.index, ct);
  Status st = verify_linear(dleq_statement(Y_j, ct.R, share.D), share.proof, t);
  if (!st.is_ok()) {
    return st.with_context("decryption share of validator " + std::to_string(share.index));
  }
  return st;
}

Status append_decryption_share_verification_terms(const DecryptionShare& share, const Point& Y_j,
                                                  const Ciphertext& ct, Transcript& t,
                                                  const Scalar& weight, VerificationTerms& out) {
  append_share_context(t, share.index, ct);
  return append_linear_verification_terms(dleq_statement(Y_j, ct.R, share.D), share.proof, t,
                                          weight, out);
}

Result<std::vector<Scalar>> lagrange_coefficients_at_zero(std::span<const std::uint32_t> indices) {
  for (std::size_t a = 0; a < indices.size(); ++a) {
    if (indices[a] == 0) return Status::invalid_argument("Lagrange: index 0");
    for (std::size_t b = 0; b < a; ++b) {
      if (indices[a] == indices[b]) {
        return Status::invalid_argument("Lagrange: index " + std::to_string(indices[a]) +
                                        " appears twice");
      }
    }
  }
  // lambda_j = prod m / prod (m - j); the denominators are inverted together.
  std::vector<Scalar> num(indices.size(), Scalar::one());
  std::vector<Scalar> den(indices.size(), Scalar::one());
  for (std::size_t a = 0; a < indices.size(); ++a) {
    const Scalar j = Scalar::from_u64(indices[a]);
    for (std::size_t b = 0; b < indices.size(); ++b) {
      if (a == b) continue;
      const Scalar m = Scalar::from_u64(indices[b]);
      num[a] *= m;
      den[a] *= m - j;
    }
  }
  PFEX_RETURN_IF_ERROR(Scalar::batch_invert(den));  // distinct indices: no zero denominator
  for (std::size_t a = 0; a < indices.size(); ++a)
    num[a] *= den[a];
  return num;
}

Result<Point> combine_decryption_shares_var(std::span<const DecryptionShare> shares,
                                            std::uint32_t t, const Ciphertext& ct) {
  if (shares.size() != t) {
    return Status::invalid_argument("combining " + std::to_string(shares.size()) +
                                    " decryption shares, need exactly t = " + std::to_string(t));
  }
  std::vector<std::uint32_t> indices;
  std::vector<Point> points;
  for (const DecryptionShare& s : shares) {
    indices.push_back(s.index);
    points.push_back(s.D);
  }
  PFEX_ASSIGN_OR_RETURN(std::vector<Scalar> lambda, lagrange_coefficients_at_zero(indices));
  // M = E - sum lambda_j * D_j, one MSM.
  for (Scalar& l : lambda)
    l = -l;
  lambda.push_back(Scalar::one());
  points.push_back(ct.E);
  return msm_var(lambda, points);
}

Result<ThresholdDecryption> decrypt_threshold(std::span<const Point> verification_keys,
                                              std::uint32_t t, const Ciphertext& ct,
                                              std::span<const DecryptionShare> shares,
                                              const Transcript& prefix,
                                              const DiscreteLogTable& table, std::uint64_t bound) {
  const std::size_t n = verification_keys.size();
  std::vector<bool> seen(n + 1, false);
  for (const DecryptionShare& s : shares) {
    if (s.index < 1 || s.index > n) {
      return Status::invalid_argument("decryption share index " + std::to_string(s.index) +
                                      " is outside 1.." + std::to_string(n));
    }
    if (seen[s.index]) {
      return Status::invalid_argument("two decryption shares for validator " +
                                      std::to_string(s.index));
    }
    seen[s.index] = true;
  }
  ThresholdDecryption out;
  std::vector<DecryptionShare> valid;
  for (const DecryptionShare& s : shares) {
    Transcript tr = prefix;
    if (verify_decryption_share(s, verification_keys[s.index - 1], ct, tr).is_ok()) {
      valid.push_back(s);
    } else {
      out.rejected.push_back(s.index);
    }
  }
  std::sort(out.rejected.begin(), out.rejected.end());
  if (valid.size() < t) {
    return Status::failed_precondition("threshold decryption: " + std::to_string(valid.size()) +
                                       " valid shares (" + std::to_string(out.rejected.size()) +
                                       " rejected), need t = " + std::to_string(t));
  }
  std::sort(valid.begin(), valid.end(),
            [](const DecryptionShare& a, const DecryptionShare& b) { return a.index < b.index; });
  valid.resize(t, DecryptionShare{});
  for (const DecryptionShare& s : valid)
    out.used.push_back(s.index);
  PFEX_ASSIGN_OR_RETURN(const Point m, combine_decryption_shares_var(valid, t, ct));
  PFEX_ASSIGN_OR_RETURN(out.value, table.solve_var(m, bound));
  return out;
}

}  // namespace pfex::crypto
