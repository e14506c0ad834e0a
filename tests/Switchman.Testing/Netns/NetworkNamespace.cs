using System.Net;
using System.Net.Sockets;
using Switchman.Vips;

namespace Switchman.Testing.Netns;

/// <summary>
/// A named network namespace (<c>/run/netns/NAME</c>), and sockets opened from inside it by this process. A socket
/// belongs to the namespace it was created in for its whole life, so only its creation needs to happen in there
/// (<see cref="NetworkNamespaceThread"/>). That is how the tests talk to the hosts without a single route or address added to the machine's own
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

    /// <summary>A new TCP socket (IPv4 unless told) inside this namespace.</summary>
    public Task<Socket> CreateTcpSocketAsync(AddressFamily family = AddressFamily.InterNetwork) =>
        NetworkNamespaceThread.CreateInsideAsync(Path, () => new Socket(family, SocketType.Stream, ProtocolType.Tcp));

    /// <summary>Connects from inside this namespace to <paramref name="endPoint"/> (a lab address or loopback).</summary>
    public async Task<Socket> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        LabAddresses.RequireAllowedTarget(endPoint.Address.ToString());
        var socket = await CreateTcpSocketAsync(endPoint.AddressFamily).ConfigureAwait(false);
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
        var socket = await CreateTcpSocketAsync(endPoint.AddressFamily).ConfigureAwait(false);
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
}
