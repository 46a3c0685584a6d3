// The gtest fixture the private replica's suites share: a private market behind one
// LedgerReplica and its log. A suite derives from PrivateVenue, appends its own genesis, and adds
// what it needs (events, key generation, deposits).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "protocol/ledger_replica.hpp"
#include "protocol/private/wallet.hpp"
#include "protocol/private_test_util.hpp"

namespace pfex::protocol::testing {

struct PrivateVenue {
  SigningKey issuer = fixed_issuer();
  LedgerReplica replica{shared_gens()};
  std::vector<LedgerEntry> entries;
  std::int64_t now = 1'000'000;  // the last entry's ledger time
  std::uint64_t mint_sequence = 0;
  std::uint64_t advance_sequence = 0;

  const priv::PrivateLedger& ledger() const { return *replica.private_ledger(); }

  // Appends an entry at ledger time `at` (0: one after the last) and applies it.
  EntryOutcome add(Bytes payload, std::int64_t at = 0) {
    now = at > 0 ? at : now + 1;
    entries.push_back(LedgerEntry{entries.size() + 1, LedgerTime(now), std::move(payload)});
    Result<EntryOutcome> out = replica.apply(entries.back());
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
    return *out;
  }

  // Appends a wallet's transaction, which must be accepted; the wallet adopts its effect (a
  // cancel has none to adopt).
  template <class Tx>
  void ok(priv::PrivateWallet& w, const Result<Tx>& tx) {
    ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
    const EntryOutcome out = add(encode_entry(PrivateEntry{priv::PrivateTx(*tx)}));
    ASSERT_TRUE(out.accepted) << out.reason.to_string();
    if constexpr (!std::is_same_v<Tx, priv::CancelTx>) {
      ASSERT_TRUE(w.confirm(*out.private_result).is_ok());
    }
  }

  // The issuer's mint of `cash` into `w`'s cash account.
  void mint(priv::PrivateWallet& w, std::int64_t cash) {
    const priv::MintTx tx =
        signed_mint(issuer, ledger().terms().market_id, w.identity(), cash, ++mint_sequence);
    const EntryOutcome out = add(encode_entry(PrivateEntry{priv::PrivateTx(tx)}));
    EXPECT_TRUE(out.accepted) << out.reason.to_string();
    w.on_mint(static_cast<std::uint64_t>(cash));
  }

  // A new identity, registered with the market's bond, with `cash` minted into its cash account.
  std::unique_ptr<priv::PrivateWallet> registered(std::int64_t cash) {
    auto w = std::make_unique<priv::PrivateWallet>(*shared_gens());
    ok(*w, w->build_register(ledger(), 1, ledger().terms().bond));
    mint(*w, cash);
    return w;
  }

  // The issuer's Advance at ledger time `at`.
  EntryOutcome advance(std::int64_t at) {
    return add(
        sign_transparent(issuer, *replica.market_id(), ++advance_sequence, market::AdvanceAction{}),
        at);
  }
};

}  // namespace pfex::protocol::testing
