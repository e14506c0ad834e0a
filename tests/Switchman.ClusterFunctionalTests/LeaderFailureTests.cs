using System.Net;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>Three real processes; the leader is killed with SIGKILL, as a crash would.</summary>
public sealed class LeaderFailureTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_change_through_a_follower_is_applied_everywhere_and_survives_the_leader_being_killed()
    {
        await using var lab = new SwitchmanTestCluster(output, voters: 3);
        await lab.StartAllAsync();
        var leader = await lab.WaitForLeaderAsync();
        var follower = lab.Nodes.First(n => n != leader);

        var added = await lab.AddServerAsync(follower, "through-follower");
        Assert.True(added.Status == HttpStatusCode.Created, added.Body);
        // The answer comes once the change is committed and applied on the node that took it.
        Assert.Contains("through-follower", (await lab.ServersAsync(follower)).Servers);
        await AllRunAsync(lab, added.Revision!.Value, "through-follower");

        await lab.KillAsync(leader);
        var survivors = lab.Nodes.Where(lab.IsRunning).ToList();
        var next = await lab.WaitForLeaderAsync();
        Assert.NotEqual(leader, next);
        foreach (var node in survivors)
        {
            Assert.Contains("through-follower", (await lab.ServersAsync(node)).Servers);
        }
        // Nothing was changed since: once the new leader's first (empty) entry is applied, no member lags.
        await Await.UntilAsync(async () => (await lab.ViewAsync(survivors[0])) is { Lags: [_, _] lags } && lags.All(l => l == 0), Converge,
            "both survivors to report lag 0 after the leader change");

        var afterFailover = await lab.AddServerAsync(survivors.First(n => n != next), "after-failover");
        Assert.True(afterFailover.Status == HttpStatusCode.Created, afterFailover.Body);
        Assert.True(afterFailover.Revision > added.Revision);
        await AllRunAsync(lab, afterFailover.Revision!.Value, "after-failover");

        // The killed node comes back with its disk and catches up.
        await lab.StartAsync(leader);
        await AllRunAsync(lab, afterFailover.Revision.Value, "after-failover");
    }

    [Fact]
    public async Task Every_acknowledged_change_survives_the_leader_being_killed_and_restarted_twelve_times()
    {
        const int Kills = 12;
        await using var lab = new SwitchmanTestCluster(output, voters: 3);
        await lab.StartAllAsync();
        await lab.WaitForLeaderAsync();

        var acknowledged = new List<(int Number, long Revision)>();
        var unacknowledged = 0;
        var number = 0;
        for (var kill = 0; kill < Kills; kill++)
        {
            var leader = await lab.WaitForLeaderAsync();
            // A few numbered writes before the kill, then more while the cluster fails over (some of those are
            // refused or have an unknown outcome: that is allowed, losing an acknowledged one is not).
            await WriteAsync(3);
            await lab.KillAsync(leader);
            await WriteAsync(3);
            await lab.StartAsync(leader);
        }
        await lab.WaitForLeaderAsync();
        await WriteAsync(1);
        output.WriteLine($"{acknowledged.Count} acknowledged, {unacknowledged} not, over {Kills} leader kills");

        Assert.True(acknowledged.Count >= Kills * 3, $"only {acknowledged.Count} writes were acknowledged");
        // In order: each acknowledged change got a higher revision than the one acknowledged before it.
        Assert.Equal(acknowledged.Select(a => a.Revision).Order(), acknowledged.Select(a => a.Revision));
        Assert.Equal(acknowledged.Count, acknowledged.Select(a => a.Revision).Distinct().Count());
        var last = acknowledged[^1].Revision;
        foreach (var node in lab.Nodes)
        {
            await Await.UntilAsync(async () => (await lab.ServersAsync(node)).Revision >= last, Converge, $"{node.Id} to reach revision {last}");
            var servers = (await lab.ServersAsync(node)).Servers;
            var missing = acknowledged.Where(a => !servers.Contains(Name(a.Number))).Select(a => a.Number).ToList();
            Assert.True(missing.Count == 0, $"{node.Id} lost acknowledged writes {string.Join(", ", missing)}");
            // The server list is the order in which the changes were applied.
            var order = servers.Where(s => s.StartsWith("w", StringComparison.Ordinal)).Select(s => int.Parse(s[1..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(order.Order(), order);
        }

        async Task WriteAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                number++;
                var node = lab.Nodes.Where(lab.IsRunning).ElementAt(number % lab.Nodes.Count(lab.IsRunning));
                var result = await lab.AddServerAsync(node, Name(number));
                if (result.Status == HttpStatusCode.Created)
                {
                    acknowledged.Add((number, result.Revision!.Value));
                }
                else
                {
                    // Refused with a clear answer: no leader / outcome unknown (503), or based on a revision that moved (409).
                    Assert.True(result.Status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.Conflict,
                        $"write {number} via {node.Id}: {(int)result.Status} {result.Body}\n{lab.DescribeLogs(node)}");
                    unacknowledged++;
                    output.WriteLine($"write {number} via {node.Id}: {(int)result.Status} {result.Body}");
                }
            }
        }
    }

    private static string Name(int number) => $"w{number:D3}";

    private static async Task AllRunAsync(SwitchmanTestCluster lab, long revision, string server)
    {
        foreach (var node in lab.Nodes.Where(lab.IsRunning))
        {
            await Await.UntilAsync(async () =>
            {
                var (running, servers) = await lab.ServersAsync(node);
                return running >= revision && servers.Contains(server);
            }, Converge, $"{node.Id} to run revision {revision} with server {server}");
        }
    }
}
