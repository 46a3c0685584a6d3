// The refresh of a margin round (docs/protocol/private.md section 8.11): a signed spend of the
// identity's epoch-e token that proves zero open orders (the opening of C* leaves out G_B, G_S,
// G_QB, G_QS), pays a hidden deposit d from the cash account, takes the levy
// lambda*(v+' + v-') from c, keeps the position split canonical (a one-out-of-many proof over
// {V_vp, V_vm} that one commits to 0), proves both constraints over the new band, and encrypts
// v+' - v-', c' and v+' + v-' under the validators' key.
//
// Witnesses (19): r*, kappa, c, v+, v-, r', sn', t, gamma_EL, gamma_EH, gamma_vp, gamma_vm, d, g_d,
// rho_d, r_K, rho_v, rho_c, rho_g. Relations (16): C*, C', V_EL, V_EH, V_vp, V_vm, V_d, K, Enc(d)
// (2), Enc(v) (2), Enc(c') (2), Enc(g) (2). Range (m = 8): E_L, E_H, v+', v-', d, the new
// balance, two zero paddings.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/elgamal.hpp"
#include "crypto/one_of_many.hpp"
#include "crypto/sigma.hpp"
#include "protocol/private/params.hpp"
#include "protocol/private/spend.hpp"

namespace pfex::priv {

inline constexpr std::size_t kRefreshRelations = 16;
inline constexpr std::size_t kRefreshWitnesses = 19;

// The refresh's fields besides the spend's (V_vp, V_vm, V_EL, V_EH of SpendPublic are used; its
// V_B, V_S, V_QB, V_QS must be the identity).
struct RefreshPublic {
  Point V_d;                 // d*G + g_d*H (transaction)
  crypto::Ciphertext enc_d;  // Enc(d) (transaction)
  crypto::Ciphertext enc_v;  // Enc(v+' - v-') (transaction)
  crypto::Ciphertext enc_c;  // Enc(c') (transaction)
  crypto::Ciphertext enc_g;  // Enc(v+' + v-') (transaction)
  Point K;                   // the signer's (ledger)
  Point new_balance;         // the cash account minus V_d (ledger)
  Point pk;                  // the validators' key (ledger)
  std::int64_t levy = 0;     // lambda of this round (ledger)

  friend bool operator==(const RefreshPublic&, const RefreshPublic&) = default;
};

crypto::LinearStatement refresh_statement(const PrivateGens& gens, const MarketTerms& next,
                                          const SpendPublic& pub, const RefreshPublic& rp);

class PreparedRefresh {
 public:
  const SpendPublic& pub() const { return pub_; }
  const RefreshPublic& refresh() const { return rp_; }
  const TokenOpening& next() const { return next_; }
  std::uint64_t new_balance() const { return new_balance_; }
  const Scalar& new_balance_blinding() const { return new_balance_blinding_; }
  ~PreparedRefresh();

 private:
  friend Result<PreparedRefresh> prepare_refresh(const PrivateGens&, const MarketTerms&,
                                                 std::int64_t, const TokenOpening&, const Window&,
                                                 const CashMoveWitness&);
  friend Result<SpendProofs> prove_refresh(const PrivateGens&, const MarketTerms&,
                                           const PreparedRefresh&, const crypto::OneOfManySet&,
                                           std::size_t, crypto::Transcript&);
  SpendPublic pub_;
  RefreshPublic rp_;
  TokenOpening spent_;
  TokenOpening next_;
  std::array<Scalar, kRefreshWitnesses> w_;
  Scalar new_balance_blinding_;
  std::array<std::uint64_t, 8> range_values_{};
  std::array<Scalar, 8> range_blindings_;
  std::uint64_t new_balance_ = 0;
  std::size_t zero_index_ = 0;  // which of V_vp, V_vm commits to 0
};

// Refuses (kFailedPrecondition) a token with open orders ("settle first"), a deposit the account
// cannot pay, and a refresh that breaks solvency over the new band ("E_L short by X").
Result<PreparedRefresh> prepare_refresh(const PrivateGens& gens, const MarketTerms& next,
                                        std::int64_t levy, const TokenOpening& spent,
                                        const Window& window, const CashMoveWitness& deposit);

// Proofs in transcript order: membership over the window, the split (N = 2), linear, range.
Result<SpendProofs> prove_refresh(const PrivateGens& gens, const MarketTerms& next,
                                  const PreparedRefresh& p, const crypto::OneOfManySet& set,
                                  std::size_t index, crypto::Transcript& t);

// The canonical-split proof's set {V_vp, V_vm} of a refresh's public fields.
Result<crypto::OneOfManySet> refresh_split_set(const SpendPublic& pub);

// Appends the refresh's verification terms (membership over the window, the split over
// `split_set` (refresh_split_set(pub)), the linear statement, the range proof), each under its
// weight, to the current entry of out, advancing t as verify_refresh does. gens, the window's
// runs and split_set must outlive out's use. An error (no split proof, V_B..V_QS not the
// identity, a proof of the wrong size) refuses the entry, so out fails closed. Variable time.
Status append_refresh_terms(const PrivateGens& gens, const MarketTerms& next,
                            const SpendPublic& pub, const RefreshPublic& rp,
                            const WindowPlacement& window, const crypto::OneOfManySet& split_set,
                            const SpendProofs& proofs, crypto::Transcript& t,
                            const ProofWeights& weights, crypto::VerificationTerms& out);

Status verify_refresh(const PrivateGens& gens, const MarketTerms& next, const SpendPublic& pub,
                      const RefreshPublic& rp, const crypto::OneOfManySet& set,
                      const SpendProofs& proofs, crypto::Transcript& t);

}  // namespace pfex::priv
