// Opening a log by name; see log_spec.hpp.
#include "service/log_spec.hpp"

#include "ledger/file_log.hpp"

namespace pfex::service {

Result<std::unique_ptr<ledger::EtcdLog>> open_etcd(std::string_view spec,
                                                   std::function<LedgerTime()> clock) {
  ledger::EtcdLogOptions options;
  if (clock) options.clock = std::move(clock);
  std::string_view rest = spec.starts_with(kEtcdScheme) ? spec.substr(kEtcdScheme.size()) : spec;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    options.endpoints.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return ledger::EtcdLog::open(std::move(options));
}

Result<std::unique_ptr<ledger::Log>> open_log_writer(const std::string& spec,
                                                     std::function<LedgerTime()> clock) {
  if (spec.starts_with(kEtcdScheme)) {
    PFEX_ASSIGN_OR_RETURN(auto log, open_etcd(spec, std::move(clock)));
    return std::unique_ptr<ledger::Log>(std::move(log));
  }
  ledger::FileLog::Options options;
  if (clock) options.clock = std::move(clock);
  PFEX_ASSIGN_OR_RETURN(auto log, ledger::FileLog::open(spec, std::move(options)));
  return std::unique_ptr<ledger::Log>(std::move(log));
}

Result<std::unique_ptr<ledger::LogReader>> open_log_reader(const std::string& spec) {
  if (spec.starts_with(kEtcdScheme)) {
    PFEX_ASSIGN_OR_RETURN(auto log, open_etcd(spec));
    return std::unique_ptr<ledger::LogReader>(std::move(log));
  }
  PFEX_ASSIGN_OR_RETURN(auto log, ledger::FileLogReader::open(spec));
  return std::unique_ptr<ledger::LogReader>(std::move(log));
}

}  // namespace pfex::service
