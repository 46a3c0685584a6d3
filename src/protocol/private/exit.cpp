#include "protocol/private/exit.hpp"

#include <sodium.h>

#include <string>
#include <utility>
#include <vector>

#include "crypto/ct.hpp"
#include "crypto/proof_codec.hpp"
#include "protocol/private/ct_int.hpp"

namespace pfex::priv {
namespace {

using crypto::LinearStatement;
using crypto::OneOfManyProof;
using crypto::RangeProof;
using crypto::Transcript;

// Witness indexes (exit.hpp).
enum : std::size_t {
  kRStar = 0,
  kKappa,
  kC,
  kVp,
  kVm,
  kT,
  kRK,
  kGVp,
  kGVm,
  kGRem,
  kTags,  // o_i at kTags + 2i, rho_i at kTags + 2i + 1
};

// Attribute positions in Deltas::values().
enum : std::size_t { kAc = 0, kAvp, kAvm, kAB, kAS, kAQB, kAQS };

Scalar scalar(i128 x) {
  return scalar_from_i128_var(x);
}

// den - 1 - rem, as the fourth range commitment: (den - 1)*G - V_rem.
Point complement(const Point& V_rem, std::int64_t den) {
  return Point::mul_base(Scalar::from_u64(static_cast<std::uint64_t>(den - 1))) - V_rem;
}

std::vector<Point> range_commitments(const ExitPublic& pub, std::int64_t den) {
  return {pub.V_vp, pub.V_vm, pub.V_rem, complement(pub.V_rem, den)};
}

}  // namespace

Status validate(const LiquidationPrice& price) {
  if (price.den < 1 || price.den > (std::int64_t{1} << 40))
    return Status::invalid_argument("liquidation price: den must be in [1, 2^40]");
  if (price.num < price.den || price.num > i128{price.den} * kMaxPriceTicks)
    return Status::invalid_argument("liquidation price: num/den must lie in [1, 2^31] ticks");
  return Status::ok();
}

void ExitPublic::encode(Writer& w) const {
  encode_spent_token(w, window, serial, c_star);
  w.i64(claim);
  crypto::write_point(w, V_vp);
  crypto::write_point(w, V_vm);
  crypto::write_point(w, V_rem);
}

ExitPublic ExitPublic::decode(Reader& r, std::size_t window_size) {
  ExitPublic p;
  decode_spent_token(r, window_size, p.window, p.serial, p.c_star);
  p.claim = r.i64_in("claim", 0, kCashSupplyCap);
  p.V_vp = crypto::read_point(r, "V_vp");
  p.V_vm = crypto::read_point(r, "V_vm");
  p.V_rem = crypto::read_point(r, "V_rem");
  return p;
}

void ExitProofs::encode(Writer& w) const {
  membership.encode(w);
  split.encode(w);
  linear.encode(w);
  w.fixed(range.encode());
}

std::optional<ExitProofs> ExitProofs::decode(Reader& r, std::size_t log_window,
                                             std::size_t num_tags) {
  auto membership = OneOfManyProof::decode(r, log_window);
  if (!membership.is_ok()) {
    if (!r.failed()) r.fail(membership.status());
    return std::nullopt;
  }
  auto split = OneOfManyProof::decode(r, 1);
  if (!split.is_ok()) {
    if (!r.failed()) r.fail(split.status());
    return std::nullopt;
  }
  std::vector<Point> A(exit_relation_count(num_tags));
  for (Point& a : A)
    a = crypto::read_point(r, "linear proof A");
  std::vector<Scalar> z(exit_witness_count(num_tags));
  for (Scalar& s : z)
    s = crypto::read_scalar(r, "linear proof z");
  Bytes range_bytes(RangeProof::encoded_size(kExitRangeValues));
  r.fixed("range proof", range_bytes);
  if (r.failed()) return std::nullopt;
  auto range = RangeProof::decode(range_bytes, kExitRangeValues);
  if (!range.is_ok()) {
    r.fail(range.status().with_context("range proof"));
    return std::nullopt;
  }
  return ExitProofs{std::move(*membership), std::move(*split),
                    crypto::LinearProof(std::move(A), std::move(z)), std::move(*range)};
}

std::size_t exit_witness_count(std::size_t num_tags) {
  return kTags + 2 * num_tags;
}
std::size_t exit_relation_count(std::size_t num_tags) {
  return 5 + num_tags;
}

namespace {

// floor(n / d) and n - floor(n / d) * d for a secret n with |n| < 2^127 and a public d in
// [1, 2^62]: restoring division over all 128 bits with masks, no branch or division instruction
// on n (the compiler's 128-bit division takes time that depends on its operands).
std::pair<i128, i128> floor_div_ct(i128 n, i128 d) {
  const u128 negative_mask = static_cast<u128>(n >> 127);  // all ones when n < 0
  const u128 magnitude = (static_cast<u128>(n) ^ negative_mask) - negative_mask;
  const auto divisor = static_cast<u128>(d);
  u128 q = 0;
  u128 r = 0;  // < 2d <= 2^63: the borrow below is bit 127
  for (int i = 127; i >= 0; --i) {
    r = (r << 1) | ((magnitude >> i) & 1);
    const u128 diff = r - divisor;
    const u128 keep = (diff >> 127) - 1;  // all ones when r >= divisor
    r = (r & ~keep) | (diff & keep);
    q |= (keep & 1) << i;
  }
  // Truncated toward zero so far; a negative n with a remainder rounds down one more.
  const u128 round = negative_mask & ct::nonzero(static_cast<std::uint64_t>(r));
  const auto quotient = static_cast<i128>(((q + round) ^ negative_mask) - negative_mask);
  return {quotient, n - quotient * d};
}

}  // namespace

// The token's values are secret: every refusal below is a verdict computed without a branch and
// made public alone, and the claim is public (the transaction carries it). Only the price, the
// tick value and the penalty (public) choose a path.
Result<ExitValues> exit_values(const Attributes& a, const Deltas& d, const ExitContext& ctx) {
  PFEX_RETURN_IF_ERROR(validate(ctx.price));
  const std::array<i128, 7> x = {a.c, a.vp, a.vm, a.B, a.S, a.QB, a.QS};
  const auto dx = d.values();
  std::array<i128, 7> y{};
  for (std::size_t i = 0; i < 7; ++i)
    y[i] = x[i] + dx[i];
  std::uint64_t open = 0;
  for (std::size_t i = kAB; i <= kAQS; ++i) {
    const auto u = static_cast<u128>(y[i]);
    open |= ct::nonzero(static_cast<std::uint64_t>(u) | static_cast<std::uint64_t>(u >> 64));
  }
  crypto::declassify(open);
  if (open != 0)
    return Status::failed_precondition(
        "open orders would remain after the exit's entries: every unsettled order must be "
        "settled and released by them");
  std::uint64_t refused = ct::outside_u64(y[kAvp]) | ct::outside_u64(y[kAvm]);
  crypto::declassify(refused);
  if (refused != 0) return Status::overflow("the position after the entries leaves [0, 2^64)");
  const i128 t = ct::min(y[kAvp], y[kAvm]);  // the split is secret (the claim is public)
  ExitValues out;
  out.t = static_cast<std::uint64_t>(t);
  out.vp = static_cast<std::uint64_t>(y[kAvp] - t);
  out.vm = static_cast<std::uint64_t>(y[kAvm] - t);
  const i128 v = i128{out.vp} - i128{out.vm};      // |v| < 2^64
  const i128 gross = i128{out.vp} + i128{out.vm};  // < 2^65
  const i128 den = ctx.price.den;                  // <= 2^40 (validated)
  const Checked<i128> kn = Checked<i128>(ctx.tick_value) * ctx.price.num;
  // |c| < 2^64 and den <= 2^40; with |kn| < 2^62 the value is below 2^127 and, with
  // |penalty| < 2^60, so is the claim: no overflow, and nothing to test on the secrets.
  constexpr i128 kBound62 = i128{1} << 62;
  const bool small = !kn.overflowed() && kn.value() > -kBound62 && kn.value() < kBound62 &&
                     ctx.penalty > -(std::int64_t{1} << 60) &&
                     ctx.penalty < (std::int64_t{1} << 60);
  i128 claim_value = 0;
  i128 rem = 0;
  if (small) {
    const i128 value = y[kAc] * den + kn.value() * v;
    const auto [floor, r] = floor_div_ct(value, den);
    claim_value = floor - i128{ctx.penalty} * gross;
    rem = r;
  } else {
    // Parameters this large are public and far outside any market's: variable time.
    const Checked<i128> value = Checked<i128>(y[kAc]) * den + kn * v;
    if (value.overflowed()) return Status::overflow("the exit's value overflows 128 bits");
    const i128 floor = floor_div(value.value(), den);
    const Checked<i128> claim = Checked<i128>(floor) - Checked<i128>(ctx.penalty) * gross;
    if (claim.overflowed()) return Status::overflow("the exit's claim overflows 128 bits");
    claim_value = claim.value();
    rem = value.value() - floor * den;
  }
  std::uint64_t negative = ct::negative(claim_value);
  crypto::declassify(negative);
  if (negative != 0)
    return Status::failed_precondition(
        "nothing to claim: the equity at the liquidation price does not cover the penalty (the "
        "fund keeps it)");
  std::uint64_t over_cap = ct::negative(i128{kCashSupplyCap} - claim_value);
  crypto::declassify(over_cap);
  if (over_cap != 0) return Status::overflow("the exit's claim passes the cash supply cap 2^46");
  out.claim = static_cast<std::int64_t>(claim_value);
  crypto::declassify(out.claim);  // published in the transaction
  out.rem = static_cast<std::uint64_t>(rem);
  return out;
}

LinearStatement exit_statement(const PrivateGens& gens, const ExitContext& ctx,
                               const ExitPublic& pub, const Deltas& d,
                               std::span<const Point> tags) {
  LinearStatement s(exit_witness_count(tags.size()));
  const std::size_t b_H = s.add_base(gens.H()), b_G = s.add_base(gens.G());
  const std::size_t b_kappa = s.add_base(gens.kappa());
  const auto& attr = gens.attributes();
  const std::size_t b_C = s.add_base(attr[kAc]), b_Vp = s.add_base(attr[kAvp]);
  const std::size_t b_Vm = s.add_base(attr[kAvm]);
  const std::size_t b_Tk = s.add_base(gens.tag_kappa()), b_To = s.add_base(gens.tag_secret());
  const auto dx = d.values();

  // 1. C* opens with B, S, QB, QS fixed to what the entries release: none are left after them.
  Point lhs = pub.c_star;
  for (std::size_t i = kAB; i <= kAQS; ++i) {
    if (dx[i] != 0) lhs += scalar(dx[i]) * attr[i];
  }
  const std::size_t j0 = s.add_relation(lhs);
  (void)s.add_term(j0, kRStar, b_H);
  (void)s.add_term(j0, kKappa, b_kappa);
  (void)s.add_term(j0, kC, b_C);
  (void)s.add_term(j0, kVp, b_Vp);
  (void)s.add_term(j0, kVm, b_Vm);
  // 2. K = kappa*G_kappa + r_K*H: the token is the signer's.
  const std::size_t j_K = s.add_relation(ctx.K);
  (void)s.add_term(j_K, kKappa, b_kappa);
  (void)s.add_term(j_K, kRK, b_H);
  // 3. The re-split position after the entries.
  const std::size_t j_Vp = s.add_relation(pub.V_vp - Point::mul_base(scalar(dx[kAvp])));
  (void)s.add_term(j_Vp, kVp, b_G);
  (void)s.add_term(j_Vp, kT, b_G);
  (void)s.add_term(j_Vp, kGVp, b_H);
  const std::size_t j_Vm = s.add_relation(pub.V_vm - Point::mul_base(scalar(dx[kAvm])));
  (void)s.add_term(j_Vm, kVm, b_G);
  (void)s.add_term(j_Vm, kT, b_G);
  (void)s.add_term(j_Vm, kGVm, b_H);
  // 4. rem = den*c' + k*num*v' - den*claim - den*pen*(v+' + v-' + 2t), with c' = c + dc,
  //    v' = v+ - v- + dv+ - dv-, v+' + v-' = v+ + v- + dv+ + dv-.
  const Scalar den = Scalar::from_u64(static_cast<std::uint64_t>(ctx.price.den));
  const Scalar kn = scalar(i128{ctx.tick_value}) * scalar(ctx.price.num);
  const Scalar dp = den * Scalar::from_u64(static_cast<std::uint64_t>(ctx.penalty));
  const Scalar constant = den * scalar(dx[kAc]) + kn * (scalar(dx[kAvp]) - scalar(dx[kAvm])) -
                          den * Scalar::from_u64(static_cast<std::uint64_t>(pub.claim)) -
                          dp * (scalar(dx[kAvp]) + scalar(dx[kAvm]));
  const std::size_t j_R = s.add_relation(pub.V_rem - Point::mul_base(constant));
  (void)s.add_term(j_R, kC, b_G, den);
  (void)s.add_term(j_R, kVp, b_G, kn - dp);
  (void)s.add_term(j_R, kVm, b_G, -kn - dp);
  (void)s.add_term(j_R, kT, b_G, -(dp + dp));
  (void)s.add_term(j_R, kGRem, b_H);
  // 5. Every entry's tag opens with the token's kappa.
  for (std::size_t k = 0; k < tags.size(); ++k) {
    const std::size_t j = s.add_relation(tags[k]);
    (void)s.add_term(j, kKappa, b_Tk);
    (void)s.add_term(j, kTags + 2 * k, b_To);
    (void)s.add_term(j, kTags + 2 * k + 1, b_H);
  }
  return s;
}

void absorb_exit_context(Transcript& t, const ExitContext& ctx) {
  Bytes context;
  Writer w(&context);
  const auto num = static_cast<u128>(ctx.price.num);
  w.u64(static_cast<std::uint64_t>(num));
  w.u64(static_cast<std::uint64_t>(num >> 64));
  w.i64(ctx.price.den);
  w.i64(ctx.penalty);
  t.append_message("exit context", context);
}

PreparedExit::~PreparedExit() {
  sodium_memzero(range_values_.data(), sizeof(range_values_));
  sodium_memzero(&zero_index_, sizeof(zero_index_));
}

Result<PreparedExit> prepare_exit(const PrivateGens& gens, const ExitContext& ctx,
                                  const TokenOpening& spent, const Scalar& r_K,
                                  const Window& window, const Deltas& d) {
  PFEX_ASSIGN_OR_RETURN(ExitValues values, exit_values(spent.a, d, ctx));
  PreparedExit p;
  p.spent_ = spent;
  p.deltas_ = d;
  p.r_star_ = Scalar::random();
  p.r_K_ = r_K;
  p.t_ = -Scalar::from_u64(values.t);
  p.gamma_vp_ = Scalar::random();
  p.gamma_vm_ = Scalar::random();
  p.gamma_rem_ = Scalar::random();
  p.range_values_ = {values.vp, values.vm, values.rem,
                     static_cast<std::uint64_t>(ctx.price.den - 1) - values.rem};
  p.zero_index_ = static_cast<std::size_t>(values.vp != 0);

  TokenOpening star = spent;
  star.sn = Scalar::zero();
  star.r = p.r_star_;
  const auto& ped = gens.pedersen();
  p.pub_.window = window;
  p.pub_.serial = spent.sn;
  p.pub_.c_star = star.commit(gens);
  p.pub_.claim = values.claim;
  p.pub_.V_vp = ped.commit(Scalar::from_u64(values.vp), p.gamma_vp_);
  p.pub_.V_vm = ped.commit(Scalar::from_u64(values.vm), p.gamma_vm_);
  p.pub_.V_rem = ped.commit(Scalar::from_u64(values.rem), p.gamma_rem_);
  crypto::declassify(p.pub_);  // published: the transaction's fields
  return p;
}

Result<PreparedExit> detail_prepare_exit_claiming(const PrivateGens& gens, const ExitContext& ctx,
                                                  const TokenOpening& spent, const Scalar& r_K,
                                                  const Window& window, const Deltas& d,
                                                  std::int64_t claim) {
  PFEX_ASSIGN_OR_RETURN(ExitValues values, exit_values(spent.a, d, ctx));
  PFEX_ASSIGN_OR_RETURN(PreparedExit p, prepare_exit(gens, ctx, spent, r_K, window, d));
  const i128 rem = i128{values.rem} - i128{ctx.price.den} * (i128{claim} - values.claim);
  p.pub_.claim = claim;
  p.range_values_[2] = static_cast<std::uint64_t>(static_cast<u128>(rem));
  p.range_values_[3] = static_cast<std::uint64_t>(static_cast<u128>(ctx.price.den - 1 - rem));
  p.pub_.V_rem = gens.pedersen().commit(scalar(rem), p.gamma_rem_);
  return p;
}

Result<ExitProofs> prove_exit(const PrivateGens& gens, const ExitContext& ctx,
                              const PreparedExit& p, const crypto::OneOfManySet& set,
                              std::size_t index, std::span<const Point> tags,
                              std::span<const TagOpening> tag_openings, Transcript& t) {
  if (tags.size() != tag_openings.size())
    return Status::invalid_argument("one opening per tag is needed");
  const Point offset = p.pub_.serial * gens.sn() + p.pub_.c_star;
  PFEX_ASSIGN_OR_RETURN(auto membership, OneOfManyProof::prove(gens.one_of_many(), t, set, offset,
                                                               index, p.spent_.r - p.r_star_));
  PFEX_ASSIGN_OR_RETURN(auto split_set, crypto::OneOfManySet::create({p.pub_.V_vp, p.pub_.V_vm}));
  const Scalar idx = Scalar::from_u64(p.zero_index_);
  const Scalar zero_blinding = (Scalar::one() - idx) * p.gamma_vp_ + idx * p.gamma_vm_;
  PFEX_ASSIGN_OR_RETURN(auto split,
                        OneOfManyProof::prove(gens.one_of_many(), t, split_set, Point::identity(),
                                              p.zero_index_, zero_blinding));
  std::vector<Scalar> w(exit_witness_count(tags.size()));
  w[kRStar] = p.r_star_;
  w[kKappa] = p.spent_.kappa;
  const auto attrs = p.spent_.a.scalars();
  w[kC] = attrs[kAc];
  w[kVp] = attrs[kAvp];
  w[kVm] = attrs[kAvm];
  w[kT] = p.t_;
  w[kRK] = p.r_K_;
  w[kGVp] = p.gamma_vp_;
  w[kGVm] = p.gamma_vm_;
  w[kGRem] = p.gamma_rem_;
  for (std::size_t k = 0; k < tags.size(); ++k) {
    w[kTags + 2 * k] = tag_openings[k].o;
    w[kTags + 2 * k + 1] = tag_openings[k].rho;
  }
  auto linear = crypto::prove_linear(exit_statement(gens, ctx, p.pub_, p.deltas_, tags), w, t);
  for (Scalar& s : w)
    s = Scalar::zero();
  if (!linear.is_ok()) return linear.status().with_context("linear relation");
  const std::array<Scalar, kExitRangeValues> blindings = {p.gamma_vp_, p.gamma_vm_, p.gamma_rem_,
                                                          -p.gamma_rem_};
  PFEX_ASSIGN_OR_RETURN(auto range,
                        RangeProof::prove(gens.bulletproofs(), t, p.range_values_, blindings));
  return ExitProofs{std::move(membership), std::move(split), std::move(*linear),
                    std::move(range.proof)};
}

Result<crypto::OneOfManySet> exit_split_set(const ExitPublic& pub) {
  return crypto::OneOfManySet::create({pub.V_vp, pub.V_vm});
}

Status append_exit_terms(const PrivateGens& gens, const ExitContext& ctx, const ExitPublic& pub,
                         const Deltas& d, std::span<const Point> tags,
                         const WindowPlacement& window, const crypto::OneOfManySet& split_set,
                         const ExitProofs& proofs, Transcript& t, const ProofWeights& weights,
                         crypto::VerificationTerms& out) {
  auto refuse = [&out](Status why) {
    out.refuse(why);  // fails closed whatever the caller does with the status
    return why;
  };
  if (Status s = validate(ctx.price); !s.is_ok()) return refuse(s);
  const Point offset = pub.serial * gens.sn() + pub.c_star;
  if (Status s = append_membership_terms(gens, proofs.membership, t, window, offset,
                                         weights.membership, out);
      !s.is_ok())
    return refuse(Status::invalid_proof("membership: " + std::string(s.message())));
  if (Status s = proofs.split.append_verification_terms(gens.one_of_many(), t, split_set,
                                                        Point::identity(), weights.split, out);
      !s.is_ok())
    return refuse(Status::invalid_proof("canonical split: " + std::string(s.message())));
  if (Status s = crypto::append_linear_verification_terms(exit_statement(gens, ctx, pub, d, tags),
                                                          proofs.linear, t, weights.linear, out);
      !s.is_ok())
    return refuse(Status::invalid_proof("linear: " + std::string(s.message())));
  if (Status s = proofs.range.append_verification_terms(
          gens.bulletproofs(), t, range_commitments(pub, ctx.price.den), weights.range, out);
      !s.is_ok())
    return refuse(Status::invalid_proof("range: " + std::string(s.message())));
  return Status::ok();
}

Status verify_exit(const PrivateGens& gens, const ExitContext& ctx, const ExitPublic& pub,
                   const Deltas& d, std::span<const Point> tags, const crypto::OneOfManySet& set,
                   const ExitProofs& proofs, Transcript& t) {
  PFEX_RETURN_IF_ERROR(validate(ctx.price));
  const Point offset = pub.serial * gens.sn() + pub.c_star;
  PFEX_ASSIGN_OR_RETURN(auto split_set, exit_split_set(pub));
  // The four proofs in one MSM, each under its own weight from the exit's bytes.
  const Transcript before = t;
  Bytes proof_bytes;
  Writer pw(&proof_bytes);
  proofs.encode(pw);
  const ProofWeights weights = ProofWeights::of(t, proof_bytes);
  crypto::VerificationTerms terms;
  PFEX_RETURN_IF_ERROR(append_exit_terms(gens, ctx, pub, d, tags, WindowPlacement::of(set),
                                         split_set, proofs, t, weights, terms));
  if (terms.is_identity_var()) return Status::ok();

  // Name the proof that fails, each on its own in transcript order.
  t = before;
  if (Status s = proofs.membership.verify(gens.one_of_many(), t, set, offset); !s.is_ok())
    return Status::invalid_proof("membership: " + std::string(s.message()));
  if (Status s = proofs.split.verify(gens.one_of_many(), t, split_set, Point::identity());
      !s.is_ok())
    return Status::invalid_proof("canonical split: " + std::string(s.message()));
  if (Status s = crypto::verify_linear(exit_statement(gens, ctx, pub, d, tags), proofs.linear, t);
      !s.is_ok())
    return Status::invalid_proof("linear: " + std::string(s.message()));
  if (Status s = proofs.range.verify(gens.bulletproofs(), t, range_commitments(pub, ctx.price.den));
      !s.is_ok())
    return Status::invalid_proof("range: " + std::string(s.message()));
  return Status::invalid_proof("the exit's proofs do not verify together");
}

}  // namespace pfex::priv
