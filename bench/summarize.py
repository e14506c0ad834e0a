#!/usr/bin/env python3
"""Summarise a bench/compare.sh CSV: medians per proxy and Switchman/other ratios.

usage: summarize.py RESULTS.csv [--markdown] [--max-other PCT]

--max-other PCT keeps only the runs during which less than PCT% of a core was busy outside the benchmark
(column other_cpu_pct), for runs on a shared machine.
"""
import csv
import statistics
import sys
from collections import OrderedDict

ORDER = ["switchman", "switchman-follower", "switchman2", "haproxy", "nginx", "yarp"]
LABEL = {"switchman": "Switchman", "switchman-follower": "Switchman (follower)", "switchman2": "Switchman #2", "haproxy": "HAProxy",
         "nginx": "NGINX", "yarp": "plain YARP"}


def main() -> int:
    argv = sys.argv[1:]
    max_other = None
    if "--max-other" in argv:
        i = argv.index("--max-other")
        max_other = float(argv[i + 1])
        del argv[i:i + 2]
    args = [a for a in argv if not a.startswith("--")]
    markdown = "--markdown" in argv
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], newline="") as f:
        rows = list(csv.DictReader(f))
    if max_other is not None:
        kept = [r for r in rows if float(r.get("other_cpu_pct") or 0) < max_other]
        print(f"{len(kept)} of {len(rows)} runs had less than {max_other:g}% of a core of outside load; only those count")
        rows = kept
    if not rows:
        print("no results", file=sys.stderr)
        return 1

    runs = OrderedDict()
    for row in rows:
        runs.setdefault(row["proxy"], []).append(row)
    proxies = [p for p in ORDER if p in runs] + [p for p in runs if p not in ORDER]

    def med(p, key):
        return statistics.median(float(r[key]) for r in runs[p])

    cols = [
        ("proxy", None),
        ("runs", None),
        ("req/s", "rps"),
        ("p50 ms", "p50_ms"),
        ("p99 ms", "p99_ms"),
        ("proxy CPU %", "proxy_cpu_pct"),
        ("CPU ms/1k req", "cpu_ms_per_1k_req"),
        ("RSS MiB", "rss_kb"),
        ("backend CPU ms/1k req", None),
        ("errors", None),
        ("other load %", "other_cpu_pct"),
    ]
    # CLUSTER=3 runs: the CPU of the cluster's nodes other than the measured one, during each run (% of one core).
    cluster = any(r.get("cluster_peers_cpu_pct") for r in rows)
    if cluster:
        cols.append(("cluster peers CPU %", "cluster_peers_cpu_pct"))
    table = []
    for p in proxies:
        backend_per_1k = statistics.median(float(r["backend_cpu_ms"]) * 1000 / float(r["requests"]) for r in runs[p])
        errors = sum(int(r["non2xx"]) + int(r["socket_errors"]) for r in runs[p])
        table.append([
            LABEL.get(p, p),
            str(len(runs[p])),
            f"{med(p, 'rps'):,.0f}",
            f"{med(p, 'p50_ms'):.2f}",
            f"{med(p, 'p99_ms'):.2f}",
            f"{med(p, 'proxy_cpu_pct'):.0f}",
            f"{med(p, 'cpu_ms_per_1k_req'):.1f}",
            f"{med(p, 'rss_kb') / 1024:.0f}",
            f"{backend_per_1k:.1f}",
            str(errors),
            f"{med(p, 'other_cpu_pct'):.0f}" if "other_cpu_pct" in runs[p][0] else "?",
        ])
        if cluster:
            table[-1].append(f"{med(p, 'cluster_peers_cpu_pct'):.1f}" if all(r.get("cluster_peers_cpu_pct") for r in runs[p]) else "")

    noisy = [r for r in rows if float(r.get("other_cpu_pct") or 0) > 20]
    first = rows[0]
    print(f"wrk -t{first['threads']} -c{first['connections']}, ~{float(first['duration_s']):.0f} s per run; medians over runs")
    if cluster:
        roles = sorted({f"{r['proxy']}: {r['cluster_role']}" for r in rows if r.get("cluster_role")})
        print(f"Switchman as one node of a cluster; measured node's role at the start (->end) of each run: {', '.join(roles)}")
    print()
    emit([c[0] for c in cols], table, markdown)

    if "switchman" in runs:
        print()
        ratio_rows = []
        for p in proxies:
            if p == "switchman":
                continue
            ratio_rows.append([
                f"Switchman / {LABEL.get(p, p)}",
                f"{med('switchman', 'rps') / med(p, 'rps'):.2f}",
                f"{med('switchman', 'cpu_ms_per_1k_req') / med(p, 'cpu_ms_per_1k_req'):.2f}",
                f"{med('switchman', 'p99_ms') / med(p, 'p99_ms'):.2f}",
                f"{med('switchman', 'rss_kb') / med(p, 'rss_kb'):.2f}",
            ])
        emit(["ratio", "throughput", "CPU per request", "p99 latency", "RSS"], ratio_rows, markdown)
    if noisy:
        print()
        print(f"warning: {len(noisy)} of {len(rows)} runs had more than 20% of a core busy with work outside the benchmark "
              "(other load %); their figures are less trustworthy.")
    return 0


def emit(header, rows, markdown):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    print("  ".join(h.ljust(widths[i]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(header)))
    for r in rows:
        print("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)))


if __name__ == "__main__":
    sys.exit(main())
