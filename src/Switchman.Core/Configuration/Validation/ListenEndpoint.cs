using System.Net;

namespace Switchman.Core.Configuration.Validation;

/// <summary>A listen address as the sockets layer sees it, to tell whether two listeners would fight over a port.</summary>
internal sealed record ListenEndpoint(string Owner, HostPort Address)
{
    /// <summary>Two listeners collide when they bind the same port on a shared address. Port 0 (pick a free port)
    /// never collides; a wildcard (*, 0.0.0.0, ::) shares every address, since Kestrel binds [::] dual-stack;
    /// localhost binds both loopback addresses.</summary>
    public bool CollidesWith(ListenEndpoint other)
    {
        if (Address.Port == 0 || Address.Port != other.Address.Port)
        {
            return false;
        }
        var mine = LocalAddresses(Address.Host);
        var theirs = LocalAddresses(other.Address.Host);
        return mine is null || theirs is null || mine.Intersect(theirs).Any();
    }

    /// <summary>The addresses a host binds; null for a wildcard.</summary>
    private static IPAddress[]? LocalAddresses(string host)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return [IPAddress.Loopback, IPAddress.IPv6Loopback];
        }
        if (host == "*" || !IPAddress.TryParse(host, out var address))
        {
            return null;
        }
        return address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? null : [address];
    }

    /// <summary>Listeners bind local addresses: an IP literal, * (any) or localhost; not a host name to resolve.</summary>
    public static bool IsBindable(HostPort address) =>
        address.Host == "*" || address.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || address.Address is not null;
}
