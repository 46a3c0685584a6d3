// One-out-of-many proofs. Step numbers refer to docs/crypto/one-of-many.md.
#include "crypto/one_of_many.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "crypto/ct.hpp"
#include "crypto/msm.hpp"
#include "crypto/pedersen.hpp"
#include "crypto/proof_codec.hpp"

namespace pfex::crypto {

namespace {

ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Prover step 1 / verifier step 1: the statement, before any proof element.
void append_statement(Transcript& t, const OneOfManyGens& gens, std::size_t n,
                      const Digest32& set_digest, const Point& offset) {
  t.append_domain_separator(kOneOfManyDomain);
  t.append_message("gens", as_bytes(gens.label()));
  t.append_u64("n", n);
  t.append_message("set", set_digest);
  t.append_point("offset", offset);
}
void append_statement(Transcript& t, const OneOfManyGens& gens, const OneOfManySet& set,
                      const Point& offset) {
  append_statement(t, gens, set.log_size(), set.digest(), offset);
}

// Step 6: the first message, then the challenge x.
Result<Scalar> append_commitments(Transcript& t, const OneOfManyProof& p) {
  PFEX_RETURN_IF_ERROR(t.validate_and_append_point("A", p.A()));
  PFEX_RETURN_IF_ERROR(t.validate_and_append_point("B", p.B()));
  PFEX_RETURN_IF_ERROR(t.validate_and_append_point("C", p.C()));
  PFEX_RETURN_IF_ERROR(t.validate_and_append_point("D", p.D()));
  for (const Point& G_k : p.G())
    t.append_point("G", G_k);
  return t.challenge_scalar("x");
}

// Step 8: the responses, so that later proofs on t depend on them.
void append_responses(Transcript& t, const OneOfManyProof& p) {
  for (const Scalar& f_j : p.f())
    t.append_scalar("f", f_j);
  t.append_scalar("z_A", p.z_A());
  t.append_scalar("z_C", p.z_C());
  t.append_scalar("z", p.z());
}

// C_index with a masked scan over every point: constant time in index.
Point select_ct(std::span<const Point> points, std::uint64_t index) {
  detail::Ext r = detail::ext_identity();
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::uint64_t diff = static_cast<std::uint64_t>(i) ^ index;
    const std::uint64_t equal = 1 ^ ((diff | (0 - diff)) >> 63);
    const detail::Ext& p = points[i].ext();
    detail::fe_cmov(r.X, p.X, equal);
    detail::fe_cmov(r.Y, p.Y, equal);
    detail::fe_cmov(r.Z, p.Z, equal);
    detail::fe_cmov(r.T, p.T, equal);
  }
  return Point(r);
}

// Verifier step 2 and section 5: out[i] = w * prod_j f_{j,i_j} for every i < 2^n, with
// f_{j,1} = f[j], f_{j,0} = x - f[j]. About 2N multiplications. scratch is reused between calls.
void set_coefficients_of(std::span<Scalar> out, const Scalar& w, const Scalar& x,
                         std::span<const Scalar> f, std::vector<Scalar>& scratch) {
  const std::size_t n = f.size();
  std::vector<Scalar> f0(n);
  for (std::size_t j = 0; j < n; ++j)
    f0[j] = x - f[j];
  scratch.resize(out.size() / 2);
  scratch[0] = w;
  std::size_t size = 1;
  // In place, q descending: P[2q], P[2q+1] are at or above q, so P[q] is read before overwritten.
  for (std::size_t j = n - 1; j >= 1; --j) {
    for (std::size_t q = size; q-- > 0;) {
      const Scalar p = scratch[q];
      scratch[2 * q + 1] = p * f[j];
      scratch[2 * q] = p * f0[j];
    }
    size *= 2;
  }
  for (std::size_t q = 0; q < size; ++q) {
    out[2 * q] = scratch[q] * f0[0];
    out[2 * q + 1] = scratch[q] * f[0];
  }
}

// Prover step 4 (section 5): the coefficients p_{i,k}, k < n, of p_i(X) = prod_j f_{j,i_j}(X),
// with f_{j,1}(X) = l_j X + a_j and f_{j,0}(X) = (1 - l_j) X - a_j. Returned as n rows of N + 1
// scalars, row k = (p_{0,k}, ..., p_{N-1,k}, slot for rho_k), ready for the MSM of step 5.
// Coefficients of degree n and above are dropped: a product's coefficient k depends only on its
// factors' coefficients up to k. Constant time (Scalar arithmetic only, public loop bounds).
std::vector<std::vector<Scalar>> prover_polynomials(std::span<const Scalar> bits,
                                                    std::span<const Scalar> a) {
  const std::size_t n = bits.size();
  const std::size_t N = std::size_t{1} << n;
  std::vector<std::vector<Scalar>> P(n, std::vector<Scalar>(N + 1));
  P[0][0] = Scalar::one();
  std::size_t size = 1;
  std::vector<Scalar> column(n);
  for (std::size_t j = n; j-- > 0;) {
    const Scalar lead[2] = {Scalar::one() - bits[j], bits[j]};
    const Scalar constant[2] = {-a[j], a[j]};
    const std::size_t degree = n - 1 - j;  // of the current P[.][q], before this digit
    for (std::size_t q = size; q-- > 0;) {
      for (std::size_t k = 0; k <= degree; ++k)
        column[k] = P[k][q];
      for (std::size_t b = 0; b < 2; ++b) {
        const std::size_t i = 2 * q + b;
        const std::size_t top = std::min(degree + 1, n - 1);
        for (std::size_t k = 0; k <= top; ++k) {
          Scalar c = k <= degree ? column[k] * constant[b] : Scalar::zero();
          if (k >= 1) c += column[k - 1] * lead[b];
          P[k][i] = c;
        }
      }
    }
    size *= 2;
  }
  return P;
}

// Steps 4 and 5 without the rho_k H terms: sum_i p_{i,k} C_i for k < n, constant time in l
// and the a_j. Done as n MSMs over the N points this costs n*N terms. Instead the index splits
// into its m low bits and n - m high bits, p_i = L_lo * U_hi (each a product over its digits,
// as in step 4), so that
//     sum_i p_i(x) C_i = sum_hi U_hi(x) Q_hi(x),   Q_hi(x) = sum_lo L_lo(x) C_(hi, lo):
// the Q's coefficients below the top are m MSMs of 2^m points per group (m*N terms), the top
// one is C_(hi, l_lo) (a constant-time selection), and the products with U_hi are one MSM per
// k over the 2^(n-m) groups' m + 1 coefficients. With m = n/2 and N = 1024 that is 6,272 terms
// instead of 10,240, and every point's table is built once.
Result<std::vector<Point>> prover_g_k(std::span<const Point> C, std::size_t l,
                                      std::span<const Scalar> bits, std::span<const Scalar> a) {
  const std::size_t n = bits.size();
  const std::size_t m = n / 2;
  const std::size_t h = n - m;
  const std::size_t groups = std::size_t{1} << h;
  const std::size_t width = std::size_t{1} << m;
  const auto lo_l = static_cast<std::uint64_t>(l) & (width - 1);
  // Coefficients below the top: L[k][lo] for k < m, U[b][hi] for b < h. With m = 0 the low part
  // is the constant 1.
  const std::vector<std::vector<Scalar>> L =
      m == 0 ? std::vector<std::vector<Scalar>>{} : prover_polynomials(bits.first(m), a.first(m));
  const std::vector<std::vector<Scalar>> U = prover_polynomials(bits.subspan(m), a.subspan(m));
  // U's top coefficient: prod_j (hi_j ? l_(m+j) : 1 - l_(m+j)), 1 for hi = l_hi and 0 otherwise.
  std::vector<Scalar> U_top(groups, Scalar::one());
  for (std::size_t hi = 0; hi < groups; ++hi) {
    for (std::size_t j = 0; j < h; ++j) {
      U_top[hi] *= ((hi >> j) & 1) != 0 ? bits[m + j] : Scalar::one() - bits[m + j];
    }
  }

  // Q[a * groups + hi]: coefficient a of Q_hi, a-major so that each k's terms are contiguous.
  std::vector<Point> Q((m + 1) * groups);
  {
    const MsmTables tables(C);
    for (std::size_t hi = 0; hi < groups; ++hi) {
      for (std::size_t k = 0; k < m; ++k) {
        const std::span<const Scalar> scalars(L[k].data(), width);
        PFEX_ASSIGN_OR_RETURN(Q[k * groups + hi], tables.msm(scalars, hi * width));
      }
      Q[m * groups + hi] = select_ct(C.subspan(hi * width, width), lo_l);
    }
  }
  // G_k = sum over a + b = k (a <= m, b <= h, not both at the top) of U[b][hi] * Q_hi[a].
  const MsmTables tables(Q);
  std::vector<Scalar> scalars;
  std::vector<Point> G(n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t a_low = k > h ? k - h : 0;
    const std::size_t a_high = std::min(k, m);
    scalars.clear();
    for (std::size_t a_k = a_low; a_k <= a_high; ++a_k) {
      const std::size_t b = k - a_k;
      for (std::size_t hi = 0; hi < groups; ++hi)
        scalars.push_back(b == h ? U_top[hi] : U[b][hi]);
    }
    PFEX_ASSIGN_OR_RETURN(G[k], tables.msm(scalars, a_low * groups));
  }
  return G;
}

Status check_log_size(std::size_t n) {
  if (n < kOneOfManyMinLogSize || n > kOneOfManyMaxLogSize) {
    return Status::invalid_argument("one-of-many: n = " + std::to_string(n) + " is outside [" +
                                    std::to_string(kOneOfManyMinLogSize) + ", " +
                                    std::to_string(kOneOfManyMaxLogSize) + "]");
  }
  return Status::ok();
}

Status check_proof_size(const OneOfManyProof& p, const OneOfManySet& set) {
  if (p.log_size() != set.log_size()) {
    return Status::invalid_argument("one-of-many: proof for 2^" + std::to_string(p.log_size()) +
                                    " points, set of 2^" + std::to_string(set.log_size()));
  }
  return Status::ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Generators and sets

OneOfManyGens::OneOfManyGens(std::string label) : E_(std::move(label), kOneOfManyMaxLogSize) {}

const Point& OneOfManyGens::H() const {
  return blinding_generator();
}

Result<OneOfManySet> OneOfManySet::create(std::vector<Point> points) {
  const std::size_t N = points.size();
  std::size_t n = 0;
  while (n < 64 && (std::size_t{1} << n) < N)
    ++n;
  if (N == 0 || (std::size_t{1} << n) != N) {
    return Status::invalid_argument("one-of-many: the set has " + std::to_string(N) +
                                    " points, not a power of two");
  }
  PFEX_RETURN_IF_ERROR(check_log_size(n));
  std::vector<Point::Encoding> encodings(N);
  for (std::size_t i = 0; i < N; ++i)
    encodings[i] = points[i].encode();
  const Digest32 digest = one_of_many_set_digest(
      N, [&](std::size_t i) -> const Point::Encoding& { return encodings[i]; });
  return OneOfManySet(std::move(points), n, digest);
}

Digest32 one_of_many_set_digest(
    std::size_t N, const std::function<const Point::Encoding&(std::size_t)>& encoding) {
  Hasher h(kOneOfManySetDigestDomain);
  Writer w;
  w.u64(N);
  h.update(w.bytes());
  for (std::size_t i = 0; i < N; ++i)
    h.update(encoding(i));
  return h.finish();
}

// ---------------------------------------------------------------------------------------------
// Prover

Result<OneOfManyProof> OneOfManyProof::prove(const OneOfManyGens& gens, Transcript& t,
                                             const OneOfManySet& set, const Point& offset,
                                             std::size_t index, const Scalar& r) {
  return prove_with_nonces(gens, t, set, offset, index, r, [] { return Scalar::random(); });
}

Result<OneOfManyProof> detail_prove_with_nonces(const OneOfManyGens& gens, Transcript& t,
                                                const OneOfManySet& set, const Point& offset,
                                                std::size_t index, const Scalar& r,
                                                const std::function<Scalar()>& nonce) {
  return OneOfManyProof::prove_with_nonces(gens, t, set, offset, index, r, nonce);
}

Result<OneOfManyProof> OneOfManyProof::prove_with_nonces(const OneOfManyGens& gens, Transcript& t,
                                                         const OneOfManySet& set,
                                                         const Point& offset, std::size_t index,
                                                         const Scalar& r,
                                                         const std::function<Scalar()>& nonce) {
  // Step 0. Both verdicts are public by contract (the prover's result says them).
  const bool in_range = (static_cast<std::uint64_t>(index) >> set.log_size()) == 0;
  declassify(in_range);
  if (!in_range) {
    return Status::invalid_argument("one-of-many: index out of range for a set of " +
                                    std::to_string(set.size()) + " points");
  }
  const Point residue = select_ct(set.points(), index) - offset - r * gens.H();
  const bool holds = residue.is_identity();
  declassify(holds);
  if (!holds) {
    return Status::invalid_argument(
        "one-of-many: C_index - offset is not r*H (the statement is false)");
  }
  return prove_unchecked(gens, t, set, offset, index, r, nonce);
}

Result<OneOfManyProof> OneOfManyProof::prove_unchecked(const OneOfManyGens& gens, Transcript& t,
                                                       const OneOfManySet& set, const Point& offset,
                                                       std::size_t index, const Scalar& r,
                                                       const std::function<Scalar()>& nonce) {
  OneOfManyProof proof;
  const std::size_t n = set.log_size();
  const Point& H = gens.H();
  append_statement(t, gens, set, offset);  // step 1

  // Step 2: bits of l by shifts and masks, and the prover's random values.
  std::vector<Scalar> bits(n), a(n), rho(n);
  for (std::size_t j = 0; j < n; ++j) {
    bits[j] = Scalar::from_u64((static_cast<std::uint64_t>(index) >> j) & 1);
    a[j] = nonce();
    rho[j] = nonce();
  }
  const Scalar r_A = nonce(), r_B = nonce();
  const Scalar r_C = nonce(), r_D = nonce();

  // Step 3: A = Com(a), B = Com(l), C = Com(a(1 - 2l)), D = Com(-a^2).
  std::vector<Scalar> scalars(n + 1);
  std::vector<Point> points(gens.E().points().begin(),
                            gens.E().points().begin() + static_cast<std::ptrdiff_t>(n));
  points.push_back(H);
  const auto commit = [&](auto entry, const Scalar& blinding) {
    for (std::size_t j = 0; j < n; ++j)
      scalars[j] = entry(j);
    scalars[n] = blinding;
    return msm(scalars, points);
  };
  PFEX_ASSIGN_OR_RETURN(proof.A_, commit([&](std::size_t j) { return a[j]; }, r_A));
  PFEX_ASSIGN_OR_RETURN(proof.B_, commit([&](std::size_t j) { return bits[j]; }, r_B));
  PFEX_ASSIGN_OR_RETURN(proof.C_,
                        commit([&](std::size_t j) { return a[j] - (a[j] + a[j]) * bits[j]; }, r_C));
  PFEX_ASSIGN_OR_RETURN(proof.D_, commit([&](std::size_t j) { return -(a[j] * a[j]); }, r_D));

  // Steps 4 and 5: G_k = sum_i p_{i,k} C_i + rho_k H, constant-time.
  PFEX_ASSIGN_OR_RETURN(proof.G_, prover_g_k(set.points(), index, bits, a));
  for (std::size_t k = 0; k < n; ++k)
    proof.G_[k] += rho[k] * H;

  // Step 6. The first message is published: declassify before the transcript branches on it.
  declassify(proof.A_);
  declassify(proof.B_);
  declassify(proof.C_);
  declassify(proof.D_);
  for (const Point& G_k : proof.G_)
    declassify(G_k);
  PFEX_ASSIGN_OR_RETURN(const Scalar x, append_commitments(t, proof));

  // Step 7: responses.
  proof.f_.resize(n);
  Scalar x_pow = Scalar::one();  // x^k
  Scalar rho_sum;                // sum_k rho_k x^k
  for (std::size_t j = 0; j < n; ++j) {
    proof.f_[j] = bits[j] * x + a[j];
    rho_sum += rho[j] * x_pow;
    x_pow *= x;
  }
  proof.z_A_ = r_B * x + r_A;
  proof.z_C_ = r_C * x + r_D;
  proof.z_ = r * x_pow - rho_sum;
  // The responses are published.
  for (const Scalar& f_j : proof.f_)
    declassify(f_j);
  declassify(proof.z_A_);
  declassify(proof.z_C_);
  declassify(proof.z_);

  append_responses(t, proof);  // step 8
  return proof;
}

Result<OneOfManyProof> detail_prove_unchecked(const OneOfManyGens& gens, Transcript& t,
                                              const OneOfManySet& set, const Point& offset,
                                              std::size_t index, const Scalar& r) {
  if (index >= set.size()) return Status::invalid_argument("one-of-many: index out of range");
  return OneOfManyProof::prove_unchecked(gens, t, set, offset, index, r,
                                         [] { return Scalar::random(); });
}

// ---------------------------------------------------------------------------------------------
// Wire format

void OneOfManyProof::encode(Writer& w) const {
  write_point(w, A_);
  write_point(w, B_);
  write_point(w, C_);
  write_point(w, D_);
  for (const Point& G_k : G_)
    write_point(w, G_k);
  for (const Scalar& f_j : f_)
    write_scalar(w, f_j);
  write_scalar(w, z_A_);
  write_scalar(w, z_C_);
  write_scalar(w, z_);
}

Bytes OneOfManyProof::encode() const {
  Bytes out;
  out.reserve(encoded_size(log_size()));
  Writer w(&out);
  encode(w);
  return out;
}

Result<OneOfManyProof> OneOfManyProof::decode(Reader& r, std::size_t n) {
  PFEX_RETURN_IF_ERROR(check_log_size(n));
  OneOfManyProof p;
  p.A_ = read_point(r, "one-of-many A");
  p.B_ = read_point(r, "one-of-many B");
  p.C_ = read_point(r, "one-of-many C");
  p.D_ = read_point(r, "one-of-many D");
  p.G_.resize(n);
  for (Point& G_k : p.G_)
    G_k = read_point(r, "one-of-many G_k");
  p.f_.resize(n);
  for (Scalar& f_j : p.f_)
    f_j = read_scalar(r, "one-of-many f_j");
  p.z_A_ = read_scalar(r, "one-of-many z_A");
  p.z_C_ = read_scalar(r, "one-of-many z_C");
  p.z_ = read_scalar(r, "one-of-many z");
  if (r.failed()) return r.status();
  return p;
}

Result<OneOfManyProof> OneOfManyProof::decode(ByteSpan bytes, std::size_t n) {
  Reader r(bytes);
  PFEX_ASSIGN_OR_RETURN(OneOfManyProof p, decode(r, n));
  PFEX_RETURN_IF_ERROR(r.finish());
  return p;
}

// ---------------------------------------------------------------------------------------------
// Verifier

Status OneOfManyProof::verify(const OneOfManyGens& gens, Transcript& t, const OneOfManySet& set,
                              const Point& offset) const {
  PFEX_RETURN_IF_ERROR(check_proof_size(*this, set));
  VerificationTerms terms;
  PFEX_RETURN_IF_ERROR(append_verification_terms(gens, t, set, offset, Scalar::one(), terms));
  if (terms.is_identity_var()) return Status::ok();
  return Status::invalid_proof("one-of-many proof does not verify");
}

Status OneOfManyProof::append_verification_terms(const OneOfManyGens& gens, Transcript& t,
                                                 const OneOfManySet& set, const Point& offset,
                                                 const Scalar& weight,
                                                 VerificationTerms& terms) const {
  if (Status s = check_proof_size(*this, set); !s.is_ok()) {
    Status refused = Status::invalid_proof(std::string(s.message()));
    terms.refuse(refused);  // fails closed whatever the caller does with the status
    return refused;
  }
  std::vector<Scalar> coefficients;
  PFEX_RETURN_IF_ERROR(append_verification_terms_unplaced(gens, t, set.log_size(), set.digest(),
                                                          offset, weight, terms, coefficients));
  std::span<Scalar> slots = terms.add_shared_slots(set.points());
  std::copy(coefficients.begin(), coefficients.end(), slots.begin());
  return Status::ok();
}

Status OneOfManyProof::append_verification_terms_unplaced(
    const OneOfManyGens& gens, Transcript& t, std::size_t n, const Digest32& set_digest,
    const Point& offset, const Scalar& weight, VerificationTerms& terms,
    std::vector<Scalar>& set_coefficients) const {
  // Refuses the entry (fails closed) whatever the caller does with the status.
  auto refuse = [&terms](std::string message) {
    Status s = Status::invalid_proof(std::move(message));
    terms.refuse(s);
    return s;
  };
  if (Status s = check_log_size(n); !s.is_ok()) return refuse(std::string(s.message()));
  if (log_size() != n) {
    return refuse("one-of-many: proof for 2^" + std::to_string(log_size()) + " points, set of 2^" +
                  std::to_string(n));
  }
  append_statement(t, gens, n, set_digest, offset);  // step 1
  auto challenge = append_commitments(t, *this);
  if (!challenge.is_ok()) {
    return refuse("one-of-many: " + std::string(challenge.status().message()));
  }
  append_responses(t, *this);
  const Scalar& x = *challenge;

  // Step 3: the verifier's weights times the caller's, derived from the whole proof (the
  // transcript after its responses) and the caller's weight on a copy of the transcript: the
  // verdict is a function of the bytes, and a prover who fixes its proof cannot aim at them.
  Transcript weights = t;
  weights.append_scalar("weight", weight);
  const Scalar w = weight * weights.challenge_scalar("w");
  const Scalar u = weight * weights.challenge_scalar("u");
  const Scalar v = weight * weights.challenge_scalar("v");
  // Step 2: p_i(x), weighted by w, as the set points' coefficients.
  std::vector<Scalar> scratch;
  set_coefficients.assign(std::size_t{1} << n, Scalar::zero());
  set_coefficients_of(set_coefficients, w, x, f_, scratch);
  // Shared generators: -(u f_j + v f_j (x - f_j)) E_j and -(w z + u z_A + v z_C) H.
  std::vector<Scalar> E_coef(n);
  for (std::size_t j = 0; j < n; ++j)
    E_coef[j] = -(f_[j] * (u + v * (x - f_[j])));
  terms.add_shared(gens.E().points().first(n), E_coef);
  terms.add_shared(gens.H(), -(w * z_ + u * z_A_ + v * z_C_));
  // Step 3, the proof's own points: -w x^n O - sum_k w x^k G_k + u A + u x B + v x C + v D.
  Scalar wx = w;  // w x^k
  for (std::size_t k = 0; k < n; ++k) {
    terms.add(-wx, G_[k]);
    wx *= x;
  }
  terms.add(-wx, offset);
  terms.add(u, A_);
  terms.add(u * x, B_);
  terms.add(v * x, C_);
  terms.add(v, D_);
  return Status::ok();
}

OneOfManyBatch::OneOfManyBatch(const OneOfManyGens& gens, const OneOfManySet& set)
    : gens_(gens), set_(set) {}

Status OneOfManyBatch::add(Transcript& t, const Point& offset, const OneOfManyProof& proof) {
  const std::size_t position = terms_.begin_entry();
  return proof.append_verification_terms(gens_, t, set_, offset, Scalar::one(), terms_)
      .with_context("one-of-many batch, proof " + std::to_string(position));
}

std::vector<std::size_t> OneOfManyBatch::invalid_positions() const {
  return terms_.failing_entries_var();
}

Status OneOfManyBatch::verify() const {
  if (terms_.is_identity_var()) return Status::ok();
  return Status::invalid_proof("one-of-many batch: " + describe_failing(invalid_positions()));
}

void OneOfManyBatch::append_terms(VerificationTerms& out, const Scalar& weight) const {
  out.append_weighted(terms_, weight);
}

}  // namespace pfex::crypto
