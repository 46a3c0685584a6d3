// The seeds of pfex_fuzz_validator (fuzz/corpus/pfex_fuzz_validator): inputs in the fuzz target's
// format (chunks `mode:u8 len:u8 bytes`, an odd mode is an action signed by trader mode/2 % 2)
// that open accounts, fund them and trade, so the fuzzer starts past registration. The test
// replays each seed as the target does and checks what it reaches. With PFEX_WRITE_FUZZ_SEEDS=1
// it first writes them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "protocol/action_codec.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/test_util.hpp"

namespace pfex::protocol {
namespace {

using market::AccountId;
using market::Side;
using testing::limit;

// One chunk of a seed: `mode len bytes`.
void chunk(Bytes& seed, std::uint8_t mode, const Bytes& bytes) {
  ASSERT_LE(bytes.size(), 255U);
  seed.push_back(mode);
  seed.push_back(static_cast<std::uint8_t>(bytes.size()));
  seed.insert(seed.end(), bytes.begin(), bytes.end());
}

// The traders of the fuzz target (seeds all 7 and all 9) act with modes 1 and 3.
Bytes trading_seed() {
  Bytes seed;
  chunk(seed, 1, encode_action(market::RegisterAction{}));
  chunk(seed, 3, encode_action(market::RegisterAction{}));
  chunk(seed, 1, encode_action(market::DepositAction{AccountId{1}, Cash(1'000'000'000)}));
  chunk(seed, 3, encode_action(market::DepositAction{AccountId{2}, Cash(1'000'000'000)}));
  chunk(seed, 1, encode_action(market::SubmitAction{AccountId{1}, limit(Side::kBuy, 1000, 5)}));
  chunk(seed, 3, encode_action(market::SubmitAction{AccountId{2}, limit(Side::kSell, 1000, 3)}));
  chunk(seed, 1, encode_action(market::SubmitAction{AccountId{1}, limit(Side::kBuy, 990, 2)}));
  return seed;
}

// Replays a seed as fuzz/validator_fuzz.cpp does; returns the accepted entries after genesis.
std::uint64_t replay(const Bytes& data) {
  testing::TestMarket market;
  std::array<std::uint8_t, kSeedBytes> seven{}, nine{};
  seven.fill(7);
  nine.fill(9);
  const SigningKey traders[2] = {SigningKey::from_seed(seven), SigningKey::from_seed(nine)};
  std::uint64_t signer_seq[2] = {0, 0};
  LedgerReplica v;
  EXPECT_TRUE(v.apply(market.entry(market.genesis))->accepted);
  std::size_t pos = 0;
  while (pos + 2 <= data.size()) {
    const std::uint8_t mode = data[pos];
    const std::size_t len = std::min<std::size_t>(data[pos + 1], data.size() - pos - 2);
    const ByteSpan bytes(data.data() + pos + 2, len);
    pos += 2 + len;
    Bytes payload(bytes.begin(), bytes.end());
    if (mode % 2 == 1) {
      auto action = decode_action(bytes);
      EXPECT_TRUE(action.is_ok()) << action.status().to_string();
      if (!action.is_ok()) continue;
      const std::size_t who = (mode / 2) % 2;
      payload = sign_transparent(traders[who], market.id, ++signer_seq[who], *action);
    }
    auto out = v.apply(market.entry(std::move(payload)));
    EXPECT_TRUE(out.is_ok());
  }
  return v.accepted() - 1;
}

TEST(ValidatorFuzzSeeds, SeedsRegisterFundAndTrade) {
  const std::filesystem::path dir =
      std::filesystem::path(PFEX_SOURCE_DIR) / "fuzz/corpus/pfex_fuzz_validator";
  const char* write = std::getenv("PFEX_WRITE_FUZZ_SEEDS");
  if (write != nullptr && std::string_view(write) == "1") {
    std::filesystem::create_directories(dir);
    const Bytes seed = trading_seed();
    std::ofstream out(dir / "register-fund-trade", std::ios::binary);
    out.write(reinterpret_cast<const char*>(seed.data()),
              static_cast<std::streamsize>(seed.size()));
  }
  std::ifstream in(dir / "register-fund-trade", std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing seed " << (dir / "register-fund-trade");
  const Bytes seed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(seed, trading_seed());
  EXPECT_EQ(replay(seed), 7U);  // every entry accepted: two accounts, funded, three orders
}

}  // namespace
}  // namespace pfex::protocol
