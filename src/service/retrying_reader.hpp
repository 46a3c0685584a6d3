// A LogReader that rides out an unreachable log: a read that fails with an I/O error (an etcd
// cluster without quorum, a member restarting) is retried with exponential backoff for as long as
// it takes, and each failure and the recovery are reported, so a following validator or node
// says what is happening instead of giving up. Other errors (corruption, a bad request) are
// returned at once: waiting cannot fix them. docs/node/cli.md.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "ledger/log.hpp"

namespace pfex::service {

struct RetryOptions {
  std::chrono::milliseconds first_delay{200};  // after the first failure; doubles each time
  std::chrono::milliseconds max_delay{5000};
  // Called after each failed attempt with the error and the delay before the next one, and once
  // with an ok status when a read succeeds again. Default: a line on stderr.
  std::function<void(const Status&, std::chrono::milliseconds)> report;
  // Polled while waiting: when it returns true the reader stops retrying and returns the error.
  std::function<bool()> stopped;
};

class RetryingReader final : public ledger::LogReader {
 public:
  // `inner` must outlive this reader.
  RetryingReader(ledger::LogReader& inner, RetryOptions options);

  Result<std::vector<ledger::LogEntry>> read(std::uint64_t from, std::size_t max_entries) override;
  Result<std::vector<ledger::LogEntry>> follow(std::uint64_t from, std::size_t max_entries,
                                               std::chrono::milliseconds timeout,
                                               std::stop_token stop = {}) override;

  // Failed attempts since the last success (0 while the log answers).
  unsigned failures() const { return failures_; }

 private:
  Result<std::vector<ledger::LogEntry>> retry(
      const std::function<Result<std::vector<ledger::LogEntry>>()>& attempt,
      const std::stop_token& stop);

  ledger::LogReader& inner_;
  RetryOptions options_;
  unsigned failures_ = 0;
};

}  // namespace pfex::service
