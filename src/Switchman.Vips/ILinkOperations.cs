using Switchman.Core.Configuration;

namespace Switchman.Vips;

/// <summary>
/// What holding a VIP takes from this node's network interfaces: add the address, remove it, tell whether it is there,
/// announce it. <see cref="LinkOperations"/> does it with the kernel (netlink and a packet socket); tests also use one
/// that changes nothing. Failures are <see cref="VipHostException"/>s with a one-line cause.
/// </summary>
public interface ILinkOperations
{
    /// <summary>Adds <paramref name="vip"/> to <paramref name="device"/>; there already is success.</summary>
    Task AddAsync(VipAddress vip, string device, CancellationToken cancellationToken);

    /// <summary>Removes <paramref name="vip"/> from <paramref name="device"/>; not there is success.</summary>
    Task RemoveAsync(VipAddress vip, string device, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="device"/> has <paramref name="vip"/> (address and prefix length) now.</summary>
    Task<bool> HasAsync(VipAddress vip, string device, CancellationToken cancellationToken);

    /// <summary>Sends one announcement of <paramref name="vip"/> on <paramref name="device"/> now: gratuitous ARP (IPv4) or an unsolicited neighbour advertisement (IPv6).</summary>
    Task AnnounceAsync(VipAddress vip, string device, CancellationToken cancellationToken);

    /// <summary>
    /// The command line that runs <c>ip</c> on the same interfaces (with its namespace option), for the guard that must
    /// remove an address after this process is gone and so cannot be code of this process.
    /// </summary>
    IReadOnlyList<string> IpCommandLine { get; }
}
