using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Switchman.Core.Configuration;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

/// <summary>GET /api/v1/events: Server-Sent Events of what changes on the node, and its history.</summary>
public class EventApiTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DemoBackends _backends = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _backends.DisposeAsync();

    [Fact]
    public async Task Stream_ServerDown_DeliveredWithinOneCheckIntervalPlusTimeout()
    {
        var a = await _backends.StartAsync("a");
        var b = await _backends.StartAsync("b");
        // fall 1: the first failed check takes the server down, so the bar is one interval plus one timeout.
        var health = new HealthCheckConfig { Path = "/healthz", Interval = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromSeconds(1), Rise = 1, Fall = 1 };
        var bar = health.Interval + health.Timeout;
        await using var node = await SwitchmanTestNode.StartAsync(
            TestConfig.Single(new BackendConfig { Name = "api", Servers = ValueList.Create(TestConfig.Server("a", a), TestConfig.Server("b", b)), Health = health }),
            output, AdminTestNodes.Options);
        // Start from a node that has checked both servers and found them up, and follow only what happens from now on.
        await Await.UntilAsync(async () => node.DataPlane.IsReady && (await node.ServerStatusJsonAsync("api", "a")).GetProperty("health").GetString() == "up",
            TimeSpan.FromSeconds(15), "the first round of health checks with a up");
        var now = node.Events.Since(0).LastOrDefault()?.Id ?? 0;
        await using var stream = await SseStream.OpenAsync(node.Reader, $"/api/v1/events?since={now}");

        var failing = Stopwatch.StartNew();
        a.Behavior = a.Behavior with { HealthFailing = true };
        // Generous: a loaded CI machine may be late to schedule the check; the measured latency is what we judge.
        var down = await stream.NextAsync(
            e => e.Type == "server_down" && e.Data.RootElement.GetProperty("data").GetProperty("server").GetString() == "a",
            bar + TimeSpan.FromSeconds(10),
            "server_down for a");
        var latency = failing.Elapsed;

        output.WriteLine($"server_down after {latency.TotalMilliseconds:0} ms (bar {bar.TotalMilliseconds:0} ms)");
        Assert.True(latency < bar + TimeSpan.FromMilliseconds(750), $"server_down took {latency.TotalMilliseconds:0} ms; the bar is {bar.TotalMilliseconds:0} ms plus scheduling");
        var data = down.Data.RootElement.GetProperty("data");
        Assert.Equal(("api", "a"), (data.GetProperty("backend").GetString(), data.GetProperty("server").GetString()));
        Assert.Contains("503", data.GetProperty("check").GetString(), StringComparison.Ordinal);
        Assert.Equal(down.Id, down.Data.RootElement.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Since_ReplaysHistory_AsJsonAndAsStream_LastEventIdToo()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);
        foreach (var state in new[] { "drain", "maint", "ready" })
        {
            (await node.Admin.PostAsync("/api/v1/backends/api/servers/a/state", new StringContent($$"""{"state":"{{state}}"}""", Encoding.UTF8, "application/json")))
                .EnsureSuccessStatusCode();
        }

        var history = JsonDocument.Parse(await node.Reader.GetStringAsync("/api/v1/events?follow=false")).RootElement.EnumerateArray().ToList();
        Assert.Equal(["drain", "maint", "ready"], history.Where(e => e.GetProperty("type").GetString() == "server_state_changed")
            .Select(e => e.GetProperty("data").GetProperty("state").GetString()));
        var first = history.First(e => e.GetProperty("type").GetString() == "server_state_changed").GetProperty("id").GetInt64();

        using var jsonRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events?since={first}");
        jsonRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var jsonResponse = await node.Reader.SendAsync(jsonRequest);
        var after = JsonDocument.Parse(await jsonResponse.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).ToList();
        Assert.Equal([first + 1, first + 2], after);

        await using (var stream = await SseStream.OpenAsync(node.Reader, $"/api/v1/events?since={first}"))
        {
            Assert.Equal(first + 1, (await stream.NextAsync(_ => true, TimeSpan.FromSeconds(10), "the first replayed event")).Id);
            Assert.Equal(first + 2, (await stream.NextAsync(_ => true, TimeSpan.FromSeconds(10), "the second replayed event")).Id);
            // Then live: a new change arrives on the open stream.
            (await node.Admin.PutAsync("/api/v1/backends/api/servers/a/weight", new StringContent("""{"weight":3}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
            var live = await stream.NextAsync(_ => true, TimeSpan.FromSeconds(10), "the live weight change");
            Assert.Equal("server_weight_changed", live.Type);
        }

        await using var resumed = await SseStream.OpenAsync(node.Reader, "/api/v1/events", lastEventId: first + 1);
        Assert.Equal(first + 2, (await resumed.NextAsync(_ => true, TimeSpan.FromSeconds(10), "the event after Last-Event-ID")).Id);
    }

    [Fact]
    public async Task BadSince_400()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);

        using var response = await node.Reader.GetAsync("/api/v1/events?since=yesterday");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}

/// <summary>One Server-Sent Event as received: id, event type and the parsed data line.</summary>
internal sealed record SseEvent(long Id, string Type, JsonDocument Data);

/// <summary>Reads a text/event-stream response event by event.</summary>
internal sealed class SseStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public static async Task<SseStream> OpenAsync(HttpClient client, string path, long? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>The next event that matches, skipping others and comments; fails after <paramref name="timeout"/>.</summary>
    public async Task<SseEvent> NextAsync(Func<SseEvent, bool> match, TimeSpan timeout, string whatWeAwait)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var evt = await ReadEventAsync(cts.Token) ?? throw new InvalidOperationException($"the stream ended while waiting for {whatWeAwait}");
                if (match(evt))
                {
                    return evt;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.###} s waiting for {whatWeAwait}.");
        }
    }

    private async Task<SseEvent?> ReadEventAsync(CancellationToken cancellationToken)
    {
        long id = 0;
        string? type = null;
        string? data = null;
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    return new SseEvent(id, type ?? "message", JsonDocument.Parse(data));
                }
                continue; // the end of a comment-only block (heartbeat)
            }
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
        }
        return null;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
