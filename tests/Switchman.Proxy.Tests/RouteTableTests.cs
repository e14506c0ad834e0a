using Microsoft.Extensions.Time.Testing;
using Switchman.Core.Configuration;
using Switchman.Proxy.Routing;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

public class RouteTableTests
{
    private static RouteTable Table(string? defaultBackend, params RouteConfig[] routes)
    {
        var time = new FakeTimeProvider();
        var backends = new[] { "identity", "compute", "images", "fallback" }.ToDictionary(
            n => n,
            n => new BackendRuntime(new BackendConfig { Name = n, Servers = ValueList.Create(new ServerConfig { Name = "s", Address = "127.0.0.1:1" }) }, time));
        return new RouteTable(new FrontendConfig { Name = "web", Listen = "127.0.0.1:0", Routes = routes, DefaultBackend = defaultBackend }, backends);
    }

    [Theory]
    [InlineData("api.example.com", "/v3/auth/tokens", "identity")]
    [InlineData("API.example.com", "/v3", "identity")]
    [InlineData("api.example.com", "/v30", "fallback")]
    [InlineData("nova.cloud.test", "/v2.1/servers", "compute")]
    [InlineData("cloud.test", "/v2.1/servers", "fallback")]
    [InlineData("any.host", "/images/x", "images")]
    [InlineData("any.host", "/other", "fallback")]
    public void Match_HostThenPathPrefix_FirstMatchWins(string host, string path, string expected)
    {
        var table = Table("fallback",
            new RouteConfig { Host = "api.example.com", Path = "/v3", Backend = "identity" },
            new RouteConfig { Host = "*.cloud.test", Backend = "compute" },
            new RouteConfig { Path = "/images/", Backend = "images" });

        Assert.Equal(expected, table.Match(host, path)!.Name);
    }

    [Fact]
    public void Match_NoRouteAndNoDefault_ReturnsNull()
    {
        var table = Table(null, new RouteConfig { Path = "/v3", Backend = "identity" });

        Assert.Null(table.Match("x", "/v2"));
    }
}
