using System.Net;
using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>
/// A clone on three nodes, each node running its own instance of a demo REST service as its server in the shared
/// backend: every node's status shows every instance, and a rolling restart through one node, under load through all
/// three load balancers, fails no request and gives every instance a new pid.
/// </summary>
public sealed class ServiceClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_rolling_restart_of_a_three_instance_clone_under_load_fails_no_request_and_renews_every_pid()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess);
        var ports = cluster.Nodes.ToDictionary(n => n.Id, _ => LoopbackPorts.Free());
        foreach (var node in cluster.Nodes)
        {
            await File.WriteAllTextAsync(node.ConfigFile, WithClone(cluster.ConfigYaml(node), ports));
        }
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var via = cluster.Node(leader);
        await Await.UntilAsync(async () => (await InstancesAsync(via)).Count(i => i.State == "running") == 3, Settle, "an instance running on every node");
        foreach (var node in cluster.Nodes)
        {
            await Await.UntilAsync(() => cluster.Node(node).DataPlane.GetStatus().Backends.Single(b => b.Name == "api").Servers.All(s => s.Health == "up"), Settle,
                $"every server up in {node.Id}'s load balancer");
            // Every node sees every instance, as the nodes reported them through the log, and publishes the same events.
            Assert.Equal(3, (await InstancesAsync(cluster.Node(node))).Count);
            var started = cluster.Node(node).Events.Since(0).Where(e => e.Type == "service_started").Select(e => e.Message).ToList();
            Assert.All(cluster.Nodes, other => Assert.Contains(started, m => m.StartsWith($"service app on {other.Id} is running", StringComparison.Ordinal)));
        }
        var before = (await InstancesAsync(via)).ToDictionary(i => i.Node, i => i.Pid);

        var frontend = new Uri($"http://127.0.0.1:{cluster.FrontendPort}/");
        await using var load = LoadGenerator.Start(new LoadOptions
        {
            Concurrency = 6, MaxDuration = TimeSpan.FromSeconds(120), MaxRequests = 200_000, RequestsPerSecond = 150, RequestTimeout = TimeSpan.FromSeconds(5),
        }, i => new HttpRequestMessage(HttpMethod.Get, new Uri(frontend, $"/items/{i}")));
        await load.WaitForCompletedAsync(150, Settle);
        using var response = await via.Admin.PostAsync("/api/v1/services/app/restart?rolling=true", null);
        var body = await response.Content.ReadAsStringAsync();
        output.WriteLine(body);
        await load.WaitForCompletedAsync(load.Completed + 150, Settle);
        var result = await load.StopAsync();

        output.WriteLine(result.ToString());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, result.Failed);
        var after = (await InstancesAsync(via)).ToDictionary(i => i.Node, i => i.Pid);
        Assert.All(cluster.Nodes, node => Assert.NotEqual(before[node.Id], after[node.Id]));
        var steps = JsonDocument.Parse(body).RootElement.GetProperty("steps").EnumerateArray().Select(s => s.GetString()!).ToList();
        Assert.All(cluster.Nodes, node => Assert.Contains(steps, s => s.StartsWith($"{node.Id}: api/{node.Id} drained", StringComparison.Ordinal)));
        Assert.All(cluster.Nodes, node => Assert.Contains(steps, s => s == $"{node.Id}: api/{node.Id} up in every load balancer, ready again"));
        Assert.True(result.ServerCounts.Count == 3, "every instance served requests");
    }

    [Fact]
    public async Task A_singleton_runs_on_its_vip_s_holder_only_moves_with_it_when_moved_and_runs_there_again_after_a_cleanup()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess) { NoOpVipTools = true };
        foreach (var node in cluster.Nodes)
        {
            await File.WriteAllTextAsync(node.ConfigFile, cluster.ConfigYaml(node) + """
                vips:
                  - { name: api, address: 192.0.2.210/24, interface: lab0 }
                services:
                  solo:
                    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
                    placement: singleton
                    with_vip: api
                    stop_timeout: 2s
                """);
        }
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var via = cluster.Node(leader);
        await Await.UntilAsync(async () => (await SoloAsync(via)).Count(i => i.State == "running") == 1, Settle, "solo to run on one node");
        var first = (await SoloAsync(via)).Single(i => i.State == "running");
        Assert.Equal(first.Node, via.Host.ConfigStore.State.Vips["api"].Node);
        Assert.All((await SoloAsync(via)).Where(i => i.Node != first.Node), i => Assert.Equal("stopped", i.State));

        using var move = await via.Admin.PostAsync("/api/v1/services/solo/move", null);
        output.WriteLine(await move.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, move.StatusCode);
        await Await.UntilAsync(async () => (await SoloAsync(via)).Any(i => i.Node != first.Node && i.State == "running"), Settle, "solo to run on another node");

        var after = await SoloAsync(via);
        var second = after.Single(i => i.State == "running");
        Assert.Equal(second.Node, via.Host.ConfigStore.State.Vips["api"].Node);
        var moved = after.Single(i => i.Node == first.Node);
        Assert.Equal("failed", moved.State);
        Assert.Contains(cluster.Node(leader).Events.Since(0), e => e.Type == "service_moved" && e.Message.StartsWith($"service solo moved away from {first.Node}", StringComparison.Ordinal));
        // Gracefully: the old holder's instance ended on its SIGTERM, not fenced.
        Assert.All(cluster.Nodes, n => Assert.DoesNotContain(cluster.Logs(n).GetSnapshot(), r => r.Id.Id == 7007));

        using var cleanup = await via.Admin.PostAsync($"/api/v1/services/solo/cleanup?node={first.Node}", null);
        Assert.Equal(HttpStatusCode.OK, cleanup.StatusCode);
        await Await.UntilAsync(async () => (await SoloAsync(via)).Single(i => i.Node == first.Node).State == "stopped", Settle, "the old holder to be clean again");
        Assert.Equal([second.Node], (await SoloAsync(via)).Where(i => i.State == "running").Select(i => i.Node));

        using var clone = await via.Admin.PostAsync("/api/v1/services/ghost/move", null);
        Assert.Equal(HttpStatusCode.NotFound, clone.StatusCode);
    }

    private static async Task<IReadOnlyList<Instance>> SoloAsync(SwitchmanTestNode node)
    {
        var document = JsonDocument.Parse(await node.Reader.GetStringAsync("/api/v1/services/solo")).RootElement;
        return [.. document.GetProperty("instances").EnumerateArray().Select(i => new Instance(
            i.GetProperty("node").GetString()!, i.GetProperty("state").GetString()!, i.TryGetProperty("pid", out var pid) ? pid.GetInt32() : 0))];
    }

    /// <summary>The shared part with backend "api" of one server per node (named after it) and the clone "app" that runs it.</summary>
    private static string WithClone(string yaml, IReadOnlyDictionary<string, int> ports)
    {
        var servers = string.Join('\n', ports.Select(p => $"      - {{ name: {p.Key}, address: 127.0.0.1:{p.Value} }}"));
        return yaml.Replace("      - { name: seed, address: 127.0.0.1:9 }", servers + """

                health: { path: /healthz, interval: 300ms, timeout: 500ms, rise: 2, fall: 2 }
            services:
              app:
                command: ["{switchman}", "demo-backend", "--listen", "{server_address}", "--name", "{node}"]
                backend: api
                monitor: { http: "http://{server_address}/healthz", interval: 500ms }
            """, StringComparison.Ordinal);
    }

    private sealed record Instance(string Node, string State, int Pid);

    private static async Task<IReadOnlyList<Instance>> InstancesAsync(SwitchmanTestNode node)
    {
        var document = JsonDocument.Parse(await node.Reader.GetStringAsync("/api/v1/services/app")).RootElement;
        return [.. document.GetProperty("instances").EnumerateArray().Select(i => new Instance(
            i.GetProperty("node").GetString()!, i.GetProperty("state").GetString()!, i.TryGetProperty("pid", out var pid) ? pid.GetInt32() : 0))];
    }
}
