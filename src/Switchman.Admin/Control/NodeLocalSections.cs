using Switchman.Cluster.Replication;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Control;

/// <summary>
/// In a cluster, <c>admin</c> and <c>cluster</c> belong to the node (its own listener, tokens, id, peers, data
/// directory) and are never replicated; everything else is the cluster's shared configuration.
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

    /// <summary>A proposal that changes a node-local section is refused: it would apply to one node only.</summary>
    public static ConfigError? Refuse(SwitchmanConfig proposed, SwitchmanConfig local)
    {
        if (proposed.Admin != Unset && proposed.Admin != local.Admin)
        {
            return new ConfigError("", 0, 0, "admin",
                "admin is node-local in a cluster and cannot change through the cluster: edit each node's file and restart it (or leave admin out of the document)");
        }
        if (proposed.Cluster is not null && proposed.Cluster != local.Cluster)
        {
            return new ConfigError("", 0, 0, "cluster",
                "cluster is node-local and cannot change through the cluster: use `switchman members add|remove` for membership, or edit the node's file and restart it");
        }
        return null;
    }

    /// <summary>"backend/server" keys of servers that the proposal removes or whose configuration it changes.</summary>
    public static IReadOnlyList<string> ServersChanged(SwitchmanConfig current, SwitchmanConfig proposed)
    {
        var changed = new List<string>();
        foreach (var backend in current.Backends)
        {
            var next = proposed.FindBackend(backend.Name);
            foreach (var server in backend.Servers)
            {
                if (next?.Servers.FirstOrDefault(s => s.Name == server.Name) != server)
                {
                    changed.Add(ReplicatedState.ServerKey(backend.Name, server.Name));
                }
            }
        }
        return changed;
    }
}
