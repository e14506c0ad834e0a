using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Writing;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

/// <summary>GET and PUT /api/v1/config, POST /api/v1/reload: revisions, optimistic concurrency, every error listed.</summary>
public class ConfigApiTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DemoBackends _backends = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _backends.DisposeAsync();

    /// <summary>Backend api with a (weight 1) and b (weight 0): all traffic goes to a.</summary>
    private async Task<SwitchmanTestNode> StartNodeAsync(bool writeFile = false)
    {
        var a = await _backends.StartAsync("a");
        var b = await _backends.StartAsync("b");
        return await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a), TestConfig.Server("b", b, weight: 0)), output, AdminTestNodes.Options with { WriteFile = writeFile });
    }

    [Fact]
    public async Task GetConfig_Yaml_RoundTripsThroughLoader_WithRevisionETag()
    {
        await using var node = await StartNodeAsync();

        using var response = await node.Reader.GetAsync("/api/v1/config");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/yaml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        var yaml = await response.Content.ReadAsStringAsync();
        output.WriteLine(yaml);
        var loaded = ConfigLoader.LoadYaml(yaml, "GET /api/v1/config", node.Directory);
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors));
        Assert.Equal(node.RunningConfig, loaded.Config);
    }

    [Fact]
    public async Task GetConfig_AcceptJson_RoundTripsThroughLoader()
    {
        await using var node = await StartNodeAsync();

        var (json, etag) = await GetConfigAsync(node, "application/json");

        Assert.Equal("\"1\"", etag);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(json).RootElement.ValueKind);
        Assert.Equal(node.RunningConfig, ConfigLoader.LoadYaml(json, "json", node.Directory).Config);
    }

    [Fact]
    public async Task GetConfig_IfNoneMatchCurrentRevision_304()
    {
        await using var node = await StartNodeAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/config");
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"1\""));

        using var response = await node.Reader.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
    }

    [Fact]
    public async Task PutConfig_ValidChange_NewRevision_TakesEffect()
    {
        await using var node = await StartNodeAsync();
        Assert.Equal(["a"], await ServersReachedAsync(node));
        var (yaml, etag) = await GetConfigAsync(node);

        using var response = await PutAsync(node, SwapWeights(yaml, node), etag);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"2\"", response.Headers.ETag?.Tag);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, body.GetProperty("revision").GetInt64());
        Assert.False(body.GetProperty("dry_run").GetBoolean());
        Assert.Equal(["backend api changed: server a weight 1 → 0, server b weight 0 → 1"], body.GetProperty("changes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(0, (await node.ServerStatusJsonAsync("api", "a")).GetProperty("weight").GetInt32());
        Assert.Equal(1, (await node.ServerStatusJsonAsync("api", "b")).GetProperty("weight").GetInt32());
        Assert.Equal(["b"], await ServersReachedAsync(node));
        Assert.Equal(2, (await node.StatusJsonAsync()).GetProperty("node").GetProperty("revision").GetInt64());
        var applied = node.Events.Since(0).Last(e => e.Type == "config_applied");
        Assert.Equal("ops", applied.Data["author"]);
    }

    [Fact]
    public async Task PutConfig_StaleRevision_409_NothingChanges()
    {
        await using var node = await StartNodeAsync();
        var (yaml, staleEtag) = await GetConfigAsync(node);
        (await PutAsync(node, yaml, staleEtag)).EnsureSuccessStatusCode(); // someone else's change: revision 2

        using var response = await PutAsync(node, SwapWeights(yaml, node), staleEtag);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, body.GetProperty("current_revision").GetInt64());
        Assert.Equal(1, body.GetProperty("expected_revision").GetInt64());
        Assert.Contains("revision 2", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("\"2\"", (await GetConfigAsync(node)).ETag);
        Assert.Equal(["a"], await ServersReachedAsync(node));
    }

    [Fact]
    public async Task PutConfig_SeveralMistakes_422ListsEveryErrorWithLines_NothingChanges()
    {
        await using var node = await StartNodeAsync();
        var (before, etag) = await GetConfigAsync(node);
        var broken = """
            frontends:
              web:
                listen: 127.0.0.1:0
                default_backend: apii
            backends:
              api:
                servers:
                  - name: a
                    address: 127.0.0.1:9001
                    weight: 300
                health:
                  rise: 0
                retires: 2
            """;

        using var response = await PutAsync(node, broken, etag, "application/yaml");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        output.WriteLine(body.ToString());
        Assert.Contains("4 error(s)", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        var errors = body.GetProperty("errors").EnumerateArray()
            .Select(e => (e.GetProperty("line").GetInt32(), e.GetProperty("path").GetString())).ToList();
        Assert.Equal(
            [(4, "frontends.web.default_backend"), (10, "backends.api.servers[0].weight"), (12, "backends.api.health.rise"), (13, "backends.api.retires")],
            errors);
        Assert.All(body.GetProperty("errors").EnumerateArray(), e =>
        {
            Assert.True(e.GetProperty("column").GetInt32() > 0);
            Assert.NotEmpty(e.GetProperty("message").GetString()!);
            Assert.False(e.TryGetProperty("file", out _));
        });
        var (after, etagAfter) = await GetConfigAsync(node);
        Assert.Equal(etag, etagAfter);
        Assert.Equal(before, after);
        Assert.Equal(["a"], await ServersReachedAsync(node));
    }

    [Fact]
    public async Task PutConfig_SyntaxError_422WithPosition()
    {
        await using var node = await StartNodeAsync();

        using var response = await PutAsync(node, "backends:\n  api: [unclosed\n", etag: null);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors")[0];
        Assert.True(error.GetProperty("line").GetInt32() > 0);
        Assert.Equal(1, node.Revision);
    }

    [Fact]
    public async Task PutConfig_JsonBody_Applied()
    {
        await using var node = await StartNodeAsync();
        var (json, etag) = await GetConfigAsync(node, "application/json");
        var changed = ConfigWriter.ToJson(Load(json, node) with { AccessLog = new AccessLogConfig { Path = "stdout" } });

        using var response = await PutAsync(node, changed, etag, "application/json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("stdout", node.RunningConfig.AccessLog.Path);
    }

    [Fact]
    public async Task PutConfig_DryRun_ReportsDiff_AppliesNothing()
    {
        await using var node = await StartNodeAsync();
        var (yaml, etag) = await GetConfigAsync(node);

        using var response = await PutAsync(node, SwapWeights(yaml, node), etag, query: "?dry_run=true");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.GetProperty("dry_run").GetBoolean());
        Assert.Equal(1, body.GetProperty("revision").GetInt64());
        Assert.Single(body.GetProperty("changes").EnumerateArray());
        Assert.Equal(["a"], await ServersReachedAsync(node));
        Assert.Equal(1, node.Revision);
    }

    [Fact]
    public async Task PutConfig_BadIfMatchOrMediaType_400Or415()
    {
        await using var node = await StartNodeAsync();
        var (yaml, _) = await GetConfigAsync(node);

        using var badIfMatch = new HttpRequestMessage(HttpMethod.Put, "/api/v1/config") { Content = new StringContent(yaml) };
        badIfMatch.Headers.TryAddWithoutValidation("If-Match", "\"latest\"");
        Assert.Equal(HttpStatusCode.BadRequest, (await node.Admin.SendAsync(badIfMatch)).StatusCode);
        using var xml = await node.Admin.PutAsync("/api/v1/config", new StringContent("<config/>", Encoding.UTF8, "application/xml"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, xml.StatusCode);
        Assert.Equal(1, node.Revision);
    }

    [Fact]
    public async Task Reload_ChangedFile_Applied_BrokenFile_422WithFileAndLines()
    {
        await using var node = await StartNodeAsync(writeFile: true);
        var file = node.ConfigFile!;
        File.WriteAllText(file, SwapWeights(File.ReadAllText(file), node));

        using var reloaded = await node.Admin.PostAsync("/api/v1/reload", null);

        Assert.Equal(HttpStatusCode.OK, reloaded.StatusCode);
        Assert.Equal(2, JsonDocument.Parse(await reloaded.Content.ReadAsStringAsync()).RootElement.GetProperty("revision").GetInt64());
        Assert.Equal(["b"], await ServersReachedAsync(node));

        File.WriteAllText(file, File.ReadAllText(file).Replace("weight: 0", "weight: -1", StringComparison.Ordinal));
        using var refused = await node.Admin.PostAsync("/api/v1/reload", null);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").EnumerateArray().Single();
        Assert.Equal(file, error.GetProperty("file").GetString());
        Assert.True(error.GetProperty("line").GetInt32() > 0);
        Assert.Equal(2, node.Revision);
        Assert.Equal(["b"], await ServersReachedAsync(node));
    }

    private static async Task<(string Text, string? ETag)> GetConfigAsync(SwitchmanTestNode node, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/config");
        if (accept is not null)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        }
        using var response = await node.Reader.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadAsStringAsync(), response.Headers.ETag?.Tag);
    }

    private static async Task<HttpResponseMessage> PutAsync(SwitchmanTestNode node, string body, string? etag, string? mediaType = null, string query = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/config" + query)
        {
            Content = mediaType is null ? new StringContent(body) : new StringContent(body, Encoding.UTF8, mediaType),
        };
        if (etag is not null)
        {
            request.Headers.IfMatch.Add(new EntityTagHeaderValue(etag));
        }
        return await node.Admin.SendAsync(request);
    }

    private static SwitchmanConfig Load(string text, SwitchmanTestNode node)
    {
        var loaded = ConfigLoader.LoadYaml(text, "test", node.Directory);
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors));
        return loaded.Config!;
    }

    /// <summary>The same configuration with a at weight 0 and b at weight 1, written as YAML.</summary>
    private static string SwapWeights(string yaml, SwitchmanTestNode node)
    {
        var config = Load(yaml, node);
        var api = config.Backends[0];
        return ConfigWriter.ToYaml(config with
        {
            Backends = ValueList.Create(api with { Servers = new ValueList<ServerConfig>(api.Servers.Select(s => s with { Weight = 1 - s.Weight })) }),
        });
    }

    /// <summary>The servers that answered ten sequential requests through the frontend.</summary>
    private static async Task<List<string>> ServersReachedAsync(SwitchmanTestNode node)
    {
        using var client = node.CreateFrontendClient();
        var servers = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 10; i++)
        {
            using var response = await client.GetAsync($"/items/{i}");
            response.EnsureSuccessStatusCode();
            servers.Add(response.Headers.GetValues("X-Server").Single());
        }
        return [.. servers];
    }
}
