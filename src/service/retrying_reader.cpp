// The retrying log reader; see retrying_reader.hpp.
#include "service/retrying_reader.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <thread>

namespace pfex::service {

RetryingReader::RetryingReader(ledger::LogReader& inner, RetryOptions options)
    : inner_(inner), options_(std::move(options)) {
  if (!options_.report) {
    options_.report = [](const Status& s, std::chrono::milliseconds delay) {
      if (s.is_ok()) {
        fmt::print(stderr, "log reachable again\n");
      } else {
        fmt::print(stderr, "log unavailable ({}); retrying in {} ms\n", s.to_string(),
                   delay.count());
      }
    };
  }
  if (options_.first_delay.count() < 1) options_.first_delay = std::chrono::milliseconds(1);
  options_.max_delay = std::max(options_.max_delay, options_.first_delay);
}

Result<std::vector<ledger::LogEntry>> RetryingReader::read(std::uint64_t from,
                                                           std::size_t max_entries) {
  return retry([&] { return inner_.read(from, max_entries); }, {});
}

Result<std::vector<ledger::LogEntry>> RetryingReader::follow(std::uint64_t from,
                                                             std::size_t max_entries,
                                                             std::chrono::milliseconds timeout,
                                                             std::stop_token stop) {
  return retry([&] { return inner_.follow(from, max_entries, timeout, stop); }, stop);
}

Result<std::vector<ledger::LogEntry>> RetryingReader::retry(
    const std::function<Result<std::vector<ledger::LogEntry>>()>& attempt,
    const std::stop_token& stop) {
  auto delay = options_.first_delay;
  for (;;) {
    Result<std::vector<ledger::LogEntry>> got = attempt();
    if (got.is_ok()) {
      if (failures_ > 0) options_.report(Status::ok(), std::chrono::milliseconds(0));
      failures_ = 0;
      return got;
    }
    if (got.status().code() != ErrorCode::kIoError) return got;
    ++failures_;
    options_.report(got.status(), delay);
    // Sleeps in short steps so a stop request is noticed promptly.
    const auto until = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < until) {
      if (stop.stop_requested() || (options_.stopped && options_.stopped())) return got;
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
          std::chrono::milliseconds(20), std::chrono::duration_cast<std::chrono::milliseconds>(
                                             until - std::chrono::steady_clock::now()) +
                                             std::chrono::milliseconds(1)));
    }
    delay = std::min(delay * 2, options_.max_delay);
  }
}

}  // namespace pfex::service
