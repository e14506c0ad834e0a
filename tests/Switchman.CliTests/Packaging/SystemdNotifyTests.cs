using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.CliTests.Packaging;

/// <summary>
/// The packaged binary as its unit runs it (<c>Type=notify</c>): it tells systemd READY=1 once it serves, not before,
/// and STOPPING=1 when SIGTERM stops it; its log takes the journal's form and the access log keeps standard output.
/// Started any other way, it logs as it always did.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(PackagesCollection.Name)]
public class SystemdNotifyTests(BuiltPackages packages, ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Run_UnderSystemd_SaysReadyOnceItServes_AndStoppingAtSigterm_ThenExits0()
    {
        await using var backend = await DemoBackendProcess.StartAsync("a");
        using var directory = new TempDirectory("switchman-notify");
        var frontendPort = FreePort();
        var config = WriteConfig(directory, frontendPort, backend);

        var started = TimeProvider.System.GetTimestamp();
        await using var service = await SystemdStandIn.StartAsync(directory, packages.Binary, ["run", "-c", config], StartTimeout);
        Assert.Equal("systemd", service.ParentNameOfService());

        Assert.Equal("READY=1", await service.ReceiveAsync(StartTimeout));
        output.WriteLine($"start to READY=1: {TimeProvider.System.GetElapsedTime(started).TotalSeconds:0.000} s");
        // Nothing waited for after READY=1: the frontend must be serving already.
        using (var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        using (var response = await client.GetAsync(new Uri($"http://127.0.0.1:{frontendPort}/after-ready")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("a", Assert.Single(response.Headers.GetValues("X-Server")));
        }

        service.StopService();
        Assert.Equal("STOPPING=1", await service.ReceiveAsync(StopTimeout));
        Assert.Equal(0, await service.Manager.WaitForExitAsync(StopTimeout));

        // Under systemd each log line starts with its priority for the journal (<6> information, <4> warning)…
        var log = service.Manager.StandardErrorLines;
        Assert.Contains(log, line => line.StartsWith("<6>Switchman.Proxy.Frontend[1001] Frontend web listening", StringComparison.Ordinal));
        Assert.DoesNotContain(log, line => line.Contains(" info: ", StringComparison.Ordinal));
        // …and standard output is still the access log's alone: JSON lines, the request among them.
        var accessLog = service.Manager.StandardOutputLines;
        Assert.All(accessLog, line => JsonDocument.Parse(line).Dispose());
        Assert.Contains(accessLog, line => line.Contains("/after-ready", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_NotUnderSystemd_LogsWithTimestamps_AsBefore()
    {
        await using var backend = await DemoBackendProcess.StartAsync("a");
        using var directory = new TempDirectory("switchman-no-systemd");
        var config = WriteConfig(directory, FreePort(), backend);

        // A NOTIFY_SOCKET inherited from somewhere does not make a process started by a shell a systemd service.
        await using var run = ChildProcess.Start(packages.Binary, ["run", "-c", config], new ChildProcessOptions
        {
            Environment = new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = directory.Combine("nobody-listens") },
        });

        // "2026-12-07T06:24:58.508Z info: Switchman.Proxy.Frontend[1001] Frontend web listening on http://127.0.0.1:…"
        await run.WaitForErrorLineAsync(
            line => System.Text.RegularExpressions.Regex.IsMatch(line, @"^\d{4}-\d\d-\d\dT[\d:.]+Z info: Switchman\.Proxy\.Frontend\[1001\] Frontend web listening"),
            StartTimeout, "the frontend's log line in the usual form");
        Assert.Equal(0, await run.StopAsync(StopTimeout));
    }

    /// <summary>A node on loopback: a frontend on <paramref name="frontendPort"/> over <paramref name="backend"/>, the access log on standard output.</summary>
    private static string WriteConfig(TempDirectory directory, int frontendPort, DemoBackendProcess backend) =>
        directory.WriteFile("switchman.yaml", $"""
            admin:
              listen: 127.0.0.1:{FreePort()}
            access_log: stdout
            frontends:
              web:
                listen: 127.0.0.1:{frontendPort}
                default_backend: api
            backends:
              api:
                servers:
                  - name: a
                    address: {backend.Address}
            """);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
