#!/usr/bin/env python3
"""bench/startup.py — start-up to serving: how long from exec until a proxy answers a proxied request with 200.

Called by bench/startup.sh with one argument per proxy, NAME=URL=COMMAND (COMMAND split on spaces). For each trial
and each proxy in turn (interleaved, so a busy moment of the machine hits every proxy alike): note the monotonic
time, start COMMAND, then send `GET URL` every 2 ms (a fresh connection each, 200 ms bound) until one answers 200;
the time from just before the exec to that answer is the figure. The proxy is then stopped by its PID (SIGTERM,
SIGKILL after 5 s) and the next one started. A proxy that does not serve within LIMIT seconds is a failed trial.
Prints one CSV line per trial, then the median, min and max per proxy.
"""

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

TRIALS = int(os.environ.get("TRIALS", "10"))
LIMIT = float(os.environ.get("LIMIT", "20"))
POLL = 0.002


def answers_200(host, port, path):
    try:
        with socket.create_connection((host, port), timeout=0.2) as s:
            s.settimeout(0.2)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            head = s.recv(64)
            return head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def stop(process):
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def trial(name, url, command, log):
    parts = urllib.parse.urlsplit(url)
    path = parts.path or "/"
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while time.monotonic() - started < LIMIT:
            if process.poll() is not None:
                return None, f"exited with {process.returncode}"
            if answers_200(parts.hostname, parts.port, path):
                return (time.monotonic() - started) * 1000, ""
            time.sleep(POLL)
        return None, f"no 200 within {LIMIT:.0f} s"
    finally:
        stop(process)
        # Let the port and the machine settle before the next start.
        time.sleep(0.5)


def main():
    proxies = []
    for arg in sys.argv[1:]:
        name, url, command = arg.split("=", 2)
        proxies.append((name, url, command.split()))
    logdir = os.environ.get("LOGDIR", "/tmp")
    results = {name: [] for name, _, _ in proxies}
    print("trial,proxy,ms_to_first_200,error")
    for t in range(1, TRIALS + 1):
        for name, url, command in proxies:
            with open(os.path.join(logdir, f"startup-{name}.log"), "a") as log:
                ms, error = trial(name, url, command, log)
            print(f"{t},{name},{'' if ms is None else f'{ms:.1f}'},{error}", flush=True)
            if ms is not None:
                results[name].append(ms)
    print()
    print(f"{'proxy':<12} {'median ms':>10} {'min':>8} {'max':>8} {'ok':>6}")
    for name, values in results.items():
        if values:
            print(f"{name:<12} {statistics.median(values):>10.1f} {min(values):>8.1f} {max(values):>8.1f} {len(values):>3}/{TRIALS}")
        else:
            print(f"{name:<12} {'-':>10} {'-':>8} {'-':>8} {0:>3}/{TRIALS}")
    failed = sum(TRIALS - len(v) for v in results.values())
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
