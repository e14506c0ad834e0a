using Switchman.Core.Configuration;

namespace Switchman.Core.Changes;

/// <summary>
/// <c>admin</c>, <c>cluster</c>, <c>data_dir</c> and <c>vip_interfaces</c> belong to the node (its own listener,
/// tokens, id, peers, data directory, interface names) and are never part of the shared state; everything else is the shared configuration, which changes through the log.
/// </summary>
public static class NodeLocalSections
{
    private static readonly AdminConfig Unset = new();

    /// <summary>The shared part, as it goes into the replicated log.</summary>
    public static SwitchmanConfig Strip(SwitchmanConfig config) =>
        config with { Admin = Unset, Cluster = null, DataDir = null, VipInterfaces = ValueList<VipInterfaceConfig>.Empty };

    /// <summary>The proposal with this node's sections where it left them out (a shared-only document is the common case).</summary>
    public static SwitchmanConfig Fill(SwitchmanConfig proposed, SwitchmanConfig local) => proposed with
    {
        Admin = proposed.Admin == Unset ? local.Admin : proposed.Admin,
        Cluster = proposed.Cluster ?? local.Cluster,
        DataDir = local.DataDir,
        VipInterfaces = local.VipInterfaces,
    };

    /// <summary>
    /// A proposal that changes the <c>cluster</c> section, <c>data_dir</c> or <c>vip_interfaces</c> is refused: they
    /// are read at start (a node's id, peers, state and interface names; membership changes go through
    /// <c>switchman members</c>). The <c>admin</c> section
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
        if (proposed.VipInterfaces.Count > 0 && proposed.VipInterfaces != local.VipInterfaces)
        {
            return new ConfigError("", 0, 0, "vip_interfaces", "vip_interfaces is read at start and cannot change while the node runs; restart the node to change it");
        }
        return proposed.DataDir is not null && proposed.DataDir != local.DataDir
            ? new ConfigError("", 0, 0, "data_dir", "data_dir is read at start and cannot change while the node runs; restart the node to change it")
            : null;
    }
}
