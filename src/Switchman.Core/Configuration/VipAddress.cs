using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Switchman.Core.Configuration;

/// <summary>A VIP's address and prefix length, as <c>ip addr add</c> takes it: <c>192.0.2.10/24</c>.</summary>
public sealed record VipAddress(IPAddress Address, int PrefixLength)
{
    public bool IsIPv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Address}/{PrefixLength}");

    /// <summary>Parses <c>address/prefix</c>; <paramref name="problem"/> says what is wrong otherwise.</summary>
    public static bool TryParse(string text, out VipAddress? vip, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        vip = null;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            problem = $"'{text}' needs a prefix length, such as 192.0.2.10/24 or 2001:db8::10/64";
            return false;
        }
        if (!IPAddress.TryParse(text.AsSpan(0, slash), out var address)
            || address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            problem = $"'{text[..slash]}' is not an IPv4 or IPv6 address";
            return false;
        }
        var maxPrefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix < 1 || prefix > maxPrefix)
        {
            problem = $"the prefix length must be a whole number from 1 to {maxPrefix}";
            return false;
        }
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || IsMulticast(address))
        {
            problem = $"{address} cannot be a floating address (loopback, unspecified or multicast)";
            return false;
        }
        vip = new VipAddress(address, prefix);
        problem = null;
        return true;
    }

    private static bool IsMulticast(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? address.IsIPv6Multicast : (address.GetAddressBytes()[0] & 0xF0) == 0xE0;
}
