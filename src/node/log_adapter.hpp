// The ledger's entries as the protocol reads them. protocol and ledger do not know each other;
// whatever reads a log for a validator (the node, the CLI's validator and trader loops) composes
// them through these conversions.
#pragma once

#include <span>
#include <vector>

#include "ledger/log.hpp"
#include "protocol/ledger_entry.hpp"

namespace pfex::node {

inline protocol::LedgerEntry to_protocol_entry(const ledger::LogEntry& e) {
  return protocol::LedgerEntry{e.sequence, e.entry_time, e.payload};
}

// Copies (the payloads are small next to a signature check).
inline std::vector<protocol::LedgerEntry> to_protocol_entries(
    std::span<const ledger::LogEntry> entries) {
  std::vector<protocol::LedgerEntry> out;
  out.reserve(entries.size());
  for (const ledger::LogEntry& e : entries)
    out.push_back(to_protocol_entry(e));
  return out;
}

// Moves the payloads out of a batch that is not used again.
inline std::vector<protocol::LedgerEntry> to_protocol_entries(
    std::vector<ledger::LogEntry>&& entries) {
  std::vector<protocol::LedgerEntry> out;
  out.reserve(entries.size());
  for (ledger::LogEntry& e : entries)
    out.push_back(protocol::LedgerEntry{e.sequence, e.entry_time, std::move(e.payload)});
  return out;
}

// Reads `log` for the protocol (a snapshot's anchor); `log` must outlive the reader.
inline protocol::LedgerEntryReader entry_reader(ledger::LogReader& log) {
  return
      [&log](std::uint64_t first, std::size_t max) -> Result<std::vector<protocol::LedgerEntry>> {
        PFEX_ASSIGN_OR_RETURN(auto entries, log.read(first, max));
        return to_protocol_entries(std::move(entries));
      };
}

}  // namespace pfex::node
