using System.Net;
using System.Net.Sockets;

namespace Switchman.Testing.Netns;

/// <summary>
/// The lab's addresses: TEST-NET-1 (192.0.2.0/24, RFC 5737) and, for IPv6 VIPs, 2001:db8::/32 (RFC 3849), neither
/// ever routed on the internet. Tests send traffic to those and to loopback only; <see cref="RequireAllowedTarget"/> enforces it for every connection a lab makes.
/// </summary>
public static class LabAddresses
{
    public const int PrefixLength = 24;

    /// <summary>The first host of a lab gets .11, the next .12, and so on (as in docs/cluster.md).</summary>
    public const int FirstHost = 11;

    /// <summary>The operator's workstation: where the tests' own connections come from.</summary>
    public static readonly IPAddress Operator = IPAddress.Parse("192.0.2.254");

    private static readonly byte[] Network = [192, 0, 2];

    /// <summary>2001:db8::/32, the IPv6 documentation prefix: IPv6 VIPs and the addresses that reach them, inside lab namespaces only.</summary>
    private static readonly byte[] DocumentationIPv6 = [0x20, 0x01, 0x0d, 0xb8];

    /// <summary>2001:db8::<paramref name="lastByte"/> (hex digits as written: 0x11 is 2001:db8::11).</summary>
    public static IPAddress HostIPv6(int lastByte)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lastByte, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lastByte, 0xffff);
        var bytes = new byte[16];
        DocumentationIPv6.CopyTo(bytes, 0);
        bytes[14] = (byte)(lastByte >> 8);
        bytes[15] = (byte)lastByte;
        return new IPAddress(bytes);
    }

    /// <summary>192.0.2.<paramref name="lastByte"/>.</summary>
    public static IPAddress Host(int lastByte)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lastByte, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lastByte, 254);
        return new IPAddress([.. Network, (byte)lastByte]);
    }

    /// <summary>True for loopback, 192.0.2.0/24 and 2001:db8::/32.</summary>
    public static bool IsAllowedTarget(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (IPAddress.IsLoopback(address))
        {
            return true;
        }
        var bytes = address.IsIPv4MappedToIPv6 ? address.MapToIPv4().GetAddressBytes() : address.GetAddressBytes();
        if (bytes.Length == 16 && bytes.AsSpan(0, 4).SequenceEqual(DocumentationIPv6))
        {
            return true;
        }
        return address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 && bytes.Length == 4 && bytes.AsSpan(0, 3).SequenceEqual(Network);
    }

    /// <summary>Parses <paramref name="host"/>, which must be an IP literal in TEST-NET-1 or loopback.</summary>
    /// <exception cref="ArgumentException">A host name, or an address outside the lab.</exception>
    public static IPAddress RequireAllowedTarget(string host)
    {
        if (!IPAddress.TryParse(host, out var address) || !IsAllowedTarget(address))
        {
            throw new ArgumentException($"'{host}' is not a lab address: lab connections go to 192.0.2.0/24, 2001:db8::/32 or loopback only", nameof(host));
        }
        return address;
    }
}
