using System.Runtime.InteropServices;
using Switchman.Core.Configuration;

namespace Switchman.Vips;

/// <summary>
/// Puts a VIP on a network interface of this node, takes it off, tells whether it is there, announces it to the LAN
/// (so that neighbours send to this node at once instead of when their entry for the VIP expires), and arms the guard
/// that removes it if this process dies. Adding an address that is there and removing one that is not both succeed:
/// the caller states what it wants.
/// </summary>
public sealed class LinkAddresses(ILinkOperations links, TimeProvider time)
{
    /// <summary>Between two announcements of one call (the first leaves at once).</summary>
    private static readonly TimeSpan AnnounceInterval = TimeSpan.FromSeconds(1);

    public Task AddAsync(VipAddress vip, string device, CancellationToken cancellationToken) => links.AddAsync(vip, device, cancellationToken);

    /// <summary>Arms the dead man's switch that removes <paramref name="vip"/> from <paramref name="device"/> if this process dies holding it.</summary>
    public AddressGuard Guard(VipAddress vip, string device) => AddressGuard.Start(links.IpCommandLine, vip, device, time);

    public Task RemoveAsync(VipAddress vip, string device, CancellationToken cancellationToken) => links.RemoveAsync(vip, device, cancellationToken);

    /// <summary>Whether <paramref name="device"/> has the VIP's address now.</summary>
    public Task<bool> HasAsync(VipAddress vip, string device, CancellationToken cancellationToken) => links.HasAsync(vip, device, cancellationToken);

    /// <summary>Sends <paramref name="count"/> announcements of the VIP (one a second; the first at once).</summary>
    public async Task AnnounceAsync(VipAddress vip, string device, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                await Task.Delay(AnnounceInterval, time, cancellationToken).ConfigureAwait(false);
            }
            await links.AnnounceAsync(vip, device, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The one line a failure is: what could not be done to which VIP where, and why.</summary>
    public static VipHostException Failure(string action, VipAddress vip, string device, string why) =>
        new($"cannot {action} VIP {vip} on {device}: {why}");

    /// <summary>Why, from the kernel's errno: the capability that is missing, the interface that is, or the errno's own text.</summary>
    public static string Reason(string action, string device, int errno) => errno switch
    {
        1 or 13 => action == "announce" // EPERM, EACCES
            ? "this node lacks CAP_NET_RAW (needed to send ARP announcements)"
            : "this node lacks CAP_NET_ADMIN (needed to add and remove addresses)",
        19 => $"interface {device} does not exist on this node", // ENODEV
        _ => Marshal.GetPInvokeErrorMessage(errno),
    };
}
