#include "service/retrying_reader.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace pfex::service {
namespace {

// A reader whose answers are scripted: each call takes the next one.
class ScriptedReader final : public ledger::LogReader {
 public:
  std::deque<Result<std::vector<ledger::LogEntry>>> answers;
  int calls = 0;
  Result<std::vector<ledger::LogEntry>> read(std::uint64_t, std::size_t) override { return next(); }
  Result<std::vector<ledger::LogEntry>> follow(std::uint64_t, std::size_t,
                                               std::chrono::milliseconds,
                                               std::stop_token) override {
    return next();
  }

 private:
  Result<std::vector<ledger::LogEntry>> next() {
    ++calls;
    auto a = std::move(answers.front());
    answers.pop_front();
    return a;
  }
};

std::vector<ledger::LogEntry> one_entry() {
  return {ledger::LogEntry{7, LedgerTime(1), Bytes{1, 2, 3}}};
}

TEST(RetryingReader, KeepsRetryingThroughAnOutageWithBackoffAndSaysSo) {
  ScriptedReader inner;
  for (int i = 0; i < 6; ++i)
    inner.answers.emplace_back(Status::io_error("etcd: no member answered"));
  inner.answers.emplace_back(one_entry());
  std::vector<std::chrono::milliseconds> delays;
  int recovered = 0;
  RetryingReader reader(inner, RetryOptions{std::chrono::milliseconds(1),
                                            std::chrono::milliseconds(4),
                                            [&](const Status& s, std::chrono::milliseconds d) {
                                              if (s.is_ok()) {
                                                ++recovered;
                                              } else {
                                                EXPECT_NE(s.message().find("no member"),
                                                          std::string_view::npos);
                                                delays.push_back(d);
                                              }
                                            },
                                            {}});
  auto got = reader.follow(7, 10, std::chrono::milliseconds(200));
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_EQ(got->size(), 1U);
  EXPECT_EQ(inner.calls, 7);
  using ms = std::chrono::milliseconds;
  EXPECT_EQ(delays, (std::vector<ms>{ms(1), ms(2), ms(4), ms(4), ms(4), ms(4)}));
  EXPECT_EQ(recovered, 1);
  EXPECT_EQ(reader.failures(), 0U);
}

TEST(RetryingReader, OtherErrorsReturnAtOnce) {
  ScriptedReader inner;
  inner.answers.emplace_back(Status::corruption("record 5 at offset 120: checksum mismatch"));
  int reports = 0;
  RetryingReader reader(inner, RetryOptions{std::chrono::milliseconds(1),
                                            std::chrono::milliseconds(1),
                                            [&](const Status&, auto) { ++reports; },
                                            {}});
  EXPECT_EQ(reader.read(1, 10).status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(inner.calls, 1);
  EXPECT_EQ(reports, 0);
}

TEST(RetryingReader, AStopRequestEndsTheWait) {
  ScriptedReader inner;
  for (int i = 0; i < 3; ++i)
    inner.answers.emplace_back(Status::io_error("down"));
  bool stop = false;
  RetryingReader reader(
      inner, RetryOptions{std::chrono::milliseconds(60'000), std::chrono::milliseconds(60'000),
                          [&](const Status&, auto) { stop = true; }, [&] { return stop; }});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(reader.read(1, 10).status().code(), ErrorCode::kIoError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(inner.calls, 1);
}

}  // namespace
}  // namespace pfex::service
