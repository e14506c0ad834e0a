#!/usr/bin/env bash
# bench/aot_smoke.sh — does a Native AOT build of Switchman do what the JIT build does? (issue 12)
#
# Publishes switchman with PublishAot=true to a temp dir (counting the trim/AOT warnings), builds the JIT Release, then
# runs the same steps with each build and compares the answers:
#   check      `switchman check` on every YAML block of docs/*.md and on examples/*.yaml (same output, same exit code)
#   node       a node alone with a frontend and two demo backends (the JIT build's demo-backend): a request through it,
#              GET /api/v1/status, GET the config (YAML and JSON), PUT a changed config, drain a server, the events,
#              /metrics, the OpenAPI document, the CLI's `status`; then a restart, which must replay the change log
#   extras     a node with HTTPS on its frontend and on its admin listener, whose backend is a service it supervises
#              (a demo backend it starts itself), and the dashboard: requests over TLS, the service's state, the page
#   cluster    three nodes on loopback, all AOT and then mixed (one JIT, two AOT: the nodes' JSON must agree): a
#              weight change and a config change sent to a follower, applied on all three; GET /api/v1/cluster there
# Also measured: start-up (exec → /healthz answers) and RSS after the node's requests, for each build.
# Loopback only; every process started is ended by PID at exit; bounded (about 6 min with the publish, 1 without).
#
# Environment (all optional):
#   AOT_DIR=<dir>   use the switchman binary already published there (skips the ~4 min publish)
#   SKIP_BUILD=1    use the existing JIT Release build (src/Switchman/bin/Release/net10.0/switchman.dll)
#   KEEP_TMP=1      keep the temp dir (every answer, log and diff)
# Exit code 0 when every step passed and every compared answer was the same; the summary lists each step.
# Needs: dotnet, python3, curl (gcc to link the AOT binary: the publish passes CppCompilerAndLinker=gcc).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
LOG_TAG=aot-smoke
source "$BENCH/lib.sh"
require_tools dotnet python3 curl openssl
make_tmp

FAILED=()
PASSED=()
pass() { PASSED+=("$1"); log "ok: $1"; }
fail() { FAILED+=("$1"); log "FAILED: $1"; }

# --------------------------------------------------------------------------------------------------------------------
# Builds

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building the JIT Release"
  nice -n 19 dotnet build -c Release "$ROOT/src/Switchman" -nologo -v quiet >"$TMP/build.log" 2>&1 \
    || { tail -30 "$TMP/build.log" >&2; die "JIT build failed"; }
fi
[[ -f $SWITCHMAN_DLL ]] || die "$SWITCHMAN_DLL missing"

if [[ -z ${AOT_DIR:-} ]]; then
  AOT_DIR=$TMP/aot
  log "publishing with PublishAot=true (a few minutes)"
  started=$SECONDS
  rc=0
  nice -n 19 dotnet publish "$ROOT/src/Switchman/Switchman.csproj" -c Release -r linux-x64 -p:PublishAot=true \
    -p:CppCompilerAndLinker=gcc -p:PublishReadyToRun=false -p:TreatWarningsAsErrors=false -p:MSBuildTreatWarningsAsErrors=false \
    -o "$AOT_DIR" --nologo >"$TMP/publish.log" 2>&1 || rc=$?
  ((rc == 0)) || { tail -30 "$TMP/publish.log" >&2; die "AOT publish failed"; }
  warnings=$({ grep -E "warning IL[0-9]+" "$TMP/publish.log" || true; } | sort -u | tee "$TMP/publish-warnings.txt" | wc -l)
  log "published in $((SECONDS - started)) s with $warnings distinct trim/AOT warning(s)"
  ((warnings == 0)) && pass "AOT publish: 0 trim/AOT warnings" || fail "AOT publish: $warnings trim/AOT warnings (publish-warnings.txt)"
fi
AOT_BIN=$AOT_DIR/switchman
[[ -x $AOT_BIN ]] || die "$AOT_BIN missing"
log "AOT binary: $(du -h "$AOT_BIN" | cut -f1) ($(stat -c %s "$AOT_BIN") bytes)"

# sw FLAVOUR: sets SW to the command line of that build (an array, so `start` records the program's own PID).
sw() { if [[ $1 == jit ]]; then SW=(dotnet "$SWITCHMAN_DLL"); else SW=("$AOT_BIN"); fi; }

# same LABEL FILE_A FILE_B: passes when both (normalized) answers are the same.
same() {
  if diff -u "$2" "$3" >"$TMP/diff-$1.txt"; then pass "$1: same answer (JIT, AOT)"; else fail "$1: answers differ (diff-$1.txt)"; fi
}

# normalize FILE: JSON with the values that differ from run to run (times, durations, rates, counters, ids) masked,
# keys sorted; anything else is left as it is, with times and PIDs masked in the text.
# normalize FILE [KEY...]: also masks those keys (in a cluster the revision is a log index: it counts the elections).
normalize() {
  python3 - "$@" <<'EOF'
import json, re, sys
VOLATILE = {"time", "started_at", "changed_at", "last_contact", "duration_ms", "request_rate", "requests_total", "in_flight",
            "proposed_at", "since", "pid", "detail", "ejected_until", "suspect_since", "last_check", "id", "term", "commit_index",
            "applied_index", "leader", "is_leader", "is_local", "role", "status", "uptime", "lag", "version"} | set(sys.argv[2:])
def mask(v, key=None):
    if key in VOLATILE and not isinstance(v, (dict, list)):
        return "*"
    if isinstance(v, dict):
        return {k: mask(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [mask(x) for x in v]
    return v
# Each build's run has its own temp dirs (node-jit, cluster-aot, ...): one name for all.
text = re.sub(r"/(node|cluster)-(jit|aot|mixed)/", r"/\1-X/", open(sys.argv[1]).read())
lines = text.rstrip("\n").split("\n")
if lines and re.fullmatch(r"HTTP \d+", lines[-1]):  # api's status line: kept, apart from the body
    print(lines[-1])
    text = "\n".join(lines[:-1])
try:
    print(json.dumps(mask(json.loads(text)), indent=1, sort_keys=True))
except ValueError:
    text = re.sub(r"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)?", "<time>", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", "<time>", text)
    text = re.sub(r"\b\d+\.\d+\.\d+\+[0-9a-f]{7,40}\b", "<version>", text)
    text = re.sub(r"\b(pid \d+|\d+(\.\d+)? ?(ms|s|/s))\b", "<n>", text)
    for key in sys.argv[2:]:
        text = re.sub(rf"\b({key.replace('_', ' ')}) \d+", r"\1 <n>", text)
    text = re.sub(r"─+", "─", re.sub(r"  +", " ", text))  # the CLI's column widths follow the values
    if len(sys.argv) > 2:
        text = re.sub(r"│ \d+ (?=│)", "│ <n> ", text)  # and a table's revision column
    print(re.sub(r" *\b\d+\.\d+\b", " <n>", text))  # rates in the CLI's tables (right-aligned)
EOF
}

# --------------------------------------------------------------------------------------------------------------------
# check: every YAML block of the docs, and the examples

mkdir -p "$TMP/check"
python3 - "$ROOT" "$TMP/check" <<'EOF'
import glob, os, re, sys
root, out = sys.argv[1], sys.argv[2]
n = 0
for path in sorted(glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True)):
    for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", open(path).read(), re.S)):
        name = os.path.relpath(path, root).replace("/", "_")[:-3]
        open(os.path.join(out, f"{name}-{i}.yaml"), "w").write(block)
        n += 1
for path in glob.glob(os.path.join(root, "examples", "*.yaml")):
    open(os.path.join(out, "examples_" + os.path.basename(path)), "w").write(open(path).read())
EOF
checks=0
check_differs=0
for file in "$TMP"/check/*.yaml; do
  for flavour in jit aot; do
    rc=0
    sw "$flavour"
    (cd "$TMP/check" && timeout 30 "${SW[@]}" check -c "$file") >"$file.$flavour.out" 2>&1 || rc=$?
    echo "exit $rc" >>"$file.$flavour.out"
  done
  checks=$((checks + 1))
  if ! diff -u "$file.jit.out" "$file.aot.out" >>"$TMP/diff-check.txt"; then check_differs=$((check_differs + 1)); fi
done
valid=$(grep -l "^exit 0" "$TMP"/check/*.jit.out | wc -l)
if ((check_differs == 0)); then pass "check: $checks files ($valid valid), same output and exit code"; else fail "check: $check_differs of $checks files differ (diff-check.txt)"; fi

# --------------------------------------------------------------------------------------------------------------------
# A node alone

read -r FRONT ADMIN BACK_A BACK_B C1 C2 C3 A2 A3 <<<"$(free_ports 9)"
TOKEN=smoke-$RANDOM$RANDOM
SHA=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)

sw jit
start backend-a "${SW[@]}" demo-backend --listen "127.0.0.1:$BACK_A" --name a
BACKEND_PIDS=("$STARTED_PID")
start backend-b "${SW[@]}" demo-backend --listen "127.0.0.1:$BACK_B" --name b
BACKEND_PIDS+=("$STARTED_PID")
wait_http "http://127.0.0.1:$BACK_A/healthz" "${BACKEND_PIDS[0]}" 30 || die "demo backend a did not start"
wait_http "http://127.0.0.1:$BACK_B/healthz" "${BACKEND_PIDS[1]}" 30 || die "demo backend b did not start"

node_yaml() { # node_yaml DATA_DIR
  cat <<EOF
admin:
  listen: 127.0.0.1:$ADMIN
  tokens:
    - { name: smoke, role: admin, sha256: $SHA }
data_dir: $1
frontends:
  web:
    listen: 127.0.0.1:$FRONT
    default_backend: api
backends:
  api:
    servers:
      - { name: a, address: 127.0.0.1:$BACK_A }
      - { name: b, address: 127.0.0.1:$BACK_B }
    health: { type: http, path: /healthz, interval: 1s, rise: 1, fall: 2 }
EOF
}

api() { # api METHOD PATH [curl args...]: the body on stdout, "HTTP <code>" as its last line
  local method=$1 path=$2
  shift 2
  curl -sS --max-time 10 -X "$method" -H "Authorization: Bearer $TOKEN" -w '\nHTTP %{http_code}\n' "$@" "http://127.0.0.1:$ADMIN$path"
}

# body FILE: the answer without its status line; code FILE: the status.
body() { sed '$d' "$1"; }
code() { tail -1 "$1" | cut -d' ' -f2; }

# ms since the epoch
now_ms() { date +%s%3N; }

run_node() { # run_node FLAVOUR: the node's steps; answers in $TMP/node-FLAVOUR/
  local flavour=$1 dir=$TMP/node-$1 pid t0 t1 rss
  mkdir -p "$dir/data"
  node_yaml "$dir/data" >"$dir/switchman.yaml"
  sw "$flavour"
  t0=$(now_ms)
  start "node-$flavour" "${SW[@]}" run -c "$dir/switchman.yaml"
  pid=$STARTED_PID
  until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$ADMIN/healthz" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { fail "node $flavour: exited at start (node-$flavour.log)"; return; }
    (($(now_ms) - t0 < 30000)) || { fail "node $flavour: no /healthz in 30 s"; return; }
    sleep 0.01
  done
  t1=$(now_ms)
  echo "$((t1 - t0))" >"$dir/startup_ms"
  wait_http "http://127.0.0.1:$ADMIN/readyz" "$pid" 30 || fail "node $flavour: not ready in 30 s"
  local ok=0 i
  for i in $(seq 1 200); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$FRONT/smoke/$i") == 200 ]] && ok=$((ok + 1))
  done
  ((ok == 200)) && pass "node $flavour: 200 requests through the frontend, all 200" || fail "node $flavour: $ok of 200 requests answered 200"
  api GET /api/v1/status >"$dir/status.txt"
  api GET /api/v1/config >"$dir/config-yaml.txt"
  api GET /api/v1/config -H 'Accept: application/json' >"$dir/config-json.txt"
  # The change: server b's weight 1 → 3, as an operator would send a whole file.
  body "$dir/config-yaml.txt" | sed -E "s/^( *)address: 127\\.0\\.0\\.1:$BACK_B\$/&\\n\\1weight: 3/" >"$dir/changed.yaml"
  api PUT /api/v1/config -H 'Content-Type: application/yaml' --data-binary @"$dir/changed.yaml" >"$dir/put-config.txt"
  api POST /api/v1/backends/api/servers/a/state -H 'Content-Type: application/json' -d '{"state":"drain"}' >"$dir/drain.txt"
  api POST /api/v1/backends/api/servers/nope/state -H 'Content-Type: application/json' -d '{"state":"drain"}' >"$dir/drain-404.txt"
  api POST /api/v1/backends/api/servers/a/state -H 'Content-Type: application/json' -d '{"state":"sleep"}' >"$dir/drain-422.txt"
  api GET '/api/v1/events?follow=false' >"$dir/events.txt"
  api GET /api/v1/vips >"$dir/vips.txt"
  api GET /api/v1/whoami >"$dir/whoami.txt"
  api GET /openapi/v1.json >"$dir/openapi.txt"
  curl -sS --max-time 5 "http://127.0.0.1:$ADMIN/metrics" >"$dir/metrics-raw.txt" || true
  grep -E '^# (TYPE|HELP)' "$dir/metrics-raw.txt" | sort >"$dir/metrics-names.txt" || true
  # An SSE stream: the first events, then cut (bounded).
  curl -sS --max-time 2 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$ADMIN/api/v1/events" >"$dir/events-sse.txt" 2>/dev/null || true
  timeout 20 "${SW[@]}" status --endpoint "http://127.0.0.1:$ADMIN" --token "$TOKEN" >"$dir/cli-status.txt" 2>&1 || echo "exit $?" >>"$dir/cli-status.txt"
  timeout 20 "${SW[@]}" server weight api b 3 --endpoint "http://127.0.0.1:$ADMIN" --token "$TOKEN" >"$dir/cli-weight.txt" 2>&1 || echo "exit $?" >>"$dir/cli-weight.txt"
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  echo "$rss" >"$dir/rss_kb"
  local codes
  codes="$(code "$dir/status.txt") $(code "$dir/config-yaml.txt") $(code "$dir/put-config.txt") $(code "$dir/drain.txt") $(code "$dir/drain-404.txt") $(code "$dir/drain-422.txt") $(code "$dir/events.txt") $(code "$dir/openapi.txt")"
  echo "$codes" >"$dir/codes"
  [[ $codes == "200 200 200 200 404 422 200 200" ]] && pass "node $flavour: admin API answers ($codes)" || fail "node $flavour: admin API answers $codes (want 200 200 200 200 404 422 200 200)"
  grep -q '^# TYPE switchman_' "$dir/metrics-raw.txt" && pass "node $flavour: /metrics has switchman_ series" || fail "node $flavour: /metrics without switchman_ series"
  stop "$pid"

  # Restarted from its change log: the drain and the new weight must still be there.
  start "node-$flavour-restart" "${SW[@]}" run -c "$dir/switchman.yaml"
  pid=$STARTED_PID
  if wait_http "http://127.0.0.1:$ADMIN/healthz" "$pid" 30; then
    api GET /api/v1/backends/api/servers/a >"$dir/after-restart-a.txt"
    api GET /api/v1/backends/api/servers/b >"$dir/after-restart-b.txt"
    if grep -q '"state":"drain"' "$dir/after-restart-a.txt" && grep -q '"weight":3' "$dir/after-restart-b.txt"; then
      pass "node $flavour: restart replays the change log (a drained, b weight 3)"
    else
      fail "node $flavour: after a restart the changes are gone (after-restart-*.txt)"
    fi
  else
    fail "node $flavour: did not restart from its change log (node-$flavour-restart.log)"
  fi
  stop "$pid"
}

run_node jit
run_node aot
for answer in status config-yaml config-json put-config drain drain-404 drain-422 events vips whoami openapi metrics-names cli-status cli-weight after-restart-a after-restart-b; do
  normalize "$TMP/node-jit/$answer.txt" >"$TMP/node-jit/$answer.norm"
  normalize "$TMP/node-aot/$answer.txt" >"$TMP/node-aot/$answer.norm"
  same "node-$answer" "$TMP/node-jit/$answer.norm" "$TMP/node-aot/$answer.norm"
done
# The SSE stream: the same events (type and data) in the same order.
for flavour in jit aot; do
  grep '^data: ' "$TMP/node-$flavour/events-sse.txt" | sed 's/^data: //' | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print(e["type"], json.dumps(e["data"], sort_keys=True))' >"$TMP/node-$flavour/events-sse.norm" || true
done
same node-events-sse "$TMP/node-jit/events-sse.norm" "$TMP/node-aot/events-sse.norm"
stop "${BACKEND_PIDS[0]}"
stop "${BACKEND_PIDS[1]}"

# --------------------------------------------------------------------------------------------------------------------
# extras: TLS listeners, a supervised service, the dashboard

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$TMP/tls.key" -out "$TMP/tls.pem" >/dev/null 2>&1 \
  || die "openssl could not make a certificate"
read -r SVC_PORT <<<"$(free_ports 1)"

extras_yaml() { # extras_yaml DATA_DIR
  cat <<EOF
admin:
  listen: 127.0.0.1:$ADMIN
  tokens:
    - { name: smoke, role: admin, sha256: $SHA }
  tls: { cert: $TMP/tls.pem, key: $TMP/tls.key }
data_dir: $1
frontends:
  web:
    listen: 127.0.0.1:$FRONT
    default_backend: api
    tls:
      certificates:
        - { cert: $TMP/tls.pem, key: $TMP/tls.key }
backends:
  api:
    servers:
      - { name: s, address: 127.0.0.1:$SVC_PORT }
    health: { type: http, path: /healthz, interval: 1s, rise: 1, fall: 2 }
services:
  demo:
    command: ["{switchman}", "demo-backend", "--listen", "{server_address}", "--name", "s"]
    backend: api
    server: s
    monitor: { http: "http://{server_address}/healthz", interval: 1s, timeout: 1s }
EOF
}

sapi() { # sapi PATH: GET over the admin listener's HTTPS
  curl -sS -k --max-time 10 -H "Authorization: Bearer $TOKEN" -w '\nHTTP %{http_code}\n' "https://127.0.0.1:$ADMIN$1"
}

run_extras() { # run_extras FLAVOUR: answers in $TMP/extras-FLAVOUR/
  local flavour=$1 dir=$TMP/extras-$1 pid ok=0 i
  mkdir -p "$dir/data"
  extras_yaml "$dir/data" >"$dir/switchman.yaml"
  sw "$flavour"
  start "extras-$flavour" "${SW[@]}" run -c "$dir/switchman.yaml"
  pid=$STARTED_PID
  local deadline=$((SECONDS + 60))
  until [[ $(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "https://127.0.0.1:$FRONT/smoke" 2>/dev/null) == 200 ]]; do
    kill -0 "$pid" 2>/dev/null || { fail "extras $flavour: exited at start (extras-$flavour.log)"; return; }
    ((SECONDS < deadline)) || { fail "extras $flavour: the supervised backend did not serve through the TLS frontend in 60 s"; stop "$pid"; return; }
    sleep 0.2
  done
  for i in $(seq 1 50); do
    [[ $(curl -sk -o /dev/null -w '%{http_code}' --max-time 5 "https://127.0.0.1:$FRONT/smoke/$i") == 200 ]] && ok=$((ok + 1))
  done
  ((ok == 50)) && pass "extras $flavour: 50 requests over TLS to a supervised backend, all 200" || fail "extras $flavour: $ok of 50 TLS requests answered 200"
  sapi /api/v1/services >"$dir/services.txt"
  sapi /api/v1/status >"$dir/status.txt"
  curl -sS -k --max-time 10 -w '\nHTTP %{http_code}\n' "https://127.0.0.1:$ADMIN/dashboard/" >"$dir/dashboard.txt" || true
  [[ $(code "$dir/services.txt") == 200 ]] && grep -q '"state":"running"' "$dir/services.txt" \
    && pass "extras $flavour: the service runs (admin API over HTTPS)" || fail "extras $flavour: service not running or no answer (services.txt)"
  [[ $(code "$dir/dashboard.txt") == 200 ]] && grep -qi '<html' "$dir/dashboard.txt" \
    && pass "extras $flavour: the dashboard page is served" || fail "extras $flavour: no dashboard page (dashboard.txt)"
  stop "$pid"
  # Stopping the node stops its service: nothing may answer on the service's port any more.
  sleep 0.5
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$SVC_PORT/healthz"; then
    fail "extras $flavour: the service still answers after the node stopped"
  else
    pass "extras $flavour: the service stopped with the node"
  fi
}

run_extras jit
run_extras aot
for answer in services status dashboard; do
  normalize "$TMP/extras-jit/$answer.txt" >"$TMP/extras-jit/$answer.norm"
  normalize "$TMP/extras-aot/$answer.txt" >"$TMP/extras-aot/$answer.norm"
  same "extras-$answer" "$TMP/extras-jit/$answer.norm" "$TMP/extras-aot/$answer.norm"
done

# --------------------------------------------------------------------------------------------------------------------
# A cluster of three on loopback

head -c 32 /dev/urandom | base64 >"$TMP/cluster.key"
chmod 600 "$TMP/cluster.key"
CLUSTER_PORTS=("$C1" "$C2" "$C3")
ADMIN_PORTS=("$ADMIN" "$A2" "$A3")

cluster_yaml() { # cluster_yaml INDEX DIR
  local i=$1 j
  cat <<EOF
admin:
  listen: 127.0.0.1:${ADMIN_PORTS[i]}
  tokens:
    - { name: smoke, role: admin, sha256: $SHA }
cluster:
  node_id: n$((i + 1))
  listen: 127.0.0.1:${CLUSTER_PORTS[i]}
  peers:
EOF
  for j in 0 1 2; do
    ((j == i)) || echo "    - { id: n$((j + 1)), address: 127.0.0.1:${CLUSTER_PORTS[j]} }"
  done
  cat <<EOF
  data_dir: $2/data-n$((i + 1))
  secret_file: $TMP/cluster.key
  election_timeout_min: 150ms
  election_timeout_max: 300ms
backends:
  api:
    servers:
      - { name: a, address: 127.0.0.1:9 }
EOF
}

capi() { # capi INDEX METHOD PATH [curl args...]
  local i=$1 method=$2 path=$3
  shift 3
  curl -sS --max-time 10 -X "$method" -H "Authorization: Bearer $TOKEN" -w '\nHTTP %{http_code}\n' "$@" "http://127.0.0.1:${ADMIN_PORTS[i]}$path"
}

run_cluster() { # run_cluster LABEL FLAVOUR1 FLAVOUR2 FLAVOUR3
  local label=$1 dir=$TMP/cluster-$1 i pids=() leader="" follower deadline
  shift
  local flavours=("$@")
  mkdir -p "$dir"
  for i in 0 1 2; do
    cluster_yaml "$i" "$dir" >"$dir/n$((i + 1)).yaml"
    sw "${flavours[i]}"
    start "cluster-$label-n$((i + 1))" "${SW[@]}" run -c "$dir/n$((i + 1)).yaml"
    pids+=("$STARTED_PID")
  done
  for i in 0 1 2; do
    wait_http "http://127.0.0.1:${ADMIN_PORTS[i]}/healthz" "${pids[i]}" 30 || { fail "cluster $label: n$((i + 1)) did not start"; }
  done
  deadline=$((SECONDS + 30))
  while [[ -z $leader ]] && ((SECONDS < deadline)); do
    leader=$(capi 0 GET /api/v1/cluster 2>/dev/null | sed '$d' | python3 -c 'import json,sys
try: print(json.load(sys.stdin).get("leader") or "")
except Exception: print("")' || true)
    [[ -n $leader ]] || sleep 0.3
  done
  if [[ -z $leader ]]; then
    fail "cluster $label: no leader in 30 s"
  else
    follower=0
    [[ $leader == n1 ]] && follower=1
    log "cluster $label: leader $leader; changes go to n$((follower + 1)) (${flavours[follower]})"
    # Which node leads differs from run to run: the answers are compared with each node named by its role.
    for i in 0 1 2; do
      local role=other
      [[ n$((i + 1)) == "$leader" ]] && role=leader
      ((i == follower)) && role=follower
      printf 's/\\bn%d\\b/%s/g; s/:%s\\b/:%s-cluster-port/g; s/:%s\\b/:%s-admin-port/g\n' \
        "$((i + 1))" "$role" "${CLUSTER_PORTS[i]}" "$role" "${ADMIN_PORTS[i]}" "$role" >>"$dir/roles.sed"
    done
    capi "$follower" PUT /api/v1/backends/api/servers/a/weight -H 'Content-Type: application/json' -d '{"weight":7}' >"$dir/weight.txt"
    capi "$follower" GET /api/v1/config >"$dir/config.txt"
    body "$dir/config.txt" | sed -E 's/^( *)  address: 127\.0\.0\.1:9$/&\n\1- name: b\n\1  address: 127.0.0.1:10/' >"$dir/changed.yaml"
    capi "$follower" PUT /api/v1/config -H 'Content-Type: application/yaml' --data-binary @"$dir/changed.yaml" >"$dir/put-config.txt"
    capi "$follower" GET /api/v1/cluster >"$dir/cluster.txt"
    sw "${flavours[follower]}"
    timeout 20 "${SW[@]}" status --endpoint "http://127.0.0.1:${ADMIN_PORTS[follower]}" --token "$TOKEN" >"$dir/cli-status.txt" 2>&1 || echo "exit $?" >>"$dir/cli-status.txt"
    timeout 20 "${SW[@]}" members --endpoint "http://127.0.0.1:${ADMIN_PORTS[follower]}" --token "$TOKEN" >"$dir/cli-members.txt" 2>&1 || echo "exit $?" >>"$dir/cli-members.txt"
    local applied=0
    deadline=$((SECONDS + 10))
    while ((SECONDS < deadline)); do
      applied=0
      for i in 0 1 2; do
        capi "$i" GET /api/v1/backends/api/servers/a >"$dir/a-n$((i + 1)).txt"
        capi "$i" GET /api/v1/backends/api/servers/b >"$dir/b-n$((i + 1)).txt"
        grep -q '"weight":7' "$dir/a-n$((i + 1)).txt" && [[ $(code "$dir/b-n$((i + 1)).txt") == 200 ]] && applied=$((applied + 1))
      done
      ((applied == 3)) && break
      sleep 0.3
    done
    [[ $(code "$dir/weight.txt") == 200 && $(code "$dir/put-config.txt") == 200 ]] \
      && pass "cluster $label: a weight and a config change sent to follower n$((follower + 1)) answered 200" \
      || fail "cluster $label: the follower answered $(code "$dir/weight.txt") to the weight, $(code "$dir/put-config.txt") to the config"
    ((applied == 3)) && pass "cluster $label: both changes applied on all three nodes" || fail "cluster $label: applied on $applied of 3 nodes"
    [[ $(code "$dir/cluster.txt") == 200 ]] && grep -q '"node_id"\|"members"' "$dir/cluster.txt" \
      && pass "cluster $label: GET /api/v1/cluster on a follower (members' own reports)" || fail "cluster $label: GET /api/v1/cluster answered $(code "$dir/cluster.txt")"
  fi
  for i in 2 1 0; do stop "${pids[i]}"; done
}

run_cluster jit jit jit jit
run_cluster aot aot aot aot
run_cluster mixed jit aot aot
for answer in weight put-config cluster cli-status cli-members a-n1 a-n2 a-n3; do
  for flavour in jit aot; do
    # Nodes by role, then sorted lines: the members' order (by id) depends on which node is which.
    sed -E -f "$TMP/cluster-$flavour/roles.sed" "$TMP/cluster-$flavour/$answer.txt" >"$TMP/cluster-$flavour/$answer.roles"
    normalize "$TMP/cluster-$flavour/$answer.roles" revision term commit_index | sort >"$TMP/cluster-$flavour/$answer.norm"
  done
  same "cluster-$answer" "$TMP/cluster-jit/$answer.norm" "$TMP/cluster-aot/$answer.norm"
done

# --------------------------------------------------------------------------------------------------------------------
# Summary

echo
echo "## Native AOT smoke ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo
echo "| build | start-up (exec → /healthz) | RSS after 200 requests + admin calls | size |"
echo "| --- | --- | --- | --- |"
echo "| JIT | $(cat "$TMP/node-jit/startup_ms" 2>/dev/null || echo ?) ms | $(($(cat "$TMP/node-jit/rss_kb" 2>/dev/null || echo 0) / 1024)) MiB | framework-dependent |"
echo "| AOT | $(cat "$TMP/node-aot/startup_ms" 2>/dev/null || echo ?) ms | $(($(cat "$TMP/node-aot/rss_kb" 2>/dev/null || echo 0) / 1024)) MiB | $(($(stat -c %s "$AOT_BIN") / 1048576)) MiB binary |"
echo
for step in "${PASSED[@]}"; do echo "- ok: $step"; done
for step in "${FAILED[@]}"; do echo "- FAILED: $step"; done
echo
echo "${#PASSED[@]} passed, ${#FAILED[@]} failed"
((${#FAILED[@]} == 0))
