using System.Buffers;

namespace Switchman.Proxy.Tests.Upstream.Http1;

/// <summary>
/// A <see cref="System.IO.Pipelines.PipeReader"/>'s contract without a pipe: the input arrives in the reads given by
/// <c>cuts</c>; <see cref="Buffer"/> is what was received and not yet consumed, one segment per read (copies, so a
/// parser that assumed one contiguous buffer would be caught), and <see cref="AdvanceTo"/> consumes.
/// </summary>
internal sealed class ScriptedPipe
{
    private readonly byte[] _input;
    private readonly int[] _reads;
    private int _nextRead;
    private int _firstUnconsumedRead;

    /// <param name="cuts">Where reads end, ascending, inside the input; the last read ends at its end.</param>
    public ScriptedPipe(byte[] input, IEnumerable<int> cuts)
    {
        _input = input;
        _reads = [.. cuts.Where(c => c > 0 && c < input.Length).Distinct().Order(), input.Length];
    }

    public long Consumed { get; private set; }

    public long Received { get; private set; }

    public long Unconsumed => Received - Consumed;

    /// <summary>True once everything was received and consumed.</summary>
    public bool AtEnd => Consumed == _input.Length;

    public ReadOnlySequence<byte> Buffer
    {
        get
        {
            if (Unconsumed == 0)
            {
                return ReadOnlySequence<byte>.Empty;
            }
            Segment? first = null;
            Segment? last = null;
            for (int start = (int)Consumed, read = _firstUnconsumedRead; start < Received; start = _reads[read++])
            {
                var bytes = _input.AsSpan(start, _reads[read] - start).ToArray();
                last = last is null ? first = new Segment(bytes, 0) : last.Append(bytes);
            }
            return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
        }
    }

    /// <summary>The next read; false at the end of the input (the backend closed the connection).</summary>
    public bool Receive()
    {
        if (_nextRead == _reads.Length)
        {
            return false;
        }
        Received = _reads[_nextRead++];
        return true;
    }

    /// <param name="buffer">The <see cref="Buffer"/> that <paramref name="consumed"/> is a position in.</param>
    public void AdvanceTo(in ReadOnlySequence<byte> buffer, SequencePosition consumed)
    {
        Consumed += buffer.Slice(buffer.Start, consumed).Length;
        while (_firstUnconsumedRead < _nextRead && _reads[_firstUnconsumedRead] <= Consumed)
        {
            _firstUnconsumedRead++;
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
