using System.Text.Json;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary><c>switchman status</c> against a running node, as a table and as JSON.</summary>
public sealed class StatusCommandTests(ITestOutputHelper output) : IAsyncLifetime
{
    private CliTarget _node = null!;

    public async Task InitializeAsync() => _node = await CliTarget.StartAsync(output);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Status_Table_ShowsFrontendsAndEveryServerAsPlainText()
    {
        using var client = _node.CreateClient();
        await client.SetServerStateAsync("api", "b", "drain", CancellationToken.None);

        var result = await _node.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        var text = result.StandardOutput;
        Assert.Contains("Frontends", text, StringComparison.Ordinal);
        Assert.Contains("Backend api (roundrobin)", text, StringComparison.Ordinal);
        var rowA = Assert.Single(result.Output, l => l.Contains("│ a ", StringComparison.Ordinal));
        var rowB = Assert.Single(result.Output, l => l.Contains("│ b ", StringComparison.Ordinal));
        Assert.Contains(_node.A.BaseAddress.Authority, rowA, StringComparison.Ordinal);
        Assert.Matches(@"│ ready\s+│ up\s+│", rowA);
        Assert.Matches(@"│ drain\s+│ up\s+│", rowB);
        // The output is not a terminal: no colour escape codes, and lines fit the fixed width.
        Assert.DoesNotContain('\u001b', text);
        Assert.All(result.Output, line => Assert.True(line.Length <= 120, $"line longer than 120 columns: {line}"));
    }

    [Fact]
    public async Task Status_Json_IsTheApiDocument()
    {
        var result = await _node.RunAsync("status", "--output", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.StandardOutput);
        var backend = Assert.Single(document.RootElement.GetProperty("backends").EnumerateArray());
        Assert.Equal("api", backend.GetProperty("name").GetString());
        var servers = backend.GetProperty("servers").EnumerateArray().ToList();
        Assert.Equal(["a", "b"], servers.Select(s => s.GetProperty("name").GetString()));
        Assert.All(servers, s => Assert.Equal("up", s.GetProperty("health").GetString()));
        Assert.All(servers, s => Assert.Equal("ready", s.GetProperty("state").GetString()));
        Assert.True(document.RootElement.GetProperty("ready").GetBoolean());
    }

    [Fact]
    public async Task Status_Table_SaysWhyAServerIsHeldOut()
    {
        // A node mid-restart of a service is hard to catch; its status document is not: the real one, with one server
        // held out as the supervisor marks it while its instance on this node loads.
        var real = await _node.RunAsync("status", "--output", "json");
        var status = System.Text.Json.Nodes.JsonNode.Parse(real.StandardOutput)!;
        var serverA = status["backends"]![0]!["servers"]!.AsArray().Single(s => (string?)s!["name"] == "a")!;
        serverA["held_out"] = "service api is starting on this node";
        await using var api = await RecordedAdminApi.StartAsync();
        api.Answer("GET", "/api/v1/status", status.ToJsonString());

        var result = await api.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        var rowA = string.Join(" ", result.Output.SkipWhile(l => !l.Contains("│ a ", StringComparison.Ordinal)).Take(3));
        Assert.Contains("held out: service api is", rowA, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Output, l => l.Contains("│ b ", StringComparison.Ordinal) && l.Contains("held", StringComparison.Ordinal));
    }
}
