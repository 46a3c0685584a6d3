// The resolution of a margin round by threshold decryption through the log (docs/design.md
// section 6.3, docs/protocol/private.md section 14). At a refresh window's close the ledger fixes
// three ciphertexts under the validators' generated key: the survivors' summed position
// Enc(sum_S v_i), the defaulters' equity Enc(E_D) at the new reference price (every public term
// folded in) and the survivors' gross Enc(g_S). Each validator then appends one signed entry with
// its decryption share of each (D_j = s_j*R with a DLEQ proof, crypto/threshold.hpp). With t valid
// shares every replica combines them, recovers the three values by baby-step giant-step and
// records the resolution {epoch, v_D, c_D, g_S}: at the resolution deadline (the close plus D_res
// of ledger time), or at the entry that carries the t-th share when that comes later.
//
// Entry grammar (docs/codec.md; integers little endian):
//   shares_entry = version:u8 (= kShareEntryVersion) epoch:u64 validator:u16
//                  share_position:share share_equity:share share_gross:share signature:fixed_64
//   share        = index:u16 D:point A_Y:point A_D:point z:scalar   ; 130 bytes, index = validator
//   signed_bytes = string("pfex/v1/resolution/shares") || session_id:fixed_32 || entry bytes up
//                  to, not including, the signature; Ed25519 under validator j's identity key
// Each DLEQ proof is made on the transcript share_transcript(session_id, epoch, sum).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "core/codec.hpp"
#include "core/hash.hpp"
#include "core/status.hpp"
#include "core/units.hpp"
#include "crypto/bsgs.hpp"
#include "crypto/elgamal.hpp"
#include "crypto/keys.hpp"
#include "crypto/threshold.hpp"
#include "crypto/transcript.hpp"
#include "protocol/private/dkg_session.hpp"

namespace pfex::priv {

// Longest resolution deadline D_res: one day of ledger time (the contract's limit,
// market::kMaxResolutionMs; the validator ties the two).
inline constexpr std::int64_t kMaxResolutionMs = 86'400'000;
inline constexpr std::uint8_t kShareEntryVersion = 1;
inline constexpr std::string_view kShareEntryDomain = "pfex/v1/resolution/shares";
inline constexpr std::string_view kShareTranscriptDomain = "pfex/v1/resolution/share";
// The decrypted sums, in the order of an entry's shares.
inline constexpr std::size_t kRoundSums = 3;
enum class RoundSum : std::uint8_t { kPosition = 0, kEquity = 1, kGross = 2 };
std::string_view round_sum_name(RoundSum which);
// Bounds of the discrete logs: a sum of positions or of gross positions within the open-interest
// bound, the equity within the cash supply cap (either sign).
inline constexpr std::uint64_t kPositionSumBound = crypto::kDefaultDiscreteLogBound;
inline constexpr std::uint64_t kEquityBound = std::uint64_t{1} << 46;

// One validator's signed shares of one round.
struct ShareEntry {
  static constexpr std::size_t kBytes =
      1 + 8 + 2 + kRoundSums * crypto::DecryptionShare::kBytes + 64;

  std::uint64_t epoch = 0;  // the epoch whose refresh window closed
  std::uint32_t validator = 0;
  std::array<crypto::DecryptionShare, kRoundSums> shares;
  crypto::Ed25519Signature signature{};

  Bytes encode() const;
  // Strict framing: version, exact length, canonical points and scalars, each share's index equal
  // to the validator. The signature and proofs are checked by Resolutions::apply.
  static Result<ShareEntry> decode(ByteSpan bytes);
};

// The transcript every share of sum `which` of round `epoch` is proved on.
crypto::Transcript share_transcript(const Digest32& session_id, std::uint64_t epoch,
                                    RoundSum which);

// What the window's close fixes for a round: the ciphertexts and the public terms that turn the
// decrypted values into the resolution.
struct RoundToResolve {
  std::uint64_t epoch = 0;
  LedgerTime deadline;  // the window's close + D_res
  std::array<crypto::Ciphertext, kRoundSums> sums;
  std::int64_t reference = 0;      // P, ticks: the new epoch's reference price
  std::int64_t tick_value = 1;     // k
  std::int64_t fund_position = 0;  // v_fund at the halt
};

// A validator's entry for `round`: its shares made with its secret share s_j, signed with its
// identity key. What a validator appends; Resolutions::apply checks everything again.
Result<Bytes> build_share_entry(const crypto::Ed25519SigningKey& identity,
                                const Digest32& session_id, std::uint32_t validator,
                                const crypto::Scalar& secret_share, const RoundToResolve& round);

// A recorded resolution: the defaulters' position v_D = -sum_S v_i - v_fund and cash
// c_D = E_D - P*k*v_D, the survivors' gross g_S, with E_D, and the ledger time it was recorded.
struct Resolution {
  std::uint64_t epoch = 0;
  std::int64_t position = 0;
  std::int64_t cash = 0;
  std::uint64_t gross = 0;
  std::int64_t equity = 0;
  LedgerTime at;

  friend bool operator==(const Resolution&, const Resolution&) = default;
};

// Called with a resolution before it is recorded: an error refuses it, and then nothing changes
// (the validator's book takes the round over here: validator_stages.cpp).
using TakeResolution = std::function<Status(const Resolution&)>;

// The rounds waiting for their shares and the resolutions recorded: part of the private ledger's
// state. Deterministic.
class Resolutions {
 public:
  // A round to resolve (the window's close). kAlreadyExists if that epoch has one.
  Status open(const RoundToResolve& round);

  // One shares entry at ledger time `now`, checked against the generated key (`key`, `genesis`
  // for the validators' identity keys and t, `session_id` for the signed bytes and transcripts).
  // Returns the resolution when this entry records it, after `take` accepted it (its error
  // otherwise). Refused, changing nothing:
  //   kCorruption, kInvalidArgument  malformed entry; a validator index outside 1..n (foreign)
  //   kInvalidProof                  a signature not by validator j; a share whose DLEQ proof
  //                                  fails (naming the sum)
  //   kNotFound                      no round of that epoch awaits resolution
  //   kFailedPrecondition            late: the round is resolved, or already has t shares
  //   kAlreadyExists                 the validator's shares for that round arrived already
  // and, for the t-th valid entry, kOverflow when a sum is outside its bound: the ledger's
  // accounting is broken (every t valid shares decrypt to the same sums), the round can never be
  // resolved, and a replica stops there (validator_stages.cpp).
  Result<std::optional<Resolution>> apply(ByteSpan entry, LedgerTime now, const DkgKey& key,
                                          const DkgGenesis& genesis, const Digest32& session_id,
                                          const TakeResolution& take = {});
  // Records every round whose t shares are in and whose deadline is at or before `now`, by
  // increasing epoch, each once `take` accepted it; stops at the first `take` refuses and
  // returns its error (that round stays pending; the ones before it are recorded).
  Result<std::vector<Resolution>> advance(LedgerTime now, const TakeResolution& take = {});

  const std::map<std::uint64_t, Resolution>& recorded() const { return recorded_; }
  const RoundToResolve* pending(std::uint64_t epoch) const;
  std::size_t pending_count() const { return pending_.size(); }
  // Validators whose shares a pending round holds, ascending.
  std::vector<std::uint32_t> shares_from(std::uint64_t epoch) const;

  // pending:u32 (round)^pending recorded:u32 (resolution)^recorded, each by increasing epoch:
  //   round = epoch:u64 deadline:i64 sums:(R:point E:point)^3 reference:i64 k:i64 v_fund:i64
  //           shares:u16 (validator:u16 share^3)^shares decrypted:bool [value:i64^3]
  //   resolution = epoch:u64 position:i64 cash:i64 gross:u64 equity:i64 at:i64
  void encode(Writer& w) const;
  static Result<Resolutions> decode(Reader& r);

 private:
  struct Pending {
    RoundToResolve round;
    std::map<std::uint32_t, std::array<crypto::DecryptionShare, kRoundSums>> shares;
    std::optional<std::array<std::int64_t, kRoundSums>> values;  // once t shares are in
  };
  static Resolution resolve(const RoundToResolve& round,
                            const std::array<std::int64_t, kRoundSums>& values, LedgerTime at);
  std::map<std::uint64_t, Pending> pending_;
  std::map<std::uint64_t, Resolution> recorded_;
};

// The shared baby-step table (built once per process on first use, 16 MiB).
const crypto::DiscreteLogTable& discrete_log_table();

}  // namespace pfex::priv
