using Switchman.Core.Configuration;

namespace Switchman.Core.Changes;

/// <summary>
/// <c>admin</c> and <c>cluster</c> belong to the node (its own listener, tokens, id, peers, data directory) and are
/// never part of the shared state; everything else is the shared configuration, which changes through the log.
/// </summary>
public static class NodeLocalSections
{
    private static readonly AdminConfig Unset = new();

    /// <summary>The shared part, as it goes into the replicated log.</summary>
    public static SwitchmanConfig Strip(SwitchmanConfig config) => config with { Admin = Unset, Cluster = null };

    /// <summary>The proposal with this node's sections where it left them out (a shared-only document is the common case).</summary>
    public static SwitchmanConfig Fill(SwitchmanConfig proposed, SwitchmanConfig local) => proposed with
    {
        Admin = proposed.Admin == Unset ? local.Admin : proposed.Admin,
        Cluster = proposed.Cluster ?? local.Cluster,
    };

    /// <summary>
    /// A proposal that changes the <c>cluster</c> section is refused: a node's id, peers and data directory are read
    /// at start (membership changes go through <c>switchman members</c>). The <c>admin</c> section may change on the
    /// node that receives it, for that node only.
    /// </summary>
    public static ConfigError? RefuseClusterChange(SwitchmanConfig proposed, SwitchmanConfig local)
    {
        ArgumentNullException.ThrowIfNull(proposed);
        ArgumentNullException.ThrowIfNull(local);
        return proposed.Cluster is not null && proposed.Cluster != local.Cluster
            ? new ConfigError("", 0, 0, "cluster",
                "cluster is node-local and cannot change while the node runs: use `switchman members add|remove` for membership, or edit the node's file and restart it")
            : null;
    }
}
