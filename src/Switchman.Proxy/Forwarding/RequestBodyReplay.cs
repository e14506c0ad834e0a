using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Switchman.Proxy.Forwarding;

/// <summary>
/// Makes a request body re-sendable for retries when it is small enough: the body is read into a pooled buffer up to
/// the backend's <c>buffer_body</c> limit and the request's body stream is replaced by a rewindable view of it.
/// A larger body keeps streaming (its first bytes are put back in front of the rest) and can only be retried when the
/// failed attempt never connected, because then nothing of it was consumed.
/// </summary>
internal sealed class RequestBodyReplay : IDisposable
{
    private byte[]? _buffer;
    private MemoryStream? _replayStream;

    private RequestBodyReplay(bool replayable) => IsReplayable = replayable;

    /// <summary>True when every attempt can send the whole body (no body, or a fully buffered one).</summary>
    public bool IsReplayable { get; }

    public static readonly RequestBodyReplay NoBody = new(replayable: true);

    public static RequestBodyReplay NotBuffered { get; } = new(replayable: false);

    public static async ValueTask<RequestBodyReplay> PrepareAsync(HttpContext context, long limit, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!HasBody(context))
        {
            return NoBody;
        }
        if (limit <= 0 || request.ContentLength > limit)
        {
            return NotBuffered;
        }

        var capacity = (int)Math.Min(request.ContentLength ?? Math.Min(limit, 16 * 1024), limit) + 1;
        var buffer = ArrayPool<byte>.Shared.Rent(capacity);
        var length = 0;
        var body = request.Body;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > limit)
                {
                    break;
                }
                var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }
            var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }
            length += read;
            if (length > limit)
            {
                break;
            }
        }

        if (length > limit)
        {
            // Too big after all (chunked body): stream it, starting with what was already read.
            request.Body = new PrefixedStream(buffer, length, body);
            return NotBuffered;
        }

        var replay = new RequestBodyReplay(replayable: true) { _buffer = buffer };
        replay._replayStream = new MemoryStream(buffer, 0, length, writable: false);
        request.Body = replay._replayStream;
        return replay;
    }

    /// <summary>Puts the body back at its start before another attempt.</summary>
    public void Rewind()
    {
        if (_replayStream is not null)
        {
            _replayStream.Position = 0;
        }
    }

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private static bool HasBody(HttpContext context)
    {
        var detection = context.Features.Get<IHttpRequestBodyDetectionFeature>();
        return detection?.CanHaveBody ?? (context.Request.ContentLength > 0);
    }
}
