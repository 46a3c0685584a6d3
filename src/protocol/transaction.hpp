// The ledger entry envelope: what every log entry must be for a validator to accept it. The
// grammar, the signed bytes and the acceptance rules are in docs/protocol/transactions.md.
//
// An entry is `version type body`. Type 0 opens a transparent market (genesis: the first valid
// one in a log); type 1 is a transparent-account transaction: market id, the signer's Ed25519
// key, the signer's sequence number, one encoded market Action, and the signature over the
// domain-separated bytes of everything before it. Type 2 opens a private market (its own
// version byte, the transparent genesis's fields, then the private terms); type 3 is a private
// transaction in the private codec (docs/protocol/private.md section 7). The genesis's type is
// the market's mode. Decoding is strict (docs/codec.md): truncation, trailing bytes, an unknown
// version or type, an over-long field and an invalid action are all errors, so an entry has
// exactly one encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/codec.hpp"
#include "core/hash.hpp"
#include "core/status.hpp"
#include "market/action.hpp"
#include "market/contract.hpp"
#include "protocol/action_codec.hpp"
#include "protocol/keys.hpp"
#include "protocol/private/dkg_session.hpp"
#include "protocol/private/resolution.hpp"
#include "protocol/private/transaction.hpp"

namespace pfex::protocol {

// 2: the genesis entry's contract terms carry the exit period. 3: the transparent exchange
// follows the private rules (a reduce action; a cancel-replace is always a new order; a market
// order's reservation price; no deposit before the refresh in a margin round), so a log of
// version 2 would replay differently and is refused. 4: the genesis's contract terms carry the
// resolution deadline D_res, and the transparent exchange liquidates a round's defaulters at
// close + D_res (holding every halt until then), so a log of version 3 is refused.
inline constexpr std::uint8_t kEnvelopeVersion = 4;
enum class EntryType : std::uint8_t {
  kGenesis = 0,         // a transparent market's genesis
  kTransparent = 1,     // a transparent-account transaction
  kPrivateGenesis = 2,  // a private market's genesis
  kPrivate = 3,         // a private transaction
  kDkg = 4,             // a validator's key-generation message in a private market
  kShares = 5,          // a validator's decryption shares of a margin round's sums
};
inline constexpr std::uint8_t kMaxEntryType = 5;
// The layout and meaning of a private genesis's body, checked on read. 2: the market's bond and
// exit penalty are the contract's (version 1 ignored them: every identity registered with no bond
// and exited without penalty), and an optional key generation follows the validators' key; a
// version 1 genesis is refused.
inline constexpr std::uint8_t kPrivateGenesisVersion = 2;

// A market is transparent (public accounts) or private (tokens, docs/protocol/private.md) for its
// whole life; its genesis says which.
enum class Mode : std::uint8_t { kTransparent = 0, kPrivate = 1 };
std::string_view mode_name(Mode mode);

// Largest entry a gateway forwards and a validator decodes; far above any transparent entry
// (~150 bytes) and leaves room for the private transactions' proofs.
inline constexpr std::size_t kMaxTransactionBytes = std::size_t{64} * 1024;
inline constexpr std::uint32_t kMaxActionBytes = 1024;

// Domain labels: signed bytes and hashes of different kinds never collide by construction.
inline constexpr std::string_view kTxSignDomain = "pfex/v1/tx";
inline constexpr std::string_view kMarketIdDomain = "pfex/v1/market";

using MarketId = Digest32;

// Opens a market: the contract's full terms (not a preset's name, whose meaning could change
// between software versions), the first epoch's reference price, and the issuer, whose key alone
// may sign Advance and SettleFinal. The market's start time is the ledger time of the genesis
// entry.
// What a private market's genesis adds: the window size (N = 2^log_window tokens, in [1, 16])
// and the validators' threshold ElGamal public key (Enc(Pi) and the refreshes encrypt to it).
// The private market's terms of epoch 1 follow from these and the contract (private_terms()).
struct PrivateGenesisTerms {
  std::uint8_t log_window = 10;
  crypto::Point validators_key;
};

struct Genesis {
  Genesis() = default;
  // A transparent market's genesis without private_terms, a private market's with them.
  Genesis(market::ContractSpec contract_, Price reference_, const PublicKey& issuer_,
          std::optional<PrivateGenesisTerms> private_terms_ = std::nullopt)
      : contract(std::move(contract_)),
        reference(reference_),
        issuer(issuer_),
        private_terms(private_terms_) {}

  market::ContractSpec contract;
  Price reference;
  PublicKey issuer{};
  std::optional<PrivateGenesisTerms> private_terms;  // present exactly in a private market
  // A private genesis may also start the validators' key generation through the log (its
  // validators, threshold and round lengths); its dealings, complaints and justifications are
  // then entries of type 4 (DkgMessage), and its key and transcript hash part of the state. The
  // generated key then replaces private_terms->validators_key for every encryption (deposits,
  // withdrawals and refreshes are refused until it exists), and the margin rounds' sums are
  // decrypted by the validators' shares (entries of type 5, DecryptionShares). Not encoded in a
  // transparent genesis.
  std::optional<priv::DkgGenesis> key_generation;

  Mode mode() const { return private_terms ? Mode::kPrivate : Mode::kTransparent; }
};

struct TransparentTx {
  MarketId market{};
  PublicKey signer{};
  std::uint64_t sequence = 0;  // per signer, >= 1, strictly increasing along the log
  market::Action action;
  Signature signature{};
};

// A private transaction; its proofs and signatures are checked by the validator.
struct PrivateEntry {
  priv::PrivateTx tx;
};

// A validator's signed key-generation message (priv::DkgEntry's bytes, framing checked), applied
// by the market's priv::DkgSession, which checks its signature and content.
struct DkgMessage {
  Bytes bytes;
};

// A validator's signed decryption shares of one margin round's sums (priv::ShareEntry's bytes,
// framing checked), applied by the private ledger's resolutions against the generated key.
struct DecryptionShares {
  Bytes bytes;
};

using Entry = std::variant<Genesis, TransparentTx, PrivateEntry, DkgMessage, DecryptionShares>;

// What decoding a private transaction needs from the market the log opened: its mode and window
// size (the membership proof's size follows from it). Empty before the genesis.
struct MarketContext {
  std::optional<Mode> mode;
  std::size_t log_window = 0;  // a private market's
};

// The terms of epoch 1 of the private market `genesis` (its bytes `genesis_entry`) opens: the
// market id, the window size and the validators' key from the genesis, the contract's tick value,
// fee, maximum order size, bond (every identity posts it at registration, <= 2^46) and
// liquidation penalty per contract (the exit penalty, < 2^40), and the band and margin of the
// reference price (market::make_band with the contract's d, as the transparent exchange opens).
// kInvalidArgument for a transparent genesis or terms out of range (naming the term).
Result<priv::MarketTerms> private_terms_of(const Genesis& genesis, ByteSpan genesis_entry);

Bytes encode_genesis(const Genesis& genesis);
// The market id of a genesis entry: BLAKE2b("pfex/v1/market", its encoding). Every transaction
// names it, so a transaction signed for one market is invalid in every other.
MarketId market_id_of(ByteSpan genesis_entry);

// Builds and signs a transparent transaction (the signature field of the result is filled).
Bytes sign_transparent(const SigningKey& key, const MarketId& market, std::uint64_t sequence,
                       const market::Action& action);
// The exact bytes the signature covers: u32 length || "pfex/v1/tx" || entry bytes before the
// signature.
Bytes transparent_signed_bytes(ByteSpan entry_without_signature);

// Strict decode of a whole entry; does not check the signature (see verify_transparent). A private
// transaction decodes only in a private market (`market`); elsewhere it is an error that says so.
Result<Entry> decode_entry(ByteSpan bytes, const MarketContext& market = {});
Bytes encode_entry(const Entry& entry);

// Checks the signature of a transparent entry whose bytes `entry` decoded to `tx`. Variable time.
bool verify_transparent(ByteSpan entry, const TransparentTx& tx);

}  // namespace pfex::protocol
