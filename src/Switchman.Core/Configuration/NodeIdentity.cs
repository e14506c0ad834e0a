namespace Switchman.Core.Configuration;

/// <summary>The id a node goes by in VIP assignments, service placements and <c>{node}</c>: its <c>cluster.node_id</c>, or its host name when it runs alone.</summary>
public static class NodeIdentity
{
    public static string Of(SwitchmanConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Cluster?.NodeId is { Length: > 0 } id ? id : Environment.MachineName;
    }
}
