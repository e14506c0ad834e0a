using System.Buffers;

namespace Switchman.Proxy.Upstream.Http1;

/// <summary>What a call to <see cref="ChunkedBodyDecoder.Decode"/> came to.</summary>
internal enum ChunkedStatus
{
    /// <summary>Nothing more can be decoded from what is buffered: read more, then call again.</summary>
    NeedMoreData,

    /// <summary><see cref="ChunkedResult.Data"/> holds body bytes; use them, advance, then call again.</summary>
    Data,

    /// <summary>The last chunk, the trailers and the final CRLF were read: the message ends at <see cref="ChunkedResult.Consumed"/>.</summary>
    Done,

    /// <summary>The body breaks the chunked syntax or a limit: the connection must be closed.</summary>
    Invalid,
}

/// <summary>The outcome of one <see cref="ChunkedBodyDecoder.Decode"/> call, in <see cref="System.IO.Pipelines.PipeReader"/>'s terms.</summary>
/// <param name="Data">For <see cref="ChunkedStatus.Data"/>: a slice of the input (never a copy), valid until the caller advances past it.</param>
/// <param name="Consumed">Hand to <c>PipeReader.AdvanceTo</c> as consumed, once done with <see cref="Data"/>.</param>
/// <param name="Examined">Hand to <c>PipeReader.AdvanceTo</c> as examined.</param>
/// <param name="Error">Set when <see cref="Status"/> is <see cref="ChunkedStatus.Invalid"/>: a reason a log line can show.</param>
internal readonly record struct ChunkedResult(
    ChunkedStatus Status, ReadOnlySequence<byte> Data, SequencePosition Consumed, SequencePosition Examined, string? Error);

/// <summary>
/// Decodes a chunked body (RFC 9112 §7.1) incrementally, strictly: each chunk's size line (see
/// <see cref="ChunkSizeLine"/>), its data handed out as slices of the input, exactly CRLF after the data, the last
/// chunk <c>0</c>, trailer fields under the same rules and limits as a head's header fields (then dropped), and the
/// final CRLF. It stops exactly at the end of the message: whatever follows belongs to the next response, which is
/// what keeps a reused connection in step with the backend. Once <see cref="ChunkedStatus.Done"/>, further calls
/// consume nothing and answer Done again until <see cref="Reset"/>; after Invalid they answer Invalid.
/// </summary>
internal sealed class ChunkedBodyDecoder
{
    private enum State
    {
        SizeLine,
        Data,
        DataEnd,
        Trailers,
        Done,
    }

    private readonly Http1Limits _limits;
    private readonly FieldSectionReader _trailers;
    private State _state;
    private long _chunkRemaining;
    private long _scanned;
    private string? _error;

    public ChunkedBodyDecoder(Http1Limits limits)
    {
        _limits = limits;
        _trailers = new FieldSectionReader(limits, "trailer", "trailer section");
    }

    /// <summary>The message's bytes consumed so far: chunk metadata, data, trailers and the final CRLF.</summary>
    public long BytesConsumed { get; private set; }

    /// <param name="buffer">What is buffered from where the last call consumed up to.</param>
    public ChunkedResult Decode(in ReadOnlySequence<byte> buffer)
    {
        if (_error is not null)
        {
            return Invalid(buffer, _error);
        }

        var remaining = buffer;
        while (true)
        {
            switch (_state)
            {
                case State.SizeLine:
                {
                    var status = Http1Line.Read(remaining, ref _scanned, _limits.MaxLineLength, long.MaxValue, "chunk size line", "",
                        out var line, out var next, out var error);
                    if (status == LineStatus.Incomplete)
                    {
                        return Result(buffer, ChunkedStatus.NeedMoreData, default, remaining.Start, buffer.End);
                    }
                    if (status == LineStatus.Invalid)
                    {
                        return Invalid(buffer, error!);
                    }
                    using (var bytes = new LineBytes(line))
                    {
                        if (!ChunkSizeLine.TryParse(bytes.Span, out _chunkRemaining, out error))
                        {
                            return Invalid(buffer, error!);
                        }
                    }
                    remaining = remaining.Slice(next);
                    if (_chunkRemaining == 0)
                    {
                        _trailers.Reset(0);
                        _state = State.Trailers;
                    }
                    else
                    {
                        _state = State.Data;
                    }
                    break;
                }

                case State.Data:
                {
                    if (remaining.IsEmpty)
                    {
                        return Result(buffer, ChunkedStatus.NeedMoreData, default, remaining.Start, buffer.End);
                    }
                    var data = remaining.Slice(0, Math.Min(remaining.Length, _chunkRemaining));
                    _chunkRemaining -= data.Length;
                    if (_chunkRemaining == 0)
                    {
                        _state = State.DataEnd;
                    }
                    return Result(buffer, ChunkedStatus.Data, data, data.End, data.End);
                }

                case State.DataEnd:
                {
                    var status = DataEnd(remaining);
                    if (status == LineStatus.Invalid)
                    {
                        return Invalid(buffer, "chunk data not followed by CRLF");
                    }
                    if (status == LineStatus.Incomplete)
                    {
                        return Result(buffer, ChunkedStatus.NeedMoreData, default, remaining.Start, buffer.End);
                    }
                    remaining = remaining.Slice(2);
                    _state = State.SizeLine;
                    break;
                }

                case State.Trailers:
                {
                    var status = _trailers.Read(ref remaining, null, out var error);
                    if (status == SectionStatus.Incomplete)
                    {
                        return Result(buffer, ChunkedStatus.NeedMoreData, default, remaining.Start, buffer.End);
                    }
                    if (status == SectionStatus.Invalid)
                    {
                        return Invalid(buffer, error!);
                    }
                    _state = State.Done;
                    return Result(buffer, ChunkedStatus.Done, default, remaining.Start, remaining.Start);
                }

                default:
                    return new ChunkedResult(ChunkedStatus.Done, default, buffer.Start, buffer.Start, null);
            }
        }
    }

    /// <summary>Starts a new body (of the next response, or on a new connection).</summary>
    public void Reset()
    {
        _state = State.SizeLine;
        _chunkRemaining = 0;
        _scanned = 0;
        _error = null;
        BytesConsumed = 0;
    }

    /// <summary>
    /// Whether a chunk's data is followed by CRLF; each byte is judged as soon as it is in, so that the verdict is the
    /// same however the input was split.
    /// </summary>
    private static LineStatus DataEnd(in ReadOnlySequence<byte> remaining)
    {
        Span<byte> crlf = stackalloc byte[2];
        var present = (int)Math.Min(remaining.Length, 2);
        remaining.Slice(0, present).CopyTo(crlf);
        if ((present > 0 && crlf[0] != Http1Syntax.CR) || (present > 1 && crlf[1] != Http1Syntax.LF))
        {
            return LineStatus.Invalid;
        }
        return present == 2 ? LineStatus.Complete : LineStatus.Incomplete;
    }

    private ChunkedResult Result(in ReadOnlySequence<byte> buffer, ChunkedStatus status, ReadOnlySequence<byte> data, SequencePosition consumed, SequencePosition examined)
    {
        BytesConsumed += buffer.Slice(buffer.Start, consumed).Length;
        return new ChunkedResult(status, data, consumed, examined, null);
    }

    private ChunkedResult Invalid(in ReadOnlySequence<byte> buffer, string error)
    {
        _error = error;
        return new ChunkedResult(ChunkedStatus.Invalid, default, buffer.Start, buffer.End, error);
    }
}
