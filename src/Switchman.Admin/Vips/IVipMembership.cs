using Switchman.Cluster;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Vips;

/// <summary>
/// What the VIP keeper and the VIP assigner need to know of this node's place among its peers, in one of two sizes: a
/// node alone (<see cref="LoneVipMembership"/>: it always leads, always may hold, has no peer to wait for) or a cluster
/// member (<see cref="ClusterVipMembership"/>: leases confirmed by a majority). The keeper and the assigner are the same
/// code for both.
/// </summary>
public interface IVipMembership
{
    /// <summary>The name VIP assignments give this node.</summary>
    string NodeId { get; }

    /// <summary>
    /// How long this node's right to keep the VIPs assigned to it lasts at most if it is not renewed: zero when it has
    /// none (no lease; a witness never), <see cref="Timeout.InfiniteTimeSpan"/> when it is for ever (a node alone).
    /// </summary>
    TimeSpan RightRemaining();

    /// <summary>Cancelled the moment the right to hold may have ended sooner than the keeper's next look (none: never).</summary>
    CancellationToken RightEnds { get; }

    /// <summary>
    /// Whether <see cref="RightRemaining"/> can look live just after this process stalled when it is not: a leader's
    /// right counts its peers' bytes as contact when it reads them, and bytes that waited in the kernel during the stall
    /// read as fresh until the cluster's news (a new term, DotNext's lease timer) is processed. A follower's grant is
    /// counted from when it sent its ping, which a stall does not refresh.
    /// </summary>
    bool RightStaleAfterStall => false;

    /// <summary>The keeper caught up with the state at <paramref name="index"/>: it holds no VIP that state does not give it.</summary>
    void Report(long index);

    /// <summary>Waits until this node leads; returns a token cancelled when it stops leading.</summary>
    Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken);

    /// <summary>The term this node leads in (the fencing token of its assignments).</summary>
    long Term { get; }

    /// <summary>The members that may be given VIPs as far as membership goes (not witnesses, reachable now), this node first.</summary>
    IReadOnlyList<string> ReachableHolders();

    /// <summary>Whether <paramref name="node"/> is a member that answers now.</summary>
    bool IsReachable(string node);

    /// <summary>Stop renewing <paramref name="node"/>'s lease until it reports having applied <paramref name="releaseIndex"/>.</summary>
    void Revoke(string node, long releaseIndex);

    /// <summary>
    /// This node leads in <paramref name="term"/> and has committed in it, its state at <paramref name="index"/>: it may
    /// grant leases now, to each member once that member reports having applied <paramref name="index"/>.
    /// </summary>
    void StartGranting(long term, long index)
    {
    }

    /// <summary>Stop renewing <paramref name="node"/>'s lease until <see cref="Resume"/> (a move from it is being written).</summary>
    void Suspend(string node);

    /// <summary>Ends a <see cref="Suspend"/>; a <see cref="Revoke"/> made meanwhile still holds.</summary>
    void Resume(string node);

    /// <summary>
    /// Whether <paramref name="node"/> has surely let go of a VIP released at <paramref name="releaseIndex"/>; with
    /// <paramref name="extra"/>, of what it may keep that long after its lease ended (a singleton's fence grace).
    /// </summary>
    bool SurelyReleased(string node, long releaseIndex, TimeSpan extra = default);

    /// <summary>Whether no lease <paramref name="node"/> may have had is live any more (plus <paramref name="extra"/>): it cannot be holding anything.</summary>
    bool LeaseSurelyEnded(string node, TimeSpan extra = default) => SurelyReleased(node, long.MaxValue, extra);

    /// <summary>Whether every member is known (id and role) and answers: until then a first placement may wait.</summary>
    bool MembershipSettled();
}

/// <summary>A node alone: it leads for ever in term 1, may always hold, and is the only possible holder.</summary>
public sealed class LoneVipMembership(string nodeId) : IVipMembership
{
    private long _report;

    /// <summary>Its <see cref="Core.Configuration.NodeIdentity"/>: the host name.</summary>
    public string NodeId { get; } = nodeId;

    public TimeSpan RightRemaining() => Timeout.InfiniteTimeSpan;

    public CancellationToken RightEnds => CancellationToken.None;

    public void Report(long index) => Volatile.Write(ref _report, index);

    public Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken) => Task.FromResult(CancellationToken.None);

    public long Term => 1;

    public IReadOnlyList<string> ReachableHolders() => [NodeId];

    public bool IsReachable(string node) => node == NodeId;

    public void Revoke(string node, long releaseIndex)
    {
    }

    public void Suspend(string node)
    {
    }

    public void Resume(string node)
    {
    }

    public bool SurelyReleased(string node, long releaseIndex, TimeSpan extra = default) => node != NodeId || Volatile.Read(ref _report) >= releaseIndex;

    public bool MembershipSettled() => true;
}

/// <summary>A cluster member: the leases of <see cref="ClusterNode"/> (its leader lease, and grants on liveness pings).</summary>
public sealed class ClusterVipMembership(ClusterNode cluster) : IVipMembership
{
    public string NodeId => cluster.NodeId;

    public TimeSpan RightRemaining() => cluster.VipRightRemaining();

    public CancellationToken RightEnds => cluster.Role == ClusterRole.Witness ? CancellationToken.None : cluster.LeaderLeaseToken;

    public bool RightStaleAfterStall => cluster.IsLeader;

    public void Report(long index) => cluster.Leases.Report = index;

    public Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken) => cluster.WaitForLeadershipAsync(cancellationToken);

    public long Term => cluster.Term;

    public IReadOnlyList<string> ReachableHolders() =>
        [.. cluster.Members
            .Where(m => m.Id is not null && m.Role == "voter" && Answers(m))
            .OrderBy(m => m.IsLocal ? 0 : 1)
            .Select(m => m.Id!)];

    public bool IsReachable(string node) => cluster.Members.Any(m => m.Id == node && Answers(m));

    public void Revoke(string node, long releaseIndex) => cluster.Leases.Revoke(node, releaseIndex);

    public void StartGranting(long term, long index) => cluster.Leases.StartGranting(term, index);

    public void Suspend(string node) => cluster.Leases.Suspend(node);

    public void Resume(string node) => cluster.Leases.Resume(node);

    public bool SurelyReleased(string node, long releaseIndex, TimeSpan extra = default) =>
        cluster.Leases.SurelyReleased(node, releaseIndex, cluster.Term, cluster.NodeId, extra);

    public bool MembershipSettled() => cluster.Members.All(m => m.Id is not null && m.Role is not null && Answers(m));

    /// <summary>This node, or a member whose liveness pings are answered now.</summary>
    private static bool Answers(ClusterMemberView member) => member.IsLocal || member.Status == "available";
}
