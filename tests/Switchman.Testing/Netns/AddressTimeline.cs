using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Switchman.Vips;

namespace Switchman.Testing.Netns;

/// <summary>
/// Every address added to or removed from any host of a <see cref="NetworkLab"/>, <b>in the order the kernel made the
/// changes</b>, and who held each watched address (a VIP) after each change: two hosts holding one is an overlap, with
/// the changes that began and ended it as evidence.
/// <para>
/// Why not poll each host's addresses: a poll reads the hosts one after the other, so a VIP that moves from n1 to n2
/// between the read of n1 and the read of n2 is seen on both although it never was (a false split brain, likelier the
/// busier the machine), and an overlap shorter than a poll round is missed. Here one netlink socket, in the lab's
/// switch namespace, listens to the address notifications of every namespace that has an id there
/// (NETLINK_LISTEN_ALL_NSID; the control message of each tells which host it came from). The kernel makes every
/// address change under one global lock (RTNL) and queues its notification on this socket while it holds it, so the
/// socket's order is the real order of the changes across all hosts: the set of holders after each change is exact,
/// not sampled. Receive times are only for the reader (the thread reads them late when the machine is busy).
/// </para>
/// The timeline is seeded from a dump of every host taken while no change happened; a notification the kernel had to
/// drop (its receive buffer full: ENOBUFS) is counted in <see cref="LostNotifications"/>, and any answer is void then.
/// </summary>
public sealed partial class AddressTimeline : IDisposable
{
    private const ushort NewAddress = 20; // RTM_NEWADDR
    private const ushort DeleteAddress = 21; // RTM_DELADDR
    private const ushort GetAddress = 22; // RTM_GETADDR
    private const ushort Done = 3; // NLMSG_DONE
    private const ushort Error = 2; // NLMSG_ERROR
    private const int HeaderSize = 16;
    private const int AddressHeaderSize = 8;

    /// <summary>How long the reader blocks before it looks whether it should stop.</summary>
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromMilliseconds(200);

    private readonly int _socket;
    private readonly IReadOnlyDictionary<int, string> _hostByNsid;
    private readonly IReadOnlyDictionary<string, NetworkNamespace> _namespaces;
    private readonly HashSet<IPAddress> _watched;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, SortedSet<string>> _holders = [];
    private readonly Dictionary<IPAddress, int> _mostAtOnce = [];
    private readonly List<Change> _changes = [];
    private readonly List<Overlap> _overlaps = [];
    private readonly Thread _reader;
    private volatile bool _stopping;
    private long _number;
    private int _lost;
    private int _disposed;
    private string? _readerError;

    private AddressTimeline(int socket, IReadOnlyDictionary<int, string> hostByNsid, IReadOnlyDictionary<string, NetworkNamespace> namespaces, IEnumerable<IPAddress> watched)
    {
        _socket = socket;
        _hostByNsid = hostByNsid;
        _namespaces = namespaces;
        _watched = [.. watched];
        _reader = new Thread(Read) { IsBackground = true, Name = "address timeline" };
    }

    /// <summary>One address change as the kernel made it: its place in the order (<see cref="Number"/>), the host, added or removed.</summary>
    /// <param name="At">When this reader received it, on <see cref="Now"/>'s clock (late, never early).</param>
    public sealed record Change(long Number, TimeSpan At, string Host, bool Added, IPAddress Address, int PrefixLength)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"#{Number} (read at {At.TotalMilliseconds:0.0} ms) {Host} {(Added ? "added" : "removed")} {Address}/{PrefixLength}");
    }

    /// <summary>A watched address on more than one host at once, from the change that made it so until the one that ended it.</summary>
    public sealed record Overlap(IPAddress Address, IReadOnlyList<string> Holders, Change Began, Change? Ended)
    {
        public override string ToString() =>
            $"{Address} on {string.Join(" and ", Holders)} at once: from {Began} until {(Ended is null ? "the end of the timeline" : Ended.ToString())}";
    }

    /// <summary>Starts watching every host of <paramref name="lab"/> (its operator included); overlaps are judged for <paramref name="watched"/> only.</summary>
    public static async Task<AddressTimeline> StartAsync(NetworkLab lab, IEnumerable<IPAddress> watched)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(watched);
        var hosts = lab.Hosts.Append(lab.Operator).ToList();
        // The switch's namespace gave each host's namespace an id when their cable (a veth pair) was made; "auto" covers one that has none.
        foreach (var host in hosts)
        {
            await IpCommand.TryRunAsync("-n", lab.Switch.Name, "netns", "set", host.Namespace.Name, "auto").ConfigureAwait(false);
        }
        var byName = hosts.ToDictionary(h => h.Namespace.Name, h => h.Name, StringComparer.Ordinal);
        var hostByNsid = new Dictionary<int, string>();
        foreach (var line in await IpCommand.RunAsync("-n", lab.Switch.Name, "netns", "list-id").ConfigureAwait(false))
        {
            if (NsidLine().Match(line) is { Success: true } match && byName.TryGetValue(match.Groups[2].Value, out var host))
            {
                hostByNsid[int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)] = host;
            }
        }
        var missing = hosts.Where(h => !hostByNsid.ContainsValue(h.Name)).Select(h => h.Name).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"no namespace id in {lab.Switch.Name} for {string.Join(", ", missing)}: their address changes cannot be heard there");
        }

        var socket = await NetworkNamespaceThread.CreateInsideAsync(lab.Switch.Path, OpenListener).ConfigureAwait(false);
        var timeline = new AddressTimeline(socket, hostByNsid, hosts.ToDictionary(h => h.Name, h => h.Namespace, StringComparer.Ordinal), watched);
        try
        {
            await timeline.SeedAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            timeline.Dispose();
            throw;
        }
        timeline._reader.Start();
        return timeline;
    }

    /// <summary>When the timeline's clock started, on the wall clock (to compare with the nodes' logs).</summary>
    public DateTimeOffset StartedAt { get; } = TimeProvider.System.GetUtcNow();

    /// <summary>Time on the timeline's clock (what <see cref="Change.At"/> is measured on).</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>Notifications the kernel dropped (its buffer for this socket was full): when not 0, the timeline is incomplete.</summary>
    public int LostNotifications => Volatile.Read(ref _lost);

    /// <summary>How many changes of any address the timeline holds.</summary>
    public long ChangeCount => Interlocked.Read(ref _number);

    /// <summary>Every overlap of a watched address so far.</summary>
    public IReadOnlyList<Overlap> Overlaps
    {
        get
        {
            lock (_gate)
            {
                return [.. _overlaps];
            }
        }
    }

    /// <summary>The most hosts that held <paramref name="address"/> at once (1 is right; 2 is split brain).</summary>
    public int MostAtOnce(IPAddress address)
    {
        lock (_gate)
        {
            return _mostAtOnce.GetValueOrDefault(address);
        }
    }

    /// <summary>The most hosts that held any one watched address at once.</summary>
    public int MostAtOnce()
    {
        lock (_gate)
        {
            return _mostAtOnce.Values.DefaultIfEmpty(0).Max();
        }
    }

    /// <summary>The hosts that hold <paramref name="address"/> now, as the timeline has it.</summary>
    public IReadOnlyList<string> Holders(IPAddress address)
    {
        lock (_gate)
        {
            return _holders.TryGetValue(address, out var holders) ? [.. holders] : [];
        }
    }

    /// <summary>The changes of the watched addresses (all of them, or those of <paramref name="address"/>), in the kernel's order.</summary>
    public IReadOnlyList<Change> Changes(IPAddress? address = null)
    {
        lock (_gate)
        {
            return [.. _changes.Where(c => address is null ? _watched.Contains(c.Address) : c.Address.Equals(address))];
        }
    }

    /// <summary>The reader's failure, if it stopped on one (then the timeline ends there).</summary>
    public string? ReaderError => Volatile.Read(ref _readerError);

    /// <summary>
    /// Compares the timeline with a dump of every host, for a moment when nothing changes: the hosts whose watched
    /// addresses differ, one line each (none: the timeline missed nothing).
    /// </summary>
    public async Task<IReadOnlyList<string>> VerifyAsync()
    {
        var differences = new List<string>();
        foreach (var (host, ns) in _namespaces)
        {
            var actual = (await DumpAsync(ns).ConfigureAwait(false)).Select(a => a.Address).Where(_watched.Contains).ToHashSet();
            HashSet<IPAddress> expected;
            lock (_gate)
            {
                expected = [.. _holders.Where(h => h.Value.Contains(host) && _watched.Contains(h.Key)).Select(h => h.Key)];
            }
            if (!actual.SetEquals(expected))
            {
                differences.Add($"{host}: has [{string.Join(", ", actual)}], the timeline says [{string.Join(", ", expected)}]");
            }
        }
        return differences;
    }

    /// <summary>The changes of the watched addresses (the last <paramref name="last"/>), the overlaps, and the counts.</summary>
    public string Describe(int last = 60)
    {
        lock (_gate)
        {
            var watchedChanges = _changes.Where(c => _watched.Contains(c.Address)).ToList();
            var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"address timeline (kernel order; read times from {StartedAt:O}; {watchedChanges.Count} changes of watched addresses, last {Math.Min(last, watchedChanges.Count)}):\n");
            foreach (var change in watchedChanges.TakeLast(last))
            {
                text.Append("  ").Append(change).Append('\n');
            }
            foreach (var overlap in _overlaps.Take(20))
            {
                text.Append("  OVERLAP: ").Append(overlap).Append('\n');
            }
            text.Append(CultureInfo.InvariantCulture, $"  {_number} changes in all, {_lost} notifications lost");
            if (_readerError is { } error)
            {
                text.Append(CultureInfo.InvariantCulture, $", reader stopped: {error}");
            }
            return text.ToString();
        }
    }

    /// <summary>Stops the reader and closes the socket. Safe to call twice.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _stopping = true;
        if (_reader.IsAlive)
        {
            _reader.Join();
        }
        NetlinkNative.Close(_socket);
    }

    private static int OpenListener()
    {
        var socket = NetlinkNative.Socket(NetlinkNative.AddressFamilyNetlink, NetlinkNative.SocketRawCloseOnExec, NetlinkNative.NetlinkRoute);
        if (socket < 0)
        {
            throw new InvalidOperationException($"netlink socket: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        try
        {
            NetlinkNative.BindToAnyPort(socket);
            NetlinkNative.SetInt(socket, NetlinkNative.SolSocket, NetlinkNative.SoReceiveBufferForce, 8 * 1024 * 1024);
            NetlinkNative.SetInt(socket, NetlinkNative.SolNetlink, NetlinkNative.NetlinkListenAllNsid, 1);
            NetlinkNative.SetInt(socket, NetlinkNative.SolNetlink, NetlinkNative.NetlinkAddMembership, NetlinkNative.GroupIPv4Addresses);
            NetlinkNative.SetInt(socket, NetlinkNative.SolNetlink, NetlinkNative.NetlinkAddMembership, NetlinkNative.GroupIPv6Addresses);
            NetlinkNative.SetTimeout(socket, ReadTimeout);
            return socket;
        }
        catch (Exception)
        {
            NetlinkNative.Close(socket);
            throw;
        }
    }

    /// <summary>
    /// The holders as of now, from a dump of every host, taken again until no notification arrived while it was taken
    /// (so no change fell between the dump and the first notification the reader will apply).
    /// </summary>
    private async Task SeedAsync()
    {
        var buffer = new byte[64 * 1024];
        for (var attempt = 0; attempt < 50; attempt++)
        {
            while (ReceiveOne(buffer, NetlinkNative.MessageDontWait, out _) > 0)
            {
                // Changes made before the dump: the dump has them.
            }
            var state = new Dictionary<string, List<(IPAddress Address, int PrefixLength)>>(StringComparer.Ordinal);
            foreach (var (host, ns) in _namespaces)
            {
                state[host] = await DumpAsync(ns).ConfigureAwait(false);
            }
            if (ReceiveOne(buffer, NetlinkNative.MessageDontWait, out _) > 0)
            {
                continue;
            }
            lock (_gate)
            {
                foreach (var (host, addresses) in state)
                {
                    foreach (var (address, _) in addresses)
                    {
                        Hold(address).Add(host);
                    }
                }
                foreach (var (address, holders) in _holders.Where(h => _watched.Contains(h.Key)))
                {
                    _mostAtOnce[address] = holders.Count;
                    if (holders.Count > 1)
                    {
                        _overlaps.Add(new Overlap(address, [.. holders], new Change(0, Now, string.Join("+", holders), true, address, 0), null));
                    }
                }
            }
            return;
        }
        throw new InvalidOperationException("the lab's addresses kept changing while they were being read: no quiet moment to start the timeline in 50 tries");
    }

    private SortedSet<string> Hold(IPAddress address)
    {
        if (!_holders.TryGetValue(address, out var holders))
        {
            holders = new SortedSet<string>(StringComparer.Ordinal);
            _holders[address] = holders;
        }
        return holders;
    }

    private void Read()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (!_stopping)
            {
                var received = ReceiveOne(buffer, 0, out var nsid);
                if (received <= 0)
                {
                    continue;
                }
                var at = Now;
                if (nsid is not { } id || !_hostByNsid.TryGetValue(id, out var host))
                {
                    // The switch's own namespace (no id), or a namespace that is not one of the lab's hosts.
                    continue;
                }
                foreach (var (type, payload) in Messages(buffer.AsSpan(0, received)))
                {
                    if (type is NewAddress or DeleteAddress && ParseAddress(payload) is { } address)
                    {
                        Apply(at, host, type == NewAddress, address.Address, address.PrefixLength);
                    }
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException)
        {
            Volatile.Write(ref _readerError, e.Message);
        }
    }

    private void Apply(TimeSpan at, string host, bool added, IPAddress address, int prefixLength)
    {
        lock (_gate)
        {
            var change = new Change(Interlocked.Increment(ref _number), at, host, added, address, prefixLength);
            var holders = Hold(address);
            var before = holders.Count;
            if (added)
            {
                holders.Add(host);
            }
            else
            {
                holders.Remove(host);
            }
            if (!_watched.Contains(address))
            {
                return;
            }
            _changes.Add(change);
            _mostAtOnce[address] = Math.Max(_mostAtOnce.GetValueOrDefault(address), holders.Count);
            var open = _overlaps.FindIndex(o => o.Address.Equals(address) && o.Ended is null);
            if (open >= 0 && holders.Count <= 1)
            {
                _overlaps[open] = _overlaps[open] with { Ended = change };
            }
            else if (holders.Count > 1 && holders.Count > before)
            {
                if (open >= 0)
                {
                    _overlaps[open] = _overlaps[open] with { Ended = change };
                }
                _overlaps.Add(new Overlap(address, [.. holders], change, null));
            }
        }
    }

    /// <summary>One datagram (blocking up to the read timeout, or not at all); its length (0 when none), and the namespace id it came from.</summary>
    private unsafe int ReceiveOne(byte[] buffer, int flags, out int? nsid)
    {
        nsid = null;
        var control = stackalloc byte[64];
        fixed (byte* data = buffer)
        {
            var vector = new NetlinkNative.IoVector { Base = data, Length = (nuint)buffer.Length };
            var header = new NetlinkNative.MessageHeader { Vectors = &vector, VectorCount = 1, Control = control, ControlLength = 64 };
            var received = NetlinkNative.ReceiveMessage(_socket, &header, flags);
            if (received < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == NetlinkNative.ErrorNoBuffers)
                {
                    Interlocked.Increment(ref _lost);
                    return 0;
                }
                if (errno is NetlinkNative.ErrorAgain or NetlinkNative.ErrorInterrupted)
                {
                    return 0;
                }
                throw new InvalidOperationException($"recvmsg on the address timeline's socket: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
            // struct cmsghdr: size_t len, int level, int type, then the data (an int: the namespace id), each aligned to 8.
            var offset = 0;
            var length = (int)header.ControlLength;
            while (offset + 16 <= length)
            {
                var cmsgLength = (int)*(ulong*)(control + offset);
                var level = *(int*)(control + offset + 8);
                var type = *(int*)(control + offset + 12);
                if (cmsgLength < 16)
                {
                    break;
                }
                if (level == NetlinkNative.SolNetlink && type == NetlinkNative.NetlinkListenAllNsid && cmsgLength >= 20)
                {
                    nsid = *(int*)(control + offset + 16);
                }
                offset += (cmsgLength + 7) & ~7;
            }
            return (int)received;
        }
    }

    /// <summary>The addresses of every interface of <paramref name="ns"/> (an RTM_GETADDR dump from a socket made inside it).</summary>
    private static async Task<List<(IPAddress Address, int PrefixLength)>> DumpAsync(NetworkNamespace ns)
    {
        var descriptor = await NetworkNamespaceThread.CreateInsideAsync(ns.Path,
            () => NetlinkNative.Socket(NetlinkNative.AddressFamilyNetlink, NetlinkNative.SocketRawCloseOnExec, NetlinkNative.NetlinkRoute)).ConfigureAwait(false);
        if (descriptor < 0)
        {
            throw new InvalidOperationException($"netlink socket in {ns}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        using var socket = new Socket(new SafeSocketHandle(descriptor, ownsHandle: true));
        var request = new byte[HeaderSize + AddressHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(4), GetAddress);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(6), 0x1 | 0x300); // NLM_F_REQUEST | NLM_F_DUMP
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), 1);
        // ifaddrmsg all zero: every family.
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await socket.SendAsync(request, SocketFlags.None, limit.Token).ConfigureAwait(false);
        var found = new List<(IPAddress, int)>();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token).ConfigureAwait(false);
            foreach (var (type, payload) in Messages(buffer.AsSpan(0, received)))
            {
                if (type == Done)
                {
                    return found;
                }
                if (type == Error)
                {
                    throw new InvalidOperationException($"the address dump of {ns} failed: errno {-BinaryPrimitives.ReadInt32LittleEndian(payload)}");
                }
                if (type == NewAddress && ParseAddress(payload) is { } address)
                {
                    found.Add(address);
                }
            }
        }
    }

    private static List<(ushort Type, byte[] Payload)> Messages(ReadOnlySpan<byte> datagram)
    {
        var messages = new List<(ushort, byte[])>();
        while (datagram.Length >= HeaderSize)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            if (length < HeaderSize || length > datagram.Length)
            {
                break;
            }
            messages.Add((BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]), datagram[HeaderSize..length].ToArray()));
            datagram = datagram[Math.Min((length + 3) & ~3, datagram.Length)..];
        }
        return messages;
    }

    /// <summary>An ifaddrmsg and its attributes: IFA_LOCAL when present (IPv4), else IFA_ADDRESS (IPv6), as iproute2 reads them.</summary>
    private static (IPAddress Address, int PrefixLength)? ParseAddress(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < AddressHeaderSize)
        {
            return null;
        }
        int prefixLength = payload[1];
        var attributes = payload[AddressHeaderSize..];
        byte[]? local = null;
        byte[]? address = null;
        while (attributes.Length >= 4)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            if (length < 4 || length > attributes.Length)
            {
                break;
            }
            var type = BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3FFF;
            if (type == 2)
            {
                local = attributes[4..length].ToArray();
            }
            else if (type == 1)
            {
                address = attributes[4..length].ToArray();
            }
            attributes = attributes[Math.Min((length + 3) & ~3, attributes.Length)..];
        }
        return (local ?? address) is { Length: 4 or 16 } bytes ? (new IPAddress(bytes), prefixLength) : null;
    }

    [GeneratedRegex(@"^nsid (\d+) .*name: ([^ )]+)\)")]
    private static partial Regex NsidLine();
}
