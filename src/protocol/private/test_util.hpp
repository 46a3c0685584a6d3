// Shared fixtures of the private exchange's tests: one set of generators, market terms with a
// small window, and a ledger with registered, funded wallets.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>

#include <memory>
#include <string_view>
#include <vector>

#include "protocol/private/ledger.hpp"
#include "protocol/private/wallet.hpp"

namespace pfex::priv::testing {

// Applying tx fails with `code` (and the message contains `what`) and changes nothing.
inline void expect_rejected(PrivateLedger& ledger, const PrivateTx& tx, ErrorCode code,
                            std::string_view what = "") {
  const Digest32 before = ledger.state_hash();
  auto applied = ledger.apply(tx);
  ASSERT_FALSE(applied.is_ok());
  EXPECT_EQ(applied.status().code(), code) << applied.status().to_string();
  EXPECT_NE(applied.status().message().find(what), std::string_view::npos)
      << applied.status().to_string();
  EXPECT_EQ(ledger.state_hash(), before);
}

inline const PrivateGens& gens() {
  static const PrivateGens g;
  return g;
}

// The validators' threshold secret in tests (in the protocol nobody holds it whole).
inline const Scalar& validators_secret() {
  static const Scalar x = Scalar::from_u64(0x5eed);
  return x;
}

// The cash issuer's Ed25519 key pair (public 32 bytes, libsodium secret 64 bytes).
struct IssuerKeys {
  std::array<std::uint8_t, 32> pk{};
  std::array<std::uint8_t, 64> sk{};
};
inline const IssuerKeys& issuer() {
  static const IssuerKeys keys = [] {
    IssuerKeys k;
    std::array<std::uint8_t, 32> seed{};
    seed.fill(3);
    ensure_sodium_init();
    crypto_sign_seed_keypair(k.pk.data(), k.sk.data(), seed.data());
    return k;
  }();
  return keys;
}

// L/H = 90/110, k = 10, f = 2, M = 130, N = 2^log_window.
inline MarketTerms small_terms(std::size_t log_window = 3) {
  MarketTerms t;
  t.market_id.fill(7);
  t.epoch = 1;
  t.log_window = log_window;
  t.tick_value = 10;
  t.fee = 2;
  t.low = 90;
  t.high = 110;
  t.margin = 130;
  t.max_order_qty = 1000;
  t.validators_key = Point::mul_base(validators_secret());
  t.issuer = issuer().pk;
  return t;
}

// Registers a wallet (posting the market's bond) and returns it. Its token has c = 0: tests
// fund it with fund().
inline std::unique_ptr<PrivateWallet> registered(PrivateLedger& ledger, std::uint64_t seq = 1) {
  auto w = std::make_unique<PrivateWallet>(ledger.gens());
  auto tx = w->build_register(ledger, seq, ledger.terms().bond);
  EXPECT_TRUE(tx.is_ok()) << tx.status().to_string();
  auto applied = ledger.apply(PrivateTx(*tx));
  EXPECT_TRUE(applied.is_ok()) << applied.status().to_string();
  EXPECT_TRUE(w->confirm(*applied).is_ok());
  return w;
}

// An issuer-signed mint of `amount` to the wallet's identity, for the market `market_id` (the
// small_terms() market by default).
inline MintTx mint_tx(const PrivateWallet& w, std::int64_t amount, std::uint64_t sequence,
                      const Digest32& market_id = small_terms().market_id) {
  MintTx tx;
  tx.account = w.identity();
  tx.amount = amount;
  tx.sequence = sequence;
  const Bytes message = mint_signed_bytes(market_id, tx);
  crypto_sign_detached(tx.signature.data(), nullptr, message.data(), message.size(),
                       issuer().sk.data());
  return tx;
}

// Mints `cash` to the wallet's identity (the issuer's next sequence) and deposits all of it into
// its token: the token gains c += cash through real transactions.
inline void fund(PrivateLedger& ledger, PrivateWallet& w, std::int64_t cash) {
  auto minted = ledger.apply(
      PrivateTx(mint_tx(w, cash, ledger.last_sequence(issuer().pk) + 1, ledger.terms().market_id)));
  ASSERT_TRUE(minted.is_ok()) << minted.status().to_string();
  w.on_mint(static_cast<std::uint64_t>(cash));
  auto deposit = w.build_deposit(ledger, static_cast<std::uint64_t>(cash));
  ASSERT_TRUE(deposit.is_ok()) << deposit.status().to_string();
  auto applied = ledger.apply(PrivateTx(*deposit));
  ASSERT_TRUE(applied.is_ok()) << applied.status().to_string();
  ASSERT_TRUE(w.confirm(*applied).is_ok());
}

// Applies a built transaction and confirms it in the wallet; fails the test on error.
template <class Tx>
inline Applied apply_ok(PrivateLedger& ledger, PrivateWallet& w, const Result<Tx>& tx) {
  EXPECT_TRUE(tx.is_ok()) << tx.status().to_string();
  if (!tx.is_ok()) return {};
  auto applied = ledger.apply(PrivateTx(*tx));
  EXPECT_TRUE(applied.is_ok()) << applied.status().to_string();
  if (!applied.is_ok()) return {};
  if constexpr (!std::is_same_v<Tx, CancelTx>) {
    EXPECT_TRUE(w.confirm(*applied).is_ok());
  }
  return *applied;
}

// An identity built by hand (not through a wallet), so the test holds its signing key: to re-sign
// other traders' transactions under it, or to sign its own with a tampered field.
struct HandIdentity {
  std::array<std::uint8_t, 32> pk{};
  std::array<std::uint8_t, 64> sk{};
  TokenOpening token;  // its first token: every attribute 0
  Scalar r_K = Scalar::random();
  std::uint64_t sequence = 0;  // the last one signed

  HandIdentity() {
    ensure_sodium_init();
    crypto_sign_keypair(pk.data(), sk.data());
    token.kappa = Scalar::random();
    token.sn = random_nonzero_scalar();
    token.r = Scalar::random();
  }
  std::array<std::uint8_t, 64> sign(const Bytes& message) const {
    std::array<std::uint8_t, 64> sig{};
    crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), sk.data());
    return sig;
  }
  Point K(const PrivateGens& g) const { return g.pedersen().blind(r_K) + token.kappa * g.kappa(); }
  // A valid registration of this identity (sequence 1, posting the market's bond).
  RegisterTx register_tx(const PrivateLedger& ledger) const {
    const PrivateGens& g = ledger.gens();
    RegisterTx tx;
    tx.signer = pk;
    tx.sequence = 1;
    tx.bond = ledger.terms().bond;
    tx.token = token.commit(g);
    tx.K = K(g);
    tx.J = token.kappa * g.G_J();
    crypto::Transcript t = tx_transcript(ledger.terms(), PrivateTx(tx));
    const std::vector<Scalar> w = {token.r, token.kappa, token.sn, r_K};
    auto proof = crypto::prove_linear(register_statement(g, tx), w, t);
    EXPECT_TRUE(proof.is_ok()) << proof.status().to_string();
    if (proof.is_ok()) tx.proof = *proof;
    tx.signature = sign(register_signed_bytes(tx));
    return tx;
  }
};

// Two funded traders and one transaction of each coded type, each valid against `ledger` as it
// is when the flow returns it... except that each was applied in turn: the flow registers A and
// B, A posts a buy (order 0) and B a sell (order 1), both fill 3 at 100, A settles and reduces,
// B cancel-replaces, A cancels. `txs` holds them in order, with their type.
struct Flow {
  std::unique_ptr<PrivateWallet> a, b;
  std::vector<PrivateTx> txs;
};

inline Flow run_flow(PrivateLedger& ledger) {
  Flow f;
  auto keep = [&](PrivateWallet& w, auto tx) {
    if (tx.is_ok()) f.txs.push_back(PrivateTx(*tx));
    return apply_ok(ledger, w, tx);
  };
  f.a = std::make_unique<PrivateWallet>(ledger.gens());
  keep(*f.a, f.a->build_register(ledger, 1, ledger.terms().bond));
  f.b = registered(ledger, 1);
  fund(ledger, *f.a, 1'000'000);
  fund(ledger, *f.b, 1'000'000);
  keep(*f.a, f.a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 5));
  keep(*f.b, f.b->build_post(ledger, Side::kSell, OrderKind::kLimit, 100, 5));
  EXPECT_TRUE(ledger.record_fill(0, 100, 3).is_ok());
  EXPECT_TRUE(ledger.record_fill(1, 100, 3).is_ok());
  keep(*f.a, f.a->build_settle(ledger));
  keep(*f.a, f.a->build_reduce(ledger, 0, 1));
  keep(*f.b, f.b->build_cancel_replace(ledger, 1, Side::kSell, OrderKind::kLimit, 105, 2));
  auto cancel = f.a->build_cancel(ledger, 0);
  if (cancel.is_ok()) f.txs.push_back(PrivateTx(*cancel));
  apply_ok(ledger, *f.a, cancel);
  return f;
}

}  // namespace pfex::priv::testing
