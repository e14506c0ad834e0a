using System.Net;
using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary><c>switchman server drain|ready|maint|weight</c> against a running node with real traffic.</summary>
public sealed class ServerCommandTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>How long the backend holds each slow request: long enough to overlap the CLI's start-up on a busy machine.</summary>
    private const string SlowDelay = "4s";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private CliTarget _node = null!;

    public async Task InitializeAsync() => _node = await CliTarget.StartAsync(output);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task DrainWait_ReturnsOnlyAfterTheServersInFlightRequestsFinished_AndItGotNoNewRequest_ReadyBringsItBack()
    {
        var slow = StartSlowRequests();
        await Await.UntilAsync(() => _node.A.InFlight >= 1, Timeout, "a slow request in flight on server a");
        var receivedByA = _node.A.ReceivedRequests.Count;

        await using var drain = Cli.Start(["server", "drain", "api", "a", "--wait", "--timeout", "30s", .. _node.Connect()]);
        await drain.WaitForOutputLineAsync(l => l.StartsWith("server api/a: drain", StringComparison.Ordinal), Timeout, "the drain to be applied");

        // Traffic goes on while the command waits: every request succeeds, and none reaches a.
        var servedBy = new List<string>();
        while (!drain.HasExited && servedBy.Count < 5_000)
        {
            using var response = await _node.Frontend.GetAsync(new Uri("/during-drain", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            servedBy.Add(response.Headers.GetValues("X-Server").Single());
        }
        var result = await Cli.WaitAsync(drain);
        var inFlightOnAAtExit = _node.A.InFlight;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(0, inFlightOnAAtExit);
        Assert.Contains(result.Output, l => l.StartsWith("waiting for api/a: ", StringComparison.Ordinal) && l.EndsWith(" in flight", StringComparison.Ordinal));
        Assert.Contains("server api/a: drain, no request in flight (waited ", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(receivedByA, _node.A.ReceivedRequests.Count);
        Assert.NotEmpty(servedBy);
        Assert.All(servedBy, server => Assert.Equal("b", server));
        foreach (var response in await Task.WhenAll(slow))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        var ready = await _node.RunAsync("server", "ready", "api", "a");

        Assert.True(ready.ExitCode == 0, ready.ToString());
        Assert.StartsWith("server api/a: ready, weight 1, up", ready.StandardOutput, StringComparison.Ordinal);
        await Await.UntilAsync(async () =>
        {
            using var response = await _node.Frontend.GetAsync(new Uri("/after-ready", UriKind.Relative));
            return response.Headers.GetValues("X-Server").Single() == "a";
        }, Timeout, "server a to receive requests again after `server ready`");
    }

    [Fact]
    public async Task DrainWait_Timeout_Exit1()
    {
        var slow = StartSlowRequests();
        await Await.UntilAsync(() => _node.A.InFlight >= 1, Timeout, "a slow request in flight on server a");

        var result = await _node.RunAsync("server", "maint", "api", "a", "--wait", "--timeout", "300ms");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Matches(@"^switchman: timed out after 0.3 s: api/a still has [12] requests? in flight; it stays in maint$", result.StandardError);
        Assert.Equal("maint", (await _node.ServerAsync("a")).State);
        foreach (var response in await Task.WhenAll(slow))
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Drain_WithoutWait_ReturnsAtOnce_Json()
    {
        var result = await _node.RunAsync("server", "drain", "api", "b", "--output", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal("b", document.RootElement.GetProperty("name").GetString());
        Assert.Equal("drain", document.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Weight_ChangesTheWeight_TableAndJson()
    {
        var table = await _node.RunAsync("server", "weight", "api", "b", "3");
        var json = await _node.RunAsync("server", "weight", "api", "a", "2", "-o", "json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Equal("server api/b: ready, weight 3, up, 0 requests in flight", table.StandardOutput);
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.StandardOutput);
        Assert.Equal(2, document.RootElement.GetProperty("weight").GetInt32());
        Assert.Equal(3, (await _node.ServerAsync("b")).Weight);
    }

    [Fact]
    public async Task UnknownServer_PrintsTheApiError_Exit1()
    {
        var result = await _node.RunAsync("server", "drain", "api", "nosuch");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.StartsWith("switchman: ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("nosuch", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Weight_Negative_RefusedByTheNode_Exit1()
    {
        var result = await Cli.RunAsync(["server", "weight", "api", "a", .. _node.Connect(), "--", "-1"]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal(1, (await _node.ServerAsync("a")).Weight);
    }

    [Fact]
    public async Task Add_ThenRemove_EachANewRevision()
    {
        var add = await _node.RunAsync("server", "add", "api", "c", _node.A.BaseAddress.Authority, "--weight", "2");

        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Equal("server api/c added in configuration revision 2", add.Output[0]);
        Assert.Equal(2, (await _node.ServerAsync("c")).Weight);

        var remove = await _node.RunAsync("server", "remove", "api", "c", "--timeout", "10s");

        Assert.True(remove.ExitCode == 0, remove.ToString());
        // 2 added it, 3 drained it (each change is one log entry), 4 removed it.
        Assert.Equal("server api/c drained and removed in configuration revision 4", remove.StandardOutput);
        Assert.Equal(["a", "b"], _node.Node.DataPlane.Config.FindBackend("api")!.Servers.Select(s => s.Name));
    }

    [Fact]
    public async Task Add_NameTaken_Exit1()
    {
        var result = await _node.RunAsync("server", "add", "api", "a", "127.0.0.1:1");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("already has a server 'a'", result.StandardError, StringComparison.Ordinal);
    }

    /// <summary>Four requests the backends hold for <see cref="SlowDelay"/>; round robin puts two on each server.</summary>
    private List<Task<HttpResponseMessage>> StartSlowRequests() =>
        [.. Enumerable.Range(0, 4).Select(i => _node.Frontend.GetAsync(new Uri($"/slow/{i}?delay={SlowDelay}", UriKind.Relative)))];
}
