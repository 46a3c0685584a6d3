// `pfex demo --ledger file|etcd`: a demo session through real processes. A gateway process
// appends to the log (an embedded FileLog or an etcd cluster), a validator process follows it,
// and this process plays the traders' nodes and the issuer: it builds every step's transaction,
// submits it to the gateway over HTTP, and learns its outcome from its own replica of the log,
// exactly as `pfex node` does. At the end the validator process's state hash is compared with the
// replica's.
//
// Private mode (the default): every step is a private transaction built by the trader's wallet
// (private_demo.hpp), and the private run is compared with the transparent run of the same flow.
// Transparent mode: every step is a signed transparent transaction; the scenario's expectations
// are checked against the replica and the outcome (book, trades, cash, positions) against an
// in-process run of the same scenario.
//
// Ledger time is the scenario's: the gateway runs with --scripted-clock and each submission
// asks for its step's time (docs/node/gateway.md), so the half-hour margin round takes a second
// and every run writes the same log. Online traders' nodes send a Refresh when a margin round
// opens, as a ledger account is never refreshed on its owner's behalf.
#include "ledger_demo.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "ledger/etcd_log.hpp"
#include "ledger/file_log.hpp"
#include "node/log_adapter.hpp"
#include "node/submit.hpp"
#include "private_demo.hpp"
#include "service/ledger_venue.hpp"
#include "service/log_spec.hpp"
#include "sim/report.hpp"

namespace pfex::cli {
namespace {

// A child process running this executable with `args`, stdout and stderr to `out_path`. Killed
// (SIGKILL) if still running when destroyed.
class ChildProcess {
 public:
  static Result<ChildProcess> spawn(const std::vector<std::string>& args,
                                    const std::string& out_path) {
    std::vector<char*> argv;
    std::string self = "/proc/self/exe";
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    const pid_t pid = ::fork();
    if (pid < 0) return Status::io_error("fork failed");
    if (pid == 0) {
      const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return ChildProcess(pid);
  }

  ChildProcess(ChildProcess&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess() {
    if (pid_ > 0) (void)stop(SIGKILL);
  }

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

  // Sends `sig` and waits for the exit; returns the exit status (-1 if killed by a signal).
  int stop(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits until `path` contains `marker` and returns the rest of that line.
Result<std::string> wait_for_line(const std::string& path, std::string_view marker,
                                  const ChildProcess& child) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = read_file(path);
    const auto at = text.find(marker);
    if (at != std::string::npos) {
      const auto end = text.find('\n', at);
      if (end != std::string::npos)
        return text.substr(at + marker.size(), end - at - marker.size());
    }
    if (!child.running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::io_error("no \"" + std::string(marker) + "\" in " + path + ":\n" +
                          read_file(path));
}

// The outcome JSON without the state hash, which also covers bookkeeping the two runs do not
// share (on a ledger nobody refreshes on a trader's behalf).
std::string comparable_outcome(const market::Exchange& ex, std::span<const market::Event> events,
                               const sim::Names& names) {
  nlohmann::json j = nlohmann::json::parse(sim::outcome_json(ex, events, names));
  j.erase("state_hash");
  return j.dump(2);
}

int fail_with(const Status& s) {
  fmt::print(stderr, "pfex demo: {}\n", s.to_string());
  return s.code() == ErrorCode::kInvalidArgument ? 2 : 1;
}

// The processes around the log: a gateway that appends this market's genesis and no other, and
// (once the genesis is in) a validator following the log.
struct Processes {
  std::string dir, log_spec;
  std::unique_ptr<ledger::LogReader> reader;
  node::Endpoint endpoint;
  std::unique_ptr<ChildProcess> gateway, validator;
};

Result<Processes> start_gateway(const LedgerDemoOptions& o, const Bytes& genesis) {
  Processes p;
  // The work directory keeps the log (FileLog), the processes' output and the snapshots.
  p.dir = o.dir;
  if (p.dir.empty()) {
    char tmpl[] = "/tmp/pfex-demo-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return Status::io_error("mkdtemp failed");
    p.dir = tmpl;
  } else if (::mkdir(p.dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::io_error("cannot create " + p.dir);
  }
  if (o.ledger == "file") {
    p.log_spec = p.dir + "/market.log";
    if (::access(p.log_spec.c_str(), F_OK) == 0) {
      return Status::failed_precondition(p.log_spec + " exists; the demo opens a new log");
    }
  } else {
    if (o.etcd.empty()) {
      return Status::invalid_argument(
          "--ledger etcd needs --etcd URL,URL,... of a fresh cluster (scripts/demo --ledger etcd "
          "starts one)");
    }
    p.log_spec = "etcd:" + o.etcd;
    // Open the log for reading first: an etcd log must be empty.
    PFEX_ASSIGN_OR_RETURN(auto etcd, service::open_etcd(o.etcd));
    PFEX_ASSIGN_OR_RETURN(auto first, etcd->read(1, 1));
    if (!first.empty()) {
      return Status::failed_precondition(
          "the etcd cluster already holds a log; the demo needs a fresh cluster");
    }
    p.reader = std::move(etcd);
  }

  fmt::print("== ledger: {} ({}), work directory {}\n", o.ledger, p.log_spec, p.dir);
  const std::string market = to_hex(protocol::market_id_of(genesis));
  PFEX_ASSIGN_OR_RETURN(ChildProcess gateway,
                        ChildProcess::spawn({"gateway", "--log", p.log_spec, "--port", "0",
                                             "--scripted-clock", "--market", market},
                                            p.dir + "/gateway.out"));
  p.gateway = std::make_unique<ChildProcess>(std::move(gateway));
  PFEX_ASSIGN_OR_RETURN(const std::string listening,
                        wait_for_line(p.dir + "/gateway.out", "gateway listening on ", *p.gateway));
  PFEX_ASSIGN_OR_RETURN(p.endpoint, node::parse_endpoint(listening.substr(0, listening.find(' '))));
  fmt::print("   gateway process {} on {}:{}\n", p.gateway->pid(), p.endpoint.host,
             p.endpoint.port);

  if (o.ledger == "file") {
    // The gateway opened (created) the log file; wait for it, then read it.
    for (int i = 0; i < 500 && ::access(p.log_spec.c_str(), F_OK) != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    PFEX_ASSIGN_OR_RETURN(p.reader, ledger::FileLogReader::open(p.log_spec));
  }
  return p;
}

Status start_validator(Processes& p) {
  ::mkdir((p.dir + "/snapshots").c_str(), 0755);
  PFEX_ASSIGN_OR_RETURN(ChildProcess validator,
                        ChildProcess::spawn({"validator", "--log", p.log_spec, "--snapshots",
                                             p.dir + "/snapshots", "--snapshot-every", "20"},
                                            p.dir + "/validator.out"));
  p.validator = std::make_unique<ChildProcess>(std::move(validator));
  // Only once it says so may it be sent SIGUSR1 (to print its state) without being killed by it.
  PFEX_RETURN_IF_ERROR(
      wait_for_line(p.dir + "/validator.out", "following ", *p.validator).status());
  fmt::print("   validator process {} following the log\n", p.validator->pid());
  return Status::ok();
}

// The validator process catches up to `last`, then both processes stop; returns the validator's
// state hash ("(none)" if it printed none) and the gateway's exit status.
std::pair<std::string, int> stop_processes(Processes& p, std::uint64_t last) {
  const auto deadline = std::chrono::steady_clock::now() + service::kEntryWait;
  std::string validator_out;
  const std::string want = fmt::format("next sequence {}", last + 1);
  while (std::chrono::steady_clock::now() < deadline) {
    ::kill(p.validator->pid(), SIGUSR1);  // prints its state
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    validator_out = read_file(p.dir + "/validator.out");
    if (validator_out.find(want) != std::string::npos) break;
  }
  p.validator->stop(SIGTERM);
  const int gateway_exit = p.gateway->stop(SIGTERM);
  validator_out = read_file(p.dir + "/validator.out");
  const auto at = validator_out.rfind("state ");
  return {at == std::string::npos ? "(none)" : validator_out.substr(at + 6, 64), gateway_exit};
}

// The private demo's link to the log: submits each entry to the gateway (at the scripted ledger
// time) and follows the log until this process's replica has applied it.
class GatewayLink final : public DemoLink {
 public:
  // `after_first` runs once the first entry (the genesis) is in the replica.
  GatewayLink(ledger::LogReader& reader, node::Endpoint gateway,
              std::function<Status()> after_first)
      : reader_(reader), after_first_(std::move(after_first)) {
    submit_.gateway = std::move(gateway);
  }

  Result<protocol::EntryOutcome> append(const Bytes& entry, LedgerTime now) override {
    node::SubmitOptions o = submit_;
    o.scripted_time = now;
    PFEX_ASSIGN_OR_RETURN(const node::Submitted sent, node::submit_transaction(entry, o));
    const auto deadline = std::chrono::steady_clock::now() + service::kEntryWait;
    while (replica_.next_sequence() <= sent.sequence) {
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::io_error("log entry " + std::to_string(sent.sequence) +
                                " did not reach the replica");
      }
      PFEX_ASSIGN_OR_RETURN(auto batch, reader_.follow(replica_.next_sequence(), 4096,
                                                       std::chrono::milliseconds(500)));
      PFEX_ASSIGN_OR_RETURN(auto outcomes,
                            replica_.apply_batch(node::to_protocol_entries(batch), 1));
      for (protocol::EntryOutcome& out : outcomes)
        outcomes_[out.sequence] = std::move(out);
    }
    if (after_first_) PFEX_RETURN_IF_ERROR(std::exchange(after_first_, nullptr)());
    return outcomes_.at(sent.sequence);
  }
  const protocol::LedgerReplica& replica() const override { return replica_; }
  void set_private_event_sink(protocol::LedgerReplica::PrivateEventSink sink) override {
    replica_.set_private_event_sink(std::move(sink));
  }

 private:
  ledger::LogReader& reader_;
  std::function<Status()> after_first_;
  node::SubmitOptions submit_;
  protocol::LedgerReplica replica_;
  std::map<std::uint64_t, protocol::EntryOutcome> outcomes_;
};

}  // namespace

int run_ledger_demo(const LedgerDemoOptions& o, const RunOptions& options) {
  Result<sim::Scenario> sc = demo_scenario();
  if (!sc.is_ok()) return fail_with(sc.status());
  protocol::SigningKey issuer = protocol::SigningKey::generate();
  Result<Processes> p = start_gateway(o, service::demo_genesis(*sc, issuer));
  if (!p.is_ok()) return fail_with(p.status());
  service::LedgerVenue venue(std::move(p->reader), p->endpoint, std::move(issuer));
  if (Status s = venue.open_market(*sc); !s.is_ok()) return fail_with(s);
  if (Status s = start_validator(*p); !s.is_ok()) return fail_with(s);

  std::optional<sim::ScenarioRun> run;
  const int code = narrate_scenario(*sc, venue, options, &run);
  if (code == 2) return code;

  const auto [validator_hash, gateway_exit] =
      stop_processes(*p, venue.replica().next_sequence() - 1);
  const std::string replica_hash = to_hex(venue.replica().state_hash());

  // The same scenario in this process, for the outcome the two must share.
  Result<market::Exchange> ex = market::Exchange::open(sc->contract, sc->reference, LedgerTime(0));
  if (!ex.is_ok()) return fail_with(ex.status());
  sim::ExchangeVenue local(std::move(ex).value());
  auto reference = sim::run_scenario(*sc, local);
  if (!reference.is_ok()) return fail_with(reference.status());
  const bool same_outcome =
      comparable_outcome(run->exchange, venue.events(), run->names) ==
      comparable_outcome(reference->exchange, local.events(), reference->names);

  fmt::print(
      "\nledger: {} entries ({} refreshes sent by online nodes), gateway exit {}\n"
      "replica state hash          {}\nvalidator process state hash {}  {}\n"
      "book, trades, cash and positions {} the in-process run of the same scenario\n",
      venue.entries(), venue.refreshes(), gateway_exit, replica_hash, validator_hash,
      validator_hash == replica_hash ? "(agrees)" : "(DIFFERS)",
      same_outcome ? "match" : "DO NOT match");
  if (o.ledger == "file") {
    fmt::print("replay it: pfex validator --log {} --once --book\n", p->log_spec);
  }
  if (validator_hash != replica_hash || !same_outcome) return 1;
  return code;
}

int run_private_ledger_demo(const LedgerDemoOptions& o, const RunOptions& options, bool perturb) {
  Result<sim::Scenario> sc = private_demo_scenario();
  if (!sc.is_ok()) return fail_with(sc.status());
  flow::FlowDriverOptions driver_options = private_demo_options();
  // The gateway is told the market id first; the driver appends the genesis through it.
  Result<Processes> p =
      start_gateway(o, flow::genesis_entry(sc->contract, sc->reference, driver_options));
  if (!p.is_ok()) return fail_with(p.status());
  // The validator starts once the genesis is in: the driver's first entry.
  Processes& processes = *p;
  GatewayLink link(*p->reader, p->endpoint, [&processes] { return start_validator(processes); });
  const PrivateSessionResult r =
      run_private_session(*sc, std::move(driver_options), link, options, perturb);
  if (r.code == 2 || !p->validator) return r.code == 0 ? 1 : r.code;
  const auto [validator_hash, gateway_exit] =
      stop_processes(*p, link.replica().next_sequence() - 1);
  const std::string replica_hash = to_hex(link.replica().state_hash());
  fmt::print(
      "\nledger: {} entries, gateway exit {}\n"
      "replica state hash          {}\nvalidator process state hash {}  {}\n",
      link.replica().entries(), gateway_exit, replica_hash, validator_hash,
      validator_hash == replica_hash ? "(agrees)" : "(DIFFERS)");
  if (o.ledger == "file") {
    fmt::print("replay it: pfex validator --log {} --once\n", p->log_spec);
  }
  if (validator_hash != replica_hash) return 1;
  return r.code;
}

}  // namespace pfex::cli
