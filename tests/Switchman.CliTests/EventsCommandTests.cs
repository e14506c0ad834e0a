using System.Text.Json;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary><c>switchman events</c>: the history, and following the stream.</summary>
public sealed class EventsCommandTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private CliTarget _node = null!;

    public async Task InitializeAsync() => _node = await CliTarget.StartAsync(output);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Events_Table_OneLinePerEvent_TimeTypeMessage()
    {
        Assert.Equal(0, (await _node.RunAsync("config", "apply", _node.Node.WriteFile("without-b.yaml", _node.Yaml(servers: "a")))).ExitCode);

        var result = await _node.RunAsync("events");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.Output, l => System.Text.RegularExpressions.Regex.IsMatch(
            l, @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z config_applied configuration revision 2 applied by "));
    }

    [Fact]
    public async Task Events_Json_OneObjectPerLine_AndSinceSkipsOlderOnes()
    {
        Assert.Equal(0, (await _node.RunAsync("server", "weight", "api", "a", "2")).ExitCode);
        Assert.Equal(0, (await _node.RunAsync("config", "apply", _node.Node.WriteFile("without-b.yaml", _node.Yaml(servers: "a")))).ExitCode);

        var all = await _node.RunAsync("events", "--output", "json");

        Assert.True(all.ExitCode == 0, all.ToString());
        var events = all.Output.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(events.Count >= 2, all.ToString());
        var applied = Assert.Single(events, e => e.GetProperty("type").GetString() == "config_applied");
        var appliedId = applied.GetProperty("id").GetInt64();
        // The weight change was log entry 2 (an override, no new configuration); the configuration is entry 3.
        Assert.Equal(3, applied.GetProperty("data").GetProperty("revision").GetInt64());

        var since = await _node.RunAsync("events", "--output", "json", "--since", (appliedId - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(since.ExitCode == 0, since.ToString());
        Assert.Equal(appliedId, JsonDocument.Parse(since.Output[0]).RootElement.GetProperty("id").GetInt64());
        Assert.All(since.Output, l => Assert.True(JsonDocument.Parse(l).RootElement.GetProperty("id").GetInt64() >= appliedId));
    }

    [Fact]
    public async Task Events_Follow_ReplaysTheHistory_ThenPrintsNewEventsAsTheyHappen()
    {
        Assert.Equal(0, (await _node.RunAsync("config", "apply", _node.Node.WriteFile("without-b.yaml", _node.Yaml(servers: "a")))).ExitCode);

        await using var follow = Cli.Start(["events", "--follow", .. _node.Connect()]);
        await follow.WaitForOutputLineAsync(l => l.Contains(" config_applied configuration revision 2 applied", StringComparison.Ordinal), Timeout, "the history's config_applied event");

        Assert.Equal(0, (await _node.RunAsync("config", "apply", _node.Node.WriteFile("with-b.yaml", _node.Yaml()))).ExitCode);

        await follow.WaitForOutputLineAsync(l => l.Contains(" config_applied configuration revision 3 applied", StringComparison.Ordinal), Timeout, "the new config_applied event");
        Assert.False(follow.HasExited);
    }
}
