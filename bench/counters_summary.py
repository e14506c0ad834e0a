#!/usr/bin/env python3
"""Summarise a `dotnet-counters collect --format csv --counters System.Runtime` file taken under load.

usage: counters_summary.py COUNTERS.csv REQUESTS_PER_SECOND

Only the seconds under load count (more than 1000 thread-pool work items in that second); rates are averaged over
them and divided by the request rate wrk measured in the same window.
"""
import csv
import sys
from collections import defaultdict


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, rps = sys.argv[1], float(sys.argv[2])
    by_second = defaultdict(lambda: defaultdict(float))
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            try:
                value = float(row.get("Mean/Increment") or 0)
            except ValueError:
                continue
            full = row.get("Counter Name") or ""
            name = full.split(" (")[0]  # drop the unit, keep the metric name; tags are summed
            by_second[row["Timestamp"]][name] += value
    loaded = [s for s in by_second.values() if s.get("dotnet.thread_pool.work_item.count", 0) > 1000]
    if not loaded or rps <= 0:
        print("runtime counters: no second under load was recorded")
        return 0
    n = len(loaded)

    def mean(name):
        return sum(s.get(name, 0.0) for s in loaded) / n

    alloc = mean("dotnet.gc.heap.total_allocated")
    gcs = mean("dotnet.gc.collections")
    pause = mean("dotnet.gc.pause.time")
    items = mean("dotnet.thread_pool.work_item.count")
    locks = mean("dotnet.monitor.lock_contentions")
    cpu = mean("dotnet.process.cpu.time")
    print(f"runtime counters ({n} seconds under load, {rps:,.0f} req/s by wrk):")
    print(f"  allocated {alloc / rps:,.0f} bytes per request ({alloc / 1e6:,.1f} MB/s); "
          f"{gcs:.1f} GCs/s; GC pauses {100 * pause:.1f}% of the time")
    print(f"  {items / rps:.2f} thread-pool work items per request; {locks:.1f} lock contentions/s; "
          f"process CPU {100 * cpu:.0f}% of one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
