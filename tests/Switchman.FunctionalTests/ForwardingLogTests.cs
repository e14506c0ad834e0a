using Microsoft.Extensions.Logging;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>What the node's log says when backends die under load: one line per request that failed, nothing else.</summary>
public class ForwardingLogTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DeadBackends_UnderLoad_RetriedRequestsLogNoWarning_EachFailedOneLogsOneLine()
    {
        await using var a = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);
        await using var b = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "b" }, CancellationToken.None);
        await using var hung = new BlackHoleListener();
        // No health checks and no passive ejection: the dead servers stay in rotation, so every third attempt fails.
        var backend = TestConfig.Backend(("a", a.BaseAddress.Authority), ("b", b.BaseAddress.Authority), ("hung", hung.Address))
            with { Timeouts = new BackendTimeouts { PerTry = TimeSpan.FromMilliseconds(200) } };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);
        var url = node.FrontendUrl();

        // Every tenth request is a POST: one that reached the hung server may not be sent again, so it fails — the
        // only requests that should. Every other attempt that fails is retried on another server and served.
        await using var load = LoadGenerator.Start(
            new LoadOptions { Concurrency = 4, MaxDuration = TimeSpan.FromSeconds(60), MaxRequests = 300 },
            i => i % 10 == 9
                ? new HttpRequestMessage(HttpMethod.Post, new Uri(url, $"/items/{i}")) { Content = new StringContent("{}") }
                : new HttpRequestMessage(HttpMethod.Get, new Uri(url, $"/items/{i}")));
        await load.WaitForCompletedAsync(60, TimeSpan.FromSeconds(45));
        await b.AbortAsync(); // killed: from now on its attempts are refused
        var result = await load.Completion.WaitAsync(TimeSpan.FromSeconds(90));
        output.WriteLine(result.ToString());

        var records = node.Logs.GetSnapshot();
        var failedAttempts = records.Where(r => r.Id.Id == 1202).ToList();
        Assert.True(result.Failed > 0, "some POSTs reached the hung server: the test needs failed requests to look at");
        Assert.True(result.Failed <= 30, $"only POSTs may fail: {string.Join("; ", result.FirstFailures)}");
        Assert.True(result.CountFrom("b") > 0, "b served requests before it was killed");

        // The forwarding library's per-request lines (a warning with a stack trace for every failed attempt) stay out.
        Assert.Empty(records.Where(r => r.Category?.StartsWith("Yarp", StringComparison.Ordinal) == true && r.Level >= LogLevel.Warning)
            .Select(r => $"{r.Category}[{r.Id.Id}] {r.Message}"));
        Assert.Empty(records.Where(r => r.Level >= LogLevel.Warning && r.Exception is not null)
            .Select(r => $"{r.Category}[{r.Id.Id}] {r.Message}: {r.Exception!.GetType().Name}"));

        // Ours: exactly one line per failed request, naming the server, what went wrong and why it was not retried.
        Assert.Equal(result.Failed, failedAttempts.Count);
        Assert.All(failedAttempts, r =>
        {
            Assert.Equal(LogLevel.Warning, r.Level);
            Assert.Null(r.Exception);
            Assert.DoesNotContain('\n', r.Message);
            // The cause is named ("no response within the per-try timeout"; on a busy machine the connection may be
            // seen closing first), in the same line.
            Assert.Contains("on api/hung failed (timeout: ", r.Message, StringComparison.Ordinal);
            Assert.Contains("POST is not idempotent", r.Message, StringComparison.Ordinal);
        });
    }
}
