using Microsoft.Extensions.Time.Testing;
using System.Buffers;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Switchman.Cluster.Transport;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.Cluster.Tests.Transport;

/// <summary>
/// A <see cref="ClusterTransport"/> listening on a loopback port picked at run time, with its logs captured (the same way
/// as every fixture's, <see cref="TestLogging"/>). Not a <see cref="SwitchmanTestNode"/>: it is the transport alone, no node.
/// </summary>
internal sealed class TransportTestNode : IAsyncDisposable
{
    public static readonly byte[] Secret = "correct horse battery staple 42"u8.ToArray();

    private readonly ILoggerFactory _loggerFactory;

    private TransportTestNode(ClusterTransport transport, IConnectionListener listener, FakeLogCollector logs, ILoggerFactory loggerFactory)
    {
        Transport = transport;
        Listener = listener;
        Logs = logs;
        _loggerFactory = loggerFactory;
    }

    public ClusterTransport Transport { get; }

    public IConnectionListener Listener { get; }

    public FakeLogCollector Logs { get; }

    /// <summary>This node's cluster address as its peers record it.</summary>
    public string Address => ClusterTransport.FormatAddress(Transport.LocalAddress);

    public EndPoint EndPoint => Listener.EndPoint;

    public static async Task<TransportTestNode> StartAsync(
        string nodeId, ITestOutputHelper output, byte[]? secret = null, TimeProvider? timeProvider = null, TimeSpan? handshakeTimeout = null,
        NodeCertificateFiles? tls = null, bool? watchLiveness = null)
    {
        var logs = new FakeLogCollector();
        var loggerFactory = LoggerFactory.Create(logging => logging.AddTestLogs(logs, output, minimumLevel: LogLevel.Debug));
        var local = new IPEndPoint(IPAddress.Loopback, 0);
        var transport = new ClusterTransport(
            new ClusterTransportOptions(nodeId, local, secret ?? Secret, handshakeTimeout ?? TimeSpan.FromSeconds(5))
            {
                // Under a fake clock the pings would time out whenever a test moves the clock, and their answers would
                // count as contact: tests that drive time themselves watch nothing.
                WatchLiveness = watchLiveness ?? timeProvider is not FakeTimeProvider,
                Tls = tls?.Load(timeProvider),
            },
            loggerFactory,
            timeProvider ?? TimeProvider.System);
        var listener = await transport.BindAsync(local);
        return new TransportTestNode(transport, listener, logs, loggerFactory);
    }

    /// <summary>The log lines of one event id.</summary>
    public IReadOnlyList<FakeLogRecord> Events(int eventId) => Logs.WithEventId(eventId);

    public async ValueTask DisposeAsync()
    {
        await Transport.DisposeAsync();
        _loggerFactory.Dispose();
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8) to the connection.</summary>
    public static async Task SendAsync(ConnectionContext connection, string text, CancellationToken cancellationToken)
    {
        await connection.Transport.Output.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes from the connection, as UTF-8.</summary>
    public static async Task<string> ReceiveAsync(ConnectionContext connection, int length, CancellationToken cancellationToken)
    {
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            if (result.Buffer.Length >= length)
            {
                var text = Encoding.UTF8.GetString(result.Buffer.Slice(0, length).ToArray());
                input.AdvanceTo(result.Buffer.GetPosition(length));
                return text;
            }
            if (result.IsCompleted)
            {
                throw new InvalidOperationException($"The connection ended after {result.Buffer.Length} of {length} bytes.");
            }
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>Waits until reading from the connection reports its end (completion or an abort/reset exception).</summary>
    public static async Task AssertEndedAsync(ConnectionContext connection, CancellationToken cancellationToken)
    {
        var input = connection.Transport.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(cancellationToken);
                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is ConnectionAbortedException or ConnectionResetException or IOException or InvalidOperationException)
        {
            // Aborted locally, reset by the peer, or the reader was completed by the abort: ended either way.
        }
    }
}
