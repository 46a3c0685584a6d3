#!/usr/bin/env bash
# Fails, listing them, if any test source skips itself (GTEST_SKIP): a test that needs a tool or
# a setting must fail when it is missing, so that CI cannot go green without running it.
set -euo pipefail
root=${1:?usage: no_test_skips.sh SOURCE_DIR}
cd "$root"
if hits=$(grep -rn --include='*.cpp' --include='*.hpp' 'GTEST_SKIP' src apps tests bench fuzz 2>/dev/null); then
  echo "tests that skip themselves (make them fail instead when what they need is missing):"
  echo "$hits"
  exit 1
fi
echo "no test skips itself"
