using System.Net;
using System.Net.Sockets;

namespace Switchman.Proxy.Hosting;

/// <summary>Listen sockets with SO_REUSEPORT on Linux, so two listeners can share an address while one replaces the other.</summary>
internal static class ReusePortListenSocket
{
    private const int SolSocket = 1;
    private const int SoReusePort = 15;

    public static Socket Create(EndPoint endpoint)
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
