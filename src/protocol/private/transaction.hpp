// The private transactions and their strict canonical codec (docs/protocol/private.md sections 7
// and 8), and the one transcript per transaction that binds every proof to every public field.
//
//   private_tx = version:u8 (= 1) type:u8 body proofs [signature]
//
// Decoding is strict: truncation, trailing bytes, a non-canonical point or scalar, a value out of
// range, unsorted or repeated settle entries are errors, so every transaction has exactly one
// encoding. Decoding needs the market's window size (the membership proof's size follows from it).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "core/codec.hpp"
#include "core/status.hpp"
#include "crypto/sigma.hpp"
#include "crypto/transcript.hpp"
#include "protocol/private/exit.hpp"
#include "protocol/private/params.hpp"
#include "protocol/private/spend.hpp"

namespace pfex::priv {

inline constexpr std::uint8_t kPrivateTxVersion = 1;
inline constexpr std::string_view kTxTranscriptDomain = "pfex/v1/tx";
inline constexpr std::string_view kPrivateTxProtocol = "private-tx/v1";
// The prefix of the bytes a signed private transaction's Ed25519 signature covers.
inline constexpr std::string_view kSignatureDomain = "pfex/v1/tx";

// Type bytes.
enum class TxType : std::uint8_t {
  kRegister = 1,
  kMint = 2,
  kTransfer = 3,
  kDeposit = 4,
  kWithdraw = 5,
  kPost = 6,
  kReduce = 7,
  kCancelReplace = 8,
  kCancel = 9,
  kSettle = 10,
  kRefresh = 11,
  kExit = 12,
};
std::string_view tx_type_name(TxType type);

enum class OrderKind : std::uint8_t { kLimit = 0, kIoc = 1, kFok = 2, kPostOnly = 3, kMarket = 4 };

// Claims fills (claimed, fill_index] of an order and, with `release`, its closed remainder.
struct SettleEntry {
  std::uint64_t order = 0;
  std::uint64_t fill_index = 0;
  bool release = false;
  friend bool operator==(const SettleEntry&, const SettleEntry&) = default;
};

struct OrderFields {
  Side side = Side::kBuy;
  OrderKind kind = OrderKind::kLimit;
  std::int64_t price = 0;  // limit, or the reservation price p_r of a market order; [1, 2^31]
  std::int64_t qty = 0;    // [1, 2^32)
  Point tag;               // T = kappa*G_tk + o*G_to + rho*H
};

// register (signed): the first token opens to all-zero attributes with the kappa of K and J.
struct RegisterTx {
  std::array<std::uint8_t, 32> signer{};  // Ed25519 public key
  std::uint64_t sequence = 0;             // >= 1, increasing per signer
  std::int64_t bond = 0;                  // >= 0
  Point token;
  Point K;  // kappa*G_kappa + r_K*H
  Point J;  // kappa*G_J
  crypto::LinearProof proof{{}, {}};
  std::array<std::uint8_t, 64> signature{};
};

// cancel: an opening of the order's tag, no spend.
struct CancelTx {
  std::uint64_t order = 0;
  crypto::LinearProof proof{{}, {}};
};

// transfer (signed): a hidden amount from the sender's cash account to the receiver's, with a
// memo only the receiver can open (its amount and blinding).
struct TransferTx {
  static constexpr std::size_t kMemoBytes = 32 + 24 + 40 + 16;  // epk, nonce, amount||g_a, tag

  std::array<std::uint8_t, 32> sender{};
  std::array<std::uint8_t, 32> receiver{};
  std::uint64_t sequence = 0;  // the sender's, >= 1
  Point V_a;                   // a*G + g_a*H
  std::array<std::uint8_t, kMemoBytes> memo{};
  std::optional<crypto::RangeProof> range;  // m = 2: V_a and the sender's new balance
  std::array<std::uint8_t, 64> signature{};
};

// mint (issuer-signed): public amount into an identity's cash account.
struct MintTx {
  std::array<std::uint8_t, 32> account{};  // the identity's signer key
  std::int64_t amount = 0;                 // [1, 2^46]
  std::uint64_t sequence = 0;              // the issuer's, >= 1
  std::array<std::uint8_t, 64> signature{};
};

// The signed part of a deposit or withdrawal.
struct CashFields {
  std::array<std::uint8_t, 32> signer{};
  std::uint64_t sequence = 0;  // >= 1
  Point V_a;                   // the amount's commitment
  crypto::Ciphertext enc;      // Enc(amount) under the validators' key
  std::array<std::uint8_t, 64> signature{};
};

// A refresh's ciphertexts of the new token under the validators' key (its deposit is in
// CashFields).
struct RefreshFields {
  crypto::Ciphertext enc_v;  // v+' - v-'
  crypto::Ciphertext enc_c;  // c'
  crypto::Ciphertext enc_g;  // v+' + v-'
};

// Every spending transaction: post, reduce, cancel-replace, settle, deposit, withdraw, refresh.
struct SpendTx {
  TxType type = TxType::kSettle;
  SpendPublic spend;
  std::vector<SettleEntry> entries;  // at most 16, order ids strictly increasing
  std::uint64_t target = 0;          // reduce, cancel-replace: the order acted on
  std::uint64_t fills_seen = 0;      // reduce, cancel-replace: its fill count the sender saw
  std::int64_t reduce_by = 0;        // reduce: D >= 1
  std::optional<OrderFields> order;  // post, cancel-replace: the new order
  std::optional<CashFields> cash;    // deposit, withdraw, refresh (its hidden deposit)
  std::optional<RefreshFields> refresh;
  std::optional<SpendProofs> proofs;  // absent only while a wallet builds it

  // Tags the spend proves ownership of, in statement order: the entries', the target's, the new
  // order's.
  std::size_t num_tags() const;
};

// exit (signed by a defaulted identity): spends its token of the epoch it defaulted in, settles
// every order it has not settled, and claims the token's worth at the liquidation price.
struct ExitTx {
  ExitPublic exit;
  std::vector<SettleEntry> entries;  // at most 16, order ids strictly increasing
  std::array<std::uint8_t, 32> signer{};
  std::uint64_t sequence = 0;        // >= 1
  std::optional<ExitProofs> proofs;  // absent only while a wallet builds it
  std::array<std::uint8_t, 64> signature{};
};

using PrivateTx = std::variant<RegisterTx, CancelTx, SpendTx, MintTx, TransferTx, ExitTx>;

TxType tx_type(const PrivateTx& tx);

// The body without proofs or signature: what the transcript absorbs.
Bytes encode_body(const PrivateTx& tx);
// The whole transaction. A SpendTx must carry its proofs.
Bytes encode(const PrivateTx& tx);
// Strict decoding for a market whose windows have 2^log_window tokens.
Result<PrivateTx> decode(ByteSpan bytes, std::size_t log_window);

// The transaction's transcript after absorbing the market, the terms, the type and the body; the
// proofs follow on it in their fixed order.
crypto::Transcript tx_transcript(const MarketTerms& terms, const PrivateTx& tx);

// What a signature covers: kSignatureDomain || every byte before the signature (proofs
// included). A mint has no proof to bind it to its market (the others' proofs absorb the market
// id through their transcript), so its signature covers kSignatureDomain || market_id || its
// bytes: a mint for one market does not replay on another with the same issuer.
Bytes register_signed_bytes(const RegisterTx& tx);
Bytes mint_signed_bytes(const Digest32& market_id, const MintTx& tx);
Bytes transfer_signed_bytes(const TransferTx& tx);
Bytes cash_signed_bytes(const SpendTx& tx);  // deposit, withdraw (with their proofs)
Bytes exit_signed_bytes(const ExitTx& tx);

// Register's statement: C = r*H + kappa*G_kappa + sn*G_sn, K = kappa*G_kappa + r_K*H,
// J = kappa*G_J; witnesses (r, kappa, sn, r_K).
crypto::LinearStatement register_statement(const PrivateGens& gens, const RegisterTx& tx);
// Cancel's statement: T = kappa*G_tk + o*G_to + rho*H; witnesses (kappa, o, rho).
crypto::LinearStatement tag_statement(const PrivateGens& gens, const Point& tag);

}  // namespace pfex::priv
