#!/usr/bin/env python3
"""bench/services.py — measurements of supervised services for bench/services.sh (standard library only).

Two subcommands, both against one running `switchman run` node whose services are each one server of a backend
(--services app-a:a,app-b:b = service app-a is server a, ...):

crash   --trials N times: wait until every service runs and its server answers through the frontend, forget the
        service's past failures (POST .../cleanup, so that every crash is a first one: no back-off), SIGKILL the
        instance's PID as the API reports it, then measure from the kill:
          spawn_ms    the API reports another PID (in any state)
          running_ms  the API reports another PID in state `running` (its monitor passed)
          serving_ms  the first answer through the frontend from that server (the demo backend names itself in
                      X-Server), to a request sent after the kill: the load balancer routes to it again
        meanwhile the frontend is probed every --poll s on one keep-alive connection (probe_failed: answers that
        were not 2xx within 1 s) and the server's health is read from the API (health_seen: every value seen).
        One JSON object per trial on stdout.

load    an open-loop GET load through the frontend (--rate req/s, each request given --deadline s: connect, send and
        whole answer; keep-alive connections of --workers threads), and after --lead s, --count actions one after
        another, cycling over the services:
          rolling  POST /api/v1/services/NAME/restart?rolling=true (answers once the server is back in every load
                   balancer)
          kill9    POST .../cleanup, then SIGKILL of the instance's PID, and wait until the API reports another PID
                   running and (--kill-wait serving, the default) the frontend routes a request to it again
          none     nothing (a baseline)
        with --gap s between actions; the load stops --tail s after the last action (bounded by --max-duration).
        Prints one JSON object: totals, per action (duration, answer, requests sent from its start to the next
        action's start and how many of them failed, over how long), latency percentiles and the first failures.
"""

import argparse
import http.client
import json
import os
import queue
import signal
import socket
import sys
import threading
import time


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


class Http:
    """One keep-alive connection (one per thread: http.client is not thread-safe); reconnects after an error."""

    def __init__(self, port, timeout, token=None):
        self.port, self.timeout, self.token, self.conn = port, timeout, token, None

    def request(self, method, path, timeout=None):
        """(status, headers dict lower-case, body bytes); raises OSError / HTTPException after closing."""
        if self.conn is None or (timeout is not None and timeout != self.conn.timeout):
            if self.conn is not None:
                self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout or self.timeout)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            self.conn.request(method, path, headers=headers)
            response = self.conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        result = response.status, {k.lower(): v for k, v in response.getheaders()}, body
        if result[1].get("connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return result

    def json(self, method, path, timeout=None):
        status, _, body = self.request(method, path, timeout)
        try:
            return status, json.loads(body) if body else None
        except ValueError:
            return status, {"raw": body.decode(errors="replace")}


def instance(api, service):
    """The service's one instance on this node (a dict), or None."""
    status, doc = api.json("GET", f"/api/v1/services/{service}")
    if status != 200 or not doc or not doc.get("instances"):
        return None
    return doc["instances"][0]


def server_view(api, backend, server):
    status, doc = api.json("GET", f"/api/v1/backends/{backend}/servers/{server}")
    return doc if status == 200 else None


def wait_ready(api, front, backend, service, server, limit):
    """Until the instance runs, its server is up and available, and it answers through the frontend; its PID."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            inst = instance(api, service)
            view = server_view(api, backend, server)
            if inst and inst.get("state") == "running" and inst.get("pid") and view and view.get("health") == "up" \
                    and view.get("available"):
                for _ in range(8):
                    status, headers, _ = front.request("GET", "/api/items?ready=1")
                    if status == 200 and headers.get("x-server") == server:
                        return inst["pid"]
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    raise SystemExit(f"{service} (server {server}) not running and serving within {limit}s")


def parse_services(text):
    pairs = []
    for item in text.split(","):
        service, _, server = item.partition(":")
        pairs.append((service, server or service))
    return pairs


# ---------------------------------------------------------------------------------------------------------------------


def crash(args):
    pairs = parse_services(args.services)
    api = Http(args.admin_port, 5, args.token)
    front = Http(args.frontend_port, 1)
    for trial in range(1, args.trials + 1):
        service, server = pairs[(trial - 1) % len(pairs)]
        for other_service, other_server in pairs:  # every server in rotation, not only the one about to be killed
            wait_ready(api, front, args.backend, other_service, other_server, args.limit)
        status, _ = api.json("POST", f"/api/v1/services/{service}/cleanup", timeout=30)
        if status != 200:
            raise SystemExit(f"cleanup of {service} answered {status}")
        old_pid = wait_ready(api, front, args.backend, service, server, args.limit)
        time.sleep(args.settle)

        found = {"spawn": None, "running": None, "serving": None, "new_pid": None}
        states, health_seen = [], []
        probe = {"sent": 0, "failed": 0, "failures": []}
        stop = threading.Event()

        def watch_api():
            watcher = Http(args.admin_port, 5, args.token)
            while not stop.is_set():
                try:
                    inst = instance(watcher, service)
                    now = time.monotonic() - t0
                    if inst is not None:
                        state = (inst.get("state"), inst.get("pid"))
                        if not states or states[-1][1:] != state:
                            states.append((round(now * 1000, 1),) + state)
                        pid = inst.get("pid")
                        if pid and pid != old_pid:
                            if found["spawn"] is None:
                                found["spawn"], found["new_pid"] = now, pid
                            if inst.get("state") == "running" and found["running"] is None:
                                found["running"] = now
                    view = server_view(watcher, args.backend, server)
                    if view is not None:
                        health = f"{view.get('health')}/{'available' if view.get('available') else 'unavailable'}"
                        if not health_seen or health_seen[-1][1] != health:
                            health_seen.append((round((time.monotonic() - t0) * 1000, 1), health))
                except (OSError, http.client.HTTPException):
                    pass
                if found["running"] is not None and found["serving"] is not None:
                    return
                time.sleep(args.poll)

        def probe_frontend():
            prober = Http(args.frontend_port, 1)
            n = 0
            while not stop.is_set():
                n += 1
                sent = time.monotonic()
                probe["sent"] += 1
                try:
                    status, headers, _ = prober.request("GET", f"/api/items?probe={trial}.{n}")
                    ok = 200 <= status < 300 and time.monotonic() - sent <= 1
                    if not ok:
                        probe["failed"] += 1
                        probe["failures"].append(f"{(sent - t0) * 1000:.0f} ms: HTTP {status}")
                    elif headers.get("x-server") == server and found["serving"] is None:
                        found["serving"] = time.monotonic() - t0
                except (OSError, http.client.HTTPException) as e:
                    probe["failed"] += 1
                    probe["failures"].append(f"{(sent - t0) * 1000:.0f} ms: {type(e).__name__}")
                if found["running"] is not None and found["serving"] is not None:
                    return
                time.sleep(args.poll)

        t0 = time.monotonic()
        os.kill(old_pid, signal.SIGKILL)
        threads = [threading.Thread(target=watch_api, daemon=True), threading.Thread(target=probe_frontend, daemon=True)]
        for t in threads:
            t.start()
        deadline = t0 + args.limit
        while time.monotonic() < deadline and (found["running"] is None or found["serving"] is None):
            time.sleep(0.01)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        ms = lambda v: None if v is None else round(v * 1000, 1)  # noqa: E731
        print(json.dumps({
            "trial": trial, "service": service, "server": server, "old_pid": old_pid, "new_pid": found["new_pid"],
            "spawn_ms": ms(found["spawn"]), "running_ms": ms(found["running"]), "serving_ms": ms(found["serving"]),
            "states": states, "health_seen": health_seen, "probes": probe["sent"], "probe_failed": probe["failed"],
            "probe_failures": probe["failures"][:5],
        }), flush=True)
        time.sleep(args.pause)


# ---------------------------------------------------------------------------------------------------------------------


def load(args):
    pairs = parse_services(args.services)
    work = queue.Queue()
    results = []
    results_lock = threading.Lock()
    stop = threading.Event()
    start = time.monotonic()

    def worker():
        client = Http(args.frontend_port, args.deadline)
        while True:
            item = work.get()
            if item is None:
                return
            index, due = item
            sent = time.monotonic()
            status, server, error = None, None, None
            try:
                status, headers, _ = client.request("GET", f"{args.path}?i={index}")
                server = headers.get("x-server")
            except (socket.timeout, TimeoutError):
                error = "timeout"
            except (OSError, http.client.HTTPException) as e:
                error = type(e).__name__
            done = time.monotonic()
            with results_lock:
                results.append((index, due - start, sent - due, done - sent, status, server, error))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()

    actions = []

    def act():
        api = Http(args.admin_port, 5, args.token)
        time.sleep(args.lead)
        for k in range(args.count if args.action != "none" else 0):
            service, server = pairs[k % len(pairs)]
            began = time.monotonic() - start
            record = {"n": k + 1, "service": service, "server": server, "start_s": round(began, 3)}
            try:
                if args.action == "rolling":
                    status, doc = api.json("POST", f"/api/v1/services/{service}/restart?rolling=true", timeout=120)
                    record["status"] = status
                    record["steps"] = (doc or {}).get("steps") or (doc or {}).get("error") or doc
                else:  # kill9
                    status, _ = api.json("POST", f"/api/v1/services/{service}/cleanup", timeout=30)
                    inst = instance(api, service)
                    if status != 200 or not inst or not inst.get("pid"):
                        record["status"] = f"no pid to kill (cleanup {status}, instance {inst})"
                    else:
                        old = inst["pid"]
                        began = time.monotonic() - start
                        record["start_s"] = round(began, 3)
                        os.kill(old, signal.SIGKILL)
                        record["status"] = "not running again within 30 s"
                        limit = time.monotonic() + 30
                        while time.monotonic() < limit:
                            inst = instance(api, service)
                            if inst and inst.get("pid") not in (None, old) and inst.get("state") == "running":
                                record["status"] = f"pid {old} -> {inst['pid']} running"
                                record["running_ms"] = round((time.monotonic() - start - began) * 1000, 1)
                                break
                            time.sleep(0.02)
                        if args.kill_wait == "serving" and "running" in record["status"]:
                            # Until the frontend routes to it again (a probe of our own, not counted in the load).
                            record["status"] += ", not routed to within 30 s"
                            probe = Http(args.frontend_port, 1)
                            while time.monotonic() < limit:
                                try:
                                    _, headers, _ = probe.request("GET", f"{args.path}?kill-probe={k + 1}")
                                    if headers.get("x-server") == server:
                                        record["status"] = record["status"].replace(", not routed to within 30 s", ", routed to again")
                                        break
                                except (OSError, http.client.HTTPException):
                                    pass
                                time.sleep(0.01)
            except (OSError, http.client.HTTPException) as e:
                record["status"] = type(e).__name__
            record["end_s"] = round(time.monotonic() - start, 3)
            record["duration_ms"] = round((record["end_s"] - record["start_s"]) * 1000, 1)
            actions.append(record)
            time.sleep(args.gap)
        time.sleep(args.tail)
        stop.set()

    actor = threading.Thread(target=act, daemon=True)
    actor.start()
    limit = start + args.max_duration
    i = 0
    while not stop.is_set() and time.monotonic() < limit:
        due = start + i / args.rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        work.put((i, due))
        i += 1
    bounded_out = not stop.is_set()
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join(timeout=args.deadline + 10)

    summary = {
        "action": args.action, "rate": args.rate, "deadline_s": args.deadline, "requests": i, "ok": 0, "failed": 0,
        "timeouts": 0, "errors": 0, "non2xx": 0, "statuses": {}, "servers": {}, "duration_s": round(time.monotonic() - start, 2),
        "stopped_by_max_duration": bounded_out, "first_failures": [],
    }
    latencies, send_delays, failures = [], [], []
    completed = {r[0] for r in results}
    for index in range(i):
        if index not in completed:
            summary["failed"] += 1
            summary["errors"] += 1
            summary["first_failures"].append(f"#{index}: never completed")
    for index, due_s, send_delay, latency, status, server, error in sorted(results):
        latencies.append(latency * 1000)
        send_delays.append(send_delay * 1000)
        if status is not None:
            summary["statuses"][str(status)] = summary["statuses"].get(str(status), 0) + 1
        if server:
            summary["servers"][server] = summary["servers"].get(server, 0) + 1
        if status is not None and 200 <= status < 300 and latency <= args.deadline:
            summary["ok"] += 1
            continue
        summary["failed"] += 1
        at = due_s + send_delay
        failures.append(at)
        if error == "timeout" or (status is not None and latency > args.deadline):
            summary["timeouts"] += 1
        elif status is not None:
            summary["non2xx"] += 1
        else:
            summary["errors"] += 1
        if len(summary["first_failures"]) < 10:
            what = error or f"HTTP {status}"
            summary["first_failures"].append(f"#{index} sent at {at:.3f}s: {what} after {latency * 1000:.0f} ms (server {server})")
    # A failure counts for the last action that began before it was sent (windows never overlap).
    for k, record in enumerate(actions):
        until = actions[k + 1]["start_s"] if k + 1 < len(actions) else float("inf")
        record["failed"] = sum(1 for at in failures if record["start_s"] <= at < until)
        record["requests"] = sum(1 for r in results if record["start_s"] <= r[1] + r[2] < until)
        spans = [at for at in failures if record["start_s"] <= at < until]
        record["failing_ms"] = round((max(spans) - min(spans)) * 1000, 1) if spans else 0
    summary["actions"] = actions
    summary["latency_ms"] = {
        "p50": round(percentile(latencies, 50), 2), "p99": round(percentile(latencies, 99), 2),
        "p999": round(percentile(latencies, 99.9), 2), "max": round(max(latencies, default=0), 2),
    }
    summary["max_send_delay_ms"] = round(max(send_delays, default=0), 2)
    json.dump(summary, sys.stdout)
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["crash", "load"])
    parser.add_argument("--admin-port", type=int, required=True)
    parser.add_argument("--frontend-port", type=int, required=True)
    parser.add_argument("--token", default=os.environ.get("SWITCHMAN_TOKEN", "quickstart-demo-token"))
    parser.add_argument("--backend", default="api")
    parser.add_argument("--services", default="app-a:a,app-b:b", help="service:server,... (app-a:a,app-b:b)")
    parser.add_argument("--path", default="/api/items")
    # crash
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--poll", type=float, default=0.01, help="seconds between probes and API reads (0.01)")
    parser.add_argument("--limit", type=float, default=30, help="seconds a trial may take (30)")
    parser.add_argument("--settle", type=float, default=0.3, help="seconds between ready and the kill (0.3)")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between trials (0.5)")
    # load
    parser.add_argument("--action", choices=["rolling", "kill9", "none"], default="none")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--deadline", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=40)
    parser.add_argument("--lead", type=float, default=2)
    parser.add_argument("--gap", type=float, default=0.5)
    parser.add_argument("--kill-wait", choices=["serving", "running"], default="serving",
                        help="kill9: before the gap and the next kill, wait until the frontend routes to the restarted "
                             "server again (serving), or only until the API reports it running (running)")
    parser.add_argument("--tail", type=float, default=2)
    parser.add_argument("--max-duration", type=float, default=90)
    args = parser.parse_args()
    crash(args) if args.mode == "crash" else load(args)


if __name__ == "__main__":
    main()
