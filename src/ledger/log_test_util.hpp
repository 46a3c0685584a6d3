// Test helpers over any Log, for gtest tests (they report through EXPECT): the ledger's own tests
// and the fault campaigns.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "ledger/log.hpp"

namespace pfex::ledger::testing {

// Every entry of `log` from the start, a page at a time (sequences are not dense on etcd). A
// failed read is a test failure and ends the list.
inline std::vector<LogEntry> read_all(LogReader& log, std::size_t page = 4096) {
  std::vector<LogEntry> all;
  for (std::uint64_t from = 1;;) {
    auto entries = log.read(from, page);
    EXPECT_TRUE(entries.is_ok()) << entries.status().to_string();
    if (!entries.is_ok() || entries->empty()) return all;
    from = entries->back().sequence + 1;
    for (auto& e : *entries)
      all.push_back(std::move(e));
  }
}

}  // namespace pfex::ledger::testing
