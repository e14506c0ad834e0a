using System.Buffers;

namespace Switchman.Proxy.Forwarding;

/// <summary>A read-only stream that yields buffered leading bytes, then the rest of an inner stream.</summary>
internal sealed class PrefixedStream : Stream
{
    private readonly Stream _inner;
    private byte[]? _prefix;
    private readonly int _prefixLength;
    private int _prefixPosition;

    /// <param name="prefix">A pooled buffer; this stream returns it to the pool once it has been read.</param>
    public PrefixedStream(byte[] prefix, int prefixLength, Stream inner)
    {
        _prefix = prefix;
        _prefixLength = prefixLength;
        _inner = inner;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_prefix is not null)
        {
            var count = Math.Min(buffer.Length, _prefixLength - _prefixPosition);
            _prefix.AsSpan(_prefixPosition, count).CopyTo(buffer.Span);
            _prefixPosition += count;
            if (_prefixPosition == _prefixLength)
            {
                ArrayPool<byte>.Shared.Return(_prefix);
                _prefix = null;
            }
            return count;
        }
        return await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_prefix is not null)
        {
            ArrayPool<byte>.Shared.Return(_prefix);
            _prefix = null;
        }
        base.Dispose(disposing);
    }
}
