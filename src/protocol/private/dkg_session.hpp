// The validators' threshold key generated through the log at market start (docs/design.md section
// 6; the DKG's rounds and messages: docs/crypto/threshold-elgamal.md section 3). The genesis lists
// the validators (their Ed25519 identity keys and X25519 share keys), the threshold t and the
// length of each round in ledger time; each validator's dealing, complaints and justifications
// then arrive as signed log entries. Every replica feeds the same entries to a DkgSession and ends
// with the same qualified set, threshold public key, verification keys and transcript hash, which
// are part of the replicated state (encode_state, state_hash).
//
// Entry grammar (docs/codec.md; integers little endian):
//   dkg_entry   = version:u8 (= kDkgEntryVersion) kind:u8 validator:u16 body:bytes
//   signature:fixed_64
//                 ; kind: 0 dealing, 1 complaint, 2 justification
//                 ; validator: the signer's index j in the genesis list, 1..n
//                 ; body: at most kMaxDkgBodyBytes, the crypto message (dkg.hpp) of that kind,
//                 ;   decoded strictly for the session's parameters; its dealer (dealing,
//                 ;   justification) or complainer (complaint) must be `validator`
//   signed_bytes = string("pfex/v1/dkg/entry") || session_id:fixed_32 || entry bytes up to,
//                 not including, the signature; Ed25519 under validator j's identity key
// The session id binds entries to one market and one genesis: BLAKE2b-256 with the domain
// "pfex/v1/dkg/session" of market_id || the encoded DkgGenesis.
//
// Rounds end by ledger time (not by entry counts, which a silent validator could stall): with
// `start` the genesis's ledger time, dealings are accepted while now < start + dealing_ms,
// complaints while now < that + complaint_ms, justifications while now < that +
// justification_ms; at that last deadline the session finalizes. The replica calls advance(now)
// as ledger time moves (apply() does it for its entry's time), so the outcome is a function of the
// log alone. Entries that come too late, are malformed, are signed by anyone but their validator,
// repeat a message or fail the DKG's checks are refused with the reason and change nothing.
//
// Transcript hash: h_0 = BLAKE2b-256("pfex/v1/dkg/transcript", session_id), then for each accepted
// entry h = BLAKE2b-256("pfex/v1/dkg/transcript", h || entry bytes), and at the end
// h = BLAKE2b-256("pfex/v1/dkg/transcript", h || outcome) where outcome is the qualified set (u16
// count, u16 each), PK and the verification keys (32 bytes each): one value naming everything
// the key came from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/codec.hpp"
#include "core/hash.hpp"
#include "core/status.hpp"
#include "core/units.hpp"
#include "crypto/dkg.hpp"
#include "crypto/keys.hpp"
#include "crypto/point.hpp"

namespace pfex::priv {

// 3: D_res is the contract's (market::ContractSpec::resolution_ms), one value for both modes;
// version 2, which carried it after the rounds, and version 1 are refused.
inline constexpr std::uint8_t kDkgGenesisVersion = 3;
inline constexpr std::uint8_t kDkgEntryVersion = 1;
inline constexpr std::uint8_t kDkgStateVersion = 1;
// A dealing for 256 validators with t = 128 is 1 + 2 + 128*32 + 32 + 256*48 = 16,419 bytes.
inline constexpr std::uint32_t kMaxDkgBodyBytes = 16 * 1024 + 64;
// Longest round: one day of ledger time.
inline constexpr std::int64_t kMaxDkgRoundMs = 86'400'000;

inline constexpr std::string_view kDkgSessionDomain = "pfex/v1/dkg/session";
inline constexpr std::string_view kDkgEntryDomain = "pfex/v1/dkg/entry";
inline constexpr std::string_view kDkgTranscriptDomain = "pfex/v1/dkg/transcript";
inline constexpr std::string_view kDkgStateDomain = "pfex/v1/dkg/state";

struct DkgValidator {
  crypto::Ed25519PublicKey identity{};  // signs the validator's DKG entries
  crypto::X25519PublicKey share_key{};  // receives its encrypted shares
};

// The genesis's part of the key generation.
//   dkg_genesis = version:u8 (= kDkgGenesisVersion) t:u16 n:u16 (identity:fixed_32
//                 share_key:fixed_32)^n dealing_ms:i64 complaint_ms:i64 justification_ms:i64
// Valid: 1 <= n <= crypto::kMaxDkgValidators, 1 <= t and 2t - 1 <= n (dkg.hpp), identity keys
// distinct, share keys distinct and not of low order, each round 1..kMaxDkgRoundMs. A margin
// round's sums are decrypted by the validators' shares through the log (resolution.hpp) and the
// resolution is recorded at the window's close plus the contract's D_res, or at the entry
// carrying the t-th share if later.
struct DkgGenesis {
  std::uint32_t threshold = 0;           // t: any t validators decrypt together
  std::vector<DkgValidator> validators;  // validator j at [j-1]
  std::int64_t dealing_ms = 0;
  std::int64_t complaint_ms = 0;
  std::int64_t justification_ms = 0;

  void encode(Writer& w) const;
  Bytes encode() const;
  // Strict, and checks validate().
  static Result<DkgGenesis> decode(Reader& r);
  [[nodiscard]] Status validate() const;
};

enum class DkgEntryKind : std::uint8_t { kDealing = 0, kComplaint = 1, kJustification = 2 };
inline constexpr std::uint8_t kMaxDkgEntryKind = 2;

// One decoded, not yet authenticated, entry.
struct DkgEntry {
  DkgEntryKind kind = DkgEntryKind::kDealing;
  std::uint32_t validator = 0;
  Bytes body;
  crypto::Ed25519Signature signature{};

  Bytes encode() const;
  // Strict framing (version, kind, lengths, no trailing bytes); the body is decoded by the session.
  static Result<DkgEntry> decode(ByteSpan bytes);
};

// A validator's entry, signed with its identity key for the session `session_id`. Builds what a
// validator posts; the session checks everything again.
Bytes sign_dkg_entry(const crypto::Ed25519SigningKey& key, const Digest32& session_id,
                     DkgEntryKind kind, std::uint32_t validator, ByteSpan body);

// The fixed result of a key generation: part of the market's state from then on.
struct DkgKey {
  std::vector<std::uint32_t> qualified;          // QUAL, ascending validator indices
  crypto::Point public_key;                      // the threshold public key PK
  std::vector<crypto::Point> verification_keys;  // Y_j at [j-1]
  Digest32 transcript_hash{};
};

// The replicated state machine of one key generation. Deterministic: two sessions opened from the
// same genesis and fed the same entries at the same ledger times encode to the same bytes.
class DkgSession {
 public:
  enum class Phase : std::uint8_t {
    kDealing = 0,
    kComplaints = 1,
    kJustifications = 2,
    kDone = 3,    // key() is set
    kFailed = 4,  // no key: failure() says why (no dealer qualified, or PK is the identity)
  };

  // The session of the market `market_id`, whose genesis has ledger time `start`.
  // kInvalidArgument for an invalid genesis; kOverflow if a deadline does not fit in ledger time.
  static Result<DkgSession> open(const Digest32& market_id, const DkgGenesis& genesis,
                                 LedgerTime start);

  const Digest32& session_id() const { return session_id_; }
  const DkgGenesis& genesis() const { return genesis_; }
  const crypto::DkgParams& params() const { return crypto_.params(); }
  Phase phase() const { return phase_; }
  // The deadline of the current round (ledger time at which it closes); the last one once done.
  LedgerTime deadline() const;
  std::size_t accepted_entries() const { return entries_.size(); }

  // Closes every round whose deadline is at or before `now`, and finalizes after the last one.
  // Ledger time never runs backwards; an earlier `now` does nothing.
  void advance(LedgerTime now);

  // One log entry at ledger time `now`: advance(now), then decode, authenticate and apply it.
  // Refused entries leave the state as advance(now) left it, with:
  //   kCorruption, kInvalidArgument  malformed framing or body, a validator index outside 1..n,
  //                                  a message whose dealer or complainer is not the signer;
  //   kFailedPrecondition            the entry's round is closed, or not open yet;
  //   kInvalidProof                  a bad signature, or a justified share failing Feldman's check;
  //   kAlreadyExists                 a second dealing, complaint or justification;
  //   kNotFound                      a complaint against a dealer that has not dealt, or a
  //                                  justification without its complaint.
  [[nodiscard]] Status apply(ByteSpan entry, LedgerTime now);

  // Set once the session is kDone.
  const std::optional<DkgKey>& key() const { return key_; }
  const std::string& failure() const { return failure_; }
  // The running transcript hash; the final one once done (equal to key()->transcript_hash).
  const Digest32& transcript_hash() const { return transcript_; }

  // The underlying DKG: a validator uses it for complaints_for() and, once done, secret_share().
  const crypto::DkgSession& dkg() const { return crypto_; }

  // Snapshot bytes and their hash (what the replica's state hash absorbs):
  //   dkg_state = version:u8 (= kDkgStateVersion) market_id:fixed_32 start:i64 genesis:dkg_genesis
  //               now:i64 entries:u32 (entry:bytes)^entries
  // The state is a function of these: decode_state replays the accepted entries (checking them
  // again) and advances to `now`; the phase, key and transcript follow. Strict: anything else, a
  // refused entry or trailing bytes is kCorruption.
  Bytes encode_state() const;
  static Result<DkgSession> decode_state(ByteSpan bytes);
  Digest32 state_hash() const;

 private:
  DkgSession(const Digest32& market_id, DkgGenesis genesis, LedgerTime start,
             crypto::DkgParams params, std::vector<LedgerTime> deadlines);
  Status accept(const DkgEntry& entry, ByteSpan bytes);
  void finalize();

  Digest32 market_id_{};
  DkgGenesis genesis_;
  LedgerTime start_;
  Digest32 session_id_{};
  std::vector<LedgerTime> deadlines_;  // end of dealings, complaints, justifications
  crypto::DkgSession crypto_;
  Phase phase_ = Phase::kDealing;
  LedgerTime now_;
  std::vector<Bytes> entries_;  // accepted entries in log order
  Digest32 transcript_{};
  std::optional<DkgKey> key_;
  std::string failure_;
};

}  // namespace pfex::priv
