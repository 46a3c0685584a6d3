// The ledger entry envelope; see transaction.hpp and docs/protocol/transactions.md.
#include "protocol/transaction.hpp"

#include <algorithm>
#include <utility>

#include "crypto/ed25519.hpp"
#include "market/band.hpp"

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

void put_genesis_fields(Writer& w, const Genesis& g) {
  market::encode_contract(w, g.contract);
  w.i64(g.reference.value());
  w.fixed(g.issuer);
}

Result<Entry> decode_genesis(Reader& r, bool is_private) {
  Genesis g;
  if (is_private) {
    r.u8_in("private genesis version", kPrivateGenesisVersion, kPrivateGenesisVersion);
  }
  g.contract = market::decode_contract(r);
  g.reference = Price(r.i64_in("reference price", 1, INT64_MAX));
  r.fixed("issuer key", g.issuer);
  if (is_private) {
    PrivateGenesisTerms t;
    t.log_window = r.u8_in("log window", 1, 16);
    crypto::Point::Encoding key{};
    r.fixed("validators' key", key);
    if (r.boolean("has key generation")) {
      Result<priv::DkgGenesis> dkg = priv::DkgGenesis::decode(r);
      if (!dkg) return dkg.status().with_context("key generation");
      g.key_generation = std::move(dkg).value();
    }
    PFEX_RETURN_IF_ERROR(r.finish());
    Result<crypto::Point> point = crypto::Point::decode(key);
    if (!point) return point.status().with_context("validators' key");
    if (point->is_identity()) return Status::invalid_argument("validators' key is the identity");
    t.validators_key = *point;
    g.private_terms = t;
  }
  PFEX_RETURN_IF_ERROR(r.finish());
  PFEX_RETURN_IF_ERROR(g.contract.validate().with_context("genesis contract"));
  return Entry{std::move(g)};
}

}  // namespace

std::string_view mode_name(Mode mode) {
  return mode == Mode::kPrivate ? "private" : "transparent";
}

Result<priv::MarketTerms> private_terms_of(const Genesis& genesis, ByteSpan genesis_entry) {
  if (!genesis.private_terms) {
    return Status::invalid_argument("a transparent genesis has no private terms");
  }
  PFEX_ASSIGN_OR_RETURN(market::Band band, market::make_band(genesis.contract, genesis.reference,
                                                             genesis.contract.band_ppm));
  priv::MarketTerms t;
  t.market_id = market_id_of(genesis_entry);
  t.epoch = 0;  // as the transparent exchange numbers its epochs
  t.log_window = genesis.private_terms->log_window;
  t.tick_value = genesis.contract.tick_value.value();
  t.fee = genesis.contract.fee_per_contract.value();
  t.low = band.low.value();
  t.high = band.high.value();
  t.margin = band.margin.value();
  t.max_order_qty = genesis.contract.max_order_qty.value();
  t.bond = genesis.contract.bond.value();
  t.exit_penalty = genesis.contract.liquidation_penalty_per_contract.value();
  t.validators_key = genesis.private_terms->validators_key;
  std::copy(genesis.issuer.begin(), genesis.issuer.end(), t.issuer.begin());
  PFEX_RETURN_IF_ERROR(t.validate().with_context("private market terms"));
  return t;
}

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
    if (!g->private_terms) {
      put_header(w, EntryType::kGenesis);  // today's bytes: a transparent genesis is unchanged
      put_genesis_fields(w, *g);
    } else {
      put_header(w, EntryType::kPrivateGenesis);
      w.u8(kPrivateGenesisVersion);
      put_genesis_fields(w, *g);
      w.u8(g->private_terms->log_window);
      w.fixed(g->private_terms->validators_key.encode());
      w.boolean(g->key_generation.has_value());
      if (g->key_generation) g->key_generation->encode(w);
    }
  } else if (const auto* p = std::get_if<PrivateEntry>(&entry)) {
    put_header(w, EntryType::kPrivate);
    w.fixed(priv::encode(p->tx));
  } else if (const auto* d = std::get_if<DkgMessage>(&entry)) {
    put_header(w, EntryType::kDkg);
    w.fixed(d->bytes);
  } else if (const auto* sh = std::get_if<DecryptionShares>(&entry)) {
    put_header(w, EntryType::kShares);
    w.fixed(sh->bytes);
  } else {
    const auto& tx = std::get<TransparentTx>(entry);
    put_transparent_unsigned(w, tx.market, tx.signer, tx.sequence, encode_action(tx.action));
    w.fixed(tx.signature);
  }
  return out;
}

Result<Entry> decode_entry(ByteSpan bytes, const MarketContext& market) {
  if (bytes.size() > kMaxTransactionBytes) {
    return Status::invalid_argument("entry of " + std::to_string(bytes.size()) +
                                    " bytes is over the limit of " +
                                    std::to_string(kMaxTransactionBytes));
  }
  Reader r(bytes);
  r.u8_in("envelope version", kEnvelopeVersion, kEnvelopeVersion);
  const auto type = static_cast<EntryType>(r.u8_in("entry type", 0, kMaxEntryType));
  if (r.failed()) return r.status();
  if (type == EntryType::kGenesis || type == EntryType::kPrivateGenesis) {
    return decode_genesis(r, type == EntryType::kPrivateGenesis);
  }
  if (type == EntryType::kPrivate) {
    if (!market.mode)
      return Status::failed_precondition("a private transaction before any genesis");
    if (*market.mode != Mode::kPrivate) {
      return Status::failed_precondition("a private transaction in a transparent market");
    }
    Result<priv::PrivateTx> tx = priv::decode(bytes.subspan(2), market.log_window);
    if (!tx) return tx.status().with_context("private transaction");
    return Entry{PrivateEntry{std::move(tx).value()}};
  }
  if (type == EntryType::kDkg) {
    if (!market.mode)
      return Status::failed_precondition("a key-generation entry before any genesis");
    if (*market.mode != Mode::kPrivate) {
      return Status::failed_precondition("a key-generation entry in a transparent market");
    }
    const ByteSpan body = bytes.subspan(2);
    PFEX_RETURN_IF_ERROR(
        priv::DkgEntry::decode(body).status().with_context("key-generation entry"));
    return Entry{DkgMessage{Bytes(body.begin(), body.end())}};
  }
  if (type == EntryType::kShares) {
    if (!market.mode)
      return Status::failed_precondition("a decryption-share entry before any genesis");
    if (*market.mode != Mode::kPrivate) {
      return Status::failed_precondition("a decryption-share entry in a transparent market");
    }
    const ByteSpan body = bytes.subspan(2);
    PFEX_RETURN_IF_ERROR(
        priv::ShareEntry::decode(body).status().with_context("decryption-share entry"));
    return Entry{DecryptionShares{Bytes(body.begin(), body.end())}};
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
