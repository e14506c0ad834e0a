#!/usr/bin/env python3
"""bench/dataplane_soak.py — judges a run of bench/dataplane_soak.sh (which calls it) and prints it.

Inputs: the output of each h2load process (its totals: requests started, done, succeeded, failed, errored, timed out;
status classes), each one's per-request log (--log-file: start in µs since the epoch, HTTP status or -1 for a failed
stream, µs until the end of the answer) and the resource samples the shell script took (CSV: t_s, rss_kb, fds, threads, proxy_cpu_pct, ...).

Criteria (exit status 1 when one fails):
  - every request answered 2xx: h2load counts 0 failed, 0 errored, 0 timed out, and every status is 2xx;
  - RSS: every sample taken after --warmup s within ±--rss-band % of the first sample taken after it;
  - descriptors: every sample after the warm-up within ±max(8, 10%) of the first after it (as bench/soak.sh).
The rate actually held is printed, with a warning (not a failure) when it is more than 5% off the target: the load
generator shares the machine with the proxy and the backends.

Writes --out: one CSV row with the figures. Python 3 standard library only.
"""

import argparse
import array
import csv
import datetime as dt
import re
import sys


def h2load_totals(paths):
    out = {}
    for path in paths:
        for k, v in h2load_totals_one(path).items():
            out[k] = out.get(k, 0) + v
    return out


def h2load_totals_one(path):
    text = open(path, errors="replace").read()
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", text)
    s = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if not m or not s:
        sys.exit(f"could not read h2load's totals from {path}:\n{text[-2000:]}")
    keys = ("total", "started", "done", "succeeded", "failed", "errored", "timeout")
    out = dict(zip(keys, map(int, m.groups())))
    out.update(zip(("s2xx", "s3xx", "s4xx", "s5xx"), map(int, s.groups())))
    return out


def read_requests(paths):
    """(latencies in µs; count by status; latencies by minute of the load, counted from the first request's start; the
    largest number of requests started within one millisecond)."""
    starts, lat = array.array("q"), array.array("q")
    statuses = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                parts = line.split("\t")
                if len(parts) < 3:
                    continue
                status = int(parts[1])
                statuses[status] = statuses.get(status, 0) + 1
                starts.append(int(parts[0]))
                lat.append(int(parts[2]))
    first = min(starts) if starts else 0
    minutes, per_ms = {}, {}
    for start, us in zip(starts, lat):
        minutes.setdefault((start - first) // 60_000_000, array.array("q")).append(us)
        ms = start // 1000
        per_ms[ms] = per_ms.get(ms, 0) + 1
    return lat, statuses, minutes, max(per_ms.values(), default=0)


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[i]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--h2load-output", required=True, nargs="+")
    ap.add_argument("--requests", required=True, nargs="+", help="h2load --log-file")
    ap.add_argument("--samples", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--label", default="")
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--warmup", type=float, default=60)
    ap.add_argument("--rss-band", type=float, default=10)
    ap.add_argument("--max-rps", default="")
    ap.add_argument("--target-rps", type=float, required=True)
    ap.add_argument("--connections", type=int, required=True)
    ap.add_argument("--rate-share", default="")
    a = ap.parse_args()

    tot = h2load_totals(a.h2load_output)
    lat, statuses, minutes, burst = read_requests(a.requests)
    lat = array.array("q", sorted(lat))
    non2xx = sum(n for s, n in statuses.items() if not 200 <= s < 300)
    failed = tot["failed"] + tot["errored"] + tot["timeout"]
    achieved = len(lat) / a.duration

    with open(a.samples, newline="") as f:
        samples = [{k: float(v) if v else float("nan") for k, v in r.items()} for r in csv.DictReader(f)]
    post = [s for s in samples if s["t_s"] >= a.warmup]
    if not post:
        sys.exit("no sample after the warm-up")
    rss0, fds0 = post[0]["rss_kb"], post[0]["fds"]
    rss_max = max(s["rss_kb"] for s in post)
    rss_min = min(s["rss_kb"] for s in post)
    rss_dev = max(abs(s["rss_kb"] - rss0) for s in post) * 100 / rss0
    fd_slack = max(8, fds0 * 0.10)
    fd_dev = max(abs(s["fds"] - fds0) for s in post)
    loaded = samples[1:]  # the first sample is taken as the load starts: no interval behind it

    def mean(key):
        return sum(s[key] for s in loaded) / len(loaded) if loaded else float("nan")

    cpu_mean, busy_mean, gen_mean, other_mean, backend_mean = (mean(k) for k in (
        "proxy_cpu_pct", "machine_busy_pct", "loadgen_cpu_pct", "other_cpu_pct", "backend_cpu_pct"))
    cpu_per_1k = cpu_mean * 10 * 1000 / achieved if achieved else float("nan")  # % of a core × 10 = ms/s; per 1000 requests
    # When the load stops, h2load has started a request on each connection that it will not count (nor send, maybe):
    # "started" minus "done"; more than one per connection would be requests lost.
    in_flight = tot["started"] - tot["done"]

    checks = [
        ("every request answered 2xx", failed == 0 and non2xx == 0 and 0 <= in_flight <= a.connections,
         f"{tot['done']:,} answered, {failed} failed (h2load: {tot['failed']} failed, {tot['errored']} errored, "
         f"{tot['timeout']} timed out), {non2xx} non-2xx, {in_flight} in flight when the load stopped (at most one per connection)"),
        (f"RSS within ±{a.rss_band:g}% after the warm-up", rss_dev <= a.rss_band,
         f"first after {a.warmup:g} s {rss0 / 1024:.1f} MiB, min {rss_min / 1024:.1f}, max {rss_max / 1024:.1f}, last "
         f"{post[-1]['rss_kb'] / 1024:.1f} MiB: largest deviation {rss_dev:.1f}%"),
        ("descriptors within ±max(8, 10%) after the warm-up", fd_dev <= fd_slack,
         f"first {samples[0]['fds']:.0f}, first after the warm-up {fds0:.0f}, last {post[-1]['fds']:.0f}, "
         f"min {min(s['fds'] for s in post):.0f}, max {max(s['fds'] for s in post):.0f}"),
    ]
    ok = all(c[1] for c in checks)

    p = {q: pct(lat, q) / 1000 for q in (50, 90, 99, 99.9)}
    lat_max = lat[-1] / 1000 if lat else float("nan")
    print()
    print(f"data-plane soak: Switchman {a.label}")
    if a.max_rps:
        print(f"maximum rate (wrk -t2 -c64 -d10s): {float(a.max_rps):,.0f} req/s; held {a.rate_share}%: target {a.target_rps:,.0f} req/s "
              f"over {a.connections} connections, for {a.duration:.0f} s")
    else:
        print(f"target {a.target_rps:,.0f} req/s over {a.connections} connections, for {a.duration:.0f} s")
    print(f"requests: {tot['done']:,} answered ({len(lat):,} logged), {achieved:,.0f} req/s held ({achieved * 100 / a.target_rps:.1f}% of the target); "
          f"at most {burst} started within one millisecond (mean {achieved / 1000:.1f})")
    print(f"latency ms: p50 {p[50]:.3f}, p90 {p[90]:.3f}, p99 {p[99]:.3f}, p99.9 {p[99.9]:.3f}, max {lat_max:.1f}")
    print(f"proxy CPU: {cpu_mean:.1f}% of a core on average, {cpu_per_1k:.1f} ms per 1000 requests; backends {backend_mean:.1f}%, "
          f"load generator {gen_mean:.1f}%, other load {other_mean:.1f}% (machine busy {busy_mean:.0f}% of one core; 200 = both)")
    by_minute = {}
    for s in samples:
        by_minute[int(s["t_s"] // 60)] = s["rss_kb"]  # the last sample of each minute
    print("RSS MiB by minute: " + " ".join(f"{v / 1024:.1f}" for _, v in sorted(by_minute.items())))
    print("p99 ms by minute:  " + " ".join(f"{pct(sorted(v), 99) / 1000:.2f}" for _, v in sorted(minutes.items())))
    for name, passed, detail in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {name}: {detail}")
    if abs(achieved - a.target_rps) > 0.05 * a.target_rps:
        print(f"  warning: the load generator held {achieved:,.0f} req/s, not {a.target_rps:,.0f}")
    print(f"{'PASS' if ok else 'FAIL'}; samples: {a.samples}; summary: {a.out}")

    row = {
        "utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "switchman": a.label,
        "duration_s": f"{a.duration:.0f}", "warmup_s": f"{a.warmup:g}", "max_rps": a.max_rps, "rate_share_pct": a.rate_share,
        "target_rps": f"{a.target_rps:.0f}", "connections": a.connections, "achieved_rps": f"{achieved:.1f}", "max_started_per_ms": burst,
        "requests_started": tot["started"], "requests_answered": tot["done"], "in_flight_at_stop": in_flight, "failed": failed,
        "non2xx": non2xx,
        "p50_ms": f"{p[50]:.3f}", "p90_ms": f"{p[90]:.3f}", "p99_ms": f"{p[99]:.3f}", "p999_ms": f"{p[99.9]:.3f}",
        "max_ms": f"{lat_max:.3f}", "proxy_cpu_pct": f"{cpu_mean:.1f}", "cpu_ms_per_1k_req": f"{cpu_per_1k:.2f}",
        "backend_cpu_pct": f"{backend_mean:.1f}", "loadgen_cpu_pct": f"{gen_mean:.1f}", "other_cpu_pct": f"{other_mean:.1f}",
        "machine_busy_pct": f"{busy_mean:.1f}",
        "rss_first_kb": f"{samples[0]['rss_kb']:.0f}", "rss_post_warmup_kb": f"{rss0:.0f}", "rss_min_kb": f"{rss_min:.0f}",
        "rss_max_kb": f"{rss_max:.0f}", "rss_last_kb": f"{post[-1]['rss_kb']:.0f}", "rss_max_dev_pct": f"{rss_dev:.2f}",
        "fds_first": f"{samples[0]['fds']:.0f}", "fds_post_warmup": f"{fds0:.0f}", "fds_last": f"{post[-1]['fds']:.0f}",
        "threads_first": f"{samples[0]['threads']:.0f}", "threads_last": f"{post[-1]['threads']:.0f}",
        "verdict": "pass" if ok else "fail",
    }
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
