#!/usr/bin/env bash
# bench/cluster.sh — leader failover time and commit latency of a 3-node Switchman cluster on loopback.
#
# Builds Switchman (Release), then runs bench/cluster.py, which starts three nodes on free loopback ports in a temp
# dir and measures:
#   failover  SIGKILL of the leader → a weight change sent to a survivor answers 200 (committed by a majority and
#             applied there); plus "election": → a survivor first names a new leader. --trials times (20).
#   commits   sequential weight changes through the leader, then through a follower (--commits, 300 each).
# Every argument goes to bench/cluster.py (--help lists them), e.g.
#   bash bench/cluster.sh                                         # defaults: election timeout 100–200 ms (the product default), 20 trials
#   bash bench/cluster.sh --election-min 100 --election-max 200
#   bash bench/cluster.sh --trials 5 --commits 100 --quiet-wait 30
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

BUILD_TMP=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
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
python3 "$BENCH/cluster.py" --dll "$DLL" --label "$LABEL" "$@"
