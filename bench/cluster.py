#!/usr/bin/env python3
"""bench/cluster.py — leader failover time and commit latency of a 3-node Switchman cluster.

--mode loopback (the default): three `switchman run` processes on loopback (ports picked at run time, a temp
directory, one shared secret); the leader is killed with SIGKILL, and a dead process on loopback is refused at once.
--mode linkdown | sigkill | sigstop: the three nodes run on hosts of a network-namespace lab (192.0.2.11–13, the
documented ports, the default configuration) that bench/cluster.sh builds and names with --lab; this script then runs
inside the lab's operator namespace (192.0.2.254). The fault: linkdown takes the leader's switch port down (nothing
answers, nothing resets; up again after the trial), sigkill kills it (its host still answers with RST; restarted
after the trial), sigstop freezes it (SIGCONT after the trial). Failover trials only (10 by default), no commit series.

Then:

1. Failover, --trials times: with all three nodes up and caught up, hit the leader with the fault (t0) and send a weight change
   (PUT /api/v1/backends/api/servers/seed/weight) to one survivor, again and again (each try bounded by
   --client-timeout, a short pause between tries), until one answers 200 (t1): committed by a majority and applied on
   that survivor. failover = t1 - t0. Meanwhile a thread per survivor polls its own view of the leader
   (GET /api/v1/status, cluster.leader) every --poll-interval ms: election = t0 until a survivor first names a leader
   other than the killed node. Then the node is brought back (restarted on its data directory, its link up, or
   SIGCONT), the script waits until every
   node names the same leader and every member reports lag 0 at the same applied index, waits --settle seconds, and
   runs the next trial.
2. Commit latency: --commits sequential weight changes through the leader, then as many through a follower (each
   after --commit-warmup unmeasured ones), on one keep-alive connection; wall time of each request.

The nodes log DotNext's Raft at --raft-log-level (Debug): from the survivors' logs each trial also gets the time of the
first election timeout, of the new leader taking office and of its first commit in the term, and counts of pre-votes,
elections and refused votes; for each slow trial the summary shows the survivors' election lines.

Prints a summary and writes result.json, summary.md, trials.csv, commits.csv and the nodes' logs to --out
(default bench/results/cluster-<UTC>-<min>-<max>ms/); on an error, what was measured so far and the logs. If every node
reports lag > 0 at the same applied index for 15 s (a leader change that no change followed), one change is sent and
recorded as a "nudge". Every process it started is killed by its PID and the temp dir
removed on exit, Ctrl-C and errors. Python 3 standard library only.
"""

import argparse
import atexit
import csv
import datetime as dt
import hashlib
import http.client
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BACKEND = "api"
SERVER = "seed"
ADMIN_LINE = "switchman: admin listening on"
NODE_IDS = ("n1", "n2", "n3")
NETNS_MODES = ("linkdown", "sigkill", "sigstop")
LAB_HOSTS = {"n1": "192.0.2.11", "n2": "192.0.2.12", "n3": "192.0.2.13"}  # as bench/cluster.sh builds them
LAB_CLUSTER_PORT = 7000
LAB_ADMIN_PORT = 9090
LAB_FRONTEND_PORT = 8080
CLK_TCK = os.sysconf("SC_CLK_TCK")
LOG_TAG = "cluster"  # bench/soak.py, which reuses this module, says "soak"


def log(msg):
    print(f"[{LOG_TAG} {dt.datetime.now(dt.timezone.utc).strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def utc_iso(ts=None):
    ts = time.time() if ts is None else ts
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


# ---------------------------------------------------------------------------------------------------------------------
# Processes and cleanup: every child is tracked by its PID, and ended by it.

_children = {}  # node id -> subprocess.Popen (running or not yet reaped)
_tmp = None
_keep_tmp = False
_cleaned = False


def stop_children(grace=5.0, only=None):
    """SIGTERM to every child still running (or to those named in only), SIGKILL to any still there grace seconds later;
    each reaped and forgotten. Returns each one's exit status (Popen.returncode: negative for a signal)."""
    chosen = {k: p for k, p in _children.items() if only is None or k in only}
    for proc in chosen.values():
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace
    for node_id, proc in chosen.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{node_id} (pid {proc.pid}) did not stop on SIGTERM; sending SIGKILL")
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log(f"{node_id} (pid {proc.pid}) still there after SIGKILL")
    for node_id in chosen:
        _children.pop(node_id, None)
    return {node_id: proc.returncode for node_id, proc in chosen.items()}


def cleanup():
    global _cleaned
    if _cleaned:
        return
    _cleaned = True
    stop_children()
    if _tmp and os.path.isdir(_tmp):
        if _keep_tmp:
            log(f"kept {_tmp}")
        else:
            shutil.rmtree(_tmp, ignore_errors=True)


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------------------------------------------------
# Small helpers


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held open together while chosen, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def all_threads_stopped(pid):
    """True once every thread of pid is in state T (stopped by a signal)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "T":
                    return False
        except (OSError, IndexError):
            pass  # the thread ended
    return bool(tasks)


def pct(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def stats(values):
    if not values:
        return None
    return {
        "n": len(values),
        "min": min(values),
        "median": statistics.median(values),
        "p90": pct(values, 90),
        "p99": pct(values, 99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def busy_ticks():
    """CPU ticks spent busy on the whole machine (all CPUs) since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]) - idle


def proc_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])  # utime, stime (fields 14, 15)
    except (OSError, IndexError, ValueError):
        return 0


class Window:
    """CPU use over a stretch of time: the whole machine, the nodes, and this script (100 = one core)."""

    def __init__(self, pids):
        """pids: the node processes (the same ones at the end), or None when they change in between (restarts)."""
        self.pids = None if pids is None else list(pids)
        self.t = time.monotonic()
        self.busy = busy_ticks()
        self.nodes = None if self.pids is None else sum(proc_ticks(p) for p in self.pids)
        self.own = sum(os.times()[:2])

    def end(self):
        seconds = max(1e-6, time.monotonic() - self.t)
        busy = (busy_ticks() - self.busy) / CLK_TCK
        own = sum(os.times()[:2]) - self.own
        r = {"seconds": round(seconds, 3), "machine_busy_pct": round(100 * busy / seconds, 1),
             "script_cpu_pct": round(100 * own / seconds, 1)}
        if self.pids is not None:
            nodes = (sum(proc_ticks(p) for p in self.pids) - self.nodes) / CLK_TCK
            r["nodes_cpu_pct"] = round(100 * nodes / seconds, 1)
            r["other_cpu_pct"] = round(max(0.0, 100 * (busy - nodes - own) / seconds), 1)
        r["loadavg"] = [round(x, 2) for x in os.getloadavg()]
        return r


# ---------------------------------------------------------------------------------------------------------------------
# Admin API


class Admin:
    """One keep-alive connection to one node's admin API; reconnects after any error."""

    def __init__(self, host, port, token, timeout):
        self.host = host
        self.port = port
        self.token = token
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, timeout=None):
        """(status, parsed JSON or text); raises OSError / http.client.HTTPException on transport errors."""
        t = self.timeout if timeout is None else timeout
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=t)
        elif self.conn.sock is not None:
            self.conn.sock.settimeout(t)
        else:
            self.conn.timeout = t
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except BaseException:
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")

    def get(self, path, timeout=None):
        try:
            status, doc = self.request("GET", path, timeout=timeout)
            return doc if status == 200 else None
        except (OSError, http.client.HTTPException):
            return None

    def set_weight(self, weight, timeout=None):
        return self.request("PUT", f"/api/v1/backends/{BACKEND}/servers/{SERVER}/weight", {"weight": weight}, timeout=timeout)


# ---------------------------------------------------------------------------------------------------------------------
# The cluster


class Node:
    def __init__(self, node_id, cluster_port, admin_port, root, host="127.0.0.1", namespace=None):
        self.id = node_id
        self.host = host
        self.namespace = namespace  # the lab namespace it runs in, or None on loopback
        self.cluster_port = cluster_port
        self.admin_port = admin_port
        self.config = os.path.join(root, f"{node_id}.yaml")
        self.data_dir = os.path.join(root, f"data-{node_id}")
        self.stdout = os.path.join(root, f"{node_id}.log")
        self.stderr = os.path.join(root, f"{node_id}.err")
        self.proc = None
        self.starts = 0

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None


class Cluster:
    def __init__(self, args, root):
        self.args = args
        self.root = root
        self.token = secrets.token_hex(16)
        self.secret_file = os.path.join(root, "cluster.key")
        with open(self.secret_file, "w") as f:
            f.write(secrets.token_hex(24) + "\n")  # 48 bytes
        os.chmod(self.secret_file, 0o600)
        if args.lab:
            # One host each: the documented ports, nothing to collide with.
            self.frontend_port = LAB_FRONTEND_PORT
            self.nodes = [Node(i, LAB_CLUSTER_PORT, LAB_ADMIN_PORT, root, LAB_HOSTS[i], f"{args.lab}-{i}") for i in NODE_IDS]
        else:
            ports = free_ports(7)
            self.frontend_port = ports[6]
            self.nodes = [Node(NODE_IDS[i], ports[i], ports[3 + i], root) for i in range(3)]
        self.by_id = {n.id: n for n in self.nodes}
        self.nudges = []  # see wait_converged
        for node in self.nodes:
            with open(node.config, "w") as f:
                f.write(self.config_yaml(node))
        self.env = dict(os.environ)
        self.env.setdefault("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        if args.raft_log_level:
            # More specific than the host's own "DotNext" filter (Error), so it wins.
            self.env["Logging__LogLevel__DotNext.Net.Cluster"] = args.raft_log_level

    def config_yaml(self, node):
        sha = hashlib.sha256(self.token.encode()).hexdigest()
        a = self.args
        lines = [
            "admin:",
            f"  listen: {node.host}:{node.admin_port}",
            "  tokens:",
            f"    - {{ name: bench, role: admin, sha256: {sha} }}",
            "cluster:",
            f"  node_id: {node.id}",
            f"  listen: {node.host}:{node.cluster_port}",
            "  peers:",
        ]
        lines += [f"    - {{ id: {p.id}, address: {p.host}:{p.cluster_port} }}" for p in self.nodes if p is not node]
        lines += [
            f"  data_dir: {node.data_dir}",
            f"  secret_file: {self.secret_file}",
        ]
        if a.election_min is not None:  # None: the product's defaults (the netns modes)
            lines += [f"  election_timeout_min: {a.election_min}ms", f"  election_timeout_max: {a.election_max}ms"]
        if a.request_timeout:
            lines.append(f"  request_timeout: {a.request_timeout}ms")
        lines += [
            "frontends:",
            "  web:",
            f"    listen: {'0.0.0.0' if self.args.lab else '127.0.0.1'}:{self.frontend_port}",
            "    routes:",
            f"      - backend: {BACKEND}",
            "backends:",
            f"  {BACKEND}:",
            "    servers:",
            f"      - {{ name: {SERVER}, address: 127.0.0.1:9 }}",
            "",
        ]
        return "\n".join(lines)

    def admin(self, node, timeout=2.0):
        return Admin(node.host, node.admin_port, self.token, timeout)

    def check_config(self):
        """`switchman check` on one node's file: fails early (with every error) if the timings are refused."""
        result = subprocess.run(
            ["dotnet", self.args.dll, "check", "-c", self.nodes[0].config],
            cwd=self.root, env=self.env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise SystemExit(f"the generated configuration was refused:\n{result.stdout}{result.stderr}")

    def spawn(self, node, note):
        assert not node.running, f"{node.id} is already running"
        node.starts += 1
        for path in (node.stdout, node.stderr):
            with open(path, "a") as f:
                f.write(f"=== bench: start #{node.starts} of {node.id} at {utc_iso()} ({note})\n")
        offset = os.path.getsize(node.stdout)
        out = open(node.stdout, "a")
        err = open(node.stderr, "a")
        try:
            # `ip netns exec` enters the namespace and execs dotnet: the PID is the node's own, as on loopback.
            launcher = ["ip", "netns", "exec", node.namespace] if node.namespace else []
            node.proc = subprocess.Popen(
                launcher + ["dotnet", self.args.dll, "run", "-c", node.config],
                cwd=self.root, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        finally:
            out.close()
            err.close()
        _children[node.id] = node.proc
        return offset

    def wait_started(self, node, offset, limit=60.0):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if ADMIN_LINE in read_from(node.stdout, offset):
                return
            if node.proc.poll() is not None:
                raise RuntimeError(f"{node.id} exited with {node.proc.returncode} while starting; see {node.stdout} / {node.stderr}:\n"
                                   + tail(node.stdout) + tail(node.stderr))
            time.sleep(0.05)
        raise RuntimeError(f"{node.id} did not print '{ADMIN_LINE}' within {limit:.0f}s")

    def start(self, nodes, note):
        offsets = [(n, self.spawn(n, note)) for n in nodes]  # side by side: each start is mostly JIT
        for n, off in offsets:
            self.wait_started(n, off)

    def kill(self, node):
        """SIGKILL by PID; returns the perf_counter time just before the signal."""
        t0 = time.perf_counter()
        os.kill(node.proc.pid, signal.SIGKILL)
        return t0

    def fault(self, node):
        """Hits the node with --mode's fault; returns the perf_counter time just before it."""
        mode = self.args.mode
        if mode in ("loopback", "sigkill"):
            return self.kill(node)
        if mode == "sigstop":
            t0 = time.perf_counter()
            os.kill(node.proc.pid, signal.SIGSTOP)
            # Threads stop one by one as each is next scheduled: on a busy machine the leader can still commit for a few
            # ms after kill() returned. The first change goes out once all of them are stopped (t0 stays the signal).
            deadline = time.monotonic() + 5
            while not all_threads_stopped(node.proc.pid):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{node.id} (pid {node.proc.pid}) not stopped 5 s after SIGSTOP")
                time.sleep(0.001)
            return t0
        # linkdown: the bridge-side end of its cable, in the lab's switch namespace.
        command = ["ip", "-n", f"{self.args.lab}-sw", "link", "set", f"p-{node.id}", "down"]
        t0 = time.perf_counter()
        subprocess.run(command, check=True, timeout=10)
        return t0

    def end_fault(self, node):
        """Undoes a fault that leaves the process running (link up, SIGCONT); a killed node is reaped (restarted later)."""
        mode = self.args.mode
        if mode == "sigstop":
            os.kill(node.proc.pid, signal.SIGCONT)
        elif mode == "linkdown":
            subprocess.run(["ip", "-n", f"{self.args.lab}-sw", "link", "set", f"p-{node.id}", "up"], check=True, timeout=10)
        else:
            self.reap(node)

    @property
    def restarts(self):
        """True when a trial's fault kills the node, so it must be started again."""
        return self.args.mode in ("loopback", "sigkill")

    def reap(self, node):
        node.proc.wait(timeout=10)
        _children.pop(node.id, None)

    def views(self):
        views = {}
        for n in self.nodes:
            if n.running:
                admin = self.admin(n)
                views[n.id] = admin.get("/api/v1/cluster")
                admin.close()
            else:
                views[n.id] = None
        return views

    def wait_converged(self, limit=90.0, nudge_after=15.0):
        """Until every node names the same leader and every member reports the same applied index and revision, lag 0.
        Returns (leader id, a cluster document, seconds waited).

        If for nudge_after seconds everything agrees except that every node reports lag > 0 (committed entries none of
        them applies), sends one weight change through the leader — a new entry — and records that in self.nudges."""
        started = time.monotonic()
        deadline = started + limit
        last = None
        stuck_since = None
        while time.monotonic() < deadline:
            views = self.views()
            last = views
            docs = list(views.values())
            if all(docs):
                leaders = {d.get("leader") for d in docs}
                members = docs[0].get("members") or []
                agreed = (len(leaders) == 1 and None not in leaders and len(members) == 3
                          and len({m.get("applied_index") for m in members}) == 1
                          and len({m.get("revision") for m in members}) == 1
                          and (members[0].get("revision") or 0) > 0)
                lags = [m.get("lag") for d in docs for m in d.get("members") or []]
                if agreed and all(lag == 0 for lag in lags):
                    return docs[0]["leader"], docs[0], time.monotonic() - started
                if agreed and all(isinstance(lag, int) and lag > 0 for lag in lags):
                    stuck_since = stuck_since or time.monotonic()
                    if time.monotonic() - stuck_since >= nudge_after:
                        leader = self.by_id.get(docs[0]["leader"])
                        nudge = {"utc": utc_iso(), "leader": docs[0]["leader"], "term": docs[0].get("term"),
                                 "commit_index": docs[0].get("commit_index"), "applied_index": members[0].get("applied_index"),
                                 "stuck_s": round(time.monotonic() - stuck_since, 1)}
                        log(f"every node reports lag > 0 at applied index {nudge['applied_index']} (commit index "
                            f"{nudge['commit_index']}) for {nudge['stuck_s']}s: sending one change through {nudge['leader']}")
                        if leader is not None:
                            admin = self.admin(leader, timeout=10)
                            try:
                                nudge["answer"] = admin.set_weight(7)[0]
                            except (OSError, http.client.HTTPException) as e:
                                nudge["answer"] = type(e).__name__
                            finally:
                                admin.close()
                        self.nudges.append(nudge)
                        stuck_since = None
                else:
                    stuck_since = None
            time.sleep(0.1)
        raise RuntimeError(f"the cluster did not converge within {limit:.0f}s; last views: {json.dumps(last)[:3000]}")


def tail(path, n=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def read_from(path, start, end=None):
    """The text of a file from byte start to byte end (or its end)."""
    try:
        with open(path, "rb") as f:
            f.seek(start)
            return f.read(-1 if end is None else max(0, end - start)).decode(errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------------------------------
# Failover


class LeaderPoller(threading.Thread):
    """Polls one node's own view of the leader every interval; records (perf_counter, leader, term) samples."""

    def __init__(self, cluster, node, interval, path, deadline):
        super().__init__(daemon=True, name=f"poll-{node.id}")
        self.admin = cluster.admin(node, timeout=1.0)
        self.interval = interval
        self.path = path
        self.deadline = deadline
        self.samples = []
        self.stop = threading.Event()
        self.ready = threading.Event()

    def run(self):
        try:
            while not self.stop.is_set() and time.perf_counter() < self.deadline:
                t = time.perf_counter()
                doc = self.admin.get(self.path)
                t_end = time.perf_counter()
                if doc is not None:
                    c = doc.get("cluster", doc) if isinstance(doc, dict) else {}
                    self.samples.append((t, t_end, c.get("leader"), c.get("term")))
                else:
                    self.samples.append((t, t_end, "?", None))
                self.ready.set()
                self.stop.wait(max(0.0, self.interval - (time.perf_counter() - t)))
        finally:
            self.ready.set()
            self.admin.close()

    def first_new_leader(self, t0, killed):
        """(ms after t0 of the first answer naming a leader other than the killed node, that leader, term) or Nones."""
        for _, t_end, leader, term in self.samples:
            if t_end >= t0 and leader not in (None, "?", killed):
                return (t_end - t0) * 1000, leader, term
        return None, None, None

    def first_no_leader(self, t0, killed):
        for _, t_end, leader, _ in self.samples:
            if t_end >= t0 and leader != killed and leader != "?":
                return (t_end - t0) * 1000
        return None


RAFT_EVENTS = {  # DotNext's Raft log event ids (at Debug/Information) counted per trial in the survivors' logs
    "candidacies": "RaftCluster[74002]",  # "Transition to Candidate state has started": election timeout hit, pre-vote begins
    "elections": "RaftCluster[74003]",  # "... has completed": pre-vote passed, a real election (new term) started
    "votes_rejected": "RaftCluster[74009]",
    "replication_retries": "RaftCluster[74015]",  # "Replication of X is failed. Retry replication from entry N"
}


# What the slow-trial report shows of the survivors' logs: the election, leader changes, failed replication rounds.
ELECTION_LINES = tuple(f"RaftCluster[{i}]" for i in (74002, 74003, 74004, 74005, 74006, 74007, 74009, 74015, 74017)) + (
    "ClusterNode[5003]", "LeaderDuties[2111]")


# Milestones of a failover in the survivors' logs, as ms after the kill (log timestamps: UTC, millisecond resolution).
STAGES = (
    ("first_timeout", "RaftCluster[74002]", "any"),  # a survivor's election timeout fired (pre-vote starts)
    ("leader", "RaftCluster[74005]", "leader"),  # "Transition to Leader state has completed" on the new leader
    ("leader_committed", "LeaderDuties[2111]", "leader"),  # the new leader committed in its term (its no-op entry)
)


def log_time(line):
    """The UTC timestamp (seconds since the epoch) a node log line starts with, or None."""
    try:
        return dt.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return None


def analyse_logs(survivors, start, end, wall0, new_leader):
    """Counts of Raft events (RAFT_EVENTS) and the STAGES, from the survivors' log lines written during the trial."""
    counts = dict.fromkeys(RAFT_EVENTS, 0)
    stages = dict.fromkeys(name for name, _, _ in STAGES)
    for n in survivors:
        text = read_from(n.stdout, start[n.id], end[n.id])
        for key, marker in RAFT_EVENTS.items():
            counts[key] += text.count(marker)
        for line in text.splitlines():
            for name, marker, where in STAGES:
                if marker in line and (where == "any" or n.id == new_leader) and (t := log_time(line)) is not None:
                    ms = round((t - wall0) * 1000)
                    if stages[name] is None or ms < stages[name]:
                        stages[name] = ms
    return counts, stages


def wait_quiet(cluster, limit, threshold):
    """Up to limit seconds, until one second passes with less than threshold % of a core busy outside the nodes and this
    script (someone else's work). Returns that last second's figures."""
    deadline = time.monotonic() + limit
    while True:
        w = Window([n.proc.pid for n in cluster.nodes])
        time.sleep(1.0)
        r = w.end()
        if r["other_cpu_pct"] < threshold or time.monotonic() >= deadline:
            return r


def failover_trial(cluster, args, index, weight):
    leader_id, doc, _ = cluster.wait_converged()
    time.sleep(args.settle)
    quiet = wait_quiet(cluster, args.quiet_wait, args.quiet_threshold) if args.quiet_wait > 0 else None
    # The leader may have changed while settling (it should not): check again.
    leader_id, doc, _ = cluster.wait_converged()
    leader = cluster.by_id[leader_id]
    survivors = [n for n in cluster.nodes if n is not leader]
    target = survivors[index % 2]
    term_before = doc.get("term")

    pollers = [LeaderPoller(cluster, s, args.poll_interval / 1000, args.poll_path, time.perf_counter() + 60) for s in survivors]
    for p in pollers:
        p.start()
    for p in pollers:
        p.ready.wait(5)
    client = cluster.admin(target, timeout=args.client_timeout)
    try:
        client.request("GET", "/healthz")  # the connection is open before t0
    except (OSError, http.client.HTTPException):
        client.close()
    log_offsets = {n.id: os.path.getsize(n.stdout) for n in cluster.nodes}
    window = Window([s.proc.pid for s in survivors])
    wall0 = time.time()
    t0 = cluster.fault(leader)
    try:
        attempts, t1 = failover_attempts(client, args, t0, weight)
    finally:
        # The node stays cut off or frozen until the change is through (or the limit): then back, whatever happened.
        fault_s = round(time.perf_counter() - t0, 3)
        if not cluster.restarts:
            cluster.end_fault(leader)
    client.close()
    time.sleep(0.2)  # let the pollers see the second survivor learn the leader too
    for p in pollers:
        p.stop.set()
    for p in pollers:
        p.join(5)
    load = window.end()
    log_at_end = {n.id: os.path.getsize(n.stdout) for n in cluster.nodes}
    if cluster.restarts:
        cluster.end_fault(leader)

    per_survivor = {}
    for s, p in zip(survivors, pollers):
        ms, new_leader, term = p.first_new_leader(t0, leader_id)
        per_survivor[s.id] = {"new_leader_ms": None if ms is None else round(ms, 2), "new_leader": new_leader, "term": term,
                              "leader_unset_ms": None if p.first_no_leader(t0, leader_id) is None else round(p.first_no_leader(t0, leader_id), 2),
                              "polls": len(p.samples)}
    known = [v["new_leader_ms"] for v in per_survivor.values() if v["new_leader_ms"] is not None]
    new_leaders = {v["new_leader"] for v in per_survivor.values() if v["new_leader"]}
    counts, stages = analyse_logs(survivors, log_offsets, log_at_end, wall0, sorted(new_leaders)[0] if len(new_leaders) == 1 else None)
    trial = {
        "trial": index + 1,
        "utc_kill": utc_iso(wall0),
        "killed": leader_id,
        "fault": args.mode,
        "fault_s": fault_s,
        "term_before": term_before,
        "target": target.id,
        "failover_ms": None if t1 is None else round((t1 - t0) * 1000, 2),
        "election_ms": round(min(known), 2) if known else None,
        "election_all_ms": round(max(known), 2) if len(known) == len(survivors) else None,
        "new_leader": sorted(new_leaders)[0] if len(new_leaders) == 1 else (sorted(new_leaders) or None),
        "new_term": max((v["term"] or 0) for v in per_survivor.values()) or None,
        "raft": counts,
        "stages_ms": stages,
        "target_led": target.id in new_leaders,
        "attempts": len(attempts),
        "attempt_log": attempts,
        "survivors": per_survivor,
        "cpu": load,
        "quiet_before": quiet,
        "log_offsets": log_offsets,
        "log_end": log_at_end,
    }

    # Back to three: restart a killed node on its data directory (the others are back already); the next trial waits
    # until it caught up.
    r0 = time.monotonic()
    if cluster.restarts:
        cluster.start([leader], f"after trial {index + 1}")
    _, _, waited = cluster.wait_converged()
    trial["restart_s"] = round(time.monotonic() - r0, 2)
    if t1 is None:
        log(f"trial {index + 1}: no 200 within {args.failover_limit}s / {args.max_attempts} tries: {attempts[-3:]}")
    return trial


def failover_attempts(client, args, t0, weight):
    """Weight changes through the survivor until one answers 200; returns (attempts, perf_counter time of the 200 or None)."""
    attempts = []
    deadline = t0 + args.failover_limit
    while len(attempts) < args.max_attempts and time.perf_counter() < deadline:
        a0 = time.perf_counter()
        try:
            status, body = client.set_weight(weight)
            outcome = status
        except (OSError, http.client.HTTPException) as e:
            status, body, outcome = None, None, type(e).__name__
        a1 = time.perf_counter()
        attempts.append({"start_ms": round((a0 - t0) * 1000, 2), "end_ms": round((a1 - t0) * 1000, 2), "outcome": outcome,
                         "detail": (body.get("error") or body.get("title") or body.get("detail")) if isinstance(body, dict) and status != 200 else None})
        if status == 200:
            return attempts, a1
        time.sleep(args.retry_pause / 1000)
    return attempts, None


# ---------------------------------------------------------------------------------------------------------------------
# Commit latency


def commit_series(cluster, node, count, warmup, first_weight):
    admin = cluster.admin(node, timeout=10.0)
    latencies, errors = [], []
    weight = first_weight
    window = None
    try:
        for i in range(warmup + count):
            if i == warmup:
                window = Window([n.proc.pid for n in cluster.nodes])
            weight = weight % 200 + 1  # 1..200, never the same twice in a row
            a0 = time.perf_counter()
            try:
                status, body = admin.set_weight(weight)
            except (OSError, http.client.HTTPException) as e:
                status, body = None, type(e).__name__
            ms = (time.perf_counter() - a0) * 1000
            if i < warmup:
                continue
            latencies.append(ms)
            if status != 200:
                errors.append({"i": i - warmup, "status": status, "body": str(body)[:300], "ms": round(ms, 2)})
    finally:
        admin.close()
    return latencies, errors, window.end() if window else None, weight


# ---------------------------------------------------------------------------------------------------------------------
# Report


def fmt(v, digits=0):
    return "–" if v is None else f"{v:,.{digits}f}"


def terms(t):
    return None if not t["new_term"] or t["term_before"] is None else t["new_term"] - t["term_before"]


def slow_trials(trials):
    done = [t["failover_ms"] for t in trials if t["failover_ms"] is not None]
    if not done:
        return trials
    median = statistics.median(done)
    return [t for t in trials if t["failover_ms"] is None or t["failover_ms"] > max(1.4 * median, median + 100)]


FAULTS = {
    "loopback": "kill -9 of the leader on loopback",
    "sigkill": "kill -9 of the leader, its host still up (netns lab)",
    "linkdown": "the leader's link down: nothing answers (netns lab)",
    "sigstop": "SIGSTOP of the leader until the change is through (netns lab)",
}


def election_label(a, dash="–"):
    """'100–200 ms', or 'default' when the configuration leaves the election timeouts to the product."""
    get = a.get if isinstance(a, dict) else lambda k: getattr(a, k)
    return "default" if get("election_min") is None else f"{get('election_min')}{dash}{get('election_max')}ms"


def summarize(result):
    a = result["settings"]
    fault = FAULTS[a.get("mode", "loopback")]
    f, e, ea = result["failover"]["failover_ms"], result["failover"]["election_ms"], result["failover"]["election_all_ms"]
    cl, cf = result["commits"]["via_leader"]["ms"], result["commits"]["via_follower"]["ms"]
    lines = [
        f"## Cluster failover and commit latency — {a.get('mode', 'loopback')}, election timeout {election_label(a)}",
        "",
        f"{result['utc_start']} · {result['machine']['cpus']} CPUs · loadavg before {result['load_before']['loadavg']} · "
        f"build {result['build']}",
        "",
        f"Failover: {result['failover']['trials']} trials, {result['failover']['failed']} without a 200 "
        f"({fault} → 200 on a survivor; election: → a survivor names a new leader)",
        "",
        "| measure | n | median ms | p90 ms | max ms | min ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, s in (("failover (fault → change committed)", f), ("election (fault → first survivor names new leader)", e),
                    ("election (fault → both survivors name it)", ea)):
        if s:
            lines.append(f"| {name} | {s['n']} | {fmt(s['median'])} | {fmt(s['p90'])} | {fmt(s['max'])} | {fmt(s['min'])} |")
    trials = result["failover"]["per_trial"]
    if any(t["stages_ms"]["leader"] is not None for t in trials):
        one = [t for t in trials if terms(t) == 1]
        lines += ["", f"Where the time goes (medians from the survivors' logs; {len(one)} of {len(trials)} trials needed one term, "
                      f"{len(trials) - len(one)} more than one: split votes):", "",
                  "| ms after the fault | one-term trials | all trials |", "|---|---:|---:|"]
        for name, label in (("first_timeout", "a survivor's election timeout fires"), ("leader", "the new leader is elected"),
                            ("leader_committed", "it has committed its first entry (no-op) of the term"),
                            (None, "the change is committed and applied (200)")):
            def med(ts):
                v = [t["failover_ms"] if name is None else t["stages_ms"][name] for t in ts]
                v = [x for x in v if x is not None]
                return fmt(statistics.median(v)) if v else "–"
            lines.append(f"| {label} | {med(one)} | {med(trials)} |")
    if result.get("nudges"):
        lines += ["", f"While waiting for the cluster to converge, {len(result['nudges'])} time(s) every node reported lag > 0 at the "
                      "same applied index for 15 s; one extra change was sent each time (result.json: nudges)."]
    if result.get("error"):
        lines += ["", f"**The run stopped early:** {result['error']}"]
    if a["commits"]:
        lines += [
            "",
            f"Commit latency: sequential weight changes, {a['commits']} each (after {a['commit_warmup']} unmeasured)",
            "",
            "| sent to | n | median ms | p90 ms | p99 ms | max ms | errors |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, key, s in (("leader", "via_leader", cl), ("follower", "via_follower", cf)):
            if s:
                lines.append(f"| {name} | {s['n']} | {fmt(s['median'], 1)} | {fmt(s['p90'], 1)} | {fmt(s['p99'], 1)} | {fmt(s['max'], 1)} | "
                             f"{len(result['commits'][key]['errors'])} |")
    lines += ["", "Per trial:", "",
              "| # | leader hit | new leader | target | failover ms | election ms (first / both) | terms | candidacies / elections | "
              "tries | machine busy % | other % | loadavg 1m |",
              "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for t in result["failover"]["per_trial"]:
        lines.append(f"| {t['trial']} | {t['killed']} | {t['new_leader']} | {t['target']} | {fmt(t['failover_ms'])} | "
                     f"{fmt(t['election_ms'])} / {fmt(t['election_all_ms'])} | {terms(t)} | "
                     f"{t['raft']['candidacies']} / {t['raft']['elections']} | {t['attempts']} | {t['cpu']['machine_busy_pct']} | "
                     f"{t['cpu'].get('other_cpu_pct')} | {t['cpu']['loadavg'][0]} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------------


def main():
    global _tmp, _keep_tmp
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--dll", default=os.path.join(root, "src/Switchman/bin/Release/net10.0/switchman.dll"), help="switchman.dll to run")
    ap.add_argument("--mode", choices=("loopback",) + NETNS_MODES, default="loopback",
                    help="loopback: SIGKILL of the leader on loopback; linkdown, sigkill, sigstop: the fault, on the network-namespace "
                         "lab named by --lab (bash bench/cluster.sh --mode … builds it)")
    ap.add_argument("--lab", default="", help="the lab's namespace prefix (netns modes; set by bench/cluster.sh)")
    ap.add_argument("--trials", type=int, default=None, help="failover trials (20 on loopback, 10 in the netns modes)")
    ap.add_argument("--commits", type=int, default=None,
                    help="measured commits through the leader, and as many through a follower (300 on loopback, 0 in the netns modes)")
    ap.add_argument("--commit-warmup", type=int, default=50, help="unmeasured commits before each series")
    ap.add_argument("--election-min", type=int, default=None,
                    help="cluster.election_timeout_min, ms (≥ 50); default 100 on loopback, left to the product's default in the netns modes")
    ap.add_argument("--election-max", type=int, default=None, help="cluster.election_timeout_max, ms (> min); default 200 on loopback")
    ap.add_argument("--request-timeout", type=int, default=0, help="cluster.request_timeout, ms (0: the product default, 1 s)")
    ap.add_argument("--client-timeout", type=float, default=1.0, help="seconds each failover try may take")
    ap.add_argument("--retry-pause", type=float, default=5.0, help="ms between failover tries")
    ap.add_argument("--max-attempts", type=int, default=200, help="failover tries per trial at most")
    ap.add_argument("--failover-limit", type=float, default=20.0, help="seconds a trial may take to get a 200")
    ap.add_argument("--poll-interval", type=float, default=10.0, help="ms between leader polls of each survivor")
    ap.add_argument("--poll-path", default="/api/v1/status",
                    help="what the pollers GET (cluster.leader of /api/v1/status: the node's own view, no calls to other members; "
                         "or /api/v1/cluster, which also asks every member for its report)")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait after the cluster converged, before each kill")
    ap.add_argument("--quiet-wait", type=float, default=0.0,
                    help="then up to this many seconds for the machine to be quiet (for shared machines; 0: do not wait)")
    ap.add_argument("--quiet-threshold", type=float, default=25.0, help="quiet: less than this %% of one core busy outside the cluster")
    ap.add_argument("--raft-log-level", default="Debug",
                    help="log level of DotNext's Raft in the node logs (elections, votes, pre-votes); '' for the product's (Error)")
    ap.add_argument("--out", help="result directory (default bench/results/cluster-<UTC>-<min>-<max>ms)")
    ap.add_argument("--label", default="", help="free text stored with the result (e.g. the build)")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (configs, data dirs, logs)")
    args = ap.parse_args()
    netns = args.mode in NETNS_MODES
    if netns != bool(args.lab):
        ap.error("--lab goes with --mode linkdown|sigkill|sigstop, and only with them (run bash bench/cluster.sh --mode …)")
    if args.trials is None:
        args.trials = 10 if netns else 20
    if args.commits is None:
        args.commits = 0 if netns else 300
    if not netns and args.election_min is None and args.election_max is None:
        args.election_min, args.election_max = 100, 200
    if (args.election_min is None) != (args.election_max is None):
        ap.error("give both --election-min and --election-max, or neither")
    if args.election_min is not None and (args.election_min < 50 or args.election_max <= args.election_min):
        ap.error("need 50 ≤ --election-min < --election-max (the configuration validator's rule)")
    if args.trials < 0 or args.commits < 0 or args.trials > 1000 or args.commits > 100000:
        ap.error("--trials 0..1000, --commits 0..100000")
    if not os.path.isfile(args.dll):
        ap.error(f"{args.dll} not found (dotnet build -c Release src/Switchman, or bash bench/cluster.sh)")

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or os.path.join(root, "bench", "results", f"cluster-{stamp}-{args.mode}-{election_label(args, '-')}")
    _keep_tmp = args.keep_tmp
    atexit.register(cleanup)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)

    _tmp = tempfile.mkdtemp(prefix="switchman-cluster-bench.")
    try:
        # A private copy of the build: a rebuild elsewhere during the run cannot change what a restarted node runs.
        bin_dir = os.path.join(_tmp, "bin")
        shutil.copytree(os.path.dirname(os.path.abspath(args.dll)), bin_dir)
        build = args.label or os.path.abspath(args.dll)
        args.dll = os.path.join(bin_dir, os.path.basename(args.dll))
        cluster = Cluster(args, _tmp)
        cluster.check_config()

        result = {
            "utc_start": utc_iso(),
            "build": build,
            "settings": {k: v for k, v in vars(args).items() if k not in ("out", "keep_tmp")},
            "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                        "cpu_model": cpu_model()},
            "load_before": {"loadavg": [round(x, 2) for x in os.getloadavg()], "uptime": uptime_line()},
        }
        log(f"temp dir {_tmp}; mode {args.mode}; election timeout {election_label(args)}; loadavg {result['load_before']['loadavg']}")
        cluster.start(cluster.nodes, "initial")
        leader, _, waited = cluster.wait_converged()
        log(f"3 nodes up, leader {leader} after {waited:.1f}s")

        trials, commits, error = [], {}, None
        failover_load = None
        try:
            # Warm up every node's admin and replication paths (JIT) before anything is measured.
            weight = 1
            for n in cluster.nodes:
                _, _, _, weight = commit_series(cluster, n, 0, args.commit_warmup, weight)

            phase = Window(None)  # the node processes change with each restart
            for i in range(args.trials):
                weight = weight % 200 + 1
                t = failover_trial(cluster, args, i, weight)
                trials.append(t)
                log(f"trial {i + 1}/{args.trials}: killed {t['killed']}, new leader {t['new_leader']}, failover {fmt(t['failover_ms'])} ms, "
                    f"election {fmt(t['election_ms'])}/{fmt(t['election_all_ms'])} ms, terms {terms(t)}, tries {t['attempts']}, "
                    f"other load {t['cpu']['other_cpu_pct']}%, restart+catch-up {t['restart_s']} s")
            failover_load = phase.end() if args.trials else None

            if args.commits:
                leader_id, _, _ = cluster.wait_converged()
                time.sleep(args.settle)
                follower = next(n for n in cluster.nodes if n.id != leader_id)
                for key, node in (("via_leader", cluster.by_id[leader_id]), ("via_follower", follower)):
                    lat, errs, load, weight = commit_series(cluster, node, args.commits, args.commit_warmup, weight)
                    commits[key] = {"node": node.id, "ms": stats(lat), "errors": errs, "cpu": load, "samples_ms": [round(x, 3) for x in lat]}
                    s = commits[key]["ms"]
                    log(f"{args.commits} commits via {key[4:]} {node.id}: median {s['median']:.1f} ms, p99 {s['p99']:.1f} ms, "
                        f"max {s['max']:.1f} ms, errors {len(errs)}, other load {load['other_cpu_pct']}%")
                after, _, _ = cluster.wait_converged()
                if after != leader_id:
                    log(f"note: the leader changed during the commit series ({leader_id} → {after})")
                    commits["leader_changed"] = [leader_id, after]
        except Exception as e:  # keep what was measured, and the logs, then fail
            error = f"{type(e).__name__}: {e}"
            log(f"error: {error}")

        def series(key):
            return stats([t[key] for t in trials if t[key] is not None])

        result["failover"] = {
            "trials": len(trials),
            "failed": sum(1 for t in trials if t["failover_ms"] is None),
            "failover_ms": series("failover_ms"),
            "election_ms": series("election_ms"),
            "election_all_ms": series("election_all_ms"),
            "cpu": failover_load,
            "per_trial": trials,
        }
        for key in ("via_leader", "via_follower"):
            commits.setdefault(key, {"node": None, "ms": None, "errors": [], "cpu": None, "samples_ms": []})
        result["commits"] = commits
        result["nudges"] = cluster.nudges
        result["error"] = error
        result["load_after"] = {"loadavg": [round(x, 2) for x in os.getloadavg()], "uptime": uptime_line()}
        result["utc_end"] = utc_iso()
        result["slow_trials"] = [t["trial"] for t in slow_trials(trials)]

        write_results(out, result, cluster, trials)
        print(summarize(result))
        for t in slow_trials(trials):
            shown = os.path.relpath(out) if os.path.abspath(out).startswith(os.getcwd() + os.sep) else out
            print(f"--- slow trial {t['trial']} ({fmt(t['failover_ms'])} ms, {terms(t)} term(s)): the survivors' election lines "
                  f"(whole logs in {shown}/logs/)")
            for node in cluster.nodes:
                if node.id == t["killed"]:
                    continue
                text = read_from(node.stdout, t["log_offsets"][node.id], t["log_end"][node.id])
                for line in text.splitlines():
                    if any(k in line for k in ELECTION_LINES):
                        print(f"  {node.id}: {line[:200]}")
        log(f"results in {out}")
        if error:
            raise SystemExit(f"failed: {error} (partial results and the node logs in {out})")
    finally:
        cleanup()


def write_results(out, result, cluster, trials):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(summarize(result))
    with open(os.path.join(out, "trials.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["trial", "utc_kill", "killed", "new_leader", "target", "target_led", "failover_ms", "election_ms", "election_all_ms",
                    "first_timeout_ms", "leader_ms", "leader_committed_ms",
                    "attempts", "term_before", "new_term", "candidacies", "elections", "votes_rejected", "replication_retries",
                    "machine_busy_pct", "other_cpu_pct", "loadavg1", "restart_s"])
        for t in trials:
            w.writerow([t["trial"], t["utc_kill"], t["killed"], t["new_leader"], t["target"], t["target_led"], t["failover_ms"],
                        t["election_ms"], t["election_all_ms"],
                        t["stages_ms"]["first_timeout"], t["stages_ms"]["leader"], t["stages_ms"]["leader_committed"],
                        t["attempts"], t["term_before"], t["new_term"],
                        t["raft"]["candidacies"], t["raft"]["elections"], t["raft"]["votes_rejected"], t["raft"]["replication_retries"],
                        t["cpu"]["machine_busy_pct"], t["cpu"]["other_cpu_pct"], t["cpu"]["loadavg"][0], t["restart_s"]])
    with open(os.path.join(out, "commits.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["via", "node", "i", "ms"])
        for key in ("via_leader", "via_follower"):
            c = result["commits"].get(key) or {}
            for i, ms in enumerate(c.get("samples_ms") or []):
                w.writerow([key[4:], c["node"], i, ms])
    copy_logs(cluster, out)


def copy_logs(cluster, out, extra=()):
    """Every node's output and configuration (and the extra files) into out/logs/; returns that directory."""
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    for path in [p for n in cluster.nodes for p in (n.stdout, n.stderr, n.config)] + list(extra):
        if os.path.exists(path):
            shutil.copy(path, logs)
    return logs


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def uptime_line():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
