// Every single-byte mutation, every truncation and one appended byte of a valid transaction of
// each coded type (docs/protocol/private.md section 12): the decoder or the ledger refuses each
// with a clear error and the state hash unchanged. One test per type, so ctest runs them in
// parallel; each prints how many mutations the decoder, the ledger's cheap checks and the proof
// or signature checks refused, and its CPU time.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>

#include "protocol/private/ledger.hpp"
#include "protocol/private/test_util.hpp"
#include "protocol/private/wallet.hpp"

namespace pfex::priv {
namespace {

using testing::apply_ok;
using testing::gens;
using testing::mint_tx;
using testing::registered;
using testing::small_terms;

// Two patterns per byte: the lowest bit (a value off by one, a point's sign bit) and several
// middle bits at once.
constexpr std::array<std::uint8_t, 2> kPatterns = {0x01, 0x5a};

struct Tally {
  std::size_t mutations = 0;
  std::size_t decode = 0;  // refused by the strict decoder
  std::size_t cheap = 0;   // refused by the ledger before any proof or signature
  std::size_t proof = 0;   // refused by a proof or signature check (kInvalidProof)
};

// Mutates `tx` every way above against `ledger`, where it must be valid, and checks every
// mutation is refused without a state change; the original stays valid. Bytes after the
// body (proofs, signature) are mutated at every `proof_stride`-th position only.
void expect_every_mutation_rejected(PrivateLedger& ledger, const PrivateTx& tx,
                                    std::size_t proof_stride = 1) {
  const std::clock_t cpu0 = std::clock();
  const auto wall0 = std::chrono::steady_clock::now();
  const std::size_t n = ledger.terms().log_window;
  const std::string type(tx_type_name(tx_type(tx)));
  const Bytes good = encode(tx);
  ASSERT_TRUE(ledger.check(tx).is_ok()) << type << ": " << ledger.check(tx).to_string();
  const Digest32 before = ledger.state_hash();
  Tally tally;
  auto try_bytes = [&](const Bytes& bad, const std::string& what) {
    ++tally.mutations;
    auto decoded = decode(bad, n);
    if (!decoded.is_ok()) {
      ++tally.decode;
      EXPECT_FALSE(decoded.status().message().empty()) << type << " " << what;
      return;
    }
    // The decoder is canonical: what it accepts re-encodes to the same bytes.
    EXPECT_EQ(encode(*decoded), bad) << type << " " << what << " decodes non-canonically";
    auto applied = ledger.apply(*decoded);
    if (applied.is_ok()) {
      ADD_FAILURE() << type << " " << what << " was accepted";
      return;
    }
    EXPECT_FALSE(applied.status().message().empty()) << type << " " << what;
    if (applied.status().code() == ErrorCode::kInvalidProof) {
      ++tally.proof;
    } else {
      ++tally.cheap;
    }
    EXPECT_EQ(ledger.state_hash(), before) << type << " " << what;
  };
  const std::size_t body = encode_body(tx).size();
  std::size_t positions = 0;
  for (std::size_t i = 0; i < good.size(); i += (i < body ? 1 : proof_stride)) {
    ++positions;
    for (std::uint8_t pattern : kPatterns) {
      Bytes bad = good;
      bad[i] ^= pattern;
      try_bytes(bad, "byte " + std::to_string(i) + " ^ " + std::to_string(pattern));
    }
  }
  for (std::size_t len = 0; len < good.size(); ++len)
    try_bytes(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len)),
              "truncated to " + std::to_string(len));
  for (std::uint8_t extra : {std::uint8_t{0}, std::uint8_t{0xff}}) {
    Bytes longer = good;
    longer.push_back(extra);
    try_bytes(longer, "with a byte appended");
  }
  EXPECT_EQ(tally.mutations, 2 * positions + good.size() + 2);
  const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf(
      "mutations of %s (%zu bytes): %zu, refused by the decoder %zu, by cheap checks %zu, by a "
      "proof or signature %zu; %.1f s CPU, %.1f s wall\n",
      type.c_str(), good.size(), tally.mutations, tally.decode, tally.cheap, tally.proof, cpu,
      wall);
  ::testing::Test::RecordProperty("mutations", static_cast<int>(tally.mutations));
  ::testing::Test::RecordProperty("proof_checks", static_cast<int>(tally.proof));
  // The original is still valid: the mutations changed nothing.
  EXPECT_TRUE(ledger.check(tx).is_ok());
}

// Registered, funded traders A and B (through mint and deposit); A has order 0 (buy 2 at 100)
// with one fill of 1, so A's next spend carries a settle entry.
struct MutationFixture : ::testing::Test {
  PrivateLedger ledger{gens(), small_terms()};
  std::unique_ptr<PrivateWallet> a = registered(ledger);
  std::unique_ptr<PrivateWallet> b = registered(ledger);
  std::uint64_t issuer_sequence = 0;

  void SetUp() override {
    fund(*a);
    fund(*b);
    apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 2));
    ASSERT_TRUE(ledger.record_fill(0, 100, 1).is_ok());
  }
  void fund(PrivateWallet& w) {
    auto applied = ledger.apply(PrivateTx(mint_tx(w, 100'000, ++issuer_sequence)));
    ASSERT_TRUE(applied.is_ok()) << applied.status().to_string();
    w.on_mint(100'000);
    apply_ok(ledger, w, w.build_deposit(ledger, 50'000));
  }
  template <class Tx>
  void run(const Result<Tx>& tx) {
    ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
    expect_every_mutation_rejected(ledger, PrivateTx(*tx));
  }
  // Posts of every kind have the same layout: every byte of the limit order's is mutated, the
  // other kinds' bodies and every 8th byte of their proofs (each proof verify costs ~10 ms).
  void post(OrderKind kind) {
    auto tx = a->build_post(ledger, Side::kSell, kind, 101, 1);
    ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
    ASSERT_EQ(tx->entries.size(), 1u);
    expect_every_mutation_rejected(ledger, PrivateTx(*tx), kind == OrderKind::kLimit ? 1 : 8);
  }
};

TEST_F(MutationFixture, Register) {
  PrivateWallet c(gens());
  run(c.build_register(ledger, 1, ledger.terms().bond));
}

TEST_F(MutationFixture, Mint) {
  run(Result<MintTx>(mint_tx(*a, 1'234, issuer_sequence + 1)));
}

TEST_F(MutationFixture, Transfer) {
  run(a->build_transfer(ledger, b->identity(), 777));
}

TEST_F(MutationFixture, Deposit) {
  run(a->build_deposit(ledger, 1'000));
}

TEST_F(MutationFixture, Withdraw) {
  run(a->build_withdraw(ledger, 1'000));
}

TEST_F(MutationFixture, PostLimit) {
  post(OrderKind::kLimit);
}
TEST_F(MutationFixture, PostIoc) {
  post(OrderKind::kIoc);
}
TEST_F(MutationFixture, PostFok) {
  post(OrderKind::kFok);
}
TEST_F(MutationFixture, PostPostOnly) {
  post(OrderKind::kPostOnly);
}
TEST_F(MutationFixture, PostMarket) {
  post(OrderKind::kMarket);
}

TEST_F(MutationFixture, Reduce) {
  auto tx = a->build_reduce(ledger, 0, 1);
  ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
  EXPECT_EQ(tx->entries.size(), 1u);
  run(tx);
}

TEST_F(MutationFixture, CancelReplace) {
  auto tx = a->build_cancel_replace(ledger, 0, Side::kBuy, OrderKind::kLimit, 99, 3);
  ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
  EXPECT_EQ(tx->entries.size(), 1u);
  run(tx);
}

TEST_F(MutationFixture, Cancel) {
  run(a->build_cancel(ledger, 0));
}

TEST_F(MutationFixture, Settle) {
  // Two entries: order 0's second fill, and an IOC buy that filled 1 and closed (claim and
  // release). The IOC's post claims order 0's first fill.
  auto ioc = apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kIoc, 100, 3));
  ASSERT_TRUE(ioc.new_order.has_value());
  ASSERT_TRUE(ledger.record_fill(0, 100, 1).is_ok());
  ASSERT_TRUE(ledger.record_fill(*ioc.new_order, 99, 1).is_ok());
  ASSERT_TRUE(ledger.close_order(*ioc.new_order).is_ok());
  auto tx = a->build_settle(ledger);
  ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
  ASSERT_EQ(tx->entries.size(), 2u);
  EXPECT_TRUE(tx->entries[1].release);
  run(tx);
}

TEST_F(MutationFixture, Refresh) {
  MarketTerms next = ledger.terms();
  next.epoch += 1;
  next.low = 95;
  next.high = 115;
  ASSERT_TRUE(ledger.begin_margin_round(next, 1).is_ok());
  apply_ok(ledger, *a, a->build_settle(ledger));  // claims the fill, releases order 0
  run(a->build_refresh(ledger, 250));
}

}  // namespace
}  // namespace pfex::priv
