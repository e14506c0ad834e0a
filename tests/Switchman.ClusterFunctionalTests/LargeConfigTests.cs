using System.Net;
using System.Text;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>
/// A large configuration travels through the cluster: forwarded by a follower, carried in one Raft entry (many times
/// DotNext's 64 KiB log chunk), snapshotted, and sent whole to a member that restarts with an empty disk.
/// </summary>
public sealed class LargeConfigTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    // 6,000 servers, ~0.5 MB of YAML, ~1 MB in the log entry. Three times that (1,000 backends, 1.6 MB) cost the leader
    // its term on this loaded 2-core machine: docs/cluster.md, "Known limits".
    private const int Backends = 300;
    private const int ServersEach = 20;

    [Fact]
    public async Task A_configuration_of_megabytes_sent_to_a_follower_runs_on_every_node_and_on_one_restarted_with_an_empty_disk()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => n != leader);
        var yaml = LargeShared(cluster, Backends, ServersEach);
        output.WriteLine($"{yaml.Length} bytes of YAML");
        Assert.InRange(yaml.Length, 400_000, 1024 * 1024);

        // A PUT of a whole configuration is idempotent: on a 503 (no leader, or the outcome unknown because the leader
        // lost its term while this busy machine parsed the change) the client sends it again, as docs/cluster.md says.
        var revision = await PutUntilAcceptedAsync(cluster, follower, yaml);
        foreach (var node in cluster.Nodes)
        {
            await Await.UntilAsync(async () => (await RunningAsync(cluster, node)).Revision >= revision, Converge, $"{node.Id} to run revision {revision}");
            Assert.Equal((Backends + 1, ServersEach), (await RunningAsync(cluster, node)) is var running ? (running.Backends, running.LastBackendServers) : default);
        }

        // A member with a wiped disk gets it back from the others (a snapshot: the test cluster takes one every 10 entries).
        var wiped = cluster.Nodes.First(n => n != leader && n != follower);
        await cluster.StopAsync(wiped);
        cluster.WipeData(wiped);
        for (var i = 0; i < 12; i++)
        {
            await cluster.AddServerAcceptedAsync(leader, $"after-{i}");
        }
        await cluster.StartAsync(wiped);
        await Await.UntilAsync(
            async () => await RunningAsync(cluster, wiped) is { Backends: Backends + 1 } running && running.Revision > revision,
            Converge, $"{wiped.Id} to run the large configuration again after its disk was wiped");
        Assert.Equal(ServersEach, (await RunningAsync(cluster, wiped)).LastBackendServers);
    }

    private async Task<long> PutUntilAcceptedAsync(SwitchmanTestCluster cluster, TestClusterMember node, string yaml)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await cluster.Http.PutAsync(new Uri($"{node.AdminUrl}/api/v1/config"), new StringContent(yaml, Encoding.UTF8, "application/yaml"));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("revision").GetInt64();
            }
            output.WriteLine($"attempt {attempt}: {(int)response.StatusCode} {body}");
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 5, body);
            await cluster.WaitForLeaderAsync(timeout: Converge);
        }
    }

    /// <summary>The revision a node runs, its number of backends and the servers of the last one added, from its admin API.</summary>
    private static async Task<(long Revision, int Backends, int LastBackendServers)> RunningAsync(SwitchmanTestCluster cluster, TestClusterMember node)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{node.AdminUrl}/api/v1/config"));
            request.Headers.Accept.Add(new("application/json"));
            using var response = await cluster.Http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            var revision = long.Parse(response.Headers.ETag!.Tag.Trim('"'), System.Globalization.CultureInfo.InvariantCulture);
            using var document = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var backends = document.RootElement.GetProperty("backends");
            var last = backends.TryGetProperty($"backend-{Backends - 1}", out var b) ? b.GetProperty("servers").GetArrayLength() : 0;
            return (revision, backends.EnumerateObject().Count(), last);
        }
        catch (HttpRequestException)
        {
            return (0, 0, 0);
        }
    }

    /// <summary>The cluster's shared part with <paramref name="backends"/> more backends of <paramref name="servers"/> servers each.</summary>
    private static string LargeShared(SwitchmanTestCluster cluster, int backends, int servers)
    {
        var yaml = new StringBuilder();
        yaml.Append($"frontends:\n  web:\n    listen: 127.0.0.1:{cluster.FrontendPort}\n    routes: [ {{ backend: api }} ]\n");
        yaml.Append("backends:\n  api:\n    servers:\n      - { name: seed, address: 127.0.0.1:9 }\n");
        for (var b = 0; b < backends; b++)
        {
            yaml.Append($"  backend-{b}:\n    balance: leastconn\n    servers:\n");
            for (var s = 0; s < servers; s++)
            {
                yaml.Append($"      - {{ name: server-{s}-of-backend-{b}, address: 10.{b / 250}.{b % 250}.{s + 1}:8080, weight: {1 + (s % 5)} }}\n");
            }
        }
        return yaml.ToString();
    }
}
