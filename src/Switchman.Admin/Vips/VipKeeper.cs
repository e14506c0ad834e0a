using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Cluster;
using Switchman.Core.Configuration;
using Switchman.Vips;

namespace Switchman.Admin.Vips;

/// <summary>
/// Puts this node's VIPs on its interfaces while it may hold them, and takes them off the moment it may not. In this
/// first version the VIPs follow the leader: a cluster's leader holds every VIP while its leader lease (confirmed by a
/// majority; see <see cref="ClusterNode.HoldsLeaderLease"/>) is live, so it has dropped them before any other node can be elected, and a
/// new leader takes them at once (docs/design/vips.md). A node alone holds its VIPs; a witness never does.
/// Wakes when the lease ends and at least every 10 ms; releases first when the node stops, then the listeners stop.
/// </summary>
public sealed class VipKeeper : IHostedService, IAsyncDisposable
{
    public const string MeterName = "Switchman.Vips";

    /// <summary>When, after taking a VIP, a gratuitous ARP announces it: at once, and again soon after, because a neighbour
    /// may ignore one that arrives while its entry is locked (neigh locktime, 1 s by default), as keepalived repeats them.</summary>
    private static readonly TimeSpan[] AnnounceAt = [TimeSpan.Zero, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(1200), TimeSpan.FromSeconds(3)];

    private readonly ConfigStore _store;
    private readonly LinkAddresses _addresses;
    private readonly NodeEvents _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ClusterNode? _node;
    private readonly Counter<long> _acquisitions;
    private readonly Dictionary<string, HeldVip> _held = new(StringComparer.Ordinal);

    /// <summary>What this node holds, for the metrics reader (another thread); replaced whole after each change.</summary>
    private volatile IReadOnlySet<string> _heldNames = new HashSet<string>(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _lastError = new(StringComparer.Ordinal);
    private readonly List<Task> _announcing = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly System.Threading.Channels.Channel<bool> _wake = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
    private CancellationTokenRegistration _leaseEnd;
    private Task? _loop;

    /// <summary>How often the keeper looks whether it may hold the VIPs (it is also woken the moment DotNext's lease ends):
    /// well inside the half election timeout that separates the end of the lease from the earliest new leader.</summary>
    private static readonly TimeSpan CheckEvery = TimeSpan.FromMilliseconds(10);

    /// <summary>Without a VIP to keep, a look a second is enough to notice that one was configured.</summary>
    private static readonly TimeSpan IdleCheckEvery = TimeSpan.FromSeconds(1);

    /// <param name="node">The cluster member; null on a node alone.</param>
    public VipKeeper(
        ConfigStore store, LinkAddresses addresses, NodeEvents events, TimeProvider time, ILogger<VipKeeper> logger, IMeterFactory meterFactory,
        ClusterNode? node = null)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _store = store;
        _addresses = addresses;
        _events = events;
        _time = time;
        _logger = logger;
        _node = node;
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("switchman.vip.held", HeldMeasurements, "{vip}", "1 for each configured VIP this node holds now, 0 for the others.");
        _acquisitions = meter.CreateCounter<long>("switchman.vip.acquisitions", "{acquisition}", "How many times this node took a VIP.");
    }

    private bool _anyConfigured;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // An address left on an interface by a previous run that crashed: not ours until the lease says so.
        foreach (var (vip, address) in Configured())
        {
            await TryAsync(vip.Name, "remove a leftover of", () => _addresses.RemoveAsync(address, vip.Interface, cancellationToken)).ConfigureAwait(false);
        }
        _loop = RunAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        foreach (var name in _held.Keys.ToList())
        {
            await ReleaseAsync(name, "node stopping", cancellationToken).ConfigureAwait(false);
        }
        await Task.WhenAll(_announcing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await ReconcileAsync(stopping).ConfigureAwait(false);
                using var tick = new CancellationTokenSource(_anyConfigured ? CheckEvery : IdleCheckEvery, _time);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(tick.Token, stopping);
                try
                {
                    await _wake.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (tick.IsCancellationRequested && !stopping.IsCancellationRequested)
                {
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            _leaseEnd.Dispose();
        }
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var configured = Configured().ToDictionary(v => v.Vip.Name, StringComparer.Ordinal);
        _anyConfigured = configured.Count > 0 || _held.Count > 0;
        var lease = _node is null ? CancellationToken.None : _node.Role == ClusterRole.Witness ? new CancellationToken(canceled: true) : _node.LeaderLeaseToken;
        var mayHold = _node is null || (!lease.IsCancellationRequested && _node.HoldsLeaderLease());
        if (mayHold && configured.Count > 0 && lease.CanBeCanceled)
        {
            // Woken the moment the lease ends, not at the next check: the VIP must be gone before another node can lead.
            _leaseEnd.Dispose();
            _leaseEnd = lease.Register(static state => ((System.Threading.Channels.Channel<bool>)state!).Writer.TryWrite(true), _wake);
        }
        foreach (var name in _held.Keys.ToList())
        {
            if (!mayHold || !configured.TryGetValue(name, out var now) || now.Address != _held[name].Address || now.Vip.Interface != _held[name].Interface)
            {
                await ReleaseAsync(name, !mayHold ? "lease lost" : "configuration changed", cancellationToken).ConfigureAwait(false);
            }
        }
        if (!mayHold)
        {
            return;
        }
        foreach (var (name, (vip, address)) in configured.Where(c => !_held.ContainsKey(c.Key)))
        {
            if (await TryAsync(vip.Name, "add", () => _addresses.AddAsync(address, vip.Interface, cancellationToken)).ConfigureAwait(false))
            {
                _held[name] = new HeldVip(address, vip.Interface, _time.GetUtcNow());
                _heldNames = _held.Keys.ToHashSet(StringComparer.Ordinal);
                _acquisitions.Add(1, new KeyValuePair<string, object?>("vip", name));
                VipLog.Acquired(_logger, name, address.ToString(), vip.Interface);
                _events.Publish("vip_acquired", $"VIP {name} ({address}) taken on {vip.Interface}",
                    new Dictionary<string, object?> { ["vip"] = name, ["address"] = address.ToString(), ["node"] = _node?.NodeId, ["reason"] = _node is null ? "alone" : "leader" });
                Announce(vip, address);
            }
        }
    }

    private async Task ReleaseAsync(string name, string reason, CancellationToken cancellationToken)
    {
        var held = _held[name];
        _held.Remove(name);
        _heldNames = _held.Keys.ToHashSet(StringComparer.Ordinal);
        await TryAsync(name, "remove", () => _addresses.RemoveAsync(held.Address, held.Interface, cancellationToken)).ConfigureAwait(false);
        VipLog.Released(_logger, name, held.Address.ToString(), reason);
        _events.Publish("vip_released", $"VIP {name} ({held.Address}) released: {reason}",
            new Dictionary<string, object?> { ["vip"] = name, ["address"] = held.Address.ToString(), ["node"] = _node?.NodeId, ["reason"] = reason });
    }

    /// <summary>Announces in the background (each arping takes a second); owned here and awaited at stop.</summary>
    private void Announce(VipConfig vip, VipAddress address)
    {
        _announcing.RemoveAll(t => t.IsCompleted);
        foreach (var delay in AnnounceAt)
        {
            _announcing.Add(AnnounceLaterAsync(vip, address, delay));
        }
    }

    private async Task AnnounceLaterAsync(VipConfig vip, VipAddress address, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        if (_held.ContainsKey(vip.Name))
        {
            await TryAsync(vip.Name, "announce", () => _addresses.AnnounceAsync(address, vip.Interface, count: 1, _stopping.Token)).ConfigureAwait(false);
        }
    }

    /// <summary>Runs one step; a failure is logged once per VIP and message (not every tick) and the node goes on serving.</summary>
    private async Task<bool> TryAsync(string vip, string action, Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
            _lastError.TryRemove(vip + action, out _);
            return true;
        }
        catch (VipHostException e)
        {
            if (!_lastError.TryGetValue(vip + action, out var last) || last != e.Message)
            {
                _lastError[vip + action] = e.Message;
                VipLog.Failed(_logger, vip, e.Message);
                _events.Publish("vip_failed", $"VIP {vip}: {e.Message}",
                    new Dictionary<string, object?> { ["vip"] = vip, ["action"] = action, ["error"] = e.Message });
            }
            return false;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return false;
        }
    }

    private IEnumerable<Measurement<int>> HeldMeasurements()
    {
        var held = _heldNames;
        return _store.Current.Config.Vips.Select(v => new Measurement<int>(held.Contains(v.Name) ? 1 : 0, new KeyValuePair<string, object?>("vip", v.Name)));
    }

    private IEnumerable<(VipConfig Vip, VipAddress Address)> Configured()
    {
        foreach (var vip in _store.Current.Config.Vips)
        {
            if (VipAddress.TryParse(vip.Address, out var address, out _))
            {
                yield return (vip, address!);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _leaseEnd.Dispose();
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed record HeldVip(VipAddress Address, string Interface, DateTimeOffset Since);
}

internal static partial class VipLog
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "VIP {Vip} ({Address}) taken on {Interface}")]
    public static partial void Acquired(ILogger logger, string vip, string address, string @interface);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "VIP {Vip} ({Address}) released: {Reason}")]
    public static partial void Released(ILogger logger, string vip, string address, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Error, Message = "VIP {Vip}: {Error}")]
    public static partial void Failed(ILogger logger, string vip, string error);
}
