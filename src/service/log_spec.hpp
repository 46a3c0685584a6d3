// A log named by a string, as the command line and the services name it: a FileLog path, or
// "etcd:" and the comma-separated client URLs of an etcd cluster (docs/ledger/etcd.md).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "ledger/etcd_log.hpp"
#include "ledger/log.hpp"

namespace pfex::service {

inline constexpr std::string_view kEtcdScheme = "etcd:";

// An etcd log from its client URLs, comma-separated, with or without the "etcd:" prefix.
// `clock`: the appender's clock (empty: the system clock).
Result<std::unique_ptr<ledger::EtcdLog>> open_etcd(std::string_view spec,
                                                   std::function<LedgerTime()> clock = {});

// For appending (the gateway, market init): a FileLog is created if missing.
Result<std::unique_ptr<ledger::Log>> open_log_writer(const std::string& spec,
                                                     std::function<LedgerTime()> clock = {});

// For reading only (validators, nodes): never modifies a FileLog.
Result<std::unique_ptr<ledger::LogReader>> open_log_reader(const std::string& spec);

}  // namespace pfex::service
