using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Switchman.Cluster.Transport;

/// <summary>
/// A Raft connection over TLS: the connection context DotNext reads and writes, with pipes over the
/// <see cref="ClusterLink"/>'s TLS stream (a plain link is handed to Kestrel's socket connection instead). Aborting
/// closes the socket, so whatever waits on it fails at once; disposal completes the pipes and closes the link.
/// </summary>
internal sealed class EncryptedConnection : ConnectionContext
{
    private readonly ClusterLink _link;
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _sync = new();
    private bool _disposed;

    public EncryptedConnection(ClusterLink link)
    {
        _link = link;
        LocalEndPoint = link.Socket.LocalEndPoint;
        RemoteEndPoint = link.Socket.RemoteEndPoint;
        ConnectionClosed = _closed.Token;
        Transport = new DuplexPipe(
            PipeReader.Create(link.Stream, new StreamPipeReaderOptions(leaveOpen: true)),
            PipeWriter.Create(link.Stream, new StreamPipeWriterOptions(leaveOpen: true)));
    }

    public override string ConnectionId { get; set; } = $"cluster-tls-{Guid.NewGuid():N}";

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }
        }
        // Closing the socket fails the pending read and any write; the stream is disposed with the connection.
        _link.Socket.Dispose();
        _closed.Cancel();
    }

    public override async ValueTask DisposeAsync()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        await _closed.CancelAsync().ConfigureAwait(false);
        await Transport.Input.CompleteAsync().ConfigureAwait(false);
        await Transport.Output.CompleteAsync().ConfigureAwait(false);
        _link.Dispose();
        _closed.Dispose();
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
