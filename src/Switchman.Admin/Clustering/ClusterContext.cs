using Switchman.Cluster;

namespace Switchman.Admin.Clustering;

/// <summary>The cluster parts of a node, all null when it runs alone; endpoints take this rather than optional services.</summary>
public sealed class ClusterContext(ClusterNode? node, LeaderForwarder? forwarder, ClusterSignature? signature)
{
    public static readonly ClusterContext Alone = new(null, null, null);

    public ClusterNode? Node { get; } = node;

    public LeaderForwarder? Forwarder { get; } = forwarder;

    public ClusterSignature? Signature { get; } = signature;
}
