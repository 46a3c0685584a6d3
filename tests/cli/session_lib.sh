# Sourced by the end-to-end sessions (ledger_session.sh, private_session.sh): a scratch folder
# removed at exit with every process the session started, the checks, and the gateway's start.
#   session_begin PATH_TO_PFEX WAIT_SECONDS PROCESS_VARIABLE...
# sets $pfex, makes the scratch folder the working directory and sets PFEX_PASSPHRASE. At exit each
# PROCESS_VARIABLE that holds a pid (the session sets it when it starts the process, and empties it
# once it has waited for the process) is killed. WAIT_SECONDS bounds every wait_for.
# shellcheck shell=bash

session_begin() {
  pfex=$1
  session_wait_seconds=$2
  shift 2
  session_processes=("$@")
  session_dir=$(mktemp -d)
  trap session_cleanup EXIT
  cd "$session_dir" || exit 1
  export PFEX_PASSPHRASE=ctest-passphrase
}

session_cleanup() {
  local v
  for v in "${session_processes[@]}"; do
    if [ -n "${!v:-}" ]; then kill "${!v}" 2>/dev/null || true; fi
  done
  rm -rf "$session_dir"
}

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # expect "what" "output" "pattern"
  grep -qE -- "$3" <<<"$2" || { echo "$2" >&2; fail "$1: no match for /$3/"; }
}
# Waits until FILE has a line matching PATTERN while process PID runs. A session waits for
# events, never for a fixed time: on a loaded machine (ctest -j beside the fault campaigns) each
# command takes seconds. The bound only stops a hung session.
wait_for() {  # wait_for "what" FILE PATTERN PID
  for _ in $(seq $((session_wait_seconds * 10))); do
    grep -qE -- "$3" "$2" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || { cat "$2" >&2; fail "$1: the process exited"; }
    sleep 0.1
  done
  cat "$2" >&2
  fail "$1: no /$3/ within $session_wait_seconds s"
}
# Runs a command that must fail with exit code CODE and print PATTERN on stderr.
refused() {  # refused "what" CODE PATTERN command...
  local what=$1 code=$2 pattern=$3 got=0 out
  shift 3
  out=$("$@" 2>&1) || got=$?
  [ "$got" = "$code" ] || { echo "$out" >&2; fail "$what: exit $got, not $code"; }
  expect "$what" "$out" "$pattern"
}

# Starts `pfex gateway` on the log m.log; sets $gateway (its pid), $port and g, the node
# options that reach it. Port 0: the gateway takes a free port and prints it (a fixed port could
# be someone else's).
start_gateway() {
  "$pfex" gateway --log m.log --port 0 >gateway.out 2>&1 &
  gateway=$!
  wait_for "the gateway" gateway.out '^gateway listening on 127\.0\.0\.1:[0-9]+ ' "$gateway"
  port=$(sed -n 's/^gateway listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' gateway.out)
  # shellcheck disable=SC2034  # the session's commands use it
  g=(--log m.log --gateway 127.0.0.1:"$port")
}

# Stops the background process whose pid is in the variable VARIABLE with SIGTERM: it must exit
# 0 (FILE, its output, is shown if not). Empties the variable.
stop_process() {  # stop_process "what" VARIABLE FILE
  local pid=${!2} code=0
  kill -TERM "$pid"
  wait "$pid" || code=$?
  [ "$code" = 0 ] || fail "$1 exited $code on SIGTERM: $(cat "$3")"
  printf -v "$2" '%s' ''
}
