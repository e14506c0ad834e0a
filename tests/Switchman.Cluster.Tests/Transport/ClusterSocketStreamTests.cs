using System.Net;
using System.Net.Sockets;
using Switchman.Cluster.Transport;

namespace Switchman.Cluster.Tests.Transport;

/// <summary>
/// A node runs socket completions on the runtime's event threads (inline), as the test host does (tests/inline-completions.runsettings).
/// Whatever a cluster read or write leads to — Raft writing its log to disk over TLS — must not run there: it would
/// hold up every data-plane socket on that thread.
/// </summary>
public sealed class ClusterSocketStreamTests : IDisposable
{
    private const string EventThreadName = ".NET Sockets";
    private readonly Socket _near;
    private readonly Socket _far;

    public ClusterSocketStreamTests()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        _near = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _near.Connect(listener.LocalEndPoint!);
        _far = listener.Accept();
    }

    [Fact]
    public async Task The_test_host_like_the_node_completes_socket_operations_on_the_event_threads()
    {
        // Without this, the test below could not fail: the runtime would hop to the thread pool for every completion.
        using var plain = new NetworkStream(_near, ownsSocket: false);

        var thread = await ThreadAfterWaitingReadAsync(plain);

        Assert.Equal(EventThreadName, thread);
    }

    [Fact]
    public async Task A_read_that_had_to_wait_continues_on_the_thread_pool()
    {
        using var stream = new ClusterSocketStream(_near);

        var thread = await ThreadAfterWaitingReadAsync(stream);

        Assert.NotEqual(EventThreadName, thread);
    }

    [Fact]
    public async Task A_write_that_had_to_wait_continues_on_the_thread_pool()
    {
        using var stream = new ClusterSocketStream(_near);
        _near.SendBufferSize = 4096;
        _far.ReceiveBufferSize = 4096;
        var chunk = new byte[64 * 1024];

        // Fill both buffers until a write has to wait for the far side to read.
        var writing = stream.WriteAsync(chunk);
        var guard = 0;
        while (writing.IsCompleted && guard++ < 1000)
        {
            await writing;
            writing = stream.WriteAsync(chunk);
        }
        Assert.False(writing.IsCompleted, "no write had to wait");
        var continued = ContinuationThreadAsync(writing);
        var draining = DrainAsync();
        var thread = await continued;
        // The end of this side's bytes: the far side reads what is left, then the end (no reset with data in flight).
        _near.Shutdown(SocketShutdown.Send);
        await draining;

        Assert.NotEqual(EventThreadName, thread);
    }

    public void Dispose()
    {
        _near.Dispose();
        _far.Dispose();
    }

    private async Task<string?> ThreadAfterWaitingReadAsync(Stream stream)
    {
        var buffer = new byte[1];
        var reading = stream.ReadAsync(buffer);
        Assert.False(reading.IsCompleted, "the read did not have to wait");
        var continued = ContinuationThreadAsync(reading); // waiting before the byte is sent, as a node's read does
        await _far.SendAsync(new byte[] { 42 });
        return await continued;
    }

    /// <summary>The thread the code after the operation runs on: the completing thread, as in the node (no context).</summary>
    private static async Task<string?> ContinuationThreadAsync<T>(ValueTask<T> operation)
    {
        await operation.ConfigureAwait(false);
        return Thread.CurrentThread.Name;
    }

    private static async Task<string?> ContinuationThreadAsync(ValueTask operation)
    {
        await operation.ConfigureAwait(false);
        return Thread.CurrentThread.Name;
    }

    private async Task DrainAsync()
    {
        var buffer = new byte[64 * 1024];
        while (await _far.ReceiveAsync(buffer) > 0)
        {
        }
    }
}
