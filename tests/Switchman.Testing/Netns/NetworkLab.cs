using System.Globalization;
using System.Text.RegularExpressions;

namespace Switchman.Testing.Netns;

/// <summary>
/// Machines on one LAN, built from network namespaces: a "switch" namespace holding a Linux bridge, one namespace per
/// host cabled to a bridge port by a veth pair (eth0 on the host side, with a TEST-NET-1 address), and an operator's
/// workstation (192.0.2.254) from which the tests' own connections start (see <see cref="NetworkNamespace"/>). Faults
/// are what real machines suffer: <see cref="PowerOffAsync"/> takes a host's switch port down, so the host answers
/// nothing at all — no RST, no ARP — unlike a dead process on loopback, which is refused at once.
/// <para>
/// Only one lab exists at a time in a process; everything it made (its processes, namespaces and links) is removed
/// at dispose, and also when creation fails halfway. Creation first removes leftovers of crashed runs.
/// </para>
/// </summary>
public sealed partial class NetworkLab : IAsyncDisposable
{
    /// <summary>Room for a few clusters and backends; keeps every host address in .11–.250.</summary>
    public const int MaxHosts = 40;

    private const string BridgeName = "br0";
    private const string SwitchRole = "sw";
    private const string OperatorRole = "ops";

    /// <summary>How long a process may take to be replaced by its program after <c>ip netns exec</c>, or to stop or resume.</summary>
    private static readonly TimeSpan ProcessStateTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a second lab waits for the first to be disposed (tests of one collection run one after the other).</summary>
    private static readonly TimeSpan LabWait = TimeSpan.FromMinutes(10);

    private static readonly SemaphoreSlim OneLabAtATime = new(1, 1);

    private readonly Lock _gate = new();
    private readonly List<ChildProcess> _processes = [];
    private readonly Lazy<Task<bool>> _hasNetem;
    private int _disposed;

    private NetworkLab(string id, NetworkNamespace switchNamespace, IReadOnlyList<LabHost> hosts, LabHost operatorHost)
    {
        Id = id;
        Switch = switchNamespace;
        Hosts = hosts;
        Operator = operatorHost;
        _hasNetem = new Lazy<Task<bool>>(ProbeNetemAsync);
    }

    /// <summary>The lab's unique prefix, e.g. swl-4242-1; all its namespaces are named <c>Id-role</c>.</summary>
    public string Id { get; }

    /// <summary>The namespace that holds the bridge and the switch ports.</summary>
    public NetworkNamespace Switch { get; }

    /// <summary>The hosts, in the order they were asked for: 192.0.2.11, .12, …</summary>
    public IReadOnlyList<LabHost> Hosts { get; }

    /// <summary>The operator's workstation, 192.0.2.254: where the tests' own connections and CLI runs start.</summary>
    public LabHost Operator { get; }

    /// <summary>The host called <paramref name="name"/>.</summary>
    public LabHost Host(string name) =>
        Hosts.FirstOrDefault(h => h.Name == name) ?? throw new ArgumentException($"no host '{name}' in lab {Id}", nameof(name));

    /// <summary>
    /// Builds a lab with hosts named <paramref name="hostNames"/> (short: a lowercase letter, then letters or digits, 8
    /// at most). Waits while another lab of this process exists.
    /// </summary>
    /// <exception cref="NetworkLabUnavailableException">Not root, or <c>ip</c> is missing.</exception>
    public static async Task<NetworkLab> CreateAsync(IEnumerable<string> hostNames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hostNames);
        var names = ValidateHostNames(hostNames);
        LabPrerequisites.Check();
        if (!await OneLabAtATime.WaitAsync(LabWait, cancellationToken).ConfigureAwait(false))
        {
            throw new TimeoutException($"Another NetworkLab of this process was not disposed within {LabWait.TotalMinutes} minutes.");
        }
        var id = LabNames.NewLabId();
        try
        {
            await LabJanitor.RemoveLeftoversAsync().ConfigureAwait(false);
            var switchNamespace = await CreateSwitchAsync(id, cancellationToken).ConfigureAwait(false);
            var hosts = new List<LabHost>();
            for (var i = 0; i < names.Count; i++)
            {
                hosts.Add(await CreateHostAsync(id, switchNamespace, names[i], LabAddresses.Host(LabAddresses.FirstHost + i), cancellationToken).ConfigureAwait(false));
            }
            var operatorHost = await CreateHostAsync(id, switchNamespace, OperatorRole, LabAddresses.Operator, cancellationToken).ConfigureAwait(false);
            return new NetworkLab(id, switchNamespace, hosts, operatorHost);
        }
        catch (Exception)
        {
            // Halfway: remove whatever was made (by name, so a step that half-succeeded is covered too), then let the next lab in.
            try
            {
                await LabJanitor.RemoveLabAsync(id).ConfigureAwait(false);
            }
            finally
            {
                OneLabAtATime.Release();
            }
            throw;
        }
    }

    /// <summary>Takes the host's switch port down: nothing reaches it and nothing it sends leaves, as with a machine switched off.</summary>
    public Task PowerOffAsync(LabHost host) => SetSwitchPortAsync(host, "down");

    /// <summary>Brings the host's switch port back up (the bridge forwards at once: it runs no spanning tree).</summary>
    public Task PowerOnAsync(LabHost host) => SetSwitchPortAsync(host, "up");

    /// <summary>
    /// Cuts <paramref name="a"/> and <paramref name="b"/> apart while both stay on the network: each drops what it would
    /// send to the other (a blackhole route), so nothing passes either way and nothing is refused — a broken link
    /// between two racks, or a firewall rule, while both still answer everyone else.
    /// </summary>
    public async Task CutAsync(LabHost a, LabHost b)
    {
        await BlockAsync(a, b).ConfigureAwait(false);
        await BlockAsync(b, a).ConfigureAwait(false);
    }

    /// <summary>Undoes <see cref="CutAsync"/>.</summary>
    public async Task HealAsync(LabHost a, LabHost b)
    {
        await UnblockAsync(a, b).ConfigureAwait(false);
        await UnblockAsync(b, a).ConfigureAwait(false);
    }

    /// <summary><paramref name="from"/> can no longer send to <paramref name="to"/> (its packets are dropped); the other way still works.</summary>
    public async Task BlockAsync(LabHost from, LabHost to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        await IpCommand.RunAsync("-n", from.Namespace.Name, "route", "add", "blackhole", $"{to.Address}/32").ConfigureAwait(false);
    }

    /// <summary>Undoes <see cref="BlockAsync"/>.</summary>
    public async Task UnblockAsync(LabHost from, LabHost to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        await IpCommand.RunAsync("-n", from.Namespace.Name, "route", "del", "blackhole", $"{to.Address}/32").ConfigureAwait(false);
    }

    /// <summary>
    /// Drops a share <paramref name="lossPercent"/> of everything <paramref name="host"/> sends, at random (on its eth0),
    /// replacing any impairment it had. Its cable stays up: a flaky link, not a cut one. Done without <c>sch_netem</c>,
    /// which some kernels lack (the Firecracker kernel these tests run on has no netem): a classic BPF classifier draws a
    /// random number per packet (<c>ld rand</c>) and sends the unlucky ones to a class whose queue is a blackhole.
    /// </summary>
    public async Task DropAsync(LabHost host, double lossPercent)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfNegative(lossPercent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lossPercent, 100);
        await ShapeAsync(host, 0, []).ConfigureAwait(false);
        await TcAsync(host, "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:20", "htb", "rate", "10gbit", "quantum", "60000").ConfigureAwait(false);
        await TcAsync(host, "qdisc", "add", "dev", "eth0", "parent", "1:20", "handle", "20:", "blackhole").ConfigureAwait(false);
        // A = random u32 (SKF_AD_OFF + SKF_AD_RANDOM); A >= threshold: no match (0), else the filter's class (-1).
        var threshold = (ulong)Math.Round(lossPercent / 100 * 4294967296.0);
        var program = $"4,32 0 0 4294963256,53 0 1 {Math.Min(threshold, uint.MaxValue).ToString(CultureInfo.InvariantCulture)},6 0 0 0,6 0 0 4294967295";
        await TcAsync(host, "filter", "add", "dev", "eth0", "parent", "1:", "protocol", "all", "prio", "1", "bpf", "bytecode", program, "classid", "1:20").ConfigureAwait(false);
    }

    /// <summary>
    /// Limits what <paramref name="host"/> sends to <paramref name="towards"/> to <paramref name="kilobitsPerSecond"/>
    /// (HTB, a queue of 200 packets): a slow or congested link, where a burst waits behind the one before it and
    /// packets are lost when the queue is full. Replaces any impairment the host had.
    /// </summary>
    public Task ThrottleAsync(LabHost host, int kilobitsPerSecond, IEnumerable<LabHost> towards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(kilobitsPerSecond, 1);
        ArgumentNullException.ThrowIfNull(towards);
        return ShapeAsync(host, kilobitsPerSecond, [.. towards]);
    }

    /// <summary>
    /// Delays everything <paramref name="host"/> sends by <paramref name="delay"/> ± <paramref name="jitter"/>
    /// (<c>tc netem</c>), replacing any impairment it had.
    /// </summary>
    /// <exception cref="NetworkLabUnavailableException">This kernel has no netem (<see cref="HasNetemAsync"/>).</exception>
    public async Task DelayAsync(LabHost host, TimeSpan delay, TimeSpan jitter)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (!await HasNetemAsync().ConfigureAwait(false))
        {
            throw new NetworkLabUnavailableException("This kernel has no sch_netem: packets cannot be delayed (tc netem).");
        }
        await RepairAsync(host).ConfigureAwait(false);
        await TcAsync(host, "qdisc", "add", "dev", "eth0", "root", "netem", "delay", Milliseconds(delay), Milliseconds(jitter)).ConfigureAwait(false);
    }

    /// <summary>Whether this kernel can delay packets with <c>tc netem</c> (tried once, on the switch's loopback).</summary>
    public Task<bool> HasNetemAsync() => _hasNetem.Value;

    /// <summary>Undoes <see cref="DropAsync"/>, <see cref="ThrottleAsync"/> and <see cref="DelayAsync"/> (nothing happens when the host has none).</summary>
    public async Task RepairAsync(LabHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var result = await IpCommand.TryRunAsync("netns", "exec", host.Namespace.Name, LabPrerequisites.RequireTc(), "qdisc", "del", "dev", "eth0", "root").ConfigureAwait(false);
        // "Cannot delete qdisc with handle of zero" (or ENOENT on older kernels): there was none.
        if (result.ExitCode != 0 && !result.Error.Any(e => e.Contains("handle of zero", StringComparison.Ordinal) || e.Contains("No such file", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"removing the impairment of {host}: {string.Join(" ", result.Error)}");
        }
    }

    /// <summary>An HTB root on the host's eth0 (class 1:10, the default, lets everything through); with a rate, class 1:30 and a filter per destination.</summary>
    private async Task ShapeAsync(LabHost host, int kilobitsPerSecond, IReadOnlyList<LabHost> towards)
    {
        ArgumentNullException.ThrowIfNull(host);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        await RepairAsync(host).ConfigureAwait(false);
        await TcAsync(host, "qdisc", "add", "dev", "eth0", "root", "handle", "1:", "htb", "default", "10").ConfigureAwait(false);
        await TcAsync(host, "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit", "quantum", "60000").ConfigureAwait(false);
        if (kilobitsPerSecond == 0)
        {
            return;
        }
        var rate = kilobitsPerSecond.ToString(CultureInfo.InvariantCulture) + "kbit";
        await TcAsync(host, "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:30", "htb", "rate", rate, "ceil", rate).ConfigureAwait(false);
        await TcAsync(host, "qdisc", "add", "dev", "eth0", "parent", "1:30", "handle", "30:", "pfifo", "limit", "200").ConfigureAwait(false);
        foreach (var other in towards)
        {
            await TcAsync(host, "filter", "add", "dev", "eth0", "parent", "1:", "protocol", "ip", "prio", "2", "u32", "match", "ip", "dst", $"{other.Address}/32", "classid", "1:30").ConfigureAwait(false);
        }
    }

    private static Task<IReadOnlyList<string>> TcAsync(LabHost host, params string[] arguments) =>
        IpCommand.RunAsync(["netns", "exec", host.Namespace.Name, LabPrerequisites.RequireTc(), .. arguments]);

    private async Task<bool> ProbeNetemAsync()
    {
        var added = await IpCommand.TryRunAsync("netns", "exec", Switch.Name, LabPrerequisites.RequireTc(), "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms").ConfigureAwait(false);
        if (added.ExitCode != 0)
        {
            return false;
        }
        await IpCommand.TryRunAsync("netns", "exec", Switch.Name, LabPrerequisites.RequireTc(), "qdisc", "del", "dev", "lo", "root").ConfigureAwait(false);
        return true;
    }

    private static string Milliseconds(TimeSpan span) => ((long)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";

    /// <summary>Options that start a program inside <paramref name="host"/> (<c>ip netns exec</c>, which execs: the PID is the program's).</summary>
    public ChildProcessOptions ProcessOptions(LabHost host, ChildProcessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        // A launcher of the caller's own (setpriv, to drop a capability) runs inside the namespace, before the program.
        return (options ?? new ChildProcessOptions()) with
        {
            Launcher = [LabPrerequisites.RequireIp(), "netns", "exec", host.Namespace.Name, .. options?.Launcher ?? []],
        };
    }

    /// <summary>Starts <paramref name="fileName"/> inside <paramref name="host"/>; the lab kills it at dispose if nobody did before.</summary>
    public async Task<ChildProcess> StartProcessAsync(LabHost host, string fileName, IEnumerable<string> arguments, ChildProcessOptions? options = null)
    {
        var process = ChildProcess.Start(fileName, arguments, ProcessOptions(host, options));
        await AdoptAsync(process, host).ConfigureAwait(false);
        return process;
    }

    /// <summary>Starts <c>switchman &lt;arguments&gt;</c> inside <paramref name="host"/>; the lab kills it at dispose.</summary>
    public async Task<ChildProcess> StartSwitchmanAsync(LabHost host, IEnumerable<string> arguments, ChildProcessOptions? options = null)
    {
        var process = SwitchmanExecutable.Start(arguments, ProcessOptions(host, options));
        await AdoptAsync(process, host).ConfigureAwait(false);
        return process;
    }

    /// <summary>Starts a demo backend listening on <paramref name="host"/>:<paramref name="port"/>; the lab kills it at dispose.</summary>
    public async Task<DemoBackendProcess> StartDemoBackendAsync(LabHost host, string name, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var backend = await DemoBackendProcess.StartAsync(name, new DemoBackendProcessOptions
        {
            Listen = host.HostPort(port),
            Process = ProcessOptions(host, new ChildProcessOptions { DisplayName = $"demo-backend {name} on {host.Name}" }),
        }, cancellationToken).ConfigureAwait(false);
        await AdoptAsync(backend.Process, host).ConfigureAwait(false);
        return backend;
    }

    /// <summary>SIGSTOP to a process this lab started, and waits until the kernel shows all its threads stopped: a paused VM, a long stall.</summary>
    public Task FreezeAsync(int pid) => RequireOwn(pid).FreezeAsync();

    /// <summary>SIGCONT to a process this lab started, and waits until it runs again.</summary>
    public Task ThawAsync(int pid) => RequireOwn(pid).ThawAsync();

    /// <summary>Kills every process the lab started, then removes every namespace (and so every link) it made.</summary>
    /// <exception cref="AggregateException">Something could not be removed: a leak that the next lab's creation will retry.</exception>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        try
        {
            List<ChildProcess> processes;
            lock (_gate)
            {
                processes = [.. _processes];
            }
            foreach (var process in processes)
            {
                await process.DisposeAsync().ConfigureAwait(false);
            }
            await LabJanitor.RemoveLabAsync(Id).ConfigureAwait(false);
        }
        finally
        {
            OneLabAtATime.Release();
        }
    }

    private static List<string> ValidateHostNames(IEnumerable<string> hostNames)
    {
        var names = hostNames.ToList();
        if (names.Count is 0 or > MaxHosts)
        {
            throw new ArgumentException($"a lab has 1 to {MaxHosts} hosts, not {names.Count}", nameof(hostNames));
        }
        foreach (var name in names)
        {
            if (!HostName().IsMatch(name) || name is SwitchRole or OperatorRole)
            {
                throw new ArgumentException(
                    $"host name '{name}': a lowercase letter then letters or digits, 8 at most, not '{SwitchRole}' or '{OperatorRole}'", nameof(hostNames));
            }
        }
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
        {
            throw new ArgumentException($"host names must be unique: {string.Join(", ", names)}", nameof(hostNames));
        }
        return names;
    }

    private static async Task<NetworkNamespace> CreateSwitchAsync(string labId, CancellationToken cancellationToken)
    {
        var switchNamespace = new NetworkNamespace($"{labId}-{SwitchRole}");
        await IpCommand.RunAsync("netns", "add", switchNamespace.Name).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        await IpCommand.RunAsync("-n", switchNamespace.Name, "link", "set", "lo", "up").ConfigureAwait(false);
        // No spanning tree (the default): a port forwards the moment it is up, so power-on is immediate.
        await IpCommand.RunAsync("-n", switchNamespace.Name, "link", "add", BridgeName, "type", "bridge").ConfigureAwait(false);
        await IpCommand.RunAsync("-n", switchNamespace.Name, "link", "set", BridgeName, "up").ConfigureAwait(false);
        return switchNamespace;
    }

    private static async Task<LabHost> CreateHostAsync(
        string labId, NetworkNamespace switchNamespace, string name, System.Net.IPAddress address, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var hostNamespace = new NetworkNamespace($"{labId}-{name}");
        var port = "p-" + name;
        var sw = switchNamespace.Name;
        await IpCommand.RunAsync("netns", "add", hostNamespace.Name).ConfigureAwait(false);
        await IpCommand.RunAsync("-n", hostNamespace.Name, "link", "set", "lo", "up").ConfigureAwait(false);
        // The pair is made inside the switch's namespace with its other end sent straight into the host's, so no
        // interface ever appears in the machine's own namespace, where names could collide.
        await IpCommand.RunAsync("-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", hostNamespace.Name).ConfigureAwait(false);
        await IpCommand.RunAsync("-n", sw, "link", "set", port, "master", BridgeName).ConfigureAwait(false);
        await IpCommand.RunAsync("-n", sw, "link", "set", port, "up").ConfigureAwait(false);
        await IpCommand.RunAsync("-n", hostNamespace.Name, "addr", "add", $"{address}/{LabAddresses.PrefixLength}", "dev", "eth0").ConfigureAwait(false);
        await IpCommand.RunAsync("-n", hostNamespace.Name, "link", "set", "eth0", "up").ConfigureAwait(false);
        return new LabHost(name, hostNamespace, address, port);
    }

    private async Task SetSwitchPortAsync(LabHost host, string state)
    {
        ArgumentNullException.ThrowIfNull(host);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        await IpCommand.RunAsync("-n", Switch.Name, "link", "set", host.SwitchPort, state).ConfigureAwait(false);
    }

    /// <summary>Takes ownership (killed at dispose), then checks that the PID is the program's and runs in the host's namespace.</summary>
    private async Task AdoptAsync(ChildProcess process, LabHost host)
    {
        lock (_gate)
        {
            _processes.Add(process);
        }
        await ProcessPlacement.VerifyAsync(process, host.Namespace, ProcessStateTimeout).ConfigureAwait(false);
    }

    private ChildProcess RequireOwn(int pid)
    {
        lock (_gate)
        {
            return _processes.FirstOrDefault(p => p.Pid == pid && !p.HasExited)
                ?? throw new InvalidOperationException($"pid {pid} is not a running process of lab {Id}: the lab only signals processes it started");
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9]{0,7}$")]
    private static partial Regex HostName();
}
