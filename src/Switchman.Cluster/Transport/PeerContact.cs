namespace Switchman.Cluster.Transport;

/// <summary>
/// When bytes last arrived from one peer, over any of its connections (shared by them), on the monotonic clock: the
/// leader's right to hold VIPs is measured with it, and a wall-clock step (NTP, an operator) must not stretch it.
/// </summary>
internal sealed class PeerContact(TimeProvider timeProvider)
{
    private long _timestamp;

    /// <summary>Records "now". Never moves the time backwards when connections race.</summary>
    public void Touch() => Core.Threading.AtomicMax.Raise(ref _timestamp, timeProvider.GetTimestamp());

    /// <summary>How long ago the last bytes arrived; false when none ever did.</summary>
    public bool TryGetSince(out TimeSpan since)
    {
        var at = Volatile.Read(ref _timestamp);
        since = at == 0 ? default : timeProvider.GetElapsedTime(at);
        return at != 0;
    }
}
