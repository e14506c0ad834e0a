using System.Net;
using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>
/// <c>POST /api/v1/nodes/{node}/standby|online</c> in a cluster: sent to any node, committed through the leader, seen
/// by every node; only member ids are accepted. No VIP is configured, so nothing touches the host's interfaces.
/// </summary>
public sealed class NodeStandbyTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Standby_SentToAFollower_SeenOnEveryNode_Online_EndsIt_UnknownNode_404_ListsTheMembers()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => n != leader);
        var target = cluster.Nodes.First(n => n != leader && n != follower);

        using (var standby = await cluster.Http.PostAsync(new Uri($"{follower.AdminUrl}/api/v1/nodes/{target.Id}/standby"), null))
        {
            var body = await standby.Content.ReadAsStringAsync();
            Assert.True(standby.StatusCode == HttpStatusCode.OK, body);
            var standing = JsonDocument.Parse(body).RootElement;
            Assert.Equal((target.Id, true, "ops"), (standing.GetProperty("node").GetString(), standing.GetProperty("standby").GetBoolean(), standing.GetProperty("standby_author").GetString()));
        }
        await Await.UntilAsync(async () => (await Task.WhenAll(cluster.Nodes.Select(n => StandbyListedAsync(cluster, n, target.Id)))).All(listed => listed),
            Converge, $"every node to list {target.Id} in standby");
        Assert.All(cluster.Nodes, node => Assert.Contains(cluster.Node(node).Events.Since(0), e => e.Type == "node_standby" && Equals(e.Data["node"], target.Id)));
        var targetStatus = JsonDocument.Parse(await cluster.Http.GetStringAsync(new Uri($"{target.AdminUrl}/api/v1/status"))).RootElement.GetProperty("node");
        Assert.Equal((target.Id, true), (targetStatus.GetProperty("id").GetString(), targetStatus.GetProperty("standby").GetBoolean()));

        using (var unknown = await cluster.Http.PostAsync(new Uri($"{follower.AdminUrl}/api/v1/nodes/nope/standby"), null))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            var error = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("node 'nope' is not a member of this cluster; members: n1, n2, n3", error.GetProperty("error").GetString());
            Assert.Equal(["n1", "n2", "n3"], error.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()));
        }

        using (var online = await cluster.Http.PostAsync(new Uri($"{leader.AdminUrl}/api/v1/nodes/{target.Id}/online"), null))
        {
            Assert.Equal(HttpStatusCode.OK, online.StatusCode);
        }
        await Await.UntilAsync(async () => !(await Task.WhenAll(cluster.Nodes.Select(n => StandbyListedAsync(cluster, n, target.Id)))).Any(listed => listed),
            Converge, $"every node to have {target.Id} online again");
    }

    /// <summary>Whether <paramref name="node"/>'s <c>GET /api/v1/vips</c> lists <paramref name="id"/> in standby.</summary>
    private static async Task<bool> StandbyListedAsync(SwitchmanTestCluster cluster, TestClusterMember node, string id)
    {
        var vips = JsonDocument.Parse(await cluster.Http.GetStringAsync(new Uri($"{node.AdminUrl}/api/v1/vips"))).RootElement;
        return vips.GetProperty("nodes").EnumerateArray().Any(n => n.GetProperty("node").GetString() == id && n.GetProperty("standby").GetBoolean());
    }
}
