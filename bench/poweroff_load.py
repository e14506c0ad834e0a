#!/usr/bin/env python3
"""bench/poweroff_load.py — a steady GET load with a per-request deadline, for bench/poweroff.sh.

Sends request i at start + i/rate (an open loop: a slow answer does not delay the next request), each on a
keep-alive connection of one of --workers threads, and gives each request --deadline seconds from the moment it
is sent (connect, send and the whole answer). Optionally runs --cut-cmd (a shell command: the power cut) at
--cut-at seconds. Bounded by --duration. Prints one JSON object on stdout:

  requests, ok, failed, failed_before_cut, failed_after_cut, timeouts, errors, statuses, servers_before_cut,
  servers_after_cut, latency_ms (p50, p99, max), max_send_delay_ms, cut_at_s, first_failures.

A request fails when it gets no complete 2xx answer within the deadline: a timeout, a connection error, or
another status. Standard library only.
"""

import argparse
import http.client
import json
import queue
import socket
import subprocess
import sys
import threading
import time


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/api/items")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second (100)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load (10)")
    parser.add_argument("--deadline", type=float, default=0.2, help="seconds a request may take, all included (0.2)")
    parser.add_argument("--workers", type=int, default=40, help="threads, each with one keep-alive connection (40)")
    parser.add_argument("--cut-at", type=float, default=None, help="seconds into the run to run --cut-cmd")
    parser.add_argument("--cut-cmd", default=None, help="shell command that cuts the power")
    args = parser.parse_args()

    total = int(args.rate * args.duration)
    work = queue.Queue()
    results = [None] * total
    start = time.monotonic()
    cut = {"at": None, "error": None}

    def worker():
        conn = None
        while True:
            item = work.get()
            if item is None:
                break
            index, due = item
            sent = time.monotonic()
            status, server, error = None, None, None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(args.host, args.port, timeout=args.deadline)
                conn.request("GET", f"{args.path}?i={index}")
                response = conn.getresponse()
                response.read()
                status, server = response.status, response.getheader("X-Server")
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (socket.timeout, OSError, http.client.HTTPException) as e:
                error = type(e).__name__
                if conn is not None:
                    conn.close()
                conn = None
            done = time.monotonic()
            results[index] = (due - start, sent - due, done - sent, status, server, error)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()

    def run_cut():
        cut["at"] = time.monotonic() - start
        try:
            subprocess.run(args.cut_cmd, shell=True, check=True, timeout=10)
        except (subprocess.SubprocessError, OSError) as e:
            cut["error"] = str(e)

    cutter = None
    for i in range(total):
        due = start + i / args.rate
        if cutter is None and args.cut_cmd and args.cut_at is not None and due - start >= args.cut_at:
            cutter = threading.Thread(target=run_cut, daemon=True)
            cutter.start()
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        work.put((i, due))
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join(timeout=args.deadline + 10)
    if cutter is not None:
        cutter.join(timeout=10)

    cut_at = cut["at"]
    summary = {
        "requests": total, "ok": 0, "failed": 0, "failed_before_cut": 0, "failed_after_cut": 0, "timeouts": 0,
        "errors": 0, "statuses": {}, "servers_before_cut": {}, "servers_after_cut": {}, "cut_at_s": cut_at,
        "cut_error": cut["error"], "first_failures": [],
    }
    latencies, send_delays = [], []
    for index, result in enumerate(results):
        if result is None:
            summary["failed"] += 1
            summary["errors"] += 1
            summary["first_failures"].append(f"#{index}: never completed")
            continue
        due_s, send_delay, latency, status, server, error = result
        latencies.append(latency * 1000)
        send_delays.append(send_delay * 1000)
        after_cut = cut_at is not None and due_s + send_delay + latency >= cut_at
        if status is not None:
            summary["statuses"][str(status)] = summary["statuses"].get(str(status), 0) + 1
        if server:
            bucket = summary["servers_after_cut" if after_cut else "servers_before_cut"]
            bucket[server] = bucket.get(server, 0) + 1
        ok = status is not None and 200 <= status < 300 and latency <= args.deadline
        if ok:
            summary["ok"] += 1
            continue
        summary["failed"] += 1
        summary["failed_after_cut" if after_cut else "failed_before_cut"] += 1
        if error in ("timeout", "TimeoutError") or (status is not None and latency > args.deadline):
            summary["timeouts"] += 1
        else:
            summary["errors"] += 1
        if len(summary["first_failures"]) < 10:
            what = error or f"HTTP {status}"
            summary["first_failures"].append(f"#{index} at {due_s:.2f}s: {what} after {latency * 1000:.0f} ms")
    summary["latency_ms"] = {
        "p50": round(percentile(latencies, 50), 2), "p99": round(percentile(latencies, 99), 2),
        "max": round(max(latencies, default=0), 2),
    }
    summary["max_send_delay_ms"] = round(max(send_delays, default=0), 2)
    json.dump(summary, sys.stdout)
    print()


if __name__ == "__main__":
    main()
