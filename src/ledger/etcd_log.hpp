// EtcdLog: the distributed Log, with an etcd 3.4 cluster as the ordering service (docs/design.md
// section 7). How entries map onto etcd keys and revisions, and why the client uses etcd's JSON
// gateway, is in docs/ledger/etcd.md.
//
// An append is the etcd transaction "create key <prefix><hex BLAKE2b-256(payload)> if absent"; the
// entry's sequence is the etcd revision that created the key. A retried append of the same bytes
// therefore finds the key and returns the first entry: appends are idempotent and may be retried
// freely across members and failures. Sequences increase along the log but are not dense.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "ledger/log.hpp"

namespace pfex::ledger {

struct EtcdLogOptions {
  // Client URLs of the members, e.g. "http://127.0.0.1:23791". Requests go to one member and move
  // to the next when it fails.
  std::vector<std::string> endpoints;
  // Key prefix of the log's entries; no other key may be written under it.
  std::string prefix = "tx/";
  // The appender's clock stamped into each entry's envelope.
  std::function<LedgerTime()> clock = system_clock_now;
  // Time limit of one HTTP request, and the total time an append or read keeps retrying (moving
  // between members) before it gives up with an io_error.
  std::chrono::milliseconds request_timeout{2000};
  std::chrono::milliseconds retry_deadline{15000};
};

class EtcdLog final : public Log {
 public:
  using Options = EtcdLogOptions;

  // Checks the options; does not contact the cluster (the first request does).
  static Result<std::unique_ptr<EtcdLog>> open(Options options);

  // Durable once it returns: etcd acknowledges a write after a quorum has it in its fsync'd Raft
  // log. Returns the sequence of the entry holding `payload` and the entry time in its envelope,
  // which is the first append's when the bytes were already in the log. Thread-safe.
  Result<Appended> append(ByteSpan payload) override;
  // Linearizable range read of the entries created at revision >= from, in revision order.
  Result<std::vector<LogEntry>> read(std::uint64_t from, std::size_t max_entries) override;
  // Range read, then, if it found nothing, a watch of the prefix from the revision after the
  // read's (never from 0: an explicit revision >= 1).
  Result<std::vector<LogEntry>> follow(std::uint64_t from, std::size_t max_entries,
                                       std::chrono::milliseconds timeout,
                                       std::stop_token stop = {}) override;

  // ---- pruning (docs/ledger/etcd.md, "Compaction") ----
  // Validators record the last entry their newest snapshot covers, under their name; a validator
  // registers (with 0, or the snapshot it restored) before pruning may pass it.
  Status record_snapshot(std::string_view validator, std::uint64_t last_sequence);
  // The recorded snapshots, by validator name.
  Result<std::vector<std::pair<std::string, std::uint64_t>>> snapshots();
  // Deletes every entry at or below the oldest recorded snapshot (none if no validator recorded
  // one) and compacts etcd's history there. The floor is written first, so from then on a read
  // or follow from below it fails with failed_precondition ("restore a snapshot") instead of
  // silently skipping deleted entries. Returns the number of entries deleted. Idempotent.
  Result<std::uint64_t> prune();
  // The first sequence a reader may still start from (1 until the first prune).
  Result<std::uint64_t> floor();

 private:
  struct Page {
    std::vector<LogEntry> entries;
    std::uint64_t revision = 0;  // the store revision the read saw
  };

  explicit EtcdLog(Options options);
  Result<Page> read_page(std::uint64_t from, std::size_t max_entries);
  // Interpret replies; may throw nlohmann::json::exception, which their callers turn into errors.
  Result<Appended> appended_from_reply(const nlohmann::json& reply, ByteSpan payload,
                                       LedgerTime time) const;
  Result<Page> page_from_reply(const nlohmann::json& reply) const;
  Result<std::vector<LogEntry>> watch_once(std::uint64_t start_revision, std::size_t max_entries,
                                           std::chrono::milliseconds wait,
                                           const std::stop_token& stop);
  // POSTs `body` until a member answers or retry_deadline passes, moving to the next member
  // after each retryable failure. Only for idempotent requests (all of EtcdLog's are).
  Result<std::string> post(const std::string& path, const std::string& body);
  // Keys outside the entries' prefix: "meta:<prefix>floor", "meta:<prefix>snapshot/<name>".
  std::string floor_key() const { return "meta:" + options_.prefix + "floor"; }
  std::string snapshot_key_prefix() const { return "meta:" + options_.prefix + "snapshot/"; }
  std::string current_endpoint() const;
  void move_to_next_endpoint(const std::string& failed);

  const Options options_;
  std::atomic<std::size_t> endpoint_index_{0};
};

}  // namespace pfex::ledger
