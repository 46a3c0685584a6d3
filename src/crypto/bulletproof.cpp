#include "crypto/bulletproof.hpp"

#include <algorithm>
#include <bit>
#include <string>
#include <utility>

#include "crypto/bulletproof_internal.hpp"
#include "crypto/ct.hpp"
#include "crypto/msm.hpp"

namespace pfex::crypto {
namespace {

using detail::RangeProofAccess;
using detail::RangeProofEquation;

constexpr std::size_t kBits = RangeProof::kBits;
constexpr std::size_t kLgBits = 6;
static_assert(std::size_t{1} << kLgBits == kBits);

ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Status check_value_count(std::size_t m, const BulletproofGens& gens) {
  if (!RangeProof::is_valid_value_count(m)) {
    return Status::invalid_argument("range proof: " + std::to_string(m) +
                                    " values; m must be 1, 2, 4, 8 or 16");
  }
  if (m > gens.max_values()) {
    return Status::invalid_argument("range proof: " + std::to_string(m) +
                                    " values but the generators support " +
                                    std::to_string(gens.max_values()));
  }
  return Status::ok();
}

// Section 4: the statement, before any challenge.
void absorb_statement(Transcript& transcript, const BulletproofGens& gens,
                      std::span<const Point> V) {
  transcript.append_domain_separator(kRangeProofDomain);
  transcript.append_u64("n", kBits);
  transcript.append_u64("m", V.size());
  transcript.append_message("gens", as_bytes(gens.label()));
  for (const Point& v : V)
    transcript.append_point("V", v);  // the identity is allowed (section 1)
}

// Section 4, last line: the inner-product argument's final a, b, after its last challenge.
void absorb_final_scalars(Transcript& transcript, const InnerProductProof& ipp) {
  transcript.append_scalar("a", ipp.a);
  transcript.append_scalar("b", ipp.b);
}

// 2^b for b < 64.
std::vector<Scalar> powers_of_two() {
  std::vector<Scalar> two(kBits);
  two[0] = Scalar::one();
  for (std::size_t b = 1; b < kBits; ++b)
    two[b] = two[b - 1] + two[b - 1];
  return two;
}

// z^{2+j} for j < m.
std::vector<Scalar> z_powers(const Scalar& z, std::size_t m) {
  std::vector<Scalar> zp(m);
  zp[0] = z * z;
  for (std::size_t j = 1; j < m; ++j)
    zp[j] = zp[j - 1] * z;
  return zp;
}

std::span<const Point> first(const GeneratorSet& set, std::size_t n) {
  return set.points().first(n);
}

// Appends eq's terms (section 8): G_i, H_i, G, H and Q_0 are shared generators (their
// coefficients merge with every other proof's on the same gens, section 9; the parts common to
// every index are added once per index, not once per proof), then the proof's own points.
// <a_L, G> + <a_L - 1, H> for a_L of bits: each term is G_i (bit 1) or -H_i (bit 0), selected
// with a mask from the bit's low byte. Constant time in the bits.
Point commit_bits(std::span<const Scalar> a_L, std::span<const Point> G, std::span<const Point> H) {
  detail::Ext sum = detail::ext_identity();
  for (std::size_t i = 0; i < a_L.size(); ++i) {
    const std::uint64_t bit = a_L[i].bytes()[0] & 1;
    detail::Ext term = detail::ext_neg(H[i].ext());
    const detail::Ext& g = G[i].ext();
    detail::fe_cmov(term.X, g.X, bit);
    detail::fe_cmov(term.Y, g.Y, bit);
    detail::fe_cmov(term.Z, g.Z, bit);
    detail::fe_cmov(term.T, g.T, bit);
    sum = detail::ext_add(sum, term);
  }
  return Point(sum);
}

void append_equation(const BulletproofGens& gens, const RangeProofEquation& eq,
                     VerificationTerms& terms) {
  const std::size_t N = eq.g.size();
  terms.add_shared(first(gens.G_vec(), N), eq.g);
  terms.add_shared_constant(first(gens.G_vec(), N), eq.g_const);
  terms.add_shared(first(gens.H_vec(), N), eq.h);
  terms.add_shared_constant(first(gens.H_vec(), N), eq.h_const);
  terms.add_shared(gens.pedersen().G(), eq.base);
  terms.add_shared(gens.pedersen().H(), eq.blind);
  terms.add_shared(gens.Q(), eq.q);
  terms.reserve(eq.points.size());
  for (std::size_t k = 0; k < eq.points.size(); ++k)
    terms.add(eq.scalars[k], eq.points[k]);
}

}  // namespace

BulletproofGens::BulletproofGens(std::string label, std::size_t max_values)
    : label_(std::move(label)),
      G_(label_ + "/G", kBits * max_values),
      H_(label_ + "/H", kBits * max_values),
      Q_(derive_generator(label_ + "/Q", 0)) {}

bool RangeProof::is_valid_value_count(std::size_t m) {
  return m >= 1 && m <= BulletproofGens::kMaxValues && std::has_single_bit(m);
}

std::size_t RangeProof::encoded_size(std::size_t m) {
  if (!is_valid_value_count(m)) return 0;
  const auto lg_n = static_cast<std::size_t>(std::bit_width(kBits * m) - 1);
  return 32 * (9 + 2 * lg_n);
}

namespace detail {

Result<RangeProof> RangeProofAccess::prove_bits(const BulletproofGens& gens, Transcript& transcript,
                                                std::span<const Scalar> a_L,
                                                std::span<const Point> V,
                                                std::span<const Scalar> gamma,
                                                const NonceSource& nonce, bool a_L_is_binary) {
  const std::size_t m = V.size();
  PFEX_RETURN_IF_ERROR(check_value_count(m, gens));
  const std::size_t N = kBits * m;
  if (a_L.size() != N || gamma.size() != m) {
    return Status::invalid_argument("range proof: " + std::to_string(a_L.size()) + " bits and " +
                                    std::to_string(gamma.size()) + " blindings for " +
                                    std::to_string(m) + " commitments");
  }
  const Scalar one = Scalar::one();
  const auto G = first(gens.G_vec(), N);
  const auto H = first(gens.H_vec(), N);
  RangeProof proof;

  // Step 2 (the commitments are public: the caller declassified them).
  absorb_statement(transcript, gens, V);

  // Step 3: A = alpha*H + <a_L, G> + <a_R, H>.
  std::vector<Point> points;
  points.reserve(2 * N + 1);
  points.insert(points.end(), G.begin(), G.end());
  points.insert(points.end(), H.begin(), H.end());
  points.push_back(gens.pedersen().H());
  std::vector<Scalar> a_R(N);
  for (std::size_t i = 0; i < N; ++i)
    a_R[i] = a_L[i] - one;
  const Scalar alpha = nonce();
  std::vector<Scalar> scalars;
  scalars.reserve(2 * N + 1);
  scalars.insert(scalars.end(), a_L.begin(), a_L.end());
  scalars.insert(scalars.end(), a_R.begin(), a_R.end());
  scalars.push_back(alpha);
  Point A;
  if (a_L_is_binary) {
    A = alpha * gens.pedersen().H() + commit_bits(a_L, G, H);
  } else {
    PFEX_ASSIGN_OR_RETURN(A, msm(scalars, points));
  }

  // Step 4: S = rho*H + <s_L, G> + <s_R, H>.
  std::vector<Scalar> s_L(N);
  std::vector<Scalar> s_R(N);
  for (Scalar& s : s_L)
    s = nonce();
  for (Scalar& s : s_R)
    s = nonce();
  const Scalar rho = nonce();
  scalars.clear();
  scalars.insert(scalars.end(), s_L.begin(), s_L.end());
  scalars.insert(scalars.end(), s_R.begin(), s_R.end());
  scalars.push_back(rho);
  PFEX_ASSIGN_OR_RETURN(const Point S, msm(scalars, points));
  scalars.clear();  // wipes the copies
  declassify(A);    // published in the proof
  declassify(S);
  proof.A_ = ProofPoint(A);
  proof.S_ = ProofPoint(S);

  // Step 5.
  if (!validate_and_append(transcript, "A", proof.A_).is_ok() ||
      !validate_and_append(transcript, "S", proof.S_).is_ok()) {
    return Status::failed_precondition("range proof: A or S is the identity; retry");
  }
  const Scalar y = transcript.challenge_scalar("y");
  const Scalar z = transcript.challenge_scalar("z");
  if (y.is_zero() || z.is_zero()) {
    return Status::failed_precondition("range proof: zero challenge; retry");
  }

  // Step 6: l(X) = l_0 + s_L X, r(X) = r_0 + r_1 X, and t_1, t_2.
  const std::vector<Scalar> two = powers_of_two();
  const std::vector<Scalar> zp = z_powers(z, m);
  std::vector<Scalar> l0(N);
  std::vector<Scalar> r0(N);
  std::vector<Scalar> r1(N);
  Scalar t1;
  Scalar t2;
  Scalar y_pow = one;
  for (std::size_t i = 0; i < N; ++i) {
    l0[i] = a_L[i] - z;
    r1[i] = y_pow * s_R[i];
    r0[i] = y_pow * (a_R[i] + z) + zp[i / kBits] * two[i % kBits];
    t1 += l0[i] * r1[i] + s_L[i] * r0[i];
    t2 += s_L[i] * r1[i];
    y_pow *= y;
  }

  // Step 7.
  const Scalar tau1 = nonce();
  const Scalar tau2 = nonce();
  const Point T1 = gens.pedersen().commit(t1, tau1);
  const Point T2 = gens.pedersen().commit(t2, tau2);
  declassify(T1);  // published in the proof
  declassify(T2);
  proof.T1_ = ProofPoint(T1);
  proof.T2_ = ProofPoint(T2);
  if (!validate_and_append(transcript, "T1", proof.T1_).is_ok() ||
      !validate_and_append(transcript, "T2", proof.T2_).is_ok()) {
    return Status::failed_precondition("range proof: T1 or T2 is the identity; retry");
  }
  const Scalar x = transcript.challenge_scalar("x");
  if (x.is_zero()) return Status::failed_precondition("range proof: zero challenge; retry");

  // Step 8.
  std::vector<Scalar> l(N);
  std::vector<Scalar> r(N);
  for (std::size_t i = 0; i < N; ++i) {
    l[i] = l0[i] + x * s_L[i];
    r[i] = r0[i] + x * r1[i];
    proof.t_hat_ += l[i] * r[i];
  }
  proof.tau_x_ = tau2 * x * x + tau1 * x;
  for (std::size_t j = 0; j < m; ++j)
    proof.tau_x_ += zp[j] * gamma[j];
  proof.mu_ = alpha + rho * x;
  declassify(proof.t_hat_);  // published in the proof
  declassify(proof.tau_x_);
  declassify(proof.mu_);
  transcript.append_scalar("t_x", proof.t_hat_);
  transcript.append_scalar("tau_x", proof.tau_x_);
  transcript.append_scalar("mu", proof.mu_);
  const Scalar w = transcript.challenge_scalar("w");
  if (w.is_zero()) return Status::failed_precondition("range proof: zero challenge; retry");
  const Point Q = w * gens.Q();

  // Step 9: the inner-product argument for l, r over G and H'_i = y^-i H_i.
  auto y_inv = y.invert();
  if (!y_inv.is_ok()) return y_inv.status();  // y is not zero (checked above)
  PFEX_ASSIGN_OR_RETURN(
      proof.ipp_, prove_inner_product(transcript, Q, G, H, *y_inv, std::move(l), std::move(r)));

  // Step 10: the final a, b, so that later proofs on this transcript bind to them.
  absorb_final_scalars(transcript, proof.ipp_);
  return proof;
}

Result<RangeProofEquation> RangeProofAccess::equation(const BulletproofGens& gens,
                                                      Transcript& transcript,
                                                      const RangeProof& proof,
                                                      std::span<const Point> V,
                                                      const Scalar& weight) {
  const std::size_t m = V.size();
  PFEX_RETURN_IF_ERROR(check_value_count(m, gens));
  if (proof.num_values() != m) {
    return Status::invalid_argument("range proof for " + std::to_string(proof.num_values()) +
                                    " values checked against " + std::to_string(m) +
                                    " commitments");
  }
  const std::size_t N = kBits * m;
  const std::size_t rounds = proof.ipp_.L.size();

  // The challenges (section 4).
  absorb_statement(transcript, gens, V);
  if (!validate_and_append(transcript, "A", proof.A_).is_ok() ||
      !validate_and_append(transcript, "S", proof.S_).is_ok()) {
    return Status::invalid_proof("range proof: A or S is the identity");
  }
  const Scalar y = transcript.challenge_scalar("y");
  const Scalar z = transcript.challenge_scalar("z");
  if (!validate_and_append(transcript, "T1", proof.T1_).is_ok() ||
      !validate_and_append(transcript, "T2", proof.T2_).is_ok()) {
    return Status::invalid_proof("range proof: T1 or T2 is the identity");
  }
  const Scalar x = transcript.challenge_scalar("x");
  transcript.append_scalar("t_x", proof.t_hat_);
  transcript.append_scalar("tau_x", proof.tau_x_);
  transcript.append_scalar("mu", proof.mu_);
  const Scalar w = transcript.challenge_scalar("w");
  PFEX_ASSIGN_OR_RETURN(std::vector<Scalar> u, inner_product_challenges(transcript, proof.ipp_));
  absorb_final_scalars(transcript, proof.ipp_);
  if (y.is_zero() || z.is_zero() || x.is_zero() || w.is_zero()) {
    return Status::invalid_proof("range proof: zero challenge");
  }

  // One inversion for y and every u_k (none is zero).
  std::vector<Scalar> inv = u;
  inv.push_back(y);
  PFEX_RETURN_IF_ERROR(Scalar::batch_invert(inv));
  const Scalar y_inv = inv.back();
  inv.pop_back();
  std::vector<Scalar> u_sq(rounds);
  std::vector<Scalar> u_inv_sq(rounds);
  for (std::size_t k = 0; k < rounds; ++k) {
    u_sq[k] = u[k] * u[k];
    u_inv_sq[k] = inv[k] * inv[k];
  }
  const std::vector<Scalar> s = inner_product_s(inv, u_sq);

  // Section 8, term by term, times the weight r (folded into the per-proof scalars, so that
  // weighting costs nothing per index).
  const Scalar& r = weight;
  // The verifier's weight joining the two equations: derived from the whole proof (the transcript
  // after its last scalar) and the caller's weight, on a copy of the transcript, so the verdict is
  // a function of the bytes; a prover who fixes its proof cannot aim at it.
  Transcript weights = transcript;
  weights.append_scalar("weight", weight);
  const Scalar c = weights.challenge_scalar("c");
  const Scalar rc = r * c;
  const std::vector<Scalar> two = powers_of_two();
  const std::vector<Scalar> zp = z_powers(z, m);
  std::vector<Scalar> r_zp(m);
  for (std::size_t j = 0; j < m; ++j)
    r_zp[j] = r * zp[j];
  const Scalar& a = proof.ipp_.a;
  const Scalar& b = proof.ipp_.b;
  const Scalar minus_ra = -(r * a);
  const Scalar rb = r * b;
  RangeProofEquation eq;
  eq.g_const = -(r * z);
  eq.h_const = r * z;
  eq.g.resize(N);
  eq.h.resize(N);
  Scalar y_inv_pow = Scalar::one();
  for (std::size_t i = 0; i < N; ++i) {
    eq.g[i] = minus_ra * s[i];
    eq.h[i] = y_inv_pow * (r_zp[i / kBits] * two[i % kBits] - rb * s[N - 1 - i]);
    y_inv_pow *= y_inv;
  }
  // <1^N, y^N> by doubling: sum_{i<2k} y^i = (1 + y^k) sum_{i<k} y^i.
  Scalar sum_y = Scalar::one();
  Scalar y_k = y;
  for (std::size_t len = 1; len < N; len *= 2) {
    sum_y += y_k * sum_y;
    y_k *= y_k;
  }
  Scalar sum_zp;
  for (const Scalar& v : zp)
    sum_zp += v;
  const Scalar delta =
      (z - z * z) * sum_y - z * sum_zp * Scalar::from_u64(~std::uint64_t{0});  // <1^n, 2^n>
  eq.base = rc * (delta - proof.t_hat_);
  eq.blind = -(r * proof.mu_ + rc * proof.tau_x_);
  eq.q = r * w * (proof.t_hat_ - a * b);

  eq.scalars.reserve(m + 4 + 2 * rounds);
  eq.points.reserve(m + 4 + 2 * rounds);
  for (std::size_t j = 0; j < m; ++j) {
    eq.scalars.push_back(rc * zp[j]);
    eq.points.push_back(V[j]);
  }
  const Scalar rcx = rc * x;
  eq.scalars.push_back(rcx);
  eq.points.push_back(proof.T1_.point);
  eq.scalars.push_back(rcx * x);
  eq.points.push_back(proof.T2_.point);
  eq.scalars.push_back(r);
  eq.points.push_back(proof.A_.point);
  eq.scalars.push_back(r * x);
  eq.points.push_back(proof.S_.point);
  for (std::size_t k = 0; k < rounds; ++k) {
    eq.scalars.push_back(r * u_sq[k]);
    eq.points.push_back(proof.ipp_.L[k].point);
    eq.scalars.push_back(r * u_inv_sq[k]);
    eq.points.push_back(proof.ipp_.R[k].point);
  }
  return eq;
}

}  // namespace detail

Result<RangeProofWithCommitments> RangeProof::prove(const BulletproofGens& gens,
                                                    Transcript& transcript,
                                                    std::span<const std::uint64_t> values,
                                                    std::span<const Scalar> blindings) {
  return detail::RangeProofAccess::prove_values(gens, transcript, values, blindings,
                                                [] { return Scalar::random(); });
}

namespace detail {

Result<RangeProofWithCommitments> RangeProofAccess::prove_values(
    const BulletproofGens& gens, Transcript& transcript, std::span<const std::uint64_t> values,
    std::span<const Scalar> blindings, const NonceSource& nonce) {
  const std::size_t m = values.size();
  PFEX_RETURN_IF_ERROR(check_value_count(m, gens));
  if (blindings.size() != m) {
    return Status::invalid_argument("range proof: " + std::to_string(m) + " values but " +
                                    std::to_string(blindings.size()) + " blindings");
  }
  // Step 1: the bits, by shifts and masks (no branch on a bit).
  std::vector<Scalar> a_L(kBits * m);
  for (std::size_t j = 0; j < m; ++j) {
    for (std::size_t b = 0; b < kBits; ++b)
      a_L[j * kBits + b] = Scalar::from_u64((values[j] >> b) & 1);
  }
  // Step 2: the commitments, published with the proof.
  RangeProofWithCommitments out{RangeProof(), {}};
  out.commitments.reserve(m);
  for (std::size_t j = 0; j < m; ++j) {
    out.commitments.push_back(gens.pedersen().commit(Scalar::from_u64(values[j]), blindings[j]));
    declassify(out.commitments.back());  // public: the statement
  }
  PFEX_ASSIGN_OR_RETURN(out.proof,
                        prove_bits(gens, transcript, a_L, out.commitments, blindings, nonce,
                                   /*a_L_is_binary=*/true));
  return out;
}

}  // namespace detail

Status RangeProof::verify(const BulletproofGens& gens, Transcript& transcript,
                          std::span<const Point> commitments) const {
  VerificationTerms terms;
  PFEX_RETURN_IF_ERROR(
      append_verification_terms(gens, transcript, commitments, Scalar::one(), terms));
  if (!terms.is_identity_var()) return Status::invalid_proof("range proof does not verify");
  return Status::ok();
}

Status RangeProof::append_verification_terms(const BulletproofGens& gens, Transcript& transcript,
                                             std::span<const Point> commitments,
                                             const Scalar& weight, VerificationTerms& terms) const {
  auto eq = RangeProofAccess::equation(gens, transcript, *this, commitments, weight);
  if (!eq.is_ok()) {
    terms.refuse(eq.status());  // fails closed even if the caller drops the status
    return eq.status();
  }
  append_equation(gens, *eq, terms);
  return Status::ok();
}

Bytes RangeProof::encode() const {
  Bytes out;
  out.reserve(32 * (9 + 2 * ipp_.L.size()));  // encoded_size(num_values())
  Writer w(&out);
  w.fixed(A_.encoding);
  w.fixed(S_.encoding);
  w.fixed(T1_.encoding);
  w.fixed(T2_.encoding);
  w.fixed(t_hat_.bytes());
  w.fixed(tau_x_.bytes());
  w.fixed(mu_.bytes());
  for (std::size_t k = 0; k < ipp_.L.size(); ++k) {
    w.fixed(ipp_.L[k].encoding);
    w.fixed(ipp_.R[k].encoding);
  }
  w.fixed(ipp_.a.bytes());
  w.fixed(ipp_.b.bytes());
  return out;
}

Result<RangeProof> RangeProof::decode(ByteSpan bytes, std::size_t m) {
  if (!is_valid_value_count(m)) {
    return Status::invalid_argument("range proof: cannot decode for " + std::to_string(m) +
                                    " values; m must be 1, 2, 4, 8 or 16");
  }
  const std::size_t size = encoded_size(m);
  if (bytes.size() != size) {
    return Status::invalid_argument("range proof for " + std::to_string(m) + " values must be " +
                                    std::to_string(size) + " bytes, got " +
                                    std::to_string(bytes.size()));
  }
  std::size_t pos = 0;
  auto next = [&]() {
    const ByteSpan field = bytes.subspan(pos, 32);
    pos += 32;
    return field;
  };
  RangeProof proof;
  PFEX_ASSIGN_OR_RETURN(proof.A_, ProofPoint::decode(next()));
  PFEX_ASSIGN_OR_RETURN(proof.S_, ProofPoint::decode(next()));
  PFEX_ASSIGN_OR_RETURN(proof.T1_, ProofPoint::decode(next()));
  PFEX_ASSIGN_OR_RETURN(proof.T2_, ProofPoint::decode(next()));
  PFEX_ASSIGN_OR_RETURN(proof.t_hat_, Scalar::decode(next()));
  PFEX_ASSIGN_OR_RETURN(proof.tau_x_, Scalar::decode(next()));
  PFEX_ASSIGN_OR_RETURN(proof.mu_, Scalar::decode(next()));
  const std::size_t rounds = (size / 32 - 9) / 2;
  for (std::size_t k = 0; k < rounds; ++k) {
    PFEX_ASSIGN_OR_RETURN(ProofPoint L, ProofPoint::decode(next()));
    PFEX_ASSIGN_OR_RETURN(ProofPoint R, ProofPoint::decode(next()));
    proof.ipp_.L.push_back(L);
    proof.ipp_.R.push_back(R);
  }
  PFEX_ASSIGN_OR_RETURN(proof.ipp_.a, Scalar::decode(next()));
  PFEX_ASSIGN_OR_RETURN(proof.ipp_.b, Scalar::decode(next()));
  return proof;
}

Status verify_batch(const BulletproofGens& gens, std::span<const RangeProofBatchItem> items,
                    std::vector<std::size_t>* bad_indices) {
  if (bad_indices != nullptr) bad_indices->clear();
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (items[k].transcript == nullptr || items[k].proof == nullptr) {
      return Status::invalid_argument("range proof batch: item " + std::to_string(k) +
                                      " has no transcript or proof");
    }
  }
  // The weights come from every proof's bytes and commitments: the verdict is a function of the
  // batch, and no proof is fixed after its weight is.
  Transcript seed("pfex/v1/range-batch-weights");
  for (const RangeProofBatchItem& item : items) {
    seed.append_message("proof", item.proof->encode());
    for (const Point& V : item.commitments)
      seed.append_point("V", V);
  }
  std::vector<Scalar> weights;
  weights.reserve(items.size());
  for (std::size_t k = 0; k < items.size(); ++k)
    weights.push_back(seed.challenge_scalar("weight"));
  VerificationTerms terms;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const RangeProofBatchItem& item = items[k];
    terms.begin_entry();
    // An independent weight per proof (section 9), fixed by every proof of the batch.
    const Status s = item.proof->append_verification_terms(gens, *item.transcript, item.commitments,
                                                           weights[k], terms);
    if (!s.is_ok() && s.code() != ErrorCode::kInvalidProof) {
      return s.with_context("range proof batch: item " + std::to_string(k));
    }
  }
  if (terms.is_identity_var()) return Status::ok();
  const std::vector<std::size_t> bad = terms.failing_entries_var();
  if (bad_indices != nullptr) *bad_indices = bad;
  return Status::invalid_proof("range proof batch: " + describe_failing(bad) + " (of " +
                               std::to_string(items.size()) + ")");
}

}  // namespace pfex::crypto
