// `pfex demo --ledger file|etcd`: the demo scenario through real processes. A gateway process
// appends to the log (an embedded FileLog or an etcd cluster), a validator process follows it,
// and this process plays the traders' nodes and the issuer: it signs every step as a transparent
// transaction, submits it to the gateway over HTTP, and learns its outcome from its own replica
// of the log, exactly as `pfex node` does. The scenario's expectations are checked against that
// replica, then the validator process's state hash is compared with the replica's and the outcome
// (book, trades, cash, positions) with an in-process run of the same scenario.
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
#include "node/submit.hpp"
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

}  // namespace

int run_ledger_demo(const LedgerDemoOptions& o, const RunOptions& options) {
  Result<sim::Scenario> sc = demo_scenario();
  if (!sc.is_ok()) return fail_with(sc.status());

  // The work directory keeps the log (FileLog), the processes' output and the snapshots.
  std::string dir = o.dir;
  if (dir.empty()) {
    char tmpl[] = "/tmp/pfex-demo-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return fail_with(Status::io_error("mkdtemp failed"));
    dir = tmpl;
  } else if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail_with(Status::io_error("cannot create " + dir));
  }
  std::string log_spec;
  if (o.ledger == "file") {
    log_spec = dir + "/market.log";
    if (::access(log_spec.c_str(), F_OK) == 0) {
      return fail_with(Status::failed_precondition(log_spec + " exists; the demo opens a new log"));
    }
  } else {
    if (o.etcd.empty()) {
      return fail_with(Status::invalid_argument(
          "--ledger etcd needs --etcd URL,URL,... of a fresh cluster (scripts/demo --ledger etcd "
          "starts one)"));
    }
    log_spec = "etcd:" + o.etcd;
  }

  // Open the log for reading first: an etcd log must be empty.
  std::unique_ptr<ledger::LogReader> reader;
  if (o.ledger == "file") {
    // The gateway creates the file; the reader opens it once the genesis is in.
  } else {
    auto etcd = service::open_etcd(o.etcd);
    if (!etcd.is_ok()) return fail_with(etcd.status());
    auto first = (*etcd)->read(1, 1);
    if (!first.is_ok()) return fail_with(first.status());
    if (!first->empty()) {
      return fail_with(Status::failed_precondition(
          "the etcd cluster already holds a log; the demo needs a fresh cluster"));
    }
    reader = std::move(etcd).value();
  }

  fmt::print("== ledger: {} ({}), work directory {}\n", o.ledger, log_spec, dir);
  // The gateway appends this market's genesis and no other.
  protocol::SigningKey issuer = protocol::SigningKey::generate();
  const std::string market = to_hex(protocol::market_id_of(service::demo_genesis(*sc, issuer)));
  auto gateway = ChildProcess::spawn(
      {"gateway", "--log", log_spec, "--port", "0", "--scripted-clock", "--market", market},
      dir + "/gateway.out");
  if (!gateway.is_ok()) return fail_with(gateway.status());
  auto listening = wait_for_line(dir + "/gateway.out", "gateway listening on ", *gateway);
  if (!listening.is_ok()) return fail_with(listening.status());
  auto endpoint = node::parse_endpoint(listening->substr(0, listening->find(' ')));
  if (!endpoint.is_ok()) return fail_with(endpoint.status());
  fmt::print("   gateway process {} on {}:{}\n", gateway->pid(), endpoint->host, endpoint->port);

  if (o.ledger == "file") {
    // The gateway opened (created) the log file; wait for it, then read it.
    for (int i = 0; i < 500 && ::access(log_spec.c_str(), F_OK) != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto file = ledger::FileLogReader::open(log_spec);
    if (!file.is_ok()) return fail_with(file.status());
    reader = std::move(file).value();
  }
  service::LedgerVenue venue(std::move(reader), *endpoint, std::move(issuer));
  if (Status s = venue.open_market(*sc); !s.is_ok()) return fail_with(s);

  ::mkdir((dir + "/snapshots").c_str(), 0755);
  auto validator = ChildProcess::spawn(
      {"validator", "--log", log_spec, "--snapshots", dir + "/snapshots", "--snapshot-every", "20"},
      dir + "/validator.out");
  if (!validator.is_ok()) return fail_with(validator.status());
  // Only once it says so may it be sent SIGUSR1 (to print its state) without being killed by it.
  if (auto ready = wait_for_line(dir + "/validator.out", "following ", *validator); !ready) {
    return fail_with(ready.status());
  }
  fmt::print("   validator process {} following the log\n", validator->pid());

  std::optional<sim::ScenarioRun> run;
  const int code = narrate_scenario(*sc, venue, options, &run);
  if (code == 2) return code;

  // The validator process catches up, then stops and prints its state.
  const std::uint64_t last = venue.replica().next_sequence() - 1;
  const auto deadline = std::chrono::steady_clock::now() + service::kEntryWait;
  std::string validator_out;
  const std::string want = fmt::format("next sequence {}", last + 1);
  while (std::chrono::steady_clock::now() < deadline) {
    ::kill(validator->pid(), SIGUSR1);  // prints its state
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    validator_out = read_file(dir + "/validator.out");
    if (validator_out.find(want) != std::string::npos) break;
  }
  validator->stop(SIGTERM);
  const int gateway_exit = gateway->stop(SIGTERM);
  validator_out = read_file(dir + "/validator.out");
  const std::string replica_hash = to_hex(venue.replica().state_hash());
  const auto at = validator_out.rfind("state ");
  const std::string validator_hash =
      at == std::string::npos ? "(none)" : validator_out.substr(at + 6, 64);

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
    fmt::print("replay it: pfex validator --log {} --once --book\n", log_spec);
  }
  if (validator_hash != replica_hash || !same_outcome) return 1;
  return code;
}

int run_private_ledger_demo(const LedgerDemoOptions&, const RunOptions&, bool) {
  return fail_with(Status::failed_precondition("the private demo on a ledger is not built yet"));
}

}  // namespace pfex::cli
