using System.Diagnostics.Metrics;

namespace Switchman.Cluster;

/// <summary>
/// The cluster member's instruments (meter <c>Switchman.Cluster</c>, exported on /metrics): where it stands in the
/// log and the term, whether it leads, how its members are, and how its proposals fare.
/// </summary>
internal sealed class ClusterMetrics
{
    public const string MeterName = "Switchman.Cluster";

    private readonly Counter<long> _leaderChanges;
    private readonly Counter<long> _proposals;
    private readonly Histogram<double> _commitDuration;

    public ClusterMetrics(IMeterFactory meterFactory, ClusterNode node)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("switchman.cluster.term", () => node.Term, "{term}", "The Raft term this node is in.");
        meter.CreateObservableGauge("switchman.cluster.leader", () => new Measurement<int>(node.IsLeader ? 1 : 0, new KeyValuePair<string, object?>("node", node.NodeId)),
            "{leader}", "1 while this node leads, 0 otherwise; the node label is this node's id. The sum over the nodes is 1 while the cluster has a leader.");
        meter.CreateObservableGauge("switchman.cluster.commit_index", () => node.CommitIndex, "{entry}", "The highest log index this node knows to be committed.");
        meter.CreateObservableGauge("switchman.cluster.applied_index", () => node.AppliedIndex, "{entry}", "The last log index applied to this node's replicated state.");
        meter.CreateObservableGauge("switchman.cluster.lag", () => Math.Max(0, node.CommitIndex - node.AppliedIndex), "{entry}",
            "Committed log entries this node has not applied yet (commit index minus applied index). How far a follower trails the leader "
            + "is max(switchman_cluster_commit_index) minus its switchman_cluster_applied_index.");
        meter.CreateObservableGauge("switchman.cluster.revision", () => node.State.Revision, "{revision}", "The configuration revision in this node's replicated state.");
        meter.CreateObservableGauge("switchman.cluster.members", () => node.StartedMembers
            .GroupBy(m => m.Status)
            .Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("status", g.Key))), "{member}", "Members by status as this node sees them.");
        meter.CreateObservableCounter("switchman.cluster.refused_connections", () => node.RefusedConnections, "{connection}",
            "Cluster connections refused for failing authentication.");
        meter.CreateObservableCounter("switchman.cluster.abandoned_handshakes", () => node.AbandonedHandshakes, "{connection}",
            "Inbound cluster handshakes that timed out or that the peer closed halfway (a pause or a cut link; not a refusal).");
        _leaderChanges = meter.CreateCounter<long>("switchman.cluster.leader_changes", "{change}", "Leader changes seen by this node.");
        _proposals = meter.CreateCounter<long>("switchman.cluster.proposals", "{proposal}",
            "Changes this node proposed as leader, by outcome: accepted, refused (revision moved), not_leader, unknown.");
        _commitDuration = meter.CreateHistogram<double>("switchman.cluster.commit.duration", "s",
            "From proposing a change on the leader to its commit and local apply.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
    }

    public void LeaderChanged() => _leaderChanges.Add(1);

    public void Proposed(string outcome, TimeSpan duration)
    {
        _proposals.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome is "accepted" or "refused")
        {
            _commitDuration.Record(duration.TotalSeconds);
        }
    }
}
