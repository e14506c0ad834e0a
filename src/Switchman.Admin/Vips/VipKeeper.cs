using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Cluster;
using Switchman.Core.Configuration;
using Switchman.Vips;

namespace Switchman.Admin.Vips;

/// <summary>
/// Puts this node's VIPs on its interfaces while it may hold them, and takes them off the moment it may not. In this
/// first version the VIPs follow the leader: a cluster's leader holds every VIP while it holds its leader lease (a
/// majority heard from within ¾ of the election timeout), so it has dropped them before any other node can be elected,
/// and a new leader takes them at once (docs/design/vips.md). A node alone holds its VIPs; a witness never does.
/// Checks every quarter of the lease; releases first when the node stops, then the listeners stop.
/// </summary>
public sealed class VipKeeper(ConfigStore store, LinkAddresses addresses, NodeEvents events, TimeProvider time, ILogger<VipKeeper> logger, ClusterNode? node = null)
    : IHostedService, IAsyncDisposable
{
    /// <summary>How many gratuitous ARP packets announce a VIP just taken (one a second; the first at once).</summary>
    private const int Announcements = 3;

    private readonly Dictionary<string, HeldVip> _held = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _lastError = new(StringComparer.Ordinal);
    private readonly List<Task> _announcing = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    private TimeSpan Lease => node is null ? TimeSpan.MaxValue : node.ElectionTimeoutMin * 3 / 4;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // An address left on an interface by a previous run that crashed: not ours until the lease says so.
        foreach (var (vip, address) in Configured())
        {
            await TryAsync(vip, "remove a leftover of", () => addresses.RemoveAsync(address, vip.Interface, cancellationToken)).ConfigureAwait(false);
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
        using var timer = new PeriodicTimer(node is null ? TimeSpan.FromSeconds(1) : Lease / 4, time);
        try
        {
            do
            {
                await ReconcileAsync(stopping).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var configured = Configured().ToDictionary(v => v.Vip.Name, StringComparer.Ordinal);
        var mayHold = node is null || (node.Role != ClusterRole.Witness && node.HoldsLeaderLease(Lease));
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
            if (await TryAsync(vip, "add", () => addresses.AddAsync(address, vip.Interface, cancellationToken)).ConfigureAwait(false))
            {
                _held[name] = new HeldVip(address, vip.Interface, time.GetUtcNow());
                VipLog.Acquired(logger, name, address.ToString(), vip.Interface);
                events.Publish("vip_acquired", $"VIP {name} ({address}) taken on {vip.Interface}",
                    new Dictionary<string, object?> { ["vip"] = name, ["address"] = address.ToString(), ["node"] = node?.NodeId, ["reason"] = node is null ? "alone" : "leader" });
                Announce(vip, address);
            }
        }
    }

    private async Task ReleaseAsync(string name, string reason, CancellationToken cancellationToken)
    {
        var held = _held[name];
        _held.Remove(name);
        var vip = new VipConfig { Name = name, Address = held.Address.ToString(), Interface = held.Interface };
        await TryAsync(vip, "remove", () => addresses.RemoveAsync(held.Address, held.Interface, cancellationToken)).ConfigureAwait(false);
        VipLog.Released(logger, name, held.Address.ToString(), reason);
        events.Publish("vip_released", $"VIP {name} ({held.Address}) released: {reason}",
            new Dictionary<string, object?> { ["vip"] = name, ["address"] = held.Address.ToString(), ["node"] = node?.NodeId, ["reason"] = reason });
    }

    /// <summary>Announces in the background (arping takes a second); owned here and awaited at stop.</summary>
    private void Announce(VipConfig vip, VipAddress address)
    {
        _announcing.RemoveAll(t => t.IsCompleted);
        _announcing.Add(TryAsync(vip, "announce", () => addresses.AnnounceAsync(address, vip.Interface, Announcements, _stopping.Token)));
    }

    /// <summary>Runs one step; a failure is logged once per VIP and message (not every tick) and the node goes on serving.</summary>
    private async Task<bool> TryAsync(VipConfig vip, string action, Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
            _lastError.TryRemove(vip.Name + action, out _);
            return true;
        }
        catch (VipHostException e)
        {
            if (!_lastError.TryGetValue(vip.Name + action, out var last) || last != e.Message)
            {
                _lastError[vip.Name + action] = e.Message;
                VipLog.Failed(logger, vip.Name, e.Message);
                events.Publish("vip_failed", $"VIP {vip.Name}: {e.Message}",
                    new Dictionary<string, object?> { ["vip"] = vip.Name, ["action"] = action, ["error"] = e.Message });
            }
            return false;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return false;
        }
    }

    private IEnumerable<(VipConfig Vip, VipAddress Address)> Configured()
    {
        foreach (var vip in store.Current.Config.Vips)
        {
            if (VipAddress.TryParse(vip.Address, out var address, out _))
            {
                yield return (vip, address!);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
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
