#!/usr/bin/env python3
"""Turn `perf script` output of a .NET process (recorded with DOTNET_PerfMapEnabled=1) into a cost breakdown.

usage: perf script -i perf.data | perf_breakdown.py [--top N] [--markdown]

Four views, each in % of the process's on-CPU samples:
  1. by thread kind (.NET TP Worker, .NET Sockets, tiered JIT, ...);
  2. by layer: the leaf frame decides (kernel by syscall, CLR native, JIT compiler, and managed code by namespace);
  3. by owner: like 2, but a managed leaf in a utility namespace (CoreLib, async plumbing, stubs, CLR native) is charged
     to the nearest caller that belongs to a component (Switchman, YARP, HttpClient, Kestrel, sockets, metrics, logging),
     so e.g. Guid.NewGuid called by the request handler counts as Switchman;
  4. kernel + syscall-wrapper time by the managed component that made the call (when the stack unwinds that far);
  5. inclusive markers: share of samples with a given frame anywhere on the stack (only the synchronous part of an async
     method shows: continuations run on fresh stacks);
and the top managed leaf methods.
"""
import re
import sys
from collections import Counter

# (regex on a managed frame's "Namespace.Type::Method", component) — first match wins.
COMPONENTS = [
    (r"^(OpenTelemetry\.|System\.Diagnostics\.Metrics\.|Switchman\.Proxy\.Diagnostics\.ProxyMetrics)", "metrics (System.Diagnostics.Metrics + OpenTelemetry)"),
    (r"^(Microsoft\.Extensions\.Logging|Switchman\.Proxy\.Diagnostics\.(ProxyLog|AccessLog))", "logging / access log"),
    (r"^Switchman\.Proxy\.(Balancing\.|Runtime\.|Health\.)", "Switchman: balancing, server state, health"),
    (r"^Switchman\.", "Switchman: request handler (routing, retries, header rules)"),
    (r"^Yarp\.ReverseProxy\.", "YARP forwarder (request/response copy, header transforms)"),
    (r"^System\.Net\.Http\.", "HttpClient (SocketsHttpHandler, HTTP/1.1 to the backends)"),
    (r"^(Microsoft\.AspNetCore\.Server\.Kestrel\.Transport\.Sockets|System\.Net\.Sockets\.)", "sockets (Kestrel transport, Socket async engine)"),
    (r"^Microsoft\.AspNetCore\.Server\.Kestrel\.", "Kestrel HTTP/1.1 (parsing, headers, response writing)"),
    (r"^Microsoft\.AspNetCore\.", "ASP.NET Core hosting (HttpContext, features, middleware)"),
    (r"^System\.IO\.Pipelines\.", "System.IO.Pipelines"),
    (r"^Microsoft\.Extensions\.", "Microsoft.Extensions (DI, options, primitives)"),
]
UTILITY = [
    (r"^System\.(Threading\.|Runtime\.CompilerServices\.)", "async state machines, thread pool, locks"),
    (r"^System\.", "CoreLib (strings, collections, Guid, casts, memory)"),
]

FRAME_RE = re.compile(r"^\s*([0-9a-f]+)\s+(.*?)\s+\(([^()]*(?:\([^()]*\))?[^()]*)\)\s*$")
MANAGED_RE = re.compile(r"\] ((?:[\w`+<>|]+\.)+[\w`+<>|]+(?:\[[^\]]*\])?)::")


def managed_name(sym):
    """'instance void [Asm] Ns.Type+<M>d__1::MoveNext()[OptimizedTier1]' -> 'Ns.Type+<M>d__1::MoveNext'."""
    m = re.search(r"\] ([^\s\[\]]+(?:\[[^\]]*\])?[^\s\[\]]*)::([^\s(]+)\(", sym)
    if m:
        return f"{m.group(1)}::{m.group(2)}"
    m = re.search(r"\] ([^\s\[\]]+)::([^\s(]+)", sym)
    return f"{m.group(1)}::{m.group(2)}" if m else sym


def classify_managed(name):
    for pattern, label in COMPONENTS:
        if re.search(pattern, name):
            return label, True
    for pattern, label in UTILITY:
        if re.search(pattern, name):
            return label, False
    return "other managed code", True


def is_managed(dso):
    return dso.startswith("[JIT]") or dso.endswith(".dll") or re.search(r"perf-\d+\.map$", dso) is not None


def syscall_of(frames):
    """frames leaf->root: the __x64_sys_* frame names the system call; else the first user frame (libc wrapper)."""
    for sym, dso in frames:
        m = re.match(r"__x64_sys_(\w+)", sym)
        if m:
            return m.group(1)
    for sym, dso in frames:
        if dso != "[kernel.kallsyms]":
            return re.sub(r"\+0x[0-9a-f]+$", "", sym)
    return "?"


def classify_kernel(frames):
    syms = [s for s, d in frames if d == "[kernel.kallsyms]"]
    in_syscall = any(s.startswith("entry_SYSCALL") for s in syms)
    if not in_syscall:
        if any("page_fault" in s for s in syms):
            return "kernel: page faults"
        return "kernel: interrupts (IPIs, timers) while in user code"
    call = syscall_of(frames)
    if any(re.match(r"(__schedule|schedule|finish_task_switch)", s) for s in syms):
        return "kernel: scheduler (context switches, preemption)"
    if re.search(r"send|write", call):
        return "kernel: TCP send (incl. loopback delivery to the receiver)"
    if re.search(r"recv|read", call):
        return "kernel: TCP receive"
    if "epoll" in call:
        return "kernel: epoll"
    if "futex" in call:
        return "kernel: futex (thread wake/wait)"
    if "sched_yield" in call:
        return "kernel: sched_yield (spin-waiting)"
    if any("page_fault" in s or "exc_page" in s for s in syms):
        return "kernel: page faults"
    return "kernel: other (" + call + ")"


def classify_native(sym, dso):
    base = dso.rsplit("/", 1)[-1]
    if base.startswith("libclrjit"):
        return "JIT compiler (tiering)"
    if base.startswith("libcoreclr"):
        return "CLR native (GC, allocation, type checks, stubs)"
    if base.startswith("libSystem.Native"):
        return "System.Native (socket P/Invoke shims)"
    if base.startswith("libc") or base.startswith("ld-linux") or base == "[vdso]":
        if re.match(r"(__libc_recv|__send|epoll_wait|read|write|__sched_yield|recv|send|__GI___pthread|__libc_sendmsg|__libc_recvmsg)", sym):
            return "libc syscall wrappers"
        return "libc (memset/memcpy, TLS, clock)"
    return "native: " + base


def main():
    args = sys.argv[1:]
    top = 25
    if "--top" in args:
        top = int(args[args.index("--top") + 1])
    markdown = "--markdown" in args

    samples = []  # (thread, frames[(sym, dso)])
    thread, frames = None, []
    for line in sys.stdin:
        if not line.strip():
            if thread is not None:
                samples.append((thread, frames))
            thread, frames = None, []
            continue
        if not line.startswith((" ", "\t")):
            # "<comm> <tid> <time>: <period> <event>:" — comm may contain spaces.
            m = re.match(r"^(.*?)\s+\d+(?:/\d+)?\s+[\d.]+:", line)
            thread = m.group(1) if m else line.split()[0]
            frames = []
            continue
        m = FRAME_RE.match(line)
        if m:
            frames.append((m.group(2), m.group(3)))
    if thread is not None:
        samples.append((thread, frames))
    total = len(samples)
    if total == 0:
        print("no samples", file=sys.stderr)
        return 1

    by_thread, by_layer, by_owner, leaves = Counter(), Counter(), Counter(), Counter()
    syscall_owner = Counter()  # kernel + libc/System.Native samples, by the managed component that made the call
    markers = {
        "Switchman ProxyRequestHandler (sync part)": r"Switchman\.Proxy\.Forwarding\.ProxyRequestHandler",
        "Switchman ExchangeTransformer (header rules)": r"Switchman\.Proxy\.Forwarding\.ExchangeTransformer",
        "Switchman ProxyMetrics (all instruments)": r"Switchman\.Proxy\.Diagnostics\.ProxyMetrics",
        "OpenTelemetry aggregation": r"\] OpenTelemetry\.",
        "System.Diagnostics.Metrics instruments": r"System\.Diagnostics\.Metrics\.",
        "Guid.NewGuid (request ids)": r"System\.Guid::NewGuid",
        "Switchman RequestIdOf (request id)": r"ProxyRequestHandler::RequestIdOf",
        "Switchman Complete (metrics + access log)": r"ProxyRequestHandler::Complete",
        "Switchman RequestBodyReplay": r"Switchman\.Proxy\.Forwarding\.RequestBodyReplay",
        "BackendRuntime.Pick (balancer)": r"BackendRuntime::Pick",
        "PassiveHealthPolicy": r"PassiveHealthPolicy",
        "YARP HttpForwarder.SendAsync (sync part)": r"Yarp\.ReverseProxy\.Forwarder\.HttpForwarder",
        "YARP header copy (RequestUtilities/HttpTransformer)": r"Yarp\.ReverseProxy\.Forwarder\.(RequestUtilities|HttpTransformer)",
        "YARP StreamCopier (body copy)": r"Yarp\.ReverseProxy\.Forwarder\.StreamCopier",
        "HttpClient HttpConnection (send, parse response)": r"System\.Net\.Http\.HttpConnection",
        "Kestrel HttpParser (request line + headers)": r"Kestrel\.Core\.Internal\.Http\.HttpParser",
        "Kestrel response headers/writing": r"Kestrel\.Core\.Internal\.Http\.(Http1OutputProducer|HttpResponseHeaders|HttpProtocol::(FirstWrite|WriteResponseHeaders|ProduceStart))",
        "logging": r"Microsoft\.Extensions\.Logging\.",
        "JIT compiler": r"libclrjit",
    }
    marker_re = {k: re.compile(v) for k, v in markers.items()}
    marker_hits = Counter()

    for thread, frames in samples:
        by_thread[re.sub(r"\s*\d+$", "", thread).strip() or thread] += 1
        stack_text = "\n".join(f"{s} ({d})" for s, d in frames)
        for k, rx in marker_re.items():
            if rx.search(stack_text):
                marker_hits[k] += 1
        if not frames:
            by_layer["(no stack)"] += 1
            by_owner["(no stack)"] += 1
            continue
        leaf_sym, leaf_dso = frames[0]
        base = leaf_dso.rsplit("/", 1)[-1]
        if leaf_dso == "[kernel.kallsyms]" or base.startswith(("libc.so", "libSystem.Native")):
            caller = "(no managed caller on the stack)"
            for sym, dso in frames:
                if is_managed(dso) and "[unknown]" not in sym and not sym.startswith("stub "):
                    label, comp = classify_managed(managed_name(sym))
                    if comp:
                        caller = label
                        break
            syscall_owner[caller] += 1
        if leaf_dso == "[kernel.kallsyms]":
            label = classify_kernel(frames)
            by_layer[label] += 1
            by_owner[label] += 1
            continue
        if is_managed(leaf_dso):
            name = managed_name(leaf_sym)
            if leaf_sym.startswith("stub "):
                layer, is_component = "runtime stubs (dispatch, write barriers, casts)", False
            elif "[unknown]" in leaf_sym:
                layer, is_component = "precompiled (R2R) framework code, unsymbolised", False
            else:
                layer, is_component = classify_managed(name)
                leaves[name] += 1
        else:
            layer, is_component = classify_native(leaf_sym, leaf_dso), False
        by_layer[layer] += 1
        owner = layer
        if not is_component and layer not in ("JIT compiler (tiering)",):
            for sym, dso in frames[1:]:
                if is_managed(dso) and "[unknown]" not in sym and not sym.startswith("stub "):
                    label, comp = classify_managed(managed_name(sym))
                    if comp:
                        owner = label
                        break
        by_owner[owner] += 1

    def table(title, counter, limit=None):
        rows = counter.most_common(limit)
        print(f"\n{title}")
        if markdown:
            print("\n| share | what |\n|---:|---|")
            for k, v in rows:
                print(f"| {100 * v / total:5.1f}% | {k} |")
        else:
            for k, v in rows:
                print(f"  {100 * v / total:5.1f}%  {k}")

    print(f"{total} on-CPU samples")
    table("By thread:", by_thread)
    table("By layer (leaf frame):", by_layer)
    table("By owner (utility leaves charged to the calling component):", by_owner)
    table("Kernel and libc/System.Native time by the managed component that made the call:", syscall_owner)
    table("Inclusive markers (frame anywhere on the sampled stack):", Counter({k: marker_hits[k] for k in markers}))
    table(f"Top {top} managed leaf methods:", leaves, top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
