using System.Buffers;
using System.Text;

namespace Switchman.Proxy.Upstream.Http1;

/// <summary>What reading a field section (a head's header fields, a chunked body's trailers) came to.</summary>
internal enum SectionStatus
{
    /// <summary>The empty line that ends the section was read.</summary>
    Complete,

    /// <summary>Every whole line so far was read; the next one is not complete yet.</summary>
    Incomplete,

    /// <summary>A line broke the syntax or a limit.</summary>
    Invalid,
}

/// <summary>
/// Reads field lines up to the empty line that ends the section, line by line across calls, with the count and size
/// limits of <see cref="Http1Limits"/>. One reader serves a head's header section and a chunked body's trailer section,
/// so both follow the same rules.
/// </summary>
internal sealed class FieldSectionReader
{
    private readonly Http1Limits _limits;
    private readonly string _what;
    private readonly string _lineName;
    private readonly string _sizeError;
    private readonly string _countError;
    private long _bytes;
    private long _scanned;
    private int _count;

    /// <param name="what">"header" or "trailer".</param>
    /// <param name="sectionName">How a reason names the section as a whole: "response head", "trailer section".</param>
    public FieldSectionReader(Http1Limits limits, string what, string sectionName)
    {
        _limits = limits;
        _what = what;
        _lineName = $"{what} line";
        _sizeError = $"{sectionName} larger than {limits.MaxHeadSize} bytes";
        _countError = $"more than {limits.MaxFieldCount} {what} fields";
    }

    /// <summary>The section's bytes read so far, those given to <see cref="Reset"/> included.</summary>
    public long Bytes => _bytes;

    /// <summary>Starts a new section, of which <paramref name="bytesSoFar"/> were already taken (a head's status line).</summary>
    public void Reset(long bytesSoFar)
    {
        _bytes = bytesSoFar;
        _count = 0;
        _scanned = 0;
    }

    /// <summary>
    /// Reads whole lines from <paramref name="remaining"/>, which is moved past each one read; parsed fields go to
    /// <paramref name="fields"/> when it is not null (trailers are checked, then dropped).
    /// </summary>
    public SectionStatus Read(ref ReadOnlySequence<byte> remaining, List<HeaderField>? fields, out string? error)
    {
        while (true)
        {
            var status = Http1Line.Read(remaining, ref _scanned, _limits.MaxLineLength, _limits.MaxHeadSize - _bytes, _lineName, _sizeError,
                out var line, out var next, out error);
            if (status != LineStatus.Complete)
            {
                return status == LineStatus.Incomplete ? SectionStatus.Incomplete : SectionStatus.Invalid;
            }
            _bytes += line.Length + 2;
            remaining = remaining.Slice(next);
            if (line.IsEmpty)
            {
                return SectionStatus.Complete;
            }
            if (++_count > _limits.MaxFieldCount)
            {
                error = _countError;
                return SectionStatus.Invalid;
            }

            using var bytes = new LineBytes(line);
            var span = bytes.Span;
            if (!FieldLine.TryParse(span, _what, out var name, out var value, out error))
            {
                return SectionStatus.Invalid;
            }
            fields?.Add(new HeaderField(
                KnownHeaderNames.Find(span[name]) ?? Encoding.ASCII.GetString(span[name]),
                Encoding.Latin1.GetString(span[value])));
        }
    }
}
