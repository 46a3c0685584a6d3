// The gateway in front of a private market's log: private transactions submitted over its real
// HTTP path are decoded with the market's window size and checked against its replica (the
// private ledger's rules, then the proofs); a valid one is appended, an invalid one is refused
// with the reason and nothing reaches the log (docs/node/gateway.md).
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "ledger/file_log.hpp"
#include "node/gateway.hpp"
#include "node/log_adapter.hpp"
#include "node/submit.hpp"
#include "node/test_util.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/private/wallet.hpp"
#include "protocol/private_test_util.hpp"

namespace pfex::node {
namespace {

using priv::PrivateTx;
using priv::PrivateWallet;
using testing::TempDir;

Bytes private_entry(const PrivateTx& tx) {
  return protocol::encode_entry(protocol::PrivateEntry{tx});
}

// A FileLog with a private market (bond 100) opened in it and a gateway in front of it.
struct PrivateFixture {
  TempDir dir;
  std::shared_ptr<const priv::PrivateGens> gens = std::make_shared<const priv::PrivateGens>();
  protocol::SigningKey issuer = protocol::SigningKey::generate();
  std::unique_ptr<ledger::FileLog> log;
  std::unique_ptr<Gateway> gateway;
  SubmitOptions direct;
  std::uint64_t issuer_sequence = 0;

  explicit PrivateFixture(GatewayOptions options = {}) {
    auto opened = ledger::FileLog::open(dir.file("log"));
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    log = std::move(opened).value();
    EXPECT_TRUE(log->append(protocol::encode_entry(
                                protocol::testing::private_genesis(issuer.public_key(), 3, 100)))
                    .is_ok());
    gateway = std::make_unique<Gateway>(*log, std::move(options));
    auto port = gateway->start();
    EXPECT_TRUE(port.is_ok()) << port.status().to_string();
    direct.gateway = Endpoint{"127.0.0.1", *port};
    direct.timeout = std::chrono::milliseconds(10'000);
  }

  // A replay of the whole log.
  std::unique_ptr<protocol::LedgerReplica> replay() {
    auto v = std::make_unique<protocol::LedgerReplica>(gens);
    auto entries = log->read(1, 1'000'000);
    EXPECT_TRUE(entries.is_ok());
    EXPECT_TRUE(v->apply_batch(to_protocol_entries(std::move(*entries))).is_ok());
    return v;
  }

  // Submits through the gateway; on success the wallet adopts the effect the log gave it.
  template <class Tx>
  void accepted(PrivateWallet* w, const Result<Tx>& tx) {
    ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
    auto sent = submit_transaction(private_entry(PrivateTx(*tx)), direct);
    ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
    protocol::LedgerReplica v(gens);
    auto entries = log->read(1, 1'000'000);
    ASSERT_TRUE(entries.is_ok());
    auto outs = v.apply_batch(to_protocol_entries(std::move(*entries)));
    ASSERT_TRUE(outs.is_ok());
    const protocol::EntryOutcome& out = outs->back();
    ASSERT_EQ(out.sequence, sent->sequence);
    ASSERT_TRUE(out.accepted) << out.reason.to_string();
    if (w != nullptr) {
      ASSERT_TRUE(w->confirm(*out.private_result).is_ok());
    }
  }

  // Refused by the gateway: the status names why; nothing is appended.
  Status refused(const Bytes& bytes) {
    const std::uint64_t before = log->last_sequence();
    auto sent = submit_transaction(bytes, direct);
    EXPECT_FALSE(sent.is_ok());
    EXPECT_EQ(log->last_sequence(), before);
    return sent.status();
  }

  Bytes mint(const PrivateWallet& w, std::int64_t amount) {
    priv::MintTx tx;
    tx.account = w.identity();
    tx.amount = amount;
    tx.sequence = ++issuer_sequence;
    tx.signature =
        issuer.sign(priv::mint_signed_bytes(replay()->private_ledger()->terms().market_id, tx));
    return private_entry(PrivateTx(tx));
  }
};

void expect_in(const Status& s, std::string_view what) {
  EXPECT_NE(s.to_string().find(what), std::string::npos) << s.to_string();
}

TEST(GatewayPrivate, ValidPrivateTransactionsAreAppendedAndInvalidOnesRefusedWithTheReason) {
  PrivateFixture f;
  PrivateWallet a(*f.gens);
  // A register posting the wrong bond: the ledger's rule, refused (400) with its reason.
  {
    auto v = f.replay();
    auto wrong = a.build_register(*v->private_ledger(), 1, 0);
    ASSERT_TRUE(wrong.is_ok());
    const Status s = f.refused(private_entry(PrivateTx(*wrong)));
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
    expect_in(s, "the market's is 100");
  }
  f.accepted(&a, a.build_register(*f.replay()->private_ledger(), 1, 100));
  {
    auto sent = submit_transaction(f.mint(a, 1'000'000), f.direct);
    ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
    a.on_mint(1'000'000);
  }
  auto deposit = a.build_deposit(*f.replay()->private_ledger(), 500'000);
  ASSERT_TRUE(deposit.is_ok());
  const Bytes deposit_bytes = private_entry(PrivateTx(*deposit));
  f.accepted(&a, deposit);
  // The same bytes again: already in the log (409).
  const Status again = f.refused(deposit_bytes);
  EXPECT_EQ(again.code(), ErrorCode::kAlreadyExists);
  expect_in(again, "already in the log");

  // A post whose linear proof is bent: decodes, passes the rules, its proof fails (400).
  auto post = a.build_post(*f.replay()->private_ledger(), priv::Side::kBuy, priv::OrderKind::kLimit,
                           protocol::testing::kReference, 3);
  ASSERT_TRUE(post.is_ok());
  priv::SpendTx bent = *post;
  std::vector<crypto::Scalar> z = bent.proofs->linear.z();
  z[0] = z[0] + crypto::Scalar::one();
  bent.proofs->linear = crypto::LinearProof(bent.proofs->linear.A(), z);
  const Digest32 state_before = f.replay()->state_hash();
  const Status bad_proof = f.refused(private_entry(PrivateTx(bent)));
  EXPECT_EQ(bad_proof.code(), ErrorCode::kInvalidArgument);
  expect_in(bad_proof, "invalid proof");
  // Cut short: does not decode with the market's window size (400).
  Bytes cut = private_entry(PrivateTx(*post));
  cut.pop_back();
  EXPECT_EQ(f.refused(cut).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(f.replay()->state_hash(), state_before);

  // The valid post is appended; a second spend of the same token (other bytes) is a double
  // spend the log already decides (409).
  f.accepted(&a, post);
  auto v = f.replay();
  EXPECT_EQ(v->private_ledger()->order_count(), 1U);
  const Status double_spend = f.refused(private_entry(PrivateTx(bent)));
  EXPECT_EQ(double_spend.code(), ErrorCode::kAlreadyExists);
  expect_in(double_spend, "serial already spent");

  // Everything the gateway appended is accepted by a replica of the log.
  EXPECT_EQ(v->rejected(), 0U);
  EXPECT_EQ(v->accepted(), 5U);  // genesis, register, mint, deposit, post
  EXPECT_EQ(v->private_ledger()->fund().bonds_held, 100);
}

// Without the market's context a private transaction does not decode; with it, it does.
TEST(GatewayPrivate, CheckSubmissionDecodesWithTheMarketsWindowSize) {
  const auto gens = std::make_shared<const priv::PrivateGens>();
  const protocol::SigningKey issuer = protocol::SigningKey::generate();
  protocol::LedgerReplica v(gens);
  ASSERT_TRUE(
      v.apply(protocol::LedgerEntry{
                  1, LedgerTime(1),
                  protocol::encode_entry(protocol::testing::private_genesis(issuer.public_key()))})
          ->accepted);
  PrivateWallet w(*gens);
  auto reg = w.build_register(*v.private_ledger(), 1, 0);
  ASSERT_TRUE(reg.is_ok());
  const Bytes bytes = private_entry(PrivateTx(*reg));
  expect_in(check_submission(bytes, true).status(), "before any genesis");
  auto entry = check_submission(bytes, true, v.context());
  ASSERT_TRUE(entry.is_ok()) << entry.status().to_string();
  EXPECT_TRUE(std::holds_alternative<protocol::PrivateEntry>(*entry));
  expect_in(check_submission(bytes, true, protocol::MarketContext{protocol::Mode::kTransparent, 0})
                .status(),
            "a private transaction in a transparent market");
}

// A private transaction's proofs are verified outside the replica's lock: while one client's
// proof check is held up, another client's transaction is checked and appended. The held one is
// then appended too.
TEST(GatewayPrivate, AnotherClientIsServedWhileAProofCheckRuns) {
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  auto first = std::make_shared<std::atomic<bool>>(true);
  GatewayOptions options;
  options.before_proof_check = [&entered, released, first] {
    if (!first->exchange(false)) return;  // only the first check waits
    entered.set_value();
    // Generous: the other request is served in milliseconds.
    released.wait_for(std::chrono::seconds(60));
  };
  PrivateFixture f(std::move(options));
  PrivateWallet a(*f.gens), b(*f.gens);
  auto reg_a = a.build_register(*f.replay()->private_ledger(), 1, 100);
  ASSERT_TRUE(reg_a.is_ok());
  std::future<Result<Submitted>> slow = std::async(std::launch::async, [&f, &reg_a] {
    return submit_transaction(private_entry(PrivateTx(*reg_a)), f.direct);
  });
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
  // A's proof check is held; B's register is checked and appended meanwhile.
  auto reg_b = b.build_register(*f.replay()->private_ledger(), 1, 100);
  ASSERT_TRUE(reg_b.is_ok());
  const auto started = std::chrono::steady_clock::now();
  auto fast = submit_transaction(private_entry(PrivateTx(*reg_b)), f.direct);
  ASSERT_TRUE(fast.is_ok()) << fast.status().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  EXPECT_EQ(slow.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  release.set_value();
  auto held = slow.get();
  ASSERT_TRUE(held.is_ok()) << held.status().to_string();
  EXPECT_GT(held->sequence, fast->sequence);
  auto v = f.replay();
  EXPECT_EQ(v->rejected(), 0U);
  EXPECT_EQ(v->accepted(), 3U);  // genesis and both registers
}

// A transaction whose serial an entry spends while its proofs are checked is refused after the
// check (the rules again under the lock), and nothing more is appended.
TEST(GatewayPrivate, ASpendTheLogDecidesDuringItsProofCheckIsRefused) {
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  auto armed = std::make_shared<std::atomic<bool>>(false);
  GatewayOptions options;
  options.before_proof_check = [&entered, released, armed] {
    if (!armed->exchange(false)) return;
    entered.set_value();
    released.wait_for(std::chrono::seconds(60));
  };
  PrivateFixture f(std::move(options));
  PrivateWallet a(*f.gens);
  f.accepted(&a, a.build_register(*f.replay()->private_ledger(), 1, 100));
  {
    auto sent = submit_transaction(f.mint(a, 1'000'000), f.direct);
    ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
    a.on_mint(1'000'000);
  }
  f.accepted(&a, a.build_deposit(*f.replay()->private_ledger(), 500'000));
  // Two spends of the same token: the first is held in its proof check, the second is appended
  // straight into the log (behind the gateway), so the first's serial is spent meanwhile.
  auto ledger = f.replay();
  auto first = a.build_post(*ledger->private_ledger(), priv::Side::kBuy, priv::OrderKind::kLimit,
                            protocol::testing::kReference, 1);
  auto second = a.build_post(*ledger->private_ledger(), priv::Side::kBuy, priv::OrderKind::kLimit,
                             protocol::testing::kReference, 2);
  ASSERT_TRUE(first.is_ok() && second.is_ok());
  armed->store(true);
  std::future<Result<Submitted>> held = std::async(std::launch::async, [&f, &first] {
    return submit_transaction(private_entry(PrivateTx(*first)), f.direct);
  });
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
  ASSERT_TRUE(f.log->append(private_entry(PrivateTx(*second))).is_ok());
  const std::uint64_t last = f.log->last_sequence();
  release.set_value();
  const auto out = held.get();
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kAlreadyExists);
  expect_in(out.status(), "serial already spent");
  EXPECT_EQ(f.log->last_sequence(), last);
}

}  // namespace
}  // namespace pfex::node
