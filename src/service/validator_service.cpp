// The following validator; see validator_service.hpp.
#include "service/validator_service.hpp"

#include <fmt/core.h>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "node/read_server.hpp"
#include "protocol/snapshot_store.hpp"
#include "protocol/validator.hpp"
#include "service/log_spec.hpp"
#include "service/retrying_reader.hpp"
#include "sim/report.hpp"

namespace pfex::service {
namespace {

void print_state(const protocol::Validator& v, bool book) {
  fmt::print("entries {} (accepted {}, rejected {}), next sequence {}\nchain {}\nstate {}\n",
             v.entries(), v.accepted(), v.rejected(), v.next_sequence(), to_hex(v.chain()),
             to_hex(v.state_hash()));
  if (book && v.exchange()) {
    fmt::print("{}\n{}\n", sim::market_line(*v.exchange()), sim::book_table(*v.exchange(), 10));
  }
  std::fflush(stdout);  // SIGUSR1's answer must reach a redirected stdout now, not at exit
}

std::string state_json(const protocol::Validator& v) {
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

}  // namespace

Status run_validator(const ValidatorOptions& o, const ValidatorControl& control) {
  std::optional<protocol::SnapshotStore> store;
  protocol::Validator v;
  if (!o.snapshots.empty()) {
    PFEX_ASSIGN_OR_RETURN(auto opened, protocol::SnapshotStore::open(o.snapshots));
    store.emplace(std::move(opened));
    std::string skipped;
    PFEX_ASSIGN_OR_RETURN(auto latest, store->load_latest(&skipped));
    if (!skipped.empty()) fmt::print(stderr, "pfex validator: skipped snapshots:\n{}", skipped);
    if (latest) {
      v = std::move(*latest);
      fmt::print("restored snapshot at log entry {}\n", v.next_sequence() - 1);
    }
  }
  std::unique_ptr<ledger::LogReader> reader;
  ledger::EtcdLog* etcd = nullptr;  // the same object as reader, when the log is etcd
  if (o.log.starts_with(kEtcdScheme)) {
    PFEX_ASSIGN_OR_RETURN(auto log, open_etcd(o.log));
    etcd = log.get();
    reader = std::move(log);
  } else {
    PFEX_ASSIGN_OR_RETURN(reader, open_log_reader(o.log));
  }
  if (!o.name.empty() && (!etcd || !store)) {
    return Status::invalid_argument("--name needs an etcd log and --snapshots");
  }
  if (o.prune && o.name.empty()) return Status::invalid_argument("--prune needs --name");
  // Registers (or re-registers) this validator's position: pruning never passes it.
  auto record_snapshot = [&]() -> Status {
    if (o.name.empty()) return Status::ok();
    PFEX_RETURN_IF_ERROR(etcd->record_snapshot(o.name, v.next_sequence() - 1));
    if (!o.prune) return Status::ok();
    PFEX_ASSIGN_OR_RETURN(const std::uint64_t deleted, etcd->prune());
    if (deleted > 0) {
      PFEX_ASSIGN_OR_RETURN(const std::uint64_t floor, etcd->floor());
      fmt::print("pruned {} log entries below {}\n", deleted, floor);
    }
    return Status::ok();
  };
  PFEX_RETURN_IF_ERROR(record_snapshot());
  std::uint64_t since_snapshot = 0;

  // The read API's view: the validator under a lock, and the last trades seen.
  std::mutex mutex;
  std::deque<std::string> trades;
  constexpr std::size_t kKeptTrades = 100;
  v.set_event_sink([&](const protocol::EntryOutcome& out, std::span<const market::Event> events) {
    if (!out.accepted) {
      fmt::print("entry {} rejected: {}\n", out.sequence, out.reason.to_string());
    }
    for (const market::Event& e : events) {
      if (const auto* t = std::get_if<market::Trade>(&e.body)) {
        trades.push_back(trade_json(e, *t));
        if (trades.size() > kKeptTrades) trades.pop_front();
      }
    }
  });
  std::optional<node::ReadServer> api;
  if (o.http_port != 0) {
    api.emplace("127.0.0.1", o.http_port);
    api->get("/v1/state", [&] {
      std::lock_guard lock(mutex);
      return state_json(v);
    });
    api->get("/v1/market", [&] {
      std::lock_guard lock(mutex);
      return v.exchange() ? sim::outcome_json(*v.exchange(), {}) : std::string("null");
    });
    api->get("/v1/trades", [&] {
      std::lock_guard lock(mutex);
      std::string out = "[";
      for (const auto& t : trades)
        out += (out.size() > 1 ? ", " : "") + t;
      return out + "]";
    });
    PFEX_ASSIGN_OR_RETURN(const std::uint16_t port, api->start());
    fmt::print("read API on http://127.0.0.1:{}/v1/state, /v1/market, /v1/trades\n", port);
    std::fflush(stdout);
  }
  // A following validator rides out an unreachable log (an etcd outage), saying so on stderr;
  // --once reports the error instead.
  RetryingReader retrying(*reader, RetryOptions{.report = {}, .stopped = control.stopped});
  if (!o.once) {
    // A supervisor (pfex demo --ledger) waits for this line before signalling: the process
    // handles SIGUSR1 (a print request) before it runs the service.
    fmt::print("following {} from log entry {}\n", o.log, v.next_sequence());
    std::fflush(stdout);
  }
  while (!control.stopped()) {
    auto got = o.once ? reader->read(v.next_sequence(), 4096)
                      : retrying.follow(v.next_sequence(), 4096, std::chrono::milliseconds(200));
    if (!got && control.stopped()) break;  // stopped while the log was unreachable
    PFEX_ASSIGN_OR_RETURN(auto batch, std::move(got));
    if (control.take_print_request()) {
      std::lock_guard lock(mutex);
      print_state(v, o.book);
    }
    if (batch.empty()) {
      if (o.once) break;
      continue;
    }
    {
      std::lock_guard lock(mutex);
      PFEX_ASSIGN_OR_RETURN(const auto outcomes, v.apply_batch(batch, o.threads));
      for (const auto& out : outcomes) {
        if (!out.accepted && !v.exchange()) {
          fmt::print("entry {} rejected: {}\n", out.sequence, out.reason.to_string());
        }
      }
    }
    since_snapshot += batch.size();
    if (store && since_snapshot >= o.snapshot_every) {
      PFEX_RETURN_IF_ERROR(store->save(v));
      PFEX_RETURN_IF_ERROR(record_snapshot());
      since_snapshot = 0;
    }
  }
  if (api) api->stop();
  if (store && since_snapshot > 0) {
    PFEX_RETURN_IF_ERROR(store->save(v));
    PFEX_RETURN_IF_ERROR(record_snapshot());
  }
  print_state(v, o.book);
  return Status::ok();
}

}  // namespace pfex::service
