// The private wallet file: round trip with a pending transaction, wrong passphrase, damage and
// truncation refused with the place, the version checked, secrets not in the clear.
#include "node/private_wallet_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "core/file.hpp"
#include "node/test_util.hpp"
#include "protocol/private/test_util.hpp"

namespace pfex::node {
namespace {

using priv::testing::gens;
using testing::TempDir;

constexpr protocol::MarketId kMarket = {7, 7, 7};

// Writes without fsync: the damage tests write a file per byte.
void write_plain(const std::string& path, ByteSpan bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good());
}

Bytes wallet_state(const priv::PrivateWallet& w) {
  Bytes out;
  Writer writer(&out);
  w.encode_state(writer);
  return out;
}

TEST(PrivateWalletStore, RoundTripsTheWalletThePendingEntryAndThePosition) {
  TempDir dir;
  const std::string path = dir.file("pw");
  priv::PrivateLedger ledger(gens(), priv::testing::small_terms());
  Bytes state, entry;
  std::array<std::uint8_t, 32> identity{};
  {
    auto s = PrivateWalletStore::create(path, "pass", gens(), kMarket, KdfParams::for_tests());
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    identity = s->wallet().identity();
    auto reg = s->wallet().build_register(ledger, 1, ledger.terms().bond);
    ASSERT_TRUE(reg.is_ok());
    entry = protocol::encode_entry(protocol::PrivateEntry{priv::PrivateTx(*reg)});
    ASSERT_TRUE(s->save_pending(entry).is_ok());
    ASSERT_TRUE(s->save_progress(41, false).is_ok());
    ASSERT_TRUE(s->save_progress(40, false).is_ok());  // never moves back
    state = wallet_state(s->wallet());
    // The chain key is not in the file in the clear.
    auto file = read_whole_file(path);
    ASSERT_TRUE(file.is_ok());
    const auto& k = s->wallet().chain_key().bytes();
    EXPECT_EQ(std::search(file->begin(), file->end(), k.begin(), k.end()), file->end());
  }
  auto s = PrivateWalletStore::open(path, "pass", gens());
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  EXPECT_EQ(s->market(), kMarket);
  EXPECT_EQ(s->followed(), 41U);
  ASSERT_TRUE(s->pending_entry().has_value());
  EXPECT_EQ(*s->pending_entry(), entry);
  EXPECT_EQ(s->wallet().identity(), identity);
  EXPECT_EQ(wallet_state(s->wallet()), state);
  EXPECT_TRUE(s->wallet().has_pending());
  ASSERT_TRUE(s->save_progress(41, true).is_ok());
  EXPECT_FALSE(s->pending_entry().has_value());
  EXPECT_EQ(PrivateWalletStore::create(path, "x", gens(), kMarket, KdfParams::for_tests())
                .status()
                .code(),
            ErrorCode::kAlreadyExists);
}

TEST(PrivateWalletStore, APendingEntryUpToTheTransactionLimit) {
  TempDir dir;
  const std::string path = dir.file("pw");
  constexpr std::size_t kLimit = protocol::kMaxTransactionBytes;
  {
    auto s = PrivateWalletStore::create(path, "pass", gens(), kMarket, KdfParams::for_tests());
    ASSERT_TRUE(s.is_ok());
    ASSERT_TRUE(s->save_pending(Bytes(kLimit - 1, 1)).is_ok());
    ASSERT_TRUE(s->save_pending(Bytes(kLimit, 2)).is_ok());
    const Status over = s->save_pending(Bytes(kLimit + 1, 3));
    EXPECT_EQ(over.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(*s->pending_entry(), Bytes(kLimit, 2));  // unchanged
  }
  {
    auto s = PrivateWalletStore::open(path, "pass", gens());
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    EXPECT_EQ(*s->pending_entry(), Bytes(kLimit, 2));
  }
  // A file claiming a longer one is damaged.
  auto opened = read_sealed_file(path, {'P', 'F', 'E', 'X', 'P', 'W', 'L', '1'}, "pass", "w");
  ASSERT_TRUE(opened.is_ok());
  Bytes contents = opened->contents;
  Bytes longer(contents.begin(), contents.begin() + 4 + 32 + 8 + 1);
  Writer w(&longer);
  w.var_bytes(Bytes(kLimit + 1, 2));
  longer.insert(longer.end(), contents.begin() + 4 + 32 + 8 + 1 + 4 + kLimit, contents.end());
  ASSERT_TRUE(write_sealed_file(path, {'P', 'F', 'E', 'X', 'P', 'W', 'L', '1'}, opened->key, longer)
                  .is_ok());
  const Status st = PrivateWalletStore::open(path, "pass", gens()).status();
  EXPECT_EQ(st.code(), ErrorCode::kCorruption) << st.to_string();
  EXPECT_NE(st.message().find("pending entry"), std::string_view::npos) << st.to_string();
}

TEST(PrivateWalletStore, OneOpenerAtATime) {
  TempDir dir;
  const std::string path = dir.file("pw");
  auto s = PrivateWalletStore::create(path, "pass", gens(), kMarket, KdfParams::for_tests());
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(PrivateWalletStore::open(path, "pass", gens()).status().code(),
            ErrorCode::kFailedPrecondition);
}

TEST(PrivateWalletStore, WrongPassphraseIsNotDamage) {
  TempDir dir;
  const std::string path = dir.file("pw");
  ASSERT_TRUE(
      PrivateWalletStore::create(path, "right", gens(), kMarket, KdfParams::for_tests()).is_ok());
  const Status wrong = PrivateWalletStore::open(path, "wrong", gens()).status();
  EXPECT_EQ(wrong.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong.message().find("wrong passphrase"), std::string_view::npos);
  EXPECT_TRUE(PrivateWalletStore::open(path, "right", gens()).is_ok());
}

TEST(PrivateWalletStore, EveryTruncationAndEveryDamagedByteIsRefused) {
  TempDir dir;
  const std::string path = dir.file("pw");
  ASSERT_TRUE(
      PrivateWalletStore::create(path, "pass", gens(), kMarket, KdfParams::for_tests()).is_ok());
  auto whole = read_whole_file(path);
  ASSERT_TRUE(whole.is_ok());
  const std::string cut = dir.file("cut");
  for (std::size_t n = 0; n < whole->size(); ++n) {
    write_plain(cut, ByteSpan(*whole).first(n));
    const Status st = PrivateWalletStore::open(cut, "pass", gens()).status();
    ASSERT_EQ(st.code(), ErrorCode::kCorruption) << n << ": " << st.to_string();
  }
  for (std::size_t i = 0; i < whole->size(); ++i) {
    Bytes damaged = *whole;
    damaged[i] ^= 0x01;
    write_plain(cut, damaged);
    const Status st = PrivateWalletStore::open(cut, "pass", gens()).status();
    ASSERT_EQ(st.code(), ErrorCode::kCorruption) << i << ": " << st.to_string();
    EXPECT_NE(st.message().find("is damaged"), std::string_view::npos);
  }
  // A transparent wallet is not a private one.
  const std::string transparent = dir.file("tw");
  ASSERT_TRUE(Wallet::create(transparent, "pass", KdfParams::for_tests()).is_ok());
  EXPECT_EQ(PrivateWalletStore::open(transparent, "pass", gens()).status().code(),
            ErrorCode::kCorruption);
}

// Contents sealed with the right key but not what a store writes: refused, naming the field.
TEST(PrivateWalletStore, DamagedContentsAreRefusedWithThePlace) {
  TempDir dir;
  const std::string path = dir.file("pw");
  ASSERT_TRUE(
      PrivateWalletStore::create(path, "pass", gens(), kMarket, KdfParams::for_tests()).is_ok());
  auto opened = read_sealed_file(path, {'P', 'F', 'E', 'X', 'P', 'W', 'L', '1'}, "pass", "w");
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  const Bytes contents = opened->contents;
  auto refused = [&](ByteSpan c, std::string_view what) {
    ASSERT_TRUE(
        write_sealed_file(path, {'P', 'F', 'E', 'X', 'P', 'W', 'L', '1'}, opened->key, c).is_ok());
    const Status st = PrivateWalletStore::open(path, "pass", gens()).status();
    ASSERT_EQ(st.code(), ErrorCode::kCorruption) << what << ": " << st.to_string();
    EXPECT_NE(st.message().find(what), std::string_view::npos) << st.to_string();
  };
  Bytes version = contents;
  version[0] = 2;
  refused(version, "unknown version 2");
  for (std::size_t n = 0; n < contents.size(); ++n)
    refused(ByteSpan(contents).first(n), "truncated");
  Bytes longer = contents;
  longer.push_back(0);
  refused(longer, "trailing");
  Bytes chain_key = contents;
  // version, market, followed, no pending entry, the state's length, its version: the chain key.
  const std::size_t at = 4 + 32 + 8 + 1 + 4 + 4;
  std::fill(chain_key.begin() + at, chain_key.begin() + at + 32, 0xff);
  refused(chain_key, "chain key");
  ASSERT_TRUE(
      write_sealed_file(path, {'P', 'F', 'E', 'X', 'P', 'W', 'L', '1'}, opened->key, contents)
          .is_ok());
  EXPECT_TRUE(PrivateWalletStore::open(path, "pass", gens()).is_ok());
}

}  // namespace
}  // namespace pfex::node
