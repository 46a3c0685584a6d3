// Verification of a block of private transactions (docs/protocol/private.md section 11, "Block
// verification"): every signature and every proof of every transaction of the block (the
// one-out-of-many proofs over their windows, the sigma proofs, the Bulletproofs) appends its
// weighted terms to one crypto::VerificationTerms, one entry per transaction; one MSM checks the
// whole block, and only when it fails one bisection names exactly the transactions whose proofs
// fail. The windows the block names are laid out as their union: each token or dummy point is in
// the MSM once, however many overlapping windows hold it.
//
// The proofs of a transaction are checked against its statement: the public values the ledger
// gives it at its position in the log (its terms, window, deltas and tags, cash account, levy).
// resolve_statement() forms it from a ledger state; a validator resolves each transaction against
// the state the transactions before it left, then verifies the block at once.
//
// Weights. Every proof's equation is multiplied by a weight derived from the block's bytes and the
// transaction's position, so the verdict does not depend on the number of threads or on any
// state, and a prover, who must fix its proof before the block exists, cannot aim at the weights.
// (The one-out-of-many and Bulletproof verifiers also mix their own internal equations with
// fresh random scalars; a valid proof passes for any of them, an invalid one fails except with
// probability about 2^-250.)
//
// Fail closed: a transaction whose statement cannot be formed (an unknown order or identity, a
// window that does not exist), that lacks a proof, or whose proofs cannot even be parsed into
// terms (wrong sizes, an identity point where none is allowed) is bad, with the reason.
//
// Only public data: variable time.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/status.hpp"
#include "crypto/one_of_many.hpp"
#include "protocol/private/exit.hpp"
#include "protocol/private/ledger.hpp"
#include "protocol/private/refresh.hpp"
#include "protocol/private/spend.hpp"
#include "protocol/private/transaction.hpp"

namespace pfex::priv {

// What one transaction's signature and proofs are checked against. same_statement() compares
// every field: keep it in step when adding one.
struct TxStatement {
  // Not ok when the statement could not be formed: the transaction is bad for this reason.
  Status unresolved;
  MarketTerms terms;  // the terms its transcript absorbs and its statement uses
  // A spend's or an exit's deltas and tags (its window is in the transaction).
  SpendEffects effects;
  std::optional<ExitContext> exit;        // exit: its identity's K, liquidation price, penalty
  std::optional<CashMovePublic> cash;     // deposit, withdraw
  std::optional<RefreshPublic> refresh;   // refresh
  Point cancel_tag;                       // cancel: the order's tag
  std::array<Point, 2> transfer_range{};  // transfer: V_a and the sender's new balance
};

// Forms tx's statement from ledger as it is now (the state tx applies to). Looks at no proof and
// no signature. A statement that cannot be formed (an unknown order or identity, a window that
// does not exist yet) has `unresolved` set with the reason.
TxStatement resolve_statement(const PrivateLedger& ledger, const PrivateTx& tx);

// Both statements are formed and equal in every public value: proofs that verify against one
// verify against the other (the window's points are the transaction's window, which never
// changes once it exists). A validator uses it to keep the verdict of a statement resolved
// before the block when the transaction's own position leaves it the same.
bool same_statement(const TxStatement& a, const TxStatement& b);

// The transactions of a block whose signature or proofs do not verify.
struct BlockVerdict {
  std::vector<std::size_t> bad;  // positions in the block, increasing
  std::vector<Status> reasons;   // reasons[k]: why bad[k] was refused
  std::size_t msm_points = 0;    // the size of the block's MSM (each distinct point once)
  bool ok() const { return bad.empty(); }
};

// Verifies blocks against one ledger (whose token lists it reads at verification time: they
// only grow, so a window of a statement resolved earlier still holds the same points). It keeps
// the encodings of the tokens and the digests of the windows it has seen, so that a token is
// encoded once however many blocks name it. Not thread-safe; it runs its own threads.
class BlockVerifier {
 public:
  // Verifies every signature and proof of block[i] against statements[i] (a transaction without a
  // statement is bad). The windows of the block's spends are laid out as the union of their
  // points, each point once. One MSM when every proof holds; the terms are built on up to
  // `threads` threads (0 counts as 1), and the verdict is the same for every thread count.
  // `encoded`, when given, holds each transaction's exact bytes (the log's), from which the
  // weights are derived without encoding the transactions again; it must be block[i]'s
  // encoding (a caller passing other bytes weakens the weights' unpredictability). When its size
  // differs from the block's, the transactions are encoded here.
  BlockVerdict verify_var(const PrivateLedger& ledger, std::span<const PrivateTx> block,
                          std::span<const TxStatement> statements, unsigned threads = 1,
                          std::span<const ByteSpan> encoded = {});

  // Forgets the encodings of the tokens `ledger` does not hold (by epoch) and the digests of the
  // windows that reach past them: after verifying against another ledger whose lists went further
  // (a validator's speculative copy), so that they are not taken for this ledger's next tokens.
  void forget_beyond(const PrivateLedger& ledger);

 private:
  struct EpochPoints {
    std::vector<Point::Encoding> tokens;  // encodings of the list's first tokens
    std::vector<Point> dummies;           // dummy_point(epoch, i), i < N (built when needed)
    std::vector<Point::Encoding> dummy_encodings;
  };
  std::map<std::uint64_t, EpochPoints> epochs_;
  std::map<std::array<std::uint64_t, 3>, Digest32> digests_;  // by (epoch, start, length)
};

// One transaction's verification taken out of a ledger: its statement and its window's points
// (a spend's; copies), so that verify_detached() reads no ledger and can run while the ledger
// changes (a gateway verifies proofs outside its replica's lock).
struct DetachedTx {
  PrivateTx tx;
  TxStatement statement;
  std::vector<Point> window;  // a spend's or an exit's N points (tokens, then dummy points)
};

// Copies what verifying `tx` needs from `ledger` (the state it applies to). A statement that
// cannot be formed is its `unresolved` reason.
Result<DetachedTx> detach(const PrivateLedger& ledger, const PrivateTx& tx);

// Verifies every signature and proof of `d` against its statement and window, as a block of one
// (one MSM). ok, or why not (kInvalidProof for proofs that do not verify).
Status verify_detached(const PrivateGens& gens, const DetachedTx& d);

// One block with a verifier of its own (no encodings kept).
BlockVerdict verify_block_var(const PrivateLedger& ledger, std::span<const PrivateTx> block,
                              std::span<const TxStatement> statements, unsigned threads = 1);

// Every transaction's statement resolved against `ledger` as it is (for a block whose
// transactions do not depend on each other, e.g. one margin round's refreshes), then verified.
BlockVerdict verify_block_var(const PrivateLedger& ledger, std::span<const PrivateTx> block,
                              unsigned threads = 1);

}  // namespace pfex::priv
