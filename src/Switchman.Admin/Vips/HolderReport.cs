namespace Switchman.Admin.Vips;

/// <summary>
/// What this node tells the leader it has let go of (<see cref="IVipMembership.Report"/>): the log index up to which it
/// holds nothing the state does not give it. Two parts hold things under the same lease: the VIP keeper (addresses) and
/// the supervisor (singletons that run where their VIP is). The node has caught up only as far as the slower of the two,
/// so a VIP's next holder cannot start its singleton while this node's instance is still stopping.
/// </summary>
public sealed class HolderReport(IVipMembership membership)
{
    private readonly Lock _lock = new();
    private long _keeper;
    private long _services = long.MaxValue;

    /// <summary>The VIP keeper holds no address that the state at <paramref name="index"/> does not give this node.</summary>
    public void Keeper(long index) => Set(ref _keeper, index);

    /// <summary>
    /// No singleton runs here that the state at <paramref name="index"/> does not place here; <see cref="long.MaxValue"/>
    /// while none runs at all.
    /// </summary>
    public void Services(long index) => Set(ref _services, index);

    private void Set(ref long part, long index)
    {
        lock (_lock)
        {
            part = index;
            membership.Report(Math.Min(_keeper, _services));
        }
    }
}
