using System.Net.Sockets;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Health;

/// <summary>A TCP check: healthy when a connection to the server's address opens.</summary>
internal sealed class TcpHealthProbe : IHealthProbe
{
    public async Task<ProbeResult> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        // A refused or unreachable connect throws; the check's timeout ends one that hangs.
        await socket.ConnectAsync(server.Address.Host, server.Address.Port, cancellationToken).ConfigureAwait(false);
        return ProbeResult.Healthy("TCP connect ok");
    }
}
