using System.Net;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>
/// A node that starts with an empty data directory withholds its vote until it has caught up with a leader, or until
/// enough other members are as new as itself (a brand-new cluster). In-process nodes: a node's cluster traffic can be
/// cut with the transport's fault hook, and its log lines and vote are read directly.
/// </summary>
public sealed class LostDiskTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    /// <summary>The event ids of a node's vote being given back (docs/logging.md): a brand-new cluster, or caught up with a leader.</summary>
    private static readonly int[] VoteReleased = [5011, 5012];

    [Fact]
    public async Task A_node_restarted_with_an_empty_disk_does_not_vote_until_it_caught_up_so_a_stale_node_cannot_be_elected_and_lose_a_committed_change()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var stale = cluster.Nodes.First(n => n != leader);
        var wiped = cluster.Nodes.First(n => n != leader && n != stale);

        // A change committed by the leader and `wiped` while `stale` is cut off: only those two hold it.
        cluster.Member(stale).TrafficGate.Isolate();
        var committed = await cluster.AddServerAcceptedAsync(leader, "committed-without-stale");
        await Await.UntilAsync(() => cluster.Node(wiped).Revision >= committed, Converge, $"{wiped.Id} to apply revision {committed}");

        // `wiped` loses its disk, the leader goes down, and `stale` can talk again: of the two that hold the change, only
        // the one without a disk runs. Had it voted, `stale` would be elected with its older log and the change lost.
        await cluster.StopAsync(wiped);
        cluster.WipeData(wiped);
        await cluster.StopAsync(leader);
        cluster.Member(stale).TrafficGate.Heal();
        await cluster.StartAsync(wiped);
        Assert.True(cluster.Member(wiped).VoteWithheld, $"{wiped.Id} started with an empty data directory and must withhold its vote");
        await StaleNodeStandsAndLosesAsync(cluster, stale, wiped);

        // Restarted before it caught up, it still withholds its vote (the marker in its data directory says why).
        await cluster.StopAsync(wiped);
        Assert.True(File.Exists(Path.Combine(wiped.DataDir, "vote-withheld")));
        await cluster.StartAsync(wiped);
        Assert.True(cluster.Member(wiped).VoteWithheld, $"{wiped.Id} restarted before it caught up and must still withhold its vote");
        await StaleNodeStandsAndLosesAsync(cluster, stale, wiped);

        // The old leader returns: it is elected (its log is the newest), `wiped` catches up from it and votes again.
        await cluster.StartAsync(leader);
        await cluster.WaitForLeaderAsync();
        await Await.UntilAsync(() => cluster.Logs(wiped).GetSnapshot().Any(r => r.Id.Id == 5012), Converge, $"{wiped.Id} to catch up and vote again (event 5012)");
        Assert.False(cluster.Member(wiped).VoteWithheld);
        Assert.False(File.Exists(Path.Combine(wiped.DataDir, "vote-withheld")));
        foreach (var node in cluster.Nodes)
        {
            await Await.UntilAsync(async () => (await cluster.ServersAsync(node)).Servers.Contains("committed-without-stale"), Converge,
                $"{node.Id} to run the change committed while {stale.Id} was cut off");
        }
        var afterRejoin = await cluster.AddServerAsync(wiped, "after-rejoin");
        Assert.True(afterRejoin.Status == HttpStatusCode.Created, afterRejoin.Body);
    }

    [Fact]
    public async Task A_brand_new_cluster_elects_its_first_leader_once_enough_members_have_started_and_every_node_votes()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess);
        var first = cluster.Nodes.Take(2).ToList();
        var last = cluster.Nodes[2];
        await Task.WhenAll(first.Select(n => cluster.StartAsync(n)));

        // Two empty members of three cannot tell a new cluster from two nodes that lost their disks beside a third
        // that holds the log: they wait for the third (and say so after 5 s).
        foreach (var node in first)
        {
            await Await.UntilAsync(() => cluster.Logs(node).GetSnapshot().Any(r => r.Id.Id == 5013), Converge, $"{node.Id} to warn that it still withholds its vote");
        }
        Assert.All(first, node => Assert.Null(cluster.Member(node).Leader));

        await cluster.StartAsync(last);
        await cluster.WaitForLeaderAsync();
        foreach (var node in cluster.Nodes)
        {
            await Await.UntilAsync(() => cluster.Logs(node).GetSnapshot().Any(r => VoteReleased.Contains(r.Id.Id)), Converge, $"{node.Id} to vote (event 5011 or 5012)");
            Assert.False(cluster.Member(node).VoteWithheld);
            Assert.False(File.Exists(Path.Combine(node.DataDir, "vote-withheld")));
        }
        var added = await cluster.AddServerAsync(last, "first-change");
        Assert.True(added.Status == HttpStatusCode.Created, added.Body);
    }

    /// <summary>
    /// Waits until <paramref name="stale"/> has stood for election three times more (its term rose by 3) and asserts it
    /// never won: <paramref name="wiped"/>, the only other member running, granted it no vote. A leader it still names
    /// that is not running (the old one, just stopped, until its election timer runs out) is no election.
    /// </summary>
    private static async Task StaleNodeStandsAndLosesAsync(SwitchmanTestCluster cluster, TestClusterMember stale, TestClusterMember wiped)
    {
        bool ElectedAmongRunning() => cluster.Member(stale).Leader is { } leader && (leader.Id == stale.Id || leader.Id == wiped.Id);
        var termBefore = cluster.Member(stale).Term;
        await Await.UntilAsync(() => cluster.Member(stale).Term >= termBefore + 3 || ElectedAmongRunning(), Converge,
            $"{stale.Id} to stand for election three times");
        Assert.False(ElectedAmongRunning(),
            $"{stale.Id} was elected ({cluster.Member(stale).Leader?.Id} leads) with the vote of {wiped.Id}, which lost its disk: the change it lacks is lost");
        Assert.True(cluster.Member(wiped).VoteWithheld);
    }
}
