using System.Net;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>Durability: every node killed at once and started again; a node whose disk was lost.</summary>
public sealed class RestartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task All_nodes_killed_at_once_restart_with_their_state_and_a_node_with_an_empty_disk_catches_up()
    {
        await using var lab = new SwitchmanTestCluster(output, voters: 3);
        await lab.StartAllAsync();
        await lab.WaitForLeaderAsync();
        long last = 0;
        for (var i = 0; i < 25; i++)
        {
            // More entries than snapshot_every: part of the state comes back from a snapshot, part from the log.
            var added = await lab.AddServerAsync(lab.Nodes[i % 3], $"s{i:D2}");
            Assert.True(added.Status == HttpStatusCode.Created, added.Body);
            last = added.Revision!.Value;
        }
        await Await.UntilAsync(async () => (await Task.WhenAll(lab.Nodes.Select(lab.ServersAsync))).All(s => s.Revision == last), Converge,
            "every node to run the last change");

        foreach (var node in lab.Nodes)
        {
            await lab.KillAsync(node);
        }
        await lab.StartAllAsync();
        await lab.WaitForLeaderAsync();
        foreach (var node in lab.Nodes)
        {
            var (revision, servers) = await lab.ServersAsync(node);
            Assert.True(revision >= last, $"{node.Id} came back at revision {revision}, before {last}");
            Assert.Contains("s24", servers);
        }
        var afterRestart = await lab.AddServerAsync(lab.Nodes[0], "after-restart");
        Assert.True(afterRestart.Status == HttpStatusCode.Created, afterRestart.Body);

        // A node loses its disk: it starts empty, is sent the snapshot and the log, and runs what the others run.
        var lost = lab.Nodes[2];
        await lab.StopAsync(lost);
        lab.WipeData(lost);
        await lab.StartAsync(lost);
        try
        {
            await Await.UntilAsync(async () => (await lab.ServersAsync(lost)).Revision == afterRestart.Revision, Converge,
                $"{lost.Id} to catch up to revision {afterRestart.Revision} from an empty disk");
        }
        catch (TimeoutException)
        {
            output.WriteLine(lab.DescribeLogs(lost, 150));
            output.WriteLine(lab.DescribeLogs(lab.Nodes[0], 150));
            throw;
        }
        Assert.Equal((await lab.ServersAsync(lab.Nodes[0])).Servers, (await lab.ServersAsync(lost)).Servers);
        var afterRejoin = await lab.AddServerAsync(lost, "after-rejoin");
        Assert.True(afterRejoin.Status == HttpStatusCode.Created, afterRejoin.Body);
    }
}
