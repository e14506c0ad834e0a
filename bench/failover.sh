#!/usr/bin/env bash
# bench/failover.sh — the node holding a VIP fails: how long is the VIP silent for a client, with Switchman and with
# keepalived + HAProxy, side by side in one run?
#
# Builds a lab of network namespaces (TEST-NET-1, 192.0.2.0/24; nothing is added to the root namespace):
#
#   switch ns: bridge br0, one port per host (p-<host>); a host is "powered off" by taking its port down
#     cl       192.0.2.10          the client: bench/failover.py sends a GET to the VIP every 10 ms
#     b1, b2   192.0.2.41, .42     two `switchman demo-backend` (port 8000), shared by every product, never faulted
#     sm1–sm3  192.0.2.11–13       switchman:       3 `switchman run` (a Raft cluster), VIP 192.0.2.200/24 on eth0
#     ka1–ka3  192.0.2.21–23       keepalived:      keepalived (VRRPv2, advert_int 1) + HAProxy, VIP 192.0.2.201/24
#     kf1–kf3  192.0.2.31–33       keepalived-fast: keepalived (VRRPv3, advert_int 0.1) + HAProxy, VIP 192.0.2.202/24
#
# Each product has three load-balancer hosts of its own and its own VIP, so that all of them run side by side and
# the trials can alternate between products without restarting whole clusters; only the product under test is
# faulted (the others idle: a few heartbeats and adverts a second). Every product balances the same two backends on
# port 8080 (Switchman: frontend on 0.0.0.0:8080; HAProxy: bind :8080), with an HTTP health check on /healthz.
#
# A trial: find the VIP's holder (sampling every lb host's eth0: it is never assumed), wait until it has held the VIP
# alone for SETTLE s, then bench/failover.py (in the client's namespace) sends GET /api/items to the VIP every
# INTERVAL s on a new connection, each given TIMEOUT s in all; PRE s in it hits the holder with the fault:
#   kill      SIGKILL of every process of the product on the holder (Switchman: the node; keepalived: its parent and
#             its VRRP child, and HAProxy), all stopped first so they die at one instant (a keepalived parent killed
#             alone makes its VRRP child shut down cleanly, through its parent-death signal: a graceful stop in
#             disguise). Both products leave the VIP on the dead host's eth0: nothing runs to remove it, and its kernel
#             still answers ARP for it and refuses connections to it, until the survivor's gratuitous ARP moves clients.
#   poweroff  the same processes frozen (SIGSTOP), then the holder's bridge port down: nothing runs, nothing answers.
#   stop      SIGTERM: Switchman's node; for keepalived + HAProxy, keepalived, then HAProxy once keepalived exited.
# and keeps going until the VIP has answered for HOLD s without a failure (at least MIN_POST, at most MAX_POST s
# after the fault). The gap is the longest interval between two successful answers that ends after the fault. Every
# lb host's addresses are also read every INTERVAL s (netlink): a sample that shows the VIP on two hosts whose link is
# up counts as a split-brain sample (a powered-off host keeps the address on its downed link: not counted); "live"
# split-brain samples leave out the faulted host after the fault too (the address a killed process leaves behind).
# Then the holder is restored: frozen processes killed; after a power-off the address is removed (a host that reboots
# loses it) and the port brought up; after a kill the address stays, as a restarted process finds it; the product's
# processes are started again on it, and the next trial waits until its cluster is whole and the VIP held by one host.
# Trials alternate: trial 1 of every fault and product, then trial 2, ...; the order of products rotates each trial.
# If the VIP has left the holder on its own by the moment of the fault (a lease that lapsed, a VRRP flap), nothing is
# injected and the trial is repeated (5 times at most; the CSV counts the repeats).
#
# Environment (all optional):
#   TRIALS=10  FAULTS="kill poweroff stop"  PRODUCTS="switchman keepalived keepalived-fast"
#   INTERVAL=0.01  TIMEOUT=0.2  PRE=1  HOLD=1  MIN_POST=2  MAX_POST=10  SETTLE=2
#   QUIET_WAIT=0    before each trial, wait up to this many seconds until the CPU used outside the lab over 1 s is
#   QUIET_BELOW=30  below this % of one core (for shared machines; the CSV has the outside load of every trial anyway)
#   WARM=0          before each trial, send this many GETs to every lb host's own address (not the VIP), so that a
#                   standby has served requests before it takes over (a diagnosis: by default standbys are cold)
#   SWITCHMAN_ENV   extra environment for the Switchman nodes, e.g. "Logging__LogLevel__DotNext.Net.Cluster=Debug"
#   SKIP_BUILD=1    use the existing publish (artifacts/bench-failover: Release, ReadyToRun)
#   REV=<commit>    measure that commit's Switchman instead (e.g. REV=main): built from `git archive` in the temp dir
#   OUT=bench/results/failover-<UTC>.csv; next to it, failover-<UTC>/ holds every trial's requests and samples (JSON),
#                   every process's log and the configurations
# Needs root (ip netns), dotnet, python3, curl, iproute2, arping (iputils-arping: an older Switchman,
# which REV may build, announces the VIP with it),
# haproxy and keepalived (apt-get install -y haproxy keepalived). Every process started is ended by its PID and every
# namespace removed at exit, also on error or Ctrl-C; namespaces smfo-<pid>-* left by a run that died are removed at
# the next start.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
TRIALS=${TRIALS:-10}
FAULTS=${FAULTS:-"kill poweroff stop"}
PRODUCTS=${PRODUCTS:-"switchman keepalived keepalived-fast"}
INTERVAL=${INTERVAL:-0.01}
TIMEOUT=${TIMEOUT:-0.2}
PRE=${PRE:-1}
HOLD=${HOLD:-1}
MIN_POST=${MIN_POST:-2}
MAX_POST=${MAX_POST:-10}
SETTLE=${SETTLE:-2}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$BENCH/results/failover-$STAMP.csv}
RESULTS=${OUT%.csv} # per-trial details (every request and sample) and every process's log
QUIET_WAIT=${QUIET_WAIT:-0}
QUIET_BELOW=${QUIET_BELOW:-30}
SWITCHMAN_ENV=${SWITCHMAN_ENV:-}
WARM=${WARM:-0}
REV=${REV:-}
LOG_TAG=failover
source "$BENCH/lib.sh"
source "$BENCH/netns_lab.sh"

[[ $(id -u) == 0 ]] || die "needs root (network namespaces)"
require_tools dotnet ip python3 curl arping
for p in $PRODUCTS; do
  case $p in
    switchman) ;;
    keepalived | keepalived-fast) require_tools haproxy keepalived ;;
    *) die "unknown product '$p' in PRODUCTS (switchman, keepalived, keepalived-fast)" ;;
  esac
done
for f in $FAULTS; do
  case $f in kill | poweroff | stop) ;; *) die "unknown fault '$f' in FAULTS (kill, poweroff, stop)" ;; esac
done

# A frozen process ignores SIGTERM until it is continued: wake every process first, so that lib.sh's cleanup ends
# them at once rather than after its 5 s grace each.
wake_all() {
  if ((${#PIDS[@]} > 0)); then kill -CONT "${PIDS[@]}" 2>/dev/null || true; fi
}
PRE_CLEANUP_HOOKS+=(wake_all)

# ---------------------------------------------------------------------------------------------------------------------
# The lab

LAB_PREFIX=smfo-
NS=$LAB_PREFIX$$
SW=$NS-sw CL=$NS-cl
declare -A ADDRESS=([cl]=192.0.2.10 [b1]=192.0.2.41 [b2]=192.0.2.42
  [sm1]=192.0.2.11 [sm2]=192.0.2.12 [sm3]=192.0.2.13
  [ka1]=192.0.2.21 [ka2]=192.0.2.22 [ka3]=192.0.2.23
  [kf1]=192.0.2.31 [kf2]=192.0.2.32 [kf3]=192.0.2.33)
declare -A NODES=([switchman]="sm1 sm2 sm3" [keepalived]="ka1 ka2 ka3" [keepalived-fast]="kf1 kf2 kf3")
declare -A VIP=([switchman]=192.0.2.200 [keepalived]=192.0.2.201 [keepalived-fast]=192.0.2.202)
PREFIX_LEN=24
PORT=8080
BACKEND_PORT=8000
ADMIN_PORT=9090
CLUSTER_PORT=7000

remove_lab() {
  # shellcheck disable=SC2046
  lab_remove $(lab_namespaces "$NS-")
}
CLEANUP_HOOKS+=(remove_lab)

# failover_host NAME: namespace $NS-NAME with eth0 = its address, cabled to port p-NAME of the bridge.
failover_host() { lab_host "$NS" "$1" "${ADDRESS[$1]}/$PREFIX_LEN"; }

make_lab() {
  lab_switch "$NS"
  local host p
  for host in cl b1 b2; do failover_host "$host"; done
  for p in $PRODUCTS; do
    for host in ${NODES[$p]}; do failover_host "$host"; done
  done
  log "lab $NS-*: client ${ADDRESS[cl]}, backends ${ADDRESS[b1]} ${ADDRESS[b2]}, lb hosts of [$PRODUCTS], bridge in $SW"
}

# in_ns HOST CMD...: runs CMD inside the host's namespace.
in_ns() {
  local host=$1
  shift
  ip netns exec "$NS-$host" "$@"
}

# wait_http_from HOST URL PID [SECONDS]: until URL answers 2xx from inside HOST (bounded), failing early if PID died.
wait_http_from() {
  local host=$1 url=$2 pid=$3 limit=${4:-30}
  local deadline=$((SECONDS + limit))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if in_ns "$host" curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

# reap PID...: SIGKILL (harmless on a process that exited), then wait for our children and forget them. A process
# that is not our child (keepalived's VRRP child) is waited for through /proc.
reap() {
  local pid tries
  for pid in "$@"; do
    [[ -n $pid ]] || continue
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for ((tries = 0; tries < 100; tries++)); do
      [[ -d /proc/$pid ]] || break
      [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
      sleep 0.05
    done
    forget "$pid"
  done
}

# ---------------------------------------------------------------------------------------------------------------------
# Products. Each start_<product>_node HOST starts what runs on that host and records its PIDs in NODE_PIDS[HOST]
# (the processes the faults hit) and, for keepalived + HAProxy, the split in KA_PID / HAPROXY_PID.

declare -A NODE_PIDS KA_PID KA_CHILD HAPROXY_PID
STARTS=0 # a counter for log file names: a node is started many times

TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN_SHA=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)

write_switchman_config() {
  local host=$1 peer
  {
    cat <<EOF
# What docs/cluster.md and docs/vips.md show, every timing left at its default.
admin:
  listen: ${ADDRESS[$host]}:$ADMIN_PORT
  tokens:
    - { name: bench, role: admin, sha256: $TOKEN_SHA }
cluster:
  node_id: $host
  listen: ${ADDRESS[$host]}:$CLUSTER_PORT
  peers:
EOF
    for peer in ${NODES[switchman]}; do
      [[ $peer == "$host" ]] || echo "    - { id: $peer, address: ${ADDRESS[$peer]}:$CLUSTER_PORT }"
    done
    cat <<EOF
  data_dir: $TMP/$host/data
  secret_file: $TMP/cluster.key
vips:
  - { name: api, address: ${VIP[switchman]}/$PREFIX_LEN, interface: eth0 }
frontends:
  web:
    listen: 0.0.0.0:$PORT
    routes:
      - backend: api
backends:
  api:
    servers:
      - { name: b1, address: "${ADDRESS[b1]}:$BACKEND_PORT" }
      - { name: b2, address: "${ADDRESS[b2]}:$BACKEND_PORT" }
    health:
      path: /healthz
EOF
  } >"$TMP/$host/switchman.yaml"
}

start_switchman_node() {
  local host=$1
  STARTS=$((STARTS + 1))
  local -a extra
  read -r -a extra <<<"$SWITCHMAN_ENV"
  start "$host-$STARTS" ip netns exec "$NS-$host" env "${extra[@]}" dotnet "$SWITCHMAN_DLL" run -c "$TMP/$host/switchman.yaml"
  NODE_PIDS[$host]=$STARTED_PID
}

# switchman_ready HOST...: every node's admin API answers, all name the same leader and run a replicated revision.
switchman_ready() {
  local host view leaders=""
  for host in "$@"; do
    view=$(in_ns cl curl -fsS --max-time 2 -H "Authorization: Bearer $TOKEN" "http://${ADDRESS[$host]}:$ADMIN_PORT/api/v1/status" 2>/dev/null \
      | python3 -c 'import json,sys; d=json.load(sys.stdin); print((d["cluster"].get("leader") or "-") if d["node"]["revision"] > 0 else "-")' 2>/dev/null) || return 1
    [[ $view != - ]] || return 1
    leaders+="$view "
  done
  [[ $(tr ' ' '\n' <<<"$leaders" | sort -u | grep -c .) == 1 ]]
}

wait_switchman_ready() {
  local deadline=$((SECONDS + 120)) host
  until switchman_ready ${NODES[switchman]}; do
    for host in ${NODES[switchman]}; do
      kill -0 "${NODE_PIDS[$host]}" 2>/dev/null || die "switchman on $host exited: $(tail -20 "$TMP/$host-$STARTS.log" 2>/dev/null)"
    done
    ((SECONDS < deadline)) || die "the switchman nodes did not agree on a leader within 120 s"
    sleep 0.5
  done
}

write_keepalived_configs() {
  local p=$1 host=$2 priority=$3 version advert vrid
  if [[ $p == keepalived ]]; then version=2 advert=1 vrid=51; else version=3 advert=0.1 vrid=52; fi
  cat >"$TMP/$host/keepalived.conf" <<EOF
# keepalived's defaults (preempt, no tracking scripts) with one VRRP instance: the highest priority up holds the VIP.
global_defs {
    router_id $host
    vrrp_version $version
}
vrrp_instance VI_$vrid {
    state BACKUP
    interface eth0
    virtual_router_id $vrid
    priority $priority
    advert_int $advert
    virtual_ipaddress {
        ${VIP[$p]}/$PREFIX_LEN dev eth0
    }
}
EOF
  keepalived -t -f "$TMP/$host/keepalived.conf" 2>"$TMP/$host/keepalived-test.log" || die "keepalived rejected $TMP/$host/keepalived.conf: $(cat "$TMP/$host/keepalived-test.log")"
  cat >"$TMP/$host/haproxy.cfg" <<EOF
# HAProxy as shipped (Debian's timeouts) with what an HA pair adds: retries on the other server, HTTP health checks.
global
    maxconn 1000
    pidfile $TMP/$host/haproxy.pid
defaults
    mode http
    timeout connect 5s
    timeout client 50s
    timeout server 50s
    option redispatch
    retries 3
frontend web
    bind :$PORT
    default_backend api
backend api
    balance roundrobin
    option httpchk GET /healthz
    server b1 ${ADDRESS[b1]}:$BACKEND_PORT check
    server b2 ${ADDRESS[b2]}:$BACKEND_PORT check
EOF
  haproxy -c -q -f "$TMP/$host/haproxy.cfg" || die "haproxy rejected $TMP/$host/haproxy.cfg"
}

start_keepalived_node() {
  local host=$1 dir=$TMP/$1
  STARTS=$((STARTS + 1))
  start "$host-haproxy-$STARTS" ip netns exec "$NS-$host" haproxy -db -f "$dir/haproxy.cfg"
  HAPROXY_PID[$host]=$STARTED_PID
  wait_http_from cl "http://${ADDRESS[$host]}:$PORT/api/items" "${HAPROXY_PID[$host]}" 20 \
    || die "haproxy on $host does not answer: $(tail -20 "$TMP/$host-haproxy-$STARTS.log")"
  rm -f "$dir/keepalived.pid" "$dir/vrrp.pid"
  # Foreground (-n), console log (-l -D, no syslog), VRRP only (-P), pid files of its own: several run on one machine.
  start "$host-keepalived-$STARTS" ip netns exec "$NS-$host" keepalived -n -l -D -G -P -f "$dir/keepalived.conf" \
    -p "$dir/keepalived.pid" -r "$dir/vrrp.pid" -c "$dir/checkers.pid"
  KA_PID[$host]=$STARTED_PID
  # The VRRP child does the work; the parent respawns it. The fault must reach both.
  local tries child=""
  for ((tries = 0; tries < 100; tries++)); do
    child=$(cat "$dir/vrrp.pid" 2>/dev/null || true)
    [[ -n $child && -d /proc/$child ]] && break
    kill -0 "${KA_PID[$host]}" 2>/dev/null || die "keepalived on $host exited: $(tail -20 "$TMP/$host-keepalived-$STARTS.log")"
    sleep 0.1
  done
  [[ -n $child && -d /proc/$child ]] || die "keepalived on $host started no VRRP child"
  KA_CHILD[$host]=$child
  NODE_PIDS[$host]="${KA_PID[$host]} ${KA_CHILD[$host]} ${HAPROXY_PID[$host]}"
}

start_product() {
  local p=$1 host priority=150
  for host in ${NODES[$p]}; do mkdir -p "$TMP/$host"; done
  case $p in
    switchman)
      head -c 32 /dev/urandom | base64 >"$TMP/cluster.key"
      for host in ${NODES[$p]}; do
        write_switchman_config "$host"
        start_switchman_node "$host"
      done
      wait_switchman_ready
      ;;
    keepalived | keepalived-fast)
      for host in ${NODES[$p]}; do
        write_keepalived_configs "$p" "$host" "$priority"
        priority=$((priority - 50))
        start_keepalived_node "$host"
      done
      ;;
  esac
  log "$p up on ${NODES[$p]} (VIP ${VIP[$p]})"
}

# holder PRODUCT: the host that has held the VIP alone, link up, for SETTLE s (sampled every 10 ms over netlink).
holder() {
  local p=$1 names="" namespaces="" host
  for host in ${NODES[$p]}; do
    names+=${names:+,}$host
    namespaces+=${namespaces:+,}$NS-$host
  done
  in_ns cl python3 "$BENCH/failover.py" holders --vip "${VIP[$p]}" --names "$names" --namespaces "$namespaces" \
    --stable "$SETTLE" --limit 60
}

# ---------------------------------------------------------------------------------------------------------------------
# One trial

run_trial() {
  local p=$1 fault=$2 trial=$3
  local h names="" namespaces="" host other repeats rc json=$TMP/trial-$trial-$p-$fault.json busy_from
  for host in ${NODES[$p]}; do
    names+=${names:+,}$host
    namespaces+=${namespaces:+,}$NS-$host
  done
  for ((repeats = 0; ; repeats++)); do
    if [[ $QUIET_WAIT != 0 ]]; then
      other=$(python3 "$BENCH/failover.py" quiet --lab-prefix "$NS-" --below "$QUIET_BELOW" --limit "$QUIET_WAIT") \
        || log "the machine stayed busy outside the lab (${other}% of a core) for ${QUIET_WAIT}s: trial $trial $p $fault runs anyway"
    fi
    if ((WARM > 0)); then
      local addresses="" failed
      for host in ${NODES[$p]}; do addresses+=${addresses:+,}${ADDRESS[$host]}; done
      failed=$(in_ns cl python3 "$BENCH/failover.py" warm --hosts "$addresses" --port "$PORT" --count "$WARM") \
        || log "warning: $failed of the warm-up requests to $p's hosts failed"
    fi
    h=$(holder "$p") || die "$p: no host holds the VIP alone (see ip -n $NS-<host> addr)"
    in_ns cl curl -fsS -o /dev/null --max-time 2 "http://${VIP[$p]}:$PORT/api/items" || die "$p: the VIP ${VIP[$p]} does not answer"
    local -a fault_args
    case $p:$fault in
      switchman:stop) fault_args=(--pids "${NODE_PIDS[$h]}") ;;
      keepalived*:stop) fault_args=(--pids "${KA_PID[$h]}" --then-pids "${HAPROXY_PID[$h]}") ;;
      *) fault_args=(--pids "$(tr ' ' , <<<"${NODE_PIDS[$h]}")") ;;
    esac
    [[ $fault == poweroff ]] && fault_args+=(--link-cmd "ip -n $SW link set p-$h down")

    busy_from=$(date +%s.%N)
    rc=0
    # The faults kill our children from Python: bash reports each on its stderr when it notices ("Killed"); not news.
    run_bounded $((${MAX_POST%.*} + 60)) "$json" ip netns exec "$CL" python3 "$BENCH/failover.py" trial \
      --vip "${VIP[$p]}" --names "$names" --namespaces "$namespaces" --holder "$h" --fault "$fault" "${fault_args[@]}" \
      --port "$PORT" --interval "$INTERVAL" --timeout "$TIMEOUT" --pre "$PRE" --hold "$HOLD" --min-post "$MIN_POST" \
      --max-post "$MAX_POST" --sample-every "$INTERVAL" --lab-prefix "$NS-" \
      --csv "$OUT" --trial "$trial" --product "$p" --repeats "$repeats" --detail "$RESULTS/trial-$trial-$p-$fault.json" \
      2>>"$TMP/job-notices.log" || rc=$?
    ((rc == 0)) && break
    ((rc == 3)) || die "trial $trial $p $fault failed: $(tail -20 "$json")"
    # No fault was injected: the VIP had left the host found a moment before (a lease that lapsed, under load).
    log "trial $trial $p $fault: $(tail -1 "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["aborted"])'); trying again"
    ((repeats < 5)) || die "trial $trial $p $fault: the VIP kept moving before the fault, 6 tries"
  done

  restore "$p" "$fault" "$h"
  echo "$busy_from,$(date +%s.%N),$p,$trial,$fault" >>"$RESULTS/busy.csv"

  python3 - "$json" "$trial" "$p" "$fault" <<'EOF' >&2
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print(f"[failover] trial {sys.argv[2]} {sys.argv[3]:<15} {sys.argv[4]:<8} {d['holder']}→{d['new_holder'] or '?'}: "
      f"gap {d['gap_ms']:.0f} ms{'' if d['recovered'] else ' (NOT RECOVERED)'}, {d['failed']} failed "
      f"({' '.join(f'{k}={n}' for k, n in sorted(d['failures'].items())) or '-'}), VIP moved at {d['vip_moved_ms']} ms, "
      f"split-brain samples {d['dual_samples']} (live {d['dual_live_samples']}) of {d['samples']}; "
      f"other load {d['other_pct']}%" + (f"; fault error: {d['fault_error']}" if d["fault_error"] else ""))
EOF
}

# restore PRODUCT FAULT HOST: the faulted host back as it was before the trial; waits until the product is whole.
restore() {
  local p=$1 fault=$2 h=$3 pid
  # SIGKILL ends the frozen ones (power-off) and reaps the killed ones; after a stop they have exited already.
  # keepalived's VRRP child is not our child: it is ended by its PID too.
  # shellcheck disable=SC2086
  reap ${NODE_PIDS[$h]}
  if [[ $fault == poweroff ]]; then
    # A host that was powered off boots without the address; then its link comes back.
    ip -n "$NS-$h" addr del "${VIP[$p]}/$PREFIX_LEN" dev eth0 2>/dev/null || true
    ip -n "$SW" link set "p-$h" up
  fi
  case $p in
    switchman)
      start_switchman_node "$h"
      wait_switchman_ready
      ;;
    keepalived | keepalived-fast) start_keepalived_node "$h" ;;
  esac
}

# ---------------------------------------------------------------------------------------------------------------------

make_tmp
mkdir -p "$RESULTS"
: >"$OUT"
# At exit (after every process ended): the logs and configurations next to the per-trial details, for reading later.
save_logs() {
  local f
  for f in "$TMP"/*.log; do [[ -e $f ]] && cp "$f" "$RESULTS/"; done
  for f in "$TMP"/*/*.yaml "$TMP"/*/*.conf "$TMP"/*/*.cfg; do [[ -e $f ]] && cp "$f" "$RESULTS/$(basename "$(dirname "$f")")-$(basename "$f")"; done
  return 0
}
CLEANUP_HOOKS+=(save_logs)
remove_stale_labs
# Switchman as an operator deploys it: published, ReadyToRun (its code and YARP's precompiled, so a standby's first
# request does not wait for the JIT: ~26 ms against ~46 ms for a plain build, on loopback with warm backends).
publish_switchman() { # <project dir> <output dir>
  dotnet publish "$1" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$2" -nologo -v quiet \
    >"$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log" >&2; die "publish of $1 failed"; }
}
if [[ -n $REV ]]; then
  # Another commit's Switchman (e.g. REV=main), built from `git archive` in the temp dir: this tree's src/ is untouched.
  commit=$(git -C "$ROOT" rev-parse --short "$REV^{commit}") || die "REV=$REV is not a commit"
  log "publishing Switchman at $commit (Release, ReadyToRun)"
  mkdir -p "$TMP/rev"
  git -C "$ROOT" archive "$commit" | tar -x -C "$TMP/rev"
  publish_switchman "$TMP/rev/src/Switchman" "$TMP/rev/publish"
  SWITCHMAN_DLL=$TMP/rev/publish/switchman.dll
  LABEL="commit $commit"
else
  SWITCHMAN_DLL=$ROOT/artifacts/bench-failover/switchman.dll
  if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "publishing Switchman (Release, ReadyToRun)"
    publish_switchman "$ROOT/src/Switchman" "$ROOT/artifacts/bench-failover"
  fi
  LABEL="working tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
  if [[ -n $(git -C "$ROOT" status --porcelain -- src 2>/dev/null) ]]; then LABEL+=" with uncommitted changes in src/"; fi
fi
[[ -f $SWITCHMAN_DLL ]] || die "$SWITCHMAN_DLL missing (run without SKIP_BUILD=1 once)"
echo "$LABEL" >"$RESULTS/switchman-version.txt"
log "Switchman: $LABEL"
make_lab

for b in b1 b2; do
  start "backend-$b" ip netns exec "$NS-$b" dotnet "$SWITCHMAN_DLL" demo-backend --listen "${ADDRESS[$b]}:$BACKEND_PORT" --name "$b"
  wait_http_from cl "http://${ADDRESS[$b]}:$BACKEND_PORT/healthz" "$STARTED_PID" 60 || die "backend $b did not start: $(tail -20 "$TMP/backend-$b.log")"
done
MONITOR_PIDS=()
# Every address change on every lb host's eth0, with its time (event-driven, no polling): what each VIP did while
# its product was not being tested (bench/failover.py steady).
for p in $PRODUCTS; do
  for host in ${NODES[$p]}; do
    start "monitor-$host" ip -n "$NS-$host" -ts monitor address
    MONITOR_PIDS+=("$STARTED_PID")
  done
done
for p in $PRODUCTS; do start_product "$p"; done

read -r -a products <<<"$PRODUCTS"
log "$TRIALS trial(s) of [$FAULTS] × [$PRODUCTS]: GET every ${INTERVAL}s, timeout ${TIMEOUT}s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
started=$SECONDS
for ((trial = 1; trial <= TRIALS; trial++)); do
  for fault in $FAULTS; do
    # Rotate the products' order every trial, so none always runs right after another's restart.
    for ((k = 0; k < ${#products[@]}; k++)); do
      run_trial "${products[(k + trial - 1) % ${#products[@]}]}" "$fault" "$trial"
    done
  done
  log "trial $trial done after $((SECONDS - started)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
done

log "raw results: $OUT; per-trial details and logs: $RESULTS/"
python3 "$BENCH/failover.py" summary "$OUT"
# The monitors' output is complete once they have stopped.
for pid in "${MONITOR_PIDS[@]}"; do stop "$pid"; done
spec=""
for p in $PRODUCTS; do spec+=${spec:+,}$p:${VIP[$p]}:$(tr ' ' + <<<"${NODES[$p]}"); done
python3 "$BENCH/failover.py" steady --results "$TMP" --busy "$RESULTS/busy.csv" --products "$spec"
