using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Switchman.Testing;
using Switchman.Testing.Netns;
using Xunit.Abstractions;

namespace Switchman.NetnsTests;

/// <summary>
/// One load balancer on a host of its own, in front of a live backend and a backend whose host is powered off (its
/// switch port down: no ARP answer, no RST — a dead machine on the LAN, which loopback cannot show). Whatever the
/// relation between the connect timeout and the check timeout, the dead server must be found down by its checks and
/// go on being checked, while clients keep being served by the live one.
/// </summary>
[Collection(NetworkLabCollection.Name)]
public sealed class DeadBackendHealthTests(ITestOutputHelper output)
{
    private const string Token = "netns-health-admin-token";
    private const int AdminPort = 9090;
    private const int FrontendPort = 8080;
    private const int BackendPort = 8000;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Generous: the default check (2 s interval, fall 3) needs ~6 s plus timeouts; a slow machine must not fail this.</summary>
    private static readonly TimeSpan DownLimit = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task A_powered_off_server_is_found_down_and_stays_checked_with_default_and_with_short_connect_timeouts()
    {
        await using var lab = await NetworkLab.CreateAsync(["lb", "live", "dark"]);
        using var directory = new TempDirectory("switchman-netns-health");
        await lab.StartDemoBackendAsync(lab.Host("live"), "live", BackendPort);
        await lab.StartDemoBackendAsync(lab.Host("dark"), "dark", BackendPort);
        var config = directory.WriteFile("lb.yaml", ConfigYaml(lab));
        var node = await lab.StartSwitchmanAsync(lab.Host("lb"), ["run", "-c", config], new ChildProcessOptions { DisplayName = "lb", WorkingDirectory = directory.Path });
        await node.WaitForOutputLineAsync(l => l.StartsWith("switchman: admin listening", StringComparison.Ordinal), StartTimeout, "lb to start");

        using var admin = new HttpClient(lab.Operator.CreateHttpHandler()) { BaseAddress = new Uri($"http://{lab.Host("lb").HostPort(AdminPort)}/"), Timeout = TimeSpan.FromSeconds(10) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var client = new HttpClient(lab.Operator.CreateHttpHandler()) { BaseAddress = new Uri($"http://{lab.Host("lb").HostPort(FrontendPort)}/"), Timeout = TimeSpan.FromSeconds(10) };
        await Await.UntilAsync(async () => (await ServersAsync(admin)).All(s => s.Health == "up"), StartTimeout, "every server, the dark host's included, to be up first");

        await lab.PowerOffAsync(lab.Host("dark"));

        string[] backends = ["defaults", "short_connect"];
        try
        {
            await Await.UntilAsync(async () => (await ServersAsync(admin)).Where(s => s.Name == "dark").All(s => s.Health == "down"), DownLimit,
                "the powered-off server to be down in both backends");
        }
        catch (TimeoutException)
        {
            output.WriteLine(string.Join('\n', (await ServersAsync(admin)).Select(s => s.ToString())));
            output.WriteLine(node.DescribeOutput(60));
            throw;
        }
        var first = (await ServersAsync(admin)).Where(s => s.Name == "dark").ToDictionary(s => s.Backend);
        Assert.All(backends, b => Assert.False(first[b].LastCheckSuccess, $"{b}: the last check of the dark server succeeded"));

        // Still checked: a check loop never ends while its server exists.
        await Await.UntilAsync(async () => (await ServersAsync(admin)).Where(s => s.Name == "dark").All(s => s.LastCheckTime > first[s.Backend].LastCheckTime), DownLimit,
            "the dark server to be checked again in both backends");

        // And clients are served by the live server, through both backends.
        foreach (var backend in backends)
        {
            for (var i = 0; i < 10; i++)
            {
                using var response = await client.GetAsync(new Uri($"/{backend}/ping-{i}", UriKind.Relative));
                Assert.True(response.IsSuccessStatusCode, $"GET /{backend}/ping-{i}: {(int)response.StatusCode}");
            }
        }
    }

    private static string ConfigYaml(NetworkLab lab)
    {
        var tokenHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Token)));
        string[] servers =
        [
            "    servers:",
            $"      - {{ name: live, address: {lab.Host("live").HostPort(BackendPort)} }}",
            $"      - {{ name: dark, address: {lab.Host("dark").HostPort(BackendPort)} }}",
        ];
        return string.Join('\n',
        [
            "admin:",
            $"  listen: {lab.Host("lb").HostPort(AdminPort)}",
            "  tokens:",
            $"    - {{ name: tests, role: admin, sha256: {tokenHash} }}",
            "frontends:",
            "  web:",
            $"    listen: {lab.Host("lb").HostPort(FrontendPort)}",
            "    routes:",
            "      - { path: /defaults, backend: defaults }",
            "      - { path: /short_connect, backend: short_connect }",
            "backends:",
            "  defaults:",                                 // every timeout and check setting at its default
            "    health: { path: / }",
            .. servers,
            "  short_connect:",                            // the combination of the issue: connect shorter than the check timeout
            "    timeouts: { connect: 100ms }",
            "    health: { path: /, timeout: 500ms, interval: 500ms }",
            .. servers,
            "",
        ]);
    }

    private sealed record ServerView(string Backend, string Name, string Health, bool? LastCheckSuccess, DateTimeOffset? LastCheckTime);

    private static async Task<IReadOnlyList<ServerView>> ServersAsync(HttpClient admin)
    {
        using var document = JsonDocument.Parse(await admin.GetStringAsync(new Uri("api/v1/status", UriKind.Relative)));
        return [.. document.RootElement.GetProperty("backends").EnumerateArray().SelectMany(b => b.GetProperty("servers").EnumerateArray().Select(s =>
        {
            var checkedOnce = s.TryGetProperty("last_check", out var check);
            return new ServerView(
                b.GetProperty("name").GetString()!,
                s.GetProperty("name").GetString()!,
                s.GetProperty("health").GetString()!,
                checkedOnce ? check.GetProperty("success").GetBoolean() : null,
                checkedOnce ? check.GetProperty("time").GetDateTimeOffset() : null);
        }))];
    }
}
