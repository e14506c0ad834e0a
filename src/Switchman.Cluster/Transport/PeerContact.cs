namespace Switchman.Cluster.Transport;

/// <summary>The time bytes last arrived from one peer, over any of its connections. Shared by those connections.</summary>
internal sealed class PeerContact(TimeProvider timeProvider)
{
    private long _utcTicks;

    /// <summary>Records "now". Never moves the time backwards when connections race.</summary>
    public void Touch()
    {
        var now = timeProvider.GetUtcNow().UtcTicks;
        var seen = Volatile.Read(ref _utcTicks);
        while (now > seen)
        {
            var prior = Interlocked.CompareExchange(ref _utcTicks, now, seen);
            if (prior == seen)
            {
                return;
            }
            seen = prior;
        }
    }

    public bool TryGet(out DateTimeOffset at)
    {
        var ticks = Volatile.Read(ref _utcTicks);
        at = ticks == 0 ? default : new DateTimeOffset(ticks, TimeSpan.Zero);
        return ticks != 0;
    }
}
