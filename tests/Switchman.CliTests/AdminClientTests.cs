using System.Net;
using System.Text;
using Switchman.Client;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary>The typed admin client against a running node, and its Server-Sent Events reader against canned streams.</summary>
public sealed class AdminClientTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private CliTarget _node = null!;

    public async Task InitializeAsync() => _node = await CliTarget.StartAsync(output);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task GetStatus_ReadsEveryServer()
    {
        using var client = _node.CreateClient();

        var status = (await client.GetStatusAsync(CancellationToken.None)).Value;

        Assert.True(status.Ready);
        var web = Assert.Single(status.Frontends);
        Assert.Equal("web", web.Name);
        var a = status.FindServer("api", "a");
        Assert.NotNull(a);
        Assert.Equal(_node.A.BaseAddress.Authority, a.Address);
        Assert.Equal(("ready", "up", 1), (a.State, a.Health, a.Weight));
        Assert.NotNull(a.LastCheck);
        Assert.True(a.LastCheck.Success);
        Assert.Null(status.FindServer("api", "nosuch"));
    }

    [Fact]
    public async Task GetConfig_RevisionFromTheETag()
    {
        using var client = _node.CreateClient();

        var yaml = await client.GetConfigAsync(ConfigFormat.Yaml, CancellationToken.None);
        var json = await client.GetConfigAsync(ConfigFormat.Json, CancellationToken.None);

        Assert.Equal(1, yaml.Revision);
        Assert.Equal(1, json.Revision);
        Assert.StartsWith("{", json.Text.TrimStart(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutConfig_Invalid_ThrowsWithEveryErrorAndItsLine()
    {
        using var client = _node.CreateClient();
        var yaml = _node.Yaml(rise: "0");
        var riseLine = Array.FindIndex(yaml.Split('\n'), l => l.TrimStart().StartsWith("rise:", StringComparison.Ordinal)) + 1;

        var e = await Assert.ThrowsAsync<AdminApiException>(() => client.PutConfigAsync(yaml, ConfigFormat.Yaml, null, dryRun: false, CancellationToken.None));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.StatusCode);
        var error = Assert.Single(e.Error!.Errors);
        Assert.Equal(("backends.api.health.rise", riseLine), (error.Path, error.Line));
    }

    [Fact]
    public async Task PutConfig_StaleRevision_ThrowsWithTheCurrentRevision()
    {
        using var client = _node.CreateClient();

        var e = await Assert.ThrowsAsync<AdminApiException>(() => client.PutConfigAsync(_node.Yaml(), ConfigFormat.Yaml, 7, dryRun: false, CancellationToken.None));

        Assert.Equal(HttpStatusCode.Conflict, e.StatusCode);
        Assert.Equal(1, e.Error!.CurrentRevision);
    }

    [Fact]
    public async Task FollowEvents_DeliversNewEvents_AndStopsWhenCancelled()
    {
        using var client = _node.CreateClient();
        using var stop = new CancellationTokenSource(Timeout);
        var received = new List<AdminEventItem>();

        var following = Task.Run(async () =>
        {
            await foreach (var item in client.FollowEventsAsync(since: null, stop.Token))
            {
                lock (received)
                {
                    received.Add(item);
                }
            }
        });
        await client.PutConfigAsync(_node.Yaml(servers: "a"), ConfigFormat.Yaml, null, dryRun: false, CancellationToken.None);
        await Await.UntilAsync(() =>
        {
            lock (received)
            {
                return received.Any(i => i.Event.Type == "config_applied");
            }
        }, Timeout, "the config_applied event on the stream");
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => following);
        var applied = received.First(i => i.Event.Type == "config_applied");
        Assert.Contains("\"config_applied\"", applied.Json, StringComparison.Ordinal);
        Assert.Equal(2, applied.Event.Data!.Value.GetProperty("revision").GetInt64());
    }

    [Fact]
    public async Task NoNodeListening_Unreachable()
    {
        await using var gone = await DemoBackendProcess.StartAsync("gone");
        var endpoint = gone.BaseAddress;
        await gone.KillAndWaitAsync();
        using var client = new AdminClient(new AdminClientSettings(endpoint));

        var e = await Assert.ThrowsAsync<AdminUnreachableException>(() => client.GetStatusAsync(CancellationToken.None));

        Assert.StartsWith($"cannot reach {endpoint}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeThatNeverAnswers_UnreachableAfterTheRequestTimeout()
    {
        await using var blackHole = new BlackHoleListener();
        using var client = new AdminClient(new AdminClientSettings(blackHole.BaseAddress) { RequestTimeout = TimeSpan.FromMilliseconds(200) });

        var e = await Assert.ThrowsAsync<AdminUnreachableException>(() => client.GetStatusAsync(CancellationToken.None));

        Assert.Contains("did not answer within 0.2 s", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FollowEvents_SkipsKeepAlivesAndNonJsonItems_EndsWithTheStream()
    {
        const string stream = """
            : keep-alive

            event: ping
            data: not json

            id: 4
            event: server_down
            data: {"id":4,"time":"2025-06-01T10:00:00Z","type":"server_down","message":"server api/a is DOWN: connection refused","data":{"backend":"api"}}

            id: 5
            data: {"id":5,"time":"2025-06-01T10:00:01Z","type":"server_up",
            data: "message":"server api/a is UP","data":{}}


            """;
        using var client = new AdminClient(new AdminClientSettings(new Uri("http://node:9090")), new CannedHandler("text/event-stream", stream));

        var items = new List<AdminEventItem>();
        await foreach (var item in client.FollowEventsAsync(since: 3, CancellationToken.None))
        {
            items.Add(item);
        }

        Assert.Equal([4L, 5L], items.Select(i => i.Event.Id));
        Assert.Equal("server api/a is DOWN: connection refused", items[0].Event.Message);
        Assert.Equal("api", items[0].Event.Data!.Value.GetProperty("backend").GetString());
        Assert.Equal("server_up", items[1].Event.Type);
    }

    [Fact]
    public async Task ErrorWithoutApiBody_MessageIsTheStatusLine()
    {
        using var client = new AdminClient(
            new AdminClientSettings(new Uri("http://node:9090")),
            new CannedHandler("text/html", "<html>bad gateway</html>", HttpStatusCode.BadGateway));

        var e = await Assert.ThrowsAsync<AdminApiException>(() => client.GetStatusAsync(CancellationToken.None));

        Assert.Equal("502 Bad Gateway", e.Message);
        Assert.Null(e.Error);
    }

    /// <summary>Answers every request with one canned body, and remembers the last request's URI.</summary>
    private sealed class CannedHandler(string mediaType, string body, HttpStatusCode status = HttpStatusCode.OK) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status)
            {
                RequestMessage = request,
                Content = new StringContent(body, Encoding.UTF8, mediaType),
            });
    }
}
