using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary>
/// <c>switchman node standby|online NODE</c> and <c>switchman vips</c> against a real node that runs alone (named after
/// its host), with no VIP configured, so nothing touches the host's interfaces; and the client's calls behind them.
/// </summary>
public sealed class NodeCommandTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string NodeId = Environment.MachineName;

    private CliTarget _node = null!;

    public async Task InitializeAsync() => _node = await CliTarget.StartAsync(output);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Standby_ThenOnline_TheStateFollows_StatusShowsIt()
    {
        var standby = await _node.RunAsync("node", "standby", NodeId);

        Assert.True(standby.ExitCode == 0, standby.ToString());
        Assert.Equal([$"node {NodeId}: standby (set by ops); it holds no VIP"], standby.Output);
        var status = await _node.RunAsync("status");
        Assert.StartsWith("Node: ready, standby (holds no VIP), revision 1", status.Output[0], StringComparison.Ordinal);
        using (var client = _node.CreateClient())
        {
            var vips = (await client.GetVipsAsync(CancellationToken.None)).Value;
            Assert.Equal(NodeId, vips.Node);
            Assert.Empty(vips.Vips);
            var standing = Assert.Single(vips.Nodes);
            Assert.Equal((NodeId, true, "ops"), (standing.Node, standing.Standby, standing.StandbyAuthor));
        }
        var table = await _node.RunAsync("vips");
        Assert.Equal(
            ["no VIPs are configured (see vips: in the configuration)", $"node {NodeId} (this node): standby, set by ops; it is given no VIP until `switchman node online {NodeId}`"],
            table.Output);

        var online = await _node.RunAsync("node", "online", NodeId, "--output", "json");

        Assert.True(online.ExitCode == 0, online.ToString());
        using var document = JsonDocument.Parse(online.StandardOutput);
        Assert.Equal(NodeId, document.RootElement.GetProperty("node").GetString());
        Assert.False(document.RootElement.GetProperty("standby").GetBoolean());
        using (var client = _node.CreateClient())
        {
            var status2 = (await client.GetStatusAsync(CancellationToken.None)).Value;
            Assert.Equal((NodeId, false), (status2.Node!.Id, status2.Node.Standby));
            Assert.Empty((await client.GetVipsAsync(CancellationToken.None)).Value.Nodes);
        }
    }

    [Fact]
    public async Task Standby_UnknownNode_Exit1_NamesTheNodeThatExists()
    {
        var result = await _node.RunAsync("node", "standby", "nope");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"switchman: node 'nope' does not exist: this node runs alone, as '{NodeId}'", result.StandardError);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task Standby_WithoutToken_Exit2_WithReadToken_Exit2_NothingChanges()
    {
        var anonymous = await Cli.RunAsync("node", "standby", NodeId, "--endpoint", _node.Node.AdminUrl);
        var reader = await Cli.RunAsync(["node", "standby", NodeId, .. _node.Connect(TestTokens.ReadToken)]);

        Assert.True(anonymous.ExitCode == 2, anonymous.ToString());
        Assert.Contains("(401)", anonymous.StandardError, StringComparison.Ordinal);
        Assert.True(reader.ExitCode == 2, reader.ToString());
        Assert.Contains("(403)", reader.StandardError, StringComparison.Ordinal);
        using var client = _node.CreateClient();
        Assert.Empty((await client.GetVipsAsync(CancellationToken.None)).Value.Nodes);
    }
}
