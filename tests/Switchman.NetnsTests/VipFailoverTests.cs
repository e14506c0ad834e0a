using System.Diagnostics;
using Switchman.Testing;
using Switchman.Testing.Netns;
using Xunit.Abstractions;

namespace Switchman.NetnsTests;

/// <summary>
/// Three nodes with one VIP on hosts built from network namespaces, default settings. When the holder's host is powered
/// off (its link down: nothing answers), it drops the VIP as its lease ends, or when its process crashes (SIGKILL), its
/// guard removes the address; a survivor takes it, announces it, and a client that sends a request to the VIP every 10 ms is served again — while
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
    public async Task The_holder_powered_off_or_crashed_its_vip_moves_to_a_survivor_clients_are_served_again_and_no_two_nodes_ever_hold_it(bool crash)
    {
        await using var cluster = await NetnsCluster.StartAsync(output);
        await cluster.WaitForLeaderAsync(cluster.Nodes, Converge);
        await Await.UntilAsync(async () => (await HoldersAsync(cluster)).Count == 1, Converge, "the VIP to be held by one node");
        // Steady state: the VIP stays where it is (a lease that flaps would drop connections for nothing). Checked after
        // the nodes' first seconds: while three fresh .NET processes JIT on two cores the leader can miss its majority's
        // contact for 75 ms and let go of the VIP for a few milliseconds (a known rough edge, docs/vips.md).
        await Task.Delay(TimeSpan.FromSeconds(3));
        await Await.UntilAsync(async () => (await HoldersAsync(cluster)).Count == 1, Converge, "the VIP to be held by one node");
        var holder = cluster.Node((await HoldersAsync(cluster)).Single());
        var steady = Stopwatch.StartNew();
        var absent = 0;
        while (steady.Elapsed < TimeSpan.FromSeconds(3))
        {
            // It never goes elsewhere. A holder stalled past its lease by a loaded machine lets go until its next look
            // (its guard is on time: docs/vips.md, known rough edge): counted, not failed.
            var holders = await HoldersAsync(cluster);
            Assert.True(holders.Count == 0 || holders.SequenceEqual([holder.Id]), $"the VIP is on {string.Join(", ", holders)}, not on {holder.Id}");
            absent += holders.Count == 0 ? 1 : 0;
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
        output.WriteLine($"steady state watched for 3 s: the VIP was off {holder.Id}'s eth0 in {absent} polls (every 20 ms)");
        await Await.UntilAsync(async () => (await HoldersAsync(cluster)).SequenceEqual([holder.Id]), Converge, $"the VIP to be on {holder.Id}");
        // What an operator's monitoring sees: the holder has it, the others do not.
        foreach (var node in cluster.Nodes)
        {
            Assert.Equal(node == holder ? 1 : 0, await cluster.MetricAsync(node, "switchman_vip_held"));
        }
        using var client = new HttpClient(cluster.Lab.Operator.CreateHttpHandler()) { Timeout = TimeSpan.FromMilliseconds(500) };
        var url = new Uri($"http://{NetnsCluster.Vip.Address}:8080/hello");
        Assert.True((await client.GetAsync(url)).IsSuccessStatusCode);

        using var timeline = await VipHolders.WatchAsync(cluster);
        var cut = Stopwatch.StartNew();
        if (crash)
        {
            // SIGKILL of the process alone: its guard removes the address; its host answers with RST.
            await cluster.CrashAsync(holder);
        }
        else
        {
            await cluster.PowerOffAsync(holder);
        }

        var (lastBefore, firstAfter, failed) = await RequestUntilServedAgainAsync(client, url, cut);
        output.WriteLine($"VIP gap as the client saw it: last answer {lastBefore.TotalMilliseconds:0} ms after the cut, first answer again {firstAfter.TotalMilliseconds:0} ms after; {failed} requests failed");
        await Await.UntilAsync(async () => await HoldersAsync(cluster) is [var h] && h != holder.Id, Converge, "a survivor to hold the VIP");
        var newHolder = cluster.Node((await HoldersAsync(cluster)).Single());
        Assert.Equal(1, await cluster.MetricAsync(newHolder, "switchman_vip_held"));
        Assert.True(await cluster.MetricAsync(newHolder, "switchman_vip_acquisitions_total") >= 1);
        if (crash)
        {
            await cluster.StartAsync(holder);
        }
        else
        {
            await cluster.PowerOnAsync(holder);
        }
        // The old holder, back, does not take the VIP back (preempt: false). Awaited rather than sampled once: while
        // the restarted process JITs on these two cores the holder may let go for a few milliseconds (docs/vips.md).
        await cluster.WaitForAgreementAsync(Converge);
        await Await.UntilAsync(async () => (await HoldersAsync(cluster)).SequenceEqual([newHolder.Id]), Converge, $"the VIP to stay on {newHolder.Id}");

        VipHolders.AssertNeverTwo(timeline);
    }

    [Fact]
    public async Task A_holder_stopped_gracefully_releases_its_vip_first_and_a_vip_left_on_an_interface_is_removed_at_start()
    {
        await using var cluster = await NetnsCluster.StartAsync(output);
        await cluster.WaitForLeaderAsync(cluster.Nodes, Converge);
        await Await.UntilAsync(async () => (await HoldersAsync(cluster)).Count == 1, Converge, "the VIP to be held by one node");
        var holder = cluster.Node((await HoldersAsync(cluster)).Single());
        using var timeline = await VipHolders.WatchAsync(cluster);

        // SIGTERM: the node hands the VIP over (it reports it can serve none, the leader gives it to another node as
        // soon as this node's keeper removed it), before it stops listening and before it leaves the cluster.
        Assert.Equal(0, await cluster.Process(holder).StopAsync(TimeSpan.FromSeconds(20)));
        Assert.DoesNotContain(holder.Id, await HoldersAsync(cluster));
        Assert.Contains(cluster.LogLinesContaining(holder, "[6002]"), line => line.Contains("node stopping", StringComparison.Ordinal));
        Assert.NotEmpty(cluster.LogLinesContaining(holder, "[6008]"));
        await Await.UntilAsync(async () => await HoldersAsync(cluster) is [var h] && h != holder.Id, Converge, "a survivor to hold the VIP");
        var newHolder = (await HoldersAsync(cluster)).Single();
        VipHolders.AssertNeverTwo(timeline);
        // The leftover added below is a second holder on purpose: not watched.
        timeline.Dispose();

        // What a crash that took the guard along would leave behind: the address still on the stopped node's interface.
        // Started again, the node removes it (the VIP is not its own), so the VIP is on one node again.
        await VipHolders.Addresses(holder).AddAsync(NetnsCluster.Vip, "eth0", CancellationToken.None);
        await cluster.StartAsync(holder);
        await Await.UntilAsync(async () => (await HoldersAsync(cluster)).Count == 1, Converge, "the leftover to be removed");
        await cluster.WaitForAgreementAsync(Converge);
        Assert.Equal([newHolder], await HoldersAsync(cluster));
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

    private static Task<List<string>> HoldersAsync(NetnsCluster cluster) => VipHolders.OfAsync(cluster);
}
