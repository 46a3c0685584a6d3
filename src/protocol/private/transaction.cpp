#include "protocol/private/transaction.hpp"

#include <string>

#include "crypto/proof_codec.hpp"

namespace pfex::priv {
namespace {

using crypto::LinearProof;
using crypto::LinearStatement;

constexpr std::size_t kRegisterRelations = 3, kRegisterWitnesses = 4;
constexpr std::size_t kTagRelations = 1, kTagWitnesses = 3;

void encode_order(Writer& w, const OrderFields& o) {
  w.u8(static_cast<std::uint8_t>(o.side));
  w.u8(static_cast<std::uint8_t>(o.kind));
  w.i64(o.price);
  w.i64(o.qty);
  crypto::write_point(w, o.tag);
}

OrderFields decode_order(Reader& r) {
  OrderFields o;
  o.side = static_cast<Side>(r.u8_in("side", 0, 1));
  o.kind = static_cast<OrderKind>(r.u8_in("order kind", 0, 4));
  o.price = r.i64_in("price", 1, kMaxPriceTicks);
  o.qty = r.i64_in("qty", 1, (std::int64_t{1} << 32) - 1);
  o.tag = crypto::read_point(r, "tag");
  return o;
}

void encode_entries(Writer& w, const std::vector<SettleEntry>& entries) {
  w.u8(static_cast<std::uint8_t>(entries.size()));
  for (const SettleEntry& e : entries) {
    w.u64(e.order);
    w.u64(e.fill_index);
    w.boolean(e.release);
  }
}

std::vector<SettleEntry> decode_entries(Reader& r, std::size_t min_count) {
  const std::size_t count =
      r.u8_in("settle entry count", static_cast<std::uint8_t>(min_count), kMaxSettleEntries);
  std::vector<SettleEntry> entries;
  for (std::size_t i = 0; i < count && !r.failed(); ++i) {
    SettleEntry e;
    e.order = r.u64("settle entry order");
    e.fill_index = r.u64("settle entry fill index");
    e.release = r.boolean("settle entry release");
    if (!r.failed() && !entries.empty() && e.order <= entries.back().order)
      r.fail(Status::invalid_argument("settle entries: order ids must be strictly increasing"));
    entries.push_back(e);
  }
  return entries;
}

void encode_linear(Writer& w, const LinearProof& p) {
  p.encode(w);
}

LinearProof decode_linear(Reader& r, std::size_t relations, std::size_t witnesses) {
  std::vector<Point> A(relations);
  for (Point& a : A)
    a = crypto::read_point(r, "linear proof A");
  std::vector<Scalar> z(witnesses);
  for (Scalar& s : z)
    s = crypto::read_scalar(r, "linear proof z");
  return LinearProof(std::move(A), std::move(z));
}

void encode_body_to(Writer& w, const PrivateTx& tx) {
  w.u8(kPrivateTxVersion);
  w.u8(static_cast<std::uint8_t>(tx_type(tx)));
  if (const auto* reg = std::get_if<RegisterTx>(&tx)) {
    w.fixed(reg->signer);
    w.u64(reg->sequence);
    w.i64(reg->bond);
    crypto::write_point(w, reg->token);
    crypto::write_point(w, reg->K);
    crypto::write_point(w, reg->J);
  } else if (const auto* cancel = std::get_if<CancelTx>(&tx)) {
    w.u64(cancel->order);
  } else if (const auto* transfer = std::get_if<TransferTx>(&tx)) {
    w.fixed(transfer->sender);
    w.fixed(transfer->receiver);
    w.u64(transfer->sequence);
    crypto::write_point(w, transfer->V_a);
    w.fixed(transfer->memo);
  } else if (const auto* mint = std::get_if<MintTx>(&tx)) {
    w.fixed(mint->account);
    w.i64(mint->amount);
    w.u64(mint->sequence);
  } else if (const auto* exit = std::get_if<ExitTx>(&tx)) {
    exit->exit.encode(w);
    encode_entries(w, exit->entries);
    w.fixed(exit->signer);
    w.u64(exit->sequence);
  } else {
    const auto& s = std::get<SpendTx>(tx);
    s.spend.encode(w);
    encode_entries(w, s.entries);
    switch (s.type) {
      case TxType::kPost:
        encode_order(w, *s.order);
        break;
      case TxType::kReduce:
        w.u64(s.target);
        w.u64(s.fills_seen);
        w.i64(s.reduce_by);
        break;
      case TxType::kCancelReplace:
        w.u64(s.target);
        w.u64(s.fills_seen);
        encode_order(w, *s.order);
        break;
      case TxType::kDeposit:
      case TxType::kWithdraw:
      case TxType::kRefresh:
        w.fixed(s.cash->signer);
        w.u64(s.cash->sequence);
        crypto::write_point(w, s.cash->V_a);
        s.cash->enc.encode(w);
        if (s.refresh) {
          s.refresh->enc_v.encode(w);
          s.refresh->enc_c.encode(w);
          s.refresh->enc_g.encode(w);
        }
        break;
      default:
        break;
    }
  }
}

bool moves_cash(TxType type) {
  return type == TxType::kDeposit || type == TxType::kWithdraw || type == TxType::kRefresh;
}

crypto::Ciphertext read_ciphertext(Reader& r) {
  if (r.failed()) return {};
  auto ct = crypto::Ciphertext::decode(r);
  if (!ct.is_ok()) {
    if (!r.failed()) r.fail(ct.status());
    return {};
  }
  return *ct;
}

}  // namespace

std::string_view tx_type_name(TxType type) {
  switch (type) {
    case TxType::kRegister:
      return "register";
    case TxType::kMint:
      return "mint";
    case TxType::kTransfer:
      return "transfer";
    case TxType::kDeposit:
      return "deposit";
    case TxType::kWithdraw:
      return "withdraw";
    case TxType::kPost:
      return "post";
    case TxType::kReduce:
      return "reduce";
    case TxType::kCancelReplace:
      return "cancel-replace";
    case TxType::kCancel:
      return "cancel";
    case TxType::kSettle:
      return "settle";
    case TxType::kRefresh:
      return "refresh";
    case TxType::kExit:
      return "exit";
  }
  return "unknown";
}

std::size_t SpendTx::num_tags() const {
  std::size_t n = entries.size();
  if (type == TxType::kReduce || type == TxType::kCancelReplace) ++n;
  if (type == TxType::kPost || type == TxType::kCancelReplace) ++n;
  return n;
}

TxType tx_type(const PrivateTx& tx) {
  if (std::holds_alternative<RegisterTx>(tx)) return TxType::kRegister;
  if (std::holds_alternative<CancelTx>(tx)) return TxType::kCancel;
  if (std::holds_alternative<MintTx>(tx)) return TxType::kMint;
  if (std::holds_alternative<TransferTx>(tx)) return TxType::kTransfer;
  if (std::holds_alternative<ExitTx>(tx)) return TxType::kExit;
  return std::get<SpendTx>(tx).type;
}

Bytes encode_body(const PrivateTx& tx) {
  Bytes out;
  Writer w(&out);
  encode_body_to(w, tx);
  return out;
}

Bytes encode(const PrivateTx& tx) {
  Bytes out;
  Writer w(&out);
  encode_body_to(w, tx);
  if (const auto* reg = std::get_if<RegisterTx>(&tx)) {
    encode_linear(w, reg->proof);
    w.fixed(reg->signature);
  } else if (const auto* cancel = std::get_if<CancelTx>(&tx)) {
    encode_linear(w, cancel->proof);
  } else if (const auto* transfer = std::get_if<TransferTx>(&tx)) {
    w.fixed(transfer->range->encode());
    w.fixed(transfer->signature);
  } else if (const auto* mint = std::get_if<MintTx>(&tx)) {
    w.fixed(mint->signature);
  } else if (const auto* exit = std::get_if<ExitTx>(&tx)) {
    exit->proofs->encode(w);
    w.fixed(exit->signature);
  } else {
    const auto& s = std::get<SpendTx>(tx);
    s.proofs->encode(w);
    if (s.cash) w.fixed(s.cash->signature);
  }
  return out;
}

Result<PrivateTx> decode(ByteSpan bytes, std::size_t log_window) {
  if (log_window < crypto::kOneOfManyMinLogSize || log_window > crypto::kOneOfManyMaxLogSize)
    return Status::invalid_argument("window size out of range");
  Reader r(bytes);
  (void)r.u8_in("version", kPrivateTxVersion, kPrivateTxVersion);  // the only one
  const std::uint8_t type_byte = r.u8("type");
  if (r.failed()) return r.status();
  const auto type = static_cast<TxType>(type_byte);
  switch (type) {
    case TxType::kRegister: {
      RegisterTx reg;
      r.fixed("signer", reg.signer);
      reg.sequence = r.u64_in("sequence", 1, UINT64_MAX);
      reg.bond = r.i64_in("bond", 0, INT64_MAX);
      reg.token = crypto::read_point(r, "token");
      reg.K = crypto::read_point(r, "K");
      reg.J = crypto::read_point(r, "J");
      reg.proof = decode_linear(r, kRegisterRelations, kRegisterWitnesses);
      r.fixed("signature", reg.signature);
      PFEX_RETURN_IF_ERROR(r.finish());
      return PrivateTx(std::move(reg));
    }
    case TxType::kCancel: {
      CancelTx cancel;
      cancel.order = r.u64("order");
      cancel.proof = decode_linear(r, kTagRelations, kTagWitnesses);
      PFEX_RETURN_IF_ERROR(r.finish());
      return PrivateTx(std::move(cancel));
    }
    case TxType::kTransfer: {
      TransferTx transfer;
      r.fixed("sender", transfer.sender);
      r.fixed("receiver", transfer.receiver);
      transfer.sequence = r.u64_in("sequence", 1, UINT64_MAX);
      transfer.V_a = crypto::read_point(r, "V_a");
      r.fixed("memo", transfer.memo);
      Bytes range_bytes(crypto::RangeProof::encoded_size(2));
      r.fixed("range proof", range_bytes);
      r.fixed("signature", transfer.signature);
      PFEX_RETURN_IF_ERROR(r.finish());
      auto range = crypto::RangeProof::decode(range_bytes, 2);
      if (!range.is_ok()) return range.status().with_context("range proof");
      transfer.range = std::move(*range);
      return PrivateTx(std::move(transfer));
    }
    case TxType::kMint: {
      MintTx mint;
      r.fixed("account", mint.account);
      mint.amount = r.i64_in("amount", 1, kCashSupplyCap);
      mint.sequence = r.u64_in("sequence", 1, UINT64_MAX);
      r.fixed("signature", mint.signature);
      PFEX_RETURN_IF_ERROR(r.finish());
      return PrivateTx(mint);
    }
    case TxType::kExit: {
      ExitTx exit;
      exit.exit = ExitPublic::decode(r, std::size_t{1} << log_window);
      exit.entries = decode_entries(r, 0);
      r.fixed("signer", exit.signer);
      exit.sequence = r.u64_in("sequence", 1, UINT64_MAX);
      if (r.failed()) return r.status();
      exit.proofs = ExitProofs::decode(r, log_window, exit.entries.size());
      r.fixed("signature", exit.signature);
      PFEX_RETURN_IF_ERROR(r.finish());
      return PrivateTx(std::move(exit));
    }
    case TxType::kPost:
    case TxType::kReduce:
    case TxType::kCancelReplace:
    case TxType::kDeposit:
    case TxType::kWithdraw:
    case TxType::kRefresh:
    case TxType::kSettle: {
      SpendTx s;
      s.type = type;
      s.spend = SpendPublic::decode(r, std::size_t{1} << log_window);
      s.entries = decode_entries(r, type == TxType::kSettle ? 1 : 0);
      if (type == TxType::kRefresh && !s.entries.empty())
        r.fail(Status::invalid_argument("a refresh carries no settle entries: settle first"));
      if (type == TxType::kReduce || type == TxType::kCancelReplace) {
        s.target = r.u64("order");
        s.fills_seen = r.u64("fills seen");
      }
      if (type == TxType::kReduce) s.reduce_by = r.i64_in("reduce by", 1, INT64_MAX);
      if (type == TxType::kPost || type == TxType::kCancelReplace) s.order = decode_order(r);
      if (moves_cash(type)) {
        CashFields cash;
        r.fixed("signer", cash.signer);
        cash.sequence = r.u64_in("sequence", 1, UINT64_MAX);
        cash.V_a = crypto::read_point(r, "V_a");
        cash.enc = read_ciphertext(r);
        s.cash = cash;
      }
      if (type == TxType::kRefresh) {
        RefreshFields f;
        f.enc_v = read_ciphertext(r);
        f.enc_c = read_ciphertext(r);
        f.enc_g = read_ciphertext(r);
        s.refresh = f;
      }
      if (r.failed()) return r.status();
      const bool refresh = type == TxType::kRefresh;
      s.proofs =
          SpendProofs::decode(r, log_window, s.num_tags(), moves_cash(type) && !refresh, refresh);
      if (s.cash) r.fixed("signature", s.cash->signature);
      PFEX_RETURN_IF_ERROR(r.finish());
      return PrivateTx(std::move(s));
    }
    default:
      return Status::invalid_argument("private transaction type " + std::to_string(type_byte) +
                                      " (" + std::string(tx_type_name(type)) +
                                      ") is not supported");
  }
}

crypto::Transcript tx_transcript(const MarketTerms& terms, const PrivateTx& tx) {
  crypto::Transcript t(kTxTranscriptDomain);
  t.append_domain_separator(kPrivateTxProtocol);
  t.append_message("market", terms.market_id);
  Bytes context;
  Writer w(&context);
  w.u64(terms.epoch);
  w.u64(terms.log_window);
  w.i64(terms.tick_value);
  w.i64(terms.fee);
  w.i64(terms.low);
  w.i64(terms.high);
  w.i64(terms.margin);
  w.fixed(terms.validators_key.encode());
  t.append_message("context", context);
  t.append_u64("type", static_cast<std::uint64_t>(tx_type(tx)));
  t.append_message("body", encode_body(tx));
  return t;
}

Bytes register_signed_bytes(const RegisterTx& tx) {
  Bytes out(kSignatureDomain.begin(), kSignatureDomain.end());
  Writer w(&out);
  encode_body_to(w, PrivateTx(tx));
  encode_linear(w, tx.proof);
  return out;
}

Bytes mint_signed_bytes(const Digest32& market_id, const MintTx& tx) {
  // Room for the domain and the market id up front (GCC 12's -Warray-bounds misreads the growth).
  Bytes out;
  out.reserve(kSignatureDomain.size() + market_id.size() + 64);
  out.insert(out.end(), kSignatureDomain.begin(), kSignatureDomain.end());
  Writer w(&out);
  w.fixed(market_id);
  encode_body_to(w, PrivateTx(tx));
  return out;
}

Bytes transfer_signed_bytes(const TransferTx& tx) {
  Bytes out(kSignatureDomain.begin(), kSignatureDomain.end());
  Writer w(&out);
  encode_body_to(w, PrivateTx(tx));
  w.fixed(tx.range->encode());
  return out;
}

Bytes cash_signed_bytes(const SpendTx& tx) {
  Bytes out(kSignatureDomain.begin(), kSignatureDomain.end());
  Writer w(&out);
  encode_body_to(w, PrivateTx(tx));
  tx.proofs->encode(w);
  return out;
}

Bytes exit_signed_bytes(const ExitTx& tx) {
  Bytes out(kSignatureDomain.begin(), kSignatureDomain.end());
  Writer w(&out);
  encode_body_to(w, PrivateTx(tx));
  tx.proofs->encode(w);
  return out;
}

LinearStatement register_statement(const PrivateGens& gens, const RegisterTx& tx) {
  LinearStatement s(kRegisterWitnesses);
  const std::size_t b_H = s.add_base(gens.H()), b_kappa = s.add_base(gens.kappa());
  const std::size_t b_Sn = s.add_base(gens.sn()), b_J = s.add_base(gens.G_J());
  const std::size_t j_C = s.add_relation(tx.token);
  (void)s.add_term(j_C, 0, b_H);
  (void)s.add_term(j_C, 1, b_kappa);
  (void)s.add_term(j_C, 2, b_Sn);
  const std::size_t j_K = s.add_relation(tx.K);
  (void)s.add_term(j_K, 1, b_kappa);
  (void)s.add_term(j_K, 3, b_H);
  const std::size_t j_J = s.add_relation(tx.J);
  (void)s.add_term(j_J, 1, b_J);
  return s;
}

LinearStatement tag_statement(const PrivateGens& gens, const Point& tag) {
  LinearStatement s(kTagWitnesses);
  const std::size_t b_Tk = s.add_base(gens.tag_kappa()), b_To = s.add_base(gens.tag_secret());
  const std::size_t b_H = s.add_base(gens.H());
  const std::size_t j = s.add_relation(tag);
  (void)s.add_term(j, 0, b_Tk);
  (void)s.add_term(j, 1, b_To);
  (void)s.add_term(j, 2, b_H);
  return s;
}

}  // namespace pfex::priv
