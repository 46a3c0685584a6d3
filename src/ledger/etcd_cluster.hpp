// Test helper: a throwaway 3-member etcd cluster on free loopback ports, run with
// scripts/etcd-cluster in a temporary directory and killed on destruction (even when a test
// fails). Used by the EtcdLog tests and the ledger benchmark.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.hpp"
#include "ledger/test_util.hpp"

namespace pfex::ledger::testing {

class EtcdCluster {
 public:
  // Picks six free loopback ports (below the ephemeral range); start() launches the members.
  EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;
  ~EtcdCluster();

  // Starts every member that is not running and waits until all three are healthy. The first
  // start retries once on new ports if it fails. Fails (does not skip) when etcd is not installed.
  Status start();
  // SIGKILLs member 1..3 and waits until it is gone.
  Status kill_member(int member);
  // Member number (1..3) of the current Raft leader, waiting up to 10 s for an election.
  Result<int> leader() const;

  const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  void pick_ports();
  Result<pid_t> member_pid(int member) const;
  int run_script(const std::string& command) const;

  TempDir dir_;
  std::vector<int> client_ports_;
  std::vector<int> peer_ports_;
  std::vector<std::string> endpoints_;
  bool started_once_ = false;  // ports are fixed once a cluster has run on them
};

}  // namespace pfex::ledger::testing
