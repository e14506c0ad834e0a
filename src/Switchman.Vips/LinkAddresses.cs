using System.Globalization;
using Switchman.Core.Configuration;

namespace Switchman.Vips;

/// <summary>
/// Puts a VIP on a network interface of this node, takes it off, tells whether it is there, and announces it to the
/// LAN (gratuitous ARP), so that neighbours send to this node at once instead of when their ARP entry expires.
/// Adding an address that is there and removing one that is not both succeed: the caller states what it wants.
/// </summary>
public sealed class LinkAddresses(NetworkTools tools)
{
    public async Task AddAsync(VipAddress vip, string device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vip);
        var result = await tools.IpAsync(["addr", "add", vip.ToString(), "dev", device], cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded && !result.Error.Contains("already assigned", StringComparison.Ordinal)
            && !result.Error.Contains("File exists", StringComparison.Ordinal))
        {
            throw Failure("add", vip, device, result);
        }
    }

    /// <summary>Arms the dead man's switch that removes <paramref name="vip"/> from <paramref name="device"/> if this process dies holding it.</summary>
    public AddressGuard Guard(VipAddress vip, string device) => AddressGuard.Start(tools, vip, device);

    public async Task RemoveAsync(VipAddress vip, string device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vip);
        var result = await tools.IpAsync(["addr", "del", vip.ToString(), "dev", device], cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded && !result.Error.Contains("Address not found", StringComparison.Ordinal)
            && !result.Error.Contains("Cannot assign requested address", StringComparison.Ordinal))
        {
            throw Failure("remove", vip, device, result);
        }
    }

    /// <summary>Whether <paramref name="device"/> has the VIP's address now.</summary>
    public async Task<bool> HasAsync(VipAddress vip, string device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vip);
        var (family, flag) = vip.IsIPv6 ? ("inet6", "-6") : ("inet", "-4");
        var result = await tools.IpAsync(["-o", flag, "addr", "show", "dev", device], cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw Failure("look for", vip, device, result);
        }
        var wanted = $" {family} {vip} ";
        return result.Output.Split('\n').Any(line => line.Contains(wanted, StringComparison.Ordinal));
    }

    /// <summary>Sends <paramref name="count"/> gratuitous ARP announcements for an IPv4 VIP (one a second; the first at once).</summary>
    public async Task AnnounceAsync(VipAddress vip, string device, int count, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vip);
        if (vip.IsIPv6)
        {
            // The kernel announces a new IPv6 address itself (DAD, then unsolicited NA with ndisc_notify); nothing to send here.
            return;
        }
        var result = await tools.ArpingAsync(
            ["-U", "-c", count.ToString(CultureInfo.InvariantCulture), "-I", device, vip.Address.ToString()], cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw Failure("announce", vip, device, result);
        }
    }

    /// <summary>One line that names what is missing: a capability, the interface, or what the tool said.</summary>
    public static VipHostException Failure(string action, VipAddress vip, string device, ToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var said = result.Error.Trim().Split('\n').FirstOrDefault(l => l.Length > 0)?.Trim() ?? $"exit code {result.ExitCode}";
        var why = said switch
        {
            _ when said.Contains("Operation not permitted", StringComparison.Ordinal) => action == "announce"
                ? "this node lacks CAP_NET_RAW (needed to send ARP announcements)"
                : "this node lacks CAP_NET_ADMIN (needed to add and remove addresses)",
            _ when said.Contains("Cannot find device", StringComparison.Ordinal) || said.Contains("does not exist", StringComparison.Ordinal)
                || said.Contains("No such device", StringComparison.Ordinal) => $"interface {device} does not exist on this node",
            _ => said,
        };
        return new VipHostException($"cannot {action} VIP {vip} on {device}: {why}");
    }
}
