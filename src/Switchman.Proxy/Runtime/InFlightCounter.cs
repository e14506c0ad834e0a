namespace Switchman.Proxy.Runtime;

/// <summary>
/// Requests in flight, and a way to wait until there are none (a drained server before its removal, a retired backend
/// before its connections are released) without polling. The request path pays one interlocked operation per call, and
/// one read more when the count reaches zero.
/// </summary>
internal sealed class InFlightCounter
{
    private int _count;
    private TaskCompletionSource? _idle;

    public int Count => Volatile.Read(ref _count);

    public void Enter() => Interlocked.Increment(ref _count);

    public void Exit()
    {
        if (Interlocked.Decrement(ref _count) == 0)
        {
            Volatile.Read(ref _idle)?.TrySetResult();
        }
    }

    /// <summary>Completes when the count is zero (at once if it is now).</summary>
    public async Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        while (Count > 0)
        {
            var idle = Volatile.Read(ref _idle);
            if (idle is null || idle.Task.IsCompleted)
            {
                var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                idle = Interlocked.CompareExchange(ref _idle, fresh, idle) == idle ? fresh : Volatile.Read(ref _idle)!;
            }
            // The count may have reached zero before the waiter was in place: look again before waiting.
            if (Count == 0)
            {
                return;
            }
            await idle.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
