// Helpers for the private market's protocol tests and its fuzz target
// (fuzz/replica_private_fuzz.cpp): a fixed private genesis, the issuer's signed mint, and the
// chunked log format of the fuzz target's inputs and seeds. The gtest fixture around a replica is
// in private_venue_test_util.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "protocol/keys.hpp"
#include "protocol/private/params.hpp"
#include "protocol/private/transaction.hpp"
#include "protocol/test_util.hpp"
#include "protocol/transaction.hpp"

namespace pfex::protocol::testing {

// A private genesis on the seed-example contract (band [960, 1040]) with windows of
// 2^log_window tokens, the validators' key x*G, x = 0x5eed, and the given bond and liquidation
// penalty per contract (none by default, so identities register with bond 0).
inline Genesis private_genesis(const PublicKey& issuer, std::uint8_t log_window = 3,
                               std::int64_t bond = 0, std::int64_t exit_penalty = 0) {
  Genesis g{market::seed_example_preset(), Price(kReference), issuer};
  g.contract.bond = Cash(bond);
  g.contract.liquidation_penalty_per_contract = Cash(exit_penalty);
  g.private_terms =
      PrivateGenesisTerms{log_window, crypto::Point::mul_base(crypto::Scalar::from_u64(0x5eed))};
  return g;
}

// The fixed issuer of the fuzz target's market (seed bytes all 0x2a), so its seeds stay valid.
inline SigningKey fixed_issuer() {
  std::array<std::uint8_t, crypto::kEd25519SeedBytes> seed{};
  seed.fill(0x2a);
  return SigningKey::from_seed(seed);
}

// The generators of the private tests, built once per process (building them costs).
inline const std::shared_ptr<const priv::PrivateGens>& shared_gens() {
  static const auto gens = std::make_shared<const priv::PrivateGens>();
  return gens;
}

// The issuer's mint of `amount` to `account`, its `sequence`-th, signed for market `market_id`.
inline priv::MintTx signed_mint(const SigningKey& issuer, const Digest32& market_id,
                                const std::array<std::uint8_t, 32>& account, std::int64_t amount,
                                std::uint64_t sequence) {
  priv::MintTx tx;
  tx.account = account;
  tx.amount = amount;
  tx.sequence = sequence;
  tx.signature = issuer.sign(priv::mint_signed_bytes(market_id, tx));
  return tx;
}

// A log after its genesis as fuzz input: chunks `length:u16 (little-endian) payload`; a last
// chunk longer than the bytes left is cut.
inline Bytes join_chunks(const std::vector<Bytes>& payloads) {
  Bytes out;
  for (const Bytes& p : payloads) {
    out.push_back(static_cast<std::uint8_t>(p.size() & 0xff));
    out.push_back(static_cast<std::uint8_t>(p.size() >> 8));
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

inline std::vector<Bytes> split_chunks(ByteSpan data) {
  std::vector<Bytes> out;
  std::size_t pos = 0;
  while (pos + 2 <= data.size()) {
    const std::size_t len =
        std::min<std::size_t>(data[pos] | (std::size_t{data[pos + 1]} << 8), data.size() - pos - 2);
    out.emplace_back(data.begin() + static_cast<std::ptrdiff_t>(pos + 2),
                     data.begin() + static_cast<std::ptrdiff_t>(pos + 2 + len));
    pos += 2 + len;
  }
  return out;
}

}  // namespace pfex::protocol::testing
