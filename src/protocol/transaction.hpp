// The ledger entry envelope: what every log entry must be for a validator to accept it. The
// grammar, the signed bytes and the acceptance rules are in docs/protocol/transactions.md.
//
// An entry is `version type body`. Type 0 opens a market (genesis: the first valid one in a log);
// type 1 is a transparent-account transaction: market id, the signer's Ed25519 key, the signer's
// sequence number, one encoded market Action, and the signature over the domain-separated bytes
// of everything before it. Private transactions will be further types of the same envelope.
// Decoding is strict (docs/codec.md): truncation, trailing bytes, an unknown version or type, an
// over-long field and an invalid action are all errors, so an entry has exactly one encoding.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "core/codec.hpp"
#include "core/hash.hpp"
#include "core/status.hpp"
#include "market/action.hpp"
#include "market/contract.hpp"
#include "protocol/action_codec.hpp"
#include "protocol/keys.hpp"

namespace pfex::protocol {

// 2: the genesis entry's contract terms carry the exit period.
inline constexpr std::uint8_t kEnvelopeVersion = 2;
enum class EntryType : std::uint8_t {
  kGenesis = 0,
  kTransparent = 1,
};
inline constexpr std::uint8_t kMaxEntryType = 1;

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
struct Genesis {
  market::ContractSpec contract;
  Price reference;
  PublicKey issuer{};
};

struct TransparentTx {
  MarketId market{};
  PublicKey signer{};
  std::uint64_t sequence = 0;  // per signer, >= 1, strictly increasing along the log
  market::Action action;
  Signature signature{};
};

using Entry = std::variant<Genesis, TransparentTx>;

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

// Strict decode of a whole entry; does not check the signature (see verify_transparent).
Result<Entry> decode_entry(ByteSpan bytes);
Bytes encode_entry(const Entry& entry);

// Checks the signature of a transparent entry whose bytes `entry` decoded to `tx`. Variable time.
bool verify_transparent(ByteSpan entry, const TransparentTx& tx);

}  // namespace pfex::protocol
