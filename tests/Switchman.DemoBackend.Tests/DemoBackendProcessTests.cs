using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Switchman.Testing;

namespace Switchman.DemoBackend.Tests;

/// <summary><c>switchman demo-backend</c> as a real child process, through the harness the functional tests use.</summary>
public class DemoBackendProcessTests
{
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task StartAsync_PortZero_ReportsItsPortAndAnswers()
    {
        await using var backend = await DemoBackendProcess.StartAsync("a");
        using var client = new HttpClient { BaseAddress = backend.BaseAddress, Timeout = WaitTimeout };

        var echo = await client.GetFromJsonAsync(new Uri("/x", UriKind.Relative), DemoBackendJsonContext.Default.DemoEchoResponse);

        Assert.NotEqual(0, backend.Port);
        Assert.Equal("a", echo?.Server);
        Assert.Equal($"127.0.0.1:{backend.Port}", backend.Address);
    }

    [Fact]
    public async Task StartAsync_FailStatusAndHealthFailFlags_AreApplied()
    {
        await using var backend = await DemoBackendProcess.StartAsync(
            "a", new DemoBackendProcessOptions { FailStatus = 503, HealthFailing = true, Delay = TimeSpan.FromMilliseconds(1) });
        using var client = new HttpClient { BaseAddress = backend.BaseAddress, Timeout = WaitTimeout };

        var state = await client.GetFromJsonAsync(new Uri("/_control", UriKind.Relative), DemoBackendJsonContext.Default.DemoControlResponse);

        Assert.Equal(new DemoControlResponse("a", DelayMs: 1, FailStatus: 503, Health: "fail", RequestsServed: 0, InFlight: 0), state);
    }

    [Fact]
    public async Task Kill_RunningBackend_EndsProcessAndRefusesConnections()
    {
        await using var backend = await DemoBackendProcess.StartAsync("a");

        await backend.KillAndWaitAsync();

        Assert.True(backend.Process.HasExited);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var error = await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(IPAddress.Loopback, backend.Port));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Fact]
    public async Task StopAsync_Sigterm_ExitsWithZero()
    {
        await using var backend = await DemoBackendProcess.StartAsync("a");

        var exitCode = await backend.StopAsync();

        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task StartAsync_PortInUse_FailsWithTheProcessError()
    {
        await using var first = await DemoBackendProcess.StartAsync("a");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => DemoBackendProcess.StartAsync(
            "b", new DemoBackendProcessOptions { Listen = first.Address }));

        Assert.Contains("cannot listen on", error.Message, StringComparison.Ordinal);
        Assert.Contains("exited with code 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoBackendCommand_WithoutName_ExitsNonZeroNamingTheOption()
    {
        await using var process = SwitchmanExecutable.Start("demo-backend", "--listen", "127.0.0.1:0");

        var exitCode = await process.WaitForExitAsync(WaitTimeout);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(process.StandardErrorLines, line => line.Contains("--name", StringComparison.Ordinal));
    }
}
