#!/usr/bin/env python3
"""bench/soak.py — a soak of a 3-node Switchman cluster: bounded GET load through every node's frontend while
reloads, drains, weight changes and leader kills happen every few seconds (issue 14).

Runs inside the operator's namespace of the lab that bench/soak.sh builds (--lab): nodes n1–n3 on 192.0.2.11–13
(bench/cluster.py's Cluster: `switchman run`, default cluster settings, one shared secret, frontend 0.0.0.0:8080,
admin :9090), three `switchman demo-backend` on b1–b3 (192.0.2.21–23:8000) behind every node's backend `api`, with
HTTP health checks (`health: { path: /healthz, interval: 2s }`, the rest at defaults). Every process runs with the
startup hook bench/SoakHook (DOTNET_STARTUP_HOOKS), which writes unobserved task exceptions (which .NET otherwise
drops silently) and unhandled exceptions to the process's standard error, and runs a full garbage collection when
asked (before a node is killed and at the end), so that a faulted task nobody awaited is reported before its process
goes away.

Load: --clients threads, together --rate GET/s (paced; a late client does not burst to catch up), each GET sent to the
next node of the rotation (round robin over the nodes "in rotation"), on a keep-alive connection of that client to
that node, with --timeout seconds per socket operation and in all. One GET in 1/--slow-share asks the backend to
wait --slow-ms first (?delay_ms=), so that drains, reloads and kills find requests in flight. Bounded by --duration
and --max-requests. Every request is recorded: start time, client, node (and which start of it), HTTP status or
error, latency, the backend that answered (X-Server).

Churn: every --churn-every seconds (times 0.5–1.5, at random), one action drawn with the weights of --mix from a
random.Random(--seed) (the seed is printed; the draws are reproducible, which of them could be carried out depends on
timing — a kill is skipped while a node is still down, a drain while no server can be spared):
  reload_api      POST /api/v1/reload on a node in rotation; half the time (--edit-share) its file was first edited to
                  another health interval (1s, 2s, 3s), which the reload proposes to the whole cluster
  reload_sighup   the same with SIGHUP to the node's PID; its outcome is read from the node's events
                  (config_applied or config_refused by SIGHUP)
  reload_invalid  the node's file is made invalid (interval: "2 seconds"), POST /api/v1/reload must answer 422, the
                  file is put back
  drain           POST .../servers/S/state drain (two times in three) or maint on a node, ready again 2–8 s later
                  (only a server whose leaving keeps at least one server ready with weight > 0)
  weight          PUT .../servers/S/weight 0..5 on a node (the same rule)
  leader_kill     with all three nodes in rotation and agreeing on a leader: the leader is taken out of the
                  rotation, its in-flight requests (this script's) are let finish, its full GC requested, then it is
                  killed with SIGKILL and started again on its data directory --down seconds later; it is back in
                  the rotation once its admin API answers and /readyz says 200. When the leader is the --long-lived
                  node (n1 by default), it is frozen instead (SIGSTOP, the same draining first) until a survivor names
                  another leader, then --freeze-hold s more, then SIGCONT: it loses its leadership but keeps its
                  process, so that one node lives the whole run and its memory and descriptors say something about
                  leaks across many leader changes. --long-lived none kills whichever node leads.
A change that gets 503 (an election under way) or no answer is tried again every 0.5 s for up to 30 s.

What "0 failed idempotent requests" covers: every GET this script sent, except those in flight to a node at the moment
it was killed or frozen. With the default draining there are none of those (the node is out of the rotation and idle
before the signal); with --abrupt the node stays in the rotation until the signal, and the requests it cuts are
counted on their own ("cut by a fault"), outside the criterion. A request fails when it gets no complete 200 within
--timeout: a timeout, a connection error, or any other status.

Resources: every --sample-every s, each node's VmRSS and Threads (/proc/PID/status), open descriptors (/proc/PID/fd)
and CPU time; every 30 s its memory map by kind (/proc/PID/smaps: JIT code, anonymous, files) and, from the hook, the
JIT's compiled methods, the GC heap and committed memory, gen2 collections, thread-pool threads (where RSS grows, these
say what grows). Each start of a node is a series of its own. After --warmup s of a series (default: 5 min, or the first
20% of --duration if shorter), a series that has at least 60 s and 6 samples left must keep RSS within ±--rss-band %
of its first sample after the warm-up, and its descriptors within ±max(--fd-slack, 10%) of theirs. Halfway through
the warm-up and at the end, every node's hook runs a full GC and reports the managed heap left (what the program
holds): on the node that lived the whole run, its growth tells a leak from a lazy GC, which RSS alone cannot.

Logs: every node's and backend's output is scanned for unobserved task exceptions (soak-hook[unobserved],
UnobservedTaskException), unhandled exceptions, and stack traces at Error or Critical level; other Error lines,
anything unexpected on standard error and the warning counts by event id are listed.

At the end: the churn stops, drained servers are made ready, the cluster must converge (one leader, one applied index,
lag 0) with every node reporting the same state and weight of every server, as the script set them; a full GC is
asked of every node, the nodes are stopped with SIGTERM (exit 0 expected) and the logs scanned.

Output: a summary on stdout, and in --out (default bench/results/soak-<UTC>/) result.json, summary.md, requests.csv,
churn.csv, faults.csv, samples.csv and logs/ (every process's output and the nodes' configurations). Exit status 1
when an acceptance criterion fails (failed requests, RSS or descriptors not flat, unobserved or unhandled exceptions or
stack traces at Error level, no convergence, a node that did not come back), 2 on a usage error. Every process it
started is ended by its PID, and the temp dir removed, on exit, Ctrl-C and errors. Python 3 standard library only.
"""

import argparse
import atexit
import csv
import datetime as dt
import http.client
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import cluster as lab  # bench/cluster.py: the nodes on the lab's hosts, their admin API, every process ended by its PID

lab.LOG_TAG = "soak"
log = lab.log
fmt = lab.fmt

BACKEND = "api"
BACKEND_HOSTS = {"b1": "192.0.2.21", "b2": "192.0.2.22", "b3": "192.0.2.23"}  # as bench/soak.sh builds them
BACKEND_PORT = 8000
REQUEST_PATH = "/api/items"
HEALTH_INTERVALS = ("1s", "2s", "3s")
INVALID_INTERVAL = "2 seconds"  # what reload_invalid writes: refused ("expected a duration")
KINDS = ("reload_api", "reload_sighup", "reload_invalid", "drain", "weight", "leader_kill")
DEFAULT_MIX = "reload_api=2,reload_sighup=2,reload_invalid=0.5,drain=2,weight=3,leader_kill=1.5"
CHANGE_RETRY_LIMIT = 30.0
STATS_EVERY_S = 30  # how often each process's hook writes its JIT/GC figures, and each node's memory map is read


# ---------------------------------------------------------------------------------------------------------------------
# The cluster and its backends


class SoakCluster(lab.Cluster):
    """bench/cluster.py's three nodes on the lab's hosts, with the demo backends b1–b3 behind every node's frontend."""

    def __init__(self, args, root):
        self.intervals = dict.fromkeys(lab.NODE_IDS, args.health_interval)  # what each node's file says now
        super().__init__(args, root)  # writes every node's file with config_yaml below
        self.hook_dir = os.path.join(root, "hook")
        os.makedirs(self.hook_dir)
        self.env["DOTNET_STARTUP_HOOKS"] = args.hook
        self.env["SOAK_HOOK_DIR"] = self.hook_dir
        self.env["SOAK_HOOK_STATS_EVERY"] = str(STATS_EVERY_S)

    def config_yaml(self, node):
        # The admin and cluster sections as bench/cluster.py writes them (default timings, the shared secret); then ours.
        local = super().config_yaml(node).split("frontends:\n")[0]
        lines = [
            "frontends:",
            "  web:",
            f"    listen: 0.0.0.0:{self.frontend_port}",
            "    routes:",
            f"      - backend: {BACKEND}",
            "backends:",
            f"  {BACKEND}:",
            "    servers:",
        ]
        lines += [f"      - {{ name: {b}, address: {host}:{BACKEND_PORT} }}" for b, host in BACKEND_HOSTS.items()]
        lines += ["    health:", "      path: /healthz", f"      interval: {self.intervals[node.id]}", ""]
        return local + "\n".join(lines)

    def write_config(self, node, interval):
        """Rewrites node's file with another health interval, atomically: a reload never reads half a file."""
        self.intervals[node.id] = interval
        tmp = node.config + ".tmp"
        with open(tmp, "w") as f:
            f.write(self.config_yaml(node))
        os.replace(tmp, node.config)

    def start_backends(self):
        self.backends = {}
        for name, host in BACKEND_HOSTS.items():
            path = os.path.join(self.root, f"{name}.log")
            with open(path, "a") as out:
                proc = subprocess.Popen(
                    ["ip", "netns", "exec", f"{self.args.lab}-{name}", "dotnet", self.args.dll, "demo-backend",
                     "--listen", f"{host}:{BACKEND_PORT}", "--name", name],
                    cwd=self.root, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
            lab._children[name] = proc
            self.backends[name] = (proc, path)
        deadline = time.monotonic() + 120
        for name, host in BACKEND_HOSTS.items():
            while http_status(host, BACKEND_PORT, "/healthz") != 200:
                proc = self.backends[name][0]
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"backend {name} did not answer on {host}:{BACKEND_PORT}:\n{lab.tail(self.backends[name][1])}")
                time.sleep(0.2)

    def gc(self, procs, limit=20.0):
        """Asks each process's hook (see bench/SoakHook) for a full GC. procs: (name, pid, the file its standard error
        goes to). Returns {name: what its hook reported — managed heap before and after, committed, and RSS after — or
        None when it did not do it within limit}."""
        files = {pid: os.path.join(self.hook_dir, f"gc-{pid}") for _, pid, _ in procs}
        for path in files.values():
            open(path, "w").close()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and any(os.path.exists(p) for p in files.values()):
            time.sleep(0.1)
        out = {}
        for name, pid, path in procs:
            if os.path.exists(files[pid]):
                os.remove(files[pid])
                out[name] = None
                continue
            m = None
            for m in GC_LINE.finditer(lab.read_from(path, max(0, os.path.getsize(path) - 65536))):
                pass
            status = read_status(pid) or {}
            out[name] = {"heap_before_mib": float(m.group(1)), "heap_after_mib": float(m.group(2)), "committed_mib": float(m.group(3)),
                         "rss_mib": round(status["VmRSS"] / 1024, 1) if "VmRSS" in status else None} if m else {}
        return out

    def gc_targets(self, nodes=None):
        """(name, pid, stderr file) of every running node (or of nodes) and backend, for gc()."""
        procs = [(n.id, n.proc.pid, n.stderr) for n in (self.nodes if nodes is None else nodes) if n.running]
        if nodes is None:
            procs += [(name, proc.pid, path) for name, (proc, path) in self.backends.items() if proc.poll() is None]
        return procs


GC_LINE = re.compile(r"soak-hook\[gc\] full collection done: managed heap ([\d.]+) -> ([\d.]+) MiB, committed ([\d.]+) MiB")


def admin_get(cluster, node, path, timeout=2.0):
    """The JSON of a GET on node's admin API, or None (any status but 200, or no answer)."""
    admin = cluster.admin(node, timeout)
    try:
        return admin.get(path)
    finally:
        admin.close()


def node_view(cluster, node, timeout=2.0):
    """(ready, the node's cluster view): /readyz says 200, and what GET /api/v1/status says under cluster."""
    ready = http_status(node.host, node.admin_port, "/readyz", timeout) == 200
    return ready, ((admin_get(cluster, node, "/api/v1/status", timeout) or {}).get("cluster") or {})


def http_status(host, port, path, timeout=2.0):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------------------------------
# Load


class Rotation:
    """The nodes the clients send to, as an operator's DNS name or VIP pool would list them: round robin over the nodes
    in rotation; counts this script's requests in flight to each node, so that a node taken out can be let go idle."""

    def __init__(self, node_ids):
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.members = list(node_ids)
        self.in_flight = dict.fromkeys(node_ids, 0)
        self.epoch = dict.fromkeys(node_ids, 0)  # bumped when a node leaves: clients open new connections to it
        self.turn = 0

    def pick(self):
        """(node id, epoch) of the next node, counted in flight until done(); None when no node is in rotation."""
        with self.lock:
            if not self.members:
                return None
            node = self.members[self.turn % len(self.members)]
            self.turn += 1
            self.in_flight[node] += 1
            return node, self.epoch[node]

    def done(self, node):
        with self.lock:
            self.in_flight[node] -= 1
            if self.in_flight[node] == 0:
                self.idle.notify_all()

    def remove(self, node):
        with self.lock:
            self.members.remove(node)
            self.epoch[node] += 1

    def wait_idle(self, node, limit):
        """Until no request of ours is in flight to node (bounded); returns how many still are."""
        deadline = time.monotonic() + limit
        with self.lock:
            while self.in_flight[node] > 0 and (left := deadline - time.monotonic()) > 0:
                self.idle.wait(left)
            return self.in_flight[node]

    def add(self, node):
        with self.lock:
            self.epoch[node] += 1
            self.members = sorted(self.members + [node])

    def snapshot(self):
        with self.lock:
            return list(self.members)


class Load:
    """--clients threads sending GETs through the nodes in rotation; every request recorded."""

    def __init__(self, args, cluster, rotation, t0):
        self.args = args
        self.cluster = cluster
        self.rotation = rotation
        self.t0 = t0
        self.end = t0 + args.duration
        self.stop = threading.Event()
        self.sent = 0
        self.count_lock = threading.Lock()
        self.records = [[] for _ in range(args.clients)]  # (t, latency, client, node, start#, status, error, server, slow)
        self.failures = []  # details of every request that did not get a 200
        self.threads = [threading.Thread(target=self.client, args=(i,), daemon=True, name=f"client-{i}") for i in range(args.clients)]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self, limit):
        for t in self.threads:
            t.join(max(0.1, limit))

    def take(self):
        with self.count_lock:
            if self.sent >= self.args.max_requests:
                return None
            self.sent += 1
            return self.sent

    def client(self, i):
        a = self.args
        interval = a.clients / a.rate
        due = self.t0 + i * interval / a.clients
        conns = {}  # node id -> (epoch, HTTPConnection, requests it carried)
        records = self.records[i]
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                if now >= self.end:
                    break
                if due > now:
                    self.stop.wait(due - now)
                    continue
                due = max(due + interval, now)  # late: no burst to catch up
                seq = self.take()
                if seq is None:
                    break
                picked = self.rotation.pick()
                if picked is None:
                    continue
                node_id, epoch = picked
                node = self.cluster.by_id[node_id]
                start_no = node.starts
                entry = conns.get(node_id)
                if entry is None or entry[0] != epoch:
                    if entry is not None:
                        entry[1].close()
                    entry = (epoch, http.client.HTTPConnection(node.host, self.cluster.frontend_port, timeout=a.timeout), 0)
                epoch, conn, used = entry
                status = server = error = request_id = None
                slow = a.slow_share > 0 and seq % round(1 / a.slow_share) == 0
                t1 = time.monotonic()
                try:
                    conn.request("GET", f"{REQUEST_PATH}?c={i}&i={seq}" + (f"&delay_ms={a.slow_ms}" if slow else ""))
                    response = conn.getresponse()
                    response.read()
                    status, server, request_id = response.status, response.getheader("X-Server"), response.getheader("X-Request-Id")
                    if response.getheader("Connection", "").lower() == "close":
                        conn.close()
                except (OSError, http.client.HTTPException) as e:
                    error = f"{type(e).__name__}: {e}"
                    conn.close()
                t2 = time.monotonic()
                self.rotation.done(node_id)
                conns[node_id] = (epoch, conn, used + 1)
                latency = t2 - t1
                records.append((t1 - self.t0, latency, i, node_id, start_no, status, error.split(":")[0] if error else None, server, slow))
                if status != 200 or latency > a.timeout:
                    self.failures.append({"t_raw": t1 - self.t0, "latency_raw": latency, "t": round(t1 - self.t0, 3), "utc": lab.utc_iso(time.time() - (time.monotonic() - t1)),
                                          "client": i, "node": node_id, "start": start_no, "status": status, "error": error,
                                          "latency_ms": round(latency * 1000, 1), "server": server, "request_id": request_id,
                                          "connection_reused": used > 0})
        finally:
            for entry in conns.values():
                entry[1].close()


# ---------------------------------------------------------------------------------------------------------------------
# Resources


class Sampler(threading.Thread):
    """Every interval: each running node's (and backend's) RSS, threads, open descriptors and CPU time; the machine's load."""

    def __init__(self, cluster, interval, t0):
        super().__init__(daemon=True, name="sampler")
        self.cluster = cluster
        self.interval = interval
        self.t0 = t0
        self.rows = []
        self.stop = threading.Event()

    def run(self):
        last = (time.monotonic(), lab.busy_ticks())
        self.count = 0
        while not self.stop.is_set():
            self.sample(last)
            self.count += 1
            last = (time.monotonic(), lab.busy_ticks())
            self.stop.wait(self.interval)

    def sample(self, last):
        now = time.monotonic()
        busy = 100 * (lab.busy_ticks() - last[1]) / lab.CLK_TCK / max(1e-6, now - last[0])
        load1 = round(os.getloadavg()[0], 2)
        procs = [(n.id, n.starts, n.proc.pid) for n in self.cluster.nodes if n.running]
        procs += [(name, 1, proc.pid) for name, (proc, _) in self.cluster.backends.items() if proc.poll() is None]
        for name, start_no, pid in procs:
            status = read_status(pid)
            try:
                fds = len(os.listdir(f"/proc/{pid}/fd"))
            except OSError:
                continue  # it just ended
            if status is None:
                continue
            row = {"t": round(now - self.t0, 2), "proc": name, "start": start_no, "pid": pid,
                   "rss_kb": status.get("VmRSS"), "threads": status.get("Threads"), "fds": fds,
                   "cpu_s": round(lab.proc_ticks(pid) / lab.CLK_TCK, 2), "loadavg1": load1,
                   "machine_busy_pct": round(busy, 1), "jit_kb": None, "anon_kb": None, "file_kb": None}
            if name in self.cluster.by_id and self.count % max(1, round(STATS_EVERY_S / self.interval)) == 0:
                row.update(memory_map(pid))
            self.rows.append(row)


def memory_map(pid):
    """A node's resident memory by kind, from /proc/PID/smaps: the JIT's code (W^X double mapping, /memfd:doublemapper),
    anonymous memory (GC heap, native allocations, stacks) and files (assemblies, libraries), in kB."""
    out = {"jit_kb": 0, "anon_kb": 0, "file_kb": 0}
    kind = None
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                if line[0] in "0123456789abcdef" and "-" in line.split(" ", 1)[0]:
                    parts = line.split()
                    name = parts[5] if len(parts) > 5 else ""
                    kind = "jit_kb" if "doublemapper" in name else "file_kb" if name.startswith("/") else "anon_kb"
                elif line.startswith("Rss:") and kind:
                    out[kind] += int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return {}
    return out


def read_status(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return None
    out = {}
    for key in ("VmRSS", "Threads"):
        if key in fields:
            out[key] = int(fields[key].split()[0])
    return out


def series_report(rows, warmup, rss_band, fd_slack):
    """Per series (a process's one start): min/max/first/last of RSS and descriptors, before and after the warm-up,
    and whether the part after the warm-up stayed in its band."""
    by_series = {}
    for r in rows:
        by_series.setdefault((r["proc"], r["start"]), []).append(r)
    out = []
    for (proc, start_no), rs in sorted(by_series.items()):
        t_first = rs[0]["t"]
        post = [r for r in rs if r["t"] - t_first >= warmup]
        s = {"proc": proc, "start": start_no, "pid": rs[0]["pid"], "t_first": t_first, "samples": len(rs), "span_s": round(rs[-1]["t"] - t_first, 1),
             "post_warmup_samples": len(post), "post_warmup_span_s": round(post[-1]["t"] - post[0]["t"], 1) if post else 0,
             "rss_mib_all": mib_range([r["rss_kb"] for r in rs]), "fds_all": int_range([r["fds"] for r in rs]),
             "threads_all": int_range([r["threads"] for r in rs])}
        s["eligible"] = len(post) >= 6 and s["post_warmup_span_s"] >= 60
        if post:
            rss = [r["rss_kb"] for r in post]
            fds = [r["fds"] for r in post]
            s["rss_mib"] = mib_range(rss)
            s["rss_band_pct"] = round(100 * max(abs(x - rss[0]) for x in rss) / rss[0], 1)
            s["rss_slope_mib_per_h"] = round(slope([r["t"] for r in post], rss) * 3600 / 1024, 1)
            s["fds"] = int_range(fds)
            tolerance = max(fd_slack, 0.1 * fds[0])
            s["fd_tolerance"] = round(tolerance, 1)
            s["fd_band"] = max(abs(x - fds[0]) for x in fds)
            s["fds_slope_per_h"] = round(slope([r["t"] for r in post], fds) * 3600, 1)
            s["threads"] = int_range([r["threads"] for r in post])
            s["rss_flat"] = s["rss_band_pct"] <= rss_band
            s["fds_flat"] = s["fd_band"] <= tolerance
            mapped = [r for r in post if r.get("jit_kb") is not None]
            if mapped:
                s["memory_map_mib"] = {k[:-3]: [round(mapped[0][k] / 1024, 1), round(mapped[-1][k] / 1024, 1)]
                                       for k in ("jit_kb", "anon_kb", "file_kb")}
            cpu = [r["cpu_s"] for r in post]
            s["cpu_pct"] = round(100 * (cpu[-1] - cpu[0]) / max(1e-6, post[-1]["t"] - post[0]["t"]), 1)
        out.append(s)
    return out


def mib_range(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"first": round(values[0] / 1024, 1), "last": round(values[-1] / 1024, 1), "min": round(min(values) / 1024, 1),
            "max": round(max(values) / 1024, 1)}


def int_range(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"first": values[0], "last": values[-1], "min": min(values), "max": max(values)}


def slope(xs, ys):
    """Least-squares slope of ys over xs (per unit of x); 0 for fewer than two points."""
    if len(xs) < 2:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


# ---------------------------------------------------------------------------------------------------------------------
# Churn


class Churn:
    """The seeded churn: one action every few seconds, on the main thread; kills and freezes run on a thread each."""

    def __init__(self, args, cluster, rotation, t0):
        self.args = args
        self.cluster = cluster
        self.rotation = rotation
        self.t0 = t0
        self.rng = random.Random(args.seed)
        self.kinds = [k for k in KINDS if args.mix.get(k, 0) > 0]
        self.weights = [args.mix[k] for k in self.kinds]
        self.actions = []  # every action and its outcome
        self.faults = []  # every kill or freeze, with its timings
        self.scheduled = []  # (due, server): servers to make ready again
        self.cycle = None  # the kill or freeze under way (a thread)
        self.fatal = None  # why the run must stop (a node that did not come back)
        self.servers = {b: {"state": "ready", "weight": 1} for b in BACKEND_HOSTS}  # as this script set them
        self.event_ids = {}  # (node, start#) -> the last event id seen there
        self.retry_errors = []  # every answer to a change that was not 200 (a 503 in an election, a 422 expected…)
        self.warmup_gc = None  # what the nodes' hooks reported after a full GC halfway through the warm-up
        self.lock = threading.Lock()

    def now(self):
        return time.monotonic() - self.t0

    def record(self, kind, node, detail, outcome, ok, t_start, **extra):
        a = {"t": round(t_start, 3), "utc": lab.utc_iso(time.time() - (self.now() - t_start)), "kind": kind, "node": node, "detail": detail,
             "outcome": outcome, "ok": ok, "ms": round((self.now() - t_start) * 1000, 1)}
        a.update(extra)
        with self.lock:
            self.actions.append(a)
        return a

    # -- the loop

    def run(self, load):
        next_tick = time.monotonic() + self.args.churn_every * self.rng.uniform(0.5, 1.5)
        while not load.stop.is_set() and time.monotonic() < load.end and self.fatal is None:
            if not any(t.is_alive() for t in load.threads):
                break  # --max-requests reached
            if self.warmup_gc is None and self.now() >= self.args.warmup / 2:
                # Halfway through the warm-up, what every node in rotation holds after a full GC: compared with the
                # same at the end, it tells a leak from a lazy GC (RSS alone cannot). Its RSS has half a warm-up to
                # settle again before the first judged sample.
                self.warmup_gc = {"t": round(self.now(), 1),
                                  "nodes": self.cluster.gc(self.cluster.gc_targets(self.up_nodes())),
                                  "starts": {n.id: n.starts for n in self.up_nodes()}}
            self.run_due()
            if time.monotonic() >= next_tick:
                kind = self.rng.choices(self.kinds, self.weights)[0]
                getattr(self, f"do_{kind}")()
                next_tick = time.monotonic() + self.args.churn_every * self.rng.uniform(0.5, 1.5)
            time.sleep(0.05)

    def finish(self, limit=300.0):
        """After the load: the kill or freeze under way ends, then every server waiting to be made ready is made ready."""
        if self.cycle is not None:
            self.cycle.join(limit)
            if self.cycle.is_alive():
                self.fatal = self.fatal or f"the last kill/freeze cycle did not end within {limit:.0f}s"
        self.run_due(everything=True)

    def run_due(self, everything=False):
        now = self.now()
        due = [s for s in self.scheduled if everything or s[0] <= now]
        for item in due:
            self.scheduled.remove(item)
            self.set_state(item[1], "ready", kind="ready")

    # -- helpers

    def up_nodes(self):
        return [self.cluster.by_id[n] for n in self.rotation.snapshot()]

    def change(self, node, method, path, body=None, limit=CHANGE_RETRY_LIMIT):
        """A change through node's admin API, tried again on 503 or no answer for up to limit s.
        Returns (status, document, [status or error of each try])."""
        admin = self.cluster.admin(node, timeout=20.0)
        tries = []
        deadline = time.monotonic() + limit
        try:
            while True:
                try:
                    status, doc = admin.request(method, path, body)
                    tries.append(status)
                except (OSError, http.client.HTTPException) as e:
                    status, doc = None, f"{type(e).__name__}: {e}"
                    tries.append(type(e).__name__)
                if status != 200 and len(self.retry_errors) < 200:
                    self.retry_errors.append({"t": round(self.now(), 3), "node": node.id, "path": path, "status": status,
                                              "error": doc.get("error") if isinstance(doc, dict) else str(doc)[:300]})
                if status not in (None, 503) or time.monotonic() >= deadline:
                    return status, doc, tries
                time.sleep(0.5)
        finally:
            admin.close()

    def available_after(self, server, state=None, weight=None):
        """How many servers would be ready with weight > 0 if server got this state or weight (others as set, those
        still to be made ready counted out)."""
        n = 0
        for name, s in self.servers.items():
            st = state if name == server and state else s["state"]
            w = weight if name == server and weight is not None else s["weight"]
            if st == "ready" and w > 0 and s["state"] != "unknown":
                n += 1
        return n

    def resync(self, node):
        """After a change whose outcome is unknown: the servers as node reports them (falling back on any node up)."""
        for n in [node] + self.up_nodes():
            doc = admin_get(self.cluster, n, "/api/v1/status")
            if doc:
                for b in doc.get("backends", []):
                    for s in b.get("servers", []):
                        if s["name"] in self.servers:
                            self.servers[s["name"]] = {"state": s["state"], "weight": s["weight"]}
                return
        for s in self.servers.values():
            s["state"] = "unknown"

    def set_state(self, server, state, kind):
        t = self.now()
        nodes = self.up_nodes()
        if not nodes:
            self.record(kind, None, f"{server} → {state}", "no node in rotation", False, t)
            return False
        node = self.rng.choice(nodes)
        status, doc, tries = self.change(node, "POST", f"/api/v1/backends/{BACKEND}/servers/{server}/state", {"state": state})
        ok = status == 200
        if ok:
            self.servers[server]["state"] = state
        else:
            self.resync(node)
        self.record(kind, node.id, f"{server} → {state}", outcome(status, doc, tries), ok, t, tries=len(tries))
        return ok

    def last_event_id(self, node):
        """The last event id of node's current start (the whole history is read once per start)."""
        key = (node.id, node.starts)
        if key not in self.event_ids:
            events = self.events(node, 0) or []
            self.event_ids[key] = max((e["id"] for e in events), default=0)
        return self.event_ids[key]

    def events(self, node, since):
        admin = self.cluster.admin(node, timeout=10.0)
        try:
            status, doc = admin.request("GET", f"/api/v1/events?follow=false&since={since}")
            return doc if status == 200 and isinstance(doc, list) else None
        except (OSError, http.client.HTTPException):
            return None
        finally:
            admin.close()

    # -- the actions

    def do_reload_api(self):
        self.reload(self.rng.choice(self.up_nodes()), "reload_api")

    def do_reload_sighup(self):
        self.reload(self.rng.choice(self.up_nodes()), "reload_sighup")

    def reload(self, node, kind):
        t = self.now()
        detail = "file unchanged"
        if self.rng.random() < self.args.edit_share:
            interval = self.rng.choice([i for i in HEALTH_INTERVALS if i != self.cluster.intervals[node.id]])
            detail = f"file edited: health interval {self.cluster.intervals[node.id]} → {interval}"
            self.cluster.write_config(node, interval)
        if kind == "reload_api":
            status, doc, tries = self.change(node, "POST", "/api/v1/reload")
            extra = {"revision": doc.get("revision")} if isinstance(doc, dict) else {}
            self.record(kind, node.id, detail, outcome(status, doc, tries), status == 200, t, tries=len(tries), **extra)
            return
        since = self.last_event_id(node)
        os.kill(node.proc.pid, signal.SIGHUP)
        # The node reloads on its own time; its outcome is the event config_applied or config_refused by SIGHUP.
        deadline = time.monotonic() + CHANGE_RETRY_LIMIT
        while time.monotonic() < deadline:
            for e in self.events(node, since) or []:
                self.event_ids[(node.id, node.starts)] = max(self.event_ids[(node.id, node.starts)], e["id"])
                if e.get("type") in ("config_applied", "config_refused") and (e.get("data") or {}).get("author") == "SIGHUP":
                    applied = e["type"] == "config_applied"
                    self.record(kind, node.id, detail, e["message"], applied, t,
                                **({"revision": e["data"].get("revision")} if applied else {}))
                    return
                since = max(since, e["id"])
            time.sleep(0.1)
        self.record(kind, node.id, detail, f"no config_applied/config_refused by SIGHUP within {CHANGE_RETRY_LIMIT:.0f}s", False, t)

    def do_reload_invalid(self):
        node = self.rng.choice(self.up_nodes())
        t = self.now()
        good = self.cluster.intervals[node.id]
        self.cluster.write_config(node, INVALID_INTERVAL)
        try:
            status, doc, tries = self.change(node, "POST", "/api/v1/reload")
        finally:
            self.cluster.write_config(node, good)
        errors = doc.get("errors") if isinstance(doc, dict) else None
        named = bool(errors) and all(e.get("path") == f"backends.{BACKEND}.health.interval" and e.get("line") for e in errors)
        self.record("reload_invalid", node.id, f"health interval '{INVALID_INTERVAL}', then the file put back",
                    outcome(status, doc, tries), status == 422 and named, t, tries=len(tries))

    def do_drain(self):
        state = self.rng.choice(("drain", "drain", "maint"))
        candidates = [s for s, v in self.servers.items() if v["state"] == "ready" and self.available_after(s, state=state) >= 1]
        if not candidates:
            self.record("drain", None, state, "skipped: no server can be spared", None, self.now())
            return
        server = self.rng.choice(candidates)
        if self.set_state(server, state, kind="drain"):
            self.scheduled.append((self.now() + self.rng.uniform(2, 8), server))

    def do_weight(self):
        server = self.rng.choice(sorted(self.servers))
        weight = self.rng.choice([w for w in (0, 1, 2, 3, 5) if w != self.servers[server]["weight"]])
        t = self.now()
        if self.available_after(server, weight=weight) < 1:
            self.record("weight", None, f"{server} → {weight}", "skipped: it would leave no server", None, t)
            return
        node = self.rng.choice(self.up_nodes())
        status, doc, tries = self.change(node, "PUT", f"/api/v1/backends/{BACKEND}/servers/{server}/weight", {"weight": weight})
        if status == 200:
            self.servers[server]["weight"] = weight
        else:
            self.resync(node)
        self.record("weight", node.id, f"{server} → {weight}", outcome(status, doc, tries), status == 200, t, tries=len(tries))

    def do_leader_kill(self):
        t = self.now()
        if self.cycle is not None and self.cycle.is_alive():
            self.record("leader_kill", None, "", "skipped: the last kill/freeze is not over", None, t)
            return
        up = self.up_nodes()
        if len(up) < 3:
            self.record("leader_kill", None, "", f"skipped: {3 - len(up)} node(s) out of rotation", None, t)
            return
        views = {}
        for n in up:
            c = node_view(self.cluster, n)[1]
            views[n.id] = (c.get("leader"), c.get("term"))
        leaders = {v[0] for v in views.values()}
        if len(leaders) != 1 or None in leaders or next(iter(leaders)) not in self.cluster.by_id:
            self.record("leader_kill", None, "", f"skipped: no agreed leader ({views})", None, t)
            return
        leader = self.cluster.by_id[next(iter(leaders))]
        kind = "freeze" if leader.id == self.args.long_lived else "kill"
        fault = {"n": len(self.faults) + 1, "kind": kind, "node": leader.id, "start": leader.starts, "pid": leader.proc.pid,
                 "term": views[leader.id][1], "t_out": None, "t_fault": None, "t_back": None, "error": None}
        self.faults.append(fault)
        if not self.args.abrupt:
            self.rotation.remove(leader.id)  # here, on the main thread: no action after this one picks it
            fault["t_out"] = round(self.now(), 3)
        self.record("leader_kill", leader.id, f"{kind} (term {fault['term']})", "started", True, t, fault=fault["n"])
        self.cycle = threading.Thread(target=self.fault_cycle, args=(leader, fault), daemon=True, name=f"fault-{fault['n']}")
        self.cycle.start()

    def fault_cycle(self, node, fault):
        a = self.args
        try:
            if not a.abrupt:
                fault["in_flight_left"] = self.rotation.wait_idle(node.id, a.timeout + 2)
            if fault["kind"] == "kill":
                gc = self.cluster.gc(self.cluster.gc_targets([node]))[node.id]
                fault["gc_done"] = gc is not None
                fault["heap_after_gc_mib"] = (gc or {}).get("heap_after_mib")
                fault["t_fault"] = round(self.now(), 3)
                os.kill(node.proc.pid, signal.SIGKILL)
                if a.abrupt:
                    self.rotation.remove(node.id)
                    fault["t_out"] = round(self.now(), 3)
                self.cluster.reap(node)
                fault["exit"] = node.proc.returncode
                time.sleep(a.down)
                offset = self.cluster.spawn(node, f"after kill #{fault['n']} (soak)")
                fault["t_restart"] = round(self.now(), 3)
                self.cluster.wait_started(node, offset, limit=180)
            else:
                fault["t_fault"] = round(self.now(), 3)
                os.kill(node.proc.pid, signal.SIGSTOP)
                if a.abrupt:
                    self.rotation.remove(node.id)
                    fault["t_out"] = round(self.now(), 3)
                others = [n for n in self.cluster.nodes if n is not node]
                deadline = time.monotonic() + 30
                new_leader = None
                while new_leader is None and time.monotonic() < deadline:
                    for n in others:
                        c = node_view(self.cluster, n, timeout=1.0)[1]
                        if c.get("leader") not in (None, node.id):
                            new_leader = c["leader"]
                    time.sleep(0.1)
                fault["new_leader"] = new_leader
                fault["t_new_leader"] = round(self.now(), 3)
                time.sleep(a.freeze_hold)
                os.kill(node.proc.pid, signal.SIGCONT)
                fault["t_restart"] = round(self.now(), 3)
                if new_leader is None:
                    raise RuntimeError(f"no survivor named a leader other than {node.id} within 30 s of its freeze")
            # Back in the rotation once it answers as a follower of the cluster and /readyz says ready.
            deadline = time.monotonic() + 180
            while True:
                ready, c = node_view(self.cluster, node)
                if ready and c.get("leader") not in (None, node.id):
                    fault["leader_after"] = c["leader"]
                    break
                if not node.running:
                    raise RuntimeError(f"{node.id} exited with {node.proc.returncode} after its {fault['kind']}:\n{lab.tail(node.stdout)}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{node.id} not ready as a follower within 180 s of its {fault['kind']} (last view {c})")
                time.sleep(0.2)
            self.rotation.add(node.id)
            fault["t_back"] = round(self.now(), 3)
        except Exception as e:  # the run stops: a node that does not come back is a failure of the soak
            fault["error"] = f"{type(e).__name__}: {e}"
            self.fatal = f"fault #{fault['n']} ({fault['kind']} of {node.id}): {fault['error']}"
            log(self.fatal)
            if node.running:
                os.kill(node.proc.pid, signal.SIGCONT)


def outcome(status, doc, tries):
    """A change's answer in a few words: '200', '200 after 503 ×2', '422: …'."""
    text = str(status) if status is not None else (doc if isinstance(doc, str) else "no answer")
    if status not in (200, None) and isinstance(doc, dict) and doc.get("error"):
        text += f": {doc['error'][:160]}"
    before = tries[:-1]
    if before:
        counts = {}
        for x in before:
            counts[x] = counts.get(x, 0) + 1
        text += " after " + ", ".join(f"{k} ×{v}" for k, v in counts.items())
    return text


# ---------------------------------------------------------------------------------------------------------------------
# Logs

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (trce|dbug|info|warn|fail|crit): (\S+?)(\[\d+\])?\s")
HOOK_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\S+ soak-hook\[(\w+)\]")
BENCH_LINE = "=== bench: "


def scan_log(path, proc):
    """Entries of one process's output that the soak reports: (kind, first line, the rest) plus warning counts."""
    findings, warnings, levels = [], {}, {}
    entries = []  # [first line, continuation lines]
    try:
        with open(path, errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if LOG_LINE.match(line) or HOOK_LINE.match(line) or line.startswith(BENCH_LINE) or not entries:
                    entries.append([line, []])
                else:
                    entries[-1][1].append(line)
    except OSError:
        return findings, warnings, levels
    for first, rest in entries:
        m, hook = LOG_LINE.match(first), HOOK_LINE.match(first)
        text = "\n".join([first] + rest)
        stack = any(r.lstrip().startswith("at ") for r in rest)
        kind = None
        if hook:
            kind = {"unobserved": "unobserved", "unhandled": "unhandled", "error": "hook_error"}.get(hook.group(1))
        elif "UnobservedTaskException" in text:
            kind = "unobserved"
        elif "Unhandled exception" in text:
            kind = "unhandled"
        elif m:
            level = m.group(1)
            levels[level] = levels.get(level, 0) + 1
            if level in ("fail", "crit"):
                kind = "error_with_stack" if stack else "error"
            elif level == "warn":
                key = m.group(2) + (m.group(3) or "")
                warnings[key] = warnings.get(key, 0) + 1
        elif not first.startswith(BENCH_LINE) and first.strip():
            kind = "other_output"
        if kind:
            findings.append({"proc": proc, "file": os.path.basename(path), "kind": kind, "text": text[:4000]})
    return findings, warnings, levels


CRITERION_KINDS = ("unobserved", "unhandled", "error_with_stack")
STATS_LINE = re.compile(r"soak-hook\[stats\] jit_methods=(\d+) jit_il_bytes=(\d+) heap_mib=([\d.]+) committed_mib=([\d.]+) "
                        r"gen2=(\d+) threadpool_threads=(\d+)")


def hook_stats(path, t0_wall):
    """{start#: [(t, figures)]}: the hook's stats lines in a node's standard error, per start of the node (t: seconds
    since the load began)."""
    out, start_no = {}, 0
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith(BENCH_LINE + "start #"):
                    start_no = int(line[len(BENCH_LINE) + len("start #"):].split()[0])
                elif (m := STATS_LINE.search(line)) and (ts := lab.log_time(line)) is not None:
                    out.setdefault(start_no, []).append((round(ts - t0_wall, 1), {
                        "jit_methods": int(m.group(1)), "jit_il_kib": round(int(m.group(2)) / 1024), "heap_mib": float(m.group(3)),
                        "committed_mib": float(m.group(4)), "gen2": int(m.group(5)), "threadpool_threads": int(m.group(6))}))
    except OSError:
        pass
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Analysis and report


def analyse_requests(load, faults, timeout):
    """Totals, failures (inside the criterion, or cut by a fault), latencies, per node and per backend."""
    cuts = [(f["node"], f["start"], f["t_fault"]) for f in faults if f.get("t_fault") is not None]
    records = sorted(r for rs in load.records for r in rs)
    by_node, by_server, outcomes = {}, {}, {}
    latencies, plain = [], []
    for t, latency, client, node, start_no, status, error, server, slow in records:
        key = str(status) if status is not None else error
        outcomes[key] = outcomes.get(key, 0) + 1
        by_node[node] = by_node.get(node, 0) + 1
        if server:
            by_server[server] = by_server.get(server, 0) + 1
        latencies.append(latency * 1000)
        if not slow:
            plain.append(latency * 1000)
    for f in load.failures:
        # In flight to a node when it was killed or frozen: sent before the signal, not over before it.
        cut = any(n == f["node"] and s == f["start"] and f["t_raw"] <= t_cut <= f["t_raw"] + f["latency_raw"] for n, s, t_cut in cuts)
        f["class"] = "cut by a fault" if cut else "failed"
    failed = sum(1 for f in load.failures if f["class"] == "failed")
    cut = len(load.failures) - failed
    lat, lat_plain = lab.stats(latencies), lab.stats(plain)
    return {
        "total": len(records),
        "ok": len(records) - failed - cut,
        "failed": failed,
        "cut_by_fault": cut,
        "outcomes": dict(sorted(outcomes.items(), key=lambda kv: -kv[1])),
        "by_node": dict(sorted(by_node.items())),
        "by_server": dict(sorted(by_server.items())),
        "latency_ms": {k: round(v, 2) for k, v in lat.items()} if lat else None,
        "latency_ms_not_slow": {k: round(v, 2) for k, v in lat_plain.items()} if lat_plain else None,
        "over_1s": sum(1 for x in latencies if x > 1000),
        "over_100ms": sum(1 for x in latencies if x > 100),
        "failures": [{k: v for k, v in f.items() if not k.endswith("_raw")} for f in load.failures[:1000]],
    }, records


def churn_counts(actions):
    counts = {}
    for a in actions:
        c = counts.setdefault(a["kind"], {"done": 0, "ok": 0, "not_ok": 0, "skipped": 0, "edited": 0, "retried": 0})
        if a["ok"] is None:
            c["skipped"] += 1
            continue
        c["done"] += 1
        c["ok" if a["ok"] else "not_ok"] += 1
        if "edited" in (a.get("detail") or ""):
            c["edited"] += 1
        if (a.get("tries") or 1) > 1:
            c["retried"] += 1
    return counts


def final_state(cluster, churn):
    """Converged (one leader, one applied index, lag 0) and every node reports each server as the churn set it."""
    out = {"converged": False, "agree": False, "servers_set": churn.servers}
    try:
        leader, doc, waited = cluster.wait_converged(limit=120)
        out.update(converged=True, leader=leader, revision=doc.get("revision"), applied_index=doc.get("applied_index"),
                   term=doc.get("term"), waited_s=round(waited, 1))
    except RuntimeError as e:
        out["error"] = str(e)[:2000]
        return out
    views = {}
    for n in cluster.nodes:
        status = admin_get(cluster, n, "/api/v1/status") or {}
        views[n.id] = {s["name"]: {"state": s["state"], "weight": s["weight"], "health": s["health"]}
                       for b in status.get("backends", []) for s in b.get("servers", [])}
    out["views"] = views
    expected = {name: {"state": s["state"], "weight": s["weight"], "health": "up"} for name, s in churn.servers.items()}
    out["agree"] = all(v == expected for v in views.values())
    return out


def summarize(r):
    a = r["settings"]
    req = r["requests"]
    lines = [
        f"## Soak — {a['duration']:.0f} s, seed {a['seed']}",
        "",
        f"{r['utc_start']} → {r['utc_end']} · {r['machine']['cpus']} CPUs ({r['machine']['cpu_model']}) · build {r['build']}",
        f"Machine load: loadavg before {r['load_before']['loadavg']}, after {r['load_after']['loadavg']}; during the run "
        f"1-min loadavg median {fmt(r['load']['loadavg1_median'], 1)} (max {fmt(r['load']['loadavg1_max'], 1)}), "
        f"CPU busy median {fmt(r['load']['busy_pct_median'])}% of one core (max {fmt(r['load']['busy_pct_max'])}%), "
        f"of which the three nodes {fmt(r['load']['nodes_cpu_pct'])}% and the backends {fmt(r['load']['backends_cpu_pct'])}%",
        "",
        "| criterion | result | |",
        "|---|---|---|",
    ]
    for c in r["criteria"]:
        lines.append(f"| {c['name']} | {'pass' if c['pass'] else '**FAIL**'} | {c['detail']} |")
    lines += ["", f"Requests: {req['total']:,} GETs by {a['clients']} clients at {a['rate']} /s, timeout {a['timeout']} s: "
                  f"{req['ok']:,} ok, **{req['failed']} failed**, {req['cut_by_fault']} cut by a fault (in flight to a node when it "
                  f"was killed or frozen: {'--abrupt' if a['abrupt'] else 'none expected, the node was out of rotation and idle'})"]
    lat = req["latency_ms"] or {}
    plain = req.get("latency_ms_not_slow") or {}
    lines += [f"Latency ms: median {fmt(lat.get('median'), 1)}, p90 {fmt(lat.get('p90'), 1)}, p99 {fmt(lat.get('p99'), 1)}, "
              f"max {fmt(lat.get('max'), 1)}; {req['over_100ms']} over 100 ms, {req['over_1s']} over 1 s; without the slow GETs "
              f"(?delay_ms={a['slow_ms']}): median {fmt(plain.get('median'), 1)}, p99 {fmt(plain.get('p99'), 1)}, max {fmt(plain.get('max'), 1)}",
              f"Per node: {req['by_node']}; per backend: {req['by_server']}; outcomes: {req['outcomes']}"]
    lines += ["", "| churn | done | ok | not ok | skipped | with an edited file | retried (503 / no answer) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for kind, c in r["churn"]["counts"].items():
        lines.append(f"| {kind} | {c['done']} | {c['ok']} | {c['not_ok']} | {c['skipped']} | {c['edited']} | {c['retried']} |")
    f = r["faults"]
    term0, term1 = r.get("term_at_start"), r["final"].get("term")
    lines += ["", f"Raft term {term0} at the start, {term1} at the end (+{fmt(None if None in (term0, term1) else term1 - term0)}) "
                  f"for {f['kills'] + f['freezes']} leader faults"]
    lines += [f"Leader faults: {f['kills']} kills (SIGKILL, restart after {a['down']} s), {f['freezes']} freezes of {a['long_lived']} "
                  f"(SIGSTOP until a survivor named a new leader, + {a['freeze_hold']} s); out of rotation → back in rotation: "
                  f"median {fmt(f['cycle_s_median'], 1)} s, max {fmt(f['cycle_s_max'], 1)} s; in-flight requests left at the fault: {f['in_flight_left']}"]
    lines += ["", f"Resources after a warm-up of {a['warmup']:.0f} s per series (RSS band ±{a['rss_band']}%, descriptors ±max({a['fd_slack']}, 10%)); "
                  "series that had at least 60 s and 6 samples after it:", "",
              "| process | start | span s | RSS MiB first→last (min–max) | band % | MiB/h | fds first→last (min–max) | threads | CPU % | flat |",
              "|---|---:|---:|---|---:|---:|---|---|---:|---|"]
    for s in r["resources"]["series"]:
        if not s["eligible"]:
            continue
        rss, fds, th = s["rss_mib"], s["fds"], s["threads"]
        flat = "yes" if s["rss_flat"] and s["fds_flat"] else "no"
        if s["proc"] in BACKEND_HOSTS:
            flat = f"({flat}: a demo backend, not judged)"
        elif flat == "no":
            flat = "**no**"
        lines.append(f"| {s['proc']} | {s['start']} | {s['post_warmup_span_s']:.0f} | {rss['first']}→{rss['last']} ({rss['min']}–{rss['max']}) | "
                     f"{s['rss_band_pct']} | {s['rss_slope_mib_per_h']} | {fds['first']}→{fds['last']} ({fds['min']}–{fds['max']}) | "
                     f"{th['min']}–{th['max']} | {s['cpu_pct']} | {flat} |")
    for s in r["resources"]["series"]:
        if s["eligible"] and s["proc"] not in BACKEND_HOSTS and (s.get("runtime") or s.get("memory_map_mib")):
            rt, mm = s.get("runtime"), s.get("memory_map_mib")
            text = f"{s['proc']}#{s['start']} after the warm-up:"
            if rt:
                a, b = rt["first"], rt["last"]
                text += (f" JIT-compiled methods {a['jit_methods']:,} → {b['jit_methods']:,} (IL {a['jit_il_kib']:,} → {b['jit_il_kib']:,} KiB), "
                         f"GC heap {a['heap_mib']} → {b['heap_mib']} MiB (committed {a['committed_mib']} → {b['committed_mib']} MiB), "
                         f"gen2 GCs {a['gen2']} → {b['gen2']}, thread-pool threads {a['threadpool_threads']} → {b['threadpool_threads']};")
            if mm:
                text += f" resident: JIT code {mm['jit'][0]} → {mm['jit'][1]} MiB, anonymous {mm['anon'][0]} → {mm['anon'][1]} MiB, files {mm['file'][0]} → {mm['file'][1]} MiB"
            lines += ["", text]
    h = r["heap"]
    if h["warmup"]:
        for node, w in sorted(h["warmup"]["nodes"].items()):
            e = h["end"]["nodes"].get(node)
            if w and e and h["warmup"]["starts"].get(node) == h["end"]["starts"].get(node):
                lines += ["", f"{node}: managed heap after a full GC {w['heap_after_mib']} MiB at {h['warmup']['t']:.0f} s → "
                              f"{e['heap_after_mib']} MiB at the end; RSS right after it {w['rss_mib']} → {e['rss_mib']} MiB "
                              f"(one process all along: a leak would show here)"]
    if h["at_kills_mib"]:
        k = h["at_kills_mib"]
        lines += [f"Killed nodes: managed heap after a full GC just before the kill: median {statistics.median(k):.1f} MiB, "
                  f"max {max(k):.1f} MiB ({len(k)} kills)"]
    short = [f"{s['proc']}#{s['start']} ({s['span_s']:.0f} s)" for s in r["resources"]["series"] if not s["eligible"]]
    if short:
        lines += ["", f"Too short to judge (a node killed as leader lives from one kill to the next): {', '.join(short)}"]
    lg = r["logs"]
    lines += ["", f"Logs: {lg['counts']}; warnings by event: {lg['warnings']}"]
    for x in lg["findings"][:20]:
        lines.append(f"- {x['proc']} ({x['kind']}): {x['text'].splitlines()[0][:300]}")
    if len(lg["findings"]) > 20:
        lines.append(f"- … {len(lg['findings']) - 20} more in result.json")
    if req["failures"]:
        lines += ["", "First failed requests:"]
        for x in req["failures"][:20]:
            lines.append(f"- {x['utc']} client {x['client']} → {x['node']}#{x['start']} ({x['class']}): "
                         f"{x['status'] or x['error']} after {x['latency_ms']} ms, server {x['server']}, request id {x['request_id']}, "
                         f"connection {'reused' if x['connection_reused'] else 'new'}")
    fs = r["final"]
    lines += ["", f"End: converged {fs['converged']} (leader {fs.get('leader')}, revision {fs.get('revision')}), every node reports the "
                  f"servers as set {fs['agree']}; nodes' exit status at SIGTERM {r['exit_codes']}"]
    if r.get("error"):
        lines += ["", f"**The run stopped early:** {r['error']}"]
    return "\n".join(lines) + "\n"


def write_results(out, r, cluster, records, churn, sampler):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(r, f, indent=1)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(summarize(r))
    with open(os.path.join(out, "requests.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "client", "node", "start", "outcome", "ms", "server", "slow"])
        for t, latency, client, node, start_no, status, error, server, slow in records:
            w.writerow([f"{t:.3f}", client, node, start_no, status if status is not None else error, f"{latency * 1000:.2f}", server or "", int(slow)])
    with open(os.path.join(out, "churn.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "utc", "kind", "node", "detail", "ok", "ms", "outcome"])
        for a in churn.actions:
            w.writerow([a["t"], a["utc"], a["kind"], a["node"] or "", a["detail"], "" if a["ok"] is None else int(a["ok"]), a["ms"], a["outcome"]])
    with open(os.path.join(out, "faults.csv"), "w", newline="") as f:
        keys = ["n", "kind", "node", "start", "pid", "term", "t_out", "in_flight_left", "t_fault", "t_restart", "t_back",
                "new_leader", "leader_after", "gc_done", "heap_after_gc_mib", "exit", "error"]
        w = csv.writer(f)
        w.writerow(keys)
        for x in churn.faults:
            w.writerow([x.get(k, "") for k in keys])
    with open(os.path.join(out, "samples.csv"), "w", newline="") as f:
        keys = ["t", "proc", "start", "pid", "rss_kb", "threads", "fds", "cpu_s", "loadavg1", "machine_busy_pct", "jit_kb", "anon_kb", "file_kb"]
        w = csv.writer(f)
        w.writerow(keys)
        for row in sampler.rows:
            w.writerow(["" if row.get(k) is None else row[k] for k in keys])
    lab.copy_logs(cluster, out, extra=[path for _, path in cluster.backends.values()])


# ---------------------------------------------------------------------------------------------------------------------


def parse_mix(text):
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        name = name.strip()
        if name not in KINDS:
            raise argparse.ArgumentTypeError(f"unknown churn kind '{name}' (kinds: {', '.join(KINDS)})")
        try:
            mix[name] = float(weight)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{part}': write kind=weight") from None
    if sum(mix.values()) <= 0:
        raise argparse.ArgumentTypeError("the weights add up to 0")
    return mix


def _continue_and_cleanup():
    """At exit: a frozen node ignores SIGTERM until continued, so every child is continued first."""
    for proc in list(lab._children.values()):
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
    lab.cleanup()


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--dll", default=os.path.join(root, "src/Switchman/bin/Release/net10.0/switchman.dll"), help="switchman.dll to run")
    ap.add_argument("--hook", default=os.path.join(root, "bench/SoakHook/bin/Release/net10.0/soak-hook.dll"),
                    help="the startup hook (bench/SoakHook) every process runs with")
    ap.add_argument("--lab", required=True, help="the lab's namespace prefix (set by bench/soak.sh)")
    ap.add_argument("--duration", type=float, default=1800.0, help="seconds of load and churn")
    ap.add_argument("--max-requests", type=int, default=None, help="requests at most (default: rate × duration × 1.2)")
    ap.add_argument("--clients", type=int, default=4, help="client threads")
    ap.add_argument("--rate", type=float, default=50.0, help="GET/s of all clients together")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds a request may take (each socket operation, and in all)")
    ap.add_argument("--slow-share", type=float, default=0.1,
                    help="share of the GETs that ask the backend to wait --slow-ms first (?delay_ms=), so that drains, reloads and "
                         "kills find requests in flight")
    ap.add_argument("--slow-ms", type=int, default=200, help="how long a slow GET waits in the backend")
    ap.add_argument("--seed", type=int, default=None, help="the churn's random seed (default: a random one, printed)")
    ap.add_argument("--churn-every", type=float, default=3.0, help="mean seconds between churn actions")
    ap.add_argument("--mix", type=parse_mix, default=parse_mix(DEFAULT_MIX), help=f"relative weights of the churn kinds ({DEFAULT_MIX})")
    ap.add_argument("--edit-share", type=float, default=0.5, help="share of reloads that follow an edit of the node's file")
    ap.add_argument("--down", type=float, default=5.0, help="seconds a killed leader stays down before its restart")
    ap.add_argument("--freeze-hold", type=float, default=1.0, help="seconds a frozen leader stays frozen after a survivor named a new leader")
    ap.add_argument("--long-lived", default="n1", choices=lab.NODE_IDS + ("none",),
                    help="the node that is frozen instead of killed when it leads (none: kill whichever leads)")
    ap.add_argument("--abrupt", action="store_true",
                    help="keep sending to the leader until the kill/freeze (its requests in flight then are counted apart)")
    ap.add_argument("--health-interval", default="2s", choices=HEALTH_INTERVALS, help="the backend's health interval in the files at start")
    ap.add_argument("--sample-every", type=float, default=5.0, help="seconds between resource samples")
    ap.add_argument("--warmup", type=float, default=None, help="seconds of each series left out of the flatness check (default min(300, 20%% of --duration))")
    ap.add_argument("--rss-band", type=float, default=10.0, help="RSS after the warm-up must stay within ± this %% of its first sample")
    ap.add_argument("--fd-slack", type=int, default=8, help="open descriptors after the warm-up within ± max(this, 10%%) of the first sample")
    ap.add_argument("--raft-log-level", default="", help="log level of DotNext's Raft in the node logs ('': the product's, Error)")
    ap.add_argument("--out", help="result directory (default bench/results/soak-<UTC>)")
    ap.add_argument("--label", default="", help="free text stored with the result (e.g. the build)")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (configs, data dirs, logs)")
    args = ap.parse_args()
    if args.duration <= 0 or args.duration > 24 * 3600 or args.clients < 1 or args.clients > 64 or args.rate <= 0 or args.rate > 2000:
        ap.error("--duration 0..86400 s, --clients 1..64, --rate 0..2000")
    if not 0 <= args.slow_share <= 1 or args.slow_ms < 0:
        ap.error("--slow-share 0..1, --slow-ms ≥ 0")
    if args.timeout <= 0 or args.churn_every <= 0 or args.down < 0 or args.sample_every <= 0:
        ap.error("--timeout, --churn-every and --sample-every must be > 0, --down ≥ 0")
    for path, what in ((args.dll, "dotnet build -c Release src/Switchman"), (args.hook, "dotnet build -c Release bench/SoakHook")):
        if not os.path.isfile(path):
            ap.error(f"{path} not found ({what}, or bash bench/soak.sh)")
    if args.seed is None:
        args.seed = secrets.randbelow(2**31)
    if args.max_requests is None:
        args.max_requests = int(args.rate * args.duration * 1.2) + 100
    if args.warmup is None:
        args.warmup = min(300.0, 0.2 * args.duration)
    # What bench/cluster.py's Cluster reads: the lab's hosts, the product's timings.
    args.election_min = args.election_max = None
    args.request_timeout = 0
    args.mode = "soak"

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or os.path.join(root, "bench", "results", f"soak-{stamp}")
    lab._keep_tmp = args.keep_tmp
    atexit.register(_continue_and_cleanup)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lab._on_signal)
    lab._tmp = tempfile.mkdtemp(prefix="switchman-soak.")
    try:
        run(args, out, lab._tmp)
    finally:
        _continue_and_cleanup()


def run(args, out, tmp):
    bin_dir = os.path.join(tmp, "bin")  # a private copy: a rebuild elsewhere cannot change what a restarted node runs
    shutil.copytree(os.path.dirname(os.path.abspath(args.dll)), bin_dir)
    build = args.label or os.path.abspath(args.dll)
    args.dll = os.path.join(bin_dir, os.path.basename(args.dll))
    hook = os.path.join(tmp, "soak-hook.dll")
    shutil.copy(args.hook, hook)
    args.hook = hook
    cluster = SoakCluster(args, tmp)
    cluster.check_config()
    log(f"seed {args.seed}; duration {args.duration:.0f} s; {args.clients} clients at {args.rate} GET/s; churn every ~{args.churn_every} s "
        f"({', '.join(f'{k}={v:g}' for k, v in args.mix.items())}); temp dir {tmp}; loadavg {[round(x, 2) for x in os.getloadavg()]}")
    result = {
        "utc_start": lab.utc_iso(),
        "build": build,
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "keep_tmp", "election_min", "election_max", "request_timeout", "mode")},
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(), "cpu_model": lab.cpu_model()},
        "load_before": {"loadavg": [round(x, 2) for x in os.getloadavg()], "uptime": lab.uptime_line()},
    }
    cluster.start_backends()
    cluster.start(cluster.nodes, "initial")
    leader, doc, waited = cluster.wait_converged(limit=180)
    result["term_at_start"] = doc.get("term")
    # Every node ready (first round of health checks done) before any load.
    for n in cluster.nodes:
        deadline = time.monotonic() + 60
        while not node_view(cluster, n)[0]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{n.id} not ready 60 s after the cluster converged")
            time.sleep(0.2)
    log(f"3 nodes and 3 backends up, leader {leader} after {waited:.1f} s; load and churn for {args.duration:.0f} s")

    rotation = Rotation([n.id for n in cluster.nodes])
    t0 = time.monotonic()
    t0_wall = time.time()
    load = Load(args, cluster, rotation, t0)
    churn = Churn(args, cluster, rotation, t0)
    sampler = Sampler(cluster, args.sample_every, t0)
    error = None
    progress_every = max(60.0, args.duration / 30)
    sampler.start()
    load.start()
    reporter_stop = threading.Event()

    def report_progress():
        while not reporter_stop.wait(progress_every):
            sent = sum(len(r) for r in load.records)
            log(f"{time.monotonic() - t0:.0f} s: {sent:,} requests, {len(load.failures)} not 200; {len(churn.actions)} churn actions, "
                f"{len(churn.faults)} leader faults; in rotation {rotation.snapshot()}; loadavg {os.getloadavg()[0]:.1f}")

    reporter = threading.Thread(target=report_progress, daemon=True, name="progress")
    reporter.start()
    try:
        churn.run(load)
        if churn.fatal:
            error = churn.fatal
    except Exception as e:  # keep what was measured, and the logs, then fail
        error = f"{type(e).__name__}: {e}"
        log(f"error: {error}")
    finally:
        load.stop.set()
        reporter_stop.set()
    load.join(args.timeout + 5)
    t_load_end = time.monotonic() - t0
    log(f"load over after {t_load_end:.0f} s; ending the churn (the last fault cycle, servers back to ready)")
    try:
        churn.finish()
        if churn.fatal and not error:
            error = churn.fatal
    except Exception as e:
        error = error or f"{type(e).__name__}: {e}"
    final = final_state(cluster, churn)
    final_gc = cluster.gc(cluster.gc_targets())
    late = [name for name, v in final_gc.items() if v is None]
    sampler.stop.set()
    sampler.join(10)
    log("stopping every process with SIGTERM: the nodes, then the backends")
    exit_codes = lab.stop_children(grace=40.0, only=cluster.by_id)
    exit_codes.update(lab.stop_children(grace=20.0))

    requests, records = analyse_requests(load, churn.faults, args.timeout)
    series = series_report(sampler.rows, args.warmup, args.rss_band, args.fd_slack)
    for n in cluster.nodes:
        stats = hook_stats(n.stderr, t0_wall)
        for sr in series:
            points = [p for p in stats.get(sr["start"], []) if sr["proc"] == n.id and p[0] >= sr["t_first"] + args.warmup]
            if points:
                sr["runtime"] = {"t": [points[0][0], points[-1][0]], "first": points[0][1], "last": points[-1][1]}
    findings, warnings, levels = [], {}, {}
    for n in cluster.nodes:
        for path in (n.stdout, n.stderr):
            f, w, lv = scan_log(path, n.id)
            findings += f
            for k, v in w.items():
                warnings[k] = warnings.get(k, 0) + v
            for k, v in lv.items():
                levels[k] = levels.get(k, 0) + v
    for name, (_, path) in cluster.backends.items():
        f, _, _ = scan_log(path, name)
        findings += f
    counts = {}
    for x in findings:
        counts[x["kind"]] = counts.get(x["kind"], 0) + 1
    node_rows = [r for r in sampler.rows if r["proc"] in cluster.by_id]
    ticks = {}
    for r in sampler.rows:  # CPU seconds of each series: its last sample minus its first
        ticks.setdefault((r["proc"], r["start"]), []).append(r["cpu_s"])
    span = max(1e-6, t_load_end)
    nodes_cpu = sum(v[-1] - v[0] for k, v in ticks.items() if k[0] in cluster.by_id)
    backends_cpu = sum(v[-1] - v[0] for k, v in ticks.items() if k[0] in BACKEND_HOSTS)
    busy = [r["machine_busy_pct"] for r in node_rows]
    loads = [r["loadavg1"] for r in node_rows]
    faults = churn.faults
    cycles = [f["t_back"] - f["t_out"] for f in faults if f.get("t_back") is not None and f.get("t_out") is not None]
    eligible_nodes = [s for s in series if s["eligible"] and s["proc"] in cluster.by_id]
    bad_series = [f"{s['proc']}#{s['start']}" for s in eligible_nodes if not (s["rss_flat"] and s["fds_flat"])]
    criterion_findings = [x for x in findings if x["kind"] in CRITERION_KINDS]
    criteria = [
        {"name": "0 failed idempotent requests", "pass": requests["failed"] == 0 and requests["total"] > 0,
         "detail": f"{requests['failed']} failed of {requests['total']:,} ({requests['cut_by_fault']} cut by a fault, counted apart)"},
        {"name": "RSS and open descriptors flat after warm-up", "pass": bool(eligible_nodes) and not bad_series,
         "detail": (f"{len(eligible_nodes)} node series judged" + (f"; not flat: {', '.join(bad_series)}" if bad_series else "")
                    if eligible_nodes else "no node series long enough to judge")},
        {"name": "no unobserved/unhandled exceptions, no stack traces at Error", "pass": not criterion_findings,
         "detail": (", ".join(f"{k} {v}" for k, v in counts.items() if k in CRITERION_KINDS) or "none")
                   + (f" ({len(late)} process(es) did not run the final GC)" if late else "")},
        {"name": "every node came back; converged at the end, same servers everywhere",
         "pass": error is None and final["converged"] and final["agree"],
         "detail": error or ("converged, agree" if final["converged"] and final["agree"] else final.get("error") or "views differ")},
        {"name": "nodes exit 0 on SIGTERM", "pass": all(exit_codes.get(n) == 0 for n in cluster.by_id),
         "detail": ", ".join(f"{n} {exit_codes.get(n)}" for n in cluster.by_id)},
    ]
    result.update({
        "utc_end": lab.utc_iso(),
        "load_seconds": round(t_load_end, 1),
        "requests": requests,
        "churn": {"counts": churn_counts(churn.actions), "actions": churn.actions, "answers_not_200": churn.retry_errors},
        "faults": {"kills": sum(1 for f in faults if f["kind"] == "kill"), "freezes": sum(1 for f in faults if f["kind"] == "freeze"),
                   "cycle_s_median": round(statistics.median(cycles), 1) if cycles else None,
                   "cycle_s_max": round(max(cycles), 1) if cycles else None,
                   "in_flight_left": sum(f.get("in_flight_left") or 0 for f in faults), "list": faults},
        "resources": {"warmup_s": args.warmup, "series": series},
        "heap": {"warmup": churn.warmup_gc, "end": {"t": round(t_load_end, 1), "nodes": final_gc,
                                                     "starts": {n.id: n.starts for n in cluster.nodes}},
                 "at_kills_mib": [f.get("heap_after_gc_mib") for f in faults if f.get("heap_after_gc_mib") is not None]},
        "logs": {"counts": counts, "levels": levels, "warnings": dict(sorted(warnings.items(), key=lambda kv: -kv[1])),
                 "findings": findings[:500], "gc_not_done": late},
        "final": final,
        "exit_codes": exit_codes,
        "load": {"loadavg1_median": statistics.median(loads) if loads else None, "loadavg1_max": max(loads) if loads else None,
                 "busy_pct_median": statistics.median(busy) if busy else None, "busy_pct_max": max(busy) if busy else None,
                 "nodes_cpu_pct": round(100 * nodes_cpu / span, 1), "backends_cpu_pct": round(100 * backends_cpu / span, 1)},
        "load_after": {"loadavg": [round(x, 2) for x in os.getloadavg()], "uptime": lab.uptime_line()},
        "criteria": criteria,
        "error": error,
    })
    write_results(out, result, cluster, records, churn, sampler)
    print(summarize(result))
    log(f"results in {out}")
    failed = [c["name"] for c in criteria if not c["pass"]]
    if failed:
        raise SystemExit(f"soak failed: {'; '.join(failed)} (details in {out})")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
