namespace Switchman.Proxy.Runtime;

/// <summary>
/// Learns how long connecting to one server takes, and from that how long a new connection may take before a request
/// stops waiting for it: <c>deadline = clamp(3 × smoothed + 4 × variation, 50 ms, ceiling)</c>, the smoothed connect
/// time and its variation being kept the way TCP keeps its round-trip time (RFC 6298: gains 1/8 and 1/4).
/// On a LAN (connects well under a millisecond) the deadline is the 50 ms floor; for a server 80 ms away it is about
/// 250 ms. A connect that takes longer has lost its SYN or its answer, and would take a second or more (TCP's SYN
/// retransmission timeout) if it ever completes. Thread-safe: samples are rare (one per new connection) and serialised; reads take no lock.
/// </summary>
internal sealed class ConnectTimeEstimator
{
    /// <summary>
    /// No deadline is shorter: a hundred times a connect on a LAN, yet short enough that a request can be tried on a
    /// second server, and a silent one found out, well within a client's patience of a few hundred milliseconds.
    /// </summary>
    public static readonly TimeSpan Floor = TimeSpan.FromMilliseconds(50);

    /// <summary>Before the first sample: TCP's own initial retransmission timeout (RFC 6298), for lack of anything better.</summary>
    public static readonly TimeSpan Initial = TimeSpan.FromSeconds(1);

    /// <summary>How many smoothed connect times a connect may take: room for jitter on a distant server.</summary>
    public const int SmoothedFactor = 3;

    /// <summary>How many variations a connect may add (TCP's K).</summary>
    public const int VariationFactor = 4;

    /// <summary>
    /// A sample counts for at most this many times the deadline in force: a connect whose first SYN was lost (and took a
    /// second or more) cannot blow the estimate up, while a real change of distance still doubles it per connect.
    /// </summary>
    public const int MaxSampleFactor = 2;

    private readonly Lock _lock = new();
    private volatile Estimate? _estimate;

    /// <summary>True once a connect has been measured.</summary>
    public bool HasSamples => _estimate is not null;

    /// <summary>The smoothed connect time, or null before the first sample.</summary>
    public TimeSpan? Smoothed => _estimate is { } estimate ? TimeSpan.FromTicks((long)estimate.SmoothedTicks) : null;

    /// <summary>The deadline this estimate gives, bounded by the floor only; null before the first sample.</summary>
    public TimeSpan? Learned => _estimate is { } estimate ? Max(estimate.Deadline, Floor) : null;

    /// <summary>The deadline for a new connect: <see cref="Learned"/>, or <paramref name="prior"/> (else <see cref="Initial"/>)
    /// before any sample, never above <paramref name="ceiling"/>.</summary>
    public TimeSpan Deadline(TimeSpan ceiling, TimeSpan? prior = null)
    {
        var deadline = Learned ?? Max(prior ?? Initial, Floor);
        return deadline < ceiling ? deadline : ceiling;
    }

    /// <summary>Adds the measured duration of a connect that succeeded.</summary>
    public void Record(TimeSpan connectTime)
    {
        if (connectTime < TimeSpan.Zero)
        {
            return;
        }
        lock (_lock)
        {
            var bound = (Learned ?? Initial).Ticks * (double)MaxSampleFactor;
            var sample = Math.Min(connectTime.Ticks, bound);
            var current = _estimate;
            _estimate = current is null
                ? new Estimate(sample, sample / 2)
                : new Estimate(
                    current.SmoothedTicks + ((sample - current.SmoothedTicks) / 8),
                    current.VariationTicks + ((Math.Abs(current.SmoothedTicks - sample) - current.VariationTicks) / 4));
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Smoothed connect time and variation, in ticks; replaced whole so readers never see half an update.</summary>
    private sealed record Estimate(double SmoothedTicks, double VariationTicks)
    {
        public TimeSpan Deadline { get; } = TimeSpan.FromTicks((long)((SmoothedFactor * SmoothedTicks) + (VariationFactor * VariationTicks)));
    }
}
