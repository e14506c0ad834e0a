using Switchman.Client;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary>
/// What the CLI talks to in these tests: a <see cref="SwitchmanTestNode"/> with two demo backends (a and b) behind
/// frontend "web", backend "api"; started from a real file, so reload and line numbers work; ready (first health round
/// done) when <see cref="StartAsync"/> returns.
/// </summary>
internal sealed class CliTarget : IAsyncDisposable
{
    private readonly DemoBackends _backends;

    private CliTarget(DemoBackends backends, DemoBackendServer a, DemoBackendServer b, SwitchmanTestNode node)
    {
        _backends = backends;
        A = a;
        B = b;
        Node = node;
        Frontend = node.CreateFrontendClient();
    }

    public SwitchmanTestNode Node { get; }

    public DemoBackendServer A { get; }

    public DemoBackendServer B { get; }

    /// <summary>A client for the "web" frontend: traffic through the load balancer.</summary>
    public HttpClient Frontend { get; }

    public static async Task<CliTarget> StartAsync(ITestOutputHelper? output = null)
    {
        var backends = new DemoBackends();
        var a = await backends.StartAsync("a");
        var b = await backends.StartAsync("b");
        var node = await SwitchmanTestNode.StartFromYamlAsync(Yaml(a, b), output, new TestNodeOptions { WaitForFirstHealthRound = true });
        return new CliTarget(backends, a, b, node);
    }

    /// <summary>The node's configuration as YAML, with <paramref name="servers"/> in backend api (a and b by default) and <paramref name="rise"/> as its health rise.</summary>
    public string Yaml(string servers = "ab", string rise = "2") => Yaml(A, B, servers, rise);

    /// <summary>Arguments that point the CLI at this node with <paramref name="token"/>: <c>--endpoint URL --token T</c>.</summary>
    public string[] Connect(string token = TestTokens.AdminToken) => ["--endpoint", Node.AdminUrl, "--token", token];

    /// <summary>Runs <c>switchman <paramref name="arguments"/></c> against this node with the admin token.</summary>
    public Task<CliResult> RunAsync(params string[] arguments) => Cli.RunAsync([.. arguments, .. Connect()]);

    /// <summary>The typed client, for checking what a command did.</summary>
    public AdminClient CreateClient(string token = TestTokens.AdminToken) =>
        new(new AdminClientSettings(new Uri(Node.AdminUrl), token));

    public async Task<ServerStatus> ServerAsync(string server)
    {
        using var client = CreateClient();
        return (await client.GetServerAsync("api", server, CancellationToken.None)).Value;
    }

    public async ValueTask DisposeAsync()
    {
        Frontend.Dispose();
        await Node.DisposeAsync();
        await _backends.DisposeAsync();
    }

    private static string Yaml(DemoBackendServer a, DemoBackendServer b, string servers = "ab", string rise = "2")
    {
        var serverLines = string.Concat(servers.Select(name => $"""

                  - name: {name}
                    address: {(name == 'a' ? a : b).BaseAddress.Authority}
            """));
        return string.Join('\n', ["admin:", "  listen: 127.0.0.1:0", .. TestTokens.YamlLines()]) + "\n" + $"""
            frontends:
              web:
                listen: 127.0.0.1:0
                default_backend: api
            backends:
              api:
                balance: roundrobin
                servers:{serverLines}
                health:
                  path: /healthz
                  interval: 500ms
                  rise: {rise}
            """ + "\n";
    }
}
