using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>
/// HTTP checks that look at the body (HAProxy's <c>http-check expect string|rstring|! string</c>) and send headers
/// (<c>http-check send hdr</c>), against real demo backends: a check of an application path is answered with a JSON
/// echo that names the server, so one server's body has the text and the other's lacks it.
/// </summary>
public class HealthBodyMatchTests(ITestOutputHelper output)
{
    [Fact]
    public async Task BodyLacksText_ServerGoesDown_AndSaysWhy_MatchingServerStaysUp_HeadersReachServers()
    {
        await using var good = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "good" }, CancellationToken.None);
        await using var other = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "other" }, CancellationToken.None);
        var backend = TestConfig.Backend(("good", good.BaseAddress.Authority), ("other", other.BaseAddress.Authority)) with
        {
            Health = TestConfig.FastHealth with
            {
                Path = "/check",
                ExpectBody = "\"server\":\"good\"",
                Headers = ValueList.Create(
                    new HealthCheckHeader { Name = "Host", Value = "keystone.example" },
                    new HealthCheckHeader { Name = "X-Check", Value = "switchman 1" }),
            },
        };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);

        await Await.UntilAsync(async () => (await node.ServerStatusAsync("api", "other")).Health == "down",
            TimeSpan.FromSeconds(10), "the server whose body lacks the text marked down");

        var down = await node.ServerStatusAsync("api", "other");
        Assert.False(down.LastCheck!.Success);
        Assert.Equal("body does not contain \"\\\"server\\\":\\\"good\\\"\"", down.LastCheck.Detail);
        Assert.Contains(node.Logs.GetSnapshot(), r => r.Id.Id == 1105
            && r.Message.StartsWith("Health check of api/other failed (body): body does not contain", StringComparison.Ordinal));

        var up = await node.ServerStatusAsync("api", "good");
        Assert.Equal("up", up.Health);
        Assert.True(up.LastCheck!.Success);
        Assert.Equal("HTTP 200", up.LastCheck.Detail);

        // What the servers received: the check's own headers, as configured.
        foreach (var server in new[] { good, other })
        {
            var check = server.ReceivedRequests.Last(r => r.Path == "/check");
            Assert.Equal("GET", check.Method);
            Assert.Equal("keystone.example", check.Header("Host"));
            Assert.Equal("switchman 1", check.Header("X-Check"));
            Assert.Equal("Switchman-HealthCheck/1", check.Header("User-Agent"));
        }

        // Traffic goes to the server that passes only.
        using var client = new HttpClient();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.GetAsync(new Uri(node.FrontendUrl(), $"/items/{i}"));
            Assert.Equal("good", response.Headers.GetValues("X-Server").Single());
        }
    }

    [Fact]
    public async Task RegexMustBeAbsent_MatchingServerGoesDown_OtherStaysUp()
    {
        await using var good = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "good" }, CancellationToken.None);
        await using var sick = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "sick" }, CancellationToken.None);
        var backend = TestConfig.Backend(("good", good.BaseAddress.Authority), ("sick", sick.BaseAddress.Authority)) with
        {
            Health = TestConfig.FastHealth with { Path = "/check", ExpectBodyRegex = "\"server\":\"s[a-z]+k\"", ExpectBodyAbsent = true },
        };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output);

        await Await.UntilAsync(async () => (await node.ServerStatusAsync("api", "sick")).Health == "down",
            TimeSpan.FromSeconds(10), "the server whose body matches the forbidden pattern marked down");

        Assert.Equal("body matches \"\\\"server\\\":\\\"s[a-z]+k\\\"\"", (await node.ServerStatusAsync("api", "sick")).LastCheck!.Detail);
        var up = await node.ServerStatusAsync("api", "good");
        Assert.Equal("up", up.Health);
        Assert.True(up.LastCheck!.Success);
    }
}
