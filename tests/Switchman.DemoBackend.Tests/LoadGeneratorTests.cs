using Microsoft.Extensions.Time.Testing;
using Switchman.Testing;

namespace Switchman.DemoBackend.Tests;

public class LoadGeneratorTests
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RunAsync_EveryOtherRequestFails_CountsSuccessesFailuresStatusesAndServers()
    {
        await using var server = await StartAsync("a");
        var options = new LoadOptions { Concurrency = 4, MaxRequests = 200, MaxDuration = WaitTimeout };

        var result = await LoadGenerator.RunAsync(
            options,
            i => new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, i % 2 == 1 ? "/x?status=500" : "/x")));

        Assert.Equal(200, result.Total);
        Assert.Equal(100, result.Succeeded);
        Assert.Equal(100, result.Failed);
        Assert.Equal(0, result.Exceptions);
        Assert.Equal(100, result.StatusCounts[200]);
        Assert.Equal(100, result.StatusCounts[500]);
        Assert.Equal(200, result.CountFrom("a"));
        Assert.Equal(200, result.Latencies.Count);
        Assert.Equal(LoadResult.MaxFailureDescriptions, result.FirstFailures.Count);
        Assert.StartsWith("#1 GET ", result.FirstFailures[0], StringComparison.Ordinal);
        Assert.Contains("500", result.FirstFailures[0], StringComparison.Ordinal);
        Assert.Equal(200, server.RequestsServed);
    }

    [Fact]
    public async Task Start_BackendAbortedMidRun_CountsTransportFailuresAsExceptions()
    {
        await using var server = await StartAsync("a");
        // Unbounded in count, so the run is certainly still going when the backend goes away; the test ends it.
        var options = new LoadOptions { Concurrency = 4, MaxRequests = int.MaxValue, MaxDuration = WaitTimeout };
        await using var load = LoadGenerator.Start(options, _ => new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "/x")));

        await load.WaitForCompletedAsync(50, WaitTimeout);
        await server.AbortAsync();
        var completedBeforeAbort = load.Completed;
        await load.WaitForCompletedAsync(completedBeforeAbort + 50, WaitTimeout);
        var result = await load.StopAsync();

        Assert.True(result.Succeeded >= 50, result.ToString());
        // Of the 50 completed after the abort, only requests answered just before it (one per client) can have succeeded.
        Assert.True(result.Exceptions >= 50 - options.Concurrency, result.ToString());
        Assert.Equal(result.Total, result.Succeeded + result.Failed);
        Assert.Contains(result.FirstFailures, failure => failure.Contains("HttpRequestException", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_DurationElapses_StopsIssuingRequests()
    {
        await using var server = await StartAsync("a");
        var time = new FakeTimeProvider();
        var options = new LoadOptions { Concurrency = 2, MaxRequests = int.MaxValue, MaxDuration = TimeSpan.FromSeconds(5), TimeProvider = time };
        await using var load = LoadGenerator.Start(options, _ => new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "/x")));

        await load.WaitForCompletedAsync(20, WaitTimeout);
        time.Advance(TimeSpan.FromSeconds(5));
        var result = await load.Completion.WaitAsync(WaitTimeout);

        Assert.InRange(result.Total, 20, int.MaxValue - 1);
        Assert.Equal(0, result.Failed);
    }

    [Fact]
    public async Task Start_Paced_SendsRequestIOnlyAfterIOverRateSeconds()
    {
        await using var server = await StartAsync("a");
        var time = new FakeTimeProvider();
        var options = new LoadOptions
        {
            Concurrency = 4,
            MaxRequests = int.MaxValue,
            MaxDuration = TimeSpan.FromMinutes(1),
            RequestsPerSecond = 10,
            TimeProvider = time,
        };
        await using var load = LoadGenerator.Start(options, _ => new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "/x")));

        await load.WaitForCompletedAsync(1, WaitTimeout);
        Assert.Equal(1, load.Completed);
        time.Advance(TimeSpan.FromSeconds(1));
        await load.WaitForCompletedAsync(11, WaitTimeout);

        // Requests 0 to 10 are due after one second; request 11 waits for 1.1 s.
        Assert.Equal(11, load.Completed);
        Assert.Equal(11, server.RequestsServed);
    }

    [Fact]
    public async Task Start_CallerCancels_CompletionIsCancelled()
    {
        await using var server = await StartAsync("a");
        using var cancellation = new CancellationTokenSource();
        var options = new LoadOptions { Concurrency = 2, MaxRequests = 1000, MaxDuration = WaitTimeout };
        await using var load = LoadGenerator.Start(
            options, _ => new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "/x?delay=1m")), cancellation.Token);

        await Await.UntilAsync(() => server.InFlight == 2, WaitTimeout, "both clients to have a request in flight");
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => load.Completion);
    }

    [Fact]
    public async Task WaitForCompletedAsync_RunEndsFirst_SaysSo()
    {
        await using var server = await StartAsync("a");
        var options = new LoadOptions { Concurrency = 1, MaxRequests = 5, MaxDuration = WaitTimeout };
        await using var load = LoadGenerator.Start(options, _ => new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "/x")));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => load.WaitForCompletedAsync(10, WaitTimeout));

        Assert.Contains("ended after 5 requests", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ProxyStyleFailureWithoutServerName_IsNotCountedPerServer()
    {
        await using var blackHole = new BlackHoleListener();
        var options = new LoadOptions
        {
            Concurrency = 2,
            MaxRequests = 2,
            MaxDuration = WaitTimeout,
            RequestTimeout = TimeSpan.FromMilliseconds(200),
        };

        var result = await LoadGenerator.RunAsync(options, _ => new HttpRequestMessage(HttpMethod.Get, blackHole.BaseAddress));

        Assert.Equal(2, result.Failed);
        Assert.Equal(2, result.Exceptions);
        Assert.Empty(result.ServerCounts);
        Assert.All(result.FirstFailures, failure => Assert.Contains("Timeout", failure, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_RequestFactoryThrows_FailsTheRunInsteadOfCountingIt()
    {
        await using var server = await StartAsync("a");
        var options = new LoadOptions { Concurrency = 2, MaxRequests = 100, MaxDuration = WaitTimeout };

        await Assert.ThrowsAsync<InvalidOperationException>(() => LoadGenerator.RunAsync(
            options,
            i => i == 10 ? throw new InvalidOperationException("bad factory") : new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "/x"))));
    }

    [Fact]
    public async Task StopAsync_RunInProgress_LetsInFlightRequestsFinishAndReturnsResult()
    {
        await using var server = await StartAsync("a");
        var options = new LoadOptions { Concurrency = 2, MaxRequests = int.MaxValue, MaxDuration = WaitTimeout };
        await using var load = LoadGenerator.Start(options, _ => new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseAddress, "/x")));
        await load.WaitForCompletedAsync(10, WaitTimeout);

        var result = await load.StopAsync();

        Assert.True(result.Total >= 10, result.ToString());
        Assert.Equal(0, result.Failed);
        Assert.Equal(result.Total, result.CountFrom("a"));
    }

    private static Task<DemoBackendServer> StartAsync(string name) =>
        DemoBackendServer.StartAsync(new DemoBackendOptions { Name = name }, CancellationToken.None);
}
