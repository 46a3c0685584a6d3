// Pedersen's distributed key generation with Feldman verification, run through the replicated log
// (docs/design.md section 6): n validators end up with a public key PK, public verification keys
// Y_j = s_j*G, and each validator j with a secret share s_j of the key, any t of which decrypt
// (threshold.hpp). The rounds, message formats, complaint handling, qualified set and the bias
// discussion (Gennaro et al. 1999) are in docs/crypto/threshold-elgamal.md section 3; the code's
// step numbers follow it.
//
// Rounds, each a set of log entries signed by their sender (the protocol layer checks signatures
// and that a message's index is its signer's):
//   1. every dealer i posts a DealerMessage: Feldman commitments A_{i,k} = a_{i,k}*G to its
//      polynomial f_i of degree t-1 and the shares f_i(j), each encrypted to validator j's X25519
//      key with XChaCha20-Poly1305;
//   2. every validator j posts a Complaint against each dealer whose share to j does not open or
//      fails Feldman's check;
//   3. each accused dealer posts a Justification: the disputed share in clear.
// DkgSession replays those messages in log order and computes the same qualified set, PK and
// verification keys on every replica; it is deterministic given the messages. The phases are
// closed by the caller (the protocol's deadlines in ledger time).
//
// Secrets (polynomial coefficients, shares, X25519 secret keys, derived symmetric keys) are
// handled in constant time and wiped; the one declassified fact is whether a received share passed
// Feldman's check (its recipient then complains in public).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "crypto/keys.hpp"
#include "crypto/point.hpp"
#include "crypto/scalar.hpp"

namespace pfex::crypto {

inline constexpr std::uint32_t kMaxDkgValidators = 256;
inline constexpr std::size_t kMaxDkgSessionIdBytes = 256;

// The public parameters of one key generation, identical on every validator.
class DkgParams {
 public:
  // n validators 1..n (n <= 256) with their X25519 keys (keys[j-1] is validator j's), threshold t
  // with 1 <= t and 2t - 1 <= n (note section 3.6), and a session id naming this key (1..256
  // bytes). kInvalidArgument otherwise, or for a low-order X25519 key.
  static Result<DkgParams> create(std::uint32_t n, std::uint32_t t, ByteSpan session_id,
                                  std::vector<X25519PublicKey> keys);

  std::uint32_t n() const { return n_; }
  std::uint32_t t() const { return t_; }
  const Bytes& session_id() const { return session_id_; }
  const X25519PublicKey& key(std::uint32_t j) const { return keys_[j - 1]; }

 private:
  DkgParams() = default;
  std::uint32_t n_ = 0;
  std::uint32_t t_ = 0;
  Bytes session_id_;
  std::vector<X25519PublicKey> keys_;
};

// Round 1. Wire format (note 3.1):
//   version (u8 = 1) || dealer (u16) || A_0..A_{t-1} (32 each) || epk (32) || c_1..c_n (48 each)
struct DealerMessage {
  static constexpr std::uint8_t kVersion = 1;
  static constexpr std::size_t kEncryptedShareBytes = 48;  // 32-byte scalar + Poly1305 tag
  using EncryptedShare = std::array<std::uint8_t, kEncryptedShareBytes>;

  std::uint32_t dealer = 0;
  std::vector<Point> commitments;                // A_{i,0..t-1}
  X25519PublicKey ephemeral_key{};               // epk_i
  std::vector<EncryptedShare> encrypted_shares;  // recipient j at [j-1]

  static std::size_t encoded_size(const DkgParams& params);
  void encode(Writer& w) const;
  Bytes encode() const;
  // Strict: sizes from params, dealer in 1..n, canonical points, exact length.
  static Result<DealerMessage> decode(ByteSpan bytes, const DkgParams& params);
};

// Round 2: complainer says dealer's share to it did not open. Wire: dealer (u16) || complainer
// (u16).
struct Complaint {
  static constexpr std::size_t kBytes = 4;
  std::uint32_t dealer = 0;
  std::uint32_t complainer = 0;

  Bytes encode() const;
  static Result<Complaint> decode(ByteSpan bytes, const DkgParams& params);
};

// Round 3: the dealer's answer, the share in clear. Wire: dealer (u16) || complainer (u16) ||
// share.
struct Justification {
  static constexpr std::size_t kBytes = 36;
  std::uint32_t dealer = 0;
  std::uint32_t complainer = 0;
  Scalar share;

  Bytes encode() const;
  static Result<Justification> decode(ByteSpan bytes, const DkgParams& params);
};

// Dealer i's secret polynomial. Wiped on destruction.
class Dealer {
 public:
  // A fresh random polynomial of degree t-1. kInvalidArgument for an index outside 1..n.
  static Result<Dealer> create(const DkgParams& params, std::uint32_t index);
  // create() with the coefficients a_{i,0..t-1} taken from `coefficient` in order: for the
  // constant-time check, which marks them secret. Not for application code.
  static Result<Dealer> detail_create_with(const DkgParams& params, std::uint32_t index,
                                           const std::function<Scalar()>& coefficient);

  std::uint32_t index() const { return index_; }
  // Round 1 (note 3.1 steps 1-5): commitments and encrypted shares, with a fresh ephemeral key.
  // Constant time in the coefficients.
  DealerMessage deal() const;
  // Round 3: the share f_i(complainer), published. kInvalidArgument for an index outside 1..n.
  Result<Justification> justify(std::uint32_t complainer) const;

 private:
  Dealer(const DkgParams& params, std::uint32_t index);
  Scalar evaluate(std::uint32_t j) const;  // f_i(j), constant time in the coefficients

  DkgParams params_;
  std::uint32_t index_;
  std::vector<Scalar> coefficients_;  // a_{i,0..t-1}
};

// The public result of a key generation.
struct DkgOutcome {
  std::vector<std::uint32_t> qualified;  // QUAL, ascending dealer indices
  Point public_key;                      // PK = sum_{i in QUAL} A_{i,0}
  std::vector<Point> commitments;        // C_k = sum_{i in QUAL} A_{i,k}, k = 0..t-1
  std::vector<Point> verification_keys;  // Y_j = sum_k j^k C_k at [j-1]

  const Point& verification_key(std::uint32_t j) const { return verification_keys[j - 1]; }
};

// Note 3.1 step 4 for one recipient: `share` encrypted to recipient j under the dealing's ephemeral
// X25519 secret, with the associated data binding it to (session, dealer, j, commitments).
// Dealer::deal uses it; exposed so that tests can build dishonest dealings. Constant time in the
// share and the keys. Never fails for parameters from DkgParams::create (no low-order keys).
DealerMessage::EncryptedShare seal_dkg_share(const DkgParams& params, const X25519SecretKey& esk,
                                             std::uint32_t dealer, std::uint32_t recipient,
                                             std::span<const Point> commitments,
                                             const Scalar& share);

// sum_k j^k * A_k (Feldman's right-hand side). Variable time (public inputs).
Point feldman_evaluate_var(std::span<const Point> commitments, std::uint32_t j);

// Feldman's check (F): share*G == sum_k j^k * A_k. Constant time in the share; the verdict is
// public (declassified): its recipient complains in public when it fails.
bool feldman_verify(std::span<const Point> commitments, std::uint32_t j, const Scalar& share);

// Replays one key generation's log entries (note 3.1-3.5).
class DkgSession {
 public:
  enum class Phase : std::uint8_t { kDealing, kComplaints, kJustifications, kDone };

  explicit DkgSession(DkgParams params);

  const DkgParams& params() const { return params_; }
  Phase phase() const { return phase_; }

  // Round 1. kFailedPrecondition outside the dealing phase, kAlreadyExists for a second dealing
  // of the same dealer (the first one counts), kInvalidArgument for a dealing that does not fit
  // the parameters.
  Status add_dealing(const DealerMessage& m);
  void close_dealings();
  // Round 2. kFailedPrecondition outside the complaint phase, kNotFound if the dealer has no
  // dealing, kAlreadyExists for a repeated complaint, kInvalidArgument for a bad index.
  Status add_complaint(const Complaint& c);
  void close_complaints();
  // Round 3. kFailedPrecondition outside the justification phase, kNotFound without a matching
  // complaint, kAlreadyExists if the complaint was answered already, kInvalidProof if the share
  // fails Feldman's check (the dealer may still send a correct one before the phase closes).
  Status add_justification(const Justification& j);

  // Closes the key generation: the qualified set, PK and the verification keys. kFailedPrecondition
  // before the complaint phase closed, or if no dealer qualified or PK is the identity.
  Result<DkgOutcome> finalize();

  // Recipient j's share from dealer i (note 3.2): decrypted, decoded and Feldman-checked, or an
  // error, on which j complains. Constant time in the share; the verdict is public.
  Result<Scalar> open_share(std::uint32_t dealer, std::uint32_t recipient,
                            const X25519SecretKey& sk) const;
  // The complaints validator j should post: one per dealing whose share to j does not open.
  std::vector<Complaint> complaints_for(std::uint32_t recipient, const X25519SecretKey& sk) const;
  // After finalize: validator j's share s_j = sum_{i in QUAL} s_{i,j}, using the justification
  // where there was one, checked against Y_j. Constant time in the shares.
  Result<Scalar> secret_share(std::uint32_t recipient, const X25519SecretKey& sk) const;

 private:
  struct DealerState {
    std::optional<DealerMessage> dealing;
    std::vector<std::uint32_t> complainers;        // in order of arrival
    std::vector<std::optional<Scalar>> justified;  // per complainer in `complainers`
  };
  bool qualified(const DealerState& d) const;

  DkgParams params_;
  Phase phase_ = Phase::kDealing;
  std::vector<DealerState> dealers_;  // dealer i at [i-1]
  std::optional<DkgOutcome> outcome_;
};

}  // namespace pfex::crypto
