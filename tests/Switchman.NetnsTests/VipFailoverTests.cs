using System.Diagnostics;
using Switchman.Testing;
using Switchman.Testing.Netns;
using Xunit.Abstractions;

namespace Switchman.NetnsTests;

/// <summary>
/// Three nodes with one VIP on hosts built from network namespaces, default settings. The VIP is on the leader; when
/// the leader's host is powered off (its link down: nothing answers), the leader drops the VIP as its lease ends, or
/// when its process crashes (SIGKILL), its guard removes the address; the new leader takes it, announces it, and a client that sends a request to the VIP every 10 ms is served again — while
/// <c>ip addr</c>, sampled on every node, never shows the VIP on two nodes at once.
/// </summary>
[Collection(NetworkLabCollection.Name)]
public sealed class VipFailoverTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    /// <summary>Generous: the goal is 300 ms (median, in the benchmark); a slow machine must not fail this, a VIP that never moves must.</summary>
    private static readonly TimeSpan FailoverLimit = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_leader_powered_off_or_crashed_its_vip_moves_to_the_new_leader_clients_are_served_again_and_no_two_nodes_ever_hold_it(bool crash)
    {
        await using var cluster = await NetnsCluster.StartAsync(output);
        var leader = await cluster.WaitForLeaderAsync(cluster.Nodes, Converge);
        await Await.UntilAsync(async () => (await HoldersAsync(cluster)).SequenceEqual([leader.Id]), Converge, $"the VIP to be on the leader {leader.Id} only");
        // Steady state: the VIP stays where it is (a lease that flaps would drop connections for nothing). Checked after
        // the nodes' first seconds: while three fresh .NET processes JIT on two cores the leader can miss its majority's
        // contact for 75 ms and let go of the VIP for a few milliseconds (a known rough edge, docs/vips.md).
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal([leader.Id], await HoldersAsync(cluster));
        var steady = Stopwatch.StartNew();
        while (steady.Elapsed < TimeSpan.FromSeconds(3))
        {
            Assert.Equal([leader.Id], await HoldersAsync(cluster));
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
        // What an operator's monitoring sees: the leader holds it, the others do not.
        foreach (var node in cluster.Nodes)
        {
            Assert.Equal(node == leader ? 1 : 0, await cluster.MetricAsync(node, "switchman_vip_held"));
        }
        using var client = new HttpClient(cluster.Lab.Operator.CreateHttpHandler()) { Timeout = TimeSpan.FromMilliseconds(500) };
        var url = new Uri($"http://{NetnsCluster.Vip.Address}:8080/hello");
        Assert.True((await client.GetAsync(url)).IsSuccessStatusCode);

        using var sampling = new CancellationTokenSource(FailoverLimit + TimeSpan.FromSeconds(5));
        var maxHolders = SampleHoldersAsync(cluster, sampling.Token);
        var cut = Stopwatch.StartNew();
        if (crash)
        {
            // SIGKILL of the process alone: its guard removes the address; its host answers with RST.
            await cluster.CrashAsync(leader);
        }
        else
        {
            await cluster.PowerOffAsync(leader);
        }

        var (lastBefore, firstAfter, failed) = await RequestUntilServedAgainAsync(client, url, cut);
        output.WriteLine($"VIP gap as the client saw it: last answer {lastBefore.TotalMilliseconds:0} ms after the cut, first answer again {firstAfter.TotalMilliseconds:0} ms after; {failed} requests failed");
        var survivors = cluster.Nodes.Where(n => n != leader).ToList();
        var newLeader = await cluster.WaitForLeaderAsync(survivors, Converge);
        await Await.UntilAsync(async () => (await HoldersAsync(cluster)).SequenceEqual([newLeader.Id]), Converge, $"the VIP to be on the new leader {newLeader.Id} only");
        Assert.Equal(1, await cluster.MetricAsync(newLeader, "switchman_vip_held"));
        Assert.True(await cluster.MetricAsync(newLeader, "switchman_vip_acquisitions_total") >= 1);
        if (crash)
        {
            await cluster.StartAsync(leader);
        }
        else
        {
            await cluster.PowerOnAsync(leader);
        }
        // The old leader, back as a follower, does not take the VIP back.
        await cluster.WaitForAgreementAsync(Converge);
        Assert.Equal([newLeader.Id], await HoldersAsync(cluster));

        await sampling.CancelAsync();
        Assert.Equal(1, await maxHolders);
    }

    [Fact]
    public async Task A_leader_stopped_gracefully_releases_its_vip_first_and_a_vip_left_on_an_interface_is_removed_at_start()
    {
        await using var cluster = await NetnsCluster.StartAsync(output);
        var leader = await cluster.WaitForLeaderAsync(cluster.Nodes, Converge);
        await Await.UntilAsync(async () => (await HoldersAsync(cluster)).SequenceEqual([leader.Id]), Converge, $"the VIP to be on the leader {leader.Id} only");
        using var sampling = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var maxHolders = SampleHoldersAsync(cluster, sampling.Token);

        // SIGTERM: the node releases the VIP before it stops listening and before it leaves the cluster.
        Assert.Equal(0, await cluster.Process(leader).StopAsync(TimeSpan.FromSeconds(20)));
        Assert.DoesNotContain(leader.Id, await HoldersAsync(cluster));
        Assert.Contains(cluster.LogLinesContaining(leader, "[6002]"), line => line.Contains("released: node stopping", StringComparison.Ordinal));
        var survivors = cluster.Nodes.Where(n => n != leader).ToList();
        var newLeader = await cluster.WaitForLeaderAsync(survivors, Converge);
        await Await.UntilAsync(async () => (await HoldersAsync(cluster)).SequenceEqual([newLeader.Id]), Converge, $"the VIP to be on the new leader {newLeader.Id} only");
        await sampling.CancelAsync();
        Assert.Equal(1, await maxHolders);

        // What a crash would leave behind: the address still on the stopped node's interface. Started again, the node
        // removes it (it is not the leader), so the VIP is on one node again.
        await VipHolders.Addresses(leader).AddAsync(NetnsCluster.Vip, "eth0", CancellationToken.None);
        await cluster.StartAsync(leader);
        await Await.UntilAsync(async () => (await HoldersAsync(cluster)).Count == 1, Converge, "the leftover to be removed");
        await cluster.WaitForAgreementAsync(Converge);
        var holders = await HoldersAsync(cluster);
        Assert.Equal([(await cluster.WaitForLeaderAsync(cluster.Nodes, Converge)).Id], holders);
    }

    /// <summary>Requests the VIP every 10 ms until it answers again after having failed (or at once, if it never failed).</summary>
    private static async Task<(TimeSpan LastBefore, TimeSpan FirstAfter, int Failed)> RequestUntilServedAgainAsync(HttpClient client, Uri url, Stopwatch cut)
    {
        var lastBefore = TimeSpan.Zero;
        var failed = 0;
        while (cut.Elapsed < FailoverLimit)
        {
            var sent = cut.Elapsed;
            var ok = false;
            try
            {
                using var response = await client.GetAsync(url);
                ok = response.IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (ok && failed > 0)
            {
                return (lastBefore, sent, failed);
            }
            if (ok)
            {
                lastBefore = sent;
            }
            else
            {
                failed++;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(10));
        }
        throw new TimeoutException($"the VIP was not served again within {FailoverLimit.TotalSeconds:0} s of the cut ({failed} requests failed)");
    }

    private static Task<int> SampleHoldersAsync(NetnsCluster cluster, CancellationToken cancellationToken) =>
        VipHolders.SampleMostAtOnceAsync(cluster, [NetnsCluster.Vip], cancellationToken);

    private static Task<List<string>> HoldersAsync(NetnsCluster cluster) => VipHolders.OfAsync(cluster);
}
