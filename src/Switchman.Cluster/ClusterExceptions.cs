namespace Switchman.Cluster;

/// <summary>This node is not the leader (or lost leadership before the change was appended): nothing was written.</summary>
public sealed class ClusterNotLeaderException(ClusterMemberView? leader)
    : InvalidOperationException(leader is null ? "this node is not the leader and no leader is known" : $"this node is not the leader; the leader is {leader.Id ?? leader.Address}")
{
    public ClusterMemberView? Leader { get; } = leader;
}

/// <summary>
/// The change was appended but its fate is unknown: leadership or quorum was lost (or time ran out) before it
/// committed. A later leader may still commit it; proposing it again with the same change id applies it at most once.
/// </summary>
public sealed class ClusterOutcomeUnknownException(string changeId, string reason, Exception? inner = null)
    : Exception($"the outcome of change {changeId} is unknown: {reason}; retry with the same change id", inner)
{
    public string ChangeId { get; } = changeId;
}
