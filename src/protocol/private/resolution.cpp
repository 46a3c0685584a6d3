// The resolution of a margin round by threshold decryption; see resolution.hpp.
#include "protocol/private/resolution.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "core/checked.hpp"

namespace pfex::priv {
namespace {

constexpr std::uint32_t kMaxStatePending = 1U << 20;
constexpr std::uint32_t kMaxStateRecorded = 1U << 26;

Bytes signed_bytes(const Digest32& session_id, ByteSpan entry_without_signature) {
  Bytes out;
  Writer w(&out);
  w.string(kShareEntryDomain);
  w.fixed(session_id);
  w.fixed(entry_without_signature);
  return out;
}

void put_unsigned(Writer& w, const ShareEntry& e) {
  w.u8(kShareEntryVersion);
  w.u64(e.epoch);
  w.u16(static_cast<std::uint16_t>(e.validator));
  for (const crypto::DecryptionShare& s : e.shares)
    s.encode(w);
}

std::string round_name(std::uint64_t epoch) {
  return "the round of epoch " + std::to_string(epoch);
}

crypto::Point read_point(Reader& r, std::string_view what) {
  crypto::Point::Encoding enc{};
  r.fixed(what, enc);
  if (r.failed()) return crypto::Point::identity();
  Result<crypto::Point> p = crypto::Point::decode(enc);
  if (!p) {
    r.fail(Status::corruption(std::string(what) + ": not a canonical point"));
    return crypto::Point::identity();
  }
  return *p;
}

void put_ciphertext(Writer& w, const crypto::Ciphertext& ct) {
  w.fixed(ct.R.encode());
  w.fixed(ct.E.encode());
}

crypto::Ciphertext read_ciphertext(Reader& r) {
  crypto::Ciphertext ct;
  ct.R = read_point(r, "round sum R");
  ct.E = read_point(r, "round sum E");
  return ct;
}

}  // namespace

std::string_view round_sum_name(RoundSum which) {
  switch (which) {
    case RoundSum::kPosition:
      return "position";
    case RoundSum::kEquity:
      return "equity";
    case RoundSum::kGross:
      return "gross";
  }
  return "?";
}

const crypto::DiscreteLogTable& discrete_log_table() {
  static const crypto::DiscreteLogTable table;
  return table;
}

// ---- entries ------------------------------------------------------------------------------------

Bytes ShareEntry::encode() const {
  Bytes out;
  Writer w(&out);
  put_unsigned(w, *this);
  w.fixed(signature);
  return out;
}

Result<ShareEntry> ShareEntry::decode(ByteSpan bytes) {
  if (bytes.size() != kBytes) {
    return Status::invalid_argument("decryption-share entry of " + std::to_string(bytes.size()) +
                                    " bytes; it has " + std::to_string(kBytes));
  }
  Reader r(bytes);
  r.u8_in("decryption-share entry version", kShareEntryVersion, kShareEntryVersion);
  ShareEntry e;
  e.epoch = r.u64("epoch");
  e.validator = r.u16("validator");
  PFEX_RETURN_IF_ERROR(r.status());
  for (std::size_t k = 0; k < kRoundSums; ++k) {
    PFEX_ASSIGN_OR_RETURN(e.shares[k], crypto::DecryptionShare::decode(r));
    if (e.shares[k].index != e.validator) {
      return Status::invalid_argument(
          "the " + std::string(round_sum_name(static_cast<RoundSum>(k))) + " share's index " +
          std::to_string(e.shares[k].index) + " is not the entry's validator " +
          std::to_string(e.validator));
    }
  }
  r.fixed("signature", e.signature);
  PFEX_RETURN_IF_ERROR(r.finish());
  return e;
}

crypto::Transcript share_transcript(const Digest32& session_id, std::uint64_t epoch,
                                    RoundSum which) {
  crypto::Transcript t(kShareTranscriptDomain);
  t.append_message("session", session_id);
  t.append_u64("epoch", epoch);
  t.append_u64("sum", static_cast<std::uint64_t>(which));
  return t;
}

Result<Bytes> build_share_entry(const crypto::Ed25519SigningKey& identity,
                                const Digest32& session_id, std::uint32_t validator,
                                const crypto::Scalar& secret_share, const RoundToResolve& round) {
  ShareEntry e;
  e.epoch = round.epoch;
  e.validator = validator;
  for (std::size_t k = 0; k < kRoundSums; ++k) {
    crypto::Transcript t = share_transcript(session_id, round.epoch, static_cast<RoundSum>(k));
    PFEX_ASSIGN_OR_RETURN(
        e.shares[k], crypto::create_decryption_share(validator, secret_share, round.sums[k], t));
  }
  Bytes out;
  Writer w(&out);
  put_unsigned(w, e);
  const crypto::Ed25519Signature sig = identity.sign(signed_bytes(session_id, out));
  w.fixed(sig);
  return out;
}

// ---- the rounds ---------------------------------------------------------------------------------

Status Resolutions::open(const RoundToResolve& round) {
  if (pending_.count(round.epoch) != 0 || recorded_.count(round.epoch) != 0) {
    return Status::already_exists(round_name(round.epoch) + " is already being resolved");
  }
  pending_[round.epoch] = Pending{round, {}, std::nullopt};
  return Status::ok();
}

const RoundToResolve* Resolutions::pending(std::uint64_t epoch) const {
  auto it = pending_.find(epoch);
  return it == pending_.end() ? nullptr : &it->second.round;
}

std::vector<std::uint32_t> Resolutions::shares_from(std::uint64_t epoch) const {
  std::vector<std::uint32_t> out;
  if (auto it = pending_.find(epoch); it != pending_.end()) {
    for (const auto& [j, s] : it->second.shares)
      out.push_back(j);
  }
  return out;
}

Resolution Resolutions::resolve(const RoundToResolve& r,
                                const std::array<std::int64_t, kRoundSums>& v, LedgerTime at) {
  Resolution out;
  out.epoch = r.epoch;
  // v_D = -sum_S v_i - v_fund; c_D = E_D - P*k*v_D. Every term is bounded (positions by 2^40,
  // P*k below 2^40, E_D by 2^46), so the products fit in 128 bits; the results are saturated
  // only for states no bounded market reaches.
  const i128 position = -i128{v[0]} - i128{r.fund_position};
  const i128 cash = i128{v[1]} - i128{r.reference} * r.tick_value * position;
  auto clamp = [](i128 x) {
    return static_cast<std::int64_t>(std::clamp(x, i128{INT64_MIN}, i128{INT64_MAX}));
  };
  out.position = clamp(position);
  out.cash = clamp(cash);
  out.gross = static_cast<std::uint64_t>(std::max<std::int64_t>(0, v[2]));
  out.equity = v[1];
  out.at = at;
  return out;
}

Result<std::optional<Resolution>> Resolutions::apply(ByteSpan bytes, LedgerTime now,
                                                     const DkgKey& key, const DkgGenesis& genesis,
                                                     const Digest32& session_id,
                                                     const TakeResolution& take) {
  PFEX_ASSIGN_OR_RETURN(const ShareEntry e, ShareEntry::decode(bytes));
  const std::size_t n = genesis.validators.size();
  if (e.validator < 1 || e.validator > n) {
    return Status::invalid_argument("foreign decryption shares: validator " +
                                    std::to_string(e.validator) + " is not one of the " +
                                    std::to_string(n) + " validators");
  }
  const ByteSpan unsigned_part = bytes.first(bytes.size() - crypto::kEd25519SignatureBytes);
  if (!crypto::verify_signature_var(genesis.validators[e.validator - 1].identity,
                                    signed_bytes(session_id, unsigned_part), e.signature)) {
    return Status::invalid_proof("decryption shares not signed by validator " +
                                 std::to_string(e.validator));
  }
  if (recorded_.count(e.epoch) != 0) {
    return Status::failed_precondition("late decryption shares: " + round_name(e.epoch) +
                                       " is already resolved");
  }
  auto it = pending_.find(e.epoch);
  if (it == pending_.end()) {
    return Status::not_found("no round of epoch " + std::to_string(e.epoch) +
                             " awaits decryption shares");
  }
  Pending& p = it->second;
  if (p.shares.count(e.validator) != 0) {
    return Status::already_exists("validator " + std::to_string(e.validator) +
                                  " already gave its decryption shares for " + round_name(e.epoch));
  }
  if (p.values) {
    return Status::failed_precondition("late decryption shares: " + round_name(e.epoch) +
                                       " already has its " + std::to_string(genesis.threshold) +
                                       " shares");
  }
  const crypto::Point& y_j = key.verification_keys[e.validator - 1];
  for (std::size_t k = 0; k < kRoundSums; ++k) {
    crypto::Transcript t = share_transcript(session_id, e.epoch, static_cast<RoundSum>(k));
    if (!crypto::verify_decryption_share(e.shares[k], y_j, p.round.sums[k], t).is_ok()) {
      return Status::invalid_proof(
          "validator " + std::to_string(e.validator) + "'s " +
          std::string(round_sum_name(static_cast<RoundSum>(k))) +
          " decryption share: bad DLEQ proof (not s_j*R for its verification key)");
    }
  }
  std::optional<std::array<std::int64_t, kRoundSums>> solved;
  if (p.shares.size() + 1 == genesis.threshold) {
    // The t-th: combine, then solve each sum within its bound.
    std::array<std::int64_t, kRoundSums> values{};
    for (std::size_t k = 0; k < kRoundSums; ++k) {
      std::vector<crypto::DecryptionShare> use;
      for (const auto& [j, s] : p.shares)
        use.push_back(s[k]);
      use.push_back(e.shares[k]);
      PFEX_ASSIGN_OR_RETURN(const crypto::Point m, crypto::combine_decryption_shares_var(
                                                       use, genesis.threshold, p.round.sums[k]));
      const std::uint64_t bound =
          static_cast<RoundSum>(k) == RoundSum::kEquity ? kEquityBound : kPositionSumBound;
      Result<std::int64_t> v = discrete_log_table().solve_var(m, bound);
      if (!v) {
        return Status::overflow("the " + std::string(round_sum_name(static_cast<RoundSum>(k))) +
                                " sum of " + round_name(e.epoch) + " is outside [-" +
                                std::to_string(bound) + ", " + std::to_string(bound) +
                                "]: the round cannot be resolved");
      }
      values[k] = *v;
    }
    solved = values;
  }
  if (solved && p.round.deadline <= now) {
    // Recorded now, once the taker accepted it (refused: nothing here changes).
    const Resolution r = resolve(p.round, *solved, now);
    if (take) PFEX_RETURN_IF_ERROR(take(r));
    recorded_[e.epoch] = r;
    pending_.erase(it);
    return std::optional<Resolution>(r);
  }
  p.shares[e.validator] = e.shares;
  if (solved) p.values = solved;
  return std::optional<Resolution>();
}

Result<std::vector<Resolution>> Resolutions::advance(LedgerTime now, const TakeResolution& take) {
  std::vector<Resolution> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.values && it->second.round.deadline <= now) {
      // Recorded at the deadline itself: the time the liquidation starts.
      const Resolution r = resolve(it->second.round, *it->second.values, it->second.round.deadline);
      if (take) PFEX_RETURN_IF_ERROR(take(r));
      recorded_[r.epoch] = r;
      out.push_back(r);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

// ---- state --------------------------------------------------------------------------------------

void Resolutions::encode(Writer& w) const {
  w.u32(static_cast<std::uint32_t>(pending_.size()));
  for (const auto& [epoch, p] : pending_) {
    w.u64(epoch);
    w.i64(p.round.deadline.value());
    for (const crypto::Ciphertext& ct : p.round.sums)
      put_ciphertext(w, ct);
    w.i64(p.round.reference);
    w.i64(p.round.tick_value);
    w.i64(p.round.fund_position);
    w.u16(static_cast<std::uint16_t>(p.shares.size()));
    for (const auto& [j, shares] : p.shares) {
      w.u16(static_cast<std::uint16_t>(j));
      for (const crypto::DecryptionShare& s : shares)
        s.encode(w);
    }
    w.boolean(p.values.has_value());
    if (p.values) {
      for (std::int64_t v : *p.values)
        w.i64(v);
    }
  }
  w.u32(static_cast<std::uint32_t>(recorded_.size()));
  for (const auto& [epoch, r] : recorded_) {
    w.u64(epoch);
    w.i64(r.position);
    w.i64(r.cash);
    w.u64(r.gross);
    w.i64(r.equity);
    w.i64(r.at.value());
  }
}

Result<Resolutions> Resolutions::decode(Reader& r) {
  Resolutions out;
  const std::uint32_t pending = r.u32("rounds to resolve");
  if (pending > kMaxStatePending) r.fail(Status::corruption("too many rounds to resolve"));
  for (std::uint32_t i = 0; i < pending && !r.failed(); ++i) {
    Pending p;
    p.round.epoch = r.u64("round epoch");
    if (!out.pending_.empty() && out.pending_.rbegin()->first >= p.round.epoch)
      r.fail(Status::corruption("rounds to resolve out of order"));
    p.round.deadline = LedgerTime(r.i64("resolution deadline"));
    for (crypto::Ciphertext& ct : p.round.sums)
      ct = read_ciphertext(r);
    p.round.reference = r.i64_in("round reference", 1, INT64_MAX);
    p.round.tick_value = r.i64_in("round tick value", 1, INT64_MAX);
    p.round.fund_position = r.i64("round fund position");
    const std::uint32_t shares = r.u16("round shares");
    for (std::uint32_t s = 0; s < shares && !r.failed(); ++s) {
      const std::uint32_t j = r.u16("share validator");
      if (!p.shares.empty() && p.shares.rbegin()->first >= j)
        r.fail(Status::corruption("shares out of order"));
      std::array<crypto::DecryptionShare, kRoundSums> set;
      for (crypto::DecryptionShare& share : set) {
        if (r.failed()) break;
        Result<crypto::DecryptionShare> d = crypto::DecryptionShare::decode(r);
        if (!d) {
          r.fail(Status::corruption("decryption share: " + d.status().to_string()));
          break;
        }
        if (d->index != j) r.fail(Status::corruption("a share of another validator"));
        share = *d;
      }
      p.shares[j] = set;
    }
    if (r.boolean("round decrypted")) {
      std::array<std::int64_t, kRoundSums> v{};
      for (std::int64_t& x : v)
        x = r.i64("decrypted sum");
      p.values = v;
    }
    out.pending_[p.round.epoch] = std::move(p);
  }
  const std::uint32_t recorded = r.u32("resolutions");
  if (recorded > kMaxStateRecorded) r.fail(Status::corruption("too many resolutions"));
  for (std::uint32_t i = 0; i < recorded && !r.failed(); ++i) {
    Resolution res;
    res.epoch = r.u64("resolution epoch");
    if (!out.recorded_.empty() && out.recorded_.rbegin()->first >= res.epoch)
      r.fail(Status::corruption("resolutions out of order"));
    res.position = r.i64("resolved position");
    res.cash = r.i64("resolved cash");
    res.gross = r.u64("resolved gross");
    res.equity = r.i64("resolved equity");
    res.at = LedgerTime(r.i64("resolved at"));
    if (out.pending_.count(res.epoch) != 0)
      r.fail(Status::corruption("a round both pending and resolved"));
    out.recorded_[res.epoch] = res;
  }
  PFEX_RETURN_IF_ERROR(r.status());
  return out;
}

}  // namespace pfex::priv
