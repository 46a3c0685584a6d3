// Helpers for the protocol's tests and benchmarks: a market with an issuer and traders whose
// signed entries can be fed to a LedgerReplica directly or appended to a log.
#pragma once

#include <cstdint>
#include <vector>

#include "market/action.hpp"
#include "protocol/keys.hpp"
#include "protocol/ledger_entry.hpp"
#include "protocol/transaction.hpp"

namespace pfex::protocol::testing {

inline constexpr std::int64_t kReference = 1000;  // seed-example: $10.00, band [960, 1040]

struct Trader {
  SigningKey key = SigningKey::generate();
  std::uint64_t sequence = 0;
  market::AccountId account{};
};

class TestMarket {
 public:
  TestMarket() {
    genesis = encode_entry(
        Genesis{market::seed_example_preset(), Price(kReference), issuer.key.public_key()});
    id = market_id_of(genesis);
  }

  Bytes sign(Trader& t, const market::Action& a) {
    return sign_transparent(t.key, id, ++t.sequence, a);
  }

  // A log entry holding `payload`, numbered after the previous one, one millisecond later.
  LedgerEntry entry(Bytes payload) {
    ++next_seq;
    return LedgerEntry{next_seq, LedgerTime(1'000'000 + static_cast<std::int64_t>(next_seq)),
                       std::move(payload)};
  }

  Trader issuer;
  Bytes genesis;
  MarketId id{};
  std::uint64_t next_seq = 0;
};

inline market::OrderRequest limit(market::Side side, std::int64_t price, std::int64_t qty) {
  return market::OrderRequest{side, market::OrderType::kLimit, Price(price), Qty(qty)};
}

}  // namespace pfex::protocol::testing
