#include "protocol/private/refresh.hpp"

#include <sodium.h>

#include <string>
#include <vector>

#include "crypto/ct.hpp"
#include "protocol/private/ct_int.hpp"

namespace pfex::priv {
namespace {

using crypto::LinearStatement;
using crypto::OneOfManyProof;
using crypto::RangeProof;
using crypto::Transcript;

// Witness indexes (refresh.hpp).
enum : std::size_t {
  kRStar = 0,
  kKappa,
  kC,
  kVp,
  kVm,
  kRNext,
  kSnNext,
  kT,
  kGEL,
  kGEH,
  kGVp,
  kGVm,
  kD,
  kGD,
  kRhoD,
  kRK,
  kRhoV,
  kRhoC,
  kRhoG,
};

// A linear combination of witnesses on one base, with integer coefficients.
void add_combination(LinearStatement& s, std::size_t j, std::size_t base,
                     std::initializer_list<std::pair<std::size_t, i128>> terms) {
  for (const auto& [w, a] : terms) {
    if (a != 0) (void)s.add_term(j, w, base, scalar_from_i128_var(a));
  }
}

std::vector<Point> range_commitments(const SpendPublic& pub, const RefreshPublic& rp) {
  return {pub.V[SpendPublic::kEL],
          pub.V[SpendPublic::kEH],
          pub.V[SpendPublic::kVp],
          pub.V[SpendPublic::kVm],
          rp.V_d,
          rp.new_balance,
          Point::identity(),
          Point::identity()};
}

void absorb_levy(Transcript& t, std::int64_t levy) {
  t.append_u64("refresh levy", static_cast<std::uint64_t>(levy));
}

}  // namespace

LinearStatement refresh_statement(const PrivateGens& gens, const MarketTerms& next,
                                  const SpendPublic& pub, const RefreshPublic& rp) {
  LinearStatement s(kRefreshWitnesses);
  const std::size_t b_H = s.add_base(gens.H()), b_G = s.add_base(gens.G());
  const std::size_t b_kappa = s.add_base(gens.kappa()), b_Sn = s.add_base(gens.sn());
  const std::size_t b_C = s.add_base(gens.attributes()[0]);
  const std::size_t b_Vp = s.add_base(gens.attributes()[1]);
  const std::size_t b_Vm = s.add_base(gens.attributes()[2]);
  const std::size_t b_Pk = s.add_base(rp.pk);
  const i128 lam = rp.levy;
  const i128 L_k = i128{next.low} * next.tick_value, H_k = i128{next.high} * next.tick_value;
  const i128 M = next.margin;
  // c' = c + d - lam*(v+ + v- + 2t); v+' = v+ + t; v-' = v- + t.
  const std::initializer_list<std::pair<std::size_t, i128>> c_next = {
      {kC, 1}, {kD, 1}, {kVp, -lam}, {kVm, -lam}, {kT, -2 * lam}};

  // C* opens with no open-order generators: zero open orders, exactly.
  const std::size_t j0 = s.add_relation(pub.c_star);
  add_combination(s, j0, b_H, {{kRStar, 1}});
  add_combination(s, j0, b_kappa, {{kKappa, 1}});
  add_combination(s, j0, b_C, {{kC, 1}});
  add_combination(s, j0, b_Vp, {{kVp, 1}});
  add_combination(s, j0, b_Vm, {{kVm, 1}});
  // C': same kappa, fresh serial, c', the canonical split, no open orders.
  const std::size_t j1 = s.add_relation(pub.c_next);
  add_combination(s, j1, b_H, {{kRNext, 1}});
  add_combination(s, j1, b_kappa, {{kKappa, 1}});
  add_combination(s, j1, b_Sn, {{kSnNext, 1}});
  add_combination(s, j1, b_C, c_next);
  add_combination(s, j1, b_Vp, {{kVp, 1}, {kT, 1}});
  add_combination(s, j1, b_Vm, {{kVm, 1}, {kT, 1}});
  // E_L = c' + (L_k - M) v+' - L_k v-';  E_H = c' + H_k v+' - (H_k + M) v-' (no open orders).
  const std::size_t j_L = s.add_relation(pub.V[SpendPublic::kEL]);
  add_combination(s, j_L, b_G,
                  {{kC, 1}, {kD, 1}, {kVp, -lam + L_k - M}, {kVm, -lam - L_k}, {kT, -2 * lam - M}});
  add_combination(s, j_L, b_H, {{kGEL, 1}});
  const std::size_t j_H = s.add_relation(pub.V[SpendPublic::kEH]);
  add_combination(s, j_H, b_G,
                  {{kC, 1}, {kD, 1}, {kVp, -lam + H_k}, {kVm, -lam - H_k - M}, {kT, -2 * lam - M}});
  add_combination(s, j_H, b_H, {{kGEH, 1}});
  const std::size_t j_Vp = s.add_relation(pub.V[SpendPublic::kVp]);
  add_combination(s, j_Vp, b_G, {{kVp, 1}, {kT, 1}});
  add_combination(s, j_Vp, b_H, {{kGVp, 1}});
  const std::size_t j_Vm = s.add_relation(pub.V[SpendPublic::kVm]);
  add_combination(s, j_Vm, b_G, {{kVm, 1}, {kT, 1}});
  add_combination(s, j_Vm, b_H, {{kGVm, 1}});
  // The deposit, K, and the four ciphertexts.
  const std::size_t j_D = s.add_relation(rp.V_d);
  add_combination(s, j_D, b_G, {{kD, 1}});
  add_combination(s, j_D, b_H, {{kGD, 1}});
  const std::size_t j_K = s.add_relation(rp.K);
  add_combination(s, j_K, b_kappa, {{kKappa, 1}});
  add_combination(s, j_K, b_H, {{kRK, 1}});
  const auto encryption = [&](const crypto::Ciphertext& ct, std::size_t rho,
                              std::initializer_list<std::pair<std::size_t, i128>> value) {
    const std::size_t j_R = s.add_relation(ct.R);
    add_combination(s, j_R, b_G, {{rho, 1}});
    const std::size_t j_E = s.add_relation(ct.E);
    add_combination(s, j_E, b_G, value);
    add_combination(s, j_E, b_Pk, {{rho, 1}});
  };
  encryption(rp.enc_d, kRhoD, {{kD, 1}});
  encryption(rp.enc_v, kRhoV, {{kVp, 1}, {kVm, -1}});
  encryption(rp.enc_c, kRhoC, c_next);
  encryption(rp.enc_g, kRhoG, {{kVp, 1}, {kVm, 1}, {kT, 2}});
  return s;
}

PreparedRefresh::~PreparedRefresh() {
  sodium_memzero(range_values_.data(), sizeof(range_values_));
  sodium_memzero(&new_balance_, sizeof(new_balance_));
  sodium_memzero(&zero_index_, sizeof(zero_index_));
}

Result<PreparedRefresh> prepare_refresh(const PrivateGens& gens, const MarketTerms& next,
                                        std::int64_t levy, const TokenOpening& spent,
                                        const Window& window, const CashMoveWitness& deposit) {
  // The token's attributes, the deposit and the balance are secret: each verdict is computed
  // without a branch and only the verdict is made public.
  const Attributes& a = spent.a;
  std::uint64_t refused = ct::nonzero(a.B | a.S | a.QB | a.QS);
  crypto::declassify(refused);
  if (refused != 0) {
    crypto::declassify(a);  // refused: the wallet's user is told what is open
    return Status::failed_precondition("settle first: the token still has open orders (B = " +
                                       std::to_string(a.B) + ", S = " + std::to_string(a.S) + ")");
  }
  refused = ct::negative(i128{kCashSupplyCap} - deposit.amount);
  crypto::declassify(refused);
  if (refused != 0) return Status::invalid_argument("the deposit exceeds the cash supply cap 2^46");
  refused = ct::negative(i128{deposit.balance} - deposit.amount);
  crypto::declassify(refused);
  if (refused != 0)
    return Status::insolvent("the cash account is short by " +
                             std::to_string(deposit.amount - deposit.balance));
  const auto t = static_cast<std::uint64_t>(ct::min(a.vp, a.vm));
  Attributes n;
  n.vp = a.vp - t;
  n.vm = a.vm - t;
  const i128 c_next = i128{a.c} + i128{deposit.amount} - i128{levy} * (i128{n.vp} + n.vm);
  refused = ct::outside_i64(c_next);
  crypto::declassify(refused);
  if (refused != 0) return Status::overflow("c would leave 64 bits");
  n.c = static_cast<std::int64_t>(c_next);
  PFEX_RETURN_IF_ERROR(check_solvency(n, next));
  const ConstraintValues e = constraint_values(n, next);

  PreparedRefresh p;
  p.spent_ = spent;
  p.next_.kappa = spent.kappa;
  p.next_.sn = random_nonzero_scalar();
  p.next_.r = Scalar::random();
  p.next_.a = n;
  auto& w = p.w_;
  for (std::size_t i : {kRStar, kGEL, kGEH, kGVp, kGVm, kGD, kRhoD, kRhoV, kRhoC, kRhoG})
    w[i] = Scalar::random();
  w[kKappa] = spent.kappa;
  const auto spent_values = a.scalars();
  w[kC] = spent_values[0];
  w[kVp] = spent_values[1];
  w[kVm] = spent_values[2];
  w[kRNext] = p.next_.r;
  w[kSnNext] = p.next_.sn;
  w[kT] = -Scalar::from_u64(t);
  w[kD] = Scalar::from_u64(deposit.amount);
  w[kRK] = deposit.r_K;
  p.new_balance_ = deposit.balance - deposit.amount;
  p.new_balance_blinding_ = deposit.balance_blinding - w[kGD];

  TokenOpening star = spent;
  star.sn = Scalar::zero();
  star.r = w[kRStar];
  p.pub_.window = window;
  p.pub_.serial = spent.sn;
  p.pub_.c_star = star.commit(gens);
  p.pub_.c_next = p.next_.commit(gens);
  const auto& ped = gens.pedersen();
  p.range_values_ = {static_cast<std::uint64_t>(e.low),
                     static_cast<std::uint64_t>(e.high),
                     n.vp,
                     n.vm,
                     deposit.amount,
                     p.new_balance_,
                     0,
                     0};
  p.range_blindings_ = {w[kGEL],        w[kGEH],       w[kGVp],
                        w[kGVm],        w[kGD],        p.new_balance_blinding_,
                        Scalar::zero(), Scalar::zero()};
  for (std::size_t i = 0; i < 4; ++i)
    p.pub_.V[i] = ped.commit(Scalar::from_u64(p.range_values_[i]), p.range_blindings_[i]);
  for (std::size_t i = 4; i < kSpendRangeValues; ++i)
    p.pub_.V[i] = Point::identity();
  p.zero_index_ = static_cast<std::size_t>(ct::nonzero(n.vp));

  RefreshPublic& rp = p.rp_;
  rp.V_d = ped.commit(w[kD], w[kGD]);
  rp.enc_d = crypto::encrypt(deposit.pk, w[kD], w[kRhoD]);
  rp.enc_v = crypto::encrypt(deposit.pk, Scalar::from_u64(n.vp) - Scalar::from_u64(n.vm), w[kRhoV]);
  rp.enc_c = crypto::encrypt(deposit.pk, crypto::position_to_scalar(n.c), w[kRhoC]);
  rp.enc_g = crypto::encrypt(deposit.pk, Scalar::from_u64(n.vp) + Scalar::from_u64(n.vm), w[kRhoG]);
  rp.K = deposit.K;
  rp.new_balance = balance_after(deposit.account, rp.V_d, true);
  rp.pk = deposit.pk;
  rp.levy = levy;
  // Published: the spend's fields and the refresh's commitment and ciphertexts.
  crypto::declassify(p.pub_);
  crypto::declassify(p.rp_);
  return p;
}

Result<SpendProofs> prove_refresh(const PrivateGens& gens, const MarketTerms& next,
                                  const PreparedRefresh& p, const crypto::OneOfManySet& set,
                                  std::size_t index, Transcript& t) {
  absorb_levy(t, p.rp_.levy);
  const Point offset = p.pub_.serial * gens.sn() + p.pub_.c_star;
  PFEX_ASSIGN_OR_RETURN(auto membership, OneOfManyProof::prove(gens.one_of_many(), t, set, offset,
                                                               index, p.spent_.r - p.w_[kRStar]));
  PFEX_ASSIGN_OR_RETURN(auto split_set, crypto::OneOfManySet::create({p.pub_.V[SpendPublic::kVp],
                                                                      p.pub_.V[SpendPublic::kVm]}));
  // The blinding of the commitment to 0, selected without a branch on the secret index.
  const Scalar idx = Scalar::from_u64(p.zero_index_);
  const Scalar zero_blinding = (Scalar::one() - idx) * p.w_[kGVp] + idx * p.w_[kGVm];
  PFEX_ASSIGN_OR_RETURN(auto split,
                        OneOfManyProof::prove(gens.one_of_many(), t, split_set, Point::identity(),
                                              p.zero_index_, zero_blinding));
  auto linear = crypto::prove_linear(refresh_statement(gens, next, p.pub_, p.rp_), p.w_, t);
  if (!linear.is_ok()) return linear.status().with_context("linear relation");
  PFEX_ASSIGN_OR_RETURN(
      auto range, RangeProof::prove(gens.bulletproofs(), t, p.range_values_, p.range_blindings_));
  return SpendProofs{std::move(membership), std::move(*linear), std::move(range.proof),
                     std::move(split)};
}

Result<crypto::OneOfManySet> refresh_split_set(const SpendPublic& pub) {
  return crypto::OneOfManySet::create({pub.V[SpendPublic::kVp], pub.V[SpendPublic::kVm]});
}

Status append_refresh_terms(const PrivateGens& gens, const MarketTerms& next,
                            const SpendPublic& pub, const RefreshPublic& rp,
                            const WindowPlacement& window, const crypto::OneOfManySet& split_set,
                            const SpendProofs& proofs, Transcript& t, const ProofWeights& weights,
                            crypto::VerificationTerms& out) {
  auto refuse = [&out](Status why) {
    out.refuse(why);  // fails closed whatever the caller does with the status
    return why;
  };
  if (!proofs.split) return refuse(Status::invalid_argument("a refresh carries a split proof"));
  for (std::size_t i = 4; i < kSpendRangeValues; ++i) {
    if (!pub.V[i].is_identity())
      return refuse(
          Status::invalid_argument("a refresh commits to no open orders (V_B..V_QS = 0)"));
  }
  if (window.log_size != next.log_window)
    return refuse(Status::invalid_argument("the window's size differs from the market's"));
  absorb_levy(t, rp.levy);
  const Point offset = pub.serial * gens.sn() + pub.c_star;
  if (Status s = append_membership_terms(gens, proofs.membership, t, window, offset,
                                         weights.membership, out);
      !s.is_ok())
    return Status::invalid_proof("membership: " + std::string(s.message()));
  if (Status s = proofs.split->append_verification_terms(gens.one_of_many(), t, split_set,
                                                         Point::identity(), weights.split, out);
      !s.is_ok())
    return Status::invalid_proof("canonical split: " + std::string(s.message()));
  if (Status s = crypto::append_linear_verification_terms(refresh_statement(gens, next, pub, rp),
                                                          proofs.linear, t, weights.linear, out);
      !s.is_ok())
    return Status::invalid_proof("linear: " + std::string(s.message()));
  if (Status s = proofs.range.append_verification_terms(
          gens.bulletproofs(), t, range_commitments(pub, rp), weights.range, out);
      !s.is_ok())
    return Status::invalid_proof("range: " + std::string(s.message()));
  return Status::ok();
}

Status verify_refresh(const PrivateGens& gens, const MarketTerms& next, const SpendPublic& pub,
                      const RefreshPublic& rp, const crypto::OneOfManySet& set,
                      const SpendProofs& proofs, Transcript& t) {
  PFEX_ASSIGN_OR_RETURN(auto split_set, refresh_split_set(pub));
  const Transcript before = t;
  crypto::VerificationTerms terms;
  PFEX_RETURN_IF_ERROR(append_refresh_terms(gens, next, pub, rp, WindowPlacement::of(set),
                                            split_set, proofs, t, ProofWeights::of(t, proofs),
                                            terms));
  if (terms.is_identity_var()) return Status::ok();

  // Name the proof that fails, each on its own in transcript order.
  Transcript t1 = before;
  absorb_levy(t1, rp.levy);
  const Point offset = pub.serial * gens.sn() + pub.c_star;
  if (Status s = proofs.membership.verify(gens.one_of_many(), t1, set, offset); !s.is_ok())
    return Status::invalid_proof("membership: " + std::string(s.message()));
  if (Status s = proofs.split->verify(gens.one_of_many(), t1, split_set, Point::identity());
      !s.is_ok())
    return Status::invalid_proof("canonical split: " + std::string(s.message()));
  if (Status s = crypto::verify_linear(refresh_statement(gens, next, pub, rp), proofs.linear, t1);
      !s.is_ok())
    return Status::invalid_proof("linear: " + std::string(s.message()));
  if (Status s = proofs.range.verify(gens.bulletproofs(), t1, range_commitments(pub, rp));
      !s.is_ok())
    return Status::invalid_proof("range: " + std::string(s.message()));
  return Status::invalid_proof("the refresh's proofs do not verify together");
}

}  // namespace pfex::priv
