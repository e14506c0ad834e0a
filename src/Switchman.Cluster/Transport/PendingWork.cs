namespace Switchman.Cluster.Transport;

/// <summary>
/// Counts work in flight (handshakes) so that its owner can refuse new work once closing and wait until the last one
/// has finished. Each successful <see cref="TryEnter"/> is matched by one <see cref="Exit"/>.
/// </summary>
internal sealed class PendingWork
{
    private readonly Lock _sync = new();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _count;
    private bool _closed;

    public bool IsClosed
    {
        get
        {
            lock (_sync)
            {
                return _closed;
            }
        }
    }

    /// <summary>Takes a slot unless closed or <paramref name="limit"/> slots are taken.</summary>
    public bool TryEnter(int limit = int.MaxValue)
    {
        lock (_sync)
        {
            if (_closed || _count >= limit)
            {
                return false;
            }
            _count++;
            return true;
        }
    }

    public void Exit()
    {
        lock (_sync)
        {
            _count--;
            if (_closed && _count == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    /// <summary>Refuses new work; completes when the work in flight has finished.</summary>
    public Task CloseAsync()
    {
        lock (_sync)
        {
            _closed = true;
            if (_count == 0)
            {
                _idle.TrySetResult();
            }
        }
        return _idle.Task;
    }
}
