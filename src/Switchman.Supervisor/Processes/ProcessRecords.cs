using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Switchman.Supervisor.Processes;

/// <summary>A leftover process group ended by <see cref="ProcessRecords.ReapLeftoversAsync"/>.</summary>
/// <param name="Name">The service it ran.</param>
/// <param name="ProcessGroup">Its process group id (the PID of its main process).</param>
/// <param name="Ended">False when processes of it remained after SIGKILL (uninterruptible sleep).</param>
public sealed record ReapedGroup(string Name, int ProcessGroup, bool Ended);

/// <summary>
/// One file per running service instance, <c>&lt;directory&gt;/&lt;name&gt;.pid</c>, holding its PID and the start
/// time of that process (field 22 of /proc/pid/stat). Services run in their own sessions, so a crash of this process
/// leaves them running, unsupervised, holding ports; the next start of the node reads these files and ends every
/// recorded group whose main process is still the very one recorded — the start time makes sure that a PID reused by
/// an unrelated process is never signalled.
/// </summary>
public sealed class ProcessRecords
{
    private const string Extension = ".pid";

    public ProcessRecords(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>Records that <paramref name="pid"/> runs <paramref name="name"/> (written atomically; replaces an earlier record of that name).</summary>
    /// <exception cref="IOException">The record could not be written.</exception>
    /// <exception cref="InvalidOperationException">The process is already gone.</exception>
    public void Add(string name, int pid)
    {
        var path = PathOf(name);
        var start = ProcessGroup.StartTimeOf(pid) ?? throw new InvalidOperationException($"process {pid} of {name} is gone");
        System.IO.Directory.CreateDirectory(Directory);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, string.Create(CultureInfo.InvariantCulture, $"{pid} {start}\n"));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Removes the record of <paramref name="name"/> if it is still the one of <paramref name="pid"/> (a newer instance's
    /// is kept); nothing to do when there is none, nor any directory yet.
    /// </summary>
    public void Remove(string name, int pid)
    {
        var path = PathOf(name);
        if (Read(path) is { } record && record.Pid == pid)
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Ends (SIGKILL, the whole group) every recorded instance whose main process still runs with the recorded start
    /// time, waits (bounded) until each group is gone, and removes every record. Run once when the node starts, before
    /// it starts any service.
    /// </summary>
    /// <returns>The groups it killed, for a log line or an event.</returns>
    public static async Task<IReadOnlyList<ReapedGroup>> ReapLeftoversAsync(
        string directory, TimeProvider time, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(time);
        if (!System.IO.Directory.Exists(directory))
        {
            return [];
        }
        var killed = new List<(string Name, int Pgid)>();
        foreach (var path in System.IO.Directory.EnumerateFiles(directory, "*" + Extension))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            try
            {
                if (Read(path) is { } record && ProcessGroup.StartTimeOf(record.Pid) == record.StartTime
                    && ProcessGroup.Signal(record.Pid, NativeMethods.SignalKill))
                {
                    killed.Add((name, record.Pid));
                }
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (logger is not null)
                {
                    ProcessLog.BadRecord(logger, path, e.Message);
                }
            }
        }
        var reaped = new List<ReapedGroup>();
        var deadline = time.GetTimestamp();
        foreach (var (name, pgid) in killed)
        {
            var ended = await WaitEmptyAsync(pgid, KillWaitLimit - time.GetElapsedTime(deadline), time, cancellationToken).ConfigureAwait(false);
            if (logger is not null)
            {
                if (ended)
                {
                    ProcessLog.KilledLeftover(logger, name, pgid);
                }
                else
                {
                    ProcessLog.LeftoverLingers(logger, name, pgid);
                }
            }
            reaped.Add(new ReapedGroup(name, pgid, ended));
        }
        return reaped;
    }

    /// <summary>How long reaping waits, in all, for the killed groups to vanish.</summary>
    private static readonly TimeSpan KillWaitLimit = TimeSpan.FromSeconds(5);

    /// <summary>Polls until no living process has <paramref name="pgid"/>, for at most <paramref name="limit"/>.</summary>
    internal static async Task<bool> WaitEmptyAsync(int pgid, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (!ProcessGroup.IsEmpty(pgid))
        {
            var left = limit - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }
            await Task.Delay(left < PollInterval ? left : PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>How often an ending group is looked at: short against stop timeouts of a second or less.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private string PathOf(string name)
    {
        CheckName(name);
        return Path.Combine(Directory, name + Extension);
    }

    /// <summary>A service name must be usable as a file name as it is.</summary>
    internal static void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) || name.StartsWith('.'))
        {
            throw new ArgumentException($"'{name}' cannot name a service's record file: letters, digits, '.', '_' and '-' only", nameof(name));
        }
    }

    private static (int Pid, long StartTime)? Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // No directory yet: nothing was recorded in it so far (the first record written makes it).
            return null;
        }
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 1
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            ? (pid, start)
            : null;
    }
}
