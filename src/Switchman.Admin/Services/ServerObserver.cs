using Switchman.Admin.Api;
using Switchman.Admin.Clustering;
using Switchman.Proxy;

namespace Switchman.Admin.Services;

/// <summary>One load balancer's view of one server: requests in flight to it there, its health and admin state there; or why that node did not say.</summary>
public sealed record ServerView(string Node, int? InFlight, string? Health, string? State, string? Error)
{
    public bool IsUp => Health == "up";
}

/// <summary>
/// How every load balancer sees one server: this node's data plane, and each other voter's own answer (asked in
/// parallel over the signed node-to-node API, bounded). A rolling restart drains a server on all of them and waits for
/// all of them to see it healthy again.
/// </summary>
public sealed class ServerObserver(DataPlane dataPlane, ClusterContext cluster, string nodeId)
{
    public const string Path = AdminEndpoints.NodeToNodePrefix + "servers/";

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(1);

    public async Task<IReadOnlyList<ServerView>> ObserveAsync(string backend, string server, CancellationToken cancellationToken)
    {
        if (cluster.Node is not { } node || cluster.Forwarder is not { } forwarder)
        {
            return [Local(backend, server)];
        }
        var others = node.Members.Where(m => !m.IsLocal && m.Role == "voter").ToList();
        var answers = await Task.WhenAll(others.Select(async member =>
        {
            if (member.AdminUrl is not { } url)
            {
                return new ServerView(member.Id ?? member.Address, null, null, null, "its admin address is not known yet");
            }
            var (view, error) = await forwarder.GetAsync(url, $"{Path}{Uri.EscapeDataString(backend)}/{Uri.EscapeDataString(server)}", Clustering.NodeToNodeJson.Default.ServerView, AskTimeout, cancellationToken)
                .ConfigureAwait(false);
            return view ?? new ServerView(member.Id ?? member.Address, null, null, null, error);
        })).ConfigureAwait(false);
        return [Local(backend, server), .. answers];
    }

    /// <summary>This node's own view (what the node-to-node endpoint answers).</summary>
    public ServerView Local(string backend, string server) =>
        dataPlane.GetServerStatus(backend, server) is { } status
            ? new ServerView(nodeId, status.InFlight, status.Health, status.State, null)
            : new ServerView(nodeId, null, null, null, $"it has no server {backend}/{server}");
}
