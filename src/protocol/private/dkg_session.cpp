// The validators' key generation through the log; see dkg_session.hpp.
#include "protocol/private/dkg_session.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "core/checked.hpp"

namespace pfex::priv {
namespace {

constexpr std::uint32_t kMaxStateEntries =
    3 * crypto::kMaxDkgValidators * crypto::kMaxDkgValidators;
constexpr std::uint32_t kMaxEntryBytes = 1 + 1 + 2 + 4 + kMaxDkgBodyBytes + 64;

std::string_view kind_name(DkgEntryKind kind) {
  switch (kind) {
    case DkgEntryKind::kDealing:
      return "dealing";
    case DkgEntryKind::kComplaint:
      return "complaint";
    case DkgEntryKind::kJustification:
      return "justification";
  }
  return "?";
}

Digest32 session_id_of(const Digest32& market_id, const DkgGenesis& genesis) {
  Hasher h(kDkgSessionDomain);
  h.update(market_id);
  h.update(genesis.encode());
  return h.finish();
}

Bytes signed_bytes(const Digest32& session_id, ByteSpan entry_without_signature) {
  Bytes out;
  Writer w(&out);
  w.string(kDkgEntryDomain);
  w.fixed(session_id);
  w.fixed(entry_without_signature);
  return out;
}

Digest32 chain(const Digest32& previous, ByteSpan data) {
  Hasher h(kDkgTranscriptDomain);
  h.update(previous);
  h.update(data);
  return h.finish();
}

std::vector<crypto::X25519PublicKey> share_keys(const DkgGenesis& g) {
  std::vector<crypto::X25519PublicKey> keys;
  keys.reserve(g.validators.size());
  for (const DkgValidator& v : g.validators)
    keys.push_back(v.share_key);
  return keys;
}

}  // namespace

// ---- genesis ------------------------------------------------------------------------------------

void DkgGenesis::encode(Writer& w) const {
  w.u8(kDkgGenesisVersion);
  w.u16(static_cast<std::uint16_t>(threshold));
  w.u16(static_cast<std::uint16_t>(validators.size()));
  for (const DkgValidator& v : validators) {
    w.fixed(v.identity);
    w.fixed(v.share_key);
  }
  w.i64(dealing_ms);
  w.i64(complaint_ms);
  w.i64(justification_ms);
}

Bytes DkgGenesis::encode() const {
  return encode_to_bytes(*this);
}

Result<DkgGenesis> DkgGenesis::decode(Reader& r) {
  r.u8_in("DKG genesis version", kDkgGenesisVersion, kDkgGenesisVersion);
  DkgGenesis g;
  g.threshold = r.u16("DKG threshold");
  const std::uint32_t n = r.u16("DKG validators");
  if (r.failed()) return r.status();
  if (n < 1 || n > crypto::kMaxDkgValidators) {
    return Status::invalid_argument("DKG genesis: " + std::to_string(n) +
                                    " validators, outside [1, " +
                                    std::to_string(crypto::kMaxDkgValidators) + "]");
  }
  g.validators.resize(n);
  for (DkgValidator& v : g.validators) {
    r.fixed("validator identity key", v.identity);
    r.fixed("validator share key", v.share_key);
  }
  g.dealing_ms = r.i64_in("dealing round", 1, kMaxDkgRoundMs);
  g.complaint_ms = r.i64_in("complaint round", 1, kMaxDkgRoundMs);
  g.justification_ms = r.i64_in("justification round", 1, kMaxDkgRoundMs);
  if (r.failed()) return r.status();
  PFEX_RETURN_IF_ERROR(g.validate());
  return g;
}

Status DkgGenesis::validate() const {
  const std::size_t n = validators.size();
  if (n < 1 || n > crypto::kMaxDkgValidators) {
    return Status::invalid_argument("DKG genesis: " + std::to_string(n) +
                                    " validators, outside [1, " +
                                    std::to_string(crypto::kMaxDkgValidators) + "]");
  }
  for (const auto& [ms, what] : {std::pair{dealing_ms, "dealing"},
                                 {complaint_ms, "complaint"},
                                 {justification_ms, "justification"}}) {
    if (ms < 1 || ms > kMaxDkgRoundMs) {
      return Status::invalid_argument("DKG genesis: the " + std::string(what) + " round of " +
                                      std::to_string(ms) + " ms is outside [1, " +
                                      std::to_string(kMaxDkgRoundMs) + "]");
    }
  }
  std::set<crypto::Ed25519PublicKey> identities;
  std::set<crypto::X25519PublicKey> shares;
  for (std::size_t j = 0; j < n; ++j) {
    if (!identities.insert(validators[j].identity).second) {
      return Status::invalid_argument("DKG genesis: validator " + std::to_string(j + 1) +
                                      " repeats an identity key");
    }
    if (!shares.insert(validators[j].share_key).second) {
      return Status::invalid_argument("DKG genesis: validator " + std::to_string(j + 1) +
                                      " repeats a share key");
    }
  }
  // t against n (2t - 1 <= n) and low-order share keys: the DKG's own checks.
  static constexpr std::array<std::uint8_t, 1> kProbe = {0};
  Result<crypto::DkgParams> params = crypto::DkgParams::create(
      static_cast<std::uint32_t>(n), threshold, kProbe, share_keys(*this));
  if (!params) return params.status().with_context("DKG genesis");
  return Status::ok();
}

// ---- entries ------------------------------------------------------------------------------------

Result<DkgEntry> DkgEntry::decode(ByteSpan bytes) {
  if (bytes.size() > kMaxEntryBytes) {
    return Status::invalid_argument("DKG entry of " + std::to_string(bytes.size()) +
                                    " bytes is over the limit of " +
                                    std::to_string(kMaxEntryBytes));
  }
  Reader r(bytes);
  r.u8_in("DKG entry version", kDkgEntryVersion, kDkgEntryVersion);
  DkgEntry e;
  e.kind = static_cast<DkgEntryKind>(r.u8_in("DKG entry kind", 0, kMaxDkgEntryKind));
  e.validator = r.u16("validator");
  e.body = r.var_bytes("body", kMaxDkgBodyBytes);
  r.fixed("signature", e.signature);
  PFEX_RETURN_IF_ERROR(r.finish());
  return e;
}

namespace {

void put_unsigned(Writer& w, DkgEntryKind kind, std::uint32_t validator, ByteSpan body) {
  w.u8(kDkgEntryVersion);
  w.u8(static_cast<std::uint8_t>(kind));
  w.u16(static_cast<std::uint16_t>(validator));
  w.var_bytes(body);
}

}  // namespace

Bytes DkgEntry::encode() const {
  Bytes out;
  Writer w(&out);
  put_unsigned(w, kind, validator, body);
  w.fixed(signature);
  return out;
}

Bytes sign_dkg_entry(const crypto::Ed25519SigningKey& key, const Digest32& session_id,
                     DkgEntryKind kind, std::uint32_t validator, ByteSpan body) {
  Bytes out;
  Writer w(&out);
  put_unsigned(w, kind, validator, body);
  const crypto::Ed25519Signature sig = key.sign(signed_bytes(session_id, out));
  w.fixed(sig);
  return out;
}

// ---- the session --------------------------------------------------------------------------------

DkgSession::DkgSession(const Digest32& market_id, DkgGenesis genesis, LedgerTime start,
                       crypto::DkgParams params, std::vector<LedgerTime> deadlines)
    : market_id_(market_id),
      genesis_(std::move(genesis)),
      start_(start),
      deadlines_(std::move(deadlines)),
      crypto_(std::move(params)),
      now_(start) {
  std::copy(crypto_.params().session_id().begin(), crypto_.params().session_id().end(),
            session_id_.begin());
  Hasher h(kDkgTranscriptDomain);
  h.update(session_id_);
  transcript_ = h.finish();
}

Result<DkgSession> DkgSession::open(const Digest32& market_id, const DkgGenesis& genesis,
                                    LedgerTime start) {
  PFEX_RETURN_IF_ERROR(genesis.validate());
  std::vector<LedgerTime> deadlines;
  std::int64_t t = start.value();
  for (std::int64_t ms : {genesis.dealing_ms, genesis.complaint_ms, genesis.justification_ms}) {
    PFEX_ASSIGN_OR_RETURN(t, checked_add(t, ms, "DKG deadline"));
    deadlines.emplace_back(t);
  }
  const Digest32 sid = session_id_of(market_id, genesis);
  PFEX_ASSIGN_OR_RETURN(
      crypto::DkgParams params,
      crypto::DkgParams::create(static_cast<std::uint32_t>(genesis.validators.size()),
                                genesis.threshold, sid, share_keys(genesis)));
  return DkgSession(market_id, genesis, start, std::move(params), std::move(deadlines));
}

LedgerTime DkgSession::deadline() const {
  const auto round = std::min<std::size_t>(static_cast<std::size_t>(phase_), 2);
  return deadlines_[round];
}

void DkgSession::advance(LedgerTime now) {
  if (now <= now_) return;
  now_ = now;
  if (phase_ == Phase::kDealing && now_ >= deadlines_[0]) {
    crypto_.close_dealings();
    phase_ = Phase::kComplaints;
  }
  if (phase_ == Phase::kComplaints && now_ >= deadlines_[1]) {
    crypto_.close_complaints();
    phase_ = Phase::kJustifications;
  }
  if (phase_ == Phase::kJustifications && now_ >= deadlines_[2]) finalize();
}

void DkgSession::finalize() {
  Result<crypto::DkgOutcome> out = crypto_.finalize();
  if (!out) {
    phase_ = Phase::kFailed;
    failure_ = std::string(out.status().message());
    return;
  }
  Bytes outcome;
  Writer w(&outcome);
  w.u16(static_cast<std::uint16_t>(out->qualified.size()));
  for (std::uint32_t i : out->qualified)
    w.u16(static_cast<std::uint16_t>(i));
  w.fixed(out->public_key.encode());
  for (const crypto::Point& y : out->verification_keys)
    w.fixed(y.encode());
  transcript_ = chain(transcript_, outcome);
  key_ = DkgKey{out->qualified, out->public_key, out->verification_keys, transcript_};
  phase_ = Phase::kDone;
}

Status DkgSession::apply(ByteSpan entry, LedgerTime now) {
  advance(now);
  PFEX_ASSIGN_OR_RETURN(const DkgEntry e, DkgEntry::decode(entry));
  return accept(e, entry);
}

Status DkgSession::accept(const DkgEntry& e, ByteSpan bytes) {
  const std::string what =
      "DKG " + std::string(kind_name(e.kind)) + " from validator " + std::to_string(e.validator);
  const std::uint32_t n = params().n();
  if (e.validator < 1 || e.validator > n) {
    return Status::invalid_argument(what + ": no such validator (1.." + std::to_string(n) + ")");
  }
  // Cheap checks before the signature: the round.
  const auto round = static_cast<Phase>(e.kind);
  if (phase_ != round) {
    return Status::failed_precondition(
        what + ": the " + std::string(kind_name(e.kind)) + " round is " +
        (static_cast<std::uint8_t>(phase_) < static_cast<std::uint8_t>(round) ? "not open yet"
                                                                              : "closed"));
  }
  const Bytes message =
      signed_bytes(session_id_, bytes.first(bytes.size() - crypto::kEd25519SignatureBytes));
  if (!crypto::verify_signature_var(genesis_.validators[e.validator - 1].identity, message,
                                    e.signature)) {
    return Status::invalid_proof(what + ": bad signature");
  }
  switch (e.kind) {
    case DkgEntryKind::kDealing: {
      Result<crypto::DealerMessage> m = crypto::DealerMessage::decode(e.body, params());
      if (!m) return m.status().with_context(what);
      if (m->dealer != e.validator) {
        return Status::invalid_argument(what + ": deals as validator " + std::to_string(m->dealer));
      }
      PFEX_RETURN_IF_ERROR(crypto_.add_dealing(*m).with_context(what));
      break;
    }
    case DkgEntryKind::kComplaint: {
      Result<crypto::Complaint> c = crypto::Complaint::decode(e.body, params());
      if (!c) return c.status().with_context(what);
      if (c->complainer != e.validator) {
        return Status::invalid_argument(what + ": complains as validator " +
                                        std::to_string(c->complainer));
      }
      PFEX_RETURN_IF_ERROR(crypto_.add_complaint(*c).with_context(what));
      break;
    }
    case DkgEntryKind::kJustification: {
      Result<crypto::Justification> j = crypto::Justification::decode(e.body, params());
      if (!j) return j.status().with_context(what);
      if (j->dealer != e.validator) {
        return Status::invalid_argument(what + ": justifies as validator " +
                                        std::to_string(j->dealer));
      }
      PFEX_RETURN_IF_ERROR(crypto_.add_justification(*j).with_context(what));
      break;
    }
  }
  entries_.emplace_back(bytes.begin(), bytes.end());
  transcript_ = chain(transcript_, bytes);
  return Status::ok();
}

// ---- state --------------------------------------------------------------------------------------

Bytes DkgSession::encode_state() const {
  Bytes out;
  Writer w(&out);
  w.u8(kDkgStateVersion);
  w.fixed(market_id_);
  w.i64(start_.value());
  genesis_.encode(w);
  w.i64(now_.value());
  w.u32(static_cast<std::uint32_t>(entries_.size()));
  for (const Bytes& e : entries_)
    w.var_bytes(e);
  return out;
}

Result<DkgSession> DkgSession::decode_state(ByteSpan bytes) {
  Reader r(bytes);
  r.u8_in("DKG state version", kDkgStateVersion, kDkgStateVersion);
  Digest32 market_id{};
  r.fixed("market id", market_id);
  const LedgerTime start(r.i64("start"));
  if (r.failed()) return r.status();
  Result<DkgGenesis> genesis = DkgGenesis::decode(r);
  if (!genesis) return Status::corruption("DKG state: " + std::string(genesis.status().message()));
  const LedgerTime now(r.i64("now"));
  const std::uint32_t count = r.u32("entries");
  if (!r.failed() && count > kMaxStateEntries) {
    return Status::corruption("DKG state: " + std::to_string(count) + " entries, over " +
                              std::to_string(kMaxStateEntries));
  }
  std::vector<Bytes> entries;
  for (std::uint32_t i = 0; i < count && !r.failed(); ++i)
    entries.push_back(r.var_bytes("entry", kMaxEntryBytes));
  PFEX_RETURN_IF_ERROR(r.finish());
  if (now < start) return Status::corruption("DKG state: its time is before its start");

  Result<DkgSession> s = open(market_id, *genesis, start);
  if (!s) return Status::corruption("DKG state: " + std::string(s.status().message()));
  // The entries were accepted in log order, each in its own round: replay each in that round.
  for (const Bytes& stored : entries) {
    Result<DkgEntry> e = DkgEntry::decode(stored);
    if (!e) return Status::corruption("DKG state: " + std::string(e.status().message()));
    while (static_cast<std::uint8_t>(s->phase_) < static_cast<std::uint8_t>(e->kind)) {
      s->advance(s->deadlines_[static_cast<std::size_t>(s->phase_)]);
    }
    if (Status st = s->accept(*e, stored); !st.is_ok()) {
      return Status::corruption("DKG state: a stored entry is refused: " +
                                std::string(st.message()));
    }
  }
  if (s->now_ > now) return Status::corruption("DKG state: an entry is later than its time");
  s->advance(now);
  return s;
}

Digest32 DkgSession::state_hash() const {
  Hasher h(kDkgStateDomain);
  h.update(encode_state());
  return h.finish();
}

}  // namespace pfex::priv
