// The trader node's replica on disk; see node_replica.hpp.
#include "service/node_replica.hpp"

#include <array>

#include "core/codec.hpp"
#include "core/file.hpp"
#include "node/log_adapter.hpp"

namespace pfex::service {
namespace {

constexpr std::array<std::uint8_t, 8> kMagic = {'P', 'F', 'E', 'X', 'N', 'R', 'P', '1'};
constexpr std::string_view kEntryDomain = "pfex/v1/node-replica-entry";
constexpr std::size_t kBatch = 4096;

Digest32 entry_hash(ByteSpan payload) {
  Hasher h(kEntryDomain);
  h.update(payload);
  return h.finish();
}

}  // namespace

Result<NodeReplica> NodeReplica::load(std::string path, std::string* note) {
  NodeReplica fresh(path);
  Result<Bytes> file = read_whole_file(path);
  if (!file.is_ok() && file.status().code() == ErrorCode::kNotFound) return fresh;
  if (!file.is_ok()) return file.status();
  Reader r(*file);
  std::array<std::uint8_t, 8> magic{};
  r.fixed("magic", magic);
  if (magic != kMagic) r.fail(Status::corruption("not a node replica"));
  if (r.u32("version") != kNodeReplicaVersion) {
    r.fail(Status::corruption("unknown node replica version"));
  }
  const std::uint64_t position = r.u64("position");
  NodeReplica replica(path);
  r.fixed("entry hash", replica.entry_hash_);
  const std::uint32_t count = r.u32("fill count");
  if (count > kKeptFills) r.fail(Status::corruption("too many fills"));
  for (std::uint32_t i = 0; i < count && !r.failed(); ++i) {
    Fill f;
    f.trade = r.u64("trade");
    f.side = static_cast<market::Side>(r.u8_in("side", 0, 1));
    f.qty = Qty(r.i64("qty"));
    f.price = Price(r.i64("price"));
    f.order = market::OrderId{r.u64("order")};
    f.taker = r.boolean("taker");
    replica.fills_.push_back(f);
  }
  const Bytes snapshot = r.var_bytes("snapshot", 1U << 30);
  Status s = r.finish();
  if (s) {
    Result<protocol::LedgerReplica> v = protocol::LedgerReplica::restore(snapshot);
    if (v.is_ok() && v->next_sequence() - 1 != position) {
      s = Status::corruption("snapshot position differs from the file's");
    } else if (v.is_ok()) {
      replica.validator_ = std::move(v).value();
      return replica;
    } else {
      s = v.status();
    }
  }
  if (note) *note = "node replica " + path + " not used (" + s.to_string() + "); replaying the log";
  return fresh;
}

void NodeReplica::keep_fills(std::span<const market::Event> events, market::AccountId me) {
  for (const market::Event& e : events) {
    const auto* t = std::get_if<market::Trade>(&e.body);
    if (!t || (t->maker_owner != me && t->taker_owner != me)) continue;
    const bool taker = t->taker_owner == me;
    fills_.push_back(Fill{t->seq, taker ? t->taker_side : market::opposite(t->taker_side), t->qty,
                          t->price, taker ? t->taker : t->maker, taker});
    if (fills_.size() > kKeptFills) fills_.pop_front();
  }
}

Result<std::vector<protocol::EntryOutcome>> NodeReplica::apply(
    std::span<const ledger::LogEntry> batch) {
  if (batch.empty()) return std::vector<protocol::EntryOutcome>{};
  // Set for each batch, not once: the sink points at this object, which may have moved.
  validator_.set_event_sink(
      [this](const protocol::EntryOutcome& out, std::span<const market::Event> events) {
        if (owner_) {
          if (const auto me = validator_.account_of(*owner_)) keep_fills(events, *me);
        }
        if (sink_) sink_(out, events);
      });
  PFEX_ASSIGN_OR_RETURN(auto outcomes, validator_.apply_batch(node::to_protocol_entries(batch), 2));
  entry_hash_ = entry_hash(batch.back().payload);
  return outcomes;
}

Status NodeReplica::catch_up(ledger::LogReader& log, const BatchObserver& on_batch,
                             std::string* note) {
  const std::uint64_t position = validator_.next_sequence() - 1;
  if (position > 0) {
    PFEX_ASSIGN_OR_RETURN(const auto at, log.read(position, 1));
    const bool same =
        !at.empty() && at[0].sequence == position && entry_hash(at[0].payload) == entry_hash_;
    // An entry after the position (an etcd log pruned below it) cannot be checked: trusted.
    const bool pruned = !at.empty() && at[0].sequence > position;
    if (!same && !pruned) {
      if (note) {
        *note = "the log no longer holds the entry the node replica stopped at (" +
                std::to_string(position) + "); replaying the log";
      }
      validator_ = protocol::LedgerReplica();
      entry_hash_ = {};
      fills_.clear();
    }
  }
  for (;;) {
    PFEX_ASSIGN_OR_RETURN(auto batch, log.read(validator_.next_sequence(), kBatch));
    if (batch.empty()) return Status::ok();
    PFEX_ASSIGN_OR_RETURN(const auto outcomes, apply(batch));
    if (on_batch) PFEX_RETURN_IF_ERROR(on_batch(validator_, batch, outcomes));
  }
}

Status NodeReplica::save() const {
  Bytes out(kMagic.begin(), kMagic.end());
  Writer w(&out);
  w.u32(kNodeReplicaVersion);
  w.u64(validator_.next_sequence() - 1);
  w.fixed(entry_hash_);
  w.u32(static_cast<std::uint32_t>(fills_.size()));
  for (const Fill& f : fills_) {
    w.u64(f.trade);
    w.u8(static_cast<std::uint8_t>(f.side));
    w.i64(f.qty.value());
    w.i64(f.price.value());
    w.u64(f.order.value);
    w.boolean(f.taker);
  }
  w.var_bytes(validator_.snapshot());
  return write_file_atomically(path_, out);
}

}  // namespace pfex::service
