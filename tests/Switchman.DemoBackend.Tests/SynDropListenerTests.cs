using System.Net.Sockets;
using Switchman.Testing;

namespace Switchman.DemoBackend.Tests;

public class SynDropListenerTests
{
    /// <summary>Long enough for any loopback handshake on a loaded machine, short enough to keep the test quick.</summary>
    private static readonly TimeSpan NoAnswerWindow = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task Connect_ToSynDropListener_GetsNoAnswer()
    {
        using var silent = await SynDropListener.StartAsync();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(NoAnswerWindow);

        // Neither a connection nor a refusal: the connect is still waiting when we give up.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ConnectAsync(silent.EndPoint, timeout.Token).AsTask());
    }

    [Fact]
    public async Task Connect_AfterDispose_IsRefused()
    {
        var silent = await SynDropListener.StartAsync();
        var endPoint = silent.EndPoint;
        silent.Dispose();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        var error = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(endPoint));

        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }
}
