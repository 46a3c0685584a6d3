#!/usr/bin/env bash
# End-to-end: the pfex processes around an embedded FileLog. Creates wallets, opens a market,
# starts a gateway, registers two traders who trade, checks what a node and two validators (one
# restarted from its snapshot) see, and that a rejected order changes nothing.
# Usage: ledger_session.sh PATH_TO_PFEX
set -euo pipefail
pfex=$1
dir=$(mktemp -d)
cleanup() {
  [ -n "${watcher:-}" ] && kill "$watcher" 2>/dev/null || true
  [ -n "${gateway:-}" ] && kill "$gateway" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"
export PFEX_PASSPHRASE=ctest-passphrase
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # expect "what" "output" "pattern"
  grep -qE -- "$3" <<<"$2" || { echo "$2" >&2; fail "$1: no match for /$3/"; }
}
# Waits until FILE has a line matching PATTERN while process PID runs. The script waits for
# events, never for a fixed time: on a loaded machine (ctest -j beside the fault campaigns) each
# command takes seconds. The bound only stops a hung session.
wait_for() {  # wait_for "what" FILE PATTERN PID
  for _ in $(seq 600); do  # at most 60 s
    grep -qE -- "$3" "$2" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || { cat "$2" >&2; fail "$1: the process exited"; }
    sleep 0.1
  done
  cat "$2" >&2
  fail "$1: no /$3/ within 60 s"
}

# The resolution deadline D_res is 1 ms to one day, checked before anything is written.
for ms in 0 1 86400000 86400001; do "$pfex" node create --wallet probe$ms.wallet >/dev/null; done
for ms in 0 86400001; do
  got=0
  out=$("$pfex" market init --log bad$ms.log --issuer-wallet probe$ms.wallet --reference 10.00 \
    --resolution-ms $ms 2>&1) || got=$?
  [ "$got" != 0 ] || fail "--resolution-ms $ms accepted"
  expect "--resolution-ms $ms" "$out" "resolution deadline D_res must be in \[1, 86400000\]"
  [ ! -e bad$ms.log ] || fail "--resolution-ms $ms wrote a log"
done
for ms in 1 86400000; do
  out=$("$pfex" market init --log ok$ms.log --issuer-wallet probe$ms.wallet --reference 10.00 \
    --resolution-ms $ms)
  expect "--resolution-ms $ms" "$out" "resolution deadline D_res $ms ms"
done

for w in issuer alice bob carol; do "$pfex" node create --wallet $w.wallet >/dev/null; done
"$pfex" market init --log m.log --issuer-wallet issuer.wallet --reference 10.00 >/dev/null
# Port 0: the gateway takes a free port and prints it (a fixed port could be someone else's).
"$pfex" gateway --log m.log --port 0 >gateway.out 2>&1 &
gateway=$!
wait_for "the gateway" gateway.out '^gateway listening on 127\.0\.0\.1:[0-9]+ ' "$gateway"
port=$(sed -n 's/^gateway listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' gateway.out)
g=(--log m.log --gateway 127.0.0.1:"$port")
for w in alice bob; do
  "$pfex" node register --wallet $w.wallet "${g[@]}" >/dev/null
  "$pfex" node deposit --wallet $w.wallet "${g[@]}" --amount 1000.00 >/dev/null
done
out=$("$pfex" node order --wallet alice.wallet "${g[@]}" --side sell --price 10.00 --qty 5)
expect "alice's order" "$out" "accepted order 1 filled 0 resting 5"
out=$("$pfex" node order --wallet bob.wallet "${g[@]}" --side buy --price 10.00 --qty 3)
expect "bob's order" "$out" "accepted order 2 filled 3 resting 0"

# Ledger time moves with every entry, valid or not; accounts and book must not.
view() { "$pfex" validator --log m.log --once --book | grep -vE '^(state|chain|entries|entry|SEED)'; }
before=$(view; "$pfex" node status --wallet bob.wallet --log m.log | grep account)
# Insolvent: 10,000 contracts need 10,000 x (0.40 to the low edge + 0.43 margin) = $8,300 > $970.
# The gateway appends it (it checks form, not solvency); every validator rejects it.
# The node says so and exits non-zero.
if out=$("$pfex" node order --wallet bob.wallet "${g[@]}" --side buy --price 10.00 --qty 10000 2>&1); then
  fail "a rejected order exited 0: $out"
fi
expect "insolvent order" "$out" "rejected: .*insolvent"
expect "insolvent order's reason" "$out" "pfex: .*did not apply 1 transaction"
after=$(view; "$pfex" node status --wallet bob.wallet --log m.log | grep account)
[ "$before" = "$after" ] || fail "a rejected order changed the book or account: $before -> $after"

out=$("$pfex" node status --wallet bob.wallet --log m.log)
expect "bob's account" "$out" "cash 970.00 USD, position 3"

# A wallet restored from a backup is behind the ledger's sequence numbers: the node syncs them
# from the log before it signs, so its next order is accepted, not rejected as a replay.
cp bob.wallet bob.backup
"$pfex" node deposit --wallet bob.wallet "${g[@]}" --amount 1.00 >/dev/null
"$pfex" node deposit --wallet bob.wallet "${g[@]}" --amount 1.00 >/dev/null
cp bob.backup bob.wallet
out=$("$pfex" node withdraw --wallet bob.wallet "${g[@]}" --amount 2.00)
expect "restored wallet's withdrawal" "$out" "accepted"
out=$("$pfex" node status --wallet bob.wallet --log m.log)
expect "restored wallet's sequence" "$out" "last sequence 7 \\(ledger has 7\\), 0 pending"
expect "bob's account after the restore" "$out" "cash 970.00 USD, position 3"
out=$("$pfex" validator --log m.log --once --book)
expect "validator counts" "$out" "accepted 10, rejected 1"
expect "validator book" "$out" "\| 10.00 +2"

# A validator that snapshots, then a restarted one, end on the same state as a fresh replay.
fresh=$("$pfex" validator --log m.log --once | grep '^state')
mkdir snaps
"$pfex" validator --log m.log --once --snapshots snaps >/dev/null
restarted=$("$pfex" validator --log m.log --once --snapshots snaps | grep '^state')
[ "$restarted" = "$fresh" ] || fail "restart from snapshot: $restarted != $fresh"
# A margin round: carol's node watches with --auto-refresh; alice and bob trade 20 lots at the
# low edge (9.60), which trips the breaker. Carol's node refreshes her by itself; alice and bob,
# whose nodes do not, must refresh by hand (one does). The watch is stopped (SIGTERM) once it has
# sent the refresh; its --seconds only bounds a watch this script failed to stop.
"$pfex" node register --wallet carol.wallet "${g[@]}" >/dev/null
"$pfex" node deposit --wallet carol.wallet "${g[@]}" --amount 500.00 >/dev/null
"$pfex" node watch --wallet carol.wallet --log m.log --gateway 127.0.0.1:"$port" --auto-refresh \
  --seconds 300 >watch.out 2>&1 &
watcher=$!
wait_for "carol's watch" watch.out '^watching account ' "$watcher"
"$pfex" node order --wallet alice.wallet "${g[@]}" --side sell --price 9.60 --qty 20 >/dev/null
"$pfex" node order --wallet bob.wallet "${g[@]}" --side buy --price 9.60 --qty 20 >/dev/null
wait_for "carol's watch" watch.out 'margin round, epoch 1: refresh ' "$watcher"
kill -TERM "$watcher"
wait "$watcher" || fail "carol's watch exited $? on SIGTERM: $(cat watch.out)"
watcher=""
expect "carol's watch" "$(cat watch.out)" "margin round, epoch 1: refresh sent"
out=$("$pfex" node status --wallet carol.wallet --log m.log)
expect "carol refreshed" "$out" "margin round open \(epoch 1\): refreshed"
out=$("$pfex" node status --wallet alice.wallet --log m.log)
expect "alice not refreshed" "$out" "margin round open \(epoch 1\): not refreshed"
"$pfex" node refresh --wallet alice.wallet "${g[@]}" >/dev/null
out=$("$pfex" node status --wallet alice.wallet --log m.log)
expect "alice refreshed by hand" "$out" "margin round open \(epoch 1\): refreshed"

# The node's replica on disk (bob.wallet.replica) only saves work: without it, or with a damaged
# one (the node says so), a command replays the log and shows the same.
kept=$("$pfex" node status --wallet bob.wallet --log m.log)
rm bob.wallet.replica
[ "$("$pfex" node status --wallet bob.wallet --log m.log)" = "$kept" ] || fail "no replica: differs"
echo garbage >bob.wallet.replica
out=$("$pfex" node status --wallet bob.wallet --log m.log 2>&1)
expect "damaged replica" "$out" "node replica .* not used"
[ "$(grep -v 'node replica' <<<"$out")" = "$kept" ] || fail "damaged replica: differs"
echo "ledger session: ok"
