using System.Net;
using System.Text;
using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

/// <summary>Changing one server of a running node: state, weight, add, remove (drained first).</summary>
public class ServerApiTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DemoBackends _backends = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _backends.DisposeAsync();

    [Fact]
    public async Task SetState_Drain_StatusShowsDrain_TrafficAvoidsIt_ReadyBringsItBack()
    {
        var a = await _backends.StartAsync("a");
        var b = await _backends.StartAsync("b");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a), TestConfig.Server("b", b)), output, AdminTestNodes.Options);

        using var response = await node.Admin.PostAsync("/api/v1/backends/api/servers/a/state", Json("""{"state": "drain"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var server = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(("a", "drain", false), (server.GetProperty("name").GetString(), server.GetProperty("state").GetString(), server.GetProperty("available").GetBoolean()));
        Assert.Equal("drain", (await node.ServerStatusJsonAsync("api", "a")).GetProperty("state").GetString());
        Assert.Equal(["b"], await ServersReachedAsync(node));
        var evt = node.Events.Since(0).Last(e => e.Type == "server_state_changed");
        Assert.Equal(("api", "a", "drain", "ready", "ops"), (evt.Data["backend"], evt.Data["server"], evt.Data["state"], evt.Data["previous"], evt.Data["author"]));
        Assert.Equal(1, node.Revision); // a runtime override, not a revision

        (await node.Admin.PostAsync("/api/v1/backends/api/servers/a/state", Json("""{"state": "ready"}"""))).EnsureSuccessStatusCode();
        Assert.Equal(["a", "b"], await ServersReachedAsync(node));
    }

    [Fact]
    public async Task A_drained_server_stays_drained_after_a_configuration_change_that_leaves_it_alone()
    {
        var a = await _backends.StartAsync("a");
        var b = await _backends.StartAsync("b");
        var backend = new Core.Configuration.BackendConfig
        {
            Name = "api", Health = TestConfig.FastHealth, Servers = Core.Configuration.ValueList.Create(TestConfig.Server("a", a), TestConfig.Server("b", b)),
        };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(backend), output, AdminTestNodes.Options);
        (await node.Admin.PostAsync("/api/v1/backends/api/servers/a/state", Json("""{"state": "drain"}"""))).EnsureSuccessStatusCode();
        Assert.Equal(["b"], await ServersReachedAsync(node));

        // Only the backend's health interval changes (what the quickstart user did: 1s → 2s).
        var changed = node.RunningConfig with
        {
            Backends = Core.Configuration.ValueList.Create(backend with { Health = TestConfig.FastHealth with { Interval = TimeSpan.FromSeconds(2) } }),
        };
        using var put = await node.Admin.PutAsync("/api/v1/config",
            new StringContent(Core.Configuration.Writing.ConfigWriter.ToYaml(changed), Encoding.UTF8, "application/yaml"));

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("drain", (await node.ServerStatusJsonAsync("api", "a")).GetProperty("state").GetString());
        Assert.Equal(["b"], await ServersReachedAsync(node));
        var stateEvents = node.Events.Since(0).Where(e => e.Type == "server_state_changed").ToList();
        Assert.Equal(["drain"], stateEvents.Select(e => e.Data["state"]));
    }

    [Fact]
    public async Task SetWeight_VisibleInStatus_AndInTraffic()
    {
        var a = await _backends.StartAsync("a");
        var b = await _backends.StartAsync("b");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a), TestConfig.Server("b", b)), output, AdminTestNodes.Options);

        using var response = await node.Admin.PutAsync("/api/v1/backends/api/servers/b/weight", Json("""{"weight": 0}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("weight").GetInt32());
        Assert.Equal(0, (await node.ServerStatusJsonAsync("api", "b")).GetProperty("weight").GetInt32());
        Assert.Equal(["a"], await ServersReachedAsync(node));
        var evt = node.Events.Since(0).Last(e => e.Type == "server_weight_changed");
        Assert.Equal(("b", 0, 1), (evt.Data["server"], evt.Data["weight"], evt.Data["previous"]));
    }

    [Theory]
    [InlineData("/api/v1/backends/api/servers/nope/state", "backend 'api' has no server 'nope'; its servers: a", "servers", "a")]
    [InlineData("/api/v1/backends/nope/servers/a/state", "backend 'nope' does not exist; backends: api", "backends", "api")]
    public async Task UnknownServerOrBackend_404_NamesWhatExists(string path, string message, string listField, string existing)
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);

        using var response = await node.Admin.PostAsync(path, Json("""{"state": "drain"}"""));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(message, body.GetProperty("error").GetString());
        Assert.Equal([existing], body.GetProperty(listField).EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await node.Reader.GetAsync("/api/v1/backends/api/servers/nope")).StatusCode);
    }

    [Theory]
    [InlineData("state", """{"state": "sleep"}""", "state must be one of: ready, drain, maint")]
    [InlineData("state", """{"stat": "drain"}""", "stat is not a known field")]
    [InlineData("state", """{}""", "state is required")]
    [InlineData("weight", """{"weight": 257}""", "weight must be a whole number from 0 to 256")]
    [InlineData("weight", """{"weight": "10"}""", "weight must be a whole number from 0 to 256")]
    public async Task BadValue_422_NothingChanges(string what, string body, string message)
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);
        var path = $"/api/v1/backends/api/servers/a/{what}";

        using var response = what == "state" ? await node.Admin.PostAsync(path, Json(body)) : await node.Admin.PutAsync(path, Json(body));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains(message, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        var server = await node.ServerStatusJsonAsync("api", "a");
        Assert.Equal(("ready", 1), (server.GetProperty("state").GetString(), server.GetProperty("weight").GetInt32()));
    }

    [Fact]
    public async Task MalformedJson_400InJson()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);

        using var response = await node.Admin.PostAsync("/api/v1/backends/api/servers/a/state", Json("{state: drain"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not valid JSON", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddServer_NewRevision_201_TakesTraffic()
    {
        var a = await _backends.StartAsync("a");
        var c = await _backends.StartAsync("c");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a, weight: 0)), output, AdminTestNodes.Options);
        var body = $$"""{"name": "c", "address": "{{c.BaseAddress.Authority}}", "weight": 2}""";

        using var response = await node.Admin.PostAsync("/api/v1/backends/api/servers", Json(body));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, document.GetProperty("revision").GetInt64());
        Assert.Equal(2, document.GetProperty("server").GetProperty("weight").GetInt32());
        Assert.Equal(["c"], await ServersReachedAsync(node));
        Assert.Contains(node.Events.Since(0), e => e.Type == "server_added" && (string?)e.Data["server"] == "c");
        Assert.Contains(node.Events.Since(0), e => e.Type == "config_applied");

        using var again = await node.Admin.PostAsync("/api/v1/backends/api/servers", Json(body));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using var invalid = await node.Admin.PostAsync("/api/v1/backends/api/servers", Json("""{"name": "d", "address": "nowhere"}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        var error = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").EnumerateArray().Single();
        Assert.Equal("backends.api.servers[2].address", error.GetProperty("path").GetString());
        // A 5000-character name is refused like any other bad value, and the answer does not repeat it.
        using var huge = await node.Admin.PostAsync("/api/v1/backends/api/servers", Json($$"""{"name": "{{new string('x', 5000)}}", "address": "{{c.BaseAddress.Authority}}"}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, huge.StatusCode);
        var hugeBody = await huge.Content.ReadAsStringAsync();
        var tooLong = JsonDocument.Parse(hugeBody).RootElement.GetProperty("errors").EnumerateArray().Single();
        Assert.Equal("backends.api.servers[2].name", tooLong.GetProperty("path").GetString());
        Assert.Equal("'xxxxxxxxxxxxxxxxxxxx…' is 5000 characters long; a name has at most 64", tooLong.GetProperty("message").GetString());
        Assert.True(hugeBody.Length < 1000, $"the 422 repeats the name: {hugeBody.Length} bytes");
        Assert.Equal(2, node.Revision);
    }

    [Fact]
    public async Task RemoveServer_DrainsWaitsForInFlight_ThenNewRevisionWithoutIt()
    {
        var a = await _backends.StartAsync("a");
        var c = await _backends.StartAsync("c");
        // a has weight 0, so the slow request goes to c.
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a, weight: 0), TestConfig.Server("c", c)), output, AdminTestNodes.Options);
        using var client = node.CreateFrontendClient();
        var slow = client.GetAsync("/slow?delay=1500ms");
        await Await.UntilAsync(() => c.InFlight == 1, TimeSpan.FromSeconds(10), "the slow request in flight on c");

        using var response = await node.Admin.DeleteAsync("/api/v1/backends/api/servers/c");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The removal waited for the request (it takes 1.5 s on c): c had answered it and the proxy had passed the whole
        // answer on (its count drops then), though the client may read the last bytes a moment after the DELETE's answer.
        Assert.True(c.InFlight == 0, "DELETE answered before c's in-flight request finished");
        Assert.Same(slow, await Task.WhenAny(slow, Task.Delay(TimeSpan.FromSeconds(10))));
        using (var slowResponse = await slow)
        {
            Assert.Equal(HttpStatusCode.OK, slowResponse.StatusCode);
        }
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        // Revision 1 is the file, 2 the drain before the removal (each change is one log entry), 3 the removal.
        Assert.Equal(3, document.GetProperty("revision").GetInt64());
        Assert.Equal(["backend api changed: server c removed"], document.GetProperty("changes").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain(node.RunningConfig.Backends[0].Servers, s => s.Name == "c");
        Assert.Equal(HttpStatusCode.NotFound, (await node.Reader.GetAsync("/api/v1/backends/api/servers/c")).StatusCode);
        Assert.Single(c.ReceivedRequests);
        var types = node.Events.Since(0).Select(e => e.Type).ToList();
        Assert.Equal(["server_state_changed", "config_applied", "server_removed"], types.Where(t => t is "server_state_changed" or "config_applied" or "server_removed"));
    }

    [Fact]
    public async Task RemoveServer_InFlightOutlastsTimeout_409_StaysDrained()
    {
        var a = await _backends.StartAsync("a");
        var c = await _backends.StartAsync("c");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a, weight: 0), TestConfig.Server("c", c)), output, AdminTestNodes.Options);
        using var client = node.CreateFrontendClient();
        var slow = client.GetAsync("/slow?delay=3s");
        await Await.UntilAsync(() => c.InFlight == 1, TimeSpan.FromSeconds(10), "the slow request in flight on c");

        using var response = await node.Admin.DeleteAsync("/api/v1/backends/api/servers/c?timeout=200ms");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, body.GetProperty("in_flight").GetInt32());
        Assert.Contains("stays in drain", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("drain", (await node.ServerStatusJsonAsync("api", "c")).GetProperty("state").GetString());
        Assert.Equal(1, node.Revision);
        (await slow).Dispose();
    }

    [Fact]
    public async Task RemoveServer_LastOne_422BeforeDraining()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);

        using var response = await node.Admin.DeleteAsync("/api/v1/backends/api/servers/a");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("at least one server", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("ready", (await node.ServerStatusJsonAsync("api", "a")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Status_RequestRate_CountsRecentRequests()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);
        using var client = node.CreateFrontendClient();

        // Requests keep coming until the sampler has seen them across at least two of its one-second ticks.
        await Await.UntilAsync(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                (await client.GetAsync("/x")).Dispose();
            }
            return (await node.ServerStatusJsonAsync("api", "a")).GetProperty("request_rate").GetDouble() > 0;
        }, TimeSpan.FromSeconds(15), "a request rate above 0 for server a");

        var status = await node.StatusJsonAsync();
        var nodeInfo = status.GetProperty("node");
        Assert.Equal(1, nodeInfo.GetProperty("revision").GetInt64());
        Assert.NotEmpty(nodeInfo.GetProperty("version").GetString()!);
        Assert.True(nodeInfo.TryGetProperty("started_at", out _));
        Assert.True((await node.ServerStatusJsonAsync("api", "a")).GetProperty("requests_total").GetInt64() >= 20);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

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
