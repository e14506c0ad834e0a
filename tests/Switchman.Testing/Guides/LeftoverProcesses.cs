namespace Switchman.Testing.Guides;

/// <summary>
/// Ends processes a guide started in the background, by PID, when its own clean-up did not run (a block failed): the
/// guide's daemon with SIGTERM (so that it stops what it runs), then SIGKILL; process groups with SIGKILL.
/// </summary>
public static class LeftoverProcesses
{
    /// <summary>SIGTERM, up to <paramref name="grace"/> for it to exit, then SIGKILL. Does nothing to a PID that is gone.</summary>
    public static async Task StopAsync(int pid, TimeSpan grace)
    {
        if (!IsAlive(pid))
        {
            return;
        }
        _ = NativeMethods.Kill(pid, NativeMethods.SigTerm);
        try
        {
            await Await.UntilAsync(() => !IsAlive(pid), grace, $"pid {pid} to exit after SIGTERM").ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _ = NativeMethods.Kill(pid, NativeMethods.SigKill);
        }
    }

    /// <summary>
    /// SIGKILL to the process group that <paramref name="leader"/> leads (its own and its children's), if that very
    /// process is still there: a PID reused since it was recorded is left alone.
    /// </summary>
    public static void KillGroup(ProcessIdentity leader)
    {
        ArgumentNullException.ThrowIfNull(leader);
        if (IsAlive(leader.Pid) && ProcessIdentity.Of(leader.Pid) == leader)
        {
            _ = NativeMethods.Kill(-leader.Pid, NativeMethods.SigKill);
        }
    }

    /// <summary>The live processes of process group <paramref name="pgid"/> (a group outlives its leader while one is left).</summary>
    public static IReadOnlyList<int> GroupMembers(int pgid) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Select(name => int.TryParse(name, System.Globalization.CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && StatFields(pid) is [var state, _, var group, ..] && state != "Z"
                && group == pgid.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Whether the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => StatFields(pid) is [var state, ..] && state != "Z";

    /// <summary>
    /// The fields of /proc/PID/stat after the name, from the state on (field 3); null when the process is gone. The name
    /// may hold spaces and parentheses: the fields start after the last ')'.
    /// </summary>
    internal static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>A process as it was when recorded: its PID and its start time (clock ticks after boot), which a reused PID does not share.</summary>
public sealed record ProcessIdentity(int Pid, long StartTime)
{
    /// <summary>The process that has <paramref name="pid"/> now; null when there is none.</summary>
    public static ProcessIdentity? Of(int pid) =>
        // starttime is field 22 of /proc/PID/stat, the 20th from the state (field 3).
        LeftoverProcesses.StatFields(pid) is { Length: > 19 } fields && long.TryParse(fields[19], System.Globalization.CultureInfo.InvariantCulture, out var start)
            ? new ProcessIdentity(pid, start)
            : null;
}
