namespace Switchman.Admin.Services;

/// <summary>Looks at a condition every so often until it holds or a limit passes: the waits of service actions and rolling restarts.</summary>
internal static class BoundedPoll
{
    /// <returns>True once <paramref name="done"/> held; false when <paramref name="limit"/> passed first.</returns>
    public static async Task<bool> UntilAsync(Func<Task<bool>> done, TimeSpan limit, TimeSpan every, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (!await done().ConfigureAwait(false))
        {
            if (time.GetElapsedTime(started) >= limit)
            {
                return false;
            }
            await Task.Delay(every, time, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    public static Task<bool> UntilAsync(Func<bool> done, TimeSpan limit, TimeSpan every, TimeProvider time, CancellationToken cancellationToken) =>
        UntilAsync(() => Task.FromResult(done()), limit, every, time, cancellationToken);
}
