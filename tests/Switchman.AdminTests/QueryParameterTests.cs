using System.Net;
using System.Text;
using System.Text.Json;
using Switchman.Admin;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Writing;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

/// <summary>Every endpoint takes the query parameters it declares, once each and with a value; anything else is a 400 that says which.</summary>
public class QueryParameterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DemoBackends _backends = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _backends.DisposeAsync();

    private Task<SwitchmanTestNode> StartNodeAsync() => AdminTestNodes.StartWithServerAAsync(_backends, output);

    [Fact]
    public async Task GetConfig_FormatXml_400NamesFormat_SaysItTakesNone()
    {
        await using var node = await StartNodeAsync();

        using var response = await node.Reader.GetAsync("/api/v1/config?format=xml");

        // There is no format parameter (the Accept header picks YAML or JSON): it answered YAML before.
        var (error, accepted) = await AssertRefusedAsync(response);
        Assert.Equal("unknown query parameter 'format': GET /api/v1/config takes no query parameter", error);
        Assert.Empty(accepted);
    }

    [Theory]
    [InlineData("dryrun=true", "unknown query parameter 'dryrun': PUT /api/v1/config takes: dry_run")]
    [InlineData("dry_run", "query parameter 'dry_run' has no value: write dry_run=<value>")]
    public async Task PutConfig_AlmostADryRun_400SaysWhy_NothingApplied(string query, string expected)
    {
        await using var node = await StartNodeAsync();

        // Both were read as no dry run: what was meant as a trial was applied.
        using var response = await node.Admin.PutAsync($"/api/v1/config?{query}", new StringContent(WithWeight7(node), Encoding.UTF8, "application/yaml"));

        var (error, accepted) = await AssertRefusedAsync(response);
        Assert.Equal(expected, error);
        Assert.Equal(["dry_run"], accepted);
        Assert.Equal(1, node.Revision);
        Assert.Equal(1, node.RunningConfig.Backends[0].Servers[0].Weight);
    }

    [Fact]
    public async Task RepeatedParameter_400SaysGiveItOnce()
    {
        await using var node = await StartNodeAsync();

        using var response = await node.Reader.GetAsync("/api/v1/events?follow=false&since=0&Since=3");

        var (error, accepted) = await AssertRefusedAsync(response);
        Assert.Equal("query parameter 'since' is given 2 times: give it once", error);
        Assert.Equal(["since", "follow"], accepted);
    }

    [Fact]
    public async Task DeclaredParameters_StillWork()
    {
        await using var node = await StartNodeAsync();

        using var events = await node.Reader.GetAsync("/api/v1/events?follow=false&since=0");
        using var dryRun = await node.Admin.PutAsync("/api/v1/config?dry_run=true", new StringContent(WithWeight7(node), Encoding.UTF8, "application/yaml"));
        // Parameters are matched regardless of case, as the handlers read them.
        using var upperCase = await node.Reader.GetAsync("/api/v1/events?FOLLOW=false");

        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        Assert.Equal(HttpStatusCode.OK, dryRun.StatusCode);
        Assert.True(JsonDocument.Parse(await dryRun.Content.ReadAsStringAsync()).RootElement.GetProperty("dry_run").GetBoolean());
        Assert.Equal(1, node.Revision);
        Assert.Equal(HttpStatusCode.OK, upperCase.StatusCode);
        Assert.Equal("application/json", upperCase.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task RollingRestart_RollingNotAFlag_400()
    {
        await using var node = await SwitchmanTestNode.StartAsync(AdminEndpointTable.Config(await _backends.StartAsync("a")), output, AdminTestNodes.Options);

        // It read anything but "true" or "1" as false: a restart of every instance at once.
        using var response = await node.Admin.PostAsync("/api/v1/services/worker/restart?rolling=yes", null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("rolling must be true or false", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task EveryEndpoint_UnknownQueryParameter_400NamingIt_NothingChanged()
    {
        var a = await _backends.StartAsync("a");
        await using var node = await SwitchmanTestNode.StartAsync(AdminEndpointTable.Config(a), output, AdminTestNodes.Options);
        var walked = new List<string>();

        foreach (var (method, path) in AdminEndpointTable.EndpointsOf(node))
        {
            if (AdminEndpoints.OpenPaths.Contains(path))
            {
                // Probes, metrics and the dashboard's files ignore what their callers add (a load balancer's probe, a scraper).
                using var open = await AdminEndpointTable.SendAsync(node.Anonymous, method, $"{path}?bogus_option=1");
                Assert.True(open.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable or HttpStatusCode.Redirect,
                    $"{method} {path}?bogus_option=1 is open but answered {open.StatusCode}");
                continue;
            }
            // The admin token reaches every API handler; node-to-node calls are refused for the parameter before their signature is checked.
            using var response = await AdminEndpointTable.SendAsync(node.Admin, method, $"{path}?bogus_option=1");

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path}?bogus_option=1 answered {response.StatusCode}, not 400");
            var (error, _) = await AssertRefusedAsync(response);
            Assert.StartsWith($"unknown query parameter 'bogus_option': {method} {path} takes", error, StringComparison.Ordinal);
            walked.Add($"{method} {path}");
        }

        output.WriteLine(string.Join("\n", walked));
        Assert.Superset(
            new HashSet<string>
            {
                "GET /api/v1/status", "GET /api/v1/config", "PUT /api/v1/config", "POST /api/v1/reload", "DELETE /api/v1/backends/api/servers/a",
                "GET /api/v1/events", "GET /openapi/v1.json", "POST /api/v1/services/worker/restart", "GET /api/v1/services/worker/log", "POST /_cluster/propose",
            },
            walked.ToHashSet());
        // None of those requests reached a handler that changes something.
        Assert.Equal(1, node.Revision);
        Assert.Equal("ready", (await node.ServerStatusJsonAsync("api", "a")).GetProperty("state").GetString());
    }

    /// <summary>The running configuration with server a at weight 7: a change that applies if sent without a dry run.</summary>
    private static string WithWeight7(SwitchmanTestNode node)
    {
        var config = node.RunningConfig;
        var api = config.Backends[0];
        return ConfigWriter.ToYaml(config with { Backends = ValueList.Create(api with { Servers = ValueList.Create(api.Servers[0] with { Weight = 7 }) }) });
    }

    private static async Task<(string Error, List<string> Accepted)> AssertRefusedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (body.GetProperty("error").GetString()!, [.. body.GetProperty("accepted").EnumerateArray().Select(e => e.GetString()!)]);
    }
}
