using System.Buffers;

namespace Switchman.Proxy.Upstream.Http1;

/// <summary>
/// Counts down a Content-Length body: hands out the part of what is buffered that belongs to it, never a byte of
/// the next response.
/// </summary>
internal sealed class FixedLengthBody(long length)
{
    /// <summary>The body bytes not yet taken.</summary>
    public long Remaining { get; private set; } = length >= 0 ? length : throw new ArgumentOutOfRangeException(nameof(length));

    public bool IsComplete => Remaining == 0;

    /// <summary>The start of <paramref name="buffer"/> that belongs to the body (maybe empty); the caller consumes up to its end.</summary>
    public ReadOnlySequence<byte> Take(in ReadOnlySequence<byte> buffer)
    {
        var body = buffer.Slice(0, Math.Min(buffer.Length, Remaining));
        Remaining -= body.Length;
        return body;
    }
}
