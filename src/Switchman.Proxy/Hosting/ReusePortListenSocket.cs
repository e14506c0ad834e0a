using System.Net;
using System.Net.Sockets;

namespace Switchman.Proxy.Hosting;

/// <summary>
/// Listen sockets with SO_REUSEPORT on Linux, so two listeners can share an address while one replaces the other; and,
/// for an address that is a floating VIP, IP_FREEBIND, so the listener is bound and ready on a node that does not hold
/// the address yet (it serves the moment the address arrives, with no sysctl to set).
/// </summary>
internal static class ReusePortListenSocket
{
    private const int SolSocket = 1;
    private const int SoReusePort = 15;
    private const int SolIp = 0;
    private const int IpFreeBind = 15;
    private const int SolIpv6 = 41;
    private const int Ipv6FreeBind = 78;

    public static Socket Create(EndPoint endpoint) => Create(endpoint, freeBind: false);

    public static Socket Create(EndPoint endpoint, bool freeBind)
    {
        if (endpoint is not IPEndPoint ip)
        {
            return Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
        }
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            if (OperatingSystem.IsLinux())
            {
                socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
                if (freeBind)
                {
                    var (level, option) = ip.AddressFamily == AddressFamily.InterNetworkV6 ? (SolIpv6, Ipv6FreeBind) : (SolIp, IpFreeBind);
                    socket.SetRawSocketOption(level, option, BitConverter.GetBytes(1));
                }
            }
            socket.Bind(ip);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
