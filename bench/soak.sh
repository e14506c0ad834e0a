#!/usr/bin/env bash
# bench/soak.sh — a soak of a 3-node Switchman cluster (issue 14): 30 minutes of bounded GET load through every node's
# frontend while reloads, drains, weight changes and leader kills happen every few seconds; checks that no request
# fails, that the nodes' RSS and open descriptors stay flat after a warm-up, and that no node logs an unobserved task
# exception, an unhandled exception or a stack trace at Error level.
#
# Builds Switchman (Release) and the startup hook bench/SoakHook, then a lab of network namespaces (TEST-NET-1; nothing
# is added to the machine's own namespace):
#
#   switch ns: bridge br0, one port per host
#     n1–n3    192.0.2.11–13    `switchman run`: a 3-node cluster, default cluster settings, one shared secret
#     b1–b3    192.0.2.21–23    `switchman demo-backend` on :8000, the servers of every node's backend `api`
#     ops      192.0.2.254      bench/soak.py: the clients, the churn, the sampling (the operator's machine)
#
# Why hosts of their own and not loopback: every node has the same configuration, so on loopback their frontends would
# share one port (SO_REUSEPORT) and a client could not choose the node it sends to; here each node has its address.
# What the load, the churn and the checks are, exactly: bench/soak.py --help (and its docstring). Every argument goes
# to bench/soak.py, e.g.
#   bash bench/soak.sh                                   # 30 minutes, a random seed (printed)
#   bash bench/soak.sh --duration 240 --seed 7           # a short run
#   bash bench/soak.sh --long-lived none --abrupt        # kill whichever node leads; keep sending to it until the kill
# Results: a summary on stdout, bench/results/soak-<UTC>/ (result.json, summary.md, requests.csv, churn.csv, faults.csv,
# samples.csv, logs/). Exit status 1 when an acceptance criterion fails.
#
# Environment (all optional):
#   SKIP_BUILD=1   use the existing Release builds of src/Switchman and bench/SoakHook
# Needs root (ip netns), iproute2, dotnet, python3 (standard library only). Every process is ended by its PID (soak.py
# stops its nodes and backends; whatever is left in the lab goes with the namespaces), the lab smsk-<pid>-* is removed
# at exit, also on error or Ctrl-C, and leftovers of a run that died at the next start.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
LOG_TAG=soak
source "$BENCH/lib.sh"
source "$BENCH/netns_lab.sh"

[[ $(id -u) == 0 ]] || die "needs root (network namespaces)"
require_tools dotnet ip python3
HOOK_DLL=$BENCH/SoakHook/bin/Release/net10.0/soak-hook.dll

# soak.py cleans up after itself (its nodes, backends and temp dir) when it gets SIGTERM: it is given the time to
# before lib.sh's cleanup goes on and removes the lab.
PY_PID=""
stop_driver() {
  local i
  [[ -n $PY_PID ]] && kill -0 "$PY_PID" 2>/dev/null || return 0
  kill -TERM "$PY_PID" 2>/dev/null
  for ((i = 0; i < 600; i++)); do
    kill -0 "$PY_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$PY_PID" 2>/dev/null
  wait "$PY_PID" 2>/dev/null
}
PRE_CLEANUP_HOOKS+=(stop_driver)

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  build_log=$(mktemp /tmp/switchman-soak-build.XXXXXX.log)
  for project in "$ROOT/src/Switchman" "$BENCH/SoakHook"; do
    log "building $project (Release)"
    if ! dotnet build -c Release "$project" -nologo -v quiet >"$build_log" 2>&1; then
      tail -30 "$build_log" >&2
      rm -f "$build_log"
      die "build of $project failed"
    fi
  done
  rm -f "$build_log"
fi
[[ -f $SWITCHMAN_DLL ]] || die "$SWITCHMAN_DLL missing (dotnet build -c Release src/Switchman)"
[[ -f $HOOK_DLL ]] || die "$HOOK_DLL missing (dotnet build -c Release bench/SoakHook)"
LABEL="working tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ -n $(git -C "$ROOT" status --porcelain -- src 2>/dev/null) ]]; then LABEL+=" with uncommitted changes in src/"; fi

LAB_PREFIX=smsk-
LAB=$LAB_PREFIX$$
remove_lab() {
  # shellcheck disable=SC2046
  lab_remove $(lab_namespaces "$LAB-")
}
CLEANUP_HOOKS+=(remove_lab)
remove_stale_labs
log "building the lab $LAB-*: n1–n3 on 192.0.2.11–13, backends b1–b3 on 192.0.2.21–23, operator on 192.0.2.254"
lab_cluster "$LAB"
lab_host "$LAB" b1 192.0.2.21/24
lab_host "$LAB" b2 192.0.2.22/24
lab_host "$LAB" b3 192.0.2.23/24

# In the operator's namespace: its clients reach every node and backend over the lab's bridge. In the background, so
# that a signal to this script reaches the trap at once (and soak.py is told to stop).
ip netns exec "$LAB-ops" python3 "$BENCH/soak.py" --dll "$SWITCHMAN_DLL" --hook "$HOOK_DLL" --lab "$LAB" --label "$LABEL" "$@" &
PY_PID=$!
rc=0
wait "$PY_PID" || rc=$?
PY_PID=""
exit "$rc"
