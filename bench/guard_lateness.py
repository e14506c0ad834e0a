#!/usr/bin/env python3
"""How late does a deadline guard act once its owner stops renewing it? (docs/reliability.md)

Runs the guard's own script (read from src/Switchman.Supervisor/Processes/DeadlineGuard.cs) as the node does: a writer
renews it every 10 ms with a deadline 75 ms ahead (the leader's right to hold a VIP), stops after 0.3 s (the owner
freezes), and the guard's action (`date +%s%N`, a small program, as `ip addr del` is) prints when it ran. Lateness =
when the action ran - the last deadline written. Trials alternate between the guard at real-time priority (SCHED_FIFO,
as the node starts it when allowed) and the guard as an ordinary process, so both meet the same load.

Bounded: TRIALS pairs (default 100, ~1 min); every process it starts is waited for. Needs root for SCHED_FIFO (chrt).
Usage: python3 bench/guard_lateness.py [TRIALS]
"""
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(ROOT, "src/Switchman.Supervisor/Processes/DeadlineGuard.cs")
LEASE_US = 75_000
RENEW_EVERY = 0.010
RENEW_FOR = 0.3


def guard_script():
    text = open(SOURCE, encoding="utf-8").read()
    start = text.index("private const string Script =")
    end = text.index(";\n", text.index("done; exec", start))
    return "".join(re.findall(r'"""(.*?)"""', text[start:end + 1], re.S))


def boot_us():
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * 1e6)


def trial(script, prefix):
    """Lateness in ms, or None when the guard acted while still renewed (the writer itself was late by a lease)."""
    guard = subprocess.Popen(prefix + ["/bin/bash", "-c", script, "guard", "date", "+%s%N"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    deadline_real_ns = None
    began = time.monotonic()
    try:
        while time.monotonic() - began < RENEW_FOR:
            deadline_boot = boot_us() + LEASE_US
            deadline_real_ns = time.time_ns() + LEASE_US * 1000
            guard.stdin.write(f"{deadline_boot}\n")
            guard.stdin.flush()
            time.sleep(RENEW_EVERY)
        acted_ns = int(guard.stdout.readline())
    except (BrokenPipeError, ValueError):
        guard.wait(timeout=10)
        return None
    guard.stdin.close()
    guard.wait(timeout=10)
    return (acted_ns - deadline_real_ns) / 1e6


def main():
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    script = guard_script()
    variants = {"real-time (SCHED_FIFO 1)": ["chrt", "-f", "1"], "ordinary (SCHED_OTHER)": []}
    results = {name: [] for name in variants}
    with open("/proc/loadavg", encoding="ascii") as f:
        print("load average before:", f.read().split()[:3])
    for _ in range(trials):
        for name, prefix in variants.items():
            results[name].append(trial(script, prefix))
    with open("/proc/loadavg", encoding="ascii") as f:
        print("load average after:", f.read().split()[:3])
    for name, values in results.items():
        late = sorted(v for v in values if v is not None)
        q = lambda p: late[min(len(late) - 1, int(p * len(late)))]
        print(f"{name}: {len(late)} trials ({len(values) - len(late)} acted while the writer was late); "
              f"action - deadline, ms: median {statistics.median(late):.1f}, p90 {q(0.9):.1f}, p99 {q(0.99):.1f}, "
              f"max {late[-1]:.1f}; later than 10 ms: {sum(v > 10 for v in late)}, later than 25 ms: {sum(v > 25 for v in late)}")


if __name__ == "__main__":
    main()
