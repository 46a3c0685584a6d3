#!/usr/bin/env bash
# End-to-end, a private market (docs/protocol/private.md) through the pfex processes around an
# embedded FileLog: `pfex market init --private`, a gateway and a following validator process,
# two traders' private nodes (alice and bob) that register, are minted cash, deposit, trade,
# settle, replace and withdraw, and a third (carol) whose `pfex node follow` settles her fill
# after a random delay and refreshes by itself in the margin round the breaker opens (her order
# goes through a SOCKS5 proxy, microsocks). Checks each
# trader's private view (`pfex node status`), that an insolvent order is refused before anything
# is sent ("E_L short by X"), and that the nodes' replicas, the following validator and a fresh
# replay agree on the state hash.
# Usage: private_session.sh PATH_TO_PFEX
set -euo pipefail
# shellcheck source=tests/cli/session_lib.sh
source "$(dirname "$0")/session_lib.sh"
session_begin "$1" 120 follower socks validator gateway

# The private market's terms are checked before anything is written: windows of 2^n tokens for
# n in [1, 16]; a private term without --private is refused. (An issuer's wallet opens one
# market: each probe has its own.)
for n in 0 1 16 17; do "$pfex" node create --wallet probe$n.wallet >/dev/null; done
for n in 0 17; do
  refused "--window-log $n" 2 "outside \[1, 16\]" "$pfex" market init --log bad$n.log \
    --issuer-wallet probe$n.wallet --reference 10.00 --private --window-log $n
  [ ! -e bad$n.log ] || fail "--window-log $n wrote a log"
done
for n in 1 16; do
  out=$("$pfex" market init --log ok$n.log --issuer-wallet probe$n.wallet --reference 10.00 \
    --private --window-log $n)
  expect "--window-log $n" "$out" "windows of $((1 << n)) tokens"
done
refused "a bond without --private" 2 "add --private" "$pfex" market init --log t.log \
  --issuer-wallet probe0.wallet --reference 10.00 --bond 5.00

"$pfex" node create --wallet issuer.wallet >/dev/null

out=$("$pfex" market init --log m.log --issuer-wallet issuer.wallet --reference 10.00 --private \
  --bond 100.00 --exit-penalty 0.05 --window-log 4)
expect "market init" "$out" "^market [0-9a-f]{64} opened at log entry 1"
expect "private terms" "$out" "private: windows of 16 tokens, bond 100.00 USD, exit penalty 0.05 USD"
start_gateway
mkdir snaps
"$pfex" validator --log m.log --snapshots snaps --snapshot-every 8 >validator.out 2>&1 &
validator=$!
wait_for "the validator" validator.out '^following ' "$validator"

declare -A id
for w in alice bob carol; do
  out=$("$pfex" node create --private --log m.log --wallet $w.wallet)
  id[$w]=$(sed -n 's/.*; identity \([0-9a-f]*\)$/\1/p' <<<"$out")
  [ ${#id[$w]} = 64 ] || fail "$w's identity: $out"
done
# A transparent wallet's commands are refused on a private market, and the other way round.
refused "transparent wallet on a private market" 1 "needs a private wallet" \
  "$pfex" node register --wallet issuer.wallet "${g[@]}"
refused "trading before registering" 1 "register first" \
  "$pfex" node deposit --wallet alice.wallet "${g[@]}" --amount 1.00
for w in alice bob carol; do
  out=$("$pfex" node register --wallet $w.wallet "${g[@]}")
  expect "$w registers" "$out" "^log entry [0-9]+: accepted$"
  out=$("$pfex" node mint --wallet issuer.wallet "${g[@]}" --to "${id[$w]}" --amount 5000.00)
  expect "$w's mint" "$out" "^log entry [0-9]+: accepted$"
done
refused "a mint by a trader" 1 "only the market's issuer" \
  "$pfex" node mint --wallet alice.wallet "${g[@]}" --to "${id[bob]}" --amount 1.00
for w in alice bob; do
  out=$("$pfex" node deposit --wallet $w.wallet "${g[@]}" --amount 2000.00)
  expect "$w's deposit" "$out" "accepted"
done
out=$("$pfex" node status --wallet alice.wallet --log m.log)
expect "alice's cash" "$out" "^cash account 3000.00 USD$"
expect "alice's token" "$out" "^token \(epoch 0, index [0-9]+\): cash 2000.00 USD, position 0, open buy 0, open sell 0$"

out=$("$pfex" node order --wallet alice.wallet "${g[@]}" --side sell --price 10.00 --qty 5)
expect "alice's sell" "$out" "accepted order 0 filled 0 resting 5"
out=$("$pfex" node order --wallet bob.wallet "${g[@]}" --side buy --price 10.00 --qty 3)
expect "bob's buy" "$out" "accepted order 1 filled 3 resting 0 \(closed\)"

# Insolvent: the wallet refuses to prove it and says by how much; nothing reaches the log.
entries() { "$pfex" validator --log m.log --once | sed -n 's/^entries \([0-9]*\) .*/\1/p'; }
before=$(entries)
refused "bob's insolvent order" 1 "insolvent: E_L short by [0-9]+ .*\(E_L short by [0-9,]+\.[0-9]{2} USD\); nothing was sent" \
  "$pfex" node order --wallet bob.wallet "${g[@]}" --side buy --price 10.00 --qty 100000
refused "bob's withdrawal of more than his token holds" 1 "E_L short by" \
  "$pfex" node withdraw --wallet bob.wallet "${g[@]}" --amount 9000.00
refused "an order outside the band" 2 "outside the band" \
  "$pfex" node order --wallet bob.wallet "${g[@]}" --side buy --price 20.00 --qty 1
[ "$(entries)" = "$before" ] || fail "a refused action reached the log"

# Settling: bob's fill and alice's are claimed into their tokens.
out=$("$pfex" node status --wallet bob.wallet --log m.log)
expect "bob before settling" "$out" "order 1: buy 3 at 10.00, filled 3 \(1 fill\(s\), 0 claimed\), closed, to release"
expect "bob before settling" "$out" "to settle: 1 order"
for w in alice bob; do "$pfex" node settle --wallet $w.wallet "${g[@]}" >/dev/null; done
refused "nothing left to settle" 1 "nothing to settle" "$pfex" node settle --wallet bob.wallet "${g[@]}"
out=$("$pfex" node status --wallet bob.wallet --log m.log)
expect "bob's position" "$out" "cash 1970.00 USD, position 3, open buy 0, open sell 0$"
if grep -q "^order 1:" <<<"$out"; then fail "bob's settled order stays in his wallet: $out"; fi
out=$("$pfex" node status --wallet alice.wallet --log m.log)
expect "alice's position" "$out" "cash 2030.00 USD, position -3, open buy 0, open sell 2$"
expect "alice's open order" "$out" "order 0: sell 5 at 10.00, filled 3 \(1 fill\(s\), 1 claimed\), open 2"

# A replace is a new order; a withdrawal moves cash back to the cash account.
out=$("$pfex" node replace --wallet alice.wallet "${g[@]}" --order 0 --side sell --price 10.10 --qty 2)
expect "alice's replace" "$out" "accepted order 2 filled 0 resting 2"
out=$("$pfex" node withdraw --wallet bob.wallet "${g[@]}" --amount 100.00)
expect "bob's withdrawal" "$out" "accepted"
out=$("$pfex" node status --wallet bob.wallet --log m.log)
expect "bob's cash account" "$out" "^cash account 3100.00 USD$"
expect "bob's token" "$out" "cash 1870.00 USD, position 3"

# Carol rests a bid; her node follows the log, settles her fill after a random delay of ledger
# time, and refreshes by itself in the margin round that 20 lots at the low edge (9.60) open.
"$pfex" node deposit --wallet carol.wallet "${g[@]}" --amount 500.00 >/dev/null
# Carol's order goes through a SOCKS5 proxy (microsocks; scripts/install-deps installs it).
command -v microsocks >/dev/null || fail "microsocks is not installed (scripts/install-deps)"
for _ in $(seq 20); do
  socks_port=$((20000 + RANDOM % 20000))
  microsocks -i 127.0.0.1 -p "$socks_port" >socks.out 2>&1 &
  socks=$!
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$socks_port") 2>/dev/null && break
    kill -0 "$socks" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$socks" 2>/dev/null && break
  socks=""
done
[ -n "$socks" ] || fail "microsocks did not start"
out=$("$pfex" node order --wallet carol.wallet "${g[@]}" --socks5 127.0.0.1:"$socks_port" \
  --side buy --price 9.90 --qty 1)
expect "carol's order through the proxy" "$out" "accepted order [0-9]+ filled 0 resting 1"
kill "$socks"
wait "$socks" 2>/dev/null || true
socks=""
expect "the proxy's log" "$(cat socks.out)" "127\.0\.0\.1:$port"
"$pfex" node follow --wallet carol.wallet "${g[@]}" --auto-refresh --settle-delay-ms 500 \
  --seconds 300 >follow.out 2>&1 &
follower=$!
wait_for "carol's node" follow.out '^watching identity ' "$follower"
"$pfex" node order --wallet alice.wallet "${g[@]}" --side sell --price 9.60 --qty 21 >/dev/null
out=$("$pfex" node order --wallet bob.wallet "${g[@]}" --side buy --price 9.60 --qty 20)
expect "bob's buy at the edge" "$out" "accepted order [0-9]+ filled 20 resting 0"
# Ledger time moves with entries: the issuer's advance carries it past carol's delay.
"$pfex" node advance --wallet issuer.wallet "${g[@]}" >/dev/null
wait_for "carol's node" follow.out '^margin round, epoch 1: refresh sent' "$follower"
stop_process "carol's node" follower follow.out
expect "carol's settle" "$(cat follow.out)" "^settle sent"
out=$("$pfex" node status --wallet carol.wallet --log m.log)
expect "carol refreshed" "$out" "margin round open \(epoch 1\): refreshed"
expect "carol's token" "$out" "^token \(epoch 1, index [0-9]+\): cash [0-9.]+ USD, position 1,"
out=$("$pfex" node status --wallet alice.wallet --log m.log)
expect "alice not refreshed" "$out" "margin round open \(epoch 1\): not refreshed"
refused "alice's refresh before settling" 1 "settle first" \
  "$pfex" node refresh --wallet alice.wallet "${g[@]}"
"$pfex" node settle --wallet alice.wallet "${g[@]}" >/dev/null
"$pfex" node refresh --wallet alice.wallet "${g[@]}" >/dev/null
out=$("$pfex" node status --wallet alice.wallet --log m.log)
expect "alice refreshed by hand" "$out" "margin round open \(epoch 1\): refreshed"
expect "alice's position" "$out" "position -24, open buy 0, open sell 0$"

# Every node's replica, the following validator and a fresh replay agree on the state.
fresh=$("$pfex" validator --log m.log --once)
n=$(sed -n 's/^entries \([0-9]*\) .*/\1/p' <<<"$fresh")
state=$(sed -n 's/^state //p' <<<"$fresh")
expect "fresh replay" "$fresh" "^entries $n \(accepted $n, rejected 0\)"
for w in alice bob carol; do
  out=$("$pfex" node status --wallet $w.wallet --log m.log)
  expect "$w's replica" "$out" "^state $state at log entry $n$"
done
for _ in $(seq 600); do
  kill -USR1 "$validator"
  sleep 0.2
  grep -qE "^entries $n " validator.out && break
done
expect "the following validator" "$(cat validator.out)" "^entries $n "
[ "$(grep '^state ' validator.out | tail -1)" = "state $state" ] ||
  fail "the following validator's state differs: $(tail -5 validator.out)"
restarted=$("$pfex" validator --log m.log --once --snapshots snaps | grep '^state')
[ "$restarted" = "state $state" ] || fail "restart from snapshot: $restarted != state $state"
echo "private session ok: $n log entries, state $state"
