#!/usr/bin/env bash
# bench/services.sh — supervised services (issue 11): how long from a crash back to serving, and do rolling restarts
# under load lose requests?
#
# One node alone on loopback (every port chosen here): `switchman run` with a frontend, a backend `api` of two
# servers a and b, and two services app-a and app-b, each `{switchman} demo-backend` as one of those servers:
#
#   backend api:  servers a, b; health: { path: /healthz }, every other health, passive and retry setting at its
#                 default (interval 2s, timeout 1s, rise 2, fall 3, retries 2 on another server, passive off)
#   services:     app-a (server a), app-b (server b): monitor { http: http://{server_address}/healthz, interval: 1s }
#                 (timeout 1s), migration_threshold 1000, everything else at its default
#
# 1. crash    TRIALS times (alternating app-a, app-b): wait until both servers run and answer through the frontend,
#             forget the service's past failures (cleanup: every crash is a first crash, restarted at once, no
#             back-off), SIGKILL the instance's PID as GET /api/v1/services reports it, and measure until the API
#             reports another PID `running` (its monitor passed) and until the frontend routes a request to that
#             server again (the demo backend names itself in X-Server; probed every 10 ms on a keep-alive
#             connection, which also counts failed probes).
# 2. load     RATE GET/s through the frontend (open loop, keep-alive, each request given DEADLINE s) while
#             RESTARTS `POST /api/v1/services/{app-a,app-b}/restart?rolling=true` run one after another (GAP s
#             apart); then the same load while KILLS `kill -9` of an instance (alternating, each after a cleanup;
#             the next one GAP s after the API reports the new PID running and the frontend routes to it again, or
#             with KILL_WAIT=running only after the API reports it running); then BASELINE s of the same load and
#             nothing else. Failed = no complete 2xx answer within DEADLINE.
#
# Environment (all optional):
#   TRIALS=20  RATE=200  DEADLINE=1  RESTARTS=10  KILLS=10  GAP=0.5  BASELINE=10  KILL_WAIT=serving|running
#   SKIP_BUILD=1 (use artifacts/bench-services as it is)  KEEP_TMP=1  OUT=bench/results/services-<UTC>.csv
# Needs dotnet, python3, curl. Every process started is ended by its PID, the temp dir removed, also on error or
# Ctrl-C; service instances still alive after the node stopped (there should be none) are ended by their PID too.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
TRIALS=${TRIALS:-20}
RATE=${RATE:-200}
DEADLINE=${DEADLINE:-1}
RESTARTS=${RESTARTS:-10}
KILLS=${KILLS:-10}
GAP=${GAP:-0.5}
KILL_WAIT=${KILL_WAIT:-serving}
BASELINE=${BASELINE:-10}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$BENCH/results/services-$STAMP.csv}
LOG_TAG=services
source "$BENCH/lib.sh"

ARTIFACTS=$ROOT/artifacts/bench-services
SWITCHMAN=$ARTIFACTS/switchman # the apphost: {switchman} in a service's command resolves to it
export SWITCHMAN_TOKEN=quickstart-demo-token
TOKEN_SHA256=53b5ce329e576b190a2addf368ebe2a9a7c580b1d0f1bf9e22aeacccedc8aada

require_tools dotnet python3 curl
make_tmp

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building Switchman (Release) into artifacts/bench-services"
  dotnet build "$ROOT/src/Switchman" -c Release -o "$ARTIFACTS" --nologo -v quiet >"$TMP/build.log" 2>&1 \
    || { tail -30 "$TMP/build.log" >&2; die "build failed"; }
fi
[[ -x $SWITCHMAN ]] || die "$SWITCHMAN missing (dotnet build src/Switchman -c Release -o artifacts/bench-services)"

read -r FRONT_PORT ADMIN_PORT PORT_A PORT_B <<<"$(free_ports 4)"

# Instances that outlived the node (it stops them when it stops; this only catches a node that died): found by
# their exact command line (this run's apphost, demo-backend, this run's ports) and ended by PID.
end_leftover_instances() {
  local f pid cmd
  for f in /proc/[0-9]*/cmdline; do
    cmd=$({ tr '\0' ' ' <"$f"; } 2>/dev/null) || continue # the process may be gone already
    case $cmd in
      "$SWITCHMAN demo-backend --listen 127.0.0.1:$PORT_A "* | "$SWITCHMAN demo-backend --listen 127.0.0.1:$PORT_B "*)
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        log "service instance $pid outlived the node; ending it"
        kill -KILL "$pid" 2>/dev/null || true
        ;;
    esac
  done
}
CLEANUP_HOOKS+=(end_leftover_instances)

CONFIG=$TMP/node.yaml
cat >"$CONFIG" <<EOF
admin:
  listen: 127.0.0.1:$ADMIN_PORT
  tokens:
    - { name: quickstart, role: admin, sha256: $TOKEN_SHA256 }
data_dir: $TMP/data
frontends:
  web:
    listen: 127.0.0.1:$FRONT_PORT
    default_backend: api
backends:
  api:
    servers:
      - { name: a, address: "127.0.0.1:$PORT_A" }
      - { name: b, address: "127.0.0.1:$PORT_B" }
    health:
      path: /healthz
services:
  app-a:
    command: ["{switchman}", "demo-backend", "--listen", "{server_address}", "--name", "a"]
    backend: api
    server: a
    migration_threshold: 1000
    monitor: { http: "http://{server_address}/healthz", interval: 1s }
  app-b:
    command: ["{switchman}", "demo-backend", "--listen", "{server_address}", "--name", "b"]
    backend: api
    server: b
    migration_threshold: 1000
    monitor: { http: "http://{server_address}/healthz", interval: 1s }
EOF
mkdir -p "$TMP/data"
"$SWITCHMAN" check -c "$CONFIG" >"$TMP/check.log" 2>&1 || die "switchman check: $(cat "$TMP/check.log")"

start node "$SWITCHMAN" run -c "$CONFIG"
NODE_PID=$STARTED_PID
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" "$NODE_PID" 60 || die "node not ready: $(tail -20 "$TMP/node.log")"
log "node $NODE_PID: frontend 127.0.0.1:$FRONT_PORT, admin 127.0.0.1:$ADMIN_PORT, servers a :$PORT_A, b :$PORT_B"

HELPER=(python3 "$BENCH/services.py")
PORTS=(--admin-port "$ADMIN_PORT" --frontend-port "$FRONT_PORT")

# Bounded: a crash trial gives up after 30 s, a load run after its --max-duration; the whole run under ~5 minutes.
log "1. crash to serving: $TRIALS SIGKILLs"
run_bounded $((TRIALS * 35 + 30)) "$TMP/crash.jsonl" "${HELPER[@]}" crash "${PORTS[@]}" --trials "$TRIALS" --limit 30 \
  || die "crash trials failed: $(tail -5 "$TMP/crash.jsonl")"
log "2. $RATE GET/s, deadline ${DEADLINE}s, $RESTARTS rolling restarts"
run_bounded 150 "$TMP/load-rolling.json" "${HELPER[@]}" load "${PORTS[@]}" --action rolling --count "$RESTARTS" --rate "$RATE" \
  --deadline "$DEADLINE" --gap "$GAP" --max-duration 120 || die "load (rolling) failed: $(tail -5 "$TMP/load-rolling.json")"
log "3. the same load, $KILLS kill -9 of an instance (each waiting until the last one is $KILL_WAIT)"
run_bounded 150 "$TMP/load-kill9.json" "${HELPER[@]}" load "${PORTS[@]}" --action kill9 --count "$KILLS" --kill-wait "$KILL_WAIT" --rate "$RATE" \
  --deadline "$DEADLINE" --gap "$GAP" --max-duration 120 || die "load (kill9) failed: $(tail -5 "$TMP/load-kill9.json")"
log "4. the same load, ${BASELINE}s, nothing else (baseline)"
run_bounded 60 "$TMP/load-none.json" "${HELPER[@]}" load "${PORTS[@]}" --action none --rate "$RATE" --deadline "$DEADLINE" \
  --lead "$BASELINE" --tail 0 --max-duration 50 || die "load (baseline) failed: $(tail -5 "$TMP/load-none.json")"

stop "$NODE_PID"
end_leftover_instances

mkdir -p "$(dirname "$OUT")"
python3 - "$TMP" "$OUT" "$RATE" "$DEADLINE" <<'EOF'
import csv, json, statistics, sys
from datetime import datetime, timezone
tmp, out, rate, deadline = sys.argv[1:5]
now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
cols = ["utc", "kind", "n", "service", "old_pid", "new_pid", "spawn_ms", "running_ms", "serving_ms", "health_seen",
        "probe_failed", "rate", "deadline_s", "requests", "failed", "timeouts", "non2xx", "errors", "p50_ms", "p99_ms",
        "max_ms", "action_ms", "failing_ms", "answer"]
rows = []
crashes = [json.loads(l) for l in open(f"{tmp}/crash.jsonl") if l.startswith("{")]
for c in crashes:
    rows.append({"utc": now, "kind": "crash", "n": c["trial"], "service": c["service"], "old_pid": c["old_pid"],
                 "new_pid": c["new_pid"], "spawn_ms": c["spawn_ms"], "running_ms": c["running_ms"],
                 "serving_ms": c["serving_ms"], "health_seen": " ".join(h for _, h in c["health_seen"]),
                 "probe_failed": c["probe_failed"]})
loads = {}
for name in ("rolling", "kill9", "none"):
    d = json.load(open(f"{tmp}/load-{name}.json"))
    loads[name] = d
    for a in d["actions"]:
        answer = a.get("status")
        if name == "rolling":
            steps = a.get("steps")
            answer = f"{a.get('status')}: " + (" | ".join(steps) if isinstance(steps, list) else str(steps))
        rows.append({"utc": now, "kind": f"{name}-action", "n": a["n"], "service": a["service"],
                     "requests": a["requests"], "failed": a["failed"], "action_ms": a["duration_ms"],
                     "running_ms": a.get("running_ms"), "failing_ms": a["failing_ms"], "answer": answer})
    rows.append({"utc": now, "kind": f"load-{name}", "rate": rate, "deadline_s": deadline, "requests": d["requests"],
                 "failed": d["failed"], "timeouts": d["timeouts"], "non2xx": d["non2xx"], "errors": d["errors"],
                 "p50_ms": d["latency_ms"]["p50"], "p99_ms": d["latency_ms"]["p99"], "max_ms": d["latency_ms"]["max"],
                 "answer": " ".join(f"{k}={v}" for k, v in sorted(d["servers"].items()))})
with open(out, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=cols)
    w.writeheader()
    w.writerows(rows)

def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    return f"median {statistics.median(values):7.0f} ms  max {max(values):7.0f} ms  min {min(values):7.0f} ms"
missing = sum(1 for c in crashes if c["running_ms"] is None or c["serving_ms"] is None)
print(f"\ncrash to serving, {len(crashes)} SIGKILLs ({missing} not back within 30 s):")
print(f"  new pid reported (any state)        {stats([c['spawn_ms'] for c in crashes])}")
print(f"  (a) new pid running (monitor passed) {stats([c['running_ms'] for c in crashes])}")
print(f"  (b) routed to by the frontend again  {stats([c['serving_ms'] for c in crashes])}")
down = sum(1 for c in crashes if any(h.startswith("down") for _, h in c["health_seen"]))
print(f"  server health seen down in {down} of {len(crashes)} crashes; failed frontend probes: "
      f"{sum(c['probe_failed'] for c in crashes)} of {sum(c['probes'] for c in crashes)}")
print(f"\n{rate} GET/s through the frontend, each given {deadline} s:")
print(f"  {'run':<26} {'requests':>8} {'failed':>6} {'timeouts':>8} {'non2xx':>6} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}  actions (median / max ms)")
for name, label in (("rolling", "rolling restarts"), ("kill9", "kill -9 of an instance"), ("none", "baseline (nothing)")):
    d = loads[name]
    acts = [a["duration_ms"] for a in d["actions"]]
    act = f"{len(acts)}: {statistics.median(acts):.0f} / {max(acts):.0f}" if acts else "-"
    bad = [a for a in d["actions"] if (name == "rolling" and a.get("status") != 200) or (name == "kill9" and "not" in str(a.get("status")))]
    print(f"  {label:<26} {d['requests']:>8} {d['failed']:>6} {d['timeouts']:>8} {d['non2xx']:>6} {d['errors']:>6} "
          f"{d['latency_ms']['p50']:>7} {d['latency_ms']['p99']:>7} {d['latency_ms']['max']:>7}  {act}"
          + (f"  ({len(bad)} not done: {bad[0].get('status')})" if bad else ""))
    for a in d["actions"]:
        if a["failed"]:
            print(f"      action {a['n']} ({a['service']}): {a['failed']} of {a['requests']} failed over {a['failing_ms']:.0f} ms")
    for line in d["first_failures"][:3]:
        print(f"      {line}")
EOF
log "raw results: $OUT"
