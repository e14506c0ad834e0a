using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Health;
using Switchman.Proxy.Runtime;
using Switchman.Testing;

namespace Switchman.Proxy.Tests;

/// <summary>The probes against real dead servers on loopback: each way of being dead is a failed check that names it.</summary>
public class HealthProbeSocketTests
{
    /// <summary>
    /// Between the shortest and the longest check timeout below, and far above what a loopback connect takes even on a
    /// loaded machine (a 100 ms bound once failed the "hung" case there: the connect itself was reported timed out).
    /// </summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromMilliseconds(1000);

    [Theory]
    // The connect timeout is shorter than the check's: the issue-8 case, where the check used to end the loop.
    [InlineData(HealthCheckType.Http, "off", 2000, "connect timed out")]
    [InlineData(HealthCheckType.Http, "off", 50, "timed out after 50 ms")]
    [InlineData(HealthCheckType.Http, "hung", 300, "timed out after 300 ms")]
    [InlineData(HealthCheckType.Http, "refusing", 2000, "connection refused")]
    [InlineData(HealthCheckType.Tcp, "off", 300, "timed out after 300 ms")]
    [InlineData(HealthCheckType.Tcp, "refusing", 2000, "connection refused")]
    public async Task Check_DeadServer_FailsWithItsReason(HealthCheckType type, string dead, int checkTimeoutMs, string detail)
    {
        using var off = new PoweredOffListener();
        await using var hung = new BlackHoleListener();
        var address = dead switch
        {
            "off" => off.Address,
            "hung" => hung.Address,
            _ => ClosedPortAddress(),
        };
        var health = new HealthCheckConfig { Type = type, Timeout = TimeSpan.FromMilliseconds(checkTimeoutMs), Fall = 1 };
        using var backend = new BackendRuntime(new BackendConfig
        {
            Name = "api",
            Servers = ValueList.Create(new ServerConfig { Name = "a", Address = address }),
            Timeouts = new BackendTimeouts { Connect = ConnectTimeout },
            Health = health,
        }, TimeProvider.System);
        // As the data plane does with the backends it runs: connects then follow this backend's timeouts.connect.
        backend.Activate();
        IHealthProbe probe = type == HealthCheckType.Tcp ? new TcpHealthProbe() : new HttpHealthProbe(health, backend.HttpClient);
        using var meters = new TestMeterFactory();
        var server = backend.Servers[0];
        var checker = new ServerHealthChecker(server, health, probe, TimeProvider.System, new ProxyDiagnostics(NullLogger.Instance, new ProxyMetrics(meters)));

        await checker.CheckOnceAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(server.IsHealthy);
        Assert.Equal(detail, server.LastCheck!.Detail);
    }

    /// <summary>A loopback port nobody listens on: bound for a moment to learn a free one, then released.</summary>
    private static string ClosedPortAddress()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket.LocalEndPoint!.ToString()!;
    }
}
