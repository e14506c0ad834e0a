namespace Switchman.Admin.Clustering;

/// <summary>
/// How far this node has got in applying the replicated log (configuration and overrides), and a way to wait for
/// an index: a change's proposer returns only once its own node runs the change.
/// </summary>
public sealed class AppliedProgress
{
    private readonly Lock _lock = new();
    private readonly List<(long Index, TaskCompletionSource Done)> _waiters = [];
    private long _index;

    /// <summary>The last log index whose effect this node has applied (or failed to, reported).</summary>
    public long Index => Interlocked.Read(ref _index);

    public void Advance(long index)
    {
        lock (_lock)
        {
            Interlocked.Exchange(ref _index, Math.Max(_index, index));
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Index <= _index)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    public Task WaitForAsync(long index, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_index >= index)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((index, done));
            return done.Task.WaitAsync(cancellationToken);
        }
    }
}
