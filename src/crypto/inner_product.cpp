#include "crypto/inner_product.hpp"

#include <algorithm>
#include <bit>
#include <string>

#include "crypto/ct.hpp"
#include "crypto/msm.hpp"

namespace pfex::crypto {
namespace {

// k * P for public k and P.
Point mul_var(const Scalar& k, const Point& p) {
  return *msm_var({&k, 1}, {&p, 1});  // one scalar and one point: never a size error
}

// out_i = lo_i + k * hi_i for the two halves of `in`: one fold of a public generator list whose
// scalar factors are kept aside (docs/crypto/bulletproofs.md section 7, "Folding cost").
std::vector<Point> fold_points(std::span<const Point> in, const Scalar& k) {
  const std::size_t half = in.size() / 2;
  std::vector<Point> out;
  out.reserve(half);
  for (std::size_t i = 0; i < half; ++i)
    out.push_back(in[i] + mul_var(k, in[half + i]));
  return out;
}

}  // namespace

Result<ProofPoint> ProofPoint::decode(ByteSpan bytes) {
  PFEX_ASSIGN_OR_RETURN(Point p, Point::decode(bytes));
  ProofPoint out;
  out.point = p;
  std::copy(bytes.begin(), bytes.end(), out.encoding.begin());  // canonical: decode checked it
  return out;
}

Status validate_and_append(Transcript& transcript, std::string_view label, const ProofPoint& p) {
  if (p.point.is_identity()) {
    return Status::invalid_argument("transcript: identity point where the protocol forbids it (" +
                                    std::string(label) + ")");
  }
  transcript.append_message(label, p.encoding);
  return Status::ok();
}

Result<InnerProductProof> prove_inner_product(Transcript& transcript, const Point& Q,
                                              std::span<const Point> G, std::span<const Point> H,
                                              const Scalar& h, std::vector<Scalar> a,
                                              std::vector<Scalar> b) {
  const std::size_t n = a.size();
  if (n == 0 || !std::has_single_bit(n) || b.size() != n || G.size() != n || H.size() != n) {
    return Status::invalid_argument("inner product: sizes a " + std::to_string(n) + ", b " +
                                    std::to_string(b.size()) + ", G " + std::to_string(G.size()) +
                                    ", H " + std::to_string(H.size()) +
                                    " must be equal and a power of two");
  }
  // The generators in use are g_factor * g_cur[i] and h_factor * h_pow[i] * h_cur[i].
  std::vector<Scalar> h_pow(n);
  h_pow[0] = Scalar::one();
  for (std::size_t i = 1; i < n; ++i)
    h_pow[i] = h_pow[i - 1] * h;
  Scalar g_factor = Scalar::one();
  Scalar h_factor = Scalar::one();
  std::span<const Point> g_cur = G;
  std::span<const Point> h_cur = H;
  std::vector<Point> g_buf;
  std::vector<Point> h_buf;

  InnerProductProof proof;
  std::vector<Scalar> scalars;
  std::vector<Point> points;
  std::vector<Scalar> h_scaled;  // h_factor * h_pow[i]
  for (std::size_t len = n; len > 1; len /= 2) {
    const std::size_t half = len / 2;
    h_scaled.resize(len);
    for (std::size_t i = 0; i < len; ++i)
      h_scaled[i] = h_factor * h_pow[i];

    // Step 1: c_L, c_R and L_k, R_k (secret scalars, constant-time MSM).
    Scalar c_l;
    Scalar c_r;
    for (std::size_t i = 0; i < half; ++i) {
      c_l += a[i] * b[half + i];
      c_r += a[half + i] * b[i];
    }
    scalars.clear();
    points.clear();
    for (std::size_t i = 0; i < half; ++i) {
      scalars.push_back(a[i] * g_factor);
      points.push_back(g_cur[half + i]);
      scalars.push_back(b[half + i] * h_scaled[i]);
      points.push_back(h_cur[i]);
    }
    scalars.push_back(c_l);
    points.push_back(Q);
    PFEX_ASSIGN_OR_RETURN(const Point L, msm(scalars, points));
    scalars.clear();
    points.clear();
    for (std::size_t i = 0; i < half; ++i) {
      scalars.push_back(a[half + i] * g_factor);
      points.push_back(g_cur[i]);
      scalars.push_back(b[i] * h_scaled[half + i]);
      points.push_back(h_cur[half + i]);
    }
    scalars.push_back(c_r);
    points.push_back(Q);
    PFEX_ASSIGN_OR_RETURN(const Point R, msm(scalars, points));
    declassify(L);  // published in the proof
    declassify(R);

    // Step 2.
    proof.L.emplace_back(L);
    proof.R.emplace_back(R);
    if (!validate_and_append(transcript, "L", proof.L.back()).is_ok() ||
        !validate_and_append(transcript, "R", proof.R.back()).is_ok()) {
      return Status::failed_precondition("inner product: L or R is the identity; retry");
    }
    const Scalar u = transcript.challenge_scalar("u");
    auto u_inv = u.invert();
    if (!u_inv.is_ok()) return Status::failed_precondition("inner product: zero challenge; retry");

    // Step 3: fold the secret vectors.
    for (std::size_t i = 0; i < half; ++i) {
      a[i] = u * a[i] + *u_inv * a[half + i];
      b[i] = *u_inv * b[i] + u * b[half + i];
    }
    a.resize(half);  // ~Scalar wipes the dropped halves
    b.resize(half);

    // Step 4: fold the public generators, unless this was the last round.
    if (half > 1) {
      const Scalar u_sq = u * u;
      const Scalar u_inv_sq = *u_inv * *u_inv;
      g_buf = fold_points(g_cur, u_sq);
      h_buf = fold_points(h_cur, u_inv_sq * h_pow[half]);
      g_cur = g_buf;
      h_cur = h_buf;
      g_factor *= *u_inv;
      h_factor *= u;
    }
  }
  proof.a = a[0];
  proof.b = b[0];
  declassify(proof.a);  // published in the proof
  declassify(proof.b);
  return proof;
}

Result<std::vector<Scalar>> inner_product_challenges(Transcript& transcript,
                                                     const InnerProductProof& proof) {
  if (proof.L.size() != proof.R.size()) {
    return Status::invalid_argument("inner product: L and R differ in length");
  }
  std::vector<Scalar> u;
  u.reserve(proof.L.size());
  for (std::size_t k = 0; k < proof.L.size(); ++k) {
    if (!validate_and_append(transcript, "L", proof.L[k]).is_ok() ||
        !validate_and_append(transcript, "R", proof.R[k]).is_ok()) {
      return Status::invalid_proof("inner product: round " + std::to_string(k) +
                                   " sends the identity");
    }
    u.push_back(transcript.challenge_scalar("u"));
    if (u.back().is_zero()) return Status::invalid_proof("inner product: zero challenge");
  }
  return u;
}

std::vector<Scalar> inner_product_s(std::span<const Scalar> u_inv, std::span<const Scalar> u_sq) {
  const std::size_t rounds = u_inv.size();
  const std::size_t n = std::size_t{1} << rounds;
  std::vector<Scalar> s(n);
  s[0] = Scalar::one();
  for (const Scalar& v : u_inv)
    s[0] *= v;
  for (std::size_t i = 1; i < n; ++i) {
    // Setting bit p of i (counted from the top, round rounds-1-p) turns u^-1 into u: times u^2.
    const auto p = static_cast<std::size_t>(std::bit_width(i) - 1);
    s[i] = s[i - (std::size_t{1} << p)] * u_sq[rounds - 1 - p];
  }
  return s;
}

}  // namespace pfex::crypto
