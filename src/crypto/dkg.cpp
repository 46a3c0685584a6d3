#include "crypto/dkg.hpp"

#include <sodium.h>

#include <algorithm>
#include <cassert>
#include <string>
#include <utility>

#include "core/hash.hpp"
#include "crypto/ct.hpp"
#include "crypto/msm.hpp"
#include "crypto/proof_codec.hpp"

namespace pfex::crypto {

namespace {

constexpr std::string_view kShareKeyDomain = "pfex/v1/dkg/share-key";
constexpr std::string_view kShareAdDomain = "pfex/v1/dkg/share-ad";

static_assert(DealerMessage::kEncryptedShareBytes ==
              Scalar::kBytes + crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(sizeof(X25519PublicKey) == crypto_scalarmult_BYTES);

// Wiped 32-byte buffer for shared secrets and symmetric keys.
struct SecretBytes {
  std::array<std::uint8_t, 32> b{};
  SecretBytes() = default;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { sodium_memzero(b.data(), b.size()); }
};

void put_u16(Hasher& h, std::uint32_t v) {
  const std::uint8_t le[2] = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)};
  h.update(le);
}

void put_session(Hasher& h, const Bytes& sid) {
  const auto len = static_cast<std::uint32_t>(sid.size());
  const std::uint8_t le[4] = {static_cast<std::uint8_t>(len), static_cast<std::uint8_t>(len >> 8),
                              static_cast<std::uint8_t>(len >> 16),
                              static_cast<std::uint8_t>(len >> 24)};
  h.update(le);
  h.update(sid);
}

// k_{i,j} (note 3.1 step 4). `dh` is X25519(esk_i, pk_j) = X25519(sk_j, epk_i).
void share_key(const DkgParams& params, const SecretBytes& dh, const X25519PublicKey& epk,
               std::uint32_t dealer, std::uint32_t recipient, SecretBytes& out) {
  Hasher h(kShareKeyDomain);
  h.update(dh.b);
  h.update(epk);
  h.update(params.key(recipient));
  put_session(h, params.session_id());
  put_u16(h, dealer);
  put_u16(h, recipient);
  Digest32 d = h.finish();
  std::copy(d.begin(), d.end(), out.b.begin());
  sodium_memzero(d.data(), d.size());
}

// The associated data: binds a ciphertext to its session, dealer, recipient and commitments.
Digest32 share_ad(const DkgParams& params, std::uint32_t dealer, std::uint32_t recipient,
                  std::span<const Point> commitments) {
  Hasher h(kShareAdDomain);
  put_session(h, params.session_id());
  put_u16(h, dealer);
  put_u16(h, recipient);
  for (const Point& a : commitments)
    h.update(a.encode());
  return h.finish();
}

Status check_index(const DkgParams& params, std::uint32_t j, std::string_view what) {
  if (j < 1 || j > params.n()) {
    return Status::invalid_argument(std::string(what) + " " + std::to_string(j) +
                                    " is outside 1.." + std::to_string(params.n()));
  }
  return Status::ok();
}

// A u16 validator index that must lie in 1..n (sticky Reader error otherwise).
std::uint32_t read_index(Reader& r, const DkgParams& params, std::string_view field) {
  const std::uint16_t v = r.u16(field);
  if (r.failed()) return 0;
  if (v < 1 || v > params.n()) {
    r.fail(Status::invalid_argument(std::string(field) + " " + std::to_string(v) +
                                    " is outside 1.." + std::to_string(params.n())));
    return 0;
  }
  return v;
}

}  // namespace

// ---- Parameters ---------------------------------------------------------------------------

Result<DkgParams> DkgParams::create(std::uint32_t n, std::uint32_t t, ByteSpan session_id,
                                    std::vector<X25519PublicKey> keys) {
  ensure_sodium_init();
  if (n < 1 || n > kMaxDkgValidators) {
    return Status::invalid_argument("DKG: n = " + std::to_string(n) + " is outside 1..256");
  }
  if (t < 1 || 2 * t - 1 > n) {
    return Status::invalid_argument("DKG: threshold t = " + std::to_string(t) +
                                    " needs 1 <= t and 2t - 1 <= n = " + std::to_string(n));
  }
  if (session_id.empty() || session_id.size() > kMaxDkgSessionIdBytes) {
    return Status::invalid_argument("DKG: the session id must have 1..256 bytes");
  }
  if (keys.size() != n) {
    return Status::invalid_argument("DKG: " + std::to_string(keys.size()) +
                                    " encryption keys for n = " + std::to_string(n));
  }
  // A low-order key makes every X25519 output zero (libsodium then refuses): reject it here so
  // that dealing cannot fail later.
  std::array<std::uint8_t, 32> probe{};
  probe[0] = 8;
  for (std::uint32_t j = 0; j < n; ++j) {
    std::array<std::uint8_t, 32> out{};
    if (crypto_scalarmult(out.data(), probe.data(), keys[j].data()) != 0) {
      return Status::invalid_argument("DKG: validator " + std::to_string(j + 1) +
                                      "'s X25519 key has low order");
    }
  }
  DkgParams p;
  p.n_ = n;
  p.t_ = t;
  p.session_id_.assign(session_id.begin(), session_id.end());
  p.keys_ = std::move(keys);
  return p;
}

// ---- Messages -----------------------------------------------------------------------------

std::size_t DealerMessage::encoded_size(const DkgParams& params) {
  return 1 + 2 + Point::kBytes * params.t() + 32 + kEncryptedShareBytes * params.n();
}

void DealerMessage::encode(Writer& w) const {
  w.u8(kVersion);
  w.u16(static_cast<std::uint16_t>(dealer));
  for (const Point& a : commitments)
    write_point(w, a);
  w.fixed(ephemeral_key);
  for (const EncryptedShare& c : encrypted_shares)
    w.fixed(c);
}

Bytes DealerMessage::encode() const {
  return encode_to_bytes(*this);
}

Result<DealerMessage> DealerMessage::decode(ByteSpan bytes, const DkgParams& params) {
  Reader r(bytes);
  DealerMessage m;
  r.u8_in("dealing version", kVersion, kVersion);
  m.dealer = read_index(r, params, "dealer");
  m.commitments.reserve(params.t());
  for (std::uint32_t k = 0; k < params.t() && !r.failed(); ++k)
    m.commitments.push_back(read_point(r, "Feldman commitment"));
  r.fixed("ephemeral key", m.ephemeral_key);
  m.encrypted_shares.resize(r.failed() ? 0 : params.n());
  for (EncryptedShare& c : m.encrypted_shares)
    r.fixed("encrypted share", c);
  PFEX_RETURN_IF_ERROR(r.finish());
  return m;
}

Bytes Complaint::encode() const {
  Bytes out;
  out.reserve(kBytes);
  Writer w(&out);
  w.u16(static_cast<std::uint16_t>(dealer));
  w.u16(static_cast<std::uint16_t>(complainer));
  return out;
}

Result<Complaint> Complaint::decode(ByteSpan bytes, const DkgParams& params) {
  Reader r(bytes);
  Complaint c;
  c.dealer = read_index(r, params, "dealer");
  c.complainer = read_index(r, params, "complainer");
  PFEX_RETURN_IF_ERROR(r.finish());
  return c;
}

Bytes Justification::encode() const {
  Bytes out;
  out.reserve(kBytes);
  Writer w(&out);
  w.u16(static_cast<std::uint16_t>(dealer));
  w.u16(static_cast<std::uint16_t>(complainer));
  write_scalar(w, share);
  return out;
}

Result<Justification> Justification::decode(ByteSpan bytes, const DkgParams& params) {
  Reader r(bytes);
  Justification j;
  j.dealer = read_index(r, params, "dealer");
  j.complainer = read_index(r, params, "complainer");
  j.share = read_scalar(r, "share");
  PFEX_RETURN_IF_ERROR(r.finish());
  return j;
}

DealerMessage::EncryptedShare seal_dkg_share(const DkgParams& params, const X25519SecretKey& esk,
                                             std::uint32_t dealer, std::uint32_t recipient,
                                             std::span<const Point> commitments,
                                             const Scalar& share) {
  DealerMessage::EncryptedShare out{};
  SecretBytes dh;
  // Cannot fail: DkgParams::create rejected low-order keys.
  [[maybe_unused]] const int rc =
      crypto_scalarmult(dh.b.data(), esk.bytes().data(), params.key(recipient).data());
  assert(rc == 0);
  SecretBytes key;
  share_key(params, dh, esk.public_key(), dealer, recipient, key);
  const Digest32 ad = share_ad(params, dealer, recipient, commitments);
  const std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &len, share.bytes().data(), Scalar::kBytes,
                                             ad.data(), ad.size(), nullptr, nonce.data(),
                                             key.b.data());
  return out;
}

// ---- Dealer -------------------------------------------------------------------------------

Dealer::Dealer(const DkgParams& params, std::uint32_t index) : params_(params), index_(index) {}

Result<Dealer> Dealer::create(const DkgParams& params, std::uint32_t index) {
  return detail_create_with(params, index, [] { return Scalar::random(); });
}

Result<Dealer> Dealer::detail_create_with(const DkgParams& params, std::uint32_t index,
                                          const std::function<Scalar()>& coefficient) {
  PFEX_RETURN_IF_ERROR(check_index(params, index, "dealer"));
  Dealer d(params, index);
  // Step 1: a_{i,0..t-1} uniform.
  d.coefficients_.reserve(params.t());
  for (std::uint32_t k = 0; k < params.t(); ++k)
    d.coefficients_.push_back(coefficient());
  return d;
}

Scalar Dealer::evaluate(std::uint32_t j) const {
  // Horner's rule; j is public, the coefficients secret (Scalar arithmetic is constant time).
  const Scalar x = Scalar::from_u64(j);
  Scalar acc;
  for (std::size_t k = coefficients_.size(); k-- > 0;)
    acc = acc * x + coefficients_[k];
  return acc;
}

DealerMessage Dealer::deal() const {
  DealerMessage m;
  m.dealer = index_;
  // Step 2: A_{i,k} = a_{i,k}*G.
  for (const Scalar& a : coefficients_)
    m.commitments.push_back(Point::mul_base(a));
  // Step 4: an ephemeral X25519 key for this dealing.
  const X25519SecretKey esk = X25519SecretKey::generate();
  m.ephemeral_key = esk.public_key();
  m.encrypted_shares.resize(params_.n());
  for (std::uint32_t j = 1; j <= params_.n(); ++j) {
    // Step 3: s_{i,j} = f_i(j); step 4: encrypted under k_{i,j}.
    m.encrypted_shares[j - 1] = seal_dkg_share(params_, esk, index_, j, m.commitments, evaluate(j));
  }
  return m;
}

Result<Justification> Dealer::justify(std::uint32_t complainer) const {
  PFEX_RETURN_IF_ERROR(check_index(params_, complainer, "complainer"));
  return Justification{index_, complainer, evaluate(complainer)};
}

// ---- Session ------------------------------------------------------------------------------

Point feldman_evaluate_var(std::span<const Point> commitments, std::uint32_t j) {
  std::vector<Scalar> powers;
  powers.reserve(commitments.size());
  const Scalar x = Scalar::from_u64(j);
  Scalar p = Scalar::one();
  for (std::size_t k = 0; k < commitments.size(); ++k) {
    powers.push_back(p);
    p *= x;
  }
  return *msm_var(powers, commitments);  // equal lengths by construction
}

bool feldman_verify(std::span<const Point> commitments, std::uint32_t j, const Scalar& share) {
  const bool ok = Point::mul_base(share) == feldman_evaluate_var(commitments, j);
  declassify(ok);  // Feldman's verdict is public: a failure leads to a public complaint
  return ok;
}

DkgSession::DkgSession(DkgParams params) : params_(std::move(params)), dealers_(params_.n()) {}

Status DkgSession::add_dealing(const DealerMessage& m) {
  if (phase_ != Phase::kDealing) {
    return Status::failed_precondition("DKG: dealing from " + std::to_string(m.dealer) +
                                       " after the dealing phase closed");
  }
  PFEX_RETURN_IF_ERROR(check_index(params_, m.dealer, "dealer"));
  if (m.commitments.size() != params_.t() || m.encrypted_shares.size() != params_.n()) {
    return Status::invalid_argument("DKG: dealing from " + std::to_string(m.dealer) +
                                    " has the wrong number of commitments or shares");
  }
  DealerState& d = dealers_[m.dealer - 1];
  if (d.dealing) {
    return Status::already_exists("DKG: dealer " + std::to_string(m.dealer) + " has dealt already");
  }
  d.dealing = m;
  return Status::ok();
}

void DkgSession::close_dealings() {
  if (phase_ == Phase::kDealing) phase_ = Phase::kComplaints;
}

Status DkgSession::add_complaint(const Complaint& c) {
  if (phase_ != Phase::kComplaints) {
    return Status::failed_precondition("DKG: complaint outside the complaint phase");
  }
  PFEX_RETURN_IF_ERROR(check_index(params_, c.dealer, "dealer"));
  PFEX_RETURN_IF_ERROR(check_index(params_, c.complainer, "complainer"));
  DealerState& d = dealers_[c.dealer - 1];
  if (!d.dealing) {
    return Status::not_found("DKG: complaint against dealer " + std::to_string(c.dealer) +
                             ", which has not dealt");
  }
  if (std::find(d.complainers.begin(), d.complainers.end(), c.complainer) != d.complainers.end()) {
    return Status::already_exists("DKG: repeated complaint");
  }
  d.complainers.push_back(c.complainer);
  d.justified.emplace_back();
  return Status::ok();
}

void DkgSession::close_complaints() {
  if (phase_ == Phase::kDealing) close_dealings();
  if (phase_ == Phase::kComplaints) phase_ = Phase::kJustifications;
}

Status DkgSession::add_justification(const Justification& j) {
  if (phase_ != Phase::kJustifications) {
    return Status::failed_precondition("DKG: justification outside the justification phase");
  }
  PFEX_RETURN_IF_ERROR(check_index(params_, j.dealer, "dealer"));
  PFEX_RETURN_IF_ERROR(check_index(params_, j.complainer, "complainer"));
  DealerState& d = dealers_[j.dealer - 1];
  const auto it = std::find(d.complainers.begin(), d.complainers.end(), j.complainer);
  if (it == d.complainers.end()) {
    return Status::not_found("DKG: justification without a complaint");
  }
  auto& slot = d.justified[static_cast<std::size_t>(it - d.complainers.begin())];
  if (slot) return Status::already_exists("DKG: complaint answered already");
  // Note 3.4: the published share must satisfy (F). Public data: variable time.
  if (!(Point::mul_base(j.share) == feldman_evaluate_var(d.dealing->commitments, j.complainer))) {
    return Status::invalid_proof("DKG: dealer " + std::to_string(j.dealer) +
                                 "'s justified share to " + std::to_string(j.complainer) +
                                 " fails Feldman's check");
  }
  slot = j.share;
  return Status::ok();
}

bool DkgSession::qualified(const DealerState& d) const {
  return d.dealing && std::all_of(d.justified.begin(), d.justified.end(),
                                  [](const std::optional<Scalar>& s) { return s.has_value(); });
}

Result<DkgOutcome> DkgSession::finalize() {
  if (outcome_) return *outcome_;
  if (phase_ != Phase::kJustifications) {
    return Status::failed_precondition("DKG: finalize before the complaint phase closed");
  }
  // Note 3.5.
  DkgOutcome out;
  out.commitments.assign(params_.t(), Point::identity());
  for (std::uint32_t i = 1; i <= params_.n(); ++i) {
    const DealerState& d = dealers_[i - 1];
    if (!qualified(d)) continue;
    out.qualified.push_back(i);
    for (std::uint32_t k = 0; k < params_.t(); ++k)
      out.commitments[k] += d.dealing->commitments[k];
  }
  if (out.qualified.empty()) return Status::failed_precondition("DKG: no dealer qualified");
  out.public_key = out.commitments[0];
  if (out.public_key.is_identity()) {
    return Status::failed_precondition("DKG: the public key is the identity");
  }
  out.verification_keys.reserve(params_.n());
  for (std::uint32_t j = 1; j <= params_.n(); ++j)
    out.verification_keys.push_back(feldman_evaluate_var(out.commitments, j));
  phase_ = Phase::kDone;
  outcome_ = out;
  return out;
}

Result<Scalar> DkgSession::open_share(std::uint32_t dealer, std::uint32_t recipient,
                                      const X25519SecretKey& sk) const {
  PFEX_RETURN_IF_ERROR(check_index(params_, dealer, "dealer"));
  PFEX_RETURN_IF_ERROR(check_index(params_, recipient, "recipient"));
  const DealerState& d = dealers_[dealer - 1];
  if (!d.dealing)
    return Status::not_found("DKG: dealer " + std::to_string(dealer) + " has not dealt");
  const DealerMessage& m = *d.dealing;
  const std::string who =
      "DKG: dealer " + std::to_string(dealer) + "'s share to " + std::to_string(recipient);
  // Note 3.2: derive k_{i,j}, decrypt, decode, check (F).
  SecretBytes dh;
  const int dh_rc = crypto_scalarmult(dh.b.data(), sk.bytes().data(), m.ephemeral_key.data());
  declassify(dh_rc);  // zero output iff epk has low order, whatever sk is: a public fact
  if (dh_rc != 0) return Status::invalid_proof(who + ": the ephemeral key has low order");
  SecretBytes key;
  share_key(params_, dh, m.ephemeral_key, dealer, recipient, key);
  const Digest32 ad = share_ad(params_, dealer, recipient, m.commitments);
  const std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
  SecretBytes plain;
  unsigned long long len = 0;
  const auto& c = m.encrypted_shares[recipient - 1];
  const int rc =
      crypto_aead_xchacha20poly1305_ietf_decrypt(plain.b.data(), &len, nullptr, c.data(), c.size(),
                                                 ad.data(), ad.size(), nonce.data(), key.b.data());
  declassify(rc);  // whether the ciphertext authenticates: public (the recipient complains)
  if (rc != 0) return Status::invalid_proof(who + " does not decrypt");
  auto share = Scalar::decode(plain.b);  // declassifies only acceptance
  if (!share.is_ok()) return Status::invalid_proof(who + " is not a canonical scalar");
  if (!feldman_verify(m.commitments, recipient, *share)) {
    return Status::invalid_proof(who + " fails Feldman's check");
  }
  return share;
}

std::vector<Complaint> DkgSession::complaints_for(std::uint32_t recipient,
                                                  const X25519SecretKey& sk) const {
  std::vector<Complaint> out;
  for (std::uint32_t i = 1; i <= params_.n(); ++i) {
    if (!dealers_[i - 1].dealing) continue;
    if (!open_share(i, recipient, sk).is_ok()) out.push_back(Complaint{i, recipient});
  }
  return out;
}

Result<Scalar> DkgSession::secret_share(std::uint32_t recipient, const X25519SecretKey& sk) const {
  if (!outcome_) return Status::failed_precondition("DKG: secret share before finalize");
  PFEX_RETURN_IF_ERROR(check_index(params_, recipient, "recipient"));
  Scalar s;
  for (std::uint32_t i : outcome_->qualified) {
    const DealerState& d = dealers_[i - 1];
    const auto it = std::find(d.complainers.begin(), d.complainers.end(), recipient);
    if (it != d.complainers.end()) {
      s += *d.justified[static_cast<std::size_t>(it - d.complainers.begin())];
      continue;
    }
    auto share = open_share(i, recipient, sk);
    if (!share.is_ok()) {
      return share.status().with_context("validator " + std::to_string(recipient) +
                                         " did not complain in time");
    }
    s += *share;
  }
  const bool ok = Point::mul_base(s) == outcome_->verification_key(recipient);
  declassify(ok);  // a consistency check of public data's preimage; failing is a bug or bad key
  if (!ok) return Status::invalid_proof("DKG: the combined share does not match Y_j");
  return s;
}

}  // namespace pfex::crypto
