#include "service/validator_service.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "ledger/file_log.hpp"
#include "ledger/test_util.hpp"
#include "protocol/snapshot_store.hpp"
#include "protocol/test_util.hpp"

namespace pfex::service {
namespace {

using ledger::testing::TempDir;

const ValidatorControl kRunning{[] { return false; }, [] { return false; }};

TEST(ValidatorService, BadOptionsFailBeforeAnythingIsOpened) {
  TempDir dir;
  ValidatorOptions o;
  o.log = dir.file("log");  // a FileLog: --name needs etcd
  o.snapshots = dir.file("snaps");
  o.name = "v1";
  EXPECT_EQ(run_validator(o, kRunning).code(), ErrorCode::kInvalidArgument);
  o.name.clear();
  o.prune = true;
  EXPECT_EQ(run_validator(o, kRunning).code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(o.snapshots));
}

TEST(ValidatorService, OnceCatchesUpSnapshotsAndRestartsFromTheSnapshot) {
  TempDir dir;
  protocol::testing::TestMarket m;
  protocol::testing::Trader t;
  {
    auto log = std::move(ledger::FileLog::open(dir.file("log"))).value();
    ASSERT_TRUE(log->append(m.genesis).is_ok());
    ASSERT_TRUE(log->append(m.sign(t, market::RegisterAction{})).is_ok());
  }
  ValidatorOptions o;
  o.log = dir.file("log");
  o.snapshots = dir.file("snaps");
  o.once = true;
  ASSERT_TRUE(run_validator(o, kRunning).is_ok());
  auto store = protocol::SnapshotStore::open(o.snapshots);
  ASSERT_TRUE(store.is_ok());
  auto latest = store->load_latest();
  ASSERT_TRUE(latest.is_ok() && latest->has_value());
  EXPECT_EQ((*latest)->next_sequence(), 3U);
  EXPECT_TRUE(run_validator(o, kRunning).is_ok());  // restores, nothing new
  // A stopped validator ends at once.
  o.once = false;
  EXPECT_TRUE(run_validator(o, {[] { return true; }, [] { return false; }}).is_ok());
}

}  // namespace
}  // namespace pfex::service
