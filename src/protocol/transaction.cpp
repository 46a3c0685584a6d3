// The ledger entry envelope; see transaction.hpp and docs/protocol/transactions.md.
#include "protocol/transaction.hpp"

#include <utility>

#include "crypto/ed25519.hpp"

namespace pfex::protocol {
namespace {

void put_header(Writer& w, EntryType type) {
  w.u8(kEnvelopeVersion);
  w.u8(static_cast<std::uint8_t>(type));
}

void put_transparent_unsigned(Writer& w, const MarketId& market, const PublicKey& signer,
                              std::uint64_t sequence, ByteSpan action) {
  put_header(w, EntryType::kTransparent);
  w.fixed(market);
  w.fixed(signer);
  w.u64(sequence);
  w.var_bytes(action);
}

}  // namespace

Bytes encode_genesis(const Genesis& genesis) {
  return encode_entry(genesis);
}

MarketId market_id_of(ByteSpan genesis_entry) {
  Hasher h(kMarketIdDomain);
  h.update(genesis_entry);
  return h.finish();
}

Bytes transparent_signed_bytes(ByteSpan entry_without_signature) {
  Bytes out;
  out.reserve(4 + kTxSignDomain.size() + entry_without_signature.size());
  Writer w(&out);
  w.string(kTxSignDomain);
  w.fixed(entry_without_signature);
  return out;
}

Bytes sign_transparent(const SigningKey& key, const MarketId& market, std::uint64_t sequence,
                       const market::Action& action) {
  Bytes out;
  Writer w(&out);
  put_transparent_unsigned(w, market, key.public_key(), sequence, encode_action(action));
  const Signature sig = key.sign(transparent_signed_bytes(out));
  w.fixed(sig);
  return out;
}

Bytes encode_entry(const Entry& entry) {
  Bytes out;
  Writer w(&out);
  if (const auto* g = std::get_if<Genesis>(&entry)) {
    put_header(w, EntryType::kGenesis);
    market::encode_contract(w, g->contract);
    w.i64(g->reference.value());
    w.fixed(g->issuer);
  } else {
    const auto& tx = std::get<TransparentTx>(entry);
    put_transparent_unsigned(w, tx.market, tx.signer, tx.sequence, encode_action(tx.action));
    w.fixed(tx.signature);
  }
  return out;
}

Result<Entry> decode_entry(ByteSpan bytes) {
  if (bytes.size() > kMaxTransactionBytes) {
    return Status::invalid_argument("entry of " + std::to_string(bytes.size()) +
                                    " bytes is over the limit of " +
                                    std::to_string(kMaxTransactionBytes));
  }
  Reader r(bytes);
  r.u8_in("envelope version", kEnvelopeVersion, kEnvelopeVersion);
  const auto type = static_cast<EntryType>(r.u8_in("entry type", 0, kMaxEntryType));
  if (r.failed()) return r.status();
  if (type == EntryType::kGenesis) {
    Genesis g;
    g.contract = market::decode_contract(r);
    g.reference = Price(r.i64_in("reference price", 1, INT64_MAX));
    r.fixed("issuer key", g.issuer);
    PFEX_RETURN_IF_ERROR(r.finish());
    PFEX_RETURN_IF_ERROR(g.contract.validate().with_context("genesis contract"));
    return Entry{std::move(g)};
  }
  TransparentTx tx;
  r.fixed("market id", tx.market);
  r.fixed("signer key", tx.signer);
  tx.sequence = r.u64_in("sequence", 1, UINT64_MAX);
  const Bytes action = r.var_bytes("action", kMaxActionBytes);
  r.fixed("signature", tx.signature);
  PFEX_RETURN_IF_ERROR(r.finish());
  Result<market::Action> decoded = decode_action(action);
  if (!decoded) return decoded.status().with_context("action");
  tx.action = std::move(decoded).value();
  return Entry{tx};
}

bool verify_transparent(ByteSpan entry, const TransparentTx& tx) {
  if (entry.size() < kSignatureBytes) return false;
  const Bytes signed_bytes = transparent_signed_bytes(entry.first(entry.size() - kSignatureBytes));
  // pfex's verifier: exactly libsodium 1.0.18's acceptance rule, so validity is unchanged, and
  // faster (docs/crypto/ed25519.md).
  return crypto::ed25519_verify_var(tx.signature, signed_bytes, tx.signer);
}

}  // namespace pfex::protocol
