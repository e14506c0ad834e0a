#!/usr/bin/env python3
"""bench/anon_by_kind.py — where a process's anonymous memory is, second by second.

Reads /proc/PID/smaps every --every seconds and sums the resident anonymous memory by kind of mapping:

  glibc-heaps   glibc malloc's per-thread heaps (a read-write mapping at a 64 MiB-aligned address whose reservation
                ends 64 MiB later): native allocations of threads other than the main one
  stacks        thread stacks (8 MiB read-write after a 4 KiB guard page)
  other         every other unnamed mapping: the GC heap, the runtime's loader heaps and its JIT's large blocks
  [heap], …     named mappings (the main thread's malloc heap, libraries' writable data)

and prints a line whenever a kind grows by more than --threshold KiB between two samples (with the mappings that grew),
and once a minute in any case. Used to find what a soak's one-time RSS step was (docs/reliability.md, "What the step
was"); e.g. on the soak's long-lived node:

  python3 bench/anon_by_kind.py "$(pgrep -f 'switchman-soak.*/n1.yaml' | head -1)" --every 1 --threshold 1024

Standard library only; reads /proc, so it needs the same user as the process or root. Stops when the process ends.
"""
import argparse
import re
import time

HEADER = re.compile(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$')
HEAP_SPAN = 64 << 20
STACK_SIZE = 8 << 20
PAGE = 4096


def read_mappings(pid):
    """[(start, end, perms, unnamed, name, anonymous KiB)] in address order."""
    mappings = []
    with open(f'/proc/{pid}/smaps') as smaps:
        for line in smaps:
            match = HEADER.match(line)
            if match:
                start, end, perms, inode, name = match.groups()
                name = name.strip()
                mappings.append([int(start, 16), int(end, 16), perms, inode == '0' and name == '', name, 0])
            elif line.startswith('Anonymous:') and mappings:
                mappings[-1][5] = int(line.split()[1])
    return mappings


def kind_of(mappings, index):
    start, end, perms, unnamed, name, _ = mappings[index]
    if not unnamed:
        return name.rsplit('/', 1)[-1] or '?'
    following = mappings[index + 1] if index + 1 < len(mappings) else None
    preceding = mappings[index - 1] if index else None
    if perms == 'rw-p' and start % HEAP_SPAN == 0 and (
            end == start + HEAP_SPAN or (following and following[2] == '---p' and following[1] == start + HEAP_SPAN)):
        return 'glibc-heaps'
    if perms == 'rw-p' and end - start == STACK_SIZE and preceding and preceding[2] == '---p' \
            and preceding[1] == start and preceding[1] - preceding[0] == PAGE:
        return 'stacks'
    return 'other'


def sample(pid):
    """({kind: anonymous KiB}, {(kind, start): (size KiB, anonymous KiB)})"""
    mappings = read_mappings(pid)
    kinds, regions = {}, {}
    for index, mapping in enumerate(mappings):
        kind = kind_of(mappings, index)
        kinds[kind] = kinds.get(kind, 0) + mapping[5]
        if mapping[3]:
            regions[(kind, mapping[0])] = ((mapping[1] - mapping[0]) >> 10, mapping[5])
    return kinds, regions


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('pid', type=int)
    parser.add_argument('--every', type=float, default=1.0, help='seconds between samples (default 1)')
    parser.add_argument('--threshold', type=int, default=1024, help='KiB of growth of one kind that is printed (default 1024)')
    parser.add_argument('--min-kib', type=int, default=100, help='kinds smaller than this are left out of the lines (default 100)')
    args = parser.parse_args()

    def stamp():
        now = time.time()
        return time.strftime('%H:%M:%S', time.gmtime(now)) + f'.{int(now % 1 * 1000):03d}'

    def shown(kinds):
        return {kind: kib for kind, kib in sorted(kinds.items()) if kib >= args.min_kib}

    previous, previous_regions = sample(args.pid)
    print(stamp(), 'start', shown(previous), flush=True)
    last_print = time.monotonic()
    while True:
        time.sleep(args.every)
        try:
            current, regions = sample(args.pid)
        except (FileNotFoundError, ProcessLookupError):
            print(stamp(), 'the process ended', flush=True)
            return
        growth = {kind: current.get(kind, 0) - previous.get(kind, 0) for kind in set(current) | set(previous)}
        grew = any(kib > args.threshold for kib in growth.values())
        if grew or time.monotonic() - last_print >= 60:
            print(stamp(), shown(current), 'change', {k: v for k, v in sorted(growth.items()) if abs(v) >= args.min_kib}, flush=True)
            last_print = time.monotonic()
        if grew:
            for key, (size, anonymous) in sorted(regions.items()):
                before = previous_regions.get(key, (0, 0))[1]
                if anonymous - before > args.threshold // 2:
                    print(f'    {key[0]} {key[1]:x} size {size} KiB: anonymous {before} -> {anonymous} KiB', flush=True)
        previous, previous_regions = current, regions


if __name__ == '__main__':
    main()
