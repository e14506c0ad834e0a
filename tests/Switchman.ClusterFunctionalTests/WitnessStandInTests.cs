using System.Net;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>
/// Two load balancers and a witness, as real processes: a change committed by one load balancer and the witness while
/// the other was down, then the first one killed or frozen before the other caught up. Only the witness holds the
/// change among the living, and it would vote for no one behind it: it stands in, leads until the load balancer has the
/// change, and goes back to standby, and the load balancer leads.
/// </summary>
public sealed class WitnessStandInTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_witness_stands_in_when_only_it_holds_the_last_change_then_hands_leadership_to_the_load_balancer(bool freeze)
    {
        await using var lab = new SwitchmanTestCluster(output, voters: 2, witnesses: 1);
        var witness = lab.Nodes[2];
        await lab.StartAllAsync();
        var first = await lab.WaitForLeaderAsync();
        var behind = lab.Nodes.First(n => !n.Witness && n != first);

        // `behind` is down while `first` and the witness commit a change.
        await lab.StopAsync(behind);
        var change = await lab.AddServerAcceptedAsync(first, "committed-while-behind-was-down");
        await Await.UntilAsync(async () => (await lab.ServersAsync(witness)).Revision >= change, Converge, "the witness to hold the change");

        // `first` dies (or freezes) before `behind` is back, so `behind` cannot catch up from it.
        if (freeze)
        {
            await lab.FreezeAsync(first);
        }
        else
        {
            await lab.KillAsync(first);
        }
        try
        {
            await lab.StartAsync(behind);
            try
            {
                await Await.UntilAsync(async () => (await lab.ViewAsync(behind))?.Leader == behind.Id && (await lab.ViewAsync(witness))?.Leader == behind.Id,
                    Converge, $"{behind.Id} to lead, as the witness sees it too");
            }
            catch (TimeoutException)
            {
                output.WriteLine(lab.DescribeLogs(witness, 80));
                output.WriteLine(lab.DescribeLogs(behind, 80));
                throw;
            }
            Assert.Contains("committed-while-behind-was-down", (await lab.ServersAsync(behind)).Servers);
            // The witness led only to bring `behind` up to date, and is back in standby.
            await lab.WaitForLogLineAsync(witness, "as a stand-in", Converge);
            await lab.WaitForLogLineAsync(witness, "is back in standby: everything it held is committed", Converge);
            var added = await lab.AddServerAsync(behind, "after-the-stand-in");
            Assert.True(added.Status == HttpStatusCode.Created, added.Body);
        }
        finally
        {
            if (freeze)
            {
                await lab.ThawAsync(first);
            }
        }

        // The first load balancer comes back (thawed, or restarted) and follows.
        if (!freeze)
        {
            await lab.StartAsync(first);
        }
        var leader = await lab.WaitForLeaderAsync(Converge);
        Assert.NotEqual(witness, leader);
        await Await.UntilAsync(async () => (await lab.ServersAsync(first)).Servers.Contains("after-the-stand-in"), Converge,
            $"{first.Id} to run the change made while it was away");
    }
}
