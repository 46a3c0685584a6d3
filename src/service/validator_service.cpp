// The following validator; see validator_service.hpp.
#include "service/validator_service.hpp"

#include <fmt/core.h>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "market/names.hpp"
#include "node/log_adapter.hpp"
#include "node/read_server.hpp"
#include "protocol/ledger_replica.hpp"
#include "protocol/snapshot_store.hpp"
#include "service/log_spec.hpp"
#include "service/retrying_reader.hpp"
#include "sim/report.hpp"

namespace pfex::service {
namespace {

void print_state(const protocol::LedgerReplica& v, bool book) {
  fmt::print("entries {} (accepted {}, rejected {}), next sequence {}\nchain {}\nstate {}\n",
             v.entries(), v.accepted(), v.rejected(), v.next_sequence(), to_hex(v.chain()),
             to_hex(v.state_hash()));
  if (book && v.exchange()) {
    fmt::print("{}\n{}\n", sim::market_line(*v.exchange()), sim::book_table(*v.exchange(), 10));
  }
  std::fflush(stdout);  // SIGUSR1's answer must reach a redirected stdout now, not at exit
}

std::string state_json(const protocol::LedgerReplica& v) {
  return fmt::format(
      "{{\"entries\": {}, \"accepted\": {}, \"rejected\": {}, \"next_sequence\": {}, "
      "\"ledger_time\": {}, \"chain\": \"{}\", \"state_hash\": \"{}\"}}",
      v.entries(), v.accepted(), v.rejected(), v.next_sequence(), v.ledger_time().value(),
      to_hex(v.chain()), to_hex(v.state_hash()));
}

std::string trade_json(const market::Event& e, const market::Trade& t) {
  return fmt::format(
      "{{\"seq\": {}, \"time\": {}, \"price\": {}, \"qty\": {}, \"maker\": {}, "
      "\"taker\": {}, \"maker_account\": {}, \"taker_account\": {}, \"taker_side\": \"{}\"}}",
      t.seq, e.time.value(), t.price.value(), t.qty.value(), t.maker.value, t.taker.value,
      t.maker_owner.value, t.taker_owner.value, market::side_name(t.taker_side));
}

// One run of `pfex validator`, in the order run() takes its steps.
class ValidatorService {
 public:
  ValidatorService(const ValidatorOptions& o, const ValidatorControl& control)
      : o_(o), control_(control) {}

  Status run() {
    PFEX_RETURN_IF_ERROR(check_options());
    PFEX_RETURN_IF_ERROR(restore_snapshot());
    PFEX_RETURN_IF_ERROR(open_log());
    PFEX_RETURN_IF_ERROR(check_snapshot_against_log());
    PFEX_RETURN_IF_ERROR(record_snapshot());
    keep_rejections_and_trades();
    PFEX_RETURN_IF_ERROR(start_read_api());
    const Status followed = follow();
    if (api_) api_->stop();
    PFEX_RETURN_IF_ERROR(followed);
    if (since_snapshot_ > 0) PFEX_RETURN_IF_ERROR(snapshot());
    print_state(v_, o_.book);
    return Status::ok();
  }

 private:
  // Bad options fail before anything is opened.
  Status check_options() {
    if (!o_.name.empty() && (!o_.log.starts_with(kEtcdScheme) || o_.snapshots.empty())) {
      return Status::invalid_argument("--name needs an etcd log and --snapshots");
    }
    if (o_.prune && o_.name.empty()) return Status::invalid_argument("--prune needs --name");
    PFEX_ASSIGN_OR_RETURN(schedule_, protocol::SnapshotSchedule::every(o_.snapshot_every));
    return Status::ok();
  }

  // From the newest snapshot in --snapshots that restores, if any.
  Status restore_snapshot() {
    if (o_.snapshots.empty()) return Status::ok();
    PFEX_ASSIGN_OR_RETURN(auto opened, protocol::SnapshotStore::open(o_.snapshots));
    store_.emplace(std::move(opened));
    std::string skipped;
    PFEX_ASSIGN_OR_RETURN(auto latest, store_->load_latest(&skipped));
    if (!skipped.empty()) fmt::print(stderr, "pfex validator: skipped snapshots:\n{}", skipped);
    if (latest) {
      v_ = std::move(*latest);
      fmt::print("restored snapshot at log entry {}\n", v_.next_sequence() - 1);
    }
    return Status::ok();
  }

  Status open_log() {
    if (o_.log.starts_with(kEtcdScheme)) {
      PFEX_ASSIGN_OR_RETURN(auto log, open_etcd(o_.log));
      etcd_ = log.get();
      reader_ = std::move(log);
      return Status::ok();
    }
    PFEX_ASSIGN_OR_RETURN(reader_, open_log_reader(o_.log));
    return Status::ok();
  }

  // A restored snapshot must be of this log: refused if the log lacks its entry or holds another.
  Status check_snapshot_against_log() {
    if (!store_) return Status::ok();
    return store_->check_log(v_, node::entry_reader(*reader_));
  }

  // Registers (or re-registers) this validator's position: pruning never passes it.
  Status record_snapshot() {
    if (o_.name.empty()) return Status::ok();
    PFEX_RETURN_IF_ERROR(etcd_->record_snapshot(o_.name, v_.next_sequence() - 1));
    if (!o_.prune) return Status::ok();
    PFEX_ASSIGN_OR_RETURN(const std::uint64_t deleted, etcd_->prune());
    if (deleted > 0) {
      PFEX_ASSIGN_OR_RETURN(const std::uint64_t floor, etcd_->floor());
      fmt::print("pruned {} log entries below {}\n", deleted, floor);
    }
    return Status::ok();
  }

  // Prints each rejected entry; keeps the last trades for the read API.
  void keep_rejections_and_trades() {
    v_.set_event_sink(
        [this](const protocol::EntryOutcome& out, std::span<const market::Event> events) {
          if (!out.accepted) {
            fmt::print("entry {} rejected: {}\n", out.sequence, out.reason.to_string());
          }
          for (const market::Event& e : events) {
            if (const auto* t = std::get_if<market::Trade>(&e.body)) {
              trades_.push_back(trade_json(e, *t));
              if (trades_.size() > kKeptTrades) trades_.pop_front();
            }
          }
        });
  }

  // GET /v1/state, /v1/market, /v1/trades on the loopback port --http, if given.
  Status start_read_api() {
    if (o_.http_port == 0) return Status::ok();
    api_.emplace("127.0.0.1", o_.http_port);
    api_->get("/v1/state", [this] {
      std::lock_guard lock(mutex_);
      return state_json(v_);
    });
    api_->get("/v1/market", [this] {
      std::lock_guard lock(mutex_);
      return v_.exchange() ? sim::outcome_json(*v_.exchange(), {}) : std::string("null");
    });
    api_->get("/v1/trades", [this] {
      std::lock_guard lock(mutex_);
      std::string out = "[";
      for (const auto& t : trades_)
        out += (out.size() > 1 ? ", " : "") + t;
      return out + "]";
    });
    PFEX_ASSIGN_OR_RETURN(const std::uint16_t port, api_->start());
    fmt::print("read API on http://127.0.0.1:{}/v1/state, /v1/market, /v1/trades\n", port);
    std::fflush(stdout);
    return Status::ok();
  }

  // Reads and applies the log until caught up (--once) or stopped. A following validator rides
  // out an unreachable log (an etcd outage), saying so on stderr; --once reports the error.
  Status follow() {
    RetryingReader retrying(*reader_, RetryOptions{.report = {}, .stopped = control_.stopped});
    if (!o_.once) {
      // A supervisor (pfex demo --ledger) waits for this line before signalling: the process
      // handles SIGUSR1 (a print request) before it runs the service.
      fmt::print("following {} from log entry {}\n", o_.log, v_.next_sequence());
      std::fflush(stdout);
    }
    while (!control_.stopped()) {
      const std::uint64_t before = v_.next_sequence() - 1;
      const std::size_t limit =
          schedule_->batch_limit(before, kBatch);  // batches end on a snapshot
      auto got = o_.once ? reader_->read(v_.next_sequence(), limit)
                         : retrying.follow(v_.next_sequence(), limit, kFollowWait);
      if (!got && control_.stopped()) break;  // stopped while the log was unreachable
      PFEX_ASSIGN_OR_RETURN(auto batch, std::move(got));
      if (control_.take_print_request()) {
        std::lock_guard lock(mutex_);
        print_state(v_, o_.book);
      }
      if (batch.empty()) {
        if (o_.once) break;
        continue;
      }
      PFEX_RETURN_IF_ERROR(apply(batch));
      since_snapshot_ += batch.size();
      if (store_ && schedule_->due(before, v_.next_sequence() - 1)) {
        PFEX_RETURN_IF_ERROR(snapshot());
      }
    }
    return Status::ok();
  }

  Status apply(std::span<const ledger::LogEntry> batch) {
    std::lock_guard lock(mutex_);
    PFEX_ASSIGN_OR_RETURN(const auto outcomes,
                          v_.apply_batch(node::to_protocol_entries(batch), o_.threads));
    for (const auto& out : outcomes) {
      // Before a market opens the sink is not called: rejections are printed here.
      if (!out.accepted && !v_.exchange()) {
        fmt::print("entry {} rejected: {}\n", out.sequence, out.reason.to_string());
      }
    }
    return Status::ok();
  }

  Status snapshot() {
    if (!store_) return Status::ok();
    PFEX_RETURN_IF_ERROR(store_->save(v_, node::entry_reader(*reader_)));
    PFEX_RETURN_IF_ERROR(record_snapshot());
    since_snapshot_ = 0;
    return Status::ok();
  }

  static constexpr std::size_t kKeptTrades = 100;
  static constexpr std::size_t kBatch = 4096;
  static constexpr std::chrono::milliseconds kFollowWait{200};

  const ValidatorOptions& o_;
  const ValidatorControl& control_;
  protocol::LedgerReplica v_;
  std::optional<protocol::SnapshotStore> store_;
  std::optional<protocol::SnapshotSchedule> schedule_;
  std::unique_ptr<ledger::LogReader> reader_;
  ledger::EtcdLog* etcd_ = nullptr;  // the same object as reader_, when the log is etcd
  std::uint64_t since_snapshot_ = 0;
  // The read API's view: the validator under the lock, and the last trades seen.
  std::mutex mutex_;
  std::deque<std::string> trades_;
  std::optional<node::ReadServer> api_;
};

}  // namespace

Status run_validator(const ValidatorOptions& o, const ValidatorControl& control) {
  return ValidatorService(o, control).run();
}

}  // namespace pfex::service
