using System.Net.Sockets;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Health;

/// <summary>A TCP check: healthy when a connection to the server's address opens.</summary>
internal sealed class TcpHealthProbe : IHealthProbe
{
    public async Task<(bool Success, string Detail)> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(server.Address.Host, server.Address.Port, cancellationToken).ConfigureAwait(false);
            return (true, "TCP connect ok");
        }
        catch (SocketException ex)
        {
            return (false, HttpHealthProbe.Describe(ex));
        }
    }
}
