using System.Net;
using System.Net.Http.Json;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>
/// One path from an accepted change to the data plane, on every node: overrides outlive unrelated configuration
/// changes, and each node validates the configuration it runs (the shared part with its own admin section).
/// </summary>
public sealed class ChangePipelineTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_drained_server_stays_drained_on_every_node_after_a_configuration_change_that_leaves_it_alone()
    {
        await using var a = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);
        await using var b = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "b" }, CancellationToken.None);
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => n != leader);
        await SetSharedAsync(cluster, follower, a, b, healthInterval: "1s");

        var drain = await cluster.Http.PostAsJsonAsync(new Uri($"{follower.AdminUrl}/api/v1/backends/api/servers/a/state"), new { state = "drain" });
        Assert.Equal(HttpStatusCode.OK, drain.StatusCode);
        await UntilEveryNodeAsync(cluster, node => ServerState(cluster, node, "a") == "drain", "a to be drained");

        // Only the backend's health interval changes; server a's definition does not.
        var revision = await SetSharedAsync(cluster, leader, a, b, healthInterval: "2s");

        await UntilEveryNodeAsync(cluster, node => cluster.Node(node).Revision == revision, $"revision {revision}");
        foreach (var node in cluster.Nodes)
        {
            Assert.Equal("drain", ServerState(cluster, node, "a"));
            var events = cluster.Node(node).Events.Since(0).Where(e => e.Type == "server_state_changed" && Equals(e.Data["server"], "a")).ToList();
            Assert.Equal(["drain"], events.Select(e => e.Data["state"]));
        }
        var servedBy = new List<string>();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{cluster.FrontendPort}") };
        for (var i = 0; i < 10; i++)
        {
            servedBy.Add(ServerOf(await client.GetStringAsync("/report")));
        }
        Assert.All(servedBy, name => Assert.Equal("b", name));
    }

    [Fact]
    public async Task A_cluster_whose_shared_frontend_listens_on_the_default_admin_port_converges_and_serves()
    {
        await using var backend = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "only" }, CancellationToken.None);
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess);
        // Every node's admin listener is elsewhere; the shared part alone, checked against the default admin listener
        // (127.0.0.1:9090), would collide with this frontend.
        foreach (var node in cluster.Nodes)
        {
            var yaml = cluster.ConfigYaml(node)
                .Replace($"listen: 127.0.0.1:{cluster.FrontendPort}", "listen: 127.0.0.1:9090", StringComparison.Ordinal)
                .Replace("127.0.0.1:9 }", $"{backend.BaseAddress.Authority} }}", StringComparison.Ordinal);
            await File.WriteAllTextAsync(node.ConfigFile, yaml);
        }

        await cluster.StartAllAsync();
        await cluster.WaitForLeaderAsync();

        var revisions = cluster.Nodes.Select(n => cluster.Node(n).Revision).Distinct().ToList();
        Assert.Single(revisions);
        Assert.All(cluster.Nodes, node => Assert.DoesNotContain(cluster.Node(node).Events.Since(0), e => e.Type == "config_apply_failed"));
        using var client = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:9090") };
        Assert.Equal("only", ServerOf(await client.GetStringAsync("/report")));
    }

    /// <summary>Puts a shared configuration with servers a and b (health checked every <paramref name="healthInterval"/>) through <paramref name="node"/>; returns its revision.</summary>
    private static async Task<long> SetSharedAsync(SwitchmanTestCluster cluster, TestClusterMember node, DemoBackendServer a, DemoBackendServer b, string healthInterval)
    {
        var yaml = string.Join('\n',
        [
            "frontends:",
            "  web:",
            $"    listen: 127.0.0.1:{cluster.FrontendPort}",
            "    routes: [ { backend: api } ]",
            "backends:",
            "  api:",
            $"    health: {{ path: /healthz, interval: {healthInterval}, timeout: 500ms }}",
            "    servers:",
            $"      - {{ name: a, address: {a.BaseAddress.Authority} }}",
            $"      - {{ name: b, address: {b.BaseAddress.Authority} }}",
            "",
        ]);
        using var response = await cluster.Http.PutAsync(new Uri($"{node.AdminUrl}/api/v1/config"), new StringContent(yaml, System.Text.Encoding.UTF8, "application/yaml"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("revision").GetInt64();
    }

    private static string ServerOf(string demoBackendJson) =>
        System.Text.Json.JsonDocument.Parse(demoBackendJson).RootElement.GetProperty("server").GetString()!;

    private static string? ServerState(SwitchmanTestCluster cluster, TestClusterMember node, string server) =>
        cluster.Node(node).DataPlane.GetStatus().Backends.SingleOrDefault(b => b.Name == "api")?.Servers.SingleOrDefault(s => s.Name == server)?.State;

    private static Task UntilEveryNodeAsync(SwitchmanTestCluster cluster, Func<TestClusterMember, bool> condition, string what) =>
        Await.UntilAsync(() => cluster.Nodes.All(condition), Converge, $"every node: {what}");
}
