using System.Globalization;
using System.Text;

namespace Switchman.NetnsTests;

/// <summary>
/// What one node says about itself: its place in the Raft log (GET /api/v1/status, cluster object), the shared
/// configuration it runs (GET /api/v1/config without its node-local admin and cluster sections) and the server
/// overrides (state and weight of every server). Nodes that agree on all of it have converged.
/// </summary>
public sealed record NodeReport(
    string NodeId, string? Leader, long Term, long CommitIndex, long AppliedIndex, long Revision, string SharedConfig, string Overrides)
{
    /// <summary>True when both name the same leader and are at the same point of the same log with the same state.</summary>
    public bool AgreesWith(NodeReport other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Leader == other.Leader && Term == other.Term && CommitIndex == other.CommitIndex && AppliedIndex == other.AppliedIndex
            && Revision == other.Revision && SharedConfig == other.SharedConfig && Overrides == other.Overrides;
    }

    /// <summary>Everything committed is applied.</summary>
    public bool CaughtUp => AppliedIndex == CommitIndex;

    public bool HasServer(string name) => SharedConfig.Contains($"\"name\":\"{name}\"", StringComparison.Ordinal);

    /// <summary>One line for messages; the configuration itself only by its length, the overrides in full.</summary>
    public override string ToString() => new StringBuilder()
        .Append(CultureInfo.InvariantCulture, $"{NodeId}: leader {Leader ?? "none"}, term {Term}, commit {CommitIndex}, applied {AppliedIndex}, ")
        .Append(CultureInfo.InvariantCulture, $"revision {Revision}, config {SharedConfig.Length} chars, overrides [{Overrides}]")
        .ToString();
}
