#!/usr/bin/env bash
# bench/compare.sh — Switchman side by side with HAProxy, NGINX and plain YARP, on loopback, in one run.
#
# Starts two demo backends once, then Switchman, HAProxy, NGINX and a plain YARP proxy in front of them (configured
# equivalently, from the templates in bench/), and measures each with wrk in interleaved rounds:
#   round 1: switchman haproxy nginx yarp, round 2: the same order, ...
# Each measurement is preceded by a wrk warm-up against the same proxy. Per run: requests/s, p50/p90/p99 latency,
# proxy CPU time (utime+stime from /proc/PID/stat; NGINX: master + workers), CPU ms per 1000 requests, RSS at the
# end of the run, CPU of the backends and of wrk, and the CPU used by anything else on the machine ("other load").
# Prints the medians per proxy and the Switchman/other ratios; writes every run as CSV to $OUT.
#
# Environment (all optional):
#   DURATION=10s  CONNECTIONS=64  THREADS=2  ROUNDS=3  WARMUP=3s
#   PRIME=15s        one-time load on each .NET proxy after start, so tiered JIT (PGO) is done before round 1
#   PROXIES="switchman haproxy nginx yarp"   which proxies, in round order; "switchman2" is a second Switchman
#                    for A/B runs: SWITCHMAN2_DLL=path/to/other/switchman.dll (or SWITCHMAN2_BIN=path/to/a/native/switchman)
#                    and/or SWITCHMAN2_ENV="DOTNET_x=y ..."; SWITCHMAN_DLL=path/to/switchman.dll replaces the first one
#   REQUEST_PATH=/api/items                  path requested through the proxies
#   SERVERS=2  ROUTES=1   cost as work grows: N servers in the backend, N-1 routes the request is matched against
#                    before the default backend (bench/scale_config.py; not for yarp, which keeps its two servers)
#   CLUSTER=3        Switchman runs as one node of a 3-node cluster on loopback (three processes, a cluster section each,
#                    one shared secret, default cluster timings; the same frontend and backend with active health checks
#                    on every node; each node's frontend on a port of its own): "switchman" is the node that leads once
#                    the cluster has formed, "switchman-follower" (add it to PROXIES) another node. The CPU of the other
#                    nodes during each run is recorded apart (cluster_peers_cpu_ms); cluster_role says what the measured
#                    node was at the start and at the end of the run. HAProxy, NGINX and YARP run as without it.
#   TLS=1            HTTPS on the proxies' frontends (a fresh self-signed P-256 certificate, the same for all; wrk keeps
#                    its connections, so this is the cost of TLS records, not of handshakes; not for yarp)
#   OUT=bench/results/compare-<UTC timestamp>.csv
#   QUIET_WAIT=0     up to this many seconds before each run, wait for the machine to be idle (< 25% of one core
#                    busy outside the benchmark); for shared machines. 0: do not wait.
#   SKIP_BUILD=1     use the existing Release builds
#   KEEP_TMP=1       keep the temp dir (generated configs, logs, wrk output)
# Needs: dotnet, haproxy, nginx, wrk, curl, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-3s}
PRIME=${PRIME:-15s}
PROXIES=${PROXIES:-"switchman haproxy nginx yarp"}
REQUEST_PATH=${REQUEST_PATH:-/api/items}
QUIET_WAIT=${QUIET_WAIT:-0}
OUT=${OUT:-$BENCH/results/compare-$(date -u +%Y%m%dT%H%M%SZ).csv}
LOG_TAG=compare
source "$BENCH/lib.sh"

require_tools dotnet haproxy nginx wrk curl python3
if [[ -n ${CLUSTER:-} ]] && ! [[ $CLUSTER =~ ^[0-9]+$ && $CLUSTER -ge 2 ]]; then die "CLUSTER must be a number of nodes (3)"; fi
for p in $PROXIES; do
  case $p in switchman | switchman2 | haproxy | nginx | yarp) ;; switchman-follower) [[ -n ${CLUSTER:-} ]] || die "switchman-follower needs CLUSTER=3" ;; *) die "unknown proxy '$p' in PROXIES" ;; esac
  if [[ $p == yarp && ( ${SERVERS:-2} != 2 || ${ROUTES:-1} != 1 || ${TLS:-0} == 1 ) ]]; then die "SERVERS, ROUTES and TLS do not apply to yarp: leave it out of PROXIES"; fi
done

make_tmp
if [[ ${TLS:-0} == 1 ]]; then
  require_tools openssl
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$TMP/tls.key" -out "$TMP/tls.crt" 2>/dev/null \
    || die "openssl could not make the test certificate"
  cat "$TMP/tls.crt" "$TMP/tls.key" >"$TMP/tls.pem"
  chmod 644 "$TMP/tls.key" "$TMP/tls.pem" # NGINX workers run as nobody
  export TLS_CERT=$TMP/tls.crt TLS_KEY=$TMP/tls.key TLS_PEM=$TMP/tls.pem
fi
build_all
mkdir -p "$(dirname "$OUT")"

start_backends
for p in $PROXIES; do start_proxy "$p"; done

# .NET tiers its code up under load (tier 0 -> instrumented -> optimised with PGO); on this class of machine that
# takes ~15 s of load. HAProxy and NGINX are compiled ahead of time and need only the per-run warm-up.
if [[ $(seconds "$PRIME") -gt 0 ]]; then
  for p in $PROXIES; do
    case $p in
      switchman | switchman-follower | switchman2 | yarp)
        log "priming $p for $PRIME (JIT tiering)"
        run_wrk "$TMP/prime-$p.txt" "$PRIME" "${PROXY_URL[$p]}$REQUEST_PATH"
        ;;
    esac
  done
fi

# wait_quiet: up to QUIET_WAIT seconds, until one second passes with less than 25% of a core busy on the machine
# (everything we started is idle at that point, so whatever is busy is someone else's work).
wait_quiet() {
  ((QUIET_WAIT > 0)) || return 0
  local deadline=$((SECONDS + QUIET_WAIT)) a b
  while ((SECONDS < deadline)); do
    a=$(busy_ticks)
    sleep 1
    b=$(busy_ticks)
    (((b - a) * 100 / CLK_TCK < 25)) && return 0
  done
  log "machine still busy after ${QUIET_WAIT}s; measuring anyway"
}

echo "utc,round,proxy,threads,connections,duration_s,requests,rps,p50_ms,p90_ms,p99_ms,non2xx,socket_errors,proxy_cpu_ms,proxy_cpu_pct,cpu_ms_per_1k_req,rss_kb,backend_cpu_ms,wrk_cpu_ms,window_s,machine_busy_ms,other_cpu_pct,proxy_processes,cluster_role,cluster_peers_cpu_ms,cluster_peers_cpu_pct" >"$OUT"

measure() {
  local round=$1 p=$2 url=${PROXY_URL[$2]}$REQUEST_PATH
  local -a pids
  mapfile -t pids < <(proxy_pids "$p")
  kill -0 "${pids[0]}" 2>/dev/null || die "$p (pid ${pids[0]}) is gone: $(tail -20 "$TMP/$p.log")"

  run_wrk "$TMP/warmup-$p-$round.txt" "$WARMUP" "$url"
  wait_quiet
  # CLUSTER: the other nodes of the cluster (all of them while another proxy is measured), and the role of the measured
  # node at the start and at the end of the run (a leader that changed during a run is seen).
  local -a peers=()
  local node="" role="" role1=""
  if [[ -n ${CLUSTER:-} ]]; then
    mapfile -t peers < <(cluster_other_pids "${pids[@]}")
    node=$(cluster_node_of "${pids[0]}")
    [[ -n $node ]] && role=$(cluster_role "$node")
  fi
  local t0 t1 all0 all1 wcpu0 wcpu1 cpu0 cpu1 bcpu0 bcpu1 pcpu0 pcpu1 rss
  t0=$EPOCHREALTIME
  all0=$(busy_ticks)
  wcpu0=$(own_child_ticks)
  cpu0=$(cpu_ticks "${pids[@]}")
  bcpu0=$(cpu_ticks "${BACKEND_PIDS[@]}")
  pcpu0=$(cpu_ticks "${peers[@]}")
  run_wrk "$TMP/wrk-$p-$round.txt" "$DURATION" "$url" --latency
  cpu1=$(cpu_ticks "${pids[@]}")
  bcpu1=$(cpu_ticks "${BACKEND_PIDS[@]}")
  pcpu1=$(cpu_ticks "${peers[@]}")
  wcpu1=$(own_child_ticks)
  all1=$(busy_ticks)
  t1=$EPOCHREALTIME
  rss=$(rss_kb "${pids[@]}")
  if [[ -n $node ]]; then
    role1=$(cluster_role "$node")
    [[ $role1 == "$role" ]] || { log "warning: $p (node $node) was $role at the start of the run, $role1 at the end"; role+="->$role1"; }
  fi

  local requests rps p50 p90 p99 elapsed non2xx errors
  read -r requests rps p50 p90 p99 elapsed non2xx errors <<<"$(parse_wrk "$TMP/wrk-$p-$round.txt")"
  ((requests > 0)) || die "wrk made no request through $p: $(cat "$TMP/wrk-$p-$round.txt")"
  local cpu_ms=$(((cpu1 - cpu0) * 1000 / CLK_TCK)) bcpu_ms=$(((bcpu1 - bcpu0) * 1000 / CLK_TCK))
  local wrk_ms=$(((wcpu1 - wcpu0) * 1000 / CLK_TCK)) all_ms=$(((all1 - all0) * 1000 / CLK_TCK))
  local peers_ms=$(((pcpu1 - pcpu0) * 1000 / CLK_TCK))
  # Busy CPU that is neither the proxy, nor the backends, nor wrk, nor the cluster's other nodes: other people's work,
  # kernel threads, noise.
  local other_ms=$((all_ms - cpu_ms - bcpu_ms - wrk_ms - peers_ms))
  ((other_ms < 0)) && other_ms=0
  local window per1k pct other_pct
  window=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  per1k=$(awk -v c="$cpu_ms" -v r="$requests" 'BEGIN { printf "%.3f", c * 1000 / r }')
  pct=$(awk -v c="$cpu_ms" -v e="$elapsed" 'BEGIN { printf "%.1f", c / (e * 10) }')
  other_pct=$(awk -v c="$other_ms" -v w="$window" 'BEGIN { printf "%.1f", c / (w * 10) }')
  local peers_pct=""
  ((${#peers[@]} > 0)) && peers_pct=$(awk -v c="$peers_ms" -v w="$window" 'BEGIN { printf "%.1f", c / (w * 10) }')
  ((${#peers[@]} > 0)) || peers_ms=""
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ),$round,$p,$THREADS,$CONNECTIONS,$elapsed,$requests,$rps,$p50,$p90,$p99,$non2xx,$errors,$cpu_ms,$pct,$per1k,$rss,$bcpu_ms,$wrk_ms,$window,$all_ms,$other_pct,${#pids[@]},$role,$peers_ms,$peers_pct" >>"$OUT"
  log "round $round $p: $rps req/s, p50 $p50 ms, p99 $p99 ms, cpu $cpu_ms ms ($pct% of a core), $per1k cpu-ms/1k req, rss $rss kB, errors $((non2xx + errors)), other load $other_pct%${peers_pct:+, other cluster nodes $peers_pct%}${role:+ ($p $role)}"
}

log "measuring: $ROUNDS round(s) of [$PROXIES], wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up $WARMUP before each)"
for ((round = 1; round <= ROUNDS; round++)); do
  for p in $PROXIES; do measure "$round" "$p"; done
done

log "raw results: $OUT"
python3 "$BENCH/summarize.py" "$OUT"
