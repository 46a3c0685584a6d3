// The exit of a defaulter (docs/protocol/private.md section 8.12): a signed spend of the
// identity's unspent token of the epoch it defaulted in, carrying settle entries for every order
// it has not settled, that claims what the token (with those fills) was worth at the fund's
// volume-weighted liquidation price num/den, minus a penalty per contract:
//
//     claim = floor((c'*den + v'*k*num) / den) - pen*|v'|
//
// with c', v' after the entries. No token is created. The claim is public and paid once per
// identity from the fund into its cash account.
//
// Witnesses (10 + 2*tags): r*, kappa, c, v+, v-, t, r_K, gamma_vp, gamma_vm, gamma_rem, then
// (o_i, rho_i) per tag. Relations (5 + tags): C* opens with the open-order attributes fixed to
// what the entries release (so none are left), K shares kappa, V_vp and V_vm commit to the
// re-split position v+' + t and v-' + t, V_rem commits to the floor's remainder
// c'*den + v'*k*num - den*(claim + pen*(v+' + v-' + 2t)), and every tag opens with kappa. A
// one-out-of-many proof over {V_vp, V_vm} (N = 2) shows one of them commits to 0 (so their sum is
// |v'|); one Bulletproof (m = 4) shows v+' + t, v-' + t, rem and den - 1 - rem in [0, 2^64), so
// rem is the remainder of the floor.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "core/checked.hpp"
#include "core/codec.hpp"
#include "core/status.hpp"
#include "crypto/bulletproof.hpp"
#include "crypto/one_of_many.hpp"
#include "crypto/sigma.hpp"
#include "crypto/transcript.hpp"
#include "protocol/private/params.hpp"
#include "protocol/private/spend.hpp"
#include "protocol/private/token.hpp"

namespace pfex::priv {

// The fund's volume-weighted liquidation price of one round's defaulters: num/den ticks (any part
// the fund kept counted at its band-edge mark). Public, recorded by the validator.
struct LiquidationPrice {
  i128 num = 0;
  std::int64_t den = 1;
  friend bool operator==(const LiquidationPrice&, const LiquidationPrice&) = default;
};
// kInvalidArgument unless 1 <= den <= 2^40 and den <= num <= den * 2^31 (a price in [1, 2^31]).
Status validate(const LiquidationPrice& price);

inline constexpr std::size_t kExitRangeValues = 4;

// The exit's public fields besides its entries and signature, in encoding order.
struct ExitPublic {
  Window window;
  Scalar serial;
  Point c_star;
  std::int64_t claim = 0;  // [0, 2^46]
  Point V_vp;              // (v+' + t)*G + gamma_vp*H
  Point V_vm;              // (v-' + t)*G + gamma_vm*H
  Point V_rem;             // rem*G + gamma_rem*H

  void encode(Writer& w) const;
  // Strict; a zero serial or a claim outside [0, 2^46] is kInvalidArgument.
  static ExitPublic decode(Reader& r, std::size_t window_size);
};

// What the exit's relations take from the ledger.
struct ExitContext {
  Point K;                 // the signer's chain-key commitment
  LiquidationPrice price;  // of the round the identity defaulted in
  std::int64_t penalty = 0;
  std::int64_t tick_value = 1;
  friend bool operator==(const ExitContext&, const ExitContext&) = default;
};

// Proofs in transcript order.
struct ExitProofs {
  crypto::OneOfManyProof membership;
  crypto::OneOfManyProof split;
  crypto::LinearProof linear;
  crypto::RangeProof range;

  void encode(Writer& w) const;
  static std::optional<ExitProofs> decode(Reader& r, std::size_t log_window, std::size_t num_tags);
};

std::size_t exit_witness_count(std::size_t num_tags);
std::size_t exit_relation_count(std::size_t num_tags);

// The values an exit proves, from the token's attributes and the entries' deltas. kOverflow when
// a value leaves its range, kFailedPrecondition when open orders would remain after the entries
// or the claim is negative ("nothing to claim": the fund keeps the equity).
struct ExitValues {
  std::int64_t claim = 0;
  std::uint64_t rem = 0;
  std::uint64_t vp = 0, vm = 0;  // the canonical split of v' (one is 0)
  std::uint64_t t = 0;           // the re-split removes t from both
};
Result<ExitValues> exit_values(const Attributes& a, const Deltas& d, const ExitContext& ctx);

crypto::LinearStatement exit_statement(const PrivateGens& gens, const ExitContext& ctx,
                                       const ExitPublic& pub, const Deltas& d,
                                       std::span<const Point> tags);

// Absorbs the liquidation price and the penalty after the body (they are the ledger's).
void absorb_exit_context(crypto::Transcript& t, const ExitContext& ctx);

// The prover's secrets between choosing the public fields and proving. Wiped on destruction.
class PreparedExit {
 public:
  PreparedExit() = default;
  PreparedExit(const PreparedExit&) = default;
  PreparedExit& operator=(const PreparedExit&) = default;
  ~PreparedExit();
  const ExitPublic& pub() const { return pub_; }

 private:
  friend Result<PreparedExit> prepare_exit(const PrivateGens&, const ExitContext&,
                                           const TokenOpening&, const Scalar&, const Window&,
                                           const Deltas&);
  friend Result<PreparedExit> detail_prepare_exit_claiming(const PrivateGens&, const ExitContext&,
                                                           const TokenOpening&, const Scalar&,
                                                           const Window&, const Deltas&,
                                                           std::int64_t);
  friend Result<ExitProofs> prove_exit(const PrivateGens&, const ExitContext&, const PreparedExit&,
                                       const crypto::OneOfManySet&, std::size_t,
                                       std::span<const Point>, std::span<const TagOpening>,
                                       crypto::Transcript&);
  ExitPublic pub_;
  TokenOpening spent_;
  Deltas deltas_;
  Scalar r_star_, r_K_, t_, gamma_vp_, gamma_vm_, gamma_rem_;
  std::array<std::uint64_t, kExitRangeValues> range_values_{};
  std::size_t zero_index_ = 0;
};

// Chooses the exit's public fields for spending `spent` (r_K: the blinding of the identity's K).
// Refuses as exit_values() does.
Result<PreparedExit> prepare_exit(const PrivateGens& gens, const ExitContext& ctx,
                                  const TokenOpening& spent, const Scalar& r_K,
                                  const Window& window, const Deltas& d);

// For the attack tests only: prepare_exit claiming `claim` instead of the true value. V_rem
// commits to the integer the relation then gives (so the linear proof holds) and the range proof
// is made over its low 64 bits and those of den - 1 - rem (the best a cheater can do): the proofs
// of such an exit do not verify.
Result<PreparedExit> detail_prepare_exit_claiming(const PrivateGens& gens, const ExitContext& ctx,
                                                  const TokenOpening& spent, const Scalar& r_K,
                                                  const Window& window, const Deltas& d,
                                                  std::int64_t claim);

// Proves on t, which has absorbed the transaction and the context (absorb_exit_context).
Result<ExitProofs> prove_exit(const PrivateGens& gens, const ExitContext& ctx,
                              const PreparedExit& p, const crypto::OneOfManySet& set,
                              std::size_t index, std::span<const Point> tags,
                              std::span<const TagOpening> tag_openings, crypto::Transcript& t);

// The exit's canonical-split set {V_vp, V_vm} (one of them commits to 0).
Result<crypto::OneOfManySet> exit_split_set(const ExitPublic& pub);

// Appends the exit's verification terms (membership over the window, the canonical split, the
// linear statement, the range proof), each under its weight, to the current entry of out,
// advancing t as verify_exit does: what a block verifies (block_verify.hpp). split_set is
// exit_split_set(pub); it, the window's runs, gens and the tags must outlive out's use. On an
// error (a price outside validate(), a proof of the wrong size, an identity where none is
// allowed) the entry is refused, so out fails closed ("membership: ...", "canonical split: ...",
// "linear: ...", "range: ..."). Variable time.
Status append_exit_terms(const PrivateGens& gens, const ExitContext& ctx, const ExitPublic& pub,
                         const Deltas& d, std::span<const Point> tags,
                         const WindowPlacement& window, const crypto::OneOfManySet& split_set,
                         const ExitProofs& proofs, crypto::Transcript& t,
                         const ProofWeights& weights, crypto::VerificationTerms& out);

// The four proofs with one MSM, each under its own weight (ProofWeights::of the exit's transcript
// and proof bytes); when it fails, kInvalidProof naming the first proof that does not verify on
// its own. Variable time.
Status verify_exit(const PrivateGens& gens, const ExitContext& ctx, const ExitPublic& pub,
                   const Deltas& d, std::span<const Point> tags, const crypto::OneOfManySet& set,
                   const ExitProofs& proofs, crypto::Transcript& t);

}  // namespace pfex::priv
