using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>
/// A node that has not proxied anything yet (a standby about to take a VIP) warms its forwarding path once the first
/// health round is done: each backend's health check request, sent to one available server through the proxy's own
/// path, so the first client does not wait for it to be compiled and connected (docs/vips.md has the figures).
/// </summary>
public class WarmUpTests(ITestOutputHelper output)
{
    [Fact]
    public async Task After_its_first_health_round_a_node_sends_each_backend_s_check_request_once_through_the_forwarding_path()
    {
        await using var a = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);
        await using var b = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "b" }, CancellationToken.None);
        // The check's path is an application path, which the demo backend records (it keeps /healthz to itself).
        var health = TestConfig.FastHealth with { Path = "/items/check?deep=1", Host = "api.example" };
        var api = TestConfig.Backend(("a", a.BaseAddress.Authority)) with { Health = health };
        var other = TestConfig.Backend(("b", b.BaseAddress.Authority)) with { Name = "other", Health = health with { Method = "POST" } };
        var config = TestConfig.Single(api) with { Backends = ValueList.Create(api, other) };

        await using var node = await SwitchmanTestNode.StartAsync(config, output);

        // Through the forwarding path: with the proxy's headers, which a health check does not send.
        await Await.UntilAsync(() => a.ReceivedRequests.Any(r => r.Header("X-Request-Id") is not null), TimeSpan.FromSeconds(10),
            "the warm-up request to reach a");
        var warm = a.ReceivedRequests.First(r => r.Header("X-Request-Id") is not null);
        Assert.Equal(("GET", "/items/check", "?deep=1", "api.example"), (warm.Method, warm.Path, warm.Query, warm.Header("Host")));
        Assert.Equal("http", warm.Header("X-Forwarded-Proto"));
        // Logged once the answer is read, a moment after the backend saw the request.
        await Await.UntilAsync(() => node.Logs.GetSnapshot().Any(r => r.Id.Id == 1402 && r.Message.Contains("api/a", StringComparison.Ordinal)
            && r.Message.Contains("HTTP 200", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "the node to log the warm-up's answer");

        // Once only, and never for a check that is not a GET or a HEAD (a POST could change something).
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Single(a.ReceivedRequests, r => r.Header("X-Request-Id") is not null);
        Assert.DoesNotContain(b.ReceivedRequests, r => r.Header("X-Request-Id") is not null);
    }
}
