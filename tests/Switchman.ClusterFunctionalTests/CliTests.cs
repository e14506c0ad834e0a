using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>The CLI against a real cluster of processes: what an operator types.</summary>
public sealed class CliTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Members_and_status_show_the_cluster_and_a_drain_through_any_node_reaches_every_node()
    {
        await using var lab = new SwitchmanTestCluster(output, voters: 2, witnesses: 1);
        await lab.StartAllAsync();
        var leader = await lab.WaitForLeaderAsync();
        var other = lab.Nodes.First(n => n != leader && !n.Witness);

        var members = await RunAsync(lab, other, "members");
        Assert.Equal(0, members.ExitCode);
        foreach (var node in lab.Nodes)
        {
            Assert.Contains(node.Id, members.Output, StringComparison.Ordinal);
            Assert.Contains(node.ClusterAddress, members.Output, StringComparison.Ordinal);
        }
        Assert.Contains("witness", members.Output, StringComparison.Ordinal);

        var status = await RunAsync(lab, other, "status");
        Assert.Equal(0, status.ExitCode);
        Assert.Contains($"leader {leader.Id}", status.Output, StringComparison.Ordinal);

        // Through the witness, which serves no traffic but takes changes like any member.
        var drain = await RunAsync(lab, lab.Nodes.First(n => n.Witness), "server", "drain", "api", "seed");
        Assert.True(drain.ExitCode == 0, drain.Output);
        foreach (var node in lab.Nodes.Where(n => !n.Witness))
        {
            await Await.UntilAsync(async () =>
            {
                var answer = await lab.Http.GetStringAsync(new Uri($"{node.AdminUrl}/api/v1/backends/api/servers/seed"));
                return answer.Contains("\"state\":\"drain\"", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(20), $"{node.Id} to drain seed");
        }
    }

    [Fact]
    public async Task Run_refuses_to_start_naming_cluster_listen_when_its_port_is_taken()
    {
        await using var lab = new SwitchmanTestCluster(output, voters: 3);
        var node = lab.Nodes[0];
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, node.ClusterPort);
        squatter.Start();

        await using var process = SwitchmanExecutable.Start("run", "-c", node.ConfigFile);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exit);
        var errors = string.Join('\n', process.StandardErrorLines);
        Assert.Contains($"cannot listen for cluster traffic on {node.ClusterAddress} (cluster.listen)", errors, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(SwitchmanTestCluster lab, TestClusterMember node, params string[] arguments)
    {
        await using var process = SwitchmanExecutable.Start([.. arguments, "--endpoint", node.AdminUrl, "--token", TestTokens.AdminToken]);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, string.Join('\n', process.StandardOutputLines.Concat(process.StandardErrorLines)));
    }
}
