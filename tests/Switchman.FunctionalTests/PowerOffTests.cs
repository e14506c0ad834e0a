using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>
/// A server's host is powered off: nothing answers any more, nothing is reset. With the default configuration (no
/// health checks, default timeouts), clients must not notice.
/// </summary>
public class PowerOffTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ServerSilentFromTheStart_FirstRequestMovesOn_EvenAPost_ThenTheServerIsAvoided()
    {
        using var silent = await SynDropListener.StartAsync();
        await using var live = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "live" }, CancellationToken.None);
        // The silent server first, so that round robin sends it the very first request, a POST.
        var backend = TestConfig.Backend(("silent", silent.Address), ("live", live.BaseAddress.Authority));
        await using var node = await TestNode.StartAsync(TestConfig.Single(backend), output);
        using var client = node.CreateClient();

        // Nothing is known about either server yet: the connect is given TCP's initial second, not timeouts.connect
        // (2 s); the request never reached the silent server, so even a POST goes on to the other one.
        using (var first = await client.PostAsync("/orders", new StringContent("{}")))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, first.StatusCode);
        }
        var latencies = new List<TimeSpan>();
        for (var i = 0; i < 20; i++)
        {
            var started = TimeProvider.System.GetTimestamp();
            using var response = await client.GetAsync($"/items/{i}");
            latencies.Add(TimeProvider.System.GetElapsedTime(started));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(21, live.RequestsServed);
        var metrics = await node.MetricsAsync();
        Assert.Equal(1, TestNode.MetricValue(metrics, "switchman_server_suspicions_total", ("server", "silent"), ("cause", "silent")));
        Assert.Equal(1, TestNode.MetricValue(metrics, "switchman_server_failures_total", ("server", "silent"), ("kind", "connect")));
        // None of them waited for the silent server (a generous bound: the machine may be busy).
        Assert.All(latencies, latency => Assert.True(latency < TimeSpan.FromMilliseconds(500), $"a request took {latency.TotalMilliseconds:0} ms"));
    }
}
