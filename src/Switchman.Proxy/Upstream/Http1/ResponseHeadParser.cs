using System.Buffers;

namespace Switchman.Proxy.Upstream.Http1;

/// <summary>What a call to <see cref="ResponseHeadParser.Parse"/> came to.</summary>
internal enum HeadParseStatus
{
    /// <summary>The head is not complete: read more, then call again with what was not consumed plus the new bytes.</summary>
    NeedMoreData,

    /// <summary>The head is complete; the body (if any) starts at <see cref="HeadParseResult.Consumed"/>.</summary>
    Done,

    /// <summary>The response breaks the syntax or a limit: the connection cannot be trusted and must be closed.</summary>
    Invalid,
}

/// <summary>The outcome of one <see cref="ResponseHeadParser.Parse"/> call, in <see cref="System.IO.Pipelines.PipeReader"/>'s terms.</summary>
/// <param name="Head">Set when <see cref="Status"/> is <see cref="HeadParseStatus.Done"/>.</param>
/// <param name="Consumed">Hand to <c>PipeReader.AdvanceTo</c> as consumed: the whole lines read so far, or the whole head.</param>
/// <param name="Examined">Hand to <c>PipeReader.AdvanceTo</c> as examined.</param>
/// <param name="Error">Set when <see cref="Status"/> is <see cref="HeadParseStatus.Invalid"/>: a reason a log line can show.</param>
internal readonly record struct HeadParseResult(
    HeadParseStatus Status, ResponseHead? Head, SequencePosition Consumed, SequencePosition Examined, string? Error);

/// <summary>
/// Parses a backend's response head (RFC 9112 §2-5) incrementally from what a <see cref="System.IO.Pipelines.PipeReader"/>
/// buffers. Whole lines are consumed as they come and kept here, so a head trickling in byte by byte is scanned once,
/// and the caller never buffers more than one incomplete line (at most <see cref="Http1Limits.MaxLineLength"/> + 1
/// bytes). One parser serves one connection: after <see cref="HeadParseStatus.Done"/> it is ready for the next head
/// (after a 1xx, or the next response); after <see cref="HeadParseStatus.Invalid"/> it keeps answering Invalid.
/// </summary>
internal sealed class ResponseHeadParser
{
    private readonly Http1Limits _limits;
    private readonly FieldSectionReader _headers;
    private readonly string _headSizeError;
    private List<HeaderField>? _fields;
    private bool _statusLineRead;
    private Http1Version _version;
    private int _statusCode;
    private string _reasonPhrase = "";
    private long _scanned;
    private string? _error;

    public ResponseHeadParser(Http1Limits limits)
    {
        _limits = limits;
        _headers = new FieldSectionReader(limits, "header", "response head");
        _headSizeError = $"response head larger than {limits.MaxHeadSize} bytes";
    }

    /// <param name="buffer">What is buffered from where the last call consumed up to.</param>
    public HeadParseResult Parse(in ReadOnlySequence<byte> buffer)
    {
        if (_error is not null)
        {
            return Invalid(buffer, _error);
        }

        var remaining = buffer;
        if (!_statusLineRead)
        {
            var lineStatus = Http1Line.Read(remaining, ref _scanned, _limits.MaxLineLength, _limits.MaxHeadSize, "status line",
                _headSizeError, out var line, out var next, out var lineError);
            if (lineStatus == LineStatus.Incomplete)
            {
                return new HeadParseResult(HeadParseStatus.NeedMoreData, null, buffer.Start, buffer.End, null);
            }
            if (lineStatus == LineStatus.Invalid)
            {
                return Invalid(buffer, lineError!);
            }
            using (var bytes = new LineBytes(line))
            {
                if (!StatusLine.TryParse(bytes.Span, out _version, out _statusCode, out _reasonPhrase, out var statusError))
                {
                    return Invalid(buffer, statusError!);
                }
            }
            _statusLineRead = true;
            _headers.Reset(line.Length + 2);
            _fields = [];
            remaining = remaining.Slice(next);
        }

        switch (_headers.Read(ref remaining, _fields, out var error))
        {
            case SectionStatus.Incomplete:
                return new HeadParseResult(HeadParseStatus.NeedMoreData, null, remaining.Start, buffer.End, null);
            case SectionStatus.Invalid:
                return Invalid(buffer, error!);
            default:
                var head = new ResponseHead(_version, _statusCode, _reasonPhrase, _fields!, _headers.Bytes);
                Reset();
                return new HeadParseResult(HeadParseStatus.Done, head, remaining.Start, remaining.Start, null);
        }
    }

    /// <summary>Forgets a partly read head, or an error: for a new connection.</summary>
    public void Reset()
    {
        _statusLineRead = false;
        _fields = null;
        _reasonPhrase = "";
        _scanned = 0;
        _error = null;
    }

    private HeadParseResult Invalid(in ReadOnlySequence<byte> buffer, string error)
    {
        _error = error;
        return new HeadParseResult(HeadParseStatus.Invalid, null, buffer.Start, buffer.End, error);
    }
}
