using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Switchman.Testing;

/// <summary>What a test asks a cluster's nodes through their admin APIs (the same for processes and in-process nodes).</summary>
public sealed partial class SwitchmanTestCluster
{
    /// <summary>A client with the admin token (<see cref="TestTokens.AdminToken"/>), for requests to any node's admin URL.</summary>
    public HttpClient Http { get; }

    /// <summary>The node's view of the cluster, or null when it does not answer.</summary>
    public async Task<ClusterView?> ViewAsync(TestClusterMember node)
    {
        ArgumentNullException.ThrowIfNull(node);
        try
        {
            using var response = await Http.GetAsync(new Uri($"{node.AdminUrl}/api/v1/cluster"));
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var root = document.RootElement;
            return new ClusterView(
                root.GetProperty("node_id").GetString()!,
                root.TryGetProperty("leader", out var leader) ? leader.GetString() : null,
                root.GetProperty("term").GetInt64(),
                root.GetProperty("revision").GetInt64(),
                root.GetProperty("applied_index").GetInt64(),
                [.. root.GetProperty("members").EnumerateArray().Select(m => m.TryGetProperty("id", out var id) ? id.GetString() ?? "?" : "?")],
                [.. root.GetProperty("members").EnumerateArray().Where(m => m.TryGetProperty("lag", out _)).Select(m => m.GetProperty("lag").GetInt64())]);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// The sum of the samples of one metric family in the node's <c>/metrics</c>, e.g.
    /// <c>switchman_cluster_refused_connections</c>; 0 when the node exports none yet.
    /// </summary>
    public async Task<double> MetricAsync(TestClusterMember node, string name)
    {
        ArgumentNullException.ThrowIfNull(node);
        return PrometheusText.SumFamily(await Http.GetStringAsync(new Uri($"{node.AdminUrl}/metrics")), name);
    }

    /// <summary>Adds a server to backend <c>api</c> through <paramref name="node"/>: a configuration change. Returns the status and, if accepted, the revision.</summary>
    public async Task<(HttpStatusCode Status, long? Revision, string Body)> AddServerAsync(TestClusterMember node, string name, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20), TimeProvider.System);
        using var response = await Http.PostAsJsonAsync(
            new Uri($"{node.AdminUrl}/api/v1/backends/api/servers"), new { name, address = "127.0.0.1:9" }, cancel.Token);
        var body = await response.Content.ReadAsStringAsync(cancel.Token);
        long? revision = response.StatusCode == HttpStatusCode.Created
            ? JsonDocument.Parse(body).RootElement.GetProperty("revision").GetInt64()
            : null;
        return (response.StatusCode, revision, body);
    }

    /// <summary>Like <see cref="AddServerAsync"/>, failing (with the node's answer) unless it was accepted; returns the revision.</summary>
    /// <exception cref="InvalidOperationException">The node did not answer 201 Created.</exception>
    public async Task<long> AddServerAcceptedAsync(TestClusterMember node, string name)
    {
        ArgumentNullException.ThrowIfNull(node);
        var (status, revision, body) = await AddServerAsync(node, name);
        return status == HttpStatusCode.Created
            ? revision!.Value
            : throw new InvalidOperationException($"adding {name} through {node.Id}: {(int)status} {body}");
    }

    /// <summary>The server names of backend <c>api</c> in the configuration <paramref name="node"/> runs, and its revision.</summary>
    public async Task<(long Revision, IReadOnlyList<string> Servers)> ServersAsync(TestClusterMember node)
    {
        ArgumentNullException.ThrowIfNull(node);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{node.AdminUrl}/api/v1/config"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var revision = long.Parse(response.Headers.ETag!.Tag.Trim('"'), CultureInfo.InvariantCulture);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var servers = document.RootElement.GetProperty("backends").GetProperty("api").GetProperty("servers")
            .EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToList();
        return (revision, servers);
    }
}
