#!/usr/bin/env bash
# `pfex demo --ledger file|etcd [--mode transparent]`: the demo session through a gateway process
# and a validator process around the log. Passes when the validator process ends on the replica's
# state hash and the outcome matches the in-process reference (the demo itself exits 1
# otherwise): in private mode the private run equals the transparent run of the same flow; in
# transparent mode the scenario's expectations hold on the ledger replica and the outcome matches
# the in-process run. For etcd it starts a throwaway 3-member cluster.
# Usage: demo_ledger.sh PATH_TO_PFEX file|etcd REPO_ROOT [private|transparent]
set -euo pipefail
pfex=$1
ledger=$2
root=$3
mode=${4:-private}
dir=$(mktemp -d)
cleanup() {
  [ "$ledger" = etcd ] && "$root/scripts/etcd-cluster" kill "$dir/etcd" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
extra=()
if [ "$ledger" = etcd ]; then
  # Six consecutive loopback ports nobody listens on (below the ephemeral range).
  in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
  for try in $(seq 50); do
    base=$((25000 + (($$ + try * 7919) % 500) * 10))
    busy=0
    for p in $(seq "$base" $((base + 5))); do in_use "$p" && busy=1; done
    [ $busy = 0 ] && break
  done
  ETCD_CLUSTER_CLIENT_PORTS="$base $((base + 1)) $((base + 2))" \
    ETCD_CLUSTER_PEER_PORTS="$((base + 3)) $((base + 4)) $((base + 5))" \
    "$root/scripts/etcd-cluster" start "$dir/etcd" >/dev/null
  extra=(--etcd "$(paste -sd, "$dir/etcd/endpoints")")
fi
if ! out=$("$pfex" demo --mode "$mode" --ledger "$ledger" --dir "$dir/work" "${extra[@]}"); then
  echo "$out"
  for f in "$dir"/work/*.out; do echo "== $f"; cat "$f"; done
  exit 1
fi
grep -q "(agrees)" <<<"$out" || { echo "$out"; exit 1; }
if [ "$mode" = private ]; then
  grep -q "private and transparent runs agree" <<<"$out" || { echo "$out"; exit 1; }
  grep -q "Private views" <<<"$out" || { echo "$out"; exit 1; }
else
  grep -q "demo: 34 steps, 8 checks, all held" <<<"$out" || { echo "$out"; exit 1; }
  grep -q "match the in-process run" <<<"$out" || { echo "$out"; exit 1; }
fi
if [ "$ledger" = etcd ]; then
  # Pruning: validator "a" snapshots and prunes everything its snapshot covers (it is the only
  # registered validator). A newcomer without a snapshot is then refused with a clear error,
  # and "a" restarted from its snapshot ends on the demo's state.
  log="etcd:$(paste -sd, "$dir/etcd/endpoints")"
  state=$(grep -oE "^replica state hash +[0-9a-f]+" <<<"$out" | awk '{print $4}')
  mkdir "$dir/snaps-a"
  pruned=$("$pfex" validator --log "$log" --once --snapshots "$dir/snaps-a" --name a --prune)
  grep -qE "pruned [0-9]+ log entries" <<<"$pruned" || { echo "$pruned"; exit 1; }
  if newcomer=$("$pfex" validator --log "$log" --once 2>&1); then
    echo "a validator without a snapshot read a pruned log: $newcomer"; exit 1
  fi
  grep -q "restore a snapshot" <<<"$newcomer" || { echo "$newcomer"; exit 1; }
  again=$("$pfex" validator --log "$log" --once --snapshots "$dir/snaps-a" --name a)
  grep -q "^state $state" <<<"$again" || { echo "restarted: $again, want $state"; exit 1; }
fi
echo "$mode demo on the $ledger ledger: ok"
