#!/usr/bin/env bash
# `pfex demo` (private by default, embedded ledger). Passes when the private run equals the
# transparent run of the same flow (the demo exits 1 otherwise), the narration shows the private
# views beside the public view, and no order in the public view carries an identity. Then the
# comparison must catch a difference: with --perturb-private the private run buys one contract
# more than the scenario says, and the demo must exit 1 naming what differs.
# Usage: demo_private.sh PATH_TO_PFEX
set -euo pipefail
pfex=$1
if ! out=$("$pfex" demo); then
  echo "$out"
  echo "the private demo failed"
  exit 1
fi
for want in "Private views" "Public view" "private and transparent runs agree" " settle " \
  " refresh " " deposit " " withdraw " " mint "; do
  grep -qF -- "$want" <<<"$out" || { echo "$out"; echo "missing: $want"; exit 1; }
done
if grep -q "DIFFERS" <<<"$out"; then echo "$out"; exit 1; fi
# Identities appear on registrations and signed cash moves; never on an order's entry.
ids=$(grep -oE "register +[0-9]+ B +identity [0-9a-f]+" <<<"$out" | awk '{print $5}')
[ -n "$ids" ] || { echo "$out"; echo "no registration in the narration"; exit 1; }
orders=$(grep -E "log #[0-9]+ +(post|cancel-replace|reduce|cancel|settle) " <<<"$out")
[ -n "$orders" ] || { echo "$out"; echo "no order entries in the narration"; exit 1; }
for id in $ids; do
  if grep -qF "$id" <<<"$orders"; then
    echo "identity $id appears on an order entry:"
    grep -F "$id" <<<"$orders"
    exit 1
  fi
done

if perturbed=$("$pfex" demo --perturb-private); then
  echo "$perturbed"
  echo "the demo did not notice a private run that bought one contract more"
  exit 1
fi
grep -q "DIFFERS" <<<"$perturbed" || { echo "$perturbed"; exit 1; }
grep -q "runs DISAGREE" <<<"$perturbed" || { echo "$perturbed"; exit 1; }
echo "private demo: ok"
