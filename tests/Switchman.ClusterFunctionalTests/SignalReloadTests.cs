using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>SIGHUP on a cluster node: it reads its file again and proposes it to the cluster, like <c>switchman reload</c>.</summary>
public sealed class SignalReloadTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_SIGHUP_while_the_majority_is_lost_is_logged_and_the_node_keeps_running_and_reloads_at_the_next_one()
    {
        await using var lab = new SwitchmanTestCluster(output, voters: 3);
        await lab.StartAllAsync();
        var leader = await lab.WaitForLeaderAsync();
        var survivor = lab.Nodes.First(n => n != leader);
        var others = lab.Nodes.Where(n => n != survivor).ToList();
        foreach (var node in others)
        {
            await lab.KillAsync(node);
        }

        // No majority: the reload cannot be committed (through the API it would be a 503). It stopped the whole node.
        lab.SendHangup(survivor);
        var line = await lab.WaitForLogLineAsync(survivor, l => l.Contains("[2004]", StringComparison.Ordinal), Wait,
            "the reload on SIGHUP that could not go through the cluster to be logged (2004)");
        Assert.Contains("no leader", line, StringComparison.Ordinal);
        Assert.True(lab.IsRunning(survivor), lab.DescribeLogs(survivor));
        using (var health = await lab.Http.GetAsync(new Uri($"{survivor.AdminUrl}/healthz")))
        {
            Assert.True(health.IsSuccessStatusCode, $"{survivor.Id}'s /healthz answered {(int)health.StatusCode}\n{lab.DescribeLogs(survivor)}");
        }

        // With a majority again, the next SIGHUP goes through: the loop that carries them out is still there.
        foreach (var node in others)
        {
            await lab.StartAsync(node);
        }
        await lab.WaitForLeaderAsync();
        lab.SendHangup(survivor);
        await lab.WaitForLogLineAsync(survivor, l => l.Contains("applied by SIGHUP", StringComparison.Ordinal), Wait,
            "the reload of the second SIGHUP to be applied");
    }
}
