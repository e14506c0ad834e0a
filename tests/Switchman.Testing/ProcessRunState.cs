namespace Switchman.Testing;

/// <summary>A process's scheduling state as the kernel reports it (the third field of <c>/proc/PID/stat</c>).</summary>
internal static class ProcessRunState
{
    /// <summary>
    /// True once every thread of the process is stopped by a signal (state T). SIGSTOP stops the threads one by one, as
    /// each is next scheduled: on a busy machine a thread can still answer a request for some milliseconds after kill()
    /// returned, so a test that freezes a process waits for this before it counts on the silence.
    /// </summary>
    public static bool IsStopped(int pid)
    {
        string[] threads;
        try
        {
            threads = Directory.GetDirectories($"/proc/{pid}/task");
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException)
        {
            return false;
        }
        return threads.Length > 0 && threads.All(thread => Read(Path.Combine(thread, "stat")) is 'T' or null);
    }

    /// <summary>True while the process's main thread is stopped (state T): SIGCONT has not taken effect yet.</summary>
    public static bool IsMainThreadStopped(int pid) => Read($"/proc/{pid}/stat") == 'T';

    /// <summary>The state letter (R, S, D, T, Z…) in a stat file, or null when there is no such process or thread.</summary>
    private static char? Read(string statPath)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(statPath);
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
