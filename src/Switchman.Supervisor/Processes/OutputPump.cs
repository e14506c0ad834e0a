using System.Threading.Channels;

namespace Switchman.Supervisor.Processes;

/// <summary>One line of a service's output, as read: the bytes between two newlines (without them), and when.</summary>
internal readonly record struct LogLine(DateTimeOffset At, string Stream, byte[] Text);

/// <summary>
/// Reads one of a service's output pipes to its end and cuts it into <see cref="LogLine"/>s. Asynchronous reads: no
/// thread is parked on the pipe. Reads until EOF, which comes when the last writer (the service or a child it left)
/// has closed the pipe, so nothing written before the service exited is lost. A line longer than
/// <see cref="MaxLineBytes"/> is cut into pieces; a last line without a newline is kept.
/// </summary>
internal static class OutputPump
{
    /// <summary>Bounds memory against a service that writes without newlines.</summary>
    public const int MaxLineBytes = 16 * 1024;

    public static async Task RunAsync(Stream pipe, string stream, ChannelWriter<LogLine> lines, TimeProvider time, CancellationToken cancellationToken)
    {
        var buffer = new byte[8 * 1024];
        var pending = new MemoryStream();
        try
        {
            int read;
            while ((read = await pipe.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                var rest = buffer.AsMemory(0, read);
                int newline;
                while ((newline = rest.Span.IndexOf((byte)'\n')) >= 0)
                {
                    pending.Write(rest.Span[..newline]);
                    await EmitAsync(pending, stream, lines, time, cancellationToken).ConfigureAwait(false);
                    rest = rest[(newline + 1)..];
                }
                pending.Write(rest.Span);
                if (pending.Length >= MaxLineBytes)
                {
                    await EmitAsync(pending, stream, lines, time, cancellationToken).ConfigureAwait(false);
                }
            }
            if (pending.Length > 0)
            {
                await EmitAsync(pending, stream, lines, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Abandoned: a child of the service kept the pipe open past the instance's disposal.
        }
    }

    private static async ValueTask EmitAsync(MemoryStream pending, string stream, ChannelWriter<LogLine> lines, TimeProvider time, CancellationToken cancellationToken)
    {
        var text = pending.ToArray();
        if (text.Length > 0 && text[^1] == (byte)'\r')
        {
            text = text[..^1];
        }
        pending.SetLength(0);
        await lines.WriteAsync(new LogLine(time.GetUtcNow(), stream, text), cancellationToken).ConfigureAwait(false);
    }
}
