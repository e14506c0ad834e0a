namespace Switchman.Cluster;

/// <summary>This node is not the leader (or lost leadership before the change was appended): nothing was written.</summary>
public sealed class ClusterNotLeaderException(ClusterMemberView? leader)
    : InvalidOperationException(leader is null ? "this node is not the leader and no leader is known" : $"this node is not the leader; the leader is {leader.Id ?? leader.Address}")
{
    public ClusterMemberView? Leader { get; } = leader;
}

/// <summary>
/// The change was appended but its fate is unknown: leadership or quorum was lost (or time ran out) before it
/// committed. A later leader may still commit it; proposing it again with the same change id (as a node forwarding it
/// does) applies it at most once. The message is what an API client reads in its 503: a client cannot give a change id,
/// so it is told to look before it sends the change again (docs/cluster.md).
/// </summary>
public sealed class ClusterOutcomeUnknownException(string changeId, string reason, Exception? inner = null)
    : Exception($"the outcome of change {changeId} is unknown: {reason}; it may still be applied: read the configuration (switchman config get) before sending it again", inner)
{
    public string ChangeId { get; } = changeId;
}
