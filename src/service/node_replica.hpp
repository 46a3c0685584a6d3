// The trader node's replica of the ledger, kept on disk beside its wallet so that a node command
// costs what is new in the log, not a replay of all of it: the validator's snapshot
// (protocol::LedgerReplica::snapshot, which carries its log position), a hash of the log entry at
// that position, and the wallet's account's last fills (the log before the snapshot is not read
// again, so `node status` keeps them here).
//
// File "<wallet>.replica", written atomically (core/file.hpp) while the wallet is open (its lock
// serialises writers). Format, all in the canonical codec:
//   magic "PFEXNRP1" | version:u32 (=1) | position:u64 | entry_hash:fixed_32 | fill_count:u32
//   fill* | snapshot:bytes
//   fill = trade:u64 side:u8 qty:i64 price:i64 order:u64 taker:bool
// entry_hash is BLAKE2b("pfex/v1/node-replica-entry", payload of the entry at `position`); 0s
// before the first entry. A file that does not decode, an unknown version, or an entry at the
// position whose hash differs (another log, or a log rewritten under the node) is not trusted:
// the node replays from the start and says why.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "core/hash.hpp"
#include "core/status.hpp"
#include "ledger/log.hpp"
#include "market/events.hpp"
#include "protocol/ledger_replica.hpp"

namespace pfex::service {

inline constexpr std::uint32_t kNodeReplicaVersion = 1;
inline constexpr std::size_t kKeptFills = 10;

// One fill of the wallet's account, as the node shows it.
struct Fill {
  std::uint64_t trade = 0;
  market::Side side = market::Side::kBuy;  // the account's side
  Qty qty;
  Price price;
  market::OrderId order;  // the account's order
  bool taker = false;
};

class NodeReplica {
 public:
  // Called with each batch once applied, and the outcomes of its entries.
  using BatchObserver =
      std::function<Status(const protocol::LedgerReplica&, std::span<const ledger::LogEntry>,
                           std::span<const protocol::EntryOutcome>)>;

  // The replica saved at `path`, or a fresh one (at the start of the log) when there is no file.
  // A file that cannot be trusted is a fresh replica too; `note` then says why.
  static Result<NodeReplica> load(std::string path, std::string* note = nullptr);

  NodeReplica() = default;  // at the start of the log, tied to no file until load()
  NodeReplica(NodeReplica&&) = default;
  NodeReplica& operator=(NodeReplica&&) = default;

  protocol::LedgerReplica& validator() { return validator_; }
  const protocol::LedgerReplica& validator() const { return validator_; }
  const std::deque<Fill>& fills() const { return fills_; }

  // Whose fills to keep: the account this key registered (the wallet's), once it has one.
  void set_owner(const protocol::PublicKey& key) { owner_ = key; }
  // Receives the events of every accepted entry applied from now on.
  void set_event_sink(protocol::LedgerReplica::EventSink sink) { sink_ = std::move(sink); }

  // Applies every entry of `log` after the replica's position, batch by batch. First checks that
  // the entry at the position is the one the replica applied; if not, starts over from the
  // beginning of the log and says so in `note`.
  Status catch_up(ledger::LogReader& log, const BatchObserver& on_batch = {},
                  std::string* note = nullptr);
  // Applies one batch that continues the log (as catch_up does for each).
  Result<std::vector<protocol::EntryOutcome>> apply(std::span<const ledger::LogEntry> batch);

  Status save() const;

 private:
  explicit NodeReplica(std::string path) : path_(std::move(path)) {}
  void keep_fills(std::span<const market::Event> events, market::AccountId me);

  std::string path_;
  protocol::LedgerReplica validator_;
  Digest32 entry_hash_{};
  std::deque<Fill> fills_;
  std::optional<protocol::PublicKey> owner_;
  protocol::LedgerReplica::EventSink sink_;
};

}  // namespace pfex::service
