using System.Buffers;

namespace Switchman.Proxy.Upstream.Http1;

/// <summary>What looking for the end of a line found.</summary>
internal enum LineStatus
{
    /// <summary>A whole CRLF-terminated line.</summary>
    Complete,

    /// <summary>No end of line yet, and the bytes so far fit every limit: more are needed.</summary>
    Incomplete,

    /// <summary>A limit was crossed, or the line ends in a bare LF or holds a bare CR.</summary>
    Invalid,
}

/// <summary>Finds CRLF-terminated lines in what a pipe has buffered, within limits (RFC 9112 §2.2).</summary>
internal static class Http1Line
{
    /// <summary>
    /// Looks for the line at the start of <paramref name="buffer"/>. At most <c>maxLength + 2</c> bytes are scanned,
    /// and no more than <paramref name="budget"/> (what the enclosing head or trailer section may still take,
    /// CRLF included): a line that cannot fit is refused as soon as the byte that crosses a limit is in, never buffered
    /// further. Because the verdict depends on the bytes only, it is the same however the input was split into reads.
    /// Only CRLF ends a line: a bare LF, or a CR not followed by LF, is refused (RFC 9112 §2.2 lets a recipient accept
    /// a bare LF; a proxy that did would read lines where the backend or another hop reads none — a desync).
    /// </summary>
    /// <param name="scanned">
    /// The caller's memory of how many bytes of this same line an earlier call found without LF, so that a line
    /// trickling in byte by byte is scanned once, not once per byte; 0 for a new line. Set for the next call.
    /// </param>
    /// <param name="what">The line's name in reasons: "status line", "header line", …</param>
    /// <param name="budgetError">The reason given when the line does not fit <paramref name="budget"/>.</param>
    /// <param name="line">The line without its CRLF.</param>
    /// <param name="next">Where the next line starts.</param>
    public static LineStatus Read(
        in ReadOnlySequence<byte> buffer, ref long scanned, int maxLength, long budget, string what, string budgetError,
        out ReadOnlySequence<byte> line, out SequencePosition next, out string? error)
    {
        line = default;
        next = buffer.Start;
        error = null;
        if (buffer.IsEmpty)
        {
            return LineStatus.Incomplete;
        }

        var lineWindow = maxLength + 2L;
        var window = Math.Min(lineWindow, budget);
        var candidate = buffer.Length > window ? buffer.Slice(0, window) : buffer;
        if (candidate.Slice(Math.Min(scanned, candidate.Length)).PositionOf(Http1Syntax.LF) is not { } lf)
        {
            if (candidate.Length < window)
            {
                scanned = candidate.Length;
                return LineStatus.Incomplete;
            }
            scanned = 0;
            error = lineWindow <= budget ? $"{what} longer than {maxLength} bytes" : budgetError;
            return LineStatus.Invalid;
        }

        scanned = 0;
        var withCr = candidate.Slice(0, lf);
        if (withCr.IsEmpty || LastByte(withCr) != Http1Syntax.CR)
        {
            error = $"bare LF in {what}";
            return LineStatus.Invalid;
        }
        line = withCr.Slice(0, withCr.Length - 1);
        if (line.PositionOf(Http1Syntax.CR) is not null)
        {
            error = $"bare CR in {what}";
            return LineStatus.Invalid;
        }
        next = buffer.GetPosition(1, lf);
        return LineStatus.Complete;
    }

    private static byte LastByte(in ReadOnlySequence<byte> bytes) => bytes.Slice(bytes.Length - 1).FirstSpan[0];
}

/// <summary>
/// A line's bytes as one span: the segment itself when the line lies in one (the usual case), else a pooled copy —
/// lines are bounded by <see cref="Http1Limits.MaxLineLength"/>, so the copy is too. Dispose returns the copy.
/// </summary>
internal ref struct LineBytes
{
    private byte[]? _rented;

    public LineBytes(in ReadOnlySequence<byte> line)
    {
        if (line.IsSingleSegment)
        {
            Span = line.FirstSpan;
            return;
        }
        var length = checked((int)line.Length);
        _rented = ArrayPool<byte>.Shared.Rent(length);
        line.CopyTo(_rented);
        Span = _rented.AsSpan(0, length);
    }

    public ReadOnlySpan<byte> Span { get; }

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }
    }
}
