# bench/lib.sh — shared by bench/compare.sh, bench/profile.sh, bench/dataplane_soak.sh and others (sourced, not run).
#
# The caller sets ROOT, BENCH and the tunables (THREADS, CONNECTIONS, KEEP_TMP, SKIP_BUILD, REQUEST_PATH) before
# sourcing. Everything started goes through `start`, which records the PID; the EXIT trap runs PRE_CLEANUP_HOOKS, ends
# each one by PID (SIGTERM, then SIGKILL after 5 s), runs CLEANUP_HOOKS and removes the temp dir.

SWITCHMAN_DLL=${SWITCHMAN_DLL:-$ROOT/src/Switchman/bin/Release/net10.0/switchman.dll}
YARP_DLL=$BENCH/PlainYarp/bin/Release/net10.0/plain-yarp.dll
CLK_TCK=$(getconf CLK_TCK)
LOG_TAG=${LOG_TAG:-bench}

log() { printf '[%s %s] %s\n' "$LOG_TAG" "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------------------------------
# Process bookkeeping and cleanup

PIDS=()
TMP=""
PRE_CLEANUP_HOOKS=() # functions run at exit before any process is ended (e.g. waking frozen processes)
CLEANUP_HOOKS=() # functions run at exit after every process has ended (e.g. removing network namespaces)
CLEAN_FILES=() # files outside $TMP to remove at exit (e.g. /tmp/perf-PID.map of profiled processes)
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e # (errexit would end the trap at the first failing status)
  local pid hook
  for hook in "${PRE_CLEANUP_HOOKS[@]}"; do "$hook" || true; done
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 5))
  for pid in "${PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "process $pid did not stop on SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  for hook in "${CLEANUP_HOOKS[@]}"; do "$hook" || true; done
  if ((${#CLEAN_FILES[@]} > 0)); then rm -f -- "${CLEAN_FILES[@]}"; fi
  if [[ -n $TMP && -d $TMP ]]; then
    if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
# Say which signal ended the run: a run that stops early is then no mystery.
trap "log 'stopped by SIGINT'; exit 130" INT
trap "log 'stopped by SIGTERM'; exit 143" TERM
trap "log 'stopped by SIGHUP'; exit 129" HUP
trap 'exit 141' PIPE

# start NAME CMD...: runs CMD in the background (output in $TMP/NAME.log), records its PID in PIDS and STARTED_PID.
start() {
  local name=$1
  shift
  "$@" >"$TMP/$name.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
}

# stop PID: SIGTERM, then SIGKILL after 5 s; waits for it and forgets it.
stop() {
  local pid=$1 deadline=$((SECONDS + 5))
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "process $pid did not stop on SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  forget "$pid"
}

# forget PID: drops a reaped PID from PIDS so the cleanup never signals a recycled PID.
forget() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# run_bounded LIMIT_S OUTFILE CMD...: runs CMD under timeout in the background, killable by the trap; waits for it.
run_bounded() {
  local limit=$1 out=$2
  shift 2
  timeout --kill-after=5 "$limit" "$@" >"$out" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  local rc=0
  wait "$pid" || rc=$?
  forget "$pid"
  return "$rc"
}

make_tmp() {
  TMP=$(mktemp -d /tmp/switchman-bench.XXXXXX)
  chmod 755 "$TMP" # NGINX workers run as nobody
  mkdir -p "$TMP/nginx"
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y haproxy nginx wrk curl python3)"
  done
}

build_all() {
  if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building Switchman and PlainYarp (Release)"
    local project
    for project in "$ROOT/src/Switchman" "$BENCH/PlainYarp"; do
      if ! dotnet build -c Release "$project" -nologo -v quiet >"$TMP/build.log" 2>&1; then
        tail -30 "$TMP/build.log" >&2
        die "build of $project failed"
      fi
    done
  fi
  [[ -f $SWITCHMAN_DLL ]] || die "$SWITCHMAN_DLL missing (dotnet build -c Release src/Switchman)"
  [[ -f $YARP_DLL ]] || die "$YARP_DLL missing (dotnet build -c Release bench/PlainYarp)"
}

# ---------------------------------------------------------------------------------------------------------------------
# Small helpers

# free_ports N: N distinct free TCP ports on 127.0.0.1 (held open together while chosen, so they differ).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

# wait_http URL PID [SECONDS]: until URL answers 2xx (bounded), failing early if PID died.
wait_http() {
  local url=$1 pid=$2 limit=${3:-30}
  local deadline=$((SECONDS + limit))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if curl -kfsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

# children PID: direct children of PID (the NGINX workers of the master).
children() {
  local pid=$1 f rest
  for f in /proc/[0-9]*/stat; do
    rest=$(cat "$f" 2>/dev/null) || continue
    rest=${rest##*) } # the command name (field 2) may hold spaces: split after the last ')'
    set -- $rest       # now $1 = state (field 3), $2 = ppid (field 4)
    [[ ${2:-} == "$pid" ]] && { f=${f#/proc/}; echo "${f%/stat}"; }
  done
  return 0
}

# cpu_ticks PID...: sum of utime+stime (clock ticks) of the given processes, all threads included.
cpu_ticks() {
  local total=0 pid stat
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    set -- $stat # utime and stime are fields 14 and 15, i.e. 12 and 13 after the ')'
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

# busy_ticks: clock ticks all CPUs spent not idle (user+nice+system+irq+softirq+steal), from /proc/stat.
busy_ticks() {
  local _cpu user nice system idle iowait irq softirq steal _rest
  read -r _cpu user nice system idle iowait irq softirq steal _rest </proc/stat
  echo $((user + nice + system + irq + softirq + steal))
}

# own_child_ticks: cutime+cstime of this shell: its reaped children (wrk via timeout, helpers).
own_child_ticks() {
  local stat
  stat=$(cat /proc/$$/stat)
  stat=${stat##*) }
  set -- $stat
  echo $((${14} + ${15}))
}

# rss_kb PID...: sum of VmRSS in kB.
rss_kb() {
  local total=0 pid kb
  for pid in "$@"; do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# seconds DURATION: wrk-style duration (10, 10s, 2m) in seconds.
seconds() {
  case $1 in
    *m) echo $((${1%m} * 60)) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
  esac
}

# run_wrk OUTFILE DURATION URL [wrk options]: wrk -t$THREADS -c$CONNECTIONS, bounded by timeout.
run_wrk() {
  local out=$1 duration=$2 url=$3
  shift 3
  run_bounded $(($(seconds "$duration") + 30)) "$out" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" "$@" "$url" \
    || die "wrk failed: $(cat "$out")"
}

# parse_wrk FILE: "requests rps p50_ms p90_ms p99_ms elapsed_s non2xx socket_errors" from wrk --latency output.
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
      if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    /requests in/ { requests = $1; elapsed = $4; sub(/s,$/, "", elapsed) }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +90%/ { p90 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
    END { printf "%d %.2f %.3f %.3f %.3f %s %d %d\n", requests, rps, p50, p90, p99, elapsed, non2xx, errors }
  ' "$1"
}

# ---------------------------------------------------------------------------------------------------------------------
# Backends and proxies

# start_backends: two demo backends (a, b) on free ports; sets PORT_A, PORT_B, BACKEND_PIDS.
start_backends() {
  read -r PORT_A PORT_B <<<"$(free_ports 2)"
  start backend-a dotnet "$SWITCHMAN_DLL" demo-backend --listen "127.0.0.1:$PORT_A" --name a
  BACKEND_PIDS=("$STARTED_PID")
  start backend-b dotnet "$SWITCHMAN_DLL" demo-backend --listen "127.0.0.1:$PORT_B" --name b
  BACKEND_PIDS+=("$STARTED_PID")
  wait_http "http://127.0.0.1:$PORT_A/healthz" "${BACKEND_PIDS[0]}" || die "backend a did not start: $(cat "$TMP/backend-a.log")"
  wait_http "http://127.0.0.1:$PORT_B/healthz" "${BACKEND_PIDS[1]}" || die "backend b did not start: $(cat "$TMP/backend-b.log")"
  log "backends a=127.0.0.1:$PORT_A b=127.0.0.1:$PORT_B (pids ${BACKEND_PIDS[*]})"
}

# backend_requests: application requests served so far by both backends (from their /_control counters).
backend_requests() {
  local total=0 port n
  for port in "$PORT_A" "$PORT_B"; do
    n=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/_control" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests_served"])')
    total=$((total + n))
  done
  echo "$total"
}

# render TEMPLATE PROXY_PORT OUTFILE [ADMIN_PORT]: fills in the placeholders; with SERVERS or ROUTES set, grows the
# result (bench/scale_config.py: more servers, more routes, HTTPS on the frontend).
render() {
  sed -e "s|@@TMP@@|$TMP|g" -e "s|@@PROXY_PORT@@|$2|g" -e "s|@@ADMIN_PORT@@|${4:-0}|g" \
    -e "s|@@BACKEND_A_PORT@@|$PORT_A|g" -e "s|@@BACKEND_B_PORT@@|$PORT_B|g" "$BENCH/$1" >"$3"
  if [[ -n ${SERVERS:-} || -n ${ROUTES:-} || -n ${TLS_CERT:-} ]]; then
    python3 "$BENCH/scale_config.py" "${1%%.*}" "$3" || die "could not grow $3"
  fi
}

declare -A PROXY_PID PROXY_URL

# start_proxy NAME [ENV=VALUE...]: starts one of switchman|switchman2|haproxy|nginx|yarp in front of the backends on a free
# port, waits until it answers and spreads requests over both servers. Extra ENV applies to .NET proxies only.
start_proxy() {
  local p=$1
  shift
  local port admin
  read -r port admin <<<"$(free_ports 2)"
  case $p in
    switchman | switchman-follower)
      if [[ -n ${CLUSTER:-} ]]; then
        # One node of a cluster (CLUSTER=N): switchman is the node that led once the cluster had formed,
        # switchman-follower another node of the same cluster; the cluster is started once, for both.
        ((${#CLUSTER_NODES[@]} > 0)) || start_cluster "$CLUSTER"
        local id=$CLUSTER_LEADER other
        if [[ $p == switchman-follower ]]; then
          for other in "${CLUSTER_NODES[@]}"; do [[ $other != "$CLUSTER_LEADER" ]] && { id=$other; break; }; done
        fi
        STARTED_PID=${CLUSTER_PID[$id]}
        port=${CLUSTER_FRONTEND[$id]##*:}
        log "$p is cluster node $id"
      else
        [[ $p == switchman ]] || die "$p needs CLUSTER=3"
        render switchman.yaml.template "$port" "$TMP/switchman.yaml" "$admin"
        start switchman env "$@" dotnet "$SWITCHMAN_DLL" run -c "$TMP/switchman.yaml"
        wait_http "http://127.0.0.1:$admin/readyz" "$STARTED_PID" || die "switchman not ready: $(cat "$TMP/switchman.log")"
      fi
      ;;
    switchman2)
      # A second Switchman for A/B runs: another build (SWITCHMAN2_DLL, or SWITCHMAN2_BIN for a self-contained or
      # Native AOT binary) and/or runtime settings (SWITCHMAN2_ENV,
      # e.g. "DOTNET_gcServer=1 DOTNET_GCgen0size=0x4000000").
      render switchman.yaml.template "$port" "$TMP/switchman2.yaml" "$admin"
      local -a env2
      read -r -a env2 <<<"${SWITCHMAN2_ENV:-}"
      if [[ -n ${SWITCHMAN2_BIN:-} ]]; then
        # A self-contained binary (e.g. a Native AOT publish): run as is.
        start switchman2 env "$@" "${env2[@]}" "$SWITCHMAN2_BIN" run -c "$TMP/switchman2.yaml"
      else
        start switchman2 env "$@" "${env2[@]}" dotnet "${SWITCHMAN2_DLL:-$SWITCHMAN_DLL}" run -c "$TMP/switchman2.yaml"
      fi
      wait_http "http://127.0.0.1:$admin/readyz" "$STARTED_PID" || die "switchman2 not ready: $(cat "$TMP/switchman2.log")"
      ;;
    haproxy)
      render haproxy.cfg.template "$port" "$TMP/haproxy.cfg"
      haproxy -c -q -f "$TMP/haproxy.cfg" || die "haproxy rejected $TMP/haproxy.cfg"
      start haproxy haproxy -db -f "$TMP/haproxy.cfg"
      ;;
    nginx)
      render nginx.conf.template "$port" "$TMP/nginx.conf"
      nginx -q -t -p "$TMP/nginx/" -c "$TMP/nginx.conf" 2>"$TMP/nginx-test.log" || die "nginx rejected its config: $(cat "$TMP/nginx-test.log")"
      start nginx nginx -p "$TMP/nginx/" -c "$TMP/nginx.conf"
      ;;
    yarp)
      start yarp env "$@" dotnet "$YARP_DLL" --listen "127.0.0.1:$port" \
        --destination "127.0.0.1:$PORT_A" --destination "127.0.0.1:$PORT_B"
      ;;
    *) die "unknown proxy '$p'" ;;
  esac
  PROXY_PID[$p]=$STARTED_PID
  PROXY_URL[$p]=$([[ -n ${TLS_CERT:-} && $p != yarp ]] && echo https || echo http)://127.0.0.1:$port
  local plog=$TMP/$p.log
  [[ -n ${CLUSTER:-} && $p == switchman* && $p != switchman2 ]] && plog=$TMP/switchman-$(cluster_node_of "$STARTED_PID").log
  wait_http "${PROXY_URL[$p]}$REQUEST_PATH" "$STARTED_PID" || die "$p did not start: $(cat "$plog")"
  # Both servers must answer through the proxy (round robin, both healthy) before anything is measured.
  local seen="" i deadline=$((SECONDS + 15))
  while ((SECONDS < deadline)); do
    for i in 1 2 3 4 5 6; do
      seen+=$(curl -kfsS -D - -o /dev/null --max-time 2 "${PROXY_URL[$p]}$REQUEST_PATH" | tr -d '\r' | awk 'tolower($1) == "x-server:" {print $2}')
    done
    [[ $seen == *a* && $seen == *b* ]] && break
    sleep 0.5
  done
  [[ $seen == *a* && $seen == *b* ]] || die "$p does not spread requests over a and b (saw '$seen')"
  log "$p up (pid ${PROXY_PID[$p]}) at ${PROXY_URL[$p]}"
}

# ---------------------------------------------------------------------------------------------------------------------
# Switchman as one node of a cluster on loopback (compare.sh CLUSTER=3)

declare -A CLUSTER_PID CLUSTER_ADMIN CLUSTER_FRONTEND # by node id (n1, n2, ...)
CLUSTER_NODES=()
CLUSTER_TOKEN=""
CLUSTER_LEADER=""

# start_cluster N: N Switchman nodes n1…nN forming one cluster on 127.0.0.1 (default cluster timings, one shared
# secret, a data directory each in $TMP). Every node gets the same shared part, switchman.yaml.template (the
# frontend, the backend with its active health checks), with the frontend on port 0, so that each node binds a port of
# its own (with one port for all, SO_REUSEPORT would spread the connections over the nodes); its admin listener gets a
# read token. Waits until every node is ready, names the same leader and has bound its frontend; sets CLUSTER_NODES,
# CLUSTER_PID, CLUSTER_ADMIN (port), CLUSTER_FRONTEND (host:port) and CLUSTER_LEADER.
start_cluster() {
  local n=$1 i j id sha file admin
  local -a ports
  read -r -a ports <<<"$(free_ports $((2 * n)))"
  CLUSTER_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  sha=$(printf %s "$CLUSTER_TOKEN" | sha256sum | cut -d' ' -f1)
  head -c 32 /dev/urandom | base64 >"$TMP/cluster.key"
  chmod 600 "$TMP/cluster.key"
  for ((i = 1; i <= n; i++)); do
    id=n$i
    CLUSTER_NODES+=("$id")
    CLUSTER_ADMIN[$id]=${ports[i - 1]}
  done
  for ((i = 1; i <= n; i++)); do
    id=n$i file=$TMP/switchman-$id.yaml admin=${ports[i - 1]}
    mkdir -p "$TMP/data-$id"
    render switchman.yaml.template 0 "$file" "$admin"
    # The admin listener's read token (the only line indented by two spaces that says listen is the admin's), then the
    # node's cluster section (node-local, like admin).
    sed -i "s|^  listen: 127.0.0.1:$admin\$|&\n  tokens:\n    - { name: bench, role: read, sha256: $sha }|" "$file"
    {
      echo "cluster:"
      echo "  node_id: $id"
      echo "  listen: 127.0.0.1:${ports[n + i - 1]}"
      echo "  peers:"
      for ((j = 1; j <= n; j++)); do
        ((j == i)) || echo "    - { id: n$j, address: 127.0.0.1:${ports[n + j - 1]} }"
      done
      echo "  data_dir: $TMP/data-$id"
      echo "  secret_file: $TMP/cluster.key"
    } >>"$file"
    start "switchman-$id" dotnet "$SWITCHMAN_DLL" run -c "$file"
    CLUSTER_PID[$id]=$STARTED_PID
  done
  local deadline=$((SECONDS + 90)) view="" why=""
  while ((SECONDS < deadline)); do
    for id in "${CLUSTER_NODES[@]}"; do
      kill -0 "${CLUSTER_PID[$id]}" 2>/dev/null || die "cluster node $id exited: $(tail -20 "$TMP/switchman-$id.log")"
    done
    if view=$(cluster_view 2>"$TMP/cluster-view.err"); then break; fi
    view=""
    sleep 0.5
  done
  [[ -n $view ]] || die "the cluster did not form within 90 s ($(cat "$TMP/cluster-view.err")); logs: $TMP/switchman-n*.log"
  set -- $view # "LEADER n1=127.0.0.1:PORT n2=..."
  CLUSTER_LEADER=$1
  shift
  local kv
  for kv in "$@"; do CLUSTER_FRONTEND[${kv%%=*}]=${kv#*=}; done
  log "cluster up: leader $CLUSTER_LEADER; $(for id in "${CLUSTER_NODES[@]}"; do printf '%s pid %s frontend %s; ' "$id" "${CLUSTER_PID[$id]}" "${CLUSTER_FRONTEND[$id]}"; done)"
}

# cluster_view: "LEADER n1=127.0.0.1:PORT n2=..." once every node is ready, names the same leader and has bound its
# frontend on an address of its own; otherwise what is missing on stderr, and status 1.
cluster_view() {
  local id args=()
  for id in "${CLUSTER_NODES[@]}"; do args+=("$id=${CLUSTER_ADMIN[$id]}"); done
  python3 -c '
import json, sys, urllib.request
token, nodes = sys.argv[1], [a.split("=") for a in sys.argv[2:]]
leaders, frontends = set(), {}
for node, port in nodes:
    try:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/status", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=2) as r:
            s = json.load(r)
    except Exception as e:
        sys.exit(f"{node}: {e}")
    urls = [u for f in s.get("frontends", []) for u in f.get("urls", [])]
    leader, ready = (s.get("cluster") or {}).get("leader"), s.get("ready")
    if not ready or not leader or len(urls) != 1:
        sys.exit(f"{node}: ready={ready} leader={leader} urls={urls}")
    leaders.add(leader)
    frontends[node] = urls[0].split("://", 1)[1]
if len(leaders) != 1:
    sys.exit(f"the nodes name different leaders: {sorted(leaders)}")
if len(set(frontends.values())) != len(frontends):
    sys.exit(f"two nodes share a frontend address: {frontends}")
print(leaders.pop(), *(f"{n}={a}" for n, a in frontends.items()))
' "$CLUSTER_TOKEN" "${args[@]}"
}

# cluster_role ID: what node ID says it is now: leader, follower, or ? when it does not answer.
cluster_role() {
  curl -fsS --max-time 2 -H "Authorization: Bearer $CLUSTER_TOKEN" "http://127.0.0.1:${CLUSTER_ADMIN[$1]}/api/v1/cluster" 2>/dev/null |
    python3 -c 'import json, sys; c = json.load(sys.stdin); print("leader" if c.get("leader") == c.get("node_id") else "follower")' 2>/dev/null ||
    echo "?"
}

# cluster_node_of PID: the id of the cluster node whose process is PID (nothing when none is).
cluster_node_of() {
  local id
  for id in "${CLUSTER_NODES[@]}"; do [[ ${CLUSTER_PID[$id]} == "$1" ]] && echo "$id"; done
  return 0
}

# cluster_other_pids PID...: the processes of the cluster's nodes other than the given ones.
cluster_other_pids() {
  local id p mine
  for id in "${CLUSTER_NODES[@]}"; do
    mine=0
    for p in "$@"; do [[ ${CLUSTER_PID[$id]} == "$p" ]] && mine=1; done
    ((mine)) || echo "${CLUSTER_PID[$id]}"
  done
  return 0
}

# proxy_pids NAME: the processes whose CPU and memory count for a proxy (NGINX: master + workers).
proxy_pids() {
  local pid=${PROXY_PID[$1]}
  echo "$pid"
  if [[ $1 == nginx ]]; then children "$pid"; fi
}
