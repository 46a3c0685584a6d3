// Attacks of issue "Correctness" not covered by the other tests of this folder, each a
// transaction a real attacker could send, refused with a clear reason and the state hash
// unchanged (docs/protocol/private.md section 12): proofs swapped between transactions of
// different types and between fields of one transaction (also where the fields hold equal
// values); values at 2^64 and beyond with a handcrafted proof, and 64-bit extremes in every
// public integer; replays after later transactions and transactions re-signed by another
// identity; a refresh re-signed for another identity; ciphertexts of the wrong value, under
// another key or re-randomized, signed by their owner (so that the proof, not the signature,
// must refuse them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>

#include "crypto/elgamal.hpp"
#include "protocol/private/ledger.hpp"
#include "protocol/private/refresh.hpp"
#include "protocol/private/spend.hpp"
#include "protocol/private/test_util.hpp"
#include "protocol/private/wallet.hpp"

namespace pfex::priv {
namespace {

using testing::apply_ok;
using testing::expect_rejected;
using testing::gens;
using testing::HandIdentity;
using testing::mint_tx;
using testing::registered;
using testing::small_terms;

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();

// Refused with any error code and a message, the state hash unchanged.
void expect_refused(PrivateLedger& ledger, const PrivateTx& tx, std::string_view what = "") {
  const Digest32 before = ledger.state_hash();
  auto applied = ledger.apply(tx);
  ASSERT_FALSE(applied.is_ok()) << what;
  EXPECT_FALSE(applied.status().message().empty());
  EXPECT_EQ(ledger.state_hash(), before) << what;
}

// Refused by a proof (not by the signature, which the attacker made valid).
void expect_proof_fails(PrivateLedger& ledger, const PrivateTx& tx) {
  const Digest32 before = ledger.state_hash();
  auto applied = ledger.apply(tx);
  ASSERT_FALSE(applied.is_ok());
  EXPECT_EQ(applied.status().code(), ErrorCode::kInvalidProof) << applied.status().to_string();
  EXPECT_EQ(applied.status().message().find("signature"), std::string_view::npos)
      << applied.status().to_string();
  EXPECT_EQ(ledger.state_hash(), before);
}

// A copy of `ledger` with `token` appended to its current epoch's list, made through the state
// codec: no transaction makes a token this extreme. The list's count is the u64 just before its
// first token.
std::unique_ptr<PrivateLedger> with_token(const PrivateLedger& ledger, const Point& token) {
  const std::span<const Point> list = ledger.tokens(ledger.terms().epoch);
  Bytes state = ledger.encode_state();
  EXPECT_FALSE(list.empty());
  if (list.empty()) return nullptr;
  const Point::Encoding first = list.front().encode();
  const auto at = std::search(state.begin(), state.end(), first.begin(), first.end());
  EXPECT_NE(at, state.end());
  if (at == state.end()) return nullptr;
  const auto count_at = static_cast<std::size_t>(at - state.begin()) - 8;
  std::uint64_t count = 0;
  for (std::size_t i = 0; i < 8; ++i)
    count |= std::uint64_t{state[count_at + i]} << (8 * i);
  EXPECT_EQ(count, list.size());
  ++count;
  for (std::size_t i = 0; i < 8; ++i)
    state[count_at + i] = static_cast<std::uint8_t>(count >> (8 * i));
  const Point::Encoding added = token.encode();
  const auto end = static_cast<std::ptrdiff_t>(count_at + 8 + 32 * list.size());
  state.insert(state.begin() + end, added.begin(), added.end());
  auto copy = PrivateLedger::decode_state(ledger.gens(), state);
  EXPECT_TRUE(copy.is_ok()) << copy.status().to_string();
  return copy.is_ok() ? std::move(copy).value() : nullptr;
}

struct AttackFixture : ::testing::Test {
  PrivateLedger ledger{gens(), small_terms()};
  std::unique_ptr<PrivateWallet> a = registered(ledger);
  std::unique_ptr<PrivateWallet> b = registered(ledger);
  std::uint64_t issuer_sequence = 0;

  void SetUp() override {
    fund(*a);
    fund(*b);
  }
  void mint(const std::array<std::uint8_t, 32>& account, std::int64_t amount) {
    MintTx tx;
    tx.account = account;
    tx.amount = amount;
    tx.sequence = ++issuer_sequence;
    const Bytes message = mint_signed_bytes(ledger.terms().market_id, tx);
    crypto_sign_detached(tx.signature.data(), nullptr, message.data(), message.size(),
                         testing::issuer().sk.data());
    auto applied = ledger.apply(PrivateTx(tx));
    ASSERT_TRUE(applied.is_ok()) << applied.status().to_string();
  }
  void fund(PrivateWallet& w) {
    mint(w.identity(), 100'000);
    w.on_mint(100'000);
    apply_ok(ledger, w, w.build_deposit(ledger, 50'000));
  }
  // Registers `e` and returns its token's index.
  std::uint64_t register_hand(const HandIdentity& e) {
    auto applied = ledger.apply(PrivateTx(e.register_tx(ledger)));
    EXPECT_TRUE(applied.is_ok()) << applied.status().to_string();
    return applied.is_ok() ? *applied->token_index : 0;
  }
  MarketTerms next_terms() const {
    MarketTerms t = ledger.terms();
    t.epoch += 1;
    t.low = 95;
    t.high = 115;
    return t;
  }
  // E's deposit of `amount` from its cash account (holding `balance`, minted: blinding 0) into its
  // first token, at index `index`; `tamper` changes the transaction after proving, before E signs.
  SpendTx hand_deposit(HandIdentity& e, std::uint64_t index, std::uint64_t balance,
                       std::uint64_t amount, const std::function<void(SpendTx&)>& tamper) {
    const MarketTerms& terms = ledger.terms();
    CashMoveWitness cash;
    cash.deposit = true;
    cash.amount = amount;
    cash.balance = balance;
    cash.balance_blinding = Scalar::zero();
    cash.r_K = e.r_K;
    cash.K = e.K(gens());
    cash.account = ledger.identity(e.pk)->balance;
    cash.pk = terms.validators_key;
    const Window window =
        newest_window(terms.epoch, index, ledger.tokens(terms.epoch).size(), terms.window_size());
    auto prepared = prepare_spend(gens(), terms, e.token, window, Deltas{}, &cash);
    EXPECT_TRUE(prepared.is_ok()) << prepared.status().to_string();
    SpendTx tx;
    tx.type = TxType::kDeposit;
    tx.spend = prepared->pub();
    tx.cash = CashFields{e.pk, e.sequence + 1, prepared->cash()->V_a, prepared->cash()->enc, {}};
    auto set = ledger.window_set(window);
    EXPECT_TRUE(set.is_ok());
    crypto::Transcript t = tx_transcript(terms, PrivateTx(tx));
    auto proofs = prove_spend(gens(), terms, *prepared, **set, index - window.start, {}, {}, t);
    EXPECT_TRUE(proofs.is_ok()) << proofs.status().to_string();
    tx.proofs = *proofs;
    tamper(tx);
    tx.cash->signature = e.sign(cash_signed_bytes(tx));
    return tx;
  }
  // E's refresh of its first token (epoch 1, index `index`) with a deposit `d`, as hand_deposit.
  SpendTx hand_refresh(HandIdentity& e, std::uint64_t index, std::uint64_t balance, std::uint64_t d,
                       const std::function<void(SpendTx&)>& tamper) {
    const MarketTerms& next = ledger.terms();
    CashMoveWitness cash;
    cash.deposit = true;
    cash.amount = d;
    cash.balance = balance;
    cash.balance_blinding = Scalar::zero();
    cash.r_K = e.r_K;
    cash.K = e.K(gens());
    cash.account = ledger.identity(e.pk)->balance;
    cash.pk = next.validators_key;
    const Window window = newest_window(1, index, ledger.tokens(1).size(), next.window_size());
    auto prepared = prepare_refresh(gens(), next, ledger.levy(), e.token, window, cash);
    EXPECT_TRUE(prepared.is_ok()) << prepared.status().to_string();
    SpendTx tx;
    tx.type = TxType::kRefresh;
    tx.spend = prepared->pub();
    tx.cash =
        CashFields{e.pk, e.sequence + 1, prepared->refresh().V_d, prepared->refresh().enc_d, {}};
    tx.refresh = RefreshFields{prepared->refresh().enc_v, prepared->refresh().enc_c,
                               prepared->refresh().enc_g};
    auto set = ledger.window_set(window);
    EXPECT_TRUE(set.is_ok());
    crypto::Transcript t = tx_transcript(next, PrivateTx(tx));
    auto proofs = prove_refresh(gens(), next, *prepared, **set, index - window.start, t);
    EXPECT_TRUE(proofs.is_ok()) << proofs.status().to_string();
    tx.proofs = *proofs;
    tamper(tx);
    tx.cash->signature = e.sign(cash_signed_bytes(tx));
    return tx;
  }
};

TEST_F(AttackFixture, ProofsSwappedBetweenTransactionTypesAreRejected) {
  apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 2));  // 0
  ASSERT_TRUE(ledger.record_fill(0, 100, 1).is_ok());
  // A settle and a post spending the same token, both carrying the entry of order 0.
  auto settle = a->build_settle(ledger);
  auto post = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 99, 1);
  auto reduce = a->build_reduce(ledger, 0, 1);
  ASSERT_TRUE(settle.is_ok() && post.is_ok() && reduce.is_ok());
  // A reduce names two tags (the entry's, its target's) like the post (the entry's, the new
  // order's): the same statement shape, so only the transcript and the statement tell them apart.
  SpendTx r = *reduce, p = *post;
  r.proofs = post->proofs;
  p.proofs = reduce->proofs;
  expect_rejected(ledger, PrivateTx(r), ErrorCode::kInvalidProof);
  expect_rejected(ledger, PrivateTx(p), ErrorCode::kInvalidProof);
  // Between shapes (the settle names one tag): refused as an invalid proof (its size).
  SpendTx s = *settle;
  s.proofs = post->proofs;
  expect_rejected(ledger, PrivateTx(s), ErrorCode::kInvalidProof, "linear proof");
  // One proof at a time.
  SpendTx membership = *post, linear = *post, range = *post;
  membership.proofs->membership = reduce->proofs->membership;
  linear.proofs->linear = reduce->proofs->linear;
  range.proofs->range = settle->proofs->range;
  expect_rejected(ledger, PrivateTx(membership), ErrorCode::kInvalidProof, "membership");
  expect_rejected(ledger, PrivateTx(linear), ErrorCode::kInvalidProof, "linear");
  expect_rejected(ledger, PrivateTx(range), ErrorCode::kInvalidProof, "range");
  // The reduce's body and proofs under the post's type byte (with the post's order fields).
  SpendTx retyped = *reduce;
  retyped.type = TxType::kPost;
  retyped.order = post->order;
  retyped.target = 0;
  retyped.fills_seen = 0;
  retyped.reduce_by = 0;
  expect_rejected(ledger, PrivateTx(retyped), ErrorCode::kInvalidProof);
  apply_ok(ledger, *a, settle);
  expect_rejected(ledger, PrivateTx(*post), ErrorCode::kAlreadyExists, "double spend");
}

TEST_F(AttackFixture, ProofsSwappedBetweenFieldsOfOneTransactionAreRejected) {
  // A new trader's post: v+ = v- = 0, S = QS = 0, so some swapped fields commit to equal values.
  auto post = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 2);
  ASSERT_TRUE(post.is_ok());
  using P = SpendPublic;
  for (auto [i, j] : {std::pair{P::kVp, P::kVm}, std::pair{P::kS, P::kQS}, std::pair{P::kB, P::kQB},
                      std::pair{P::kEL, P::kEH}}) {
    SpendTx swapped = *post;
    std::swap(swapped.spend.V[i], swapped.spend.V[j]);
    expect_rejected(ledger, PrivateTx(swapped), ErrorCode::kInvalidProof);
  }
  SpendTx tokens = *post;
  std::swap(tokens.spend.c_star, tokens.spend.c_next);
  expect_rejected(ledger, PrivateTx(tokens), ErrorCode::kInvalidProof);
  SpendTx tag = *post;
  tag.order->tag = post->spend.c_next;  // a point A knows an opening of, in the tag's place
  expect_rejected(ledger, PrivateTx(tag), ErrorCode::kInvalidProof);
  apply_ok(ledger, *a, post);                                                         // order 0
  apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 99, 1));  // 1
  // A's cancel of order 0 with its proof moved to a cancel of A's own order 1.
  auto cancel0 = a->build_cancel(ledger, 0);
  auto cancel1 = a->build_cancel(ledger, 1);
  ASSERT_TRUE(cancel0.is_ok() && cancel1.is_ok());
  CancelTx moved = *cancel1;
  moved.proof = cancel0->proof;
  expect_rejected(ledger, PrivateTx(moved), ErrorCode::kInvalidProof, "tag");
  apply_ok(ledger, *a, cancel1);
}

TEST_F(AttackFixture, RefreshCiphertextsSwappedWhereTheyEncryptEqualValues) {
  // A long 3: Enc(v) and Enc(v+ + v-) both encrypt 3.
  apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 3));   // 0
  apply_ok(ledger, *b, b->build_post(ledger, Side::kSell, OrderKind::kLimit, 100, 3));  // 1
  ASSERT_TRUE(ledger.record_fill(0, 100, 3).is_ok());
  ASSERT_TRUE(ledger.record_fill(1, 100, 3).is_ok());
  ASSERT_TRUE(ledger.begin_margin_round(next_terms(), 0).is_ok());
  apply_ok(ledger, *a, a->build_settle(ledger));
  auto refresh = a->build_refresh(ledger, 0);
  ASSERT_TRUE(refresh.is_ok());
  SpendTx swapped = *refresh;
  std::swap(swapped.refresh->enc_v, swapped.refresh->enc_g);
  expect_rejected(ledger, PrivateTx(swapped), ErrorCode::kInvalidProof);
  apply_ok(ledger, *a, refresh);
}

// E_L of the token after a buy of 1 at 100 at 2^64 - 1, 2^64 and 2^64 + 1 (the range proofs
// show [0, 2^64)). The wallet refuses the last two (kOverflow); proved anyway (committing the
// true integer, range-proving its low 64 bits), the ledger's range check refuses them. The token
// (put on the list through the state codec) is long about 2^64 / 770 with a large S and no QS, so
// that E_H stays in range.
TEST_F(AttackFixture, ConstraintValuesAtTwoToTheSixtyFourWithAHandcraftedProof) {
  const MarketTerms& terms = ledger.terms();
  const i128 two64 = i128{1} << 64;
  for (const i128 target : {two64 - 1, two64, two64 + 1}) {
    SCOPED_TRACE(static_cast<double>(target));
    TokenOpening token;
    token.kappa = Scalar::random();
    token.r = Scalar::random();
    token.sn = random_nonzero_scalar();
    token.a.vp = static_cast<std::uint64_t>(two64 / (terms.low * terms.tick_value - terms.margin));
    auto after = [&] {
      Attributes next = token.a;
      next.B += 1;
      next.QB += 100;
      return constraint_values(next, terms);
    };
    // Each contract of S lowers E_H by H*k + M + f and E_L by f; then c moves both.
    token.a.S = static_cast<std::uint64_t>(
        after().high / (terms.high * terms.tick_value + terms.margin + terms.fee));
    token.a.c = static_cast<std::int64_t>(target - after().low);
    ASSERT_EQ(after().low, target);
    ASSERT_GE(after().high, 0);
    ASSERT_LT(after().high, two64);

    const auto copy = with_token(ledger, token.commit(gens()));
    ASSERT_NE(copy, nullptr);
    PrivateLedger& extended = *copy;
    const std::uint64_t index = extended.tokens(terms.epoch).size() - 1;
    const Window window =
        newest_window(terms.epoch, index, extended.tokens(terms.epoch).size(), terms.window_size());
    Deltas d;
    ASSERT_TRUE(add_post(d, Side::kBuy, 100, 1).is_ok());
    auto checked = prepare_spend(gens(), terms, token, window, d);
    EXPECT_EQ(checked.is_ok(), target < two64) << checked.status().to_string();
    if (!checked.is_ok()) {
      EXPECT_EQ(checked.status().code(), ErrorCode::kOverflow);
    }
    auto prepared = checked.is_ok()
                        ? std::move(checked)
                        : detail::prepare_spend_unchecked(gens(), terms, token, window, d);
    ASSERT_TRUE(prepared.is_ok()) << prepared.status().to_string();
    const TagOpening tag = TagOpening::random();
    SpendTx tx;
    tx.type = TxType::kPost;
    tx.spend = prepared->pub();
    tx.order = OrderFields{Side::kBuy, OrderKind::kLimit, 100, 1, tag.commit(gens(), token.kappa)};
    auto set = extended.window_set(window);
    ASSERT_TRUE(set.is_ok());
    crypto::Transcript t = tx_transcript(terms, PrivateTx(tx));
    const std::vector<Point> tags = {tx.order->tag};
    const std::vector<TagOpening> openings = {tag};
    auto proofs =
        prove_spend(gens(), terms, *prepared, **set, index - window.start, tags, openings, t);
    ASSERT_TRUE(proofs.is_ok()) << proofs.status().to_string();
    tx.proofs = *proofs;
    if (target < two64) {
      auto applied = extended.apply(PrivateTx(tx));
      EXPECT_TRUE(applied.is_ok()) << applied.status().to_string();
    } else {
      expect_rejected(extended, PrivateTx(tx), ErrorCode::kInvalidProof, "range");
    }
  }
}

TEST_F(AttackFixture, SixtyFourBitExtremesInPublicIntegersAreRejected) {
  apply_ok(ledger, *a, a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 2));  // 0
  ASSERT_TRUE(ledger.record_fill(0, 100, 1).is_ok());
  auto settle = a->build_settle(ledger);
  auto reduce = a->build_reduce(ledger, 0, 1);
  auto cancel = a->build_cancel(ledger, 0);
  ASSERT_TRUE(settle.is_ok() && reduce.is_ok() && cancel.is_ok());
  auto edited = [&](auto tx, auto change, std::string_view what) {
    change(tx);
    expect_refused(ledger, PrivateTx(tx), what);
  };
  edited(
      *settle, [](SpendTx& t) { t.entries[0].fill_index = kU64Max; }, "fill index 2^64 - 1");
  edited(
      *settle, [](SpendTx& t) { t.entries[0].order = kU64Max; }, "order 2^64 - 1");
  edited(
      *settle, [](SpendTx& t) { t.spend.window.start = kU64Max - 7; }, "window start");
  edited(
      *settle, [](SpendTx& t) { t.spend.window.epoch = kU64Max; }, "window epoch");
  edited(
      *reduce, [](SpendTx& t) { t.reduce_by = kI64Max; }, "reduce by 2^63 - 1");
  edited(
      *reduce, [](SpendTx& t) { t.reduce_by = 2; }, "reduce by open + 1");
  edited(
      *reduce, [](SpendTx& t) { t.fills_seen = kU64Max; }, "fills seen");
  edited(
      *reduce, [](SpendTx& t) { t.target = kU64Max; }, "target");
  edited(
      *cancel, [](CancelTx& t) { t.order = kU64Max; }, "cancel 2^64 - 1");
  // Issuer-signed mints of amounts past the cap, negative, and the last sequence number.
  for (std::int64_t amount : {kI64Max, kCashSupplyCap + 1, std::int64_t{-1}, std::int64_t{0}})
    expect_refused(ledger, PrivateTx(mint_tx(*a, amount, issuer_sequence + 1)), "mint amount");
  EXPECT_TRUE(ledger.apply(PrivateTx(mint_tx(*a, 1, kU64Max))).is_ok());
  expect_rejected(ledger, PrivateTx(mint_tx(*a, 1, kU64Max)), ErrorCode::kAlreadyExists,
                  "sequence");
  apply_ok(ledger, *a, reduce);
}

TEST_F(AttackFixture, ReplaysAfterLaterTransactionsAreRejected) {
  auto deposit = a->build_deposit(ledger, 1'000);
  apply_ok(ledger, *a, deposit);
  auto withdraw = a->build_withdraw(ledger, 500);
  apply_ok(ledger, *a, withdraw);
  auto post = a->build_post(ledger, Side::kBuy, OrderKind::kLimit, 100, 2);
  const Applied p = apply_ok(ledger, *a, post);
  ASSERT_TRUE(ledger.record_fill(*p.new_order, 100, 1).is_ok());
  auto settle = a->build_settle(ledger);
  apply_ok(ledger, *a, settle);
  auto cancel = a->build_cancel(ledger, *p.new_order);
  apply_ok(ledger, *a, cancel);
  auto transfer = a->build_transfer(ledger, b->identity(), 10);
  ASSERT_TRUE(transfer.is_ok());
  auto sent = ledger.apply(PrivateTx(*transfer));
  ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
  ASSERT_TRUE(a->confirm(*sent).is_ok());
  expect_rejected(ledger, PrivateTx(*deposit), ErrorCode::kAlreadyExists, "double spend");
  expect_rejected(ledger, PrivateTx(*withdraw), ErrorCode::kAlreadyExists, "double spend");
  expect_rejected(ledger, PrivateTx(*post), ErrorCode::kAlreadyExists, "double spend");
  expect_rejected(ledger, PrivateTx(*settle), ErrorCode::kAlreadyExists, "double spend");
  expect_rejected(ledger, PrivateTx(*cancel), ErrorCode::kFailedPrecondition, "closed");
  expect_rejected(ledger, PrivateTx(*transfer), ErrorCode::kAlreadyExists, "sequence");
}

// A relay takes someone's signed transaction, puts its own identity in and signs it: the
// signature holds, the proofs (bound to the signer by the transcript and K) do not.
TEST_F(AttackFixture, TransactionsReSignedByAnotherIdentityAreRejected) {
  HandIdentity e;
  register_hand(e);
  e.sequence = 1;
  mint(e.pk, 100'000);
  // A registration front-run under another key: J is unseen, the signature is E2's own.
  PrivateWallet c(gens());
  auto reg = c.build_register(ledger, 1, 0);
  ASSERT_TRUE(reg.is_ok());
  HandIdentity e2;
  RegisterTx front = *reg;
  front.signer = e2.pk;
  front.signature = e2.sign(register_signed_bytes(front));
  expect_proof_fails(ledger, PrivateTx(front));
  apply_ok(ledger, c, reg);
  // A's deposit and withdrawal as E's.
  for (auto tx : {a->build_deposit(ledger, 1'000), a->build_withdraw(ledger, 1'000)}) {
    ASSERT_TRUE(tx.is_ok());
    SpendTx stolen = *tx;
    stolen.cash->signer = e.pk;
    stolen.cash->sequence = 2;
    stolen.cash->signature = e.sign(cash_signed_bytes(stolen));
    expect_proof_fails(ledger, PrivateTx(stolen));
  }
  // A's transfer to B, sent from E's account (which holds 100'000).
  auto transfer = a->build_transfer(ledger, b->identity(), 10);
  ASSERT_TRUE(transfer.is_ok());
  TransferTx from_e = *transfer;
  from_e.sender = e.pk;
  from_e.sequence = 2;
  from_e.signature = e.sign(transfer_signed_bytes(from_e));
  expect_proof_fails(ledger, PrivateTx(from_e));
  // A mint signed by anyone but the issuer.
  MintTx mint = mint_tx(*a, 10, issuer_sequence + 1);
  mint.signature = e.sign(mint_signed_bytes(ledger.terms().market_id, mint));
  expect_rejected(ledger, PrivateTx(mint), ErrorCode::kInvalidProof, "issuer");
}

TEST_F(AttackFixture, ARefreshReSignedForAnotherIdentityIsRejected) {
  HandIdentity e;
  register_hand(e);
  e.sequence = 1;
  ASSERT_TRUE(ledger.begin_margin_round(next_terms(), 0).is_ok());
  auto refresh = a->build_refresh(ledger, 100);
  ASSERT_TRUE(refresh.is_ok());
  SpendTx foreign = *refresh;
  foreign.cash->signer = e.pk;
  foreign.cash->sequence = 2;
  foreign.cash->signature = e.sign(cash_signed_bytes(foreign));
  expect_proof_fails(ledger, PrivateTx(foreign));
  EXPECT_FALSE(ledger.refreshed(e.pk));
  apply_ok(ledger, *a, refresh);
}

// The owner signs a refresh (or deposit) whose ciphertext does not encrypt what the proofs say:
// the signature holds, so the linear proof must refuse it.
TEST_F(AttackFixture, OwnerSignedCiphertextsOfTheWrongValueOrKeyAreRejected) {
  HandIdentity e;
  const std::uint64_t index = register_hand(e);
  e.sequence = 1;
  mint(e.pk, 100'000);
  const Point pk = ledger.terms().validators_key;
  const Point other_key = Point::mul_base(Scalar::from_u64(99));
  using Tamper = std::function<void(SpendTx&)>;
  const std::vector<std::pair<std::string, Tamper>> deposit_tampers = {
      {"Enc(a) of a + 1",
       [&](SpendTx& t) {
         t.cash->enc = crypto::encrypt(pk, Scalar::from_u64(501), Scalar::random());
       }},
      {"Enc(a) under another key",
       [&](SpendTx& t) {
         t.cash->enc = crypto::encrypt(other_key, Scalar::from_u64(500), Scalar::random());
       }},
      {"Enc(a) re-randomized",
       [&](SpendTx& t) {
         const Scalar s = Scalar::random();
         t.cash->enc.R = t.cash->enc.R + Point::mul_base(s);
         t.cash->enc.E = t.cash->enc.E + s * pk;
       }},
      {"Enc(a) with R and E swapped", [&](SpendTx& t) { std::swap(t.cash->enc.R, t.cash->enc.E); }},
  };
  for (const auto& [name, tamper] : deposit_tampers) {
    SCOPED_TRACE(name);
    expect_proof_fails(ledger, PrivateTx(hand_deposit(e, index, 100'000, 500, tamper)));
  }
  // The honest one applies (so the refusals above are the tampering's).
  ASSERT_TRUE(
      ledger.apply(PrivateTx(hand_deposit(e, index, 100'000, 500, [](SpendTx&) {}))).is_ok());
  // E's first token is spent now; E registers no other. A new identity F for the refresh.
  HandIdentity f;
  const std::uint64_t f_index = register_hand(f);
  f.sequence = 1;
  mint(f.pk, 100'000);
  ASSERT_TRUE(ledger.begin_margin_round(next_terms(), 0).is_ok());
  const std::vector<std::pair<std::string, Tamper>> refresh_tampers = {
      {"Enc(v) of 1 (v = 0)",
       [&](SpendTx& t) {
         t.refresh->enc_v = crypto::encrypt(pk, Scalar::from_u64(1), Scalar::random());
       }},
      {"Enc(v) of -1",
       [&](SpendTx& t) {
         t.refresh->enc_v = crypto::encrypt(pk, crypto::position_to_scalar(-1), Scalar::random());
       }},
      {"Enc(g) of 1 (g = 0)",
       [&](SpendTx& t) {
         t.refresh->enc_g = crypto::encrypt(pk, Scalar::from_u64(1), Scalar::random());
       }},
      {"Enc(c') of c' + 1 (c' = 300)",
       [&](SpendTx& t) {
         t.refresh->enc_c = crypto::encrypt(pk, Scalar::from_u64(301), Scalar::random());
       }},
      {"Enc(d) of d - 1",
       [&](SpendTx& t) {
         t.cash->enc = crypto::encrypt(pk, Scalar::from_u64(299), Scalar::random());
       }},
      {"Enc(v) of 0 under another key",
       [&](SpendTx& t) {
         t.refresh->enc_v = crypto::encrypt(other_key, Scalar::zero(), Scalar::random());
       }},
      {"Enc(c') re-randomized",
       [&](SpendTx& t) {
         const Scalar s = Scalar::random();
         t.refresh->enc_c.R = t.refresh->enc_c.R + Point::mul_base(s);
         t.refresh->enc_c.E = t.refresh->enc_c.E + s * pk;
       }},
      {"Enc(v) and Enc(g) swapped (both encrypt 0)",
       [&](SpendTx& t) { std::swap(t.refresh->enc_v, t.refresh->enc_g); }},
  };
  for (const auto& [name, tamper] : refresh_tampers) {
    SCOPED_TRACE(name);
    expect_proof_fails(ledger, PrivateTx(hand_refresh(f, f_index, 100'000, 300, tamper)));
    EXPECT_FALSE(ledger.refreshed(f.pk));
  }
  ASSERT_TRUE(
      ledger.apply(PrivateTx(hand_refresh(f, f_index, 100'000, 300, [](SpendTx&) {}))).is_ok());
  EXPECT_TRUE(ledger.refreshed(f.pk));
}

}  // namespace
}  // namespace pfex::priv

namespace pfex::priv {
namespace {

// FAILS TODAY, so disabled: PrivateLedger::state_hash() leaves out the margin round's state (the
// current terms and band, the levy, the refresh window, who refreshed or defaulted, the round's
// encrypted sums), so two replicas that disagree on it report equal hashes. Enable it when the
// hash (and the snapshot) cover them.
TEST(PrivateLedgerStateHash, CoversTheMarginRound) {
  PrivateLedger before(gens(), small_terms()), zero(gens(), small_terms()),
      five(gens(), small_terms());
  MarketTerms next = small_terms();
  next.epoch += 1;
  next.low = 95;
  next.high = 115;
  ASSERT_TRUE(zero.begin_margin_round(next, 0).is_ok());
  ASSERT_TRUE(five.begin_margin_round(next, 5).is_ok());
  EXPECT_NE(before.state_hash(), zero.state_hash()) << "the epoch and band";
  EXPECT_NE(zero.state_hash(), five.state_hash()) << "the levy";
  const Digest32 open = zero.state_hash();
  ASSERT_TRUE(zero.close_refresh_window().is_ok());
  EXPECT_NE(zero.state_hash(), open) << "the refresh window";
}

}  // namespace
}  // namespace pfex::priv
