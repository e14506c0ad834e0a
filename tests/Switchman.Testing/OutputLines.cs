namespace Switchman.Testing;

/// <summary>
/// The lines a child process has written to one stream, with a way to wait for more. Bounded: past
/// <see cref="MaxLines"/> the oldest lines are dropped, so a chatty long-running process cannot exhaust memory.
/// </summary>
internal sealed class OutputLines
{
    private const int MaxLines = 20_000;

    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private long _droppedCount;
    private bool _ended;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Number of lines ever written, including dropped ones: a position that stays valid as lines are dropped.</summary>
    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _droppedCount + _lines.Count;
            }
        }
    }

    public void Add(string line)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _lines.Add(line);
            if (_lines.Count > MaxLines)
            {
                var drop = MaxLines / 2;
                _lines.RemoveRange(0, drop);
                _droppedCount += drop;
            }
            changed = SwapChanged();
        }
        changed.SetResult();
    }

    /// <summary>The stream was closed: no more lines will come.</summary>
    public void End()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _ended = true;
            changed = SwapChanged();
        }
        changed.SetResult();
    }

    /// <summary>The lines still kept.</summary>
    public IReadOnlyList<string> Snapshot()
    {
        lock (_gate)
        {
            return _lines.ToArray();
        }
    }

    /// <summary>The kept lines from position <paramref name="from"/> on, whether the stream has ended, and a task that completes at the next change.</summary>
    public (IReadOnlyList<string> Lines, long Next, bool Ended, Task Changed) ReadFrom(long from)
    {
        lock (_gate)
        {
            var start = (int)Math.Clamp(from - _droppedCount, 0, _lines.Count);
            return (_lines.GetRange(start, _lines.Count - start), _droppedCount + _lines.Count, _ended, _changed.Task);
        }
    }

    private TaskCompletionSource SwapChanged()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return changed;
    }
}
