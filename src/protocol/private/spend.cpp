#include "protocol/private/spend.hpp"

#include <sodium.h>

#include <string>

#include "crypto/ct.hpp"
#include "crypto/elgamal.hpp"
#include "crypto/msm.hpp"
#include "crypto/proof_codec.hpp"
#include "protocol/private/ct_int.hpp"

namespace pfex::priv {
namespace {

using crypto::LinearProof;
using crypto::LinearStatement;
using crypto::OneOfManyProof;
using crypto::RangeProof;
using crypto::Transcript;

constexpr i128 kTwo64 = i128{1} << 64;

// Witness indexes of the spend statement (docs/protocol/private.md section 5).
constexpr std::size_t kWRStar = 0;
constexpr std::size_t kWKappa = 1;
constexpr std::size_t kWAttr = 2;  // c, v+, v-, B, S, QB, QS: 2..8
constexpr std::size_t kWRNext = 9;
constexpr std::size_t kWSnNext = 10;
constexpr std::size_t kWT = 11;
constexpr std::size_t kWGamma = 12;  // EL, EH, v+, v-, B, S, QB, QS: 12..19
constexpr std::size_t kWTags = 20;   // o_i at 20 + 2i, rho_i at 21 + 2i

// Attribute positions.
constexpr std::size_t kVp = 1, kVm = 2;

Status apply_step(Deltas& d, const std::array<Checked<std::int64_t>, 7>& add) {
  Deltas out = d;
  std::int64_t* fields[7] = {&out.c, &out.vp, &out.vm, &out.B, &out.S, &out.QB, &out.QS};
  for (std::size_t i = 0; i < 7; ++i) {
    auto sum = Checked<std::int64_t>(*fields[i]) + add[i];
    if (sum.overflowed()) return Status::overflow("the transaction's deltas overflow 64 bits");
    *fields[i] = sum.value();
  }
  d = out;
  return Status::ok();
}

i128 apply_form(const std::array<i128, 7>& form, const std::array<i128, 7>& x) {
  i128 sum = 0;
  for (std::size_t i = 0; i < 7; ++i)
    sum += form[i] * x[i];  // magnitudes < 2^110: no overflow
  return sum;
}

std::array<i128, 7> attribute_values(const Attributes& a) {
  return {a.c, a.vp, a.vm, a.B, a.S, a.QB, a.QS};
}

std::string i128_to_string(i128 x) {
  if (x == 0) return "0";
  const bool negative = x < 0;
  u128 m = negative ? static_cast<u128>(-(x + 1)) + 1 : static_cast<u128>(x);
  std::string s;
  while (m != 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  }
  return negative ? "-" + s : s;
}

void add_form_terms(LinearStatement& s, std::size_t j, const std::array<i128, 7>& form,
                    std::size_t base_G) {
  for (std::size_t i = 0; i < 7; ++i) {
    if (form[i] != 0) (void)s.add_term(j, kWAttr + i, base_G, scalar_from_i128_var(form[i]));
  }
  const i128 t_coefficient = form[kVp] + form[kVm];
  if (t_coefficient != 0) (void)s.add_term(j, kWT, base_G, scalar_from_i128_var(t_coefficient));
}

// V - x*G for a public x (most deltas are 0).
Point minus_base_multiple(const Point& V, i128 x) {
  return x == 0 ? V : V - Point::mul_base(scalar_from_i128_var(x));
}

}  // namespace

Status add_post(Deltas& d, Side side, std::int64_t price, std::int64_t qty) {
  const Checked<std::int64_t> q(qty), pq = Checked<std::int64_t>(price) * qty;
  if (side == Side::kBuy) return apply_step(d, {0, 0, 0, q, 0, pq, 0});
  return apply_step(d, {0, 0, 0, 0, q, 0, pq});
}

Status add_claim(Deltas& d, Side side, std::int64_t order_price, std::int64_t F, std::int64_t X,
                 const MarketTerms& terms) {
  const Checked<std::int64_t> kX = Checked<std::int64_t>(terms.tick_value) * X;
  const Checked<std::int64_t> f_F = Checked<std::int64_t>(terms.fee) * F;
  const Checked<std::int64_t> p_F = Checked<std::int64_t>(order_price) * F;
  const Checked<std::int64_t> zero(0), minus_F = zero - F;
  if (side == Side::kBuy) return apply_step(d, {zero - kX - f_F, F, 0, minus_F, 0, zero - p_F, 0});
  return apply_step(d, {kX - f_F, 0, F, 0, minus_F, 0, zero - p_F});
}

Status add_release(Deltas& d, Side side, std::int64_t price, std::int64_t R) {
  const Checked<std::int64_t> zero(0), p_R = Checked<std::int64_t>(price) * R;
  if (side == Side::kBuy) return apply_step(d, {0, 0, 0, zero - R, 0, zero - p_R, 0});
  return apply_step(d, {0, 0, 0, 0, zero - R, 0, zero - p_R});
}

std::array<i128, 7> low_form(const MarketTerms& t) {
  const i128 L_k = i128{t.low} * t.tick_value;
  return {1, L_k - t.margin, -L_k, L_k - t.margin - t.fee, -i128{t.fee}, -i128{t.tick_value}, 0};
}

std::array<i128, 7> high_form(const MarketTerms& t) {
  const i128 H_k = i128{t.high} * t.tick_value;
  return {1, H_k, -(H_k + t.margin), -i128{t.fee}, -(H_k + t.margin + t.fee), 0, t.tick_value};
}

ConstraintValues constraint_values(const Attributes& a, const MarketTerms& terms) {
  const auto x = attribute_values(a);
  return {apply_form(low_form(terms), x), apply_form(high_form(terms), x)};
}

Status check_solvency(const Attributes& a, const MarketTerms& terms) {
  const ConstraintValues e = constraint_values(a, terms);
  std::uint64_t refused = ct::outside_u64(e.low) | ct::outside_u64(e.high);
  crypto::declassify(refused);  // the verdict is public: the wallet proves or refuses
  if (refused == 0) return Status::ok();
  // Refused: the wallet's user is told by how much (nothing is proved or sent).
  crypto::declassify(e);
  const std::pair<const char*, i128> values[2] = {{"E_L", e.low}, {"E_H", e.high}};
  for (const auto& [name, value] : values) {
    if (value < 0)
      return Status::insolvent(std::string(name) + " short by " + i128_to_string(-value) +
                               " (the action would leave " + name + " = " + i128_to_string(value) +
                               " < 0)");
  }
  const auto& [name, value] = e.low >= kTwo64 ? values[0] : values[1];
  return Status::overflow(std::string(name) + " = " + i128_to_string(value) + " is not below 2^64");
}

Result<Attributes> next_attributes(const Attributes& a, const Deltas& d,
                                   std::uint64_t* t_magnitude) {
  const auto x = attribute_values(a);
  const auto dx = d.values();
  std::array<i128, 7> y{};
  for (std::size_t i = 0; i < 7; ++i)
    y[i] = x[i] + dx[i];
  std::uint64_t refused = ct::outside_i64(y[0]);
  for (std::size_t i = 1; i < 7; ++i)
    refused |= ct::outside_u64(y[i]);
  crypto::declassify(refused);  // the verdict is public: the wallet proves or refuses
  if (refused != 0) {
    // Refused: the wallet's user is told which attribute and its value.
    crypto::declassify(y);
    static constexpr const char* kNames[7] = {"c", "v+", "v-", "B", "S", "QB", "QS"};
    for (std::size_t i = 1; i < 7; ++i) {
      if (y[i] < 0 || y[i] >= kTwo64)
        return Status::overflow(std::string(kNames[i]) + " would be " + i128_to_string(y[i]) +
                                ", outside [0, 2^64)");
    }
    return Status::overflow("c would be " + i128_to_string(y[0]) + ", outside 64 bits");
  }
  const i128 t = ct::min(y[kVp], y[kVm]);  // the canonical split removes min(v+, v-)
  Attributes out;
  out.c = static_cast<std::int64_t>(y[0]);
  out.vp = static_cast<std::uint64_t>(y[kVp] - t);
  out.vm = static_cast<std::uint64_t>(y[kVm] - t);
  out.B = static_cast<std::uint64_t>(y[3]);
  out.S = static_cast<std::uint64_t>(y[4]);
  out.QB = static_cast<std::uint64_t>(y[5]);
  out.QS = static_cast<std::uint64_t>(y[6]);
  *t_magnitude = static_cast<std::uint64_t>(t);
  return out;
}

void encode_spent_token(Writer& w, const Window& window, const Scalar& serial,
                        const Point& c_star) {
  window.encode(w);
  crypto::write_scalar(w, serial);
  crypto::write_point(w, c_star);
}

void decode_spent_token(Reader& r, std::size_t window_size, Window& window, Scalar& serial,
                        Point& c_star) {
  window = Window::decode(r, window_size);
  serial = crypto::read_scalar(r, "serial");
  if (!r.failed() && serial.is_zero())
    r.fail(Status::invalid_argument("serial: 0 is never a token's serial"));
  c_star = crypto::read_point(r, "C*");
}

void SpendPublic::encode(Writer& w) const {
  encode_spent_token(w, window, serial, c_star);
  crypto::write_point(w, c_next);
  for (const Point& v : V)
    crypto::write_point(w, v);
}

SpendPublic SpendPublic::decode(Reader& r, std::size_t window_size) {
  SpendPublic p;
  decode_spent_token(r, window_size, p.window, p.serial, p.c_star);
  p.c_next = crypto::read_point(r, "C'");
  static constexpr const char* kNames[kSpendRangeValues] = {"V_EL", "V_EH", "V_vp", "V_vm",
                                                            "V_B",  "V_S",  "V_QB", "V_QS"};
  for (std::size_t i = 0; i < kSpendRangeValues; ++i)
    p.V[i] = crypto::read_point(r, kNames[i]);
  return p;
}

void SpendProofs::encode(Writer& w) const {
  membership.encode(w);
  if (split) split->encode(w);
  linear.encode(w);
  w.fixed(range.encode());
}

std::optional<SpendProofs> SpendProofs::decode(Reader& r, std::size_t log_window,
                                               std::size_t num_tags, bool cash, bool refresh) {
  auto membership = OneOfManyProof::decode(r, log_window);
  if (!membership.is_ok()) {
    if (!r.failed()) r.fail(membership.status());
    return std::nullopt;
  }
  std::optional<OneOfManyProof> split;
  if (refresh) {
    auto decoded = OneOfManyProof::decode(r, 1);
    if (!decoded.is_ok()) {
      if (!r.failed()) r.fail(decoded.status());
      return std::nullopt;
    }
    split = std::move(*decoded);
  }
  // A refresh: 16 relations, 19 witnesses (refresh.hpp); m = 8.
  std::vector<Point> A(refresh ? 16 : spend_relation_count(num_tags, cash));
  for (Point& a : A)
    a = crypto::read_point(r, "linear proof A");
  std::vector<Scalar> z(refresh ? 19 : spend_witness_count(num_tags, cash));
  for (Scalar& s : z)
    s = crypto::read_scalar(r, "linear proof z");
  const std::size_t m = cash ? kCashRangeValues : kSpendRangeValues;
  Bytes range_bytes(RangeProof::encoded_size(m));
  r.fixed("range proof", range_bytes);
  if (r.failed()) return std::nullopt;
  auto range = RangeProof::decode(range_bytes, m);
  if (!range.is_ok()) {
    r.fail(range.status().with_context("range proof"));
    return std::nullopt;
  }
  return SpendProofs{std::move(*membership), LinearProof(std::move(A), std::move(z)),
                     std::move(*range), std::move(split)};
}

std::size_t spend_witness_count(std::size_t num_tags, bool cash) {
  return kWTags + 2 * num_tags + (cash ? 4 : 0);
}
std::size_t spend_relation_count(std::size_t num_tags, bool cash) {
  return 10 + num_tags + (cash ? 4 : 0);
}

CashMoveWitness::~CashMoveWitness() {
  sodium_memzero(&amount, sizeof(amount));
  sodium_memzero(&balance, sizeof(balance));
}

Point balance_after(const Point& account, const Point& V_a, bool deposit) {
  return deposit ? account - V_a : account + V_a;
}

LinearStatement spend_statement(const PrivateGens& gens, const MarketTerms& terms,
                                const SpendPublic& pub, const Deltas& d,
                                std::span<const Point> tags, const CashMovePublic* cash) {
  LinearStatement s(spend_witness_count(tags.size(), cash != nullptr));
  // The cash move's witnesses follow the tags': a, g_a, rho, r_K.
  const std::size_t w_A = kWTags + 2 * tags.size(), w_Ga = w_A + 1, w_rho = w_A + 2, w_RK = w_A + 3;
  const Scalar sign = cash == nullptr || cash->deposit ? Scalar::one() : -Scalar::one();
  const std::size_t b_H = s.add_base(gens.H()), b_G = s.add_base(gens.G());
  const std::size_t b_kappa = s.add_base(gens.kappa()), b_Sn = s.add_base(gens.sn());
  std::array<std::size_t, 7> b_attr{};
  for (std::size_t i = 0; i < 7; ++i)
    b_attr[i] = s.add_base(gens.attributes()[i]);
  const std::size_t b_Tk = s.add_base(gens.tag_kappa()), b_To = s.add_base(gens.tag_secret());
  const auto dx = d.values();

  // 1. C* opens over every generator but G_sn.
  const std::size_t j0 = s.add_relation(pub.c_star);
  (void)s.add_term(j0, kWRStar, b_H);
  (void)s.add_term(j0, kWKappa, b_kappa);
  for (std::size_t i = 0; i < 7; ++i)
    (void)s.add_term(j0, kWAttr + i, b_attr[i]);

  // 2. C' = C*'s attributes + deltas (+ t on both position generators), same kappa, fresh sn'.
  Point lhs = pub.c_next;
  for (std::size_t i = 0; i < 7; ++i) {
    if (dx[i] != 0) lhs -= scalar_from_i128_var(dx[i]) * gens.attributes()[i];
  }
  const std::size_t j1 = s.add_relation(lhs);
  (void)s.add_term(j1, kWRNext, b_H);
  (void)s.add_term(j1, kWKappa, b_kappa);
  (void)s.add_term(j1, kWSnNext, b_Sn);
  for (std::size_t i = 0; i < 7; ++i)
    (void)s.add_term(j1, kWAttr + i, b_attr[i]);
  (void)s.add_term(j1, kWT, b_attr[kVp]);
  (void)s.add_term(j1, kWT, b_attr[kVm]);
  if (cash != nullptr) (void)s.add_term(j1, w_A, b_attr[0], sign);  // c' = c + dc +- a

  // 4. The constraint values.
  const std::array<std::array<i128, 7>, 2> forms = {low_form(terms), high_form(terms)};
  for (std::size_t k = 0; k < 2; ++k) {
    const std::size_t j = s.add_relation(minus_base_multiple(pub.V[k], apply_form(forms[k], dx)));
    add_form_terms(s, j, forms[k], b_G);
    if (cash != nullptr) (void)s.add_term(j, w_A, b_G, sign);  // both forms have c with weight 1
    (void)s.add_term(j, kWGamma + k, b_H);
  }
  // 3. The six range-checked attributes of C'.
  for (std::size_t i = 1; i < 7; ++i) {
    const std::size_t v = SpendPublic::kVp + (i - 1);
    const std::size_t j = s.add_relation(minus_base_multiple(pub.V[v], dx[i]));
    (void)s.add_term(j, kWAttr + i, b_G);
    if (i == kVp || i == kVm) (void)s.add_term(j, kWT, b_G);
    (void)s.add_term(j, kWGamma + v, b_H);
  }
  // 5. Every tag opens with the spent token's kappa.
  for (std::size_t k = 0; k < tags.size(); ++k) {
    const std::size_t j = s.add_relation(tags[k]);
    (void)s.add_term(j, kWKappa, b_Tk);
    (void)s.add_term(j, kWTags + 2 * k, b_To);
    (void)s.add_term(j, kWTags + 2 * k + 1, b_H);
  }
  if (cash != nullptr) {
    const std::size_t b_Pk = s.add_base(cash->pk);
    const std::size_t j_V = s.add_relation(cash->V_a);  // V_a = a*G + g_a*H
    (void)s.add_term(j_V, w_A, b_G);
    (void)s.add_term(j_V, w_Ga, b_H);
    const std::size_t j_K = s.add_relation(cash->K);  // K = kappa*G_kappa + r_K*H
    (void)s.add_term(j_K, kWKappa, b_kappa);
    (void)s.add_term(j_K, w_RK, b_H);
    const std::size_t j_R = s.add_relation(cash->enc.R);  // R = rho*G
    (void)s.add_term(j_R, w_rho, b_G);
    const std::size_t j_E = s.add_relation(cash->enc.E);  // E = a*G + rho*PK
    (void)s.add_term(j_E, w_A, b_G);
    (void)s.add_term(j_E, w_rho, b_Pk);
  }
  return s;
}

TagOpening TagOpening::random() {
  return {Scalar::random(), Scalar::random()};
}

Point TagOpening::commit(const PrivateGens& gens, const Scalar& kappa) const {
  const std::array<Scalar, 3> scalars{kappa, o, rho};
  const std::array<Point, 3> points{gens.tag_kappa(), gens.tag_secret(), gens.H()};
  return crypto::msm(scalars, points).value();
}

PreparedSpend::~PreparedSpend() {
  if (!range_values_.empty())
    sodium_memzero(range_values_.data(), range_values_.size() * sizeof(range_values_[0]));
  sodium_memzero(&new_balance_, sizeof(new_balance_));
}

Result<PreparedSpend> prepare_spend_impl(const PrivateGens& gens, const MarketTerms& terms,
                                         const TokenOpening& spent, const Window& window,
                                         const Deltas& d, const CashMoveWitness* cash, bool check) {
  // The hidden change of c (a cash move) joins the public deltas for the next token's values.
  Deltas all = d;
  std::uint64_t new_balance = 0;
  // The amount and the balances are secret: each verdict is computed without a branch and only
  // the verdict is made public. The deposit flag is public (the transaction's type).
  i128 hidden_c = 0;
  if (cash != nullptr) {
    const i128 amount = cash->amount;
    std::uint64_t refused = ct::negative(i128{kCashSupplyCap} - amount);
    crypto::declassify(refused);
    if (refused != 0)
      return Status::invalid_argument("the amount exceeds the cash supply cap 2^46");
    const i128 balance = cash->balance;
    const i128 after = cash->deposit ? balance - amount : balance + amount;
    refused = ct::outside_u64(after);
    crypto::declassify(refused);
    if (refused != 0) {
      if (!cash->deposit) return Status::overflow("the cash account would pass 2^64");
      return Status::insolvent("the cash account is short by " +
                               std::to_string(cash->amount - cash->balance));
    }
    new_balance = static_cast<std::uint64_t>(after);
    hidden_c = cash->deposit ? amount : -amount;
  }
  // The hidden change of c: the public deltas' c plus the amount, checked in 128 bits.
  const i128 c_total = i128{all.c} + hidden_c;
  std::uint64_t refused = ct::outside_i64(c_total);
  crypto::declassify(refused);
  if (refused != 0) return Status::overflow("c: the transaction's change does not fit 64 bits");
  all.c = static_cast<std::int64_t>(c_total);
  std::uint64_t t_magnitude = 0;
  PFEX_ASSIGN_OR_RETURN(Attributes next, next_attributes(spent.a, all, &t_magnitude));
  if (check) PFEX_RETURN_IF_ERROR(check_solvency(next, terms));
  const ConstraintValues e = constraint_values(next, terms);

  PreparedSpend p;
  p.spent_ = spent;
  p.r_star_ = Scalar::random();
  p.t_ = -Scalar::from_u64(t_magnitude);
  p.next_.kappa = spent.kappa;
  p.next_.sn = random_nonzero_scalar();
  p.next_.r = Scalar::random();
  p.next_.a = next;
  p.deltas_ = d;

  TokenOpening star = spent;
  star.sn = Scalar::zero();
  star.r = p.r_star_;
  p.pub_.window = window;
  p.pub_.serial = spent.sn;
  p.pub_.c_star = star.commit(gens);
  p.pub_.c_next = p.next_.commit(gens);

  // Constraint values as committed: exact in [0, 2^64) (checked above); the unchecked path
  // commits the true integer and range-proves its low 64 bits.
  const std::size_t m = cash != nullptr ? kCashRangeValues : kSpendRangeValues;
  p.range_values_.assign(m, 0);
  p.range_blindings_.assign(m, Scalar::zero());
  const std::array<i128, 2> constraint = {e.low, e.high};
  const std::array<std::uint64_t, 6> attrs = {next.vp, next.vm, next.B, next.S, next.QB, next.QS};
  for (std::size_t i = 0; i < kSpendRangeValues; ++i) {
    p.gamma_[i] = Scalar::random();
    p.range_blindings_[i] = p.gamma_[i];
    Scalar value;
    if (i < 2) {
      p.range_values_[i] = static_cast<std::uint64_t>(static_cast<u128>(constraint[i]));
      value = check ? Scalar::from_u64(p.range_values_[i]) : scalar_from_i128_var(constraint[i]);
    } else {
      p.range_values_[i] = attrs[i - 2];
      value = Scalar::from_u64(p.range_values_[i]);
    }
    p.pub_.V[i] = gens.pedersen().commit(value, p.gamma_[i]);
  }
  if (cash != nullptr) {
    p.amount_ = Scalar::from_u64(cash->amount);
    p.amount_blinding_ = Scalar::random();
    p.enc_rho_ = Scalar::random();
    p.r_K_ = cash->r_K;
    p.new_balance_ = new_balance;
    p.new_balance_blinding_ = cash->deposit ? cash->balance_blinding - p.amount_blinding_
                                            : cash->balance_blinding + p.amount_blinding_;
    CashMovePublic pub;
    pub.deposit = cash->deposit;
    pub.V_a = gens.pedersen().commit(p.amount_, p.amount_blinding_);
    pub.enc = crypto::encrypt(cash->pk, p.amount_, p.enc_rho_);
    pub.K = cash->K;
    pub.new_balance = balance_after(cash->account, pub.V_a, cash->deposit);
    pub.pk = cash->pk;
    p.cash_ = pub;
    p.range_values_[kSpendRangeValues] = cash->amount;
    p.range_blindings_[kSpendRangeValues] = p.amount_blinding_;
    p.range_values_[kSpendRangeValues + 1] = new_balance;
    p.range_blindings_[kSpendRangeValues + 1] = p.new_balance_blinding_;
  }
  // Published: the spend's fields (commitments, hiding) and the cash move's.
  crypto::declassify(p.pub_);
  if (p.cash_) crypto::declassify(*p.cash_);
  return p;
}

Result<PreparedSpend> prepare_spend(const PrivateGens& gens, const MarketTerms& terms,
                                    const TokenOpening& spent, const Window& window,
                                    const Deltas& d, const CashMoveWitness* cash) {
  return prepare_spend_impl(gens, terms, spent, window, d, cash, true);
}

Result<PreparedSpend> detail::prepare_spend_unchecked(const PrivateGens& gens,
                                                      const MarketTerms& terms,
                                                      const TokenOpening& spent,
                                                      const Window& window, const Deltas& d) {
  return prepare_spend_impl(gens, terms, spent, window, d, nullptr, false);
}

void detail::hide_serial_component(PreparedSpend& p, const PrivateGens& gens, const Scalar& s) {
  p.pub_.c_star += s * gens.sn();
  p.pub_.serial -= s;
}

Result<SpendProofs> prove_spend(const PrivateGens& gens, const MarketTerms& terms,
                                const PreparedSpend& p, const crypto::OneOfManySet& set,
                                std::size_t index, std::span<const Point> tags,
                                std::span<const TagOpening> tag_openings, Transcript& t) {
  if (tags.size() != tag_openings.size())
    return Status::invalid_argument("one opening per tag is needed");
  // Membership: C_index - (sn*G_sn + C*) = (r - r*)*H.
  const Point offset = p.pub_.serial * gens.sn() + p.pub_.c_star;
  PFEX_ASSIGN_OR_RETURN(auto membership, OneOfManyProof::prove(gens.one_of_many(), t, set, offset,
                                                               index, p.spent_.r - p.r_star_));

  const CashMovePublic* cash = p.cash_ ? &*p.cash_ : nullptr;
  const LinearStatement statement = spend_statement(gens, terms, p.pub_, p.deltas_, tags, cash);
  std::vector<Scalar> w(spend_witness_count(tags.size(), cash != nullptr));
  w[kWRStar] = p.r_star_;
  w[kWKappa] = p.spent_.kappa;
  const auto attrs = p.spent_.a.scalars();
  for (std::size_t i = 0; i < 7; ++i)
    w[kWAttr + i] = attrs[i];
  w[kWRNext] = p.next_.r;
  w[kWSnNext] = p.next_.sn;
  w[kWT] = p.t_;
  for (std::size_t i = 0; i < kSpendRangeValues; ++i)
    w[kWGamma + i] = p.gamma_[i];
  for (std::size_t k = 0; k < tags.size(); ++k) {
    w[kWTags + 2 * k] = tag_openings[k].o;
    w[kWTags + 2 * k + 1] = tag_openings[k].rho;
  }
  if (cash != nullptr) {
    const std::size_t w_A = kWTags + 2 * tags.size();
    w[w_A] = p.amount_;
    w[w_A + 1] = p.amount_blinding_;
    w[w_A + 2] = p.enc_rho_;
    w[w_A + 3] = p.r_K_;
  }
  auto linear = crypto::prove_linear(statement, w, t);
  for (Scalar& s : w)
    s = Scalar::zero();
  if (!linear.is_ok()) return linear.status().with_context("linear relation");

  PFEX_ASSIGN_OR_RETURN(
      auto range, RangeProof::prove(gens.bulletproofs(), t, p.range_values_, p.range_blindings_));
  return SpendProofs{std::move(membership), std::move(*linear), std::move(range.proof),
                     std::nullopt};
}

ProofWeights ProofWeights::of(const Transcript& t, const SpendProofs& proofs) {
  Bytes bytes;
  Writer w(&bytes);
  proofs.encode(w);
  return of(t, bytes);
}

ProofWeights ProofWeights::of(const Transcript& t, ByteSpan proof_bytes) {
  Transcript fork = t;
  fork.append_domain_separator("pfex/v1/tx-proof-weights");
  fork.append_message("proofs", proof_bytes);
  return draw(fork);
}

ProofWeights ProofWeights::draw(Transcript& t) {
  ProofWeights out;
  out.membership = t.challenge_scalar("membership");
  out.split = t.challenge_scalar("split");
  out.linear = t.challenge_scalar("linear");
  out.range = t.challenge_scalar("range");
  return out;
}

namespace {

// The range proof's commitments: the spend's eight, and a cash move's amount and new balance
// with identity padding to m = 16.
std::vector<Point> spend_range_commitments(const SpendPublic& pub, const CashMovePublic* cash) {
  std::vector<Point> commitments(pub.V.begin(), pub.V.end());
  if (cash != nullptr) {
    commitments.push_back(cash->V_a);
    commitments.push_back(cash->new_balance);
    commitments.resize(kCashRangeValues, Point::identity());
  }
  return commitments;
}

// Refuses the current entry of out with `why` (fails closed) and returns it.
Status refuse(crypto::VerificationTerms& out, Status why) {
  out.refuse(why);
  return why;
}

}  // namespace

WindowPlacement WindowPlacement::of(const crypto::OneOfManySet& set) {
  WindowPlacement w;
  w.log_size = set.log_size();
  w.digest = set.digest();
  w.run = set.points();
  w.count = set.size();
  return w;
}

Status append_membership_terms(const PrivateGens& gens, const crypto::OneOfManyProof& proof,
                               Transcript& t, const WindowPlacement& window, const Point& offset,
                               const Scalar& weight, crypto::VerificationTerms& out) {
  std::vector<Scalar> coefficients;
  PFEX_RETURN_IF_ERROR(proof.append_verification_terms_unplaced(
      gens.one_of_many(), t, window.log_size, window.digest, offset, weight, out, coefficients));
  const std::size_t N = coefficients.size();
  const std::size_t dummies = N - std::min(N, window.count);
  if (window.count > N || window.offset > window.run.size() ||
      window.count > window.run.size() - window.offset ||
      (dummies > 0 && (window.dummy_offset > window.dummy_run.size() ||
                       dummies > window.dummy_run.size() - window.dummy_offset)))
    return refuse(out, Status::invalid_argument("the window's points are not all placed"));
  std::span<Scalar> slots = out.add_shared_slots(window.run.first(window.offset + window.count));
  std::copy(coefficients.begin(), coefficients.begin() + static_cast<std::ptrdiff_t>(window.count),
            slots.begin() + static_cast<std::ptrdiff_t>(window.offset));
  if (dummies > 0) {
    slots = out.add_shared_slots(window.dummy_run.first(window.dummy_offset + dummies));
    std::copy(coefficients.begin() + static_cast<std::ptrdiff_t>(window.count), coefficients.end(),
              slots.begin() + static_cast<std::ptrdiff_t>(window.dummy_offset));
  }
  return Status::ok();
}

Status append_spend_terms(const PrivateGens& gens, const MarketTerms& terms, const SpendPublic& pub,
                          const Deltas& d, std::span<const Point> tags,
                          const WindowPlacement& window, const SpendProofs& proofs, Transcript& t,
                          const CashMovePublic* cash, const ProofWeights& weights,
                          crypto::VerificationTerms& out) {
  if (window.log_size != terms.log_window)
    return refuse(out, Status::invalid_argument("the window's size differs from the market's"));
  const Point offset = pub.serial * gens.sn() + pub.c_star;
  if (Status s = append_membership_terms(gens, proofs.membership, t, window, offset,
                                         weights.membership, out);
      !s.is_ok())
    return Status::invalid_proof("membership: " + std::string(s.message()));
  const LinearStatement statement = spend_statement(gens, terms, pub, d, tags, cash);
  if (Status s = crypto::append_linear_verification_terms(statement, proofs.linear, t,
                                                          weights.linear, out);
      !s.is_ok())
    return Status::invalid_proof("linear: " + std::string(s.message()));
  if (Status s = proofs.range.append_verification_terms(
          gens.bulletproofs(), t, spend_range_commitments(pub, cash), weights.range, out);
      !s.is_ok())
    return Status::invalid_proof("range: " + std::string(s.message()));
  return Status::ok();
}

Status verify_spend(const PrivateGens& gens, const MarketTerms& terms, const SpendPublic& pub,
                    const Deltas& d, std::span<const Point> tags, const crypto::OneOfManySet& set,
                    const SpendProofs& proofs, Transcript& t, const CashMovePublic* cash) {
  if (set.log_size() != terms.log_window)
    return Status::invalid_argument("the window's size differs from the market's");
  const Transcript before = t;
  crypto::VerificationTerms terms_out;
  PFEX_RETURN_IF_ERROR(append_spend_terms(gens, terms, pub, d, tags, WindowPlacement::of(set),
                                          proofs, t, cash, ProofWeights::of(t, proofs), terms_out));
  if (terms_out.is_identity_var()) return Status::ok();

  // Name the proof that fails, each on its own in transcript order.
  Transcript t1 = before;
  const Point offset = pub.serial * gens.sn() + pub.c_star;
  if (Status s = proofs.membership.verify(gens.one_of_many(), t1, set, offset); !s.is_ok())
    return Status::invalid_proof("membership: " + std::string(s.message()));
  if (Status s = crypto::verify_linear(spend_statement(gens, terms, pub, d, tags, cash),
                                       proofs.linear, t1);
      !s.is_ok())
    return Status::invalid_proof("linear: " + std::string(s.message()));
  if (Status s = proofs.range.verify(gens.bulletproofs(), t1, spend_range_commitments(pub, cash));
      !s.is_ok())
    return Status::invalid_proof("range: " + std::string(s.message()));
  return Status::invalid_proof("the spend's proofs do not verify together");
}

}  // namespace pfex::priv
