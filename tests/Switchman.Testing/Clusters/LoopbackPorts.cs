using System.Net;
using System.Net.Sockets;

namespace Switchman.Testing;

/// <summary>
/// Loopback ports picked before a node starts, for what must be known in advance: a cluster member's address is in its
/// peers' files, and it keeps its ports across restarts as a real host would. Everything else binds port 0.
/// </summary>
public static class LoopbackPorts
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A loopback port free right now, below the kernel's ephemeral range (32768 and up by default): a port taken from
    /// that range could be handed to some outgoing connection before the node binds it.
    /// </summary>
    public static int Free()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(20000, 32000);
            lock (HandedOut)
            {
                // Never the same port twice in one test run: a node killed a moment ago may still hold it.
                if (!HandedOut.Add(port))
                {
                    continue;
                }
            }
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }
        throw new InvalidOperationException("no free loopback port found between 20000 and 32000");
    }
}
