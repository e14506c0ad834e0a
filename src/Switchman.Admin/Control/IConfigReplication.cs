using Switchman.Core.Configuration;

namespace Switchman.Admin.Control;

/// <summary>What the cluster made of a proposed change: accepted at <paramref name="Revision"/>, or refused because it is at another revision.</summary>
public sealed record ReplicationResult(bool Accepted, long Revision, string? Refusal);

/// <summary>
/// The cluster's replicated log as the node's configuration store and admin API see it. Each call returns once the
/// change is committed and applied on this node; it throws <see cref="Cluster.ClusterNotLeaderException"/> when no
/// leader can take it (nothing written) and <see cref="Cluster.ClusterOutcomeUnknownException"/> when the outcome is unknown.
/// </summary>
public interface IConfigReplication
{
    /// <summary>Waits until this node runs everything the cluster has committed (before a change is validated here).</summary>
    Task CatchUpAsync(CancellationToken cancellationToken);

    /// <param name="shared">The configuration without its node-local sections.</param>
    /// <param name="basedOnRevision">The revision it was validated against; the cluster refuses it if it has moved on.</param>
    /// <param name="resetOverrides">"backend/server" keys whose runtime overrides the change ends.</param>
    Task<ReplicationResult> ProposeConfigAsync(
        SwitchmanConfig shared, long basedOnRevision, IReadOnlyList<string> resetOverrides, string author, CancellationToken cancellationToken);

    /// <summary>The server's replicated state and weight overrides (null fields: not overridden).</summary>
    (string? State, int? Weight)? OverrideOf(string backend, string server);

    Task<ReplicationResult> ProposeServerStateAsync(string backend, string server, ServerAdminState state, string author, CancellationToken cancellationToken);

    Task<ReplicationResult> ProposeServerWeightAsync(string backend, string server, int weight, string author, CancellationToken cancellationToken);
}
