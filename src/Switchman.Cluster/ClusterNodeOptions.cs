using Switchman.Core.Configuration;

namespace Switchman.Cluster;

/// <summary>Everything a <see cref="ClusterNode"/> needs: the node's <c>cluster:</c> section, its secret, and how peers reach its admin API.</summary>
public sealed record ClusterNodeOptions
{
    public required ClusterConfig Config { get; init; }

    public required ReadOnlyMemory<byte> Secret { get; init; }

    /// <summary>The admin API's URL as other nodes should use it (forwarded writes, status fan-out).</summary>
    public required string AdminUrl { get; init; }

    /// <summary>How long start-up waits for the local log to be re-applied before the node serves.</summary>
    public TimeSpan ReplayTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a proposal may wait for its commit before its outcome is reported unknown.</summary>
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
