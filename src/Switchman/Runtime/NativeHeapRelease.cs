using System.Runtime.InteropServices;

namespace Switchman.Runtime;

/// <summary>
/// Makes glibc give native memory back to the system as soon as the runtime frees it, for blocks of 64 KiB and more.
/// </summary>
/// <remarks>
/// The JIT compiles in 64 KiB slabs it takes with <c>malloc</c> and frees after each method. By default glibc serves
/// such blocks from the compiling thread's heap and, once one larger block was freed, raises its threshold for using
/// <c>mmap</c> instead (up to 32 MiB): freed slabs then stay resident in that heap, behind whatever small block was
/// allocated after them. A burst of compilations (a node becoming leader runs code it had not run for a while) left a
/// node 10 MiB larger for good in the 30-minute soak (docs/reliability.md, run C). With a fixed threshold each such block
/// is a mapping of its own, unmapped when freed: a few hundred system calls a minute while the JIT is busy, none on the
/// request path (it allocates no native block that large). The operator's own glibc malloc tuning, if any, wins.
/// Set only for this process: a supervised service started by exec begins with glibc's defaults.
/// </remarks>
internal static partial class NativeHeapRelease
{
    /// <summary>Blocks of at least this many bytes get a mapping of their own: the JIT's slab size.</summary>
    public const int MapBlocksFrom = 64 * 1024;

    /// <summary><c>M_MMAP_THRESHOLD</c> in glibc's malloc.h; setting it also turns the dynamic threshold off.</summary>
    private const int MmapThresholdParameter = -3;

    /// <summary>Call first thing in Main.</summary>
    /// <returns>Whether the setting is now in effect (false off Linux, on a C library without it, or when the operator tuned malloc).</returns>
    public static bool ApplyUnlessTuned() =>
        OperatingSystem.IsLinux() && !OperatorTunedMalloc(Environment.GetEnvironmentVariable) && TrySetMmapThreshold(MapBlocksFrom);

    /// <summary>Whether the environment already tunes glibc's malloc (<c>GLIBC_TUNABLES</c> or the older <c>MALLOC_*_</c> variables).</summary>
    public static bool OperatorTunedMalloc(Func<string, string?> environment) =>
        environment("GLIBC_TUNABLES")?.Contains("glibc.malloc.", StringComparison.Ordinal) == true
        || environment("MALLOC_MMAP_THRESHOLD_") is not null
        || environment("MALLOC_TRIM_THRESHOLD_") is not null
        || environment("MALLOC_ARENA_MAX") is not null;

    private static bool TrySetMmapThreshold(int bytes)
    {
        try
        {
            return Mallopt(MmapThresholdParameter, bytes) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not glibc: nothing to tune.
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
