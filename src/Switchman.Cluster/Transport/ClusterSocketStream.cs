using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Switchman.Cluster.Transport;

/// <summary>
/// A cluster link's socket as a stream whose reads and writes, when they had to wait, continue on the thread pool.
/// The node runs socket completions inline on the runtime's event threads (the data plane's choice: see
/// <c>InlineSocketCompletions</c>); what follows a cluster read — Raft appending to its log and flushing it to disk over
/// TLS, a liveness answer — may block, and must not hold up every other socket on that event thread while it does.
/// An operation that completes at once costs nothing extra.
/// </summary>
internal sealed class ClusterSocketStream(Socket socket) : NetworkStream(socket, ownsSocket: false)
{
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var reading = base.ReadAsync(buffer, cancellationToken);
        return reading.IsCompleted ? reading : ContinueOnThreadPoolAsync(reading);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var writing = base.WriteAsync(buffer, cancellationToken);
        return writing.IsCompleted ? writing : ContinueOnThreadPoolAsync(writing);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> ContinueOnThreadPoolAsync(ValueTask<int> reading)
    {
        var read = await reading.ConfigureAwait(false);
        await Task.Yield();
        return read;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask ContinueOnThreadPoolAsync(ValueTask writing)
    {
        await writing.ConfigureAwait(false);
        await Task.Yield();
    }
}
