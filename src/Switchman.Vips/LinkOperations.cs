using System.Net.Sockets;
using Switchman.Core.Configuration;

namespace Switchman.Vips;

/// <summary>
/// The VIP's link operations done in this process, with no program started: addresses over rtnetlink, announcements
/// through a packet socket. Starting <c>ip</c> and <c>arping</c> for each step cost tens of milliseconds on a busy
/// machine, between the address appearing and the first client answered; a netlink exchange is tens of microseconds.
/// On a host, the process's own network namespace; for tests, a named one, whose sockets are opened from inside it.
/// Each operation opens its netlink socket, is bounded in time, and closes it; the packet socket stays open.
/// </summary>
public sealed class LinkOperations : ILinkOperations, IDisposable
{
    /// <summary>The kernel answers netlink at once; this bound only matters if something is badly wrong.</summary>
    private static readonly TimeSpan AnswerLimit = TimeSpan.FromSeconds(5);

    private const int NoSuchDevice = 19; // ENODEV
    private const int AlreadyThere = 17; // EEXIST
    private const int AddressNotAvailable = 99; // EADDRNOTAVAIL
    private const int NameLimit = 15; // IFNAMSIZ - 1

    private readonly string? _namespacePath;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _packetOpening = new(1, 1);
    private Socket? _packet;

    private LinkOperations(string? namespacePath, IReadOnlyList<string> ipCommandLine, TimeProvider time)
    {
        _namespacePath = namespacePath;
        IpCommandLine = ipCommandLine;
        _time = time;
    }

    /// <summary>This process's own network namespace: the host's interfaces.</summary>
    public static LinkOperations OnHost(TimeProvider time) => new(null, ["ip"], time);

    /// <summary>The interfaces of the network namespace <paramref name="name"/> (<c>/run/netns/NAME</c>, as <c>ip netns</c> makes them).</summary>
    public static LinkOperations InNamespace(string name, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new(Path.Combine("/run/netns", name), ["ip", "-n", name], time);
    }

    public IReadOnlyList<string> IpCommandLine { get; }

    public Task AddAsync(VipAddress vip, string device, CancellationToken cancellationToken) =>
        ChangeAsync("add", vip, device, RtnetlinkRequest.AddAddress, AlreadyThere, cancellationToken);

    public Task RemoveAsync(VipAddress vip, string device, CancellationToken cancellationToken) =>
        ChangeAsync("remove", vip, device, RtnetlinkRequest.RemoveAddress, AddressNotAvailable, cancellationToken);

    public Task<bool> HasAsync(VipAddress vip, string device, CancellationToken cancellationToken) =>
        RunAsync("look for", vip, device, async (route, ct) =>
        {
            var (index, _) = await LinkAsync(route, device, ct).ConfigureAwait(false);
            return await HasAsync(route, index, vip, ct).ConfigureAwait(false);
        }, cancellationToken);

    public Task AnnounceAsync(VipAddress vip, string device, CancellationToken cancellationToken) =>
        RunAsync("announce", vip, device, async (route, ct) =>
        {
            var (index, mac) = await LinkAsync(route, device, ct).ConfigureAwait(false);
            // As arping would (it binds to the address): never tell the LAN to send us an address we do not hold.
            if (!await HasAsync(route, index, vip, ct).ConfigureAwait(false))
            {
                throw new LinkFailure($"the address is not on {device}");
            }
            if (mac.Length != 6)
            {
                throw new LinkFailure($"{device} has no Ethernet address to announce");
            }
            var announcement = Announcement.For(vip, mac);
            var packet = await PacketSocketAsync(ct).ConfigureAwait(false);
            await packet.SendToAsync(announcement.Payload, SocketFlags.None, announcement.Address(index), ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Sends the add or remove <paramref name="request"/> for the VIP on the link; <paramref name="alreadySo"/> is the errno that means it already is as asked.</summary>
    private Task ChangeAsync(
        string action, VipAddress vip, string device, Func<uint, int, VipAddress, byte[]> request, int alreadySo, CancellationToken cancellationToken) =>
        RunAsync(action, vip, device, async (route, ct) =>
        {
            var (index, _) = await LinkAsync(route, device, ct).ConfigureAwait(false);
            Expect(await route.ExchangeAsync(s => request(s, index, vip), null, ct).ConfigureAwait(false), alreadySo);
            return true;
        }, cancellationToken);

    /// <summary>Closes the packet socket, if an announcement opened it.</summary>
    public void Dispose()
    {
        _packet?.Dispose();
        _packetOpening.Dispose();
    }

    /// <summary>
    /// The socket announcements leave from, opened at the first and kept: closing a packet socket waits for an RCU
    /// grace period (synchronize_net in the kernel's packet_release), 10–20 ms measured here, which each announcement
    /// would otherwise spend. Unbound and of protocol 0, it sends on any interface (the destination names one) and the
    /// kernel queues nothing it receives for it. Datagram sends from several callers at once are safe.
    /// </summary>
    private async Task<Socket> PacketSocketAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _packet) is { } open)
        {
            return open;
        }
        await _packetOpening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Not kept when it fails (no CAP_NET_RAW): the next announcement tries again and says why again.
            var packet = _packet ?? await OpenAsync(() => new Socket(AddressFamily.Packet, SocketType.Dgram, ProtocolType.Unspecified)).ConfigureAwait(false);
            Volatile.Write(ref _packet, packet);
            return packet;
        }
        finally
        {
            _packetOpening.Release();
        }
    }

    private static async Task<bool> HasAsync(RouteSocket route, int index, VipAddress vip, CancellationToken cancellationToken)
    {
        var found = false;
        Expect(await route.ExchangeAsync(s => RtnetlinkRequest.Addresses(s, vip.IsIPv6), m => found |= m.IsAddress(index, vip), cancellationToken).ConfigureAwait(false));
        return found;
    }

    /// <summary>The index and MAC address of <paramref name="device"/>; ENODEV if there is no such interface.</summary>
    private static async Task<(int Index, byte[] Mac)> LinkAsync(RouteSocket route, string device, CancellationToken cancellationToken)
    {
        if (device.Length is 0 or > NameLimit || device.Contains('\0', StringComparison.Ordinal))
        {
            // Not a name an interface can have, so none has it (the kernel would refuse it as an invalid argument).
            throw new LinkFailure(NoSuchDevice);
        }
        (int, byte[])? link = null;
        Expect(await route.ExchangeAsync(s => RtnetlinkRequest.Link(s, device), m => link = m.Link(), cancellationToken).ConfigureAwait(false));
        return link ?? throw new LinkFailure("the kernel acknowledged the interface's lookup without describing it");
    }

    /// <summary>Runs <paramref name="step"/> with a fresh netlink socket, within <see cref="AnswerLimit"/>; every failure becomes one line.</summary>
    private async Task<T> RunAsync<T>(string action, VipAddress vip, string device, Func<RouteSocket, CancellationToken, Task<T>> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vip);
        ArgumentNullException.ThrowIfNull(device);
        using var limit = new CancellationTokenSource(AnswerLimit, _time);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            using var route = await OpenAsync(RouteSocket.Open).ConfigureAwait(false);
            return await step(route, run.Token).ConfigureAwait(false);
        }
        catch (LinkFailure e)
        {
            throw LinkAddresses.Failure(action, vip, device, e.ErrorNumber is { } errno ? LinkAddresses.Reason(action, device, errno) : e.Message);
        }
        catch (SocketException e)
        {
            // On Linux the native error code is the errno (EPERM from socket(2) for a packet socket without CAP_NET_RAW).
            throw LinkAddresses.Failure(action, vip, device, LinkAddresses.Reason(action, device, e.NativeErrorCode));
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException)
        {
            // The namespace could not be entered (tests only), or the kernel answered something this code cannot read.
            throw LinkAddresses.Failure(action, vip, device, e.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw LinkAddresses.Failure(action, vip, device, $"the kernel did not answer within {AnswerLimit.TotalSeconds:0}s");
        }
    }

    /// <summary>Creates a socket in this instance's namespace: right here for the host's, from a thread inside it for a named one.</summary>
    private Task<TSocket> OpenAsync<TSocket>(Func<TSocket> create) =>
        _namespacePath is null ? Task.FromResult(create()) : NetworkNamespaceThread.CreateInsideAsync(_namespacePath, create);

    /// <summary>Throws for an errno other than 0 and <paramref name="fine"/> (the one that means "already as asked").</summary>
    private static void Expect(int errno, int fine = 0)
    {
        if (errno != 0 && errno != fine)
        {
            throw new LinkFailure(errno);
        }
    }

    /// <summary>A step failed: the kernel's errno, or a cause in words.</summary>
    private sealed class LinkFailure : Exception
    {
        public LinkFailure(int errno) => ErrorNumber = errno;

        public LinkFailure(string message) : base(message)
        {
        }

        public int? ErrorNumber { get; }
    }
}
