using System.Net;
using System.Net.Sockets;

namespace Switchman.Runtime;

/// <summary>
/// Lets socket completions run on the runtime's event threads instead of hopping to the thread pool for every read and
/// write: 13% less CPU per proxied request and fewer context switches (docs/benchmarks.md, issue 12, step 6). The runtime
/// offers this only as a process-wide environment variable, read once, when the first socket joins its event loop.
/// </summary>
/// <remarks>
/// What this asks of the code: nothing that runs straight after a socket operation completes may block, or every socket
/// on that event thread waits. The data plane (Kestrel, the forwarder) does not block; Kestrel's own connections (the
/// frontends, the admin API, plain cluster connections) hand their bytes to the thread pool anyway; cluster links read
/// and write through <c>ClusterSocketStream</c>, which moves off the event thread before Raft's log writes. An operator
/// who sets the variable (to 0 or 1) decides; it is set only for the runtime, so supervised services never inherit it.
/// </remarks>
internal static class InlineSocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Call first thing in Main, before any socket exists.</summary>
    public static void EnableUnlessSet()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not null)
        {
            return;
        }
        Environment.SetEnvironmentVariable(Variable, "1");
        try
        {
            StartEventLoops();
        }
        finally
        {
            Environment.SetEnvironmentVariable(Variable, null);
        }
    }

    /// <summary>Makes the runtime read the variable now: a receive that has to wait registers its socket with the event loop.</summary>
    private static void StartEventLoops()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var cancel = new CancellationTokenSource();
        var waiting = socket.ReceiveAsync(new byte[1], SocketFlags.None, cancel.Token);
        cancel.Cancel();
        try
        {
            waiting.AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // Expected: nothing was sent to it.
        }
    }
}
