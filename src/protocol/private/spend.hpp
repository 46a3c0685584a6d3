// Spending a token and building the next one (docs/protocol/private.md section 5): the public
// deltas of a transaction, the two constraint values E_L and E_H, the spend's public fields
// (window, serial, C*, C', eight value commitments), the one linear statement that ties them
// together, and the prover and verifier of the three proofs every spend carries (membership over
// the window, the linear sigma proof, one aggregated Bulletproof with m = 8).
//
// Provers are constant time in the token's opening, the order secrets and their own randomness,
// except for the published verdict of the wallet's solvency check. Verifiers handle public data
// only (variable time).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/checked.hpp"
#include "core/codec.hpp"
#include "core/status.hpp"
#include "crypto/bulletproof.hpp"
#include "crypto/elgamal.hpp"
#include "crypto/one_of_many.hpp"
#include "crypto/sigma.hpp"
#include "crypto/transcript.hpp"
#include "protocol/private/params.hpp"
#include "protocol/private/token.hpp"

namespace pfex::priv {

enum class Side : std::uint8_t { kBuy = 0, kSell = 1 };

// (dc, dv+, dv-, dB, dS, dQB, dQS): public, fixed by the transaction and the ledger's order
// state. Each step below adds one row of the table of docs/protocol/private.md section 5;
// kOverflow (and the deltas unchanged) when a sum leaves int64.
struct Deltas {
  std::int64_t c = 0, vp = 0, vm = 0, B = 0, S = 0, QB = 0, QS = 0;
  std::array<i128, 7> values() const { return {c, vp, vm, B, S, QB, QS}; }
  friend bool operator==(const Deltas&, const Deltas&) = default;
};
Status add_post(Deltas& d, Side side, std::int64_t price, std::int64_t qty);
// Claims fills of an order at `order_price` totalling F contracts and X = sum p_i*q_i.
Status add_claim(Deltas& d, Side side, std::int64_t order_price, std::int64_t F, std::int64_t X,
                 const MarketTerms& terms);
// Releases R contracts of an order at `price` (a release, a reduce by R).
Status add_release(Deltas& d, Side side, std::int64_t price, std::int64_t R);

// E_L and E_H as linear forms over (c, v+, v-, B, S, QB, QS), fee reserved on both sides:
//   E_L = c + (L*k - M)*v+ - L*k*v- + (L*k - M - f)*B - f*S - k*QB
//   E_H = c + H*k*v+ - (H*k + M)*v- - f*B - (H*k + M + f)*S + k*QS
std::array<i128, 7> low_form(const MarketTerms& terms);
std::array<i128, 7> high_form(const MarketTerms& terms);

struct ConstraintValues {
  i128 low;   // E_L
  i128 high;  // E_H
};
ConstraintValues constraint_values(const Attributes& a, const MarketTerms& terms);

// The wallet's check before proving: ok when E_L and E_H are both in [0, 2^64); kInsolvent
// "E_L short by X" when one is negative; kOverflow at 2^64 or above.
Status check_solvency(const Attributes& a, const MarketTerms& terms);

// The next token's attributes a + d with the canonical re-split t = -min(v+ + dv+, v- + dv-)
// (written to *t). kOverflow when an attribute would leave [0, 2^64) (c: int64).
Result<Attributes> next_attributes(const Attributes& a, const Deltas& d,
                                   std::uint64_t* t_magnitude);

// What every spend of a token reveals first, in this order: the window it is hidden in, its serial
// (never 0) and C*. Shared by the spends (SpendPublic) and the exit (ExitPublic).
void encode_spent_token(Writer& w, const Window& window, const Scalar& serial, const Point& c_star);
void decode_spent_token(Reader& r, std::size_t window_size, Window& window, Scalar& serial,
                        Point& c_star);

// The public fields of a spend, in the order they are encoded.
struct SpendPublic {
  // Indexes into V.
  enum : std::size_t { kEL = 0, kEH, kVp, kVm, kB, kS, kQB, kQS };

  Window window;
  Scalar serial;
  Point c_star;
  Point c_next;
  std::array<Point, kSpendRangeValues> V;

  void encode(Writer& w) const;
  // Strict; a zero serial is kInvalidArgument.
  static SpendPublic decode(Reader& r, std::size_t window_size);
};

// A deposit or withdrawal riding on a spend (docs/protocol/private.md sections 8.4 and 8.5): c
// changes by the hidden amount a of V_a, Enc(a) encrypts it under the validators' key, the token's
// kappa is the one of the signer's K, and the cash account's new balance is range-proved.
struct CashMovePublic {
  bool deposit = true;     // c grows by a (cash account debited), else c shrinks (credited)
  Point V_a;               // a*G + g_a*H (in the transaction)
  crypto::Ciphertext enc;  // Enc(a) under pk (in the transaction)
  Point K;                 // the signer's chain-key commitment (from the ledger)
  Point new_balance;       // the signer's cash account after the move (from the ledger)
  Point pk;                // the validators' threshold key (from the ledger)

  friend bool operator==(const CashMovePublic&, const CashMovePublic&) = default;
};

// The wallet's side of a cash move. Secret: the scalars wipe themselves; wipe the integers.
struct CashMoveWitness {
  bool deposit = true;
  std::uint64_t amount = 0;
  std::uint64_t balance = 0;  // the cash account's opening now
  Scalar balance_blinding;
  Scalar r_K;  // K's blinding
  Point K;
  Point account;  // the cash account's commitment now
  Point pk;
  ~CashMoveWitness();
  CashMoveWitness() = default;
  CashMoveWitness(const CashMoveWitness&) = default;
  CashMoveWitness& operator=(const CashMoveWitness&) = default;
};

// The cash account after a move: account - V_a for a deposit, account + V_a for a withdrawal.
Point balance_after(const Point& account, const Point& V_a, bool deposit);

// Values in a cash-moving spend's range proof: the eight of a spend, a, the new balance, padding.
inline constexpr std::size_t kCashRangeValues = 16;

// The three proofs, in transcript order.
struct SpendProofs {
  crypto::OneOfManyProof membership;
  crypto::LinearProof linear;
  crypto::RangeProof range;
  // A refresh's canonical-split proof (N = 2), between membership and linear on the wire.
  std::optional<crypto::OneOfManyProof> split;

  void encode(Writer& w) const;
  // Sizes from the window's n, the number of tags the transaction names and whether it moves
  // cash (then the range proof has m = 16) or is a refresh (refresh.hpp's sizes).
  static std::optional<SpendProofs> decode(Reader& r, std::size_t log_window, std::size_t num_tags,
                                           bool cash = false, bool refresh = false);
};

std::size_t spend_witness_count(std::size_t num_tags, bool cash = false);
std::size_t spend_relation_count(std::size_t num_tags, bool cash = false);

// The linear statement of section 5 (relations 1 to 5), built identically by prover and verifier.
crypto::LinearStatement spend_statement(const PrivateGens& gens, const MarketTerms& terms,
                                        const SpendPublic& pub, const Deltas& d,
                                        std::span<const Point> tags,
                                        const CashMovePublic* cash = nullptr);

// An order tag's opening: T = kappa*G_tk + o*G_to + rho*H.
struct TagOpening {
  Scalar o;
  Scalar rho;
  static TagOpening random();
  Point commit(const PrivateGens& gens, const Scalar& kappa) const;
};

class PreparedSpend;
namespace detail {
void hide_serial_component(PreparedSpend& p, const PrivateGens& gens, const Scalar& s);
}  // namespace detail

// The prover's secrets between choosing the public fields and proving. Wiped on destruction (its
// scalars and attributes wipe themselves; the range values explicitly).
class PreparedSpend {
 public:
  PreparedSpend() = default;
  PreparedSpend(const PreparedSpend&) = default;
  PreparedSpend& operator=(const PreparedSpend&) = default;
  ~PreparedSpend();

  const SpendPublic& pub() const { return pub_; }
  // The token the transaction creates (what the wallet keeps once the ledger applied it).
  const TokenOpening& next() const { return next_; }
  const Deltas& deltas() const { return deltas_; }
  // The cash move's public fields, when the spend moves cash.
  const std::optional<CashMovePublic>& cash() const { return cash_; }
  // The cash account's opening after the move (what the wallet keeps once applied).
  std::uint64_t new_balance() const { return new_balance_; }
  const Scalar& new_balance_blinding() const { return new_balance_blinding_; }

 private:
  friend Result<PreparedSpend> prepare_spend_impl(const PrivateGens&, const MarketTerms&,
                                                  const TokenOpening&, const Window&, const Deltas&,
                                                  const CashMoveWitness*, bool);
  friend void detail::hide_serial_component(PreparedSpend&, const PrivateGens&, const Scalar&);
  friend Result<SpendProofs> prove_spend(const PrivateGens&, const MarketTerms&,
                                         const PreparedSpend&, const crypto::OneOfManySet&,
                                         std::size_t, std::span<const Point>,
                                         std::span<const TagOpening>, crypto::Transcript&);
  SpendPublic pub_;
  TokenOpening spent_;
  TokenOpening next_;
  Deltas deltas_;
  Scalar r_star_;
  Scalar t_;
  std::array<Scalar, kSpendRangeValues> gamma_;
  std::optional<CashMovePublic> cash_;
  Scalar amount_, amount_blinding_, enc_rho_, r_K_, new_balance_blinding_;
  std::uint64_t new_balance_ = 0;
  std::vector<std::uint64_t> range_values_;
  std::vector<Scalar> range_blindings_;
};

// Chooses the spend's public fields for spending `spent` with the given deltas: fresh r*, sn',
// r', gammas; C*, C', the value commitments. Refuses (and proves nothing) when the next token
// breaks solvency (kInsolvent "E_L short by X") or an attribute leaves its range (kOverflow).
Result<PreparedSpend> prepare_spend(const PrivateGens& gens, const MarketTerms& terms,
                                    const TokenOpening& spent, const Window& window,
                                    const Deltas& d, const CashMoveWitness* cash = nullptr);

// Proves the spend on t, which has absorbed the transaction (transaction.hpp): membership of the
// spent token at `index` of the window's set, the linear statement with the tags' openings, the
// range proof. kInvalidArgument if any statement is false (a wrong index, a tag of another
// kappa): nothing false is proved.
Result<SpendProofs> prove_spend(const PrivateGens& gens, const MarketTerms& terms,
                                const PreparedSpend& prepared, const crypto::OneOfManySet& set,
                                std::size_t index, std::span<const Point> tags,
                                std::span<const TagOpening> tag_openings, crypto::Transcript& t);

// The verifier's weights for one transaction's proofs, one per proof and unknown to its prover
// when it proved (derived from the transaction's bytes, or from a whole block's: block_verify.hpp).
// Each proof's equation is multiplied by its own weight, so that errors in two proofs of one
// transaction cannot cancel in a combined check.
struct ProofWeights {
  Scalar membership;
  Scalar split;  // a refresh's canonical-split proof
  Scalar linear;
  Scalar range;
  // A single transaction's weights: its transcript (which has absorbed the whole body) forked,
  // then every byte of its proofs; fixed by the transaction's bytes, so the verdict is too.
  static ProofWeights of(const crypto::Transcript& t, const SpendProofs& proofs);
  // The same from the proofs' encoding (an exit's).
  static ProofWeights of(const crypto::Transcript& t, ByteSpan proof_bytes);
  // The four weights drawn from `t` in order (membership, split, linear, range): what both of
  // the above and a block's weights (block_verify.cpp) draw once their transcript has absorbed
  // what fixes them.
  static ProofWeights draw(crypto::Transcript& t);
};

// Where the N points of a spend's window sit in a batch's MSM: window point j < count is
// run[offset + j], point j >= count (a short window's dummy points) is
// dummy_run[dummy_offset + j - count]. Spends whose windows overlap share their runs (the
// terms identify a run by its first point), so that each point is in the MSM once
// (block_verify.hpp). The runs must outlive the terms' use.
struct WindowPlacement {
  std::size_t log_size = 0;
  Digest32 digest{};  // the window set's digest (what the transcript absorbs)
  std::span<const Point> run;
  std::size_t offset = 0;
  std::size_t count = 0;
  std::span<const Point> dummy_run;
  std::size_t dummy_offset = 0;

  // A whole set in one run of its own.
  static WindowPlacement of(const crypto::OneOfManySet& set);
};

// Appends a membership proof's terms for the token behind `offset` (sn*G_sn + C*) among the
// window's points, under weight, to the current entry of out. A placement that does not cover
// the window refuses the entry. Variable time.
Status append_membership_terms(const PrivateGens& gens, const crypto::OneOfManyProof& proof,
                               crypto::Transcript& t, const WindowPlacement& window,
                               const Point& offset, const Scalar& weight,
                               crypto::VerificationTerms& out);

// Appends the spend's verification terms (membership over the window, the linear statement, the
// range proof), each under its weight, to the current entry of out, advancing t as verify_spend
// does. The window's runs, gens and the tags must outlive out's use. On an error (a proof of the
// wrong size, an identity where none is allowed) the entry is refused, so out fails closed
// whatever the caller does with the returned status ("membership: ...", "linear: ...",
// "range: ..."). Variable time.
Status append_spend_terms(const PrivateGens& gens, const MarketTerms& terms, const SpendPublic& pub,
                          const Deltas& d, std::span<const Point> tags,
                          const WindowPlacement& window, const SpendProofs& proofs,
                          crypto::Transcript& t, const CashMovePublic* cash,
                          const ProofWeights& weights, crypto::VerificationTerms& out);

// Verifies the three proofs with one MSM; when it fails, checks each alone and names the first
// that does not verify (kInvalidProof "membership: ...", "linear: ...", "range: ..."). t must be
// in the prover's state. Variable time.
Status verify_spend(const PrivateGens& gens, const MarketTerms& terms, const SpendPublic& pub,
                    const Deltas& d, std::span<const Point> tags, const crypto::OneOfManySet& set,
                    const SpendProofs& proofs, crypto::Transcript& t,
                    const CashMovePublic* cash = nullptr);

namespace detail {
// For the attack tests only: prepare_spend without the wallet's solvency and range checks. A
// negative constraint value is committed as the integer it is and range-proved as its 64-bit
// two's complement (the best a cheater can do); the proofs of such a spend do not verify.
Result<PreparedSpend> prepare_spend_unchecked(const PrivateGens& gens, const MarketTerms& terms,
                                              const TokenOpening& spent, const Window& window,
                                              const Deltas& d);
// For the attack tests only: moves s*G_sn into C* and reveals sn - s instead of sn (the hidden
// serial component of docs/protocol/private.md section 5). Membership still holds; the opening of
// C* without G_sn does not exist, so prove_spend refuses.
void hide_serial_component(PreparedSpend& p, const PrivateGens& gens, const Scalar& s);
}  // namespace detail

}  // namespace pfex::priv
