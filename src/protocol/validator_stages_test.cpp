// The validator's stages one by one (validator_stages.hpp): what each produces, and that the
// apply stage keeps the protocol's order (checks before the proof verdict).
#include "protocol/validator_stages.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "protocol/test_util.hpp"

namespace pfex::protocol {
namespace {

using testing::TestMarket;
using testing::Trader;

// A genesis, a good transaction, junk, a transaction with a flipped signature bit.
struct Block {
  TestMarket m;
  Trader t;
  std::vector<LedgerEntry> entries;

  Block() {
    entries.push_back(m.entry(m.genesis));
    entries.push_back(m.entry(m.sign(t, market::RegisterAction{})));
    entries.push_back(m.entry(Bytes{1, 1, 2, 3}));
    Bytes forged = m.sign(t, market::RegisterAction{});
    forged.back() ^= 1;
    entries.push_back(m.entry(std::move(forged)));
  }
};

TEST(ValidatorStages, DecodeStageKeepsOrderAndReasons) {
  const Block b;
  const std::vector<Result<Entry>> decoded =
      decode_stage(b.entries, MarketContext{Mode::kTransparent});
  ASSERT_EQ(decoded.size(), 4U);
  EXPECT_TRUE(decoded[0].is_ok() && std::holds_alternative<Genesis>(*decoded[0]));
  EXPECT_TRUE(decoded[1].is_ok() && std::holds_alternative<TransparentTx>(*decoded[1]));
  EXPECT_FALSE(decoded[2].is_ok());
  EXPECT_TRUE(decoded[3].is_ok());  // decodes; its signature is stage 3's business
}

TEST(ValidatorStages, ProofStageGivesOneVerdictPerEntry) {
  const Block b;
  const std::vector<Result<Entry>> decoded =
      decode_stage(b.entries, MarketContext{Mode::kTransparent});
  EXPECT_EQ(proof_stage(b.entries, decoded, 1), (std::vector<std::uint8_t>{1, 1, 0, 0}));
}

// Enough entries for several threads: the verdicts do not depend on the thread count.
TEST(ValidatorStages, ProofStageVerdictsDoNotDependOnThreads) {
  TestMarket m;
  std::vector<Trader> traders(3);
  std::vector<LedgerEntry> entries{m.entry(m.genesis)};
  for (int i = 0; i < 300; ++i) {
    Bytes tx = m.sign(traders[static_cast<std::size_t>(i) % 3], market::RegisterAction{});
    if (i % 7 == 0) tx[tx.size() - 5] ^= 0x10;
    entries.push_back(m.entry(std::move(tx)));
  }
  const std::vector<Result<Entry>> decoded =
      decode_stage(entries, MarketContext{Mode::kTransparent});
  const std::vector<std::uint8_t> one = proof_stage(entries, decoded, 1);
  EXPECT_EQ(proof_stage(entries, decoded, 4), one);
  for (std::size_t i = 1; i < entries.size(); ++i)
    EXPECT_EQ(one[i], (i - 1) % 7 == 0 ? 0 : 1) << i;
}

// A transaction that fails a check is rejected for it even when its proofs fail too; one that
// passes the checks but not its proofs is rejected as such and changes nothing.
TEST(ValidatorStages, ChecksComeBeforeTheProofVerdict) {
  TestMarket m;
  Trader t;
  ValidatorState state;
  EntryOutcome outcome;
  const Bytes genesis = m.genesis;
  auto g = decode_entry(genesis);
  ASSERT_TRUE(g.is_ok());
  ASSERT_TRUE(
      check_and_apply(*g, genesis, true, ProofPlan{}, LedgerTime(1), state, outcome).is_ok());
  EXPECT_EQ(check_and_apply(*g, genesis, true, ProofPlan{}, LedgerTime(2), state, outcome).code(),
            ErrorCode::kFailedPrecondition);  // the market is already open

  TestMarket other;
  Trader stranger;
  const Bytes foreign = other.sign(stranger, market::RegisterAction{});
  auto f = decode_entry(foreign);
  ASSERT_TRUE(f.is_ok());
  const Status wrong_market =
      check_and_apply(*f, foreign, false, ProofPlan{}, LedgerTime(3), state, outcome);
  EXPECT_NE(wrong_market.message().find("another market"), std::string_view::npos);

  const Bytes reg = m.sign(t, market::RegisterAction{});
  auto r = decode_entry(reg);
  ASSERT_TRUE(r.is_ok());
  const Status forged = check_and_apply(*r, reg, false, ProofPlan{}, LedgerTime(4), state, outcome);
  EXPECT_EQ(forged.message(), "bad signature");
  EXPECT_EQ(state.signer(t.key.public_key()), nullptr);  // the sequence is not used
  EXPECT_TRUE(check_and_apply(*r, reg, true, ProofPlan{}, LedgerTime(5), state, outcome).is_ok());
  ASSERT_NE(state.signer(t.key.public_key()), nullptr);
  EXPECT_EQ(state.signer(t.key.public_key())->last_sequence, 1U);
  EXPECT_TRUE(outcome.result.account.has_value());
}

}  // namespace
TEST(LedgerClock, TakesTheMaximumSoFar) {
  LedgerClock clock;
  EXPECT_EQ(clock.observe(LedgerTime{100}), LedgerTime{100});
  EXPECT_EQ(clock.observe(LedgerTime{90}), LedgerTime{100});  // a slow appender's clock
  EXPECT_EQ(clock.observe(LedgerTime{130}), LedgerTime{130});
  LedgerClock resumed(LedgerTime{500});  // e.g. from a snapshot
  EXPECT_EQ(resumed.observe(LedgerTime{130}), LedgerTime{500});
}

}  // namespace pfex::protocol
