// The protocol's names for the Ed25519 identity keys, which live with the other keys in
// crypto/keys.hpp: the signer key of every transparent transaction (docs/protocol/transactions.md).
#pragma once

#include "crypto/keys.hpp"

namespace pfex::protocol {

inline constexpr std::size_t kPublicKeyBytes = crypto::kEd25519PublicKeyBytes;
inline constexpr std::size_t kSignatureBytes = crypto::kEd25519SignatureBytes;
inline constexpr std::size_t kSeedBytes = crypto::kEd25519SeedBytes;
using PublicKey = crypto::Ed25519PublicKey;
using Signature = crypto::Ed25519Signature;
using SigningKey = crypto::Ed25519SigningKey;
using crypto::short_key;
using crypto::verify_signature_var;

}  // namespace pfex::protocol
