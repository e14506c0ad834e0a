using System.Net;
using System.Net.Sockets;

namespace Switchman.Testing;

/// <summary>
/// A loopback TCP relay that forwards every connection to <c>target</c> and keeps a copy of every byte that crossed it,
/// in both directions: what anyone on the path would see. Connections and copies end with the relay.
/// </summary>
public sealed class RecordingRelay : IAsyncDisposable
{
    private const int MaxRecordedBytes = 16 * 1024 * 1024;

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly EndPoint _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _pumps = [];
    private readonly MemoryStream _recorded = new();
    private readonly Lock _sync = new();
    private readonly Task _accepting;

    public RecordingRelay(EndPoint target)
    {
        _target = target;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Every byte relayed so far, both directions interleaved as they came.</summary>
    public byte[] Recorded()
    {
        lock (_sync)
        {
            return _recorded.ToArray();
        }
    }

    /// <summary>Whether <paramref name="needle"/> crossed the relay in one piece.</summary>
    public bool Saw(ReadOnlySpan<byte> needle) => Recorded().AsSpan().IndexOf(needle) >= 0;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Dispose();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task[] pumps;
        lock (_sync)
        {
            pumps = [.. _pumps];
        }
        await Task.WhenAll(pumps).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var client = await _listener.AcceptAsync(_stopping.Token);
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await server.ConnectAsync(_target, _stopping.Token);
            lock (_sync)
            {
                _pumps.Add(PumpBothAsync(client, server));
            }
        }
    }

    private async Task PumpBothAsync(Socket client, Socket server)
    {
        using (client)
        using (server)
        {
            await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
                if (read == 0)
                {
                    return;
                }
                lock (_sync)
                {
                    if (_recorded.Length < MaxRecordedBytes)
                    {
                        _recorded.Write(buffer, 0, read);
                    }
                }
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopping.Token);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
