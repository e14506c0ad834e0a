using System.Net.Sockets;
using Switchman.Testing;

namespace Switchman.DemoBackend.Tests;

public class PoweredOffListenerTests
{
    [Fact]
    public async Task Connect_ToPoweredOffListener_NeitherCompletesNorFails()
    {
        using var off = new PoweredOffListener();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        // No SYN-ACK and no RST: only our own timeout ends the attempt, as with a powered-off host.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => socket.ConnectAsync(off.EndPoint, timeout.Token).AsTask());
    }

    [Fact]
    public async Task HttpRequest_ToPoweredOffListener_EndsWithTheConnectTimeout()
    {
        using var off = new PoweredOffListener();
        using var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromMilliseconds(200) });

        var error = await Assert.ThrowsAsync<TaskCanceledException>(() => client.GetAsync(off.BaseAddress));

        // How SocketsHttpHandler reports its connect timeout — the shape the health checks must count as a failure.
        Assert.IsType<TimeoutException>(error.InnerException);
    }

    [Fact]
    public void Dispose_Twice_IsSafe()
    {
        var off = new PoweredOffListener();
        off.Dispose();
        off.Dispose();
    }
}
