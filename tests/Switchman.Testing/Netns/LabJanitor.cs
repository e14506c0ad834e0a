using System.ComponentModel;
using System.Globalization;

namespace Switchman.Testing.Netns;

/// <summary>
/// Removes lab namespaces: first every process still inside (by its PID, SIGKILL), then the namespace, which takes
/// its links (veth pairs, the bridge) with it. Used at a lab's end, when a lab's creation fails halfway, and for the
/// leftovers of a crashed earlier run.
/// </summary>
internal static class LabJanitor
{
    /// <summary>How long a killed process may take to leave its namespace.</summary>
    private static readonly TimeSpan ProcessExitTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Removes every namespace of lab <paramref name="labId"/> (named <c>labId-*</c>), including any its bookkeeping
    /// missed, e.g. one created by a command whose answer was lost.
    /// </summary>
    /// <exception cref="AggregateException">Some could not be removed; each inner exception says which and why.</exception>
    public static Task RemoveLabAsync(string labId) =>
        RemoveAsync(LabNames.ExistingNamespaces().Where(name => name.StartsWith(labId + "-", StringComparison.Ordinal)));

    /// <summary>
    /// Removes lab namespaces whose creator is dead (a crashed run), and those of this process (a lab it failed to
    /// dispose: only one lab of this process exists at a time, and the caller holds that right). A namespace of
    /// another live process is left alone. A PID reused since the crash keeps its leftovers until that process exits.
    /// </summary>
    public static Task RemoveLeftoversAsync() =>
        RemoveAsync(LabNames.ExistingNamespaces().Where(name =>
            LabNames.TryGetOwner(name, out var pid) && (pid == Environment.ProcessId || !IsAlive(pid))));

    private static async Task RemoveAsync(IEnumerable<string> namespaces)
    {
        var failures = new List<Exception>();
        foreach (var name in namespaces.ToList())
        {
            try
            {
                await RemoveNamespaceAsync(name).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                failures.Add(new InvalidOperationException($"could not remove network namespace {name}: {e.Message}", e));
            }
        }
        if (failures.Count > 0)
        {
            throw new AggregateException("Network lab cleanup left namespaces behind (see `ip netns list`).", failures);
        }
    }

    private static async Task RemoveNamespaceAsync(string name)
    {
        await EndProcessesInsideAsync(name).ConfigureAwait(false);
        var (exitCode, _, error) = await IpCommand.TryRunAsync("netns", "delete", name).ConfigureAwait(false);
        // Gone already (a concurrent cleanup of the same leftovers) is what we wanted.
        if (exitCode != 0 && File.Exists(System.IO.Path.Combine(LabNames.NamespaceDirectory, name)))
        {
            throw new InvalidOperationException($"'ip netns delete {name}' failed: {string.Join(" ", error)}");
        }
    }

    /// <summary>Kills every process in the namespace and waits until none is left (a namespace outlives its mount while one is).</summary>
    private static async Task EndProcessesInsideAsync(string name)
    {
        await Await.UntilAsync(async () =>
        {
            var pids = await PidsInsideAsync(name).ConfigureAwait(false);
            foreach (var pid in pids)
            {
                if (NativeMethods.Kill(pid, NativeMethods.SigKill) != 0 && IsAlive(pid))
                {
                    var error = new Win32Exception();
                    throw new InvalidOperationException($"could not kill pid {pid} in {name}: {error.Message}", error);
                }
            }
            return pids.Count == 0;
        }, ProcessExitTimeout, $"every process in network namespace {name} to end").ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<int>> PidsInsideAsync(string name)
    {
        var (exitCode, output, _) = await IpCommand.TryRunAsync("netns", "pids", name).ConfigureAwait(false);
        return exitCode != 0
            ? []
            : [.. output.Where(line => line.Length > 0).Select(line => int.Parse(line.Trim(), CultureInfo.InvariantCulture))];
    }

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");
}
