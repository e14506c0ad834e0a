using System.Net;
using System.Text;
using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

/// <summary>
/// The failed-authentication limit on a real node, with clients on several loopback addresses: 429 with Retry-After
/// after a burst of failures, for that address alone, a token it used before still served. (AuthFailureLimiterTests
/// has the clock-driven parts.)
/// </summary>
public class AuthFailureLimitTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DemoBackends _backends = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _backends.DisposeAsync();

    [Fact]
    public async Task WrongTokens_PastTen_429WithRetryAfter_ForThatAddressAlone_TokenUsedThereServed_NewTokenRefused()
    {
        await using var node = await AdminTestNodes.StartWithServerAAsync(_backends, output);
        var here = LoopbackSource.Address(1);
        using var dashboard = node.CreateClientFrom(here, TestTokens.ReadToken);
        using var ops = node.CreateClientFrom(here, TestTokens.AdminToken);
        using var guesser = node.CreateClientFrom(here, "guess");
        using var anonymous = node.CreateClientFrom(here, token: null);
        using var neighbour = node.CreateClientFrom(LoopbackSource.Address(2), "guess");
        Assert.Equal(HttpStatusCode.OK, (await dashboard.GetAsync("/api/v1/status")).StatusCode);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync("/api/v1/status")).StatusCode);
        }
        using var limited = await guesser.GetAsync("/api/v1/status");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), limited.Headers.RetryAfter?.Delta);
        Assert.Equal("application/json", limited.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            $"too many failed authentications from {here}: until it fails less than once a second, requests from there that fail are answered 429; retry in 1 s with a valid credential",
            JsonDocument.Parse(await limited.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await anonymous.GetAsync("/api/v1/status")).StatusCode);
        // The read token had worked from here: the dashboard there goes on.
        Assert.Equal(HttpStatusCode.OK, (await dashboard.GetAsync("/api/v1/status")).StatusCode);
        // The admin token is valid but new here: answered like a guess, and nothing changes.
        using (var drain = await ops.PostAsync("/api/v1/backends/api/servers/a/state", new StringContent("{\"state\":\"drain\"}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, drain.StatusCode);
        }
        Assert.Equal("ready", (await node.ServerStatusJsonAsync("api", "a")).GetProperty("state").GetString());
        // Another address has its own burst; open endpoints are not limited.
        Assert.Equal(HttpStatusCode.Unauthorized, (await neighbour.GetAsync("/api/v1/status")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await guesser.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await guesser.GetAsync("/dashboard")).StatusCode);

        // Logged once for the lockout, not per refusal; every refusal counted.
        var lockout = Assert.Single(node.Logs.WithEventId(3002));
        Assert.Contains(here.ToString(), lockout.Message, StringComparison.Ordinal);
        var metrics = await node.MetricsAsync();
        Assert.Equal(3, PrometheusText.Sum(metrics, "switchman_admin_auth_failures_total", ("outcome", "limited")));
        Assert.Equal(11, PrometheusText.Sum(metrics, "switchman_admin_auth_failures_total", ("outcome", "unauthorized")));

        // As the answer says: after Retry-After, the valid token gets in (and is one the address has used from then on).
        await Await.UntilAsync(async () => (await ops.GetAsync("/api/v1/whoami")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10), "the admin token served from the limited address once a failure is back");
    }

    [Fact]
    public async Task NoTokenConfigured_NeverLimited_EveryAnswerSaysHowToAddOne()
    {
        await using var node = await SwitchmanTestNode.StartAsync(
            TestConfig.Single(TestConfig.Server("a", await _backends.StartAsync("a"))), output, AdminTestNodes.Options with { Tokens = TestTokenSources.None });
        using var operatorClient = node.CreateClientFrom(LoopbackSource.Address(4), TestTokens.AdminToken);

        for (var i = 0; i < 15; i++)
        {
            using var response = await operatorClient.GetAsync("/api/v1/status");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("no token is configured", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Empty(node.Logs.WithEventId(3002));
    }

    [Fact]
    public async Task NodeToNodeCalls_FailedSignatures_CountToo()
    {
        await using var node = await AdminTestNodes.StartWithServerAAsync(_backends, output);
        using var stranger = node.CreateClientFrom(LoopbackSource.Address(3), token: null);

        // A node alone has no cluster secret: every node-to-node call fails authentication.
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/_cluster/self")).StatusCode);
        }
        using var limited = await stranger.GetAsync("/_cluster/self");
        // The bearer-token API and the node-to-node calls share one count per address.
        using var api = await stranger.GetAsync("/api/v1/status");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), limited.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.TooManyRequests, api.StatusCode);
    }
}
