#!/usr/bin/env python3
"""bench/failover.py — one VIP failover trial as a client sees it, and the helpers around it, for bench/failover.sh.

`holders`, `trial` and `warm` run inside the lab's client namespace (`ip netns exec <client> python3 ...`); `quiet`,
`steady` and `summary` anywhere.

  holders  Watches who holds the VIP (the address on eth0, link up) in the given namespaces until one node has held it
           alone, without a break, for --stable seconds; prints that node's name (bounded by --limit: exit code 1).

  trial    Sends GET http://VIP:PORT/PATH every --interval seconds (an open loop: request i leaves at start + i·interval,
           whatever happened to the others), each on a new connection and given --timeout seconds in all (connect,
           send, whole answer). --pre seconds in, it injects the fault on the holder's processes (PIDs given by the
           caller, which started them), and it stops once the VIP has answered without a failure for --hold seconds
           (at least --min-post, at most --max-post seconds after the fault). Meanwhile it reads every lb namespace's
           addresses and link state every --sample-every seconds over netlink, to see the VIP on two nodes at once.
           Prints one JSON object (see `summary` in cmd_trial); --detail FILE also writes every request and sample,
           --csv FILE appends one row. If the VIP is no longer on --holder alone when the fault is due, it injects
           nothing and exits with code 3 (the caller repeats the trial).

  warm     GETs to each host's own address, so that a standby has served before it takes over (a diagnosis).
  quiet    Waits (bounded) until the CPU used outside the lab's namespaces is low, for shared machines.
  steady   From `ip -ts monitor address` logs: VIP losses and double holders outside each product's trials.
  summary  The table of a failover.sh CSV, per product and fault (--markdown for docs).

Faults (--fault):
  kill      SIGSTOP to every PID, then SIGKILL to every PID. Stopping first makes the kill one instant for all of
            them: a keepalived parent killed before its VRRP child would, through the child's parent-death signal,
            make the child shut down cleanly (priority 0 advert, VIP removed), and a child killed first would be
            respawned by the parent. Nothing gets to clean up: the VIP stays configured on the dead node's eth0.
  poweroff  SIGSTOP to every PID, then --link-cmd (the node's bridge port down): nothing on the node runs, nothing
            reaches it, nothing leaves it. The caller kills the frozen processes after the trial.
  stop      SIGTERM to --pids; once they have all exited, SIGTERM to --then-pids (keepalived first, then HAProxy, as an
            operator's ordered shutdown does; Switchman is one process).

The gap is the longest interval between two consecutive successful answers (by the time each answer was complete)
that ends after the fault: from the last answer before the outage to the first answer after it. In steady state that
interval is about one --interval. Standard library only (netlink and setns through socket and ctypes).
"""

import argparse
import ctypes
import datetime
import json
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

CLONE_NEWNET = 0x40000000
NLMSG_DONE, NLMSG_ERROR = 3, 2
RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_GETADDR = 16, 18, 20, 22
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
IFLA_IFNAME, IFA_LOCAL, IFA_ADDRESS = 3, 2, 1
IFF_UP, IFF_LOWER_UP = 0x1, 0x10000

_libc = ctypes.CDLL(None, use_errno=True)


def netlink_socket_in(namespace):
    """A NETLINK_ROUTE socket that lives in the named network namespace (a socket keeps the namespace it was made in)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {namespace}")
        try:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
            sock.bind((0, 0))
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back into the client namespace")
    finally:
        os.close(own)
        os.close(target)
    return sock


class Netns:
    """One lb node: is the VIP on its eth0, and is eth0's link up (carrier: its bridge port is up)?"""

    def __init__(self, name, namespace, device, vip):
        self.name = name
        self.sock = netlink_socket_in(namespace)
        self.device = device.encode()
        self.vip = socket.inet_aton(vip)
        self.seq = 0

    def _dump(self, msg_type, payload):
        self.seq += 1
        header = struct.pack("=IHHII", 16 + len(payload), msg_type, NLM_F_REQUEST | NLM_F_DUMP, self.seq, 0)
        self.sock.send(header + payload)
        messages = []
        while True:
            data = self.sock.recv(65536)
            offset = 0
            while offset + 16 <= len(data):
                length, kind, _flags, seq, _pid = struct.unpack_from("=IHHII", data, offset)
                if length < 16:
                    return messages
                if seq == self.seq:
                    if kind == NLMSG_DONE:
                        return messages
                    if kind == NLMSG_ERROR:
                        raise OSError(f"netlink error in {self.name}")
                    messages.append((kind, data[offset + 16:offset + length]))
                offset += (length + 3) & ~3

    @staticmethod
    def _attributes(body, offset):
        while offset + 4 <= len(body):
            length, kind = struct.unpack_from("=HH", body, offset)
            if length < 4:
                return
            yield kind, body[offset + 4:offset + length]
            offset += (length + 3) & ~3

    def state(self):
        """(holds the VIP on eth0, eth0 up with carrier)."""
        index, link_up = None, False
        for kind, body in self._dump(RTM_GETLINK, struct.pack("=BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0)):
            if kind != RTM_NEWLINK:
                continue
            _family, _type, ifindex, flags, _change = struct.unpack_from("=BxHiII", body)
            for attr, value in self._attributes(body, 16):
                if attr == IFLA_IFNAME and value.rstrip(b"\0") == self.device:
                    index, link_up = ifindex, (flags & IFF_UP) != 0 and (flags & IFF_LOWER_UP) != 0
        holds = False
        for kind, body in self._dump(RTM_GETADDR, struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0)):
            if kind != RTM_NEWADDR:
                continue
            _family, _prefix, _flags, _scope, ifindex = struct.unpack_from("=BBBBI", body)
            if ifindex != index:
                continue
            for attr, value in self._attributes(body, 8):
                if attr in (IFA_LOCAL, IFA_ADDRESS) and value == self.vip:
                    holds = True
        return holds, link_up


def open_nodes(args):
    names = args.names.split(",")
    namespaces = args.namespaces.split(",")
    if len(names) != len(namespaces):
        sys.exit("--names and --namespaces differ in length")
    return [Netns(n, ns, args.device, args.vip) for n, ns in zip(names, namespaces)]


def holders_up(nodes):
    """Names of the nodes whose eth0 has the VIP and is up; and of those that have it on a downed link."""
    up, down = [], []
    for node in nodes:
        holds, link_up = node.state()
        if holds:
            (up if link_up else down).append(node.name)
    return up, down


# ---------------------------------------------------------------------------------------------------------------------
# CPU outside the lab: the machine is shared, and a busy machine delays elections, adverts and announcements alike


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(lab_prefix):
    """(monotonic time, busy ticks of the whole machine, {pid: utime+stime} of every process in the lab's namespaces)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
    inodes = set()
    if lab_prefix:
        for name in os.listdir("/run/netns"):
            if name.startswith(lab_prefix):
                try:
                    inodes.add(os.stat(f"/run/netns/{name}").st_ino)
                except OSError:
                    pass
    ticks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/net").st_ino not in inodes:
                continue
            with open(f"/proc/{entry}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            ticks[int(entry)] = int(rest[11]) + int(rest[12])
        except (OSError, IndexError, ValueError):
            continue
    return time.monotonic(), busy, ticks


def other_load(before, after):
    """(busy %, outside-the-lab %) of one core between two snapshots. A process that ended in between (a killed node)
    counts as outside for what it used in the window: little, next to a build."""
    (t1, busy1, ticks1), (t2, busy2, ticks2) = before, after
    lab = sum(ticks2[p] - ticks1[p] for p in ticks1.keys() & ticks2.keys())
    seconds = max(t2 - t1, 1e-3)
    busy = (busy2 - busy1) / CLK_TCK / seconds * 100
    return round(busy), round(max(0.0, (busy2 - busy1 - lab) / CLK_TCK / seconds * 100))


def cmd_quiet(args):
    """Waits until the CPU used outside the lab over one second is below --below % of a core (bounded by --limit)."""
    deadline = time.monotonic() + args.limit
    while True:
        before = cpu_snapshot(args.lab_prefix)
        time.sleep(1.0)
        _busy, other = other_load(before, cpu_snapshot(args.lab_prefix))
        if other < args.below:
            print(other)
            return 0
        if time.monotonic() >= deadline:
            print(other)
            return 1


# ---------------------------------------------------------------------------------------------------------------------
# holders


def cmd_holders(args):
    nodes = open_nodes(args)
    deadline = time.monotonic() + args.limit
    current, since = None, None
    while time.monotonic() < deadline:
        up, _down = holders_up(nodes)
        holder = up[0] if len(up) == 1 else None
        now = time.monotonic()
        if holder != current:
            current, since = holder, now
        if current is not None and now - since >= args.stable:
            print(current)
            return 0
        time.sleep(args.sample_every)
    print(f"no single stable holder within {args.limit}s (last seen: {current or 'none or several'})", file=sys.stderr)
    return 1


# ---------------------------------------------------------------------------------------------------------------------
# trial


def http_get(host, port, path, timeout):
    """One GET on a new connection; (ok, what): ok is a complete 200 within timeout, what says why not."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
    deadline = time.monotonic() + timeout
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((host, port))
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                return False, "closed before the headers"
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = lines[0].split(b" ", 2)
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(b":")
            headers[key.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"-1"))
        chunked = headers.get(b"transfer-encoding", b"").lower() == b"chunked"
        while True:
            if length >= 0 and len(body) >= length:
                break
            if chunked and body.endswith(b"0\r\n\r\n"):
                break
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                if length < 0 and not chunked:
                    break
                return False, "closed before the end of the body"
            body += chunk
        if time.monotonic() > deadline:
            return False, "timeout"
        if len(status) < 2 or status[1] != b"200":
            return False, f"HTTP {status[1].decode(errors='replace') if len(status) > 1 else '?'}"
        return True, "ok"
    except socket.timeout:
        return False, "timeout"
    except ConnectionRefusedError:
        return False, "refused"
    except ConnectionResetError:
        return False, "reset"
    except OSError as e:
        return False, type(e).__name__ + (f" {e.errno}" if e.errno else "")
    finally:
        sock.close()


def proc_state(pid):
    """The process's state letter from /proc (Z: exited, waiting for its parent to reap it), or None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def run_fault(args, clock, marks):
    """The fault, timed on the trial's clock: marks['t0'] is the moment the first signal is sent."""
    pids = [int(p) for p in args.pids.split(",") if p]
    then = [int(p) for p in (args.then_pids or "").split(",") if p]
    marks["t0"] = clock()
    marks["t0_utc"] = time.time()
    if args.fault == "kill":
        signal_all(pids + then, signal.SIGSTOP)
        signal_all(pids + then, signal.SIGKILL)
    elif args.fault == "poweroff":
        signal_all(pids + then, signal.SIGSTOP)
        result = subprocess.run(args.link_cmd, shell=True, capture_output=True, text=True, timeout=10)
        if result.returncode != 0:
            marks["error"] = f"{args.link_cmd}: {result.stderr.strip()}"
        marks["link_down"] = clock()
    elif args.fault == "stop":
        signal_all(pids, signal.SIGTERM)
        deadline = time.monotonic() + args.stop_limit
        while time.monotonic() < deadline and any(proc_state(p) not in (None, "Z") for p in pids):
            time.sleep(0.002)
        marks["exited"] = clock()
        if any(proc_state(p) not in (None, "Z") for p in pids):
            marks["error"] = f"{pids} still running {args.stop_limit}s after SIGTERM"
        signal_all(then, signal.SIGTERM)
    marks["done"] = clock()


def lost_after_takeover(samples, t0, old):
    """How many times, after a host other than the faulted one took the VIP, no such host held it any more."""
    had, lost = False, 0
    for t, up, _down in samples:
        if t < t0:
            continue
        if any(n != old for n in up):
            had = True
        elif had:
            had, lost = False, lost + 1
    return lost


def cmd_trial(args):
    nodes = open_nodes(args)
    names = [n.name for n in nodes]
    if args.holder not in names:
        sys.exit(f"--holder {args.holder} is not one of {names}")
    cpu_before = cpu_snapshot(args.lab_prefix)
    start = time.monotonic()

    def clock():
        return time.monotonic() - start

    results = []  # (index, due, sent, done, ok, what), appended by the workers
    lock = threading.Lock()
    work = queue.Queue()
    marks = {}
    stop_sampling = threading.Event()
    samples = []  # (t, holders with link up, holders on a downed link)

    def worker():
        while True:
            item = work.get()
            if item is None:
                return
            index, due = item
            sent = clock()
            ok, what = http_get(args.vip, args.port, f"{args.path}?i={index}", args.timeout)
            done = clock()
            with lock:
                results.append((index, due, sent, done, ok, what))

    def sampler():
        while not stop_sampling.is_set():
            t = clock()
            up, down = holders_up(nodes)
            samples.append((t, up, down))
            rest = args.sample_every - (clock() - t)
            if rest > 0:
                stop_sampling.wait(rest)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()
    sampling = threading.Thread(target=sampler, daemon=True)
    sampling.start()

    faulter = None
    held = False  # stopped because the VIP answered again for --hold seconds (else: --max-post ran out)
    i = 0
    while True:
        due = i * args.interval
        now = clock()
        if faulter is None and due >= args.pre:
            # The VIP may have moved since the caller found its holder (a lease that lapsed): a fault on another host
            # would measure nothing. Then nothing is injected, and the caller repeats the trial.
            now_up = samples[-1][1] if samples else []
            if now_up != [args.holder]:
                for _ in threads:
                    work.put(None)
                stop_sampling.set()
                json.dump({"aborted": f"the VIP is on {now_up or 'no host'}, not on {args.holder}, at the moment of the fault"}, sys.stdout)
                print()
                return 3
            faulter = threading.Thread(target=run_fault, args=(args, clock, marks), daemon=True)
            faulter.start()
            while "t0" not in marks:
                time.sleep(0.0005)
        if "t0" in marks:
            t0 = marks["t0"]
            if now >= t0 + args.max_post:
                break
            if now >= t0 + args.min_post:
                with lock:
                    failed_done = [r[3] for r in results if not r[4] and r[2] >= t0 - args.timeout]
                    last_fail = max(failed_done, default=t0)
                    ok_since = sum(1 for r in results if r[4] and r[3] > last_fail)
                if now - last_fail >= args.hold and ok_since > 0:
                    held = True
                    break
        if due > now:
            time.sleep(due - now)
        work.put((i, due))
        i += 1
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join(timeout=args.timeout + 5)
    if faulter is not None:
        faulter.join(timeout=args.stop_limit + 10)
    stop_sampling.set()
    sampling.join(timeout=5)
    busy_pct, other_pct = other_load(cpu_before, cpu_snapshot(args.lab_prefix))

    t0 = marks["t0"]
    results.sort(key=lambda r: r[3])
    oks = [r[3] for r in results if r[4]]
    failures = [r for r in results if not r[4]]
    # The outage: the longest interval between consecutive answers that ends after the fault.
    gap, gap_from, gap_to = None, None, None
    for previous, current in zip(oks, oks[1:]):
        if current > t0 and (gap is None or current - previous > gap):
            gap, gap_from, gap_to = current - previous, previous, current
    if gap is None:  # no answer after the fault at all: the gap is at least this long
        last = max((o for o in oks if o <= t0), default=0.0)
        gap, gap_from, gap_to = clock() - last, last, None

    old = args.holder
    dual = sum(1 for _t, up, _d in samples if len(up) >= 2)
    dual_live = sum(1 for t, up, _d in samples if len([n for n in up if not (t >= t0 and n == old)]) >= 2)
    moved = next(((t, up) for t, up, _d in samples if t >= t0 and any(n != old for n in up)), None)
    lost_again = lost_after_takeover(samples, t0, old)
    released = next((t for t, up, down in samples if t >= t0 and old not in up and old not in down), None)
    intervals = [b[0] - a[0] for a, b in zip(samples, samples[1:])]
    reasons = {}
    for r in failures:
        reasons[r[5]] = reasons.get(r[5], 0) + 1

    def ms(x):
        return None if x is None else round(x * 1000, 1)

    summary = {
        "fault": args.fault,
        "t0_utc": datetime.datetime.fromtimestamp(marks["t0_utc"], datetime.timezone.utc).isoformat(timespec="milliseconds"),
        "holder": old,
        "new_holder": next((n for n in moved[1] if n != old), "") if moved else "",
        "recovered": held,
        "gap_ms": ms(gap),
        "last_ok_ms": ms(gap_from - t0) if gap_from is not None else None,  # negative: before the fault
        "first_ok_ms": ms(gap_to - t0) if gap_to is not None else None,
        "requests": len(results),
        "failed": len(failures),
        "failed_before_fault": sum(1 for r in failures if r[3] < t0),
        "failures": reasons,
        "vip_moved_ms": ms(moved[0] - t0) if moved else None,
        "vip_released_ms": ms(released - t0) if released is not None else None,
        "dual_samples": dual,
        "dual_live_samples": dual_live,
        "vip_lost_again": lost_again,
        "samples": len(samples),
        "max_sample_interval_ms": ms(max(intervals, default=0)),
        "max_send_delay_ms": ms(max((r[2] - r[1] for r in results), default=0)),
        "fault_ms": ms(marks.get("done", t0) - t0),
        "link_down_ms": ms(marks["link_down"] - t0) if "link_down" in marks else None,
        "stage1_exited_ms": ms(marks["exited"] - t0) if "exited" in marks else None,
        "fault_error": marks.get("error"),
        "post_s": round(clock() - t0, 2),
        "busy_pct": busy_pct,
        "other_pct": other_pct,
    }
    if args.detail:
        with open(args.detail, "w") as f:
            json.dump({
                "summary": summary, "t0": t0,
                "requests": [dict(zip(("i", "due", "sent", "done", "ok", "what"), r)) for r in sorted(results)],
                "samples": [{"t": round(t, 4), "up": up, "down": down} for t, up, down in samples],
            }, f)
    if args.csv:
        write_csv_row(args.csv, args, summary)
    json.dump(summary, sys.stdout)
    print()
    return 0


CSV_FIELDS = ["utc", "trial", "product", "fault", "holder", "new_holder", "recovered", "gap_ms", "last_ok_ms",
              "first_ok_ms", "vip_released_ms", "vip_moved_ms", "requests", "failed", "failed_before_fault", "failures",
              "dual_samples", "dual_live_samples", "vip_lost_again", "samples", "max_sample_interval_ms", "max_send_delay_ms", "fault_ms",
              "fault_error", "busy_pct", "other_pct", "repeats", "t0_utc"]


def write_csv_row(path, args, summary):
    import csv
    row = dict(summary, utc=summary["t0_utc"][:19] + "Z", trial=args.trial, product=args.product, repeats=args.repeats,
               failures=" ".join(f"{k}={n}" for k, n in sorted(summary["failures"].items())))
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in CSV_FIELDS})


# ---------------------------------------------------------------------------------------------------------------------
# warm


def cmd_warm(args):
    """--count GETs to each host's own address, one after the other: a standby's data plane has then served requests
    (for a .NET proxy: its request path compiled by the JIT, connections to the backends opened) before it takes over."""
    failed = 0
    for host in args.hosts.split(","):
        for i in range(args.count):
            ok, _what = http_get(host, args.port, f"{args.path}?warm={i}", 2.0)
            failed += 0 if ok else 1
    print(failed)
    return 0 if failed == 0 else 1


# ---------------------------------------------------------------------------------------------------------------------
# steady: what the VIP did while nobody faulted its product


def cmd_steady(args):
    """From `ip -ts monitor address` logs of every lb host and the busy periods (trial + restore + --grace s) of each
    product: how often, outside those periods, the VIP left every host (a loss) or was on two hosts at once, and for
    how long in all. All products run all the time, so each is idle while the others are tested."""
    import csv
    import re

    busy = {}
    for row in csv.reader(open(args.busy)):
        busy.setdefault(row[2], []).append((float(row[0]), float(row[1]) + args.grace))
    starts = [b[0] for spans in busy.values() for b in spans]
    if not starts:
        return 0
    begin, end = min(starts), max(b[1] for spans in busy.values() for b in spans) - args.grace
    line = re.compile(r"^\[(\S+)\] (Deleted )?\d+: eth0\s+inet (\S+) ")
    print(f"{'product':<16} {'idle s':>7} {'VIP losses':>10} {'unheld ms':>10} {'two holders ms':>14}   (outside trials and restores)")
    for spec in args.products.split(","):
        product, vip, hosts = spec.split(":")
        events = []
        for host in hosts.split("+"):
            try:
                for text in open(os.path.join(args.results, f"monitor-{host}.log")):
                    m = line.match(text)
                    if m and m.group(3).split("/")[0] == vip:
                        when = datetime.datetime.fromisoformat(m.group(1)).timestamp()  # local time, like ip's
                        events.append((when, host, m.group(2) is None))
            except OSError:
                continue
        events.sort()
        spans = sorted(busy.get(product, []))

        def idle(t):
            return begin <= t <= end and not any(a <= t <= b for a, b in spans)

        holders, idle_s, losses, unheld, dual = set(), 0.0, 0, 0.0, 0.0
        previous = begin
        for when, host, added in events + [(end, None, None)]:
            # Credit the interval [previous, when] to the state before this event, in its idle parts.
            t = max(previous, begin)
            while t < when and when > begin:
                step = min(when, t + 0.005)
                if idle(t):
                    idle_s += step - t
                    if not holders:
                        unheld += step - t
                    elif len(holders) > 1:
                        dual += step - t
                t = step
            previous = max(previous, when)
            if host is None:
                break
            had = bool(holders)
            (holders.add if added else holders.discard)(host)
            if had and not holders and idle(when):
                losses += 1
        print(f"{product:<16} {idle_s:>7.0f} {losses:>10} {unheld * 1000:>10.0f} {dual * 1000:>14.0f}")
    return 0


# ---------------------------------------------------------------------------------------------------------------------
# summary


def cmd_summary(args):
    """Median and max gap, failed requests and split-brain samples per product and fault, from failover.sh's CSV."""
    import csv
    import statistics

    rows = list(csv.DictReader(open(args.csv)))
    if not rows:
        print("no trials")
        return 1
    header = ["product", "fault", "trials", "gap median ms", "gap max ms", "gap min ms", "failed median", "failed max",
              "VIP moved median ms", "then answered median ms", "VIP lost again (trials)", "split-brain samples (trials)",
              "of which live", "not recovered", "other load %", "tries abandoned"]
    table = []
    for product in dict.fromkeys(r["product"] for r in rows):
        for fault in dict.fromkeys(r["fault"] for r in rows):
            mine = [r for r in rows if r["product"] == product and r["fault"] == fault]
            if not mine:
                continue
            gaps = [float(r["gap_ms"]) for r in mine]
            failed = [int(r["failed"]) for r in mine]
            moved = [float(r["vip_moved_ms"]) for r in mine if r["vip_moved_ms"]]
            dual = [int(r["dual_samples"]) for r in mine]
            live = [int(r["dual_live_samples"]) for r in mine]
            # From the VIP's arrival on another host to the client's first answer: announcement, the new holder's
            # first requests (a cold standby), and any loss of the VIP right after it was taken.
            answered = [float(r["first_ok_ms"]) - float(r["vip_moved_ms"]) for r in mine if r["first_ok_ms"] and r["vip_moved_ms"]]
            again = [int(r["vip_lost_again"]) for r in mine if r.get("vip_lost_again", "") != ""]
            table.append([
                product, fault, str(len(mine)), f"{statistics.median(gaps):.0f}", f"{max(gaps):.0f}", f"{min(gaps):.0f}",
                f"{statistics.median(failed):g}", str(max(failed)),
                f"{statistics.median(moved):.0f}" if moved else "-",
                f"{round(statistics.median(answered)) + 0}" if answered else "-",
                f"{sum(again)} ({sum(1 for a in again if a)})" if again else "-",
                f"{sum(dual)} ({sum(1 for d in dual if d)})", f"{sum(live)} ({sum(1 for d in live if d)})",
                str(sum(1 for r in mine if r["recovered"] != "True")),
                f"{statistics.median(float(r['other_pct']) for r in mine):.0f}",
                str(sum(int(r.get("repeats") or 0) for r in mine)),
            ])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" if i < 2 else "---:" for i in range(len(header))) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(header)]
        for row in [header] + table:
            print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--vip", required=True, help="the VIP's address, without prefix length")
        p.add_argument("--device", default="eth0")
        p.add_argument("--names", required=True, help="lb node names, comma-separated")
        p.add_argument("--namespaces", required=True, help="their network namespaces, same order")
        p.add_argument("--sample-every", type=float, default=0.01)

    h = sub.add_parser("holders", help="wait for one stable holder, print its name")
    common(h)
    h.add_argument("--stable", type=float, default=2.0)
    h.add_argument("--limit", type=float, default=60.0)

    t = sub.add_parser("trial", help="one trial: load, fault, gap")
    common(t)
    t.add_argument("--port", type=int, default=8080)
    t.add_argument("--path", default="/api/items")
    t.add_argument("--interval", type=float, default=0.01)
    t.add_argument("--timeout", type=float, default=0.2)
    t.add_argument("--workers", type=int, default=48)
    t.add_argument("--pre", type=float, default=1.0)
    t.add_argument("--min-post", type=float, default=2.0)
    t.add_argument("--hold", type=float, default=1.0)
    t.add_argument("--max-post", type=float, default=10.0)
    t.add_argument("--holder", required=True, help="the node that holds the VIP now")
    t.add_argument("--fault", choices=("kill", "poweroff", "stop"), required=True)
    t.add_argument("--pids", required=True, help="the holder's processes (comma-separated)")
    t.add_argument("--then-pids", default="", help="stop: SIGTERM to these once --pids have exited")
    t.add_argument("--link-cmd", default="", help="poweroff: the shell command that takes the node's link down")
    t.add_argument("--stop-limit", type=float, default=20.0)
    t.add_argument("--detail", default="", help="write every request and sample to this file (JSON)")
    t.add_argument("--csv", default="", help="append one row to this CSV file (header first if it is new)")
    t.add_argument("--trial", default="")
    t.add_argument("--product", default="")
    t.add_argument("--repeats", type=int, default=0, help="for the CSV: tries of this trial abandoned before it")
    t.add_argument("--lab-prefix", default="", help="namespaces whose processes are the lab's (for the CPU used outside it)")

    q = sub.add_parser("quiet", help="wait until the CPU used outside the lab is low")
    q.add_argument("--lab-prefix", required=True)
    q.add_argument("--below", type=float, default=30.0, help="%% of one core (30)")
    q.add_argument("--limit", type=float, default=30.0)

    w = sub.add_parser("warm", help="send requests to each host's own address")
    w.add_argument("--hosts", required=True)
    w.add_argument("--port", type=int, default=8080)
    w.add_argument("--path", default="/api/items")
    w.add_argument("--count", type=int, default=50)

    st = sub.add_parser("steady", help="VIP losses outside the trials, from ip monitor logs")
    st.add_argument("--results", required=True, help="the directory with monitor-<host>.log")
    st.add_argument("--busy", required=True, help="CSV: start,end (epoch s),product,... of each trial and its restore")
    st.add_argument("--products", required=True, help="product:vip:host+host+host,...")
    st.add_argument("--grace", type=float, default=5.0, help="seconds after a restore still counted as busy (5)")

    s = sub.add_parser("summary", help="the table of a failover.sh CSV")
    s.add_argument("csv")
    s.add_argument("--markdown", action="store_true")

    args = parser.parse_args()
    if args.command == "summary":
        return cmd_summary(args)
    if args.command == "steady":
        return cmd_steady(args)
    if args.command == "warm":
        return cmd_warm(args)
    if args.command == "quiet":
        return cmd_quiet(args)
    if args.command == "holders":
        return cmd_holders(args)
    return cmd_trial(args)


if __name__ == "__main__":
    sys.exit(main())
