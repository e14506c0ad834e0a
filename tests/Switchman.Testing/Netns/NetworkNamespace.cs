using System.ComponentModel;
using System.Net;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Switchman.Testing.Netns;

/// <summary>
/// A named network namespace (<c>/run/netns/NAME</c>), and sockets opened from inside it by this process. A socket
/// belongs to the namespace it was created in for its whole life, so only its creation needs to happen in there: a
/// short-lived thread of its own enters the namespace (setns moves only the calling thread), creates the socket and
/// ends. That is how the tests talk to the hosts without a single route or address added to the machine's own
/// namespace (which may itself sit on 192.0.2.0/24).
/// </summary>
public sealed class NetworkNamespace
{
    public NetworkNamespace(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Path = System.IO.Path.Combine(LabNames.NamespaceDirectory, name);
    }

    /// <summary>Its name, as <c>ip netns list</c> shows it and <c>ip -n NAME</c> takes it.</summary>
    public string Name { get; }

    /// <summary>The file that holds it open: <c>/run/netns/NAME</c>.</summary>
    public string Path { get; }

    /// <summary>A new TCP/IPv4 socket inside this namespace.</summary>
    public Task<Socket> CreateTcpSocketAsync()
    {
        var created = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        // A thread of its own, never a pool thread: a pool thread left in the namespace would carry it into unrelated work.
        var thread = new Thread(() => CreateInside(created)) { IsBackground = true, Name = $"socket in {Name}" };
        thread.Start();
        return created.Task;
    }

    /// <summary>Connects from inside this namespace to <paramref name="endPoint"/> (a lab address or loopback).</summary>
    public async Task<Socket> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        LabAddresses.RequireAllowedTarget(endPoint.Address.ToString());
        var socket = await CreateTcpSocketAsync().ConfigureAwait(false);
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (Exception)
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A listening socket inside this namespace on <paramref name="endPoint"/>.</summary>
    public async Task<Socket> ListenAsync(IPEndPoint endPoint, int backlog = 16)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var socket = await CreateTcpSocketAsync().ConfigureAwait(false);
        try
        {
            socket.Bind(endPoint);
            socket.Listen(backlog);
            return socket;
        }
        catch (Exception)
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A handler whose connections are opened from inside this namespace, for an <see cref="HttpClient"/> that talks
    /// to the lab's hosts by IP (host names are refused: nothing here resolves names).
    /// </summary>
    public SocketsHttpHandler CreateHttpHandler() => new()
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var address = LabAddresses.RequireAllowedTarget(context.DnsEndPoint.Host);
            var socket = await ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        },
    };

    public override string ToString() => Name;

    private void CreateInside(TaskCompletionSource<Socket> created)
    {
        try
        {
            // The thread ends right after, but it goes home first anyway: no thread is ever left in a lab namespace,
            // whatever the runtime does with its threads.
            using var home = File.OpenHandle("/proc/thread-self/ns/net", FileMode.Open, FileAccess.Read);
            Enter(Path, Name);
            try
            {
                created.SetResult(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            }
            finally
            {
                Enter(home, "of this process");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or SocketException)
        {
            created.TrySetException(e);
        }
    }

    private static void Enter(string namespacePath, string name)
    {
        using var namespaceFile = File.OpenHandle(namespacePath, FileMode.Open, FileAccess.Read);
        Enter(namespaceFile, name);
    }

    private static void Enter(SafeFileHandle namespaceFile, string name)
    {
        if (NativeMethods.SetNs(namespaceFile, NativeMethods.CloneNewNet) != 0)
        {
            var error = new Win32Exception();
            throw new InvalidOperationException($"Could not enter network namespace {name} (setns): {error.Message}", error);
        }
    }
}
