using System.Net;
using System.Net.Sockets;
using Switchman.Testing;

namespace Switchman.FunctionalTests;

/// <summary>
/// A port already taken at start is the operator's error, not a crash: the real executable says so once on standard
/// error, logs it once (event 2201), prints no stack trace and exits 1.
/// </summary>
public class StartupErrorTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("admin")]
    [InlineData("frontend")]
    [InlineData("cluster")]
    public async Task PortInUse_OneLine_NoStackTrace(string taken)
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        using var dir = new TempDirectory();
        var config = dir.WriteFile("switchman.yaml", ConfigTaking(taken, port, dir));

        await using var run = SwitchmanExecutable.Start("run", "-c", config);
        var exitCode = await run.WaitForExitAsync(ExitTimeout);

        var output = run.DescribeOutput(lastLines: 100);
        Assert.True(exitCode == 1, output);
        var lines = run.StandardOutputLines.Concat(run.StandardErrorLines).ToList();
        var said = Assert.Single(run.StandardErrorLines, l => l.Contains("could not start", StringComparison.Ordinal));
        Assert.StartsWith($"switchman: {config}: could not start: ", said, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", said, StringComparison.Ordinal);
        var logged = Assert.Single(run.StandardOutputLines, l => l.Contains("[2201]", StringComparison.Ordinal));
        Assert.Contains("Could not start: ", logged, StringComparison.Ordinal);
        // The console logger writes one line per entry, so a trace would be "   at ..." inside a line, not a line of its own.
        Assert.DoesNotContain(lines, l => l.Contains("   at ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Hosting failed to start", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Exception", StringComparison.Ordinal));
    }

    private static string ConfigTaking(string taken, int port, TempDirectory dir)
    {
        var admin = taken == "admin" ? port : 0;
        var frontend = taken == "frontend" ? port : 0;
        var cluster = taken != "cluster" ? "" : $"""
            cluster:
              node_id: lb1
              listen: 127.0.0.1:{port}
              peers:
                - id: lb2
                  address: 127.0.0.1:{ClosedPort()}
                - id: lb3
                  address: 127.0.0.1:{ClosedPort()}
              data_dir: {dir.Combine("data")}
              secret_file: {dir.WriteFile("cluster.key", Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)))}

            """;
        return $"""
            admin:
              listen: 127.0.0.1:{admin}
            {cluster}frontends:
              web:
                listen: 127.0.0.1:{frontend}
                default_backend: api
            backends:
              api:
                servers:
                  - name: a
                    address: 127.0.0.1:{ClosedPort()}
            """;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
