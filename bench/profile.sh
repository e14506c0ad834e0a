#!/usr/bin/env bash
# bench/profile.sh — where does Switchman spend its CPU per request? (and plain YARP, for reference)
#
# 1. CPU profile: perf record (on-CPU samples with call stacks, kernel included) of Switchman and of plain YARP while
#    wrk loads each, with DOTNET_PerfMapEnabled=1 so JIT-compiled frames have names, broken down by
#    bench/perf_breakdown.py into layers and components (Kestrel, YARP, HttpClient, Switchman, metrics, kernel TCP, ...).
# 2. Runtime counters (dotnet-counters, if installed): allocated bytes per request, GC count and pause time, lock
#    contention, thread pool.
# 3. System calls and context switches per request (perf stat) for every proxy, HAProxy and NGINX included.
# Results go to $OUT_DIR (default bench/results/profile-<UTC timestamp>/); summary.txt holds the readable part.
#
# Environment (all optional):
#   DURATION=12s   perf/counters window per proxy (wrk runs 4 s longer)   FREQ=999   perf sampling frequency (Hz)
#   PRIME=20s      load on each .NET proxy before profiling (JIT tiering)
#   PROFILE="switchman yarp"   proxies to CPU-profile (empty: none)
#   SYSCALLS="switchman haproxy nginx yarp"   proxies for the system-call count (empty: none)
#   CONNECTIONS=64 THREADS=2  REQUEST_PATH=/api/items  SKIP_BUILD=1  KEEP_TMP=1  OUT_DIR=...
# The system-call step adds tracepoint overhead to every proxy alike.
# Needs: perf (linux-perf), dotnet, haproxy, nginx, wrk, curl, python3; dotnet-counters optional
# (dotnet tool install -g dotnet-counters).
#
# The profiled .NET proxies run with DOTNET_EnableWriteXorExecute=0: with W^X on, JIT code is mapped from a memfd
# and perf cannot match it to the perf map. This makes them slightly faster than in compare.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
DURATION=${DURATION:-12s}
FREQ=${FREQ:-999}
PRIME=${PRIME:-20s}
PROFILE=${PROFILE-"switchman yarp"}
SYSCALLS=${SYSCALLS-"switchman haproxy nginx yarp"}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
REQUEST_PATH=${REQUEST_PATH:-/api/items}
OUT_DIR=${OUT_DIR:-$BENCH/results/profile-$(date -u +%Y%m%dT%H%M%SZ)}
LOG_TAG=profile
source "$BENCH/lib.sh"

require_tools dotnet haproxy nginx wrk curl python3 perf
COUNTERS=$(command -v dotnet-counters || true)
[[ -z $COUNTERS && -x $HOME/.dotnet/tools/dotnet-counters ]] && COUNTERS=$HOME/.dotnet/tools/dotnet-counters
[[ -n $COUNTERS ]] || log "dotnet-counters not installed: skipping runtime counters (dotnet tool install -g dotnet-counters)"

make_tmp
build_all
mkdir -p "$OUT_DIR"
SUMMARY=$OUT_DIR/summary.txt
: >"$SUMMARY"
say() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }

WINDOW=$(seconds "$DURATION")
PERF_ENV=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)

start_backends
declare -A WANT
for p in $PROFILE $SYSCALLS; do WANT[$p]=1; done
for p in switchman haproxy nginx yarp; do
  [[ -n ${WANT[$p]:-} ]] || continue
  case $p in
    switchman | yarp)
      start_proxy "$p" "${PERF_ENV[@]}"
      # The runtime writes its perf map to /tmp; perf script needs it until the end, the cleanup removes it.
      CLEAN_FILES+=("/tmp/perf-${PROXY_PID[$p]}.map" "/tmp/perfinfo-${PROXY_PID[$p]}.map")
      ;;
    *) start_proxy "$p" ;;
  esac
done
for p in switchman yarp; do
  if [[ -n ${WANT[$p]:-} ]]; then
    log "priming $p for $PRIME (JIT tiering)"
    run_wrk "$TMP/prime-$p.txt" "$PRIME" "${PROXY_URL[$p]}$REQUEST_PATH"
  fi
done

# load_in_background NAME SECONDS: wrk against a proxy for SECONDS, in the background; sets LOAD_PID.
load_in_background() {
  local p=$1 secs=$2
  timeout --kill-after=5 $((secs + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency \
    "${PROXY_URL[$p]}$REQUEST_PATH" >"$OUT_DIR/wrk-$3-$p.txt" 2>&1 &
  LOAD_PID=$!
  PIDS+=("$LOAD_PID")
}
finish_load() {
  wait "$LOAD_PID" || die "wrk failed: $(cat "$OUT_DIR"/wrk-*-"$1".txt)"
  forget "$LOAD_PID"
}

# ---------------------------------------------------------------------------------------------------------------------
say "# Profile of $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "wrk -t$THREADS -c$CONNECTIONS against $REQUEST_PATH; perf at $FREQ Hz for ${WINDOW}s per proxy"


for p in $PROFILE; do
  pid=${PROXY_PID[$p]}
  log "CPU profile of $p (pid $pid)"
  load_in_background "$p" $((WINDOW + 4)) cpu
  sleep 2
  before=$(backend_requests)
  cpu0=$(cpu_ticks "$pid")
  run_bounded $((WINDOW + 20)) "$TMP/perf-record-$p.log" \
    perf record -F "$FREQ" -g -p "$pid" -o "$OUT_DIR/perf-$p.data" -- sleep "$WINDOW" \
    || die "perf record failed: $(cat "$TMP/perf-record-$p.log")"
  cpu1=$(cpu_ticks "$pid")
  after=$(backend_requests)
  finish_load "$p"
  perf script -i "$OUT_DIR/perf-$p.data" 2>/dev/null | python3 "$BENCH/perf_breakdown.py" --top 30 >"$OUT_DIR/breakdown-$p.txt"
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$OUT_DIR/wrk-cpu-$p.txt")
  cpu_ms=$(((cpu1 - cpu0) * 1000 / CLK_TCK))
  say ""
  say "## $p"
  say "under perf: $rps req/s; $((after - before)) requests and $cpu_ms ms CPU while perf ran = $(awk -v c="$cpu_ms" -v r=$((after - before)) 'BEGIN { printf "%.1f", c * 1000 / r }') CPU ms per 1000 requests"

  if [[ -n $COUNTERS ]]; then
    # Runtime counters in a window of their own: the tool and its EventPipe session cost the process some CPU.
    log "runtime counters of $p"
    "$COUNTERS" collect -p "$pid" --refresh-interval 1 --format csv -o "$OUT_DIR/counters-$p.csv" \
      --counters System.Runtime >"$TMP/counters-$p.log" 2>&1 &
    counters_pid=$!
    PIDS+=("$counters_pid")
    deadline=$((SECONDS + 30))
    until { [[ -s $OUT_DIR/counters-$p.csv ]] && (($(wc -l <"$OUT_DIR/counters-$p.csv") > 2)); } || ((SECONDS > deadline)); do sleep 0.5; done
    run_wrk "$OUT_DIR/wrk-counters-$p.txt" "${WINDOW}s" "${PROXY_URL[$p]}$REQUEST_PATH"
    sleep 1.5
    kill -INT "$counters_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$counters_pid" 2>/dev/null || break; sleep 0.2; done
    kill -TERM "$counters_pid" 2>/dev/null || true
    wait "$counters_pid" 2>/dev/null || true
    forget "$counters_pid"
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$OUT_DIR/wrk-counters-$p.txt")
    if [[ -s $OUT_DIR/counters-$p.csv ]]; then
      python3 "$BENCH/counters_summary.py" "$OUT_DIR/counters-$p.csv" "$rps" | tee -a "$SUMMARY"
    else
      say "dotnet-counters wrote nothing: $(tail -3 "$TMP/counters-$p.log")"
    fi
  fi

  # What the receive calls are: a 1-byte MSG_PEEK (flags 0x2) is HttpClient checking that a pooled connection is
  # still open before reusing it; the 4 KiB ones are data reads (the ones that find no data return EAGAIN).
  load_in_background "$p" 6 recv
  sleep 2
  run_bounded 30 "$TMP/perf-recv-$p.log" perf record -e syscalls:sys_enter_recvfrom -p "$pid" -o "$TMP/recv-$p.data" -- sleep 2 \
    || die "perf record (recvfrom) failed: $(cat "$TMP/perf-recv-$p.log")"
  finish_load "$p"
  say "recvfrom calls by (size, flags) over 2 s:"
  perf script -i "$TMP/recv-$p.data" -F trace 2>/dev/null \
    | sed -n 's/.*size: \(0x[0-9a-f]*\), flags: \(0x[0-9a-f]*\).*/  size=\1 flags=\2/p' | sort | uniq -c | sort -rn | head -5 | tee -a "$SUMMARY"
  say '```'
  tee -a "$SUMMARY" <"$OUT_DIR/breakdown-$p.txt"
  say '```'
done

# ---------------------------------------------------------------------------------------------------------------------
# System calls and context switches per request: perf stat spans the whole wrk run; requests come from wrk.
# Every syscalls:sys_enter_* tracepoint when the kernel has them (the per-call columns), else only the total.
EVENTS=raw_syscalls:sys_enter,context-switches
if perf list tracepoint 2>/dev/null | grep 'syscalls:sys_enter_recvfrom' >/dev/null; then EVENTS+=',syscalls:sys_enter_*'; fi
say ""
say "## System calls and context switches per request (perf stat over a ${WINDOW}s wrk run)"
printf '%-10s %9s %10s %8s  %s\n' proxy requests "syscalls/r" "ctxsw/r" "by call, per request" | tee -a "$SUMMARY"
for p in $SYSCALLS; do
  mapfile -t pids < <(proxy_pids "$p")
  pid_list=$(
    IFS=,
    echo "${pids[*]}"
  )
  perf stat -x, -e "$EVENTS" -p "$pid_list" -o "$OUT_DIR/perfstat-$p.txt" -- sleep $((WINDOW + 3)) >/dev/null 2>&1 &
  stat_pid=$!
  PIDS+=("$stat_pid")
  sleep 1 # let perf stat attach before the load starts
  run_wrk "$OUT_DIR/wrk-syscalls-$p.txt" "${WINDOW}s" "${PROXY_URL[$p]}$REQUEST_PATH"
  wait "$stat_pid" || die "perf stat failed: $(cat "$OUT_DIR/perfstat-$p.txt")"
  forget "$stat_pid"
  requests=$(awk '/requests in/ {print $1}' "$OUT_DIR/wrk-syscalls-$p.txt")
  awk -F, -v p="$p" -v r="$requests" '
    $3 ~ /raw_syscalls:sys_enter/ { total = $1 }
    $3 == "context-switches" { cs = $1 }
    $3 ~ /^syscalls:sys_enter_/ { n = $3; sub(/syscalls:sys_enter_/, "", n); if ($1 / r >= 0.01) detail = detail sprintf(" %s=%.2f", n, $1 / r) }
    END { printf "%-10s %9d %10.2f %8.2f %s\n", p, r, total / r, cs / r, detail }
  ' "$OUT_DIR/perfstat-$p.txt" | tee -a "$SUMMARY"
done

log "results in $OUT_DIR (summary.txt, breakdown-*.txt, perf-*.data, counters-*.csv, perfstat-*.txt)"
