using System.Net;
using Microsoft.Extensions.Time.Testing;
using Switchman.Core.Configuration;
using Switchman.Proxy.Forwarding;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

/// <summary>A backend whose connection pool dials through a <see cref="FakeDialer"/>, on fake time.</summary>
internal sealed class ConnectorTestKit : IDisposable
{
    /// <summary>Real time allowed for background work to catch up with the fake clock.</summary>
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(10);

    public ConnectorTestKit(params string[] servers)
    {
        Backend = new BackendRuntime(new BackendConfig
        {
            Name = "api",
            Servers = new ValueList<ServerConfig>(servers.Select((s, i) => new ServerConfig { Name = s, Address = $"127.0.0.1:{Port(i)}" })),
        }, Time, dialer: Dialer);
        Backend.Activate();
    }

    public FakeTimeProvider Time { get; } = new();

    public FakeDialer Dialer { get; } = new();

    public BackendRuntime Backend { get; }

    public BackendConnector Connector => Backend.Connector;

    public ServerRuntime this[int index] => Backend.Servers[index];

    public static int Port(int index) => 10001 + index;

    public static DnsEndPoint EndPoint(int index) => new("127.0.0.1", Port(index));

    /// <summary>A request as the forwarder sends it; <paramref name="lastAttempt"/> marks it as unable to go elsewhere.</summary>
    public static HttpRequestMessage Request(bool lastAttempt = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/");
        if (lastAttempt)
        {
            request.Options.Set(ConnectIntent.WaitForConnect, true);
        }
        return request;
    }

    public Task<Stream> ConnectAsync(int server, bool lastAttempt = false) =>
        Connector.ConnectAsync(EndPoint(server), Request(lastAttempt), CancellationToken.None).AsTask();

    /// <summary>Opens one connection to each server, so that each has a measured connect time (LAN: 0.3 ms).</summary>
    public async Task LearnAllAsync()
    {
        for (var i = 0; i < Backend.Servers.Length; i++)
        {
            await (await ConnectAsync(i)).DisposeAsync();
        }
    }

    /// <summary>Waits, in real time, for background work to make <paramref name="condition"/> true.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(started) > CatchUpTimeout)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }
            await Task.Delay(5);
        }
    }

    /// <summary>Moves fake time on by <paramref name="step"/> at a time until <paramref name="condition"/> holds (background
    /// loops arm their next timer after the previous one fired, so time is given to them step by step).</summary>
    public async Task AdvanceUntilAsync(Func<bool> condition, TimeSpan step, TimeSpan atMost, string what)
    {
        var advanced = TimeSpan.Zero;
        while (!condition())
        {
            if (advanced >= atMost)
            {
                throw new TimeoutException($"{what} did not happen within {atMost} of fake time.");
            }
            Time.Advance(step);
            advanced += step;
            // Let continuations that the timers released run before looking again.
            var settle = TimeProvider.System.GetTimestamp();
            while (!condition() && TimeProvider.System.GetElapsedTime(settle) < TimeSpan.FromMilliseconds(50))
            {
                await Task.Delay(2);
            }
        }
    }

    public void Dispose() => Backend.Dispose();
}
