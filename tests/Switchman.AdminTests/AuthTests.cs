using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Switchman.Admin;
using Switchman.Core.Configuration;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

/// <summary>Who may call what: every endpoint of the admin listener, taken from the app's own endpoint table.</summary>
public class AuthTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DemoBackends _backends = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _backends.DisposeAsync();

    [Fact]
    public async Task EveryEndpoint_WithoutToken_401_ReadTokenOnWrite_403()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(AdminEndpointTable.Config(a), output, AdminTestNodes.Options);
        // Every read endpoint must have something to show, the service's output included.
        await Await.UntilAsync(async () => (await node.Reader.GetAsync("/api/v1/services/worker/log")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "the worker's first output");
        var endpoints = AdminEndpointTable.EndpointsOf(node);
        var checkedProtected = new List<string>();

        foreach (var (index, (method, path)) in endpoints.Index())
        {
            // Each endpoint's failures come from an address of their own: together they would be far past the burst of
            // failed authentications one address may make before it gets 429 (AuthFailureLimitTests).
            using var anonymousClient = node.CreateClientFrom(LoopbackSource.Address(index + 1), token: null);
            using var strangerClient = node.CreateClientFrom(LoopbackSource.Address(index + 1), "not-a-token");
            if (AdminEndpoints.OpenPaths.Contains(path))
            {
                using var open = await AdminEndpointTable.SendAsync(node.Anonymous, method, path);
                Assert.True(open.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{method} {path} is open but answered {open.StatusCode}");
                continue;
            }

            if (path.StartsWith(AdminEndpoints.NodeToNodePrefix, StringComparison.Ordinal))
            {
                // Node-to-node calls take no bearer token but a signature made with the cluster secret.
                using var unsigned = await AdminEndpointTable.SendAsync(node.Admin, method, path);
                Assert.True(unsigned.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} unsigned answered {unsigned.StatusCode}, not 401");
                await AssertJsonErrorAsync(unsigned, "node-to-node");
                continue;
            }
            using (var anonymous = await AdminEndpointTable.SendAsync(anonymousClient, method, path))
            {
                Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} without a token answered {anonymous.StatusCode}, not 401");
                Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.Single().Scheme);
                await AssertJsonErrorAsync(anonymous, "needs a token");
            }
            using (var wrongToken = await AdminEndpointTable.SendAsync(strangerClient, method, path))
            {
                Assert.True(wrongToken.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with an unknown token answered {wrongToken.StatusCode}, not 401");
                await AssertJsonErrorAsync(wrongToken, "not valid");
            }
            using (var reader = await AdminEndpointTable.SendAsync(node.Reader, method, path))
            {
                if (method is "GET" or "HEAD")
                {
                    Assert.True(reader.StatusCode == HttpStatusCode.OK, $"{method} {path} with a read token answered {reader.StatusCode}, not 200");
                }
                else
                {
                    Assert.True(reader.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} with a read token answered {reader.StatusCode}, not 403");
                    await AssertJsonErrorAsync(reader, "needs an admin token");
                }
            }
            checkedProtected.Add($"{method} {path}");
        }

        output.WriteLine(string.Join("\n", checkedProtected));
        // The enumeration itself must not come up empty: these are the endpoints the API is known to have.
        Assert.Superset(
            new HashSet<string>
            {
                "GET /api/v1/status", "GET /api/v1/config", "PUT /api/v1/config", "POST /api/v1/reload",
                "GET /api/v1/backends/api/servers/a", "POST /api/v1/backends/api/servers/a/state", "PUT /api/v1/backends/api/servers/a/weight",
                "POST /api/v1/backends/api/servers", "DELETE /api/v1/backends/api/servers/a", "GET /api/v1/events", "GET /openapi/v1.json",
                "GET /api/v1/vips", $"POST /api/v1/nodes/{Environment.MachineName}/standby", $"POST /api/v1/nodes/{Environment.MachineName}/online",
            },
            checkedProtected.ToHashSet());
        // The read token's 403s changed nothing.
        var server = await node.ServerStatusJsonAsync("api", "a");
        Assert.Equal("ready", server.GetProperty("state").GetString());
        Assert.Equal(1, node.Revision);
    }

    [Fact]
    public async Task TokensFromHashFileAndEnv_EachAuthenticates_AuthorIsTokenName()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);

        // Each token changes the state (a change that changes nothing publishes no event).
        foreach (var (token, name, state) in new[] { (TestTokens.AdminToken, "ops", "drain"), (TestTokens.CiToken, "ci", "ready") })
        {
            using var client = node.CreateClient(token);
            using var response = await client.PostAsync("/api/v1/backends/api/servers/a/state", Json($$"""{"state":"{{state}}"}"""));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(name, node.Events.Since(0).Last(e => e.Type == "server_state_changed").Data["author"]);
        }
        Assert.Equal(HttpStatusCode.OK, (await node.Reader.GetAsync("/api/v1/status")).StatusCode);
    }

    [Fact]
    public async Task TokenFileRotated_ReloadTakesTheNewToken_OldOneRefused()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options with { WriteFile = true });
        Assert.Equal(HttpStatusCode.OK, (await node.Reader.GetAsync("/api/v1/status")).StatusCode);

        File.WriteAllText(Path.Combine(node.Directory, "viewer.token"), "viewer-token-rotated\n");
        (await node.Admin.PostAsync("/api/v1/reload", null)).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.Unauthorized, (await node.Reader.GetAsync("/api/v1/status")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.CreateClient("viewer-token-rotated").GetAsync("/api/v1/status")).StatusCode);
    }

    [Fact]
    public async Task NoTokensConfigured_EveryApiRequestRefused_BodySaysHowToConfigure()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options with { Tokens = TestTokenSources.None });

        foreach (var client in new[] { node.Anonymous, node.Admin })
        {
            using var response = await client.GetAsync("/api/v1/status");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var error = await AssertJsonErrorAsync(response, "no token is configured");
            Assert.Contains("admin.tokens", error, StringComparison.Ordinal);
            Assert.Contains("sha256sum", error, StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.OK, (await node.Anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.Anonymous.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Tokens_NeverInLogs_NorInConfig()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options);
        using var ci = node.CreateClient(TestTokens.CiToken);

        // Good tokens, bad tokens, a malformed header, changes that log: everything that could echo a token.
        (await node.Reader.GetAsync("/api/v1/status")).Dispose();
        (await ci.PostAsync("/api/v1/backends/api/servers/a/state", Json("""{"state":"drain"}"""))).Dispose();
        (await node.Reader.PostAsync("/api/v1/backends/api/servers/a/state", Json("""{"state":"ready"}"""))).Dispose();
        (await node.CreateClient(TestTokens.ReadToken + "x").GetAsync("/api/v1/status")).Dispose();
        using (var malformed = new HttpRequestMessage(HttpMethod.Get, "/api/v1/status"))
        {
            malformed.Headers.TryAddWithoutValidation("Authorization", "Token " + TestTokens.AdminToken);
            (await node.Anonymous.SendAsync(malformed)).Dispose();
        }
        (await node.Admin.PutAsync("/api/v1/config", new StringContent("backends: {api: {servers: []}}\n"))).Dispose();
        (await node.Admin.PostAsync("/api/v1/reload", null)).Dispose();
        var yaml = await node.Reader.GetStringAsync("/api/v1/config");
        using var jsonRequest = new HttpRequestMessage(HttpMethod.Get, "/api/v1/config");
        jsonRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var json = await (await node.Reader.SendAsync(jsonRequest)).Content.ReadAsStringAsync();
        var events = await node.Reader.GetStringAsync("/api/v1/events?follow=false");

        var logs = node.Logs.Lines().ToList();
        Assert.NotEmpty(logs);
        foreach (var token in TestTokens.All)
        {
            Assert.DoesNotContain(logs, line => line.Contains(token, StringComparison.Ordinal));
            Assert.DoesNotContain(token, yaml, StringComparison.Ordinal);
            Assert.DoesNotContain(token, json, StringComparison.Ordinal);
            Assert.DoesNotContain(token, events, StringComparison.Ordinal);
        }
        // What the configuration does show: where each secret is, which is not a secret.
        Assert.Contains("viewer.token", yaml, StringComparison.Ordinal);
        Assert.Contains("SWITCHMAN_TEST_CI_TOKEN_", yaml, StringComparison.Ordinal);
    }

    private static async Task<string> AssertJsonErrorAsync(HttpResponseMessage response, string fragment)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;
        Assert.Contains(fragment, error, StringComparison.Ordinal);
        return error;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
