namespace Switchman.Testing.Netns;

/// <summary>A process's scheduling state as the kernel reports it (the third field of <c>/proc/PID/stat</c>).</summary>
internal static class ProcessRunState
{
    /// <summary>True while the process is stopped by a signal (state T): SIGSTOP took effect and SIGCONT has not yet.</summary>
    public static bool IsStopped(int pid) => Read(pid) == 'T';

    /// <summary>The state letter (R, S, D, T, Z…), or null when there is no such process.</summary>
    public static char? Read(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
        // "PID (comm) S …": the command name may contain spaces and parentheses, so look after the last ')'.
        var end = stat.LastIndexOf(')');
        return end >= 0 && end + 2 < stat.Length ? stat[end + 2] : null;
    }
}
