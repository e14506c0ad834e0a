#!/usr/bin/env bash
# bench/cluster.sh — leader failover time and commit latency of a 3-node Switchman cluster, on loopback or on hosts
# built from network namespaces.
#
# Builds Switchman (Release), then runs bench/cluster.py, which starts three nodes on free loopback ports in a temp
# dir and measures:
#   failover  SIGKILL of the leader → a weight change sent to a survivor answers 200 (committed by a majority and
#             applied there); plus "election": → a survivor first names a new leader. --trials times (20).
#   commits   sequential weight changes through the leader, then through a follower (--commits, 300 each).
# With --mode linkdown | sigkill | sigstop (root and iproute2 needed), this script first builds a lab: a bridge in a
# namespace of its own and one namespace per node (192.0.2.11–13) plus an operator's (192.0.2.254), each cabled to the
# bridge by a veth pair; nothing is added to the machine's own namespace. cluster.py then runs inside the operator's
# namespace, starts each node in its host with the default configuration and hits the leader with the fault:
#   linkdown  its switch port goes down (nothing answers, nothing resets, as with a powered-off machine)
#   sigkill   kill -9 (its host still answers, with RST)
#   sigstop   SIGSTOP (a paused VM), SIGCONT after the trial
# and measures the time from the fault to the first change committed through a survivor (10 trials; no commit series).
# The lab (namespaces swb-<pid>-*) is removed at exit, and leftovers of a crashed run at the next start.
# Every argument goes to bench/cluster.py (--help lists them), e.g.
#   bash bench/cluster.sh                                         # defaults: election timeout 100–200 ms (the product default), 20 trials
#   bash bench/cluster.sh --election-min 100 --election-max 200
#   bash bench/cluster.sh --trials 5 --commits 100 --quiet-wait 30
#   bash bench/cluster.sh --mode linkdown                         # 10 trials, default configuration, in namespaces
# Results: a summary on stdout and bench/results/cluster-<UTC>-<min>-<max>ms/ (result.json, summary.md, trials.csv,
# commits.csv, logs/ with every node's output).
#
# Environment (all optional):
#   SKIP_BUILD=1   use the existing Release build of the working tree
#   REV=<commit>   build that commit instead of the working tree (from `git archive`, in a temp dir removed at exit),
#                  e.g. to measure a published commit while the working tree has unfinished changes
# Needs: dotnet, python3 (standard library only), git and tar for REV.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
REV=${REV:-}
LOG_TAG=cluster

log() { printf '[%s %s] %s\n' "$LOG_TAG" "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in dotnet python3; do command -v "$tool" >/dev/null || die "$tool not found"; done

MODE=loopback
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --mode) MODE=${args[i + 1]:-} ;;
    --mode=*) MODE=${args[i]#--mode=} ;;
  esac
done

# ---------------------------------------------------------------------------------------------------------------------
# The network-namespace lab of the netns modes

LAB_PREFIX=swb-
LAB=""
source "$BENCH/netns_lab.sh"


build_lab() {
  LAB=$LAB_PREFIX$$
  log "building the lab $LAB-*: bridge, n1–n3 on 192.0.2.11–13, operator on 192.0.2.254"
  lab_cluster "$LAB"
}

BUILD_TMP=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $LAB ]]; then
    # cluster.py ends its nodes by PID; whatever is left inside (it was killed itself, say) goes with the namespaces.
    # shellcheck disable=SC2046
    lab_remove $(lab_namespaces "$LAB-")
  fi
  if [[ -n $BUILD_TMP && -d $BUILD_TMP ]]; then rm -rf "$BUILD_TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# build DIR: Release build of DIR/src/Switchman; the output lands in DIR/src/Switchman/bin/Release/net10.0/.
build() {
  log "building $1/src/Switchman (Release)"
  if ! dotnet build -c Release "$1/src/Switchman" -nologo -v quiet >"$2" 2>&1; then
    tail -30 "$2" >&2
    die "build failed"
  fi
}

if [[ -n $REV ]]; then
  command -v git >/dev/null || die "git not found (needed for REV)"
  commit=$(git -C "$ROOT" rev-parse --short "$REV^{commit}") || die "REV=$REV is not a commit"
  BUILD_TMP=$(mktemp -d /tmp/switchman-cluster-build.XXXXXX)
  git -C "$ROOT" archive "$commit" | tar -x -C "$BUILD_TMP"
  build "$BUILD_TMP" "$BUILD_TMP/build.log"
  DLL=$BUILD_TMP/src/Switchman/bin/Release/net10.0/switchman.dll
  LABEL="commit $commit"
else
  DLL=$ROOT/src/Switchman/bin/Release/net10.0/switchman.dll
  if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    build_log=$(mktemp /tmp/switchman-cluster-build.XXXXXX.log)
    build "$ROOT" "$build_log"
    rm -f "$build_log"
  fi
  [[ -f $DLL ]] || die "$DLL missing (dotnet build -c Release src/Switchman)"
  LABEL="working tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
  if [[ -n $(git -C "$ROOT" status --porcelain -- src 2>/dev/null) ]]; then LABEL+=" with uncommitted changes in src/"; fi
fi

# cluster.py copies the build into its own temp dir, ends every node it starts by PID and cleans up on any exit.
case $MODE in
  loopback)
    python3 "$BENCH/cluster.py" --dll "$DLL" --label "$LABEL" "$@"
    ;;
  linkdown | sigkill | sigstop)
    [[ $EUID -eq 0 ]] || die "--mode $MODE builds network namespaces: run as root"
    command -v ip >/dev/null || die "ip (iproute2) not found"
    remove_stale_labs
    build_lab
    # Inside the operator's namespace: its HTTP clients reach the nodes over the lab's bridge.
    ip netns exec "$LAB-ops" python3 "$BENCH/cluster.py" --dll "$DLL" --label "$LABEL" --lab "$LAB" "$@"
    ;;
  *)
    die "--mode $MODE: loopback, linkdown, sigkill or sigstop"
    ;;
esac
