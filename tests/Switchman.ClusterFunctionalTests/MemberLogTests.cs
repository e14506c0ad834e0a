using Microsoft.Extensions.Logging;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>What a node's log says about its peers: a lost member is a warning, its return is not; members by id.</summary>
public sealed class MemberLogTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_follower_cut_off_is_logged_unreachable_as_a_warning_and_back_as_information_by_id()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => n != leader);
        var leaderLogs = cluster.Logs(leader);
        var lostLine = $"Cluster member {follower.Id} ({follower.ClusterAddress}) is unreachable";
        var backLine = $"Cluster member {follower.Id} ({follower.ClusterAddress}) is reachable again";

        cluster.Member(follower).TrafficGate.Isolate();
        await Await.UntilAsync(() => leaderLogs.GetSnapshot().Any(r => r.Message == lostLine), Converge, $"the leader to log: {lostLine}");
        cluster.Member(follower).TrafficGate.Heal();
        await Await.UntilAsync(() => leaderLogs.GetSnapshot().Any(r => r.Message == backLine), Converge, $"the leader to log: {backLine}");

        var lost = leaderLogs.GetSnapshot().Last(r => r.Message == lostLine);
        var back = leaderLogs.GetSnapshot().Last(r => r.Message == backLine);
        Assert.Equal((2131, LogLevel.Warning), (lost.Id.Id, lost.Level));
        Assert.Equal((2132, LogLevel.Information), (back.Id.Id, back.Level));
        // Every reachability line on every node names the member by id, also before its first contact (start-up).
        var ids = cluster.Nodes.Select(n => n.Id).ToHashSet();
        Assert.All(cluster.Nodes.SelectMany(n => cluster.Logs(n).GetSnapshot()).Where(r => r.Id.Id is 2131 or 2132),
            r => Assert.Contains(r.Message.Split(' ')[2], ids));
    }

    [Fact]
    public async Task A_member_never_reached_is_reported_unreachable_by_id_once_the_start_up_grace_is_over_and_the_others_raise_no_alarm()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess);
        var absent = cluster.Nodes[2];
        var present = cluster.Nodes.Take(2).ToList();
        // A brand-new cluster elects its first leader only once enough members have started (docs/cluster.md, a node
        // with an empty data directory): the three form it, then two of them run again without the third, which they
        // have not reached since they started.
        await cluster.StartAllAsync();
        await cluster.WaitForLeaderAsync();
        foreach (var node in cluster.Nodes)
        {
            await cluster.StopAsync(node);
        }
        await Task.WhenAll(present.Select(n => cluster.StartAsync(n)));
        await cluster.WaitForLeaderAsync(present);

        // The absent member: named by its configured id (it never announced one), on both nodes that run.
        foreach (var node in present)
        {
            await Await.UntilAsync(() => cluster.Node(node).Events.Since(0).Any(e => e.Type == "member_unreachable" && Equals(e.Data["member"], absent.Id)),
                Converge, $"{node.Id} to report {absent.Id}, never started, unreachable");
        }
        // The two that started side by side are not reported to each other: the grace covers a cluster being started.
        Assert.All(present, node => Assert.DoesNotContain(cluster.Node(node).Events.Since(0),
            e => e.Type == "member_unreachable" && present.Any(p => Equals(e.Data["member"], p.Id))));
    }
}
