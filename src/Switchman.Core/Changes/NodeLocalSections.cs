using Switchman.Core.Configuration;

namespace Switchman.Core.Changes;

/// <summary>
/// <c>admin</c>, <c>cluster</c> and <c>data_dir</c> belong to the node (its own listener, tokens, id, peers, data
/// directory) and are never part of the shared state; everything else is the shared configuration, which changes through the log.
/// </summary>
public static class NodeLocalSections
{
    private static readonly AdminConfig Unset = new();

    /// <summary>The shared part, as it goes into the replicated log.</summary>
    public static SwitchmanConfig Strip(SwitchmanConfig config) => config with { Admin = Unset, Cluster = null, DataDir = null };

    /// <summary>The proposal with this node's sections where it left them out (a shared-only document is the common case).</summary>
    public static SwitchmanConfig Fill(SwitchmanConfig proposed, SwitchmanConfig local) => proposed with
    {
        Admin = proposed.Admin == Unset ? local.Admin : proposed.Admin,
        Cluster = proposed.Cluster ?? local.Cluster,
        DataDir = local.DataDir,
    };

    /// <summary>
    /// A proposal that changes the <c>cluster</c> section or <c>data_dir</c> is refused: they are read at start (a
    /// node's id, peers and state; membership changes go through <c>switchman members</c>). The <c>admin</c> section
    /// may change on the node that receives it, for that node only.
    /// </summary>
    public static ConfigError? RefuseStartupOnlyChange(SwitchmanConfig proposed, SwitchmanConfig local)
    {
        ArgumentNullException.ThrowIfNull(proposed);
        ArgumentNullException.ThrowIfNull(local);
        if (proposed.Cluster is not null && proposed.Cluster != local.Cluster)
        {
            return new ConfigError("", 0, 0, "cluster",
                "cluster is node-local and cannot change while the node runs: use `switchman members add|remove` for membership, or edit the node's file and restart it");
        }
        return proposed.DataDir is not null && proposed.DataDir != local.DataDir
            ? new ConfigError("", 0, 0, "data_dir", "data_dir is read at start and cannot change while the node runs; restart the node to change it")
            : null;
    }
}
