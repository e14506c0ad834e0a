namespace Switchman.Core.Vips;

/// <summary>
/// The extra time a singleton service gets beyond its node's lease, on both sides of a move. Its node kills it (SIGKILL
/// of the whole group, by the supervisor or by its guard) only once its right to run it has been gone for
/// <see cref="Grace"/>; and the leader gives the singleton's VIP to another node only once the old holder's lease has
/// surely ended <see cref="Grace"/> ago. So an election that leaves a holder without a lease for a moment (a few hundred
/// ms) does not kill a service that takes seconds to start, and a singleton still never runs on two nodes. The price:
/// a VIP that carries a singleton moves from a lost node this much later than other VIPs.
/// </summary>
public static class SingletonFence
{
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    /// <summary>How long, at least, the leader waits for a live holder to stop a singleton it was told to give up, before it stops renewing the holder's lease.</summary>
    public static TimeSpan ReleaseWait(TimeSpan stopTimeout) => stopTimeout + TimeSpan.FromSeconds(2);
}
