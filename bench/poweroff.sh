#!/usr/bin/env bash
# bench/poweroff.sh — a backend's host powered off under load: how many requests does each proxy lose?
#
# Builds a small lab of network namespaces (TEST-NET-1, 192.0.2.0/24, nothing else is ever a target):
#
#     client ns (192.0.2.10): the proxy under test and the load generator (bench/poweroff_load.py): everything that
#       |                     talks to the backends lives here, nothing in the root namespace
#     switch ns: bridge br0 -+- port p-cl
#                            +- port p-b1 -- b1 ns (192.0.2.11): switchman demo-backend "a"
#                            +- port p-b2 -- b2 ns (192.0.2.12): switchman demo-backend "b"
#
# Each trial starts both backends and one proxy afresh, warms it up (WARMUP s of load, lenient deadline), then
# sends RATE GET/s for DURATION s, each request given DEADLINE s (connect, send and whole answer), and CUT_AT s in
# takes b2's bridge port down: b2 is "powered off" — no RST, no ARP answer, nothing. A request that gets no complete
# 2xx answer in time is lost. Trials alternate between the proxies (trial 1: every proxy, trial 2: ...).
#
# Proxies (PROXIES, default "switchman haproxy"), each with its defaults and HTTP health checks at their defaults:
#   switchman          `switchman run`: two servers and `health: { path: /healthz }`, nothing else
#   haproxy            Debian's shipped timeouts (connect 5s, client/server 50s), `option redispatch`, retries 3
#                      (the default), `option httpchk GET /healthz` + `check` (inter 2s, rise 2, fall 3)
#   haproxy-connect100 the same with `timeout connect 100ms` (what issue 8 calls tuned)
#   switchman-before   Switchman built from BEFORE_REV (default ff68c82, before adaptive connects), same config
#
# Environment (all optional):
#   TRIALS=5  RATE=100  DURATION=10  CUT_AT=3  DEADLINE=0.2  WARMUP=3
#   PROXIES="switchman haproxy"   BEFORE_REV=ff68c82   SKIP_BUILD=1   KEEP_TMP=1
#   OUT=bench/results/poweroff-<UTC>.csv
# Needs root (ip netns), dotnet, haproxy, python3, curl, iproute2. Every process started is ended by its PID and
# every namespace removed at exit, also on error or Ctrl-C.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
TRIALS=${TRIALS:-5}
RATE=${RATE:-100}
DURATION=${DURATION:-10}
CUT_AT=${CUT_AT:-3}
DEADLINE=${DEADLINE:-0.2}
WARMUP=${WARMUP:-3}
PROXIES=${PROXIES:-"switchman haproxy"}
BEFORE_REV=${BEFORE_REV:-ff68c82}
OUT=${OUT:-$BENCH/results/poweroff-$(date -u +%Y%m%dT%H%M%SZ).csv}
LOG_TAG=poweroff
source "$BENCH/lib.sh"

require_tools dotnet ip python3 curl
[[ $(id -u) == 0 ]] || die "needs root (network namespaces)"
for p in $PROXIES; do
  case $p in
    switchman | switchman-before) ;;
    haproxy | haproxy-connect100) require_tools haproxy ;;
    *) die "unknown proxy '$p' in PROXIES" ;;
  esac
done

# ---------------------------------------------------------------------------------------------------------------------
# The lab: namespaces named after this shell's PID, so that concurrent runs (and other people's labs) never collide.

NS=smpo$$
SW=$NS-sw CL=$NS-cl B1=$NS-b1 B2=$NS-b2
declare -A ADDRESS=([cl]=192.0.2.10 [b1]=192.0.2.11 [b2]=192.0.2.12)
NAMESPACES=()
remove_lab() {
  local ns
  for ns in "${NAMESPACES[@]}"; do
    ip netns del "$ns" 2>/dev/null || log "could not remove namespace $ns"
  done
}
CLEANUP_HOOKS+=(remove_lab)

make_lab() {
  local host ns
  for ns in "$SW" "$CL" "$B1" "$B2"; do
    ip netns add "$ns"
    NAMESPACES+=("$ns")
    ip -n "$ns" link set lo up
  done
  ip -n "$SW" link add br0 type bridge
  ip -n "$SW" link set br0 up
  for host in cl b1 b2; do
    ns=$NS-$host
    # Both ends are created inside the lab: nothing appears in the root namespace, even for a moment.
    ip -n "$SW" link add "p-$host" type veth peer name eth0 netns "$ns"
    ip -n "$SW" link set "p-$host" master br0 up
    ip -n "$ns" addr add "${ADDRESS[$host]}/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
  log "lab $NS: client ${ADDRESS[cl]}, b1 ${ADDRESS[b1]}, b2 ${ADDRESS[b2]} on a bridge in $SW"
}

# in_client CMD...: runs CMD in the client namespace.
in_client() { ip netns exec "$CL" "$@"; }

# wait_http_in NS URL PID [SECONDS]: like wait_http, from inside namespace NS.
wait_http_in() {
  local ns=$1 url=$2 pid=$3 limit=${4:-30}
  local deadline=$((SECONDS + limit))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if ip netns exec "$ns" curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

# ---------------------------------------------------------------------------------------------------------------------
# Builds

make_tmp
chmod 755 "$TMP"
SWITCHMAN_BEFORE_DLL=$TMP/before/src/Switchman/bin/Release/net10.0/switchman.dll
build_switchman() {
  if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building Switchman (Release)"
    dotnet build -c Release "$ROOT/src/Switchman" -nologo -v quiet >"$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log" >&2; die "build failed"; }
  fi
  [[ -f $SWITCHMAN_DLL ]] || die "$SWITCHMAN_DLL missing (dotnet build -c Release src/Switchman)"
  if [[ " $PROXIES " == *" switchman-before "* ]]; then
    local commit
    commit=$(git -C "$ROOT" rev-parse --short "$BEFORE_REV^{commit}") || die "BEFORE_REV=$BEFORE_REV is not a commit"
    log "building Switchman at $commit (Release) for switchman-before"
    mkdir -p "$TMP/before"
    git -C "$ROOT" archive "$commit" | tar -x -C "$TMP/before"
    dotnet build -c Release "$TMP/before/src/Switchman" -nologo -v quiet >"$TMP/build-before.log" 2>&1 \
      || { tail -30 "$TMP/build-before.log" >&2; die "build of $commit failed"; }
  fi
}

# ---------------------------------------------------------------------------------------------------------------------
# Proxies: each listens on 127.0.0.1:8080 of the client namespace (the namespace is private: no port can clash).

PROXY_PORT=8080
ADMIN_PORT=9090

write_switchman_config() {
  cat >"$1" <<EOF
# Switchman's defaults: two servers and an HTTP health check, every timing left as it is.
admin:
  listen: 127.0.0.1:$ADMIN_PORT
frontends:
  web:
    listen: 127.0.0.1:$PROXY_PORT
    default_backend: api
backends:
  api:
    servers:
      - { name: a, address: "${ADDRESS[b1]}:8080" }
      - { name: b, address: "${ADDRESS[b2]}:8080" }
    health:
      path: /healthz
EOF
}

write_haproxy_config() {
  local connect=$2
  cat >"$1" <<EOF
# HAProxy as shipped (the timeouts of Debian's /etc/haproxy/haproxy.cfg), with what any HA setup adds: retries on
# another server (option redispatch; retries 3 is the default) and HTTP health checks at their defaults.
global
    maxconn 1000
    pidfile $TMP/haproxy.pid
defaults
    mode http
    timeout connect $connect
    timeout client 50s
    timeout server 50s
    option redispatch
    retries 3
frontend web
    bind 127.0.0.1:$PROXY_PORT
    default_backend api
backend api
    balance roundrobin
    option httpchk GET /healthz
    server a ${ADDRESS[b1]}:8080 check
    server b ${ADDRESS[b2]}:8080 check
EOF
}

# start_proxy NAME TRIAL: starts the proxy in the client namespace and waits until it answers; sets PROXY_PID.
start_proxy() {
  local p=$1 trial=$2 cfg
  case $p in
    switchman | switchman-before)
      cfg=$TMP/$p.yaml
      write_switchman_config "$cfg"
      local dll=$SWITCHMAN_DLL
      [[ $p == switchman-before ]] && dll=$SWITCHMAN_BEFORE_DLL
      start "$p-$trial" ip netns exec "$CL" dotnet "$dll" run -c "$cfg"
      PROXY_PID=$STARTED_PID
      wait_http_in "$CL" "http://127.0.0.1:$ADMIN_PORT/readyz" "$PROXY_PID" 60 || die "$p not ready: $(tail -20 "$TMP/$p-$trial.log")"
      ;;
    haproxy | haproxy-connect100)
      cfg=$TMP/$p.cfg
      local connect=5s
      [[ $p == haproxy-connect100 ]] && connect=100ms
      write_haproxy_config "$cfg" "$connect"
      haproxy -c -q -f "$cfg" || die "haproxy rejected $cfg"
      start "$p-$trial" ip netns exec "$CL" haproxy -db -f "$cfg"
      PROXY_PID=$STARTED_PID
      ;;
  esac
  wait_http_in "$CL" "http://127.0.0.1:$PROXY_PORT/api/items" "$PROXY_PID" 30 || die "$p does not answer: $(tail -20 "$TMP/$p-$trial.log")"
  # Both servers up and in rotation before anything is measured (health checks may still be rising).
  local seen="" deadline=$((SECONDS + 20))
  while ((SECONDS < deadline)) && [[ $seen != *a* || $seen != *b* ]]; do
    seen+=$(in_client curl -fsS -D - -o /dev/null --max-time 2 "http://127.0.0.1:$PROXY_PORT/api/items" 2>/dev/null | tr -d '\r' | awk 'tolower($1) == "x-server:" {print $2}')
    sleep 0.2
  done
  [[ $seen == *a* && $seen == *b* ]] || die "$p does not reach both servers (saw '$seen')"
}

# ---------------------------------------------------------------------------------------------------------------------
# One trial

load() {
  in_client python3 "$BENCH/poweroff_load.py" --port "$PROXY_PORT" --rate "$RATE" "$@"
}

json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))' "$1" "$2"; }

run_trial() {
  local p=$1 trial=$2
  # Power on, and forget what the client namespace learnt about b2's link-layer address during the last trial.
  ip -n "$SW" link set p-b2 up
  ip -n "$CL" neigh flush all
  start "a-$p-$trial" ip netns exec "$B1" dotnet "$SWITCHMAN_DLL" demo-backend --listen "${ADDRESS[b1]}:8080" --name a
  local pid_a=$STARTED_PID
  start "b-$p-$trial" ip netns exec "$B2" dotnet "$SWITCHMAN_DLL" demo-backend --listen "${ADDRESS[b2]}:8080" --name b
  local pid_b=$STARTED_PID
  wait_http_in "$CL" "http://${ADDRESS[b1]}:8080/healthz" "$pid_a" 30 || die "backend a did not start"
  wait_http_in "$CL" "http://${ADDRESS[b2]}:8080/healthz" "$pid_b" 30 || die "backend b did not start"
  start_proxy "$p" "$trial"

  load --duration "$WARMUP" --deadline 2 >"$TMP/warmup-$p-$trial.json"
  local warm_failed
  warm_failed=$(json_field "$TMP/warmup-$p-$trial.json" failed)
  ((warm_failed == 0)) || log "warning: $warm_failed request(s) failed during the warm-up of $p (not counted)"

  local result=$TMP/trial-$p-$trial.json
  load --duration "$DURATION" --deadline "$DEADLINE" --cut-at "$CUT_AT" --cut-cmd "ip -n $SW link set p-b2 down" >"$result"
  stop "$PROXY_PID"
  stop "$pid_a"
  stop "$pid_b"

  local requests failed before after p99 maxms cut servers
  read -r requests failed before after p99 maxms cut < <(json_field "$result" \
    '" ".join(str(x) for x in (requests, failed, failed_before_cut, failed_after_cut, latency_ms["p99"], latency_ms["max"], round(cut_at_s or -1, 3)))')
  servers=$(json_field "$result" '" ".join(f"{k}={v}" for k, v in sorted(servers_after_cut.items()))')
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ),$trial,$p,$RATE,$DURATION,$DEADLINE,$cut,$requests,$failed,$before,$after,$p99,$maxms,$servers" >>"$OUT"
  log "trial $trial $p: $failed of $requests failed ($before before the cut at ${cut}s, $after after); p99 $p99 ms, max $maxms ms; after the cut: $servers"
  if ((failed > 0)); then
    json_field "$result" '"\n".join(first_failures)' | sed 's/^/    /' >&2
  fi
}

# ---------------------------------------------------------------------------------------------------------------------

build_switchman
make_lab
mkdir -p "$(dirname "$OUT")"
echo "utc,trial,proxy,rate,duration_s,deadline_s,cut_at_s,requests,failed,failed_before_cut,failed_after_cut,p99_ms,max_ms,servers_after_cut" >"$OUT"
log "$TRIALS trial(s) of [$PROXIES]: $RATE GET/s for ${DURATION}s, deadline ${DEADLINE}s, b2 powered off at ${CUT_AT}s"
for ((trial = 1; trial <= TRIALS; trial++)); do
  for p in $PROXIES; do run_trial "$p" "$trial"; done
done

log "raw results: $OUT"
python3 - "$OUT" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"{'proxy':<20} {'trials':>6} {'failed per trial':<28} {'median':>6} {'max':>4} {'p99 ms (median)':>16}")
for proxy in dict.fromkeys(r["proxy"] for r in rows):
    mine = [r for r in rows if r["proxy"] == proxy]
    failed = [int(r["failed"]) for r in mine]
    p99 = statistics.median(float(r["p99_ms"]) for r in mine)
    print(f"{proxy:<20} {len(mine):>6} {' '.join(map(str, failed)):<28} {statistics.median(failed):>6} {max(failed):>4} {p99:>16.1f}")
EOF
