// One VerificationTerms for a block of mixed proofs: every proof system appends its weighted
// terms to the entry of its transaction, one MSM checks the block, one bisection names the bad
// transactions, and a proof that could not be checked fails the block (verification_terms.hpp).
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "crypto/bulletproof.hpp"
#include "crypto/one_of_many.hpp"
#include "crypto/sigma.hpp"
#include "crypto/verification_terms.hpp"

namespace pfex::crypto {
namespace {

constexpr std::size_t kLogSetSize = 3;

const BulletproofGens& range_gens() {
  static const BulletproofGens g;
  return g;
}
const OneOfManyGens& set_gens() {
  static const OneOfManyGens g;
  return g;
}

// A transaction with one proof of each system, all on the transaction's transcript.
struct Tx {
  std::uint64_t id = 0;
  LinearStatement statement{1};  // knowledge of x with P = x*G
  LinearProof linear{{}, {}};
  std::optional<RangeProofWithCommitments> range;
  Point offset;
  std::optional<OneOfManyProof> member;
};

Transcript tx_transcript(std::uint64_t id) {
  Transcript t("pfex/v1/test");
  t.append_u64("tx", id);
  return t;
}

struct Block {
  std::vector<Point> members;
  std::vector<Scalar> r;  // members[i] = offset_i + r[i]*H, per tx an offset
  OneOfManySet set;
  std::vector<Tx> txs;
};

Block make_block(std::size_t count) {
  const std::size_t N = std::size_t{1} << kLogSetSize;
  std::vector<Point> members;
  for (std::size_t i = 0; i < N; ++i)
    members.push_back(Point::random());
  auto set = OneOfManySet::create(members);
  EXPECT_TRUE(set.is_ok());
  Block block{members, {}, std::move(set).value(), {}};
  block.txs.reserve(count);
  for (std::uint64_t k = 0; k < count; ++k) {
    Tx& tx = block.txs.emplace_back();
    tx.id = k;
    Transcript t = tx_transcript(k);
    const Scalar x = Scalar::random();
    const std::size_t b = tx.statement.add_base(Point::base());
    const std::size_t j = tx.statement.add_relation(x * Point::base());
    EXPECT_TRUE(tx.statement.add_term(j, 0, b).is_ok());
    auto linear = prove_linear(tx.statement, std::vector<Scalar>{x}, t);
    EXPECT_TRUE(linear.is_ok());
    tx.linear = *linear;
    const std::uint64_t values[] = {1000 + k};
    const Scalar blindings[] = {Scalar::random()};
    auto range = RangeProof::prove(range_gens(), t, values, blindings);
    EXPECT_TRUE(range.is_ok());
    tx.range.emplace(std::move(*range));
    const std::size_t index = k % N;
    const Scalar r = Scalar::random();
    tx.offset = members[index] - r * blinding_generator();
    auto member = OneOfManyProof::prove(set_gens(), t, block.set, tx.offset, index, r);
    EXPECT_TRUE(member.is_ok());
    tx.member.emplace(std::move(*member));
  }
  return block;
}

// The validator's order: each transaction one entry, its proofs replayed on its transcript.
VerificationTerms block_terms(const Block& block) {
  VerificationTerms terms;
  for (const Tx& tx : block.txs) {
    terms.begin_entry();
    Transcript t = tx_transcript(tx.id);
    (void)append_linear_verification_terms(tx.statement, tx.linear, t, Scalar::random(), terms);
    (void)tx.range->proof.append_verification_terms(range_gens(), t, tx.range->commitments,
                                                    Scalar::random(), terms);
    (void)tx.member->append_verification_terms(set_gens(), t, block.set, tx.offset,
                                               Scalar::random(), terms);
  }
  return terms;
}

TEST(MixedBlock, OneMsmWithTheSharedGeneratorsOnce) {
  const Block block = make_block(6);
  const VerificationTerms terms = block_terms(block);
  EXPECT_EQ(terms.num_entries(), 6u);
  // Shared: G_i, H_i (128), G, H, Q_0; the set (8), E_j (3), the set's H. Own per transaction:
  // sigma 1 base + 2, range 1 + 4 + 2*6, one-of-many 3 + 5.
  EXPECT_EQ(terms.size(), (2 * 64 + 3) + (8 + 3 + 1) + 6 * (3 + 17 + 8));
  EXPECT_TRUE(terms.is_identity_var());
  EXPECT_TRUE(terms.failing_entries_var().empty());
  EXPECT_TRUE(terms.check_var("block").is_ok());
}

TEST(MixedBlock, BadProofsOfEverySystemAreNamedByTransaction) {
  Block block = make_block(8);
  // tx 2: a sigma commitment; tx 5: a range commitment; tx 6: a one-of-many offset.
  std::vector<Point> A = block.txs[2].linear.A();
  A[0] += Point::base();
  block.txs[2].linear = LinearProof(A, block.txs[2].linear.z());
  block.txs[5].range->commitments[0] += Point::base();
  block.txs[6].offset += Point::base();
  const VerificationTerms terms = block_terms(block);
  EXPECT_FALSE(terms.is_identity_var());
  EXPECT_EQ(terms.failing_entries_var(), (std::vector<std::size_t>{2, 5, 6}));
  const Status s = terms.check_var("block 9");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidProof);
  EXPECT_NE(s.message().find("block 9: proofs 2, 5, 6 do not verify"), std::string_view::npos)
      << s.message();
}

TEST(MixedBlock, AProofThatCannotBeCheckedFailsTheBlock) {
  Block block = make_block(4);
  // tx 1's range proof against two commitments (its proof is for one): refused, not skipped.
  block.txs[1].range->commitments.push_back(Point::base());
  // tx 3's sigma proof without its commitment.
  block.txs[3].linear = LinearProof({}, block.txs[3].linear.z());
  const VerificationTerms terms = block_terms(block);
  EXPECT_TRUE(terms.any_refused());
  EXPECT_FALSE(terms.is_identity_var());
  EXPECT_EQ(terms.failing_entries_var(), (std::vector<std::size_t>{1, 3}));
  const Status s = terms.check_var("block");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidProof);
  EXPECT_NE(s.message().find("entry 1"), std::string_view::npos) << s.message();
}

TEST(VerificationTermsEntries, RefusingAnEmptyBatchFailsIt) {
  VerificationTerms terms;
  EXPECT_TRUE(terms.is_identity_var());  // nothing to check
  terms.refuse(Status::invalid_proof("malformed"));
  EXPECT_EQ(terms.num_entries(), 1u);
  EXPECT_FALSE(terms.is_identity_var());
  EXPECT_EQ(terms.failing_entries_var(), std::vector<std::size_t>{0});
  terms.clear();
  EXPECT_TRUE(terms.is_identity_var());
}

TEST(VerificationTermsEntries, SharedGeneratorsMergeByAddress) {
  const std::vector<Point> gens = {Point::random(), Point::random(), Point::random()};
  VerificationTerms terms;
  const Scalar x = Scalar::random();
  terms.begin_entry();  // x*g0 + x*g1 - (x*g0 + x*g1)
  const std::vector<Scalar> two = {x, x};
  terms.add_shared(std::span<const Point>(gens).first(2), two);
  terms.add(-x, gens[0] + gens[1]);
  terms.begin_entry();  // x*g0 + x*g1 + x*g2 - (...)
  const std::vector<Scalar> three = {x, x, x};
  terms.add_shared(gens, three);
  terms.add(-x, gens[0] + gens[1] + gens[2]);
  EXPECT_EQ(terms.size(), 3u + 2u);
  EXPECT_TRUE(terms.is_identity_var());
  terms.begin_entry();
  terms.add_shared(gens[1], x);  // a different run (starts at g1): not merged, and false
  EXPECT_EQ(terms.size(), 3u + 2u + 1u);
  EXPECT_EQ(terms.failing_entries_var(), std::vector<std::size_t>{2});
}

// A constant over a run counts once per generator it covers, whatever the runs' lengths.
TEST(VerificationTermsEntries, ConstantsCoverTheirRunOnly) {
  const std::vector<Point> gens = {Point::random(), Point::random(), Point::random()};
  const std::span<const Point> all(gens);
  const Scalar x = Scalar::random();
  const Scalar y = Scalar::random();
  VerificationTerms terms;
  terms.begin_entry();  // x on g0, g1
  terms.add_shared_constant(all.first(2), x);
  terms.add(-x, gens[0] + gens[1]);
  terms.begin_entry();  // y on g0, g1, g2, and a per-index part
  terms.add_shared_constant(all, y);
  const std::vector<Scalar> per_index = {x, Scalar::zero(), y};
  terms.add_shared(all, per_index);
  terms.add(-y, gens[0] + gens[1] + gens[2]);
  terms.add(-x, gens[0]);
  terms.add(-y, gens[2]);
  EXPECT_EQ(terms.size(), 3U + 4U);
  EXPECT_TRUE(terms.is_identity_var());
  terms.begin_entry();  // x on g0 alone, unbalanced
  terms.add_shared_constant(all.first(1), x);
  EXPECT_EQ(terms.failing_entries_var(), std::vector<std::size_t>{2});

  VerificationTerms weighted;  // append_weighted keeps constants as constants
  weighted.begin_entry();
  VerificationTerms one;
  one.add_shared_constant(all.first(2), x);
  one.add(-x, gens[0] + gens[1]);
  weighted.append_weighted(one, Scalar::random());
  EXPECT_TRUE(weighted.is_identity_var());
}

}  // namespace
}  // namespace pfex::crypto
