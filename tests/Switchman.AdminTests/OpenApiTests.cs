using System.Net;
using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

public class OpenApiTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DemoBackends _backends = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _backends.DisposeAsync();

    [Fact]
    public async Task Document_ReadToken_DescribesEveryApiEndpoint_InSnakeCase()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);

        using var response = await node.Reader.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var document = JsonDocument.Parse(text).RootElement;
        var paths = document.GetProperty("paths");
        Assert.Equal(
            ["/api/v1/backends/{backend}/servers", "/api/v1/backends/{backend}/servers/{server}", "/api/v1/backends/{backend}/servers/{server}/state",
             "/api/v1/backends/{backend}/servers/{server}/weight", "/api/v1/cluster", "/api/v1/cluster/members", "/api/v1/cluster/members/{member}", "/api/v1/config", "/api/v1/events",
             "/api/v1/nodes/{node}/online", "/api/v1/nodes/{node}/standby", "/api/v1/reload",
             "/api/v1/services", "/api/v1/services/{service}", "/api/v1/services/{service}/cleanup", "/api/v1/services/{service}/log",
             "/api/v1/services/{service}/move", "/api/v1/services/{service}/restart", "/api/v1/services/{service}/start", "/api/v1/services/{service}/stop", "/api/v1/status", "/api/v1/vips", "/api/v1/whoami", "/healthz", "/readyz"],
            paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.True(paths.GetProperty("/api/v1/backends/{backend}/servers/{server}/state").GetProperty("post").TryGetProperty("requestBody", out _));
        var serverSchema = document.GetProperty("components").GetProperty("schemas").GetProperty("ServerStatusDocument").GetProperty("properties");
        Assert.True(serverSchema.TryGetProperty("in_flight", out _), "schemas use the API's snake_case names");
        Assert.True(serverSchema.TryGetProperty("request_rate", out _));
        var vipSchema = document.GetProperty("components").GetProperty("schemas").GetProperty("VipStatusDocument").GetProperty("properties");
        Assert.True(vipSchema.TryGetProperty("held_here", out _));
        Assert.True(vipSchema.TryGetProperty("previous_node", out _));
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        // The query parameters are the ones each endpoint accepts (any other is refused), and no more.
        Assert.Equal(["dry_run"], QueryParameters(paths.GetProperty("/api/v1/config").GetProperty("put")));
        Assert.Equal(["since", "follow"], QueryParameters(paths.GetProperty("/api/v1/events").GetProperty("get")));
        Assert.Equal(["node", "rolling", "drain_timeout"], QueryParameters(paths.GetProperty("/api/v1/services/{service}/restart").GetProperty("post")));
        Assert.Empty(QueryParameters(paths.GetProperty("/api/v1/config").GetProperty("get")));
    }

    private static List<string> QueryParameters(JsonElement operation) => operation.TryGetProperty("parameters", out var parameters)
        ? [.. parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()!)]
        : [];
}
