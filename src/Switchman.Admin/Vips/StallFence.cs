namespace Switchman.Admin.Vips;

/// <summary>
/// This node's right to hold VIPs and run singletons, withheld for a moment after the process stalled (frozen, paused,
/// starved of CPU) when that right can look live when it is not (<see cref="IVipMembership.RightStaleAfterStall"/>: a
/// leader's, which counts its peers' bytes as contact when it reads them, and bytes that waited in the kernel during
/// the stall read as fresh until the cluster's news is processed). Found by the fault campaign: a leader frozen 4 s,
/// once continued, took a VIP back for 17 ms while another node held it; a leader frozen 1.6 s started its singleton
/// again for ~40 ms while the new leader's ran (docs/reliability.md).
/// <para>
/// The VIP keeper beats it at each look (every 10 ms while a VIP is configured, and a singleton always has one): a look
/// later than due by more than <see cref="StallLimit"/> is a stall, and so is a right asked for while the keeper has
/// not looked for that long (the process just came back, and something else asked before the keeper looked). Either
/// starts a quarantine of <see cref="Quarantine"/>, during which the right is zero. Thread-safe: the keeper and the
/// supervisor's instances ask from their own loops.
/// </para>
/// </summary>
public sealed class StallFence(IVipMembership membership, TimeProvider time)
{
    /// <summary>Longer than the leader's right (75 ms by default), as long as the shortest election timeout.</summary>
    public static readonly TimeSpan StallLimit = TimeSpan.FromMilliseconds(100);

    /// <summary>Time for the cluster's news (a new term, DotNext's own lease timer) to be read and acted on.</summary>
    public static readonly TimeSpan Quarantine = TimeSpan.FromMilliseconds(100);

    private long _lastBeat;
    private long _quarantineUntil;

    /// <summary>The membership whose right this fences.</summary>
    public IVipMembership Membership => membership;

    /// <summary>The keeper begins a look that was due at <paramref name="dueAt"/> (a timestamp; 0: none was); returns how long the process stalled, if it did.</summary>
    public TimeSpan? Beat(long dueAt)
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Exchange(ref _lastBeat, now);
        var late = dueAt != 0 && last != 0 ? time.GetElapsedTime(dueAt, now) : TimeSpan.Zero;
        return late > StallLimit && Begin(now) ? late : null;
    }

    /// <summary>The keeper's look that began at <paramref name="lookStarted"/> is still going: a stall if it has taken longer than <see cref="StallLimit"/>.</summary>
    public bool StalledSince(long lookStarted)
    {
        var now = time.GetTimestamp();
        return time.GetElapsedTime(lookStarted, now) > StallLimit && Begin(now);
    }

    /// <summary>Whether the right is withheld now (a quarantine runs).</summary>
    public bool Withheld => time.GetTimestamp() < Volatile.Read(ref _quarantineUntil);

    /// <summary>
    /// <see cref="IVipMembership.RightRemaining"/>, or zero while a quarantine runs or while the keeper has not looked for
    /// longer than a stall (this process may have just come back from one).
    /// </summary>
    public TimeSpan RightRemaining()
    {
        if (!membership.RightStaleAfterStall)
        {
            return membership.RightRemaining();
        }
        var now = time.GetTimestamp();
        var last = Volatile.Read(ref _lastBeat);
        if (now < Volatile.Read(ref _quarantineUntil) || (last != 0 && time.GetElapsedTime(last, now) > StallLimit && Begin(now)))
        {
            return TimeSpan.Zero;
        }
        return membership.RightRemaining();
    }

    /// <summary>Starts (or extends) a quarantine if the right can look stale; false when it cannot (nothing to fence).</summary>
    private bool Begin(long now)
    {
        if (!membership.RightStaleAfterStall)
        {
            return false;
        }
        Core.Threading.AtomicMax.Raise(ref _quarantineUntil, now + (long)(Quarantine.TotalSeconds * time.TimestampFrequency));
        return true;
    }
}
