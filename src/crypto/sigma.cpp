#include "crypto/sigma.hpp"

#include <algorithm>
#include <string>

#include "crypto/ct.hpp"
#include "crypto/msm.hpp"
#include "crypto/proof_codec.hpp"

namespace pfex::crypto {

namespace {

// sum over relation j's terms of (a * v_i) * X_b, constant time in v.
Result<Point> relation_sum(const LinearStatement& s, std::size_t j, std::span<const Scalar> v) {
  const auto terms = s.terms(j);
  std::vector<Scalar> scalars;
  std::vector<Point> points;
  scalars.reserve(terms.size());
  points.reserve(terms.size());
  for (const auto& term : terms) {
    scalars.push_back(term.coefficient * v[term.witness]);
    points.push_back(s.base(term.base));
  }
  return msm(scalars, points);
}

Status check_sizes(const LinearStatement& s, std::size_t relations, std::size_t witnesses) {
  if (relations != s.num_relations() || witnesses != s.num_witnesses()) {
    return Status::invalid_argument("linear proof: " + std::to_string(relations) +
                                    " commitments and " + std::to_string(witnesses) +
                                    " responses for a statement of " +
                                    std::to_string(s.num_relations()) + " relations and " +
                                    std::to_string(s.num_witnesses()) + " witnesses");
  }
  return Status::ok();
}

}  // namespace

LinearStatement::LinearStatement(std::size_t num_witnesses) : num_witnesses_(num_witnesses) {}

std::size_t LinearStatement::add_base(const Point& X) {
  bases_.push_back(X);
  return bases_.size() - 1;
}

std::size_t LinearStatement::add_relation(const Point& P) {
  lhs_.push_back(P);
  terms_.emplace_back();
  return lhs_.size() - 1;
}

Status LinearStatement::add_term(std::size_t j, std::size_t i, std::size_t b, const Scalar& a) {
  if (j >= lhs_.size() || i >= num_witnesses_ || b >= bases_.size()) {
    return Status::invalid_argument("linear statement: term (relation " + std::to_string(j) +
                                    ", witness " + std::to_string(i) + ", base " +
                                    std::to_string(b) + ") names an unknown index");
  }
  terms_[j].push_back(Term{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(b), a});
  return Status::ok();
}

// docs/crypto/sigma.md, "Transcript": step 1.
void LinearStatement::append_to(Transcript& t) const {
  t.append_domain_separator(kLinearProofDomain);
  t.append_u64("witnesses", num_witnesses_);
  t.append_u64("bases", bases_.size());
  t.append_u64("relations", lhs_.size());
  for (const Point& X : bases_)
    t.append_point("X", X);
  for (std::size_t j = 0; j < lhs_.size(); ++j) {
    t.append_point("P", lhs_[j]);
    t.append_u64("terms", terms_[j].size());
    for (const Term& term : terms_[j]) {
      std::array<std::uint8_t, 8 + Scalar::kBytes> bytes{};
      for (std::size_t k = 0; k < 4; ++k) {
        bytes[k] = static_cast<std::uint8_t>(term.witness >> (8 * k));
        bytes[4 + k] = static_cast<std::uint8_t>(term.base >> (8 * k));
      }
      std::copy(term.coefficient.bytes().begin(), term.coefficient.bytes().end(),
                bytes.begin() + 8);
      t.append_message("term", bytes);
    }
  }
}

void LinearProof::encode(Writer& w) const {
  for (const Point& a : A_)
    write_point(w, a);
  for (const Scalar& z : z_)
    write_scalar(w, z);
}

Result<LinearProof> LinearProof::decode(Reader& r, const LinearStatement& s) {
  std::vector<Point> A;
  std::vector<Scalar> z;
  A.reserve(s.num_relations());
  z.reserve(s.num_witnesses());
  for (std::size_t j = 0; j < s.num_relations() && !r.failed(); ++j)
    A.push_back(read_point(r, "linear proof A"));
  for (std::size_t i = 0; i < s.num_witnesses() && !r.failed(); ++i)
    z.push_back(read_scalar(r, "linear proof z"));
  if (r.failed()) return r.status();
  return LinearProof(std::move(A), std::move(z));
}

// docs/crypto/sigma.md, "Prover".
Result<LinearProof> prove_linear(const LinearStatement& s, std::span<const Scalar> witnesses,
                                 Transcript& t) {
  return detail::prove_linear_with_nonces(s, witnesses, t, [] { return Scalar::random(); });
}

Result<LinearProof> detail::prove_linear_with_nonces(const LinearStatement& s,
                                                     std::span<const Scalar> witnesses,
                                                     Transcript& t,
                                                     const std::function<Scalar()>& nonce) {
  PFEX_RETURN_IF_ERROR(check_sizes(s, s.num_relations(), witnesses.size()));

  // Step 0: refuse a false statement. Whether the witnesses satisfy it is public (the prover
  // would publish a failing proof otherwise); each relation's sum is computed in constant time.
  bool satisfied = true;
  for (std::size_t j = 0; j < s.num_relations(); ++j) {
    PFEX_ASSIGN_OR_RETURN(Point sum, relation_sum(s, j, witnesses));
    satisfied &= (sum == s.lhs(j));
  }
  declassify(satisfied);  // "the witnesses do not satisfy the statement" is the refusal's message
  if (!satisfied) {
    return Status::invalid_argument(
        "linear proof: the witnesses do not satisfy the statement; refusing to prove it");
  }

  // Step 1: nonces k_i; step 2: A_j = sum a * k_i * X_b.
  std::vector<Scalar> k(witnesses.size());
  for (Scalar& ki : k)
    ki = nonce();
  std::vector<Point> A;
  A.reserve(s.num_relations());
  for (std::size_t j = 0; j < s.num_relations(); ++j) {
    PFEX_ASSIGN_OR_RETURN(Point a, relation_sum(s, j, k));
    declassify(a);  // published in the proof
    A.push_back(a);
  }

  // Step 3: the challenge, after the statement and the commitments.
  s.append_to(t);
  for (const Point& a : A)
    t.append_point("A", a);
  const Scalar c = t.challenge_scalar("c");

  // Step 4: responses z_i = k_i + c * w_i, absorbed so that later proofs bind to this one.
  std::vector<Scalar> z;
  z.reserve(witnesses.size());
  for (std::size_t i = 0; i < witnesses.size(); ++i) {
    z.push_back(k[i] + c * witnesses[i]);
    declassify(z.back());  // published in the proof
    t.append_scalar("z", z.back());
  }
  return LinearProof(std::move(A), std::move(z));  // k is wiped by ~Scalar
}

// docs/crypto/sigma.md, "Verifier" and "Batch verification".
Status append_linear_verification_terms(const LinearStatement& s, const LinearProof& p,
                                        Transcript& t, const Scalar& weight,
                                        VerificationTerms& out) {
  if (Status sizes = check_sizes(s, p.A().size(), p.z().size()); !sizes.is_ok()) {
    out.refuse(sizes);  // fails closed even if the caller drops the status
    return sizes;
  }

  // Step 1: replay the transcript.
  s.append_to(t);
  for (const Point& a : p.A())
    t.append_point("A", a);
  const Scalar c = t.challenge_scalar("c");
  for (const Scalar& z : p.z())
    t.append_scalar("z", z);

  // Step 2: relation weights rho_j from a fork, so the caller's transcript stays the prover's.
  std::vector<Scalar> rho(s.num_relations(), weight);
  if (s.num_relations() > 1) {
    Transcript fork = t;
    fork.append_domain_separator("sigma/linear/v1/relation-weights");
    for (Scalar& r : rho)
      r = weight * fork.challenge_scalar("rho");
  }

  // Step 3: sum_j rho_j * (sum a * z_i * X_b - A_j - c * P_j) == identity, one coefficient per
  // base.
  std::vector<Scalar> base_coefficient(s.num_bases());
  out.reserve(s.num_bases() + 2 * s.num_relations());
  for (std::size_t j = 0; j < s.num_relations(); ++j) {
    for (const auto& term : s.terms(j))
      base_coefficient[term.base] += rho[j] * term.coefficient * p.z()[term.witness];
    out.add(-rho[j], p.A()[j]);
    out.add(-(rho[j] * c), s.lhs(j));
  }
  for (std::size_t b = 0; b < s.num_bases(); ++b)
    out.add(base_coefficient[b], s.base(b));
  return Status::ok();
}

Status verify_linear(const LinearStatement& s, const LinearProof& p, Transcript& t) {
  VerificationTerms terms;
  PFEX_RETURN_IF_ERROR(append_linear_verification_terms(s, p, t, Scalar::one(), terms));
  if (!terms.is_identity_var()) return Status::invalid_proof("linear proof does not verify");
  return Status::ok();
}

// docs/crypto/sigma.md, "Batch verification".
Status verify_linear_batch(std::span<const LinearBatchItem> items, std::vector<std::size_t>* bad) {
  if (bad) bad->clear();
  for (std::size_t k = 0; k < items.size(); ++k) {
    const LinearBatchItem& item = items[k];
    if (!item.statement || !item.proof || !item.transcript) {
      return Status::invalid_argument("linear proof batch: item " + std::to_string(k) +
                                      " has no statement, proof or transcript");
    }
  }
  // The weights come from every statement and proof of the batch: the verdict is a function of
  // the batch, and no proof is fixed after its weight is.
  Transcript seed("pfex/v1/linear-batch-weights");
  for (const LinearBatchItem& item : items) {
    item.statement->append_to(seed);
    Bytes proof;
    Writer w(&proof);
    item.proof->encode(w);
    seed.append_message("proof", proof);
  }
  VerificationTerms terms;
  for (const LinearBatchItem& item : items) {
    terms.begin_entry();
    Transcript t = *item.transcript;
    // A size mismatch refuses the entry: it counts as bad.
    (void)append_linear_verification_terms(*item.statement, *item.proof, t,
                                           seed.challenge_scalar("weight"), terms);
  }
  if (terms.is_identity_var()) return Status::ok();
  std::vector<std::size_t> failing = terms.failing_entries_var();
  if (bad) *bad = failing;
  return Status::invalid_proof("linear proof batch: " + describe_failing(failing));
}

}  // namespace pfex::crypto
