using System.Net;
using System.Net.Sockets;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary>
/// Exit codes scripts can rely on: 0 done, 1 refused or invalid, 2 unreachable or unauthorised; and where the endpoint
/// and token come from (flag, environment, client configuration file).
/// </summary>
public sealed class ExitCodeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private CliTarget _node = null!;

    public async Task InitializeAsync() => _node = await CliTarget.StartAsync(output);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task UnreachableEndpoint_Exit2()
    {
        var result = await Cli.RunAsync("status", "--endpoint", $"http://127.0.0.1:{ClosedPort()}");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("switchman: cannot reach http://127.0.0.1:", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FrontendPortByMistake_NotAnAdminApi_Exit2()
    {
        // The frontend forwards /api/v1/status to a demo backend, which answers 200 with a JSON echo.
        var result = await Cli.RunAsync(["status", "--endpoint", _node.Frontend.BaseAddress!.ToString(), "--token", TestTokens.AdminToken]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("answered, but not with the admin API's JSON", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoToken_Exit2()
    {
        var result = await Cli.RunAsync("status", "--endpoint", _node.Node.AdminUrl);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("(401)", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongToken_Exit2()
    {
        var result = await Cli.RunAsync("status", "--endpoint", _node.Node.AdminUrl, "--token", "not-a-token");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("(401)", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddressLimitedAfterFailedTokens_Exit2_SayingWhy()
    {
        using (var guesser = new HttpClient())
        {
            guesser.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "guess");
            for (var i = 0; i < 20; i++)
            {
                using var _ = await guesser.GetAsync(new Uri($"{_node.Node.AdminUrl}/api/v1/status"));
            }
        }

        var result = await Cli.RunAsync("status", "--endpoint", _node.Node.AdminUrl, "--token", "another-guess");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("too many failed authentications", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("(429)", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadToken_CanRead_ButNotWrite_Exit2()
    {
        var read = await Cli.RunAsync(["status", .. _node.Connect(TestTokens.ReadToken)]);
        var write = await Cli.RunAsync(["server", "drain", "api", "a", .. _node.Connect(TestTokens.ReadToken)]);

        Assert.True(read.ExitCode == 0, read.ToString());
        Assert.True(write.ExitCode == 2, write.ToString());
        Assert.Contains("(403)", write.StandardError, StringComparison.Ordinal);
        Assert.Equal("ready", (await _node.ServerAsync("a")).State);
    }

    [Fact]
    public async Task InvalidConfig_Exit1()
    {
        var result = await _node.RunAsync("config", "apply", _node.Node.WriteFile("broken.yaml", "frontends: [\n"));

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("configuration refused", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EndpointAndToken_FromTheEnvironment()
    {
        var result = await Cli.RunAsync(["status", "-o", "json"], new Dictionary<string, string?>
        {
            ["SWITCHMAN_ENDPOINT"] = _node.Node.AdminUrl,
            ["SWITCHMAN_TOKEN"] = TestTokens.AdminToken,
        });

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task EndpointAndToken_FromTheClientConfigFile_WithATokenFile()
    {
        _node.Node.WriteFile("admin.token", TestTokens.AdminToken + "\n");
        var clientConfig = _node.Node.WriteFile("client.yaml", $"""
            endpoint: {_node.Node.AdminUrl}
            token_file: admin.token
            """);

        var result = await Cli.RunAsync("status", "--client-config", clientConfig);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task ClientConfigFile_InTheDefaultPlace()
    {
        var configHome = Path.GetDirectoryName(_node.Node.WriteFile("config-home/switchman/client.yaml", $"""
            endpoint: {_node.Node.AdminUrl}
            token: {TestTokens.AdminToken}
            """))!;

        var result = await Cli.RunAsync(["status"], new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = Path.GetDirectoryName(configHome) });

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task FlagsWinOverTheEnvironment()
    {
        var result = await Cli.RunAsync(["status", .. _node.Connect()], new Dictionary<string, string?>
        {
            ["SWITCHMAN_ENDPOINT"] = $"http://127.0.0.1:{ClosedPort()}",
            ["SWITCHMAN_TOKEN"] = "not-a-token",
        });

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task BrokenClientConfigFile_NamesFileAndLine_Exit2()
    {
        var clientConfig = _node.Node.WriteFile("client.yaml", "endpoint: http://127.0.0.1:9090\ntokn: x\n");

        var result = await Cli.RunAsync("status", "--client-config", clientConfig);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"{clientConfig}:2:1: unknown key 'tokn'", result.StandardError, StringComparison.Ordinal);
    }

    /// <summary>A loopback port nothing listens on: bound by us, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
