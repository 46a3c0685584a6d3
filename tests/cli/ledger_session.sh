#!/usr/bin/env bash
# End-to-end: the pfex processes around an embedded FileLog. Creates wallets, opens a market,
# starts a gateway, registers two traders who trade, checks what a node and two validators (one
# restarted from its snapshot) see, and that a rejected order changes nothing.
# Usage: ledger_session.sh PATH_TO_PFEX
set -euo pipefail
# shellcheck source=tests/cli/session_lib.sh
source "$(dirname "$0")/session_lib.sh"
session_begin "$1" 60 watcher gateway

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
start_gateway
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
# Reduce keeps the order's id and its place: alice's sell of 5 (3 filled) rests 1 after taking 1
# off; taking off more than rests is rejected and changes nothing.
out=$("$pfex" node reduce --wallet alice.wallet "${g[@]}" --order 1 --qty 1)
expect "alice's reduce" "$out" "log entry [0-9]+: accepted"
expect "the reduced order" "$("$pfex" validator --log m.log --once --book)" "\| 10.00 +1 *$"
if out=$("$pfex" node reduce --wallet alice.wallet "${g[@]}" --order 1 --qty 5 2>&1); then
  fail "a reduce by more than rests exited 0: $out"
fi
expect "a reduce by too much" "$out" "rejected: "
expect "the order after the refused reduce" "$("$pfex" validator --log m.log --once --book)" \
  "\| 10.00 +1 *$"
# A market order's --price is its reservation price: at 9.90 a buy does not reach the ask at
# 10.00 (it gets an id and closes unfilled); at 10.00 it takes it.
out=$("$pfex" node order --wallet bob.wallet "${g[@]}" --type market --price 9.90 --qty 1)
expect "a market buy reserved at 9.90" "$out" "accepted order [0-9]+ filled 0 resting 0"
out=$("$pfex" node order --wallet bob.wallet "${g[@]}" --type market --price 10.00 --qty 1)
expect "a market buy reserved at 10.00" "$out" "accepted order [0-9]+ filled 1 resting 0"
out=$("$pfex" node status --wallet bob.wallet --log m.log)
expect "bob's position after the market buy" "$out" "position 4"
if out=$("$pfex" node order --wallet bob.wallet "${g[@]}" --type market --price 1x --qty 1 2>&1); then
  fail "a market order with a malformed --price exited 0: $out"
fi
expect "a malformed reservation price" "$out" "pfex: "

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
stop_process "carol's watch" watcher watch.out
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
