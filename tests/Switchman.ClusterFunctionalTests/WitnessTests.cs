using System.Net;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>Two load balancers and a witness (<c>switchman witness</c>): the classic pair, with quorum.</summary>
public sealed class WitnessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Killing_either_load_balancer_keeps_quorum_and_the_witness_never_leads()
    {
        await using var lab = new SwitchmanTestCluster(output, voters: 2, witnesses: 1);
        var (lb1, lb2, witness) = (lab.Nodes[0], lab.Nodes[1], lab.Nodes[2]);
        await lab.StartAllAsync();
        var leaders = new List<string>();

        // The leading load balancer, then the other one, then the leader again (by then the other machine).
        foreach (var killLeader in new[] { true, false, true })
        {
            var leader = await lab.WaitForLeaderAsync();
            leaders.Add(leader.Id);
            var target = killLeader ? leader : lab.Nodes.First(n => !n.Witness && n != leader);
            await lab.KillAsync(target);
            var survivor = target == lb1 ? lb2 : lb1;

            // The survivor and the witness are a majority: a change commits.
            var added = await lab.AddServerAsync(survivor, $"without-{target.Id}-{leaders.Count}");
            Assert.True(added.Status == HttpStatusCode.Created, added.Body);
            leaders.Add((await lab.WaitForLeaderAsync()).Id);
            await Await.UntilAsync(async () => (await lab.ServersAsync(witness)).Revision == added.Revision, Converge,
                "the witness to hold the change (it keeps the replicated state)");

            await lab.StartAsync(target);
        }

        Assert.DoesNotContain(witness.Id, leaders);
        var view = await lab.ViewAsync(witness);
        Assert.NotNull(view);
        Assert.NotEqual(witness.Id, view.Leader);
        // A witness serves no traffic: its data plane has no frontend, whatever the shared configuration says.
        using var status = await lab.Http.GetAsync(new Uri($"{witness.AdminUrl}/api/v1/status"));
        var text = await status.Content.ReadAsStringAsync();
        Assert.Contains("\"frontends\":[]", text, StringComparison.Ordinal);
        Assert.Contains("\"role\":\"witness\"", text, StringComparison.Ordinal);
    }
}
