using System.Net;
using System.Runtime.ExceptionServices;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.NetnsTests;

/// <summary>
/// The leader of three nodes with default settings, hit by what happens to real machines: its link goes down (a
/// power cut, a dead switch port: nothing answers, nothing resets), its process is killed (the host still answers,
/// with RST), its process is frozen for 3 s (a paused VM, a long stall). Each time a change sent to a survivor must
/// be committed, the node that was cut off must commit and apply nothing meanwhile, and once it is back every node
/// must agree on everything.
/// </summary>
[Collection(NetworkLabCollection.Name)]
public sealed class LeaderFaultTests(ITestOutputHelper output)
{
    /// <summary>
    /// From the fault to the first commit through a survivor. Generous on purpose (the goal, issue 8, is a 500 ms
    /// median; the default election timeout is 100–200 ms): a slow machine must not fail this, a cluster that never
    /// elects must.
    /// </summary>
    private static readonly TimeSpan FailoverLimit = TimeSpan.FromSeconds(10);

    /// <summary>For every node to agree once the fault is over (restart and catch-up included).</summary>
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    /// <summary>The deliberate pause of the frozen leader: many election timeouts, and longer than the default request timeout (1 s).</summary>
    private static readonly TimeSpan Freeze = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Leader_link_down_a_survivor_commits_the_cut_off_leader_commits_nothing_and_all_agree_after_power_on()
    {
        await using var cluster = await NetnsCluster.StartAsync(output);
        var (leader, survivor, before) = await SettleAsync(cluster);

        var cut = TimeProvider.System.GetTimestamp();
        await cluster.PowerOffAsync(leader);
        var (elapsed, refused) = await cluster.CommitServerAsync(survivor, "during-link-down", cut, FailoverLimit);
        output.WriteLine($"link down of leader {leader.Id}: first commit through {survivor.Id} {elapsed.TotalMilliseconds:0} ms after, {refused.Count} tries refused");
        await AssertOverrideAcceptedAsync(cluster, survivor, weight: 7);

        // The cut-off node, seen through its console: it has not moved, and a change sent to it is not accepted.
        await AssertStandsStillAsync(cluster, leader, before);
        var (status, _, body) = await cluster.AddServerAsync(leader, "through-cut-off", throughConsole: true);
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"a change sent to the cut-off {leader.Id}: {(int)status} {body}");
        await AssertStandsStillAsync(cluster, leader, before);

        await cluster.PowerOnAsync(leader);
        var after = await cluster.WaitForAgreementAsync(Converge);
        AssertOutcome(after, present: "during-link-down", absent: "through-cut-off", weight: 7);
    }

    [Fact]
    public async Task Leader_killed_a_survivor_commits_and_after_a_restart_all_agree()
    {
        await using var cluster = await NetnsCluster.StartAsync(output);
        var (leader, survivor, _) = await SettleAsync(cluster);

        var kill = TimeProvider.System.GetTimestamp();
        await cluster.KillAsync(leader);
        var (elapsed, refused) = await cluster.CommitServerAsync(survivor, "after-kill", kill, FailoverLimit);
        output.WriteLine($"SIGKILL of leader {leader.Id}: first commit through {survivor.Id} {elapsed.TotalMilliseconds:0} ms after, {refused.Count} tries refused");
        await AssertOverrideAcceptedAsync(cluster, survivor, weight: 9);

        await cluster.StartAsync(leader);
        var after = await cluster.WaitForAgreementAsync(Converge);
        AssertOutcome(after, present: "after-kill", absent: null, weight: 9);
    }

    [Fact]
    public async Task Leader_frozen_for_3_s_a_survivor_commits_meanwhile_all_agree_after_and_no_connection_is_refused()
    {
        await using var cluster = await NetnsCluster.StartAsync(output);
        var (leader, survivor, _) = await SettleAsync(cluster);
        var refusedBefore = await RefusedConnectionsAsync(cluster);

        var frozen = TimeProvider.System.GetTimestamp();
        await cluster.FreezeAsync(leader);
        Exception? commitFailure = null;
        try
        {
            // Only while it is frozen: the commit must not wait for the old leader to come back.
            var (elapsed, refused) = await cluster.CommitServerAsync(survivor, "while-frozen", frozen, Freeze);
            output.WriteLine($"SIGSTOP of leader {leader.Id}: first commit through {survivor.Id} {elapsed.TotalMilliseconds:0} ms after, {refused.Count} tries refused");
        }
        catch (TimeoutException e)
        {
            commitFailure = e;
        }
        finally
        {
            // The deliberate pause: the rest of the 3 s, whatever the commit did.
            var rest = Freeze - TimeProvider.System.GetElapsedTime(frozen);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest);
            }
            await cluster.ThawAsync(leader);
        }
        if (commitFailure is not null)
        {
            ExceptionDispatchInfo.Throw(commitFailure);
        }

        await cluster.WaitForAgreementAsync(Converge);
        // The thawed node takes a change too (forwarded to the leader): its connections work again.
        Assert.True((await cluster.AddServerAsync(leader, "through-thawed")).Status == HttpStatusCode.Created, "a change through the thawed node");
        var after = await cluster.WaitForAgreementAsync(Converge);
        AssertOutcome(after, present: "while-frozen", absent: null, weight: null);
        Assert.All(after, r => Assert.True(r.HasServer("through-thawed"), $"{r.NodeId} lacks through-thawed"));

        var refusedAfter = await RefusedConnectionsAsync(cluster);
        var refusalLines = cluster.Nodes.SelectMany(n => cluster.LogLinesContaining(n, "[5101]").Select(l => $"{n.Id}: {l}")).ToList();
        Assert.True(refusedBefore.SequenceEqual(refusedAfter) && refusalLines.Count == 0,
            $"peers with the right secret were counted as refused after SIGSTOP/SIGCONT of {leader.Id}: " +
            $"before [{string.Join(", ", refusedBefore)}], after [{string.Join(", ", refusedAfter)}] (n1, n2, n3)\n{string.Join('\n', refusalLines)}");
    }

    /// <summary>
    /// Waits for a leader and for every node to agree, then makes one change through a follower (warming up the
    /// forwarding path and every node's apply path), and waits for agreement again. Returns the leader, a follower to
    /// write through, and the leader's report before the fault.
    /// </summary>
    private static async Task<(NetnsNode Leader, NetnsNode Survivor, NodeReport Before)> SettleAsync(NetnsCluster cluster)
    {
        var leader = await cluster.WaitForLeaderAsync(cluster.Nodes, Converge);
        var follower = cluster.Nodes.First(n => n != leader);
        var (status, _, body) = await cluster.AddServerAsync(follower, "before-fault");
        Assert.True(status == HttpStatusCode.Created, $"a change through {follower.Id} before the fault: {(int)status} {body}");
        var reports = await cluster.WaitForAgreementAsync(Converge);
        leader = cluster.Node(reports[0].Leader!);
        return (leader, cluster.Nodes.First(n => n != leader), reports.Single(r => r.NodeId == leader.Id));
    }

    private static async Task AssertOverrideAcceptedAsync(NetnsCluster cluster, NetnsNode via, int weight)
    {
        var (status, body) = await cluster.SetWeightAsync(via, "b1", weight);
        Assert.True(status == HttpStatusCode.OK, $"weight {weight} for b1 through {via.Id}: {(int)status} {body}");
    }

    /// <summary>The cut-off node committed and applied nothing since <paramref name="before"/>, and runs the same configuration.</summary>
    private static async Task AssertStandsStillAsync(NetnsCluster cluster, NetnsNode node, NodeReport before)
    {
        var now = await cluster.ReportAsync(node, throughConsole: true);
        Assert.True(now is not null, $"{node.Id} did not answer on its console");
        Assert.True(now.CommitIndex == before.CommitIndex && now.AppliedIndex == before.AppliedIndex && now.Revision == before.Revision
            && now.SharedConfig == before.SharedConfig && now.Overrides == before.Overrides,
            $"the cut-off {node.Id} moved: before {before}\nnow {now}");
    }

    private static void AssertOutcome(IReadOnlyList<NodeReport> reports, string present, string? absent, int? weight)
    {
        foreach (var report in reports)
        {
            Assert.True(report.HasServer(present), $"{report.NodeId} lacks server {present}: {report}");
            Assert.True(report.HasServer("before-fault"), $"{report.NodeId} lost server before-fault: {report}");
            if (absent is not null)
            {
                Assert.False(report.HasServer(absent), $"{report.NodeId} runs server {absent}, sent only to the cut-off node: {report}");
            }
            if (weight is not null)
            {
                Assert.Contains($"api/b1 ready w{weight}", report.Overrides, StringComparison.Ordinal);
            }
        }
    }

    private static async Task<long[]> RefusedConnectionsAsync(NetnsCluster cluster) =>
        await Task.WhenAll(cluster.Nodes.Select(cluster.RefusedConnectionsAsync));
}
