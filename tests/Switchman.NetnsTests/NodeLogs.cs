using System.Text;
using Switchman.Testing;

namespace Switchman.NetnsTests;

/// <summary>
/// A node's output for failure messages, without the lines DotNext's Raft writes at Debug for every heartbeat
/// (dozens a second, which would push out everything else): what is left is elections, votes, member status,
/// Switchman's own events and errors.
/// </summary>
public static class NodeLogs
{
    /// <summary>Per-heartbeat and per-replication-round events of DotNext's RaftCluster.</summary>
    private static readonly string[] HeartbeatEvents =
        ["[74000]", "[74001]", "[74011]", "[74012]", "[74013]", "[74014]", "[74016]"];

    /// <summary>Stack traces come on one line; this keeps a message readable.</summary>
    private const int MaxLineLength = 500;

    public static bool IsHeartbeatNoise(string line) =>
        line.Contains("DotNext.Net.Cluster", StringComparison.Ordinal) && HeartbeatEvents.Any(e => line.Contains(e, StringComparison.Ordinal));

    /// <summary>The last <paramref name="lines"/> lines that are not heartbeat noise, from standard output and error.</summary>
    public static string Describe(ChildProcess process, int lines)
    {
        ArgumentNullException.ThrowIfNull(process);
        var kept = process.StandardOutputLines.Concat(process.StandardErrorLines).Where(l => !IsHeartbeatNoise(l)).TakeLast(lines).ToList();
        var exit = process.ExitCode is { } code ? $"exited with code {code}" : "still running";
        return new StringBuilder()
            .AppendLine($"--- {process.DisplayName} (pid {process.Pid}, {exit}): last {kept.Count} lines without heartbeat noise")
            .AppendJoin('\n', kept.Select(l => l.Length <= MaxLineLength ? l : l[..MaxLineLength] + "…"))
            .AppendLine()
            .ToString();
    }
}
