using System.Globalization;

#pragma warning disable CA1050 // The runtime looks for a type named StartupHook outside any namespace.

/// <summary>
/// Loaded into every process of a soak through <c>DOTNET_STARTUP_HOOKS</c>. Writes each unobserved task exception and
/// each unhandled exception to standard error as <c>soak-hook[unobserved]</c> / <c>soak-hook[unhandled]</c> followed
/// by the exception; leaves the process's behaviour as it is (the exception is not marked observed).
/// <para>
/// .NET reports an unobserved task exception only when the faulted task is finalized, after a garbage collection that
/// may come late or never; so when the file <c>$SOAK_HOOK_DIR/gc-&lt;pid&gt;</c> appears the hook runs a full
/// collection, waits for the finalizers, collects again, deletes the file and writes <c>soak-hook[gc]</c> with the
/// managed heap before and after (what is left after a full collection is what the program holds: a leak grows it).
/// The soak asks for it before it kills a node, at the end of the warm-up and at the end of the run. With
/// <c>SOAK_HOOK_STATS_EVERY</c> (seconds) it also writes <c>soak-hook[stats]</c>: JIT, GC and thread-pool figures.
/// </para>
/// </summary>
internal static class StartupHook
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private const double Mib = 1024 * 1024;
    private static readonly Lock Gate = new();
    private static int _unobserved;
    private static Timer? _poll;
    private static Timer? _stats;

    public static void Initialize()
    {
        TaskScheduler.UnobservedTaskException += (sender, e) =>
        {
            Interlocked.Increment(ref _unobserved);
            // The sender is the faulted task: its type says what made it (Task.WaitAsync's is a CancellationPromise),
            // which matters for an exception that was never thrown and so has no stack trace.
            Write("unobserved", $"(task {Describe(sender)}) {e.Exception}");
        };
        AppDomain.CurrentDomain.UnhandledException += (_, e) => Write("unhandled", e.ExceptionObject.ToString() ?? "(null)");
        if (Environment.GetEnvironmentVariable("SOAK_HOOK_DIR") is { Length: > 0 } dir)
        {
            var trigger = Path.Combine(dir, $"gc-{Environment.ProcessId}");
            _poll = new Timer(_ => CollectIfAsked(trigger), null, PollInterval, PollInterval);
        }
        if (int.TryParse(Environment.GetEnvironmentVariable("SOAK_HOOK_STATS_EVERY"), CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            var every = TimeSpan.FromSeconds(seconds);
            _stats = new Timer(_ => WriteStats(), null, every, every);
        }
        Write("loaded", $"pid {Environment.ProcessId}");
    }

    /// <summary>
    /// What the runtime holds, without collecting anything: methods compiled by the JIT and their IL, the GC heap's
    /// size and committed memory (as of the last collection), gen2 collections, thread-pool threads. Where RSS grows,
    /// this says whether it is code, managed heap or neither (native memory).
    /// </summary>
    private static void WriteStats()
    {
        var gc = GC.GetGCMemoryInfo(GCKind.Any);
        Write("stats", string.Create(CultureInfo.InvariantCulture,
            $"jit_methods={System.Runtime.JitInfo.GetCompiledMethodCount()} jit_il_bytes={System.Runtime.JitInfo.GetCompiledILBytes()} " +
            $"heap_mib={GC.GetTotalMemory(forceFullCollection: false) / Mib:F1} committed_mib={gc.TotalCommittedBytes / Mib:F1} " +
            $"gen2={GC.CollectionCount(2)} threadpool_threads={ThreadPool.ThreadCount}"));
    }

    private static string Describe(object? task)
    {
        if (task is null)
        {
            return "unknown";
        }
        var type = task.GetType();
        // Task.WaitAsync's promise keeps the task it waits for: name that one too.
        var inner = type.GetField("_task", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)?.GetValue(task);
        return inner switch
        {
            null => type.ToString(),
            Task waited => $"{type} waiting for {waited.GetType()} ({waited.Status}, {waited.CreationOptions})",
            _ => $"{type} waiting for {inner.GetType()}",
        };
    }

    private static void CollectIfAsked(string trigger)
    {
        try
        {
            if (!File.Exists(trigger))
            {
                return;
            }
            var before = GC.GetTotalMemory(forceFullCollection: false);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var after = GC.GetGCMemoryInfo(GCKind.Any);
            File.Delete(trigger);
            Write("gc", string.Create(CultureInfo.InvariantCulture,
                $"full collection done: managed heap {before / Mib:F1} -> {GC.GetTotalMemory(forceFullCollection: false) / Mib:F1} MiB, " +
                $"committed {after.TotalCommittedBytes / Mib:F1} MiB; unobserved task exceptions so far: {Volatile.Read(ref _unobserved)}"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A timer callback must not throw (that would end the process): say so, and try again at the next tick.
            Write("error", $"gc trigger {trigger}: {e.Message}");
        }
    }

    private static void Write(string kind, string text)
    {
        var now = TimeProvider.System.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        lock (Gate)
        {
            Console.Error.WriteLine($"{now} soak-hook[{kind}] {text}");
            Console.Error.Flush();
        }
    }
}
