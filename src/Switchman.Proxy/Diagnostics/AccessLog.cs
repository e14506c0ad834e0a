using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Switchman.Proxy.Diagnostics;

/// <summary>One line of the access log.</summary>
/// <param name="Query">The query string with its '?' ("" when none).</param>
/// <param name="Reason">Why the proxy answered the error itself (no route, no server, the last attempt's failure); null for an answer of a server.</param>
internal sealed record AccessLogEntry(
    DateTimeOffset Time, string Client, string Frontend, string? Backend, string? Server, string Method, string Path, string Query,
    int Status, long Bytes, TimeSpan Duration, int Attempts, string RequestId, string? Reason = null);

/// <summary>
/// The access log: JSON lines written to stdout or a file by one background writer, so request threads only enqueue.
/// The queue is bounded; when the writer cannot keep up, lines are dropped and counted rather than slowing traffic.
/// </summary>
internal sealed class AccessLog : IAsyncDisposable
{
    private const int QueueCapacity = 16 * 1024;

    private readonly Channel<AccessLogEntry>? _queue;
    private readonly Stream? _output;
    private readonly ILogger _logger;
    private Task _writer = Task.CompletedTask;
    private long _dropped;

    private readonly bool _withQuery;

    private AccessLog(Stream? output, ILogger logger, bool withQuery = true)
    {
        _output = output;
        _logger = logger;
        _withQuery = withQuery;
        if (output is not null)
        {
            _queue = Channel.CreateBounded<AccessLogEntry>(new BoundedChannelOptions(QueueCapacity)
            {
                FullMode = BoundedChannelFullMode.DropWrite,
                SingleReader = true,
            });
        }
    }

    public static AccessLog Disabled(ILogger logger) => new(null, logger);

    /// <param name="config">Its <c>path</c>: <c>stdout</c>, a file (appended to), or null for no access log; whether lines carry the query string.</param>
    public static AccessLog Open(Core.Configuration.AccessLogConfig config, ILogger logger) => config.Path switch
    {
        null => Disabled(logger),
        "stdout" => new AccessLog(Console.OpenStandardOutput(), logger, config.Query),
        var path => new AccessLog(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), logger, config.Query),
    };

    public bool Enabled => _queue is not null;

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Start() => _writer = _queue is null ? Task.CompletedTask : WriteLoopAsync(_queue.Reader);

    public void Write(AccessLogEntry entry)
    {
        if (_queue is not null && !_queue.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task WriteLoopAsync(ChannelReader<AccessLogEntry> reader)
    {
        using var json = new Utf8JsonWriter(_output!);
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var entry))
                {
                    WriteEntry(json, entry);
                    json.Flush();
                    _output!.WriteByte((byte)'\n');
                    json.Reset(_output);
                }
                await _output!.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (IOException ex)
        {
            DiagnosticsLog.AccessLogFailed(_logger, ex);
        }
    }

    private void WriteEntry(Utf8JsonWriter json, AccessLogEntry entry)
    {
        json.WriteStartObject();
        json.WriteString("time", entry.Time);
        json.WriteString("client", entry.Client);
        json.WriteString("frontend", entry.Frontend);
        json.WriteString("backend", entry.Backend);
        json.WriteString("server", entry.Server);
        json.WriteString("method", entry.Method);
        json.WriteString("path", entry.Path);
        if (_withQuery && entry.Query.Length > 0)
        {
            json.WriteString("query", entry.Query);
        }
        json.WriteNumber("status", entry.Status);
        json.WriteNumber("bytes", entry.Bytes);
        json.WriteNumber("duration_ms", Math.Round(entry.Duration.TotalMilliseconds, 3));
        json.WriteNumber("attempts", entry.Attempts);
        json.WriteString("request_id", entry.RequestId);
        if (entry.Reason is { } reason)
        {
            json.WriteString("reason", reason);
        }
        json.WriteEndObject();
    }

    /// <summary>Stops accepting lines, writes what is queued, and closes the output. Safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_queue is null)
        {
            return;
        }
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        if (_output is FileStream)
        {
            await _output.DisposeAsync().ConfigureAwait(false);
        }
    }
}

internal static partial class DiagnosticsLog
{
    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "Access log writer failed; access logging stopped")]
    public static partial void AccessLogFailed(ILogger logger, Exception exception);
}
