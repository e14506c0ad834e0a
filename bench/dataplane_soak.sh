#!/usr/bin/env bash
# bench/dataplane_soak.sh — the data plane alone, held at half of its maximum rate for 10 minutes (issue 12): does
# any request fail, and do its memory and descriptors stay flat?
#
# Starts the two demo backends and one Switchman in front of them exactly as bench/compare.sh does (bench/lib.sh,
# bench/switchman.yaml.template: round robin, active health checks, no access log), then:
#   1. primes it with PRIME (15 s) of wrk load (tiered JIT), and measures its maximum rate: wrk -t2 -c64 -d10s;
#   2. sends RATE_SHARE (50) % of that rate, constant, for DURATION (600 s) with h2load (nghttp2-client) over HTTP/1.1:
#      LOAD_CONNECTIONS (64) keep-alive connections, each sending --rps requests per second (so the rate is a multiple
#      of LOAD_CONNECTIONS), one request at a time on a connection, every request logged (start, status, latency).
#      The connections are spread over LOAD_PROCESSES (16) h2load processes started one after another: one h2load
#      sends the requests of all its connections at the same instant (one timer tick), so a single process with 64
#      connections would send bursts of 64 requests every 1/rps s, not a steady rate; 16 processes of 4 connections,
#      whose ticks fall at different moments of the period, send bursts of 4 (the summary reports the largest number
#      of requests started within one millisecond);
#   3. every SAMPLE_EVERY (10) s samples the proxy's VmRSS, open descriptors, threads and CPU (and the backends', the
#      load generator's and the whole machine's CPU).
# Then bench/dataplane_soak.py judges the run and prints it: requests sent, failed (no answer, a reset, a timeout) and
# non-2xx, latency percentiles (from the per-request log), the rate held, RSS after the warm-up (WARMUP, the first 60 s
# of the load) against its maximum and the last sample, descriptors first/last. Criteria (exit status 1 if one fails):
#   - every request answered 2xx (0 failed, 0 non-2xx);
#   - every RSS sample after the warm-up within ±RSS_BAND (10) % of the first sample after it;
#   - every descriptor count after the warm-up within ±max(8, 10%) of the first after it (as bench/soak.sh).
# Writes $OUT.csv (one row: the figures above) and $OUT-samples.csv (one row per sample).
#
# Environment (all optional):
#   DURATION=600     seconds of constant-rate load (600, 600s or 10m)
#   WARMUP=60        seconds at the start of the load whose samples are not judged
#   RATE_SHARE=50    percent of the measured maximum rate to hold;  RATE=N holds N req/s instead (no maximum measured)
#   LOAD_CONNECTIONS=64  LOAD_PROCESSES=16 (must divide LOAD_CONNECTIONS)  SAMPLE_EVERY=10  RSS_BAND=10  PRIME=15s
#   REQUEST_PATH=/api/items
#   OUT=bench/results/dataplane-soak-<UTC timestamp>
#   SWITCHMAN_DLL=path/to/switchman.dll   (default: the Release build of src/Switchman)
#   SKIP_BUILD=1     use the existing Release builds;  KEEP_TMP=1  keep the temp dir (configs, logs, the request log)
# Needs: dotnet, wrk, h2load (apt-get install -y nghttp2-client), curl, python3. Every process it starts is ended by its
# PID at exit (also on error or Ctrl-C), every load is bounded in time (timeout), the temp dir is removed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
DURATION=${DURATION:-600}
WARMUP=${WARMUP:-60}
RATE_SHARE=${RATE_SHARE:-50}
RATE=${RATE:-}
LOAD_CONNECTIONS=${LOAD_CONNECTIONS:-64}
LOAD_PROCESSES=${LOAD_PROCESSES:-16}
SAMPLE_EVERY=${SAMPLE_EVERY:-10}
RSS_BAND=${RSS_BAND:-10}
PRIME=${PRIME:-15s}
REQUEST_PATH=${REQUEST_PATH:-/api/items}
THREADS=2 # wrk, for the prime and the maximum rate, as compare.sh
CONNECTIONS=64
OUT=${OUT:-$BENCH/results/dataplane-soak-$(date -u +%Y%m%dT%H%M%SZ)}
LOG_TAG=dataplane-soak
source "$BENCH/lib.sh"

require_tools dotnet wrk curl python3
command -v h2load >/dev/null || die "h2load not found (apt-get install -y nghttp2-client)"
DURATION_S=$(seconds "$DURATION")
((DURATION_S > WARMUP + 2 * SAMPLE_EVERY)) || die "DURATION ($DURATION_S s) must leave samples after WARMUP ($WARMUP s)"
((LOAD_PROCESSES >= 1 && LOAD_CONNECTIONS % LOAD_PROCESSES == 0)) || die "LOAD_PROCESSES ($LOAD_PROCESSES) must divide LOAD_CONNECTIONS ($LOAD_CONNECTIONS)"

make_tmp
build_all
mkdir -p "$(dirname "$OUT")"
LABEL="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ $SWITCHMAN_DLL != "$ROOT/src/Switchman/bin/Release/net10.0/switchman.dll" ]]; then
  LABEL="$SWITCHMAN_DLL"
elif [[ -n $(git -C "$ROOT" status --porcelain -- src 2>/dev/null) ]]; then
  LABEL+=" with uncommitted changes in src/"
fi

start_backends
start_proxy switchman
PID=${PROXY_PID[switchman]}
URL=${PROXY_URL[switchman]}$REQUEST_PATH

if [[ $(seconds "$PRIME") -gt 0 ]]; then
  log "priming switchman for $PRIME (JIT tiering)"
  run_wrk "$TMP/prime.txt" "$PRIME" "$URL"
fi
MAX_RPS=""
if [[ -z $RATE ]]; then
  log "maximum rate: wrk -t$THREADS -c$CONNECTIONS -d10s"
  run_wrk "$TMP/max.txt" 10s "$URL" --latency
  read -r _ MAX_RPS _ _ max_p99 _ max_non2xx max_errors <<<"$(parse_wrk "$TMP/max.txt")"
  ((max_non2xx + max_errors == 0)) || die "the maximum-rate run had errors: $(cat "$TMP/max.txt")"
  RATE=$(awk -v r="$MAX_RPS" -v s="$RATE_SHARE" 'BEGIN { printf "%d", r * s / 100 }')
  log "maximum $MAX_RPS req/s (p99 $max_p99 ms); holding $RATE_SHARE%: $RATE req/s"
fi
PER_CONNECTION=$((RATE / LOAD_CONNECTIONS))
((PER_CONNECTION >= 1)) || die "RATE $RATE is below one request per second per connection ($LOAD_CONNECTIONS)"
TARGET=$((PER_CONNECTION * LOAD_CONNECTIONS))

PER_PROCESS=$((LOAD_CONNECTIONS / LOAD_PROCESSES))
log "constant load: $LOAD_PROCESSES × h2load --h1 -c$PER_PROCESS --rps=$PER_CONNECTION (= $TARGET req/s) -D $DURATION_S, sampling every $SAMPLE_EVERY s"
# One after another, a fraction of the per-connection period apart (process start-up adds its own spread): the
# processes' timer ticks, and so their bursts, fall at different moments of the period.
SPACING=$(awk -v r="$PER_CONNECTION" -v n="$LOAD_PROCESSES" 'BEGIN { printf "%.4f", 1 / r / n }')
LOAD_PIDS=() GEN_PIDS=()
for ((i = 1; i <= LOAD_PROCESSES; i++)); do
  start "h2load-$i" timeout --kill-after=5 $((DURATION_S + 60)) \
    h2load --h1 -t1 -c"$PER_PROCESS" --rps="$PER_CONNECTION" -D "$DURATION_S" --log-file="$TMP/requests-$i.tsv" "$URL"
  LOAD_PIDS+=("$STARTED_PID")
  sleep "$SPACING"
done
for pid in "${LOAD_PIDS[@]}"; do
  gen=""
  for _ in $(seq 50); do
    gen=$(children "$pid" | head -1)
    [[ -n $gen ]] && break
    sleep 0.1
  done
  GEN_PIDS+=($gen)
done

SAMPLES=$OUT-samples.csv
# CPU columns: % of one core over the interval since the previous sample (none in the first); other_cpu_pct is what
# the machine spent on neither the proxy, nor the backends, nor the load generator (someone else's work, kernel threads).
echo "t_s,rss_kb,fds,threads,proxy_cpu_pct,backend_cpu_pct,loadgen_cpu_pct,machine_busy_pct,other_cpu_pct" >"$SAMPLES"
t_start=$EPOCHREALTIME
prev_t=$t_start prev_cpu=$(cpu_ticks "$PID") prev_b=$(cpu_ticks "${BACKEND_PIDS[@]}") prev_g=$(cpu_ticks "${GEN_PIDS[@]}") prev_all=$(busy_ticks)
sample() {
  local now cpu b g all dt fds threads rss
  now=$EPOCHREALTIME
  cpu=$(cpu_ticks "$PID") b=$(cpu_ticks "${BACKEND_PIDS[@]}") g=$(cpu_ticks "${GEN_PIDS[@]}") all=$(busy_ticks)
  rss=$(rss_kb "$PID")
  fds=$(find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  threads=$(awk '/^Threads:/ {print $2}' "/proc/$PID/status")
  awk -v t="$now" -v t0="$t_start" -v pt="$prev_t" -v c="$((cpu - prev_cpu))" -v b="$((b - prev_b))" -v g="$((g - prev_g))" \
    -v a="$((all - prev_all))" -v hz="$CLK_TCK" -v rss="$rss" -v fds="$fds" -v th="$threads" 'BEGIN {
      dt = t - pt
      if (dt < 1) { printf "%.1f,%d,%d,%d,,,,,\n", t - t0, rss, fds, th; exit }
      o = a - c - b - g; if (o < 0) o = 0
      printf "%.1f,%d,%d,%d,%.1f,%.1f,%.1f,%.1f,%.1f\n", t - t0, rss, fds, th, c * 100 / hz / dt, b * 100 / hz / dt, g * 100 / hz / dt, a * 100 / hz / dt, o * 100 / hz / dt
    }' >>"$SAMPLES"
  prev_t=$now prev_cpu=$cpu prev_b=$b prev_g=$g prev_all=$all
}
sample
next=$SAMPLE_EVERY
load_running() {
  local pid
  for pid in "${LOAD_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
while load_running; do
  kill -0 "$PID" 2>/dev/null || die "switchman (pid $PID) is gone: $(tail -20 "$TMP/switchman.log")"
  elapsed=$(awk -v t="$EPOCHREALTIME" -v t0="$t_start" 'BEGIN { printf "%d", t - t0 }')
  if ((elapsed >= next)); then
    sample
    next=$((next + SAMPLE_EVERY))
    if (((next - SAMPLE_EVERY) % 60 == 0)); then log "$(tail -1 "$SAMPLES" | awk -F, '{ printf "t=%ds rss %.1f MiB, %d fds, proxy %s%% of a core", $1, $2 / 1024, $3, $5 }')"; fi
  fi
  sleep 0.5
done
for ((i = 1; i <= LOAD_PROCESSES; i++)); do
  load_rc=0
  wait "${LOAD_PIDS[i - 1]}" || load_rc=$?
  forget "${LOAD_PIDS[i - 1]}"
  ((load_rc == 0)) || die "h2load $i ended with status $load_rc (124: it overran its time limit): $(tail -20 "$TMP/h2load-$i.log")"
done

python3 "$BENCH/dataplane_soak.py" --h2load-output "$TMP"/h2load-*.log --requests "$TMP"/requests-*.tsv --samples "$SAMPLES" \
  --out "$OUT.csv" --label "$LABEL" --duration "$DURATION_S" --warmup "$WARMUP" --rss-band "$RSS_BAND" \
  --max-rps "${MAX_RPS:-}" --target-rps "$TARGET" --connections "$LOAD_CONNECTIONS" --rate-share "$RATE_SHARE"
