using System.Globalization;
using System.Runtime.InteropServices;

namespace Switchman.Supervisor.Processes;

/// <summary>
/// A process group seen through kill(2) and /proc: signalled as a whole, and empty only when no living process has
/// its id as pgid. A service's children may outlive its main process, so the group, not the PID, is what must end.
/// Zombies do not count: they run nothing, and whoever inherited them (init, or a PID 1 that never reaps them) decides
/// when they vanish.
/// </summary>
internal static class ProcessGroup
{
    /// <summary>Sends <paramref name="signal"/> to every process of the group.</summary>
    /// <returns>False when the group has no process at all (ESRCH).</returns>
    public static bool Signal(int pgid, int signal)
    {
        CheckGroup(pgid);
        if (NativeMethods.Kill(-pgid, signal) == 0)
        {
            return true;
        }
        var error = Marshal.GetLastPInvokeError();
        return error == NativeMethods.NoSuchProcess
            ? false
            : throw new InvalidOperationException($"kill(-{pgid}, {SignalNames.Of(signal)}) failed: {Marshal.GetPInvokeErrorMessage(error)}");
    }

    /// <summary>Whether no living process of the group is left.</summary>
    public static bool IsEmpty(int pgid)
    {
        CheckGroup(pgid);
        if (NativeMethods.Kill(-pgid, 0) != 0 && Marshal.GetLastPInvokeError() == NativeMethods.NoSuchProcess)
        {
            return true;
        }
        // Something with that pgid exists; it may be only zombies.
        return LiveMembers(pgid).Count == 0;
    }

    /// <summary>kill(-0) is our own group and kill(-1) every process we may signal: never a service's.</summary>
    private static void CheckGroup(int pgid) => ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pgid, 1);

    /// <summary>The PIDs of the group's processes that are not zombies, from /proc.</summary>
    public static IReadOnlyList<int> LiveMembers(int pgid)
    {
        var members = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || ReadStat(pid) is not { } stat)
            {
                continue;
            }
            if (stat.ProcessGroup == pgid && stat.State != 'Z')
            {
                members.Add(pid);
            }
        }
        return members;
    }

    /// <summary>The start time of <paramref name="pid"/> (clock ticks after boot, field 22 of /proc/pid/stat); null when there is no such process.</summary>
    public static long? StartTimeOf(int pid) => ReadStat(pid)?.StartTime;

    /// <summary>/proc/<paramref name="pid"/>/stat, parsed; null when the process is gone (or was never there).</summary>
    public static ProcStat? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return ProcStat.Parse(text);
    }
}

/// <summary>The fields of /proc/pid/stat we use.</summary>
/// <param name="State">Field 3: R, S, D, Z, T…</param>
/// <param name="ProcessGroup">Field 5.</param>
/// <param name="Session">Field 6.</param>
/// <param name="StartTime">Field 22, clock ticks after boot: with the PID, it names one process for the life of the machine.</param>
internal readonly record struct ProcStat(char State, int ProcessGroup, int Session, long StartTime)
{
    /// <summary>Parses a stat line. The command name (field 2) is in parentheses and may hold spaces and ')', so fields are counted after the last ')'.</summary>
    public static ProcStat? Parse(string text)
    {
        var close = text.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }
        // Fields 3.. (state is field 3).
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 20
            || !int.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pgid)
            || !int.TryParse(fields[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var session)
            || !long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }
        return new ProcStat(fields[0][0], pgid, session, start);
    }
}
