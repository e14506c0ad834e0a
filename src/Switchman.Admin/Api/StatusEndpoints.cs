using System.Reflection;
using Microsoft.AspNetCore.Http;
using Switchman.Admin.Control;
using Switchman.Admin.Vips;
using Switchman.Proxy;

namespace Switchman.Admin.Api;

/// <summary>When this node started and what it runs; created when the admin API is mapped, just before the host starts.</summary>
public sealed class NodeInfo(TimeProvider time)
{
    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public string Version { get; } =
        typeof(NodeInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}

/// <summary><c>GET /api/v1/status</c> and <c>GET /api/v1/backends/{backend}/servers/{server}</c>.</summary>
internal static class StatusEndpoints
{
    public static async Task<IResult> GetStatusAsync(
        DataPlane dataPlane, ConfigStore store, RequestRates rates, NodeInfo node, Clustering.ClusterContext cluster,
        VipKeeper keeper, IVipMembership membership, CancellationToken cancellationToken)
    {
        var clusterSummary = cluster.Node is null
            ? null
            : await Clustering.ClusterEndpoints.BuildStatusAsync(cluster, store, withMembers: false, cancellationToken).ConfigureAwait(false);
        var status = dataPlane.GetStatus();
        var state = store.State;
        var document = new NodeStatusDocument(
            new NodeInfoDocument(store.Current.Revision, node.StartedAt, node.Version, membership.NodeId, state.StandingOf(membership.NodeId).Standby),
            status.Ready,
            status.Frontends,
            [.. status.Backends.Select(b => new BackendStatusDocument(
                b.Name, b.Balance, b.AvailableServers, [.. b.Servers.Select(s => ToDocument(b.Name, s, rates))]))],
            clusterSummary,
            VipEndpoints.Rows(state, keeper));
        return ApiResults.Json(document, ApiResults.Documents.NodeStatusDocument);
    }

    public static IResult GetServer(string backend, string server, DataPlane dataPlane, RequestRates rates) =>
        ServerLookup.Find(dataPlane.Config, backend, server) is { } notFound
            ? notFound
            : FindStatus(dataPlane, rates, backend, server) is { } found
                ? ApiResults.Json(found, ApiResults.Documents.ServerStatusDocument)
                : ServerLookup.NotFound(dataPlane.Config, backend, server);

    /// <summary>The server's status as the data plane reports it now, or null when it has no such server.</summary>
    public static ServerStatusDocument? FindStatus(DataPlane dataPlane, RequestRates rates, string backend, string server) =>
        dataPlane.GetServerStatus(backend, server) is { } status
            ? ToDocument(backend, status, rates)
            : null;

    private static ServerStatusDocument ToDocument(string backend, ServerStatus s, RequestRates rates) => new(
        s.Name, s.Address, s.Backup, s.State, s.Health, s.Available, s.Weight, s.InFlight,
        rates.RateOf(backend, s.Name), s.RequestsTotal, s.EjectedUntil, s.LastCheck, s.SuspectSince, s.HeldOut);
}
