#include "node/wallet.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/file.hpp"
#include "node/test_util.hpp"
#include "protocol/test_util.hpp"

namespace pfex::node {
namespace {

using testing::TempDir;

TEST(Wallet, RoundTripsEncrypted) {
  TempDir dir;
  const std::string path = dir.file("w");
  protocol::testing::TestMarket m;
  protocol::PublicKey key{};
  Bytes tx;
  {
    auto w = Wallet::create(path, "correct horse", KdfParams::for_tests());
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    key = w->public_key();
    ASSERT_TRUE(w->set_market(m.id).is_ok());
    auto prepared = w->prepare(market::RegisterAction{});
    ASSERT_TRUE(prepared.is_ok());
    tx = *prepared;
  }
  {
    auto w = Wallet::open(path, "correct horse");
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    EXPECT_EQ(w->public_key(), key);
    EXPECT_EQ(w->market(), m.id);
    EXPECT_EQ(w->last_sequence(), 1U);
    ASSERT_EQ(w->pending().size(), 1U);
    EXPECT_EQ(w->pending()[0], tx);
    // The seed is not in the file in the clear.
    auto file = read_whole_file(path);
    ASSERT_TRUE(file.is_ok());
    EXPECT_EQ(std::search(file->begin(), file->end(), key.begin(), key.end()), file->end());
    ASSERT_TRUE(w->set_account(market::AccountId{3}).is_ok());
    ASSERT_TRUE(w->remove_pending(tx).is_ok());
  }
  auto again = Wallet::open(path, "correct horse");
  ASSERT_TRUE(again.is_ok());
  EXPECT_TRUE(again->pending().empty());
  EXPECT_EQ(again->account(), market::AccountId{3});
  EXPECT_EQ(Wallet::create(path, "x", KdfParams::for_tests()).status().code(),
            ErrorCode::kAlreadyExists);
}

TEST(Wallet, WrongPassphraseAndDamageAreClearErrors) {
  TempDir dir;
  const std::string path = dir.file("w");
  ASSERT_TRUE(Wallet::create(path, "right", KdfParams::for_tests()).is_ok());
  Status wrong = Wallet::open(path, "wrong").status();
  EXPECT_EQ(wrong.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong.message().find("wrong passphrase"), std::string_view::npos);

  const Bytes good = *read_whole_file(path);
  for (std::size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x01;
    ASSERT_TRUE(write_file_atomically(path, bad).is_ok());
    EXPECT_EQ(Wallet::open(path, "right").status().code(), ErrorCode::kCorruption) << i;
  }
  for (std::size_t n : {std::size_t{0}, std::size_t{10}, good.size() - 1}) {
    ASSERT_TRUE(write_file_atomically(path, ByteSpan(good.data(), n)).is_ok());
    EXPECT_EQ(Wallet::open(path, "right").status().code(), ErrorCode::kCorruption) << n;
  }
  EXPECT_EQ(Wallet::open(dir.file("missing"), "right").status().code(), ErrorCode::kNotFound);
  // Nothing above replaced the file with a new wallet: the original still opens.
  ASSERT_TRUE(write_file_atomically(path, good).is_ok());
  EXPECT_TRUE(Wallet::open(path, "right").is_ok());
}

TEST(Wallet, OnlyOneOpenerAtATime) {
  TempDir dir;
  const std::string path = dir.file("w");
  {
    auto w = Wallet::create(path, "p", KdfParams::for_tests());
    ASSERT_TRUE(w.is_ok());
    EXPECT_EQ(Wallet::open(path, "p").status().code(), ErrorCode::kFailedPrecondition);
    Wallet moved = std::move(w).value();  // the lock moves with the wallet
    EXPECT_EQ(Wallet::open(path, "p").status().code(), ErrorCode::kFailedPrecondition);
  }
  EXPECT_TRUE(Wallet::open(path, "p").is_ok());  // released with the wallet
}

// A symlink names the same wallet: it shares the lock, and saving writes through it (the link
// stays a link, the target gets the new contents), so two names never become two wallets.
TEST(Wallet, SymlinkSharesTheLockAndStaysALink) {
  TempDir dir;
  const std::string path = dir.file("w");
  const std::string link = dir.file("link");
  std::filesystem::create_symlink(path, link);
  protocol::testing::TestMarket m;
  {
    auto w = Wallet::create(link, "p", KdfParams::for_tests());
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    EXPECT_TRUE(std::filesystem::is_symlink(link));
    EXPECT_TRUE(std::filesystem::is_regular_file(path));
    EXPECT_EQ(Wallet::open(path, "p").status().code(), ErrorCode::kFailedPrecondition);
  }
  {
    auto w = Wallet::open(path, "p");
    ASSERT_TRUE(w.is_ok());
    EXPECT_EQ(Wallet::open(link, "p").status().code(), ErrorCode::kFailedPrecondition);
  }
  {
    auto w = Wallet::open(link, "p");
    ASSERT_TRUE(w.is_ok());
    EXPECT_EQ(Wallet::open(path, "p").status().code(), ErrorCode::kFailedPrecondition);
    ASSERT_TRUE(w->set_market(m.id).is_ok());
    ASSERT_TRUE(w->prepare(market::RegisterAction{}).is_ok());
  }
  EXPECT_TRUE(std::filesystem::is_symlink(link)) << "saving replaced the link with a file";
  auto through_target = Wallet::open(path, "p");
  ASSERT_TRUE(through_target.is_ok());
  EXPECT_EQ(through_target->last_sequence(), 1U);
}

// A wallet restored from a backup learns the ledger's sequence numbers before it signs.
TEST(Wallet, SyncSequenceMovesOnlyForwardAndPersists) {
  TempDir dir;
  protocol::testing::TestMarket m;
  const std::string path = dir.file("w");
  {
    auto w = Wallet::create(path, "p", KdfParams::for_tests());
    ASSERT_TRUE(w.is_ok());
    ASSERT_TRUE(w->set_market(m.id).is_ok());
    ASSERT_TRUE(w->prepare(market::RegisterAction{}).is_ok());
    ASSERT_TRUE(w->sync_sequence(5).is_ok());
    EXPECT_EQ(w->last_sequence(), 5U);
    ASSERT_TRUE(w->sync_sequence(3).is_ok());  // never back
    EXPECT_EQ(w->last_sequence(), 5U);
  }
  auto w = Wallet::open(path, "p");
  ASSERT_TRUE(w.is_ok());
  EXPECT_EQ(w->last_sequence(), 5U);
  auto tx = w->prepare(market::RegisterAction{});
  ASSERT_TRUE(tx.is_ok());
  auto decoded = protocol::decode_entry(*tx);
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(std::get<protocol::TransparentTx>(*decoded).sequence, 6U);
  // The last number there is: nothing after it can be signed.
  ASSERT_TRUE(w->sync_sequence(UINT64_MAX).is_ok());
  EXPECT_EQ(w->prepare(market::RegisterAction{}).status().code(), ErrorCode::kOverflow);
}

TEST(Wallet, PrepareWithoutMarketFails) {
  TempDir dir;
  auto w = Wallet::create(dir.file("w"), "p", KdfParams::for_tests());
  ASSERT_TRUE(w.is_ok());
  EXPECT_EQ(w->prepare(market::RegisterAction{}).status().code(), ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace pfex::node
