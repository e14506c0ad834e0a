using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using Switchman.Supervisor.Processes;
using Switchman.Vips;

namespace Switchman.Admin.Vips;

/// <summary>
/// Puts on this node's interfaces the VIPs the shared state assigns to it, while it may hold them (<see cref="IVipMembership.RightRemaining"/> above zero:
/// a lease confirmed by a majority, see docs/design/vips.md), and takes them off the moment it may not or they are
/// assigned elsewhere. After each look it reports the state index it caught up with (it then holds no VIP that state
/// does not give it), which lets the leader give a released VIP away without waiting for a lease to end.
/// Looks every 10 ms and when woken (the leader lease ends); releases first when the node stops, then the listeners
/// stop. Each address held has a guard (<see cref="AddressGuard"/>) that removes it if this process dies, even by
/// SIGKILL. An address it cannot add is remembered (<see cref="Failures"/>) so that the node reports itself unable to
/// serve that VIP and the leader places it elsewhere.
/// </summary>
public sealed class VipKeeper : BackgroundService, IAsyncDisposable
{
    public const string MeterName = "Switchman.Vips";

    /// <summary>When, after taking a VIP and announcing it at once, a gratuitous ARP announces it again: a neighbour may
    /// ignore one that arrives while its entry is locked (neigh locktime, 1 s by default), so keepalived repeats them too.</summary>
    private static readonly TimeSpan[] AnnounceAgainAt = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(1200), TimeSpan.FromSeconds(3)];

    /// <summary>How often the keeper looks whether it may hold its VIPs: well inside the margin between the end of a
    /// lease and the earliest moment another node may be given the VIP.</summary>
    private static readonly TimeSpan CheckEvery = TimeSpan.FromMilliseconds(10);

    /// <summary>Without a VIP to keep, a look a second is enough to notice that one was configured.</summary>
    private static readonly TimeSpan IdleCheckEvery = TimeSpan.FromSeconds(1);

    private readonly IChangeLog _log;
    private readonly LinkAddresses _addresses;
    private readonly NodeEvents _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IVipMembership _membership;
    private readonly Func<VipConfig, string> _interfaceFor;
    private readonly Counter<long> _acquisitions;
    private readonly Histogram<double> _takeover;
    private readonly Dictionary<string, HeldVip> _held = new(StringComparer.Ordinal);

    /// <summary>
    /// A guard already started for each VIP this node may be given and does not hold, by VIP name: taking a VIP arms
    /// one (writes it the lease's end) before the address is added, and starting a process on that path would delay the
    /// takeover by milliseconds (tens on a busy machine).
    /// </summary>
    private readonly Dictionary<string, AddressGuard> _spares = new(StringComparer.Ordinal);

    /// <summary>What this node holds, for readers on other threads (metrics, status); replaced whole after each change.</summary>
    private volatile IReadOnlyDictionary<string, DateTimeOffset> _heldSince = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _lastError = new(StringComparer.Ordinal);
    /// <summary>VIP name → the error of the last attempt to add it, and where (address and interface) that was.</summary>
    private readonly ConcurrentDictionary<string, (string Where, string Error)> _failures = new(StringComparer.Ordinal);
    private readonly List<Task> _announcing = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly HolderReport _report;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private CancellationTokenRegistration _rightEnds;
    private CancellationToken _watchedRight;
    private bool _anyConfigured;
    private bool _realTimeWarned;
    private bool _everMayHold;

    /// <summary>When the next look is due (a timestamp of the injected clock); 0 before the first.</summary>
    private long _nextLookDue;

    /// <summary>The right this node holds VIPs under, withheld for a moment after a stall; this keeper beats it.</summary>
    private readonly StallFence _stallFence;

    public VipKeeper(
        IChangeLog log, LinkAddresses addresses, NodeEvents events, TimeProvider time, ILogger<VipKeeper> logger, IMeterFactory meterFactory,
        IVipMembership membership, Func<VipConfig, string>? interfaceFor = null, HolderReport? report = null, StallFence? stallFence = null)
    {
        _stallFence = stallFence ?? new StallFence(membership, time);
        ArgumentNullException.ThrowIfNull(meterFactory);
        _log = log;
        _addresses = addresses;
        _events = events;
        _time = time;
        _logger = logger;
        _membership = membership;
        _report = report ?? new HolderReport(membership);
        _interfaceFor = interfaceFor ?? (static vip => vip.Interface);
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("switchman.vip.held", HeldMeasurements, "{vip}", "1 for each configured VIP this node holds now, 0 for the others.");
        _acquisitions = meter.CreateCounter<long>("switchman.vip.acquisitions", "{acquisition}", "How many times this node took a VIP.");
        _takeover = meter.CreateHistogram<double>("switchman.vip.takeover.duration", "s",
            "From the leader taking a VIP from its last holder (lost, unhealthy, standby...) to the address being on this node's interface.");
    }

    /// <summary>The interface this node puts <paramref name="vip"/> on: its own <c>vip_interfaces</c> entry, else the VIP's.</summary>
    public string InterfaceOf(VipConfig vip) => _interfaceFor(vip);

    /// <summary>The VIPs this node holds now and since when.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> Held => _heldSince;

    /// <summary>VIPs this node could not put on its interface, with the error; kept until it succeeds or the VIP changes.</summary>
    public IReadOnlyDictionary<string, string> Failures => _failures.ToDictionary(f => f.Key, f => f.Value.Error, StringComparer.Ordinal);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // An address left on an interface by a previous run that crashed: not ours until a lease says so.
        foreach (var (vip, address) in Configured(_log.State))
        {
            await TryAsync(vip.Name, "remove a leftover of", () => _addresses.RemoveAsync(address, vip.Interface, cancellationToken)).ConfigureAwait(false);
        }
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The keeper's loop, as a background service of the node: should it ever fail, the node stops and names it (and
    /// <c>switchman run</c> exits 1), rather than go on serving with VIPs nobody keeps.
    /// </summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => RunAsync(_stopping.Token);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        // Waits for the loop to end (a failure of it was the host's to report).
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (var name in _held.Keys.ToList())
        {
            await ReleaseAsync(name, "node stopping", cancellationToken).ConfigureAwait(false);
        }
        foreach (var name in _spares.Keys.ToList())
        {
            await DropSpareAsync(name).ConfigureAwait(false);
        }
        await Task.WhenAll(_announcing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Looks again now rather than at the next tick (the state changed).</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await ReconcileAsync(stopping).ConfigureAwait(false);
                var every = _anyConfigured ? CheckEvery : IdleCheckEvery;
                _nextLookDue = _time.GetTimestamp() + (long)(every.TotalSeconds * _time.TimestampFrequency);
                using var tick = new CancellationTokenSource(every, _time);
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
            _rightEnds.Dispose();
        }
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var state = _log.State;
        var configured = Configured(state).ToDictionary(v => v.Vip.Name, StringComparer.Ordinal);
        _anyConfigured = configured.Count > 0 || _held.Count > 0;
        var lookStarted = _time.GetTimestamp();
        if (_stallFence.Beat(_nextLookDue) is { } stalled)
        {
            Stalled(stalled);
        }
        var quarantined = _stallFence.Withheld;
        // Read before the right, which is measured from this instant on: the guards' deadlines are the lease's end, not
        // later by however long this look takes to reach them (releasing another VIP first, a stall).
        var lookedAt = GuardInstant.Now();
        var rightRemaining = quarantined ? TimeSpan.Zero : _stallFence.RightRemaining();
        // Over a little early: its guard may act up to that much before the right's end, and the release is then this
        // look's, with its true reason, rather than the guard's, read by the next look as a renewal this process missed.
        var mayHold = DeadlineGuard.StillHolds(rightRemaining);
        _everMayHold |= mayHold;
        WatchRight(mayHold && configured.Count > 0);
        var caughtUp = true;
        foreach (var name in _held.Keys.ToList())
        {
            var assignment = state.Vips.GetValueOrDefault(name);
            var reason = quarantined ? "this process stalled: what it knows of the cluster may be stale"
                : !mayHold ? "lease lost"
                : !configured.TryGetValue(name, out var now) || now.Address != _held[name].Address || now.Vip.Interface != _held[name].Interface ? "configuration changed"
                : assignment?.Node != _membership.NodeId ? $"assigned {(assignment?.Node is { } next ? "to " + next : "to nobody")}: {assignment?.Reason}"
                : null;
            if (reason is not null)
            {
                caughtUp &= await ReleaseAsync(name, reason, cancellationToken).ConfigureAwait(false);
            }
            else if (_held[name].Guard.HasExited)
            {
                // Its deadline passed before this look renewed it (the process stalled past its lease): the address is
                // gone. Off the books; taken again below while the right holds.
                await ForgetAsync(name, "its guard removed it: this process did not renew it within its lease").ConfigureAwait(false);
            }
            else
            {
                _held[name].Guard.Renew(rightRemaining, lookedAt);
            }
        }
        foreach (var name in _failures.Keys.Where(n => !configured.ContainsKey(n)).ToList())
        {
            _failures.TryRemove(name, out _);
        }
        if (mayHold)
        {
            foreach (var (name, (vip, address)) in configured.Where(c => !_held.ContainsKey(c.Key)))
            {
                if (state.Vips.GetValueOrDefault(name) is { } assignment && assignment.Node == _membership.NodeId)
                {
                    await AcquireAsync(vip, address, assignment, lookStarted, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        await KeepSparesAsync(configured).ConfigureAwait(false);
        if (caughtUp)
        {
            _report.Keeper(state.AppliedIndex);
        }
    }

    private void Stalled(TimeSpan stalled)
    {
        if (_held.Count > 0 || _anyConfigured)
        {
            VipLog.Stalled(_logger, (long)stalled.TotalMilliseconds, (long)StallFence.Quarantine.TotalMilliseconds);
        }
    }

    /// <summary>A spare guard for every configured VIP not held here (once this node could ever hold one: a witness never), none for others.</summary>
    private async Task KeepSparesAsync(Dictionary<string, (VipConfig Vip, VipAddress Address)> configured)
    {
        foreach (var name in _spares.Keys.Where(n => _held.ContainsKey(n) || !configured.TryGetValue(n, out var c) || _spares[n].Where != Where(c.Vip, c.Address) || _spares[n].HasExited).ToList())
        {
            await DropSpareAsync(name).ConfigureAwait(false);
        }
        if (!_everMayHold)
        {
            return;
        }
        foreach (var (name, (vip, address)) in configured.Where(c => !_held.ContainsKey(c.Key) && !_spares.ContainsKey(c.Key) && !_failures.ContainsKey(c.Key)))
        {
            try
            {
                _spares[name] = _addresses.Guard(address, vip.Interface);
            }
            catch (VipHostException)
            {
                // Said when the VIP is taken: AcquireAsync starts its own guard then, and reports why it cannot.
            }
        }
    }

    private async Task DropSpareAsync(string name)
    {
        if (_spares.Remove(name, out var spare))
        {
            await spare.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string Where(VipConfig vip, VipAddress address) => $"{address}@{vip.Interface}";

    /// <summary>Wakes the keeper the moment its right to hold ends, when that can come before the next tick.</summary>
    private void WatchRight(bool holding)
    {
        var right = _membership.RightEnds;
        if (!holding || !right.CanBeCanceled || right.IsCancellationRequested || right == _watchedRight)
        {
            return;
        }
        _rightEnds.Dispose();
        _watchedRight = right;
        _rightEnds = right.Register(static state => ((Channel<bool>)state!).Writer.TryWrite(true), _wake);
    }

    private async Task AcquireAsync(VipConfig vip, VipAddress address, VipAssignment assignment, long lookStarted, CancellationToken cancellationToken)
    {
        var where = Where(vip, address);
        if (_failures.TryGetValue(vip.Name, out var failure) && failure.Where == where)
        {
            // It failed before with this very address and interface: the leader places it elsewhere; do not retry every tick.
            return;
        }
        if (_stallFence.StalledSince(lookStarted))
        {
            // This look stalled on its way here (a freeze while it released or took another VIP): the right it read is stale.
            Stalled(_time.GetElapsedTime(lookStarted));
            return;
        }
        // The guard first, armed with the lease's end, then the address: a freeze or a crash of this process at any point
        // from here on cannot leave the address on the interface past the lease (the guard used to be started after the
        // address and its first announcement, and a freeze in between left the address unguarded for as long as it lasted:
        // found by the fault campaign, a node frozen 4 s held a VIP the whole time while another node took it).
        if (_spares.TryGetValue(vip.Name, out var spare) && (spare.Where != where || spare.HasExited))
        {
            await DropSpareAsync(vip.Name).ConfigureAwait(false);
        }
        AddressGuard guard;
        try
        {
            guard = _spares.Remove(vip.Name, out var ready) ? ready : _addresses.Guard(address, vip.Interface);
        }
        catch (VipHostException e)
        {
            // Without its guard a crash would leave the address behind while another node holds the VIP: not taken.
            _failures[vip.Name] = (where, e.Message);
            VipLog.Failed(_logger, vip.Name, e.Message);
            return;
        }
        if (guard.RealTimeRefused is { } why && !_realTimeWarned)
        {
            _realTimeWarned = true;
            VipLog.GuardNotRealTime(_logger, why);
        }
        var armedAt = GuardInstant.Now();
        var right = _stallFence.RightRemaining();
        if (!DeadlineGuard.StillHolds(right))
        {
            await guard.DisposeAsync().ConfigureAwait(false);
            return;
        }
        await guard.RenewAsync(right, armedAt).ConfigureAwait(false);
        var adding = TryAsync(vip.Name, "add", () => _addresses.AddAsync(address, vip.Interface, cancellationToken));
        await RenewingUntilDoneAsync(adding, guard).ConfigureAwait(false);
        if (!await adding.ConfigureAwait(false))
        {
            await guard.DisposeAsync().ConfigureAwait(false);
            if (_lastError.TryGetValue(vip.Name + "add", out var error))
            {
                _failures[vip.Name] = (where, error);
            }
            return;
        }
        // Clients move to this node on the first announcement: it goes before anything else.
        await RenewingUntilDoneAsync(AnnounceOnceAsync(vip, address), guard).ConfigureAwait(false);
        _failures.TryRemove(vip.Name, out _);
        var since = _time.GetUtcNow();
        _held[vip.Name] = new HeldVip(address, vip.Interface, since, guard);
        PublishHeld();
        var tag = new KeyValuePair<string, object?>("vip", vip.Name);
        _acquisitions.Add(1, tag);
        if (assignment.PreviousNode is { } previous && previous != _membership.NodeId && assignment.ReleasedAt is { } releasedAt)
        {
            // The leader's clock to this node's: as good as their time sync (NTP: a millisecond or so).
            _takeover.Record(Math.Max(0, (since - releasedAt).TotalSeconds), tag);
        }
        VipLog.Acquired(_logger, vip.Name, address.ToString(), vip.Interface);
        _events.Publish("vip_acquired", $"VIP {vip.Name} ({address}) taken on {vip.Interface}: {assignment.Reason}",
            new Dictionary<string, object?> { ["vip"] = vip.Name, ["address"] = address.ToString(), ["node"] = _membership.NodeId, ["reason"] = assignment.Reason });
        AnnounceAgain(vip, address);
    }

    /// <summary>
    /// Waits for <paramref name="step"/> of taking a VIP, renewing the guard of <paramref name="taking"/>, and of every VIP
    /// held, every 10 ms while it waits and once when it is done, as each look does. A leader's right reaches at most
    /// 75 ms ahead (¾ of election_timeout_min) and a step can take longer: the guard must end with the right, not with
    /// the right as read before the step. A process frozen meanwhile renews nothing.
    /// </summary>
    private async Task RenewingUntilDoneAsync(Task step, AddressGuard taking)
    {
        using var renewing = new CancellationTokenSource();
        while (true)
        {
            if (!step.IsCompleted)
            {
                await Task.WhenAny(step, Task.Delay(CheckEvery, _time, renewing.Token)).ConfigureAwait(false);
            }
            // Read before the right, as in each look: the deadline is the right's end, not later by the time between.
            var readAt = GuardInstant.Now();
            var right = _stallFence.RightRemaining();
            taking.Renew(right, readAt);
            foreach (var held in _held.Values)
            {
                held.Guard.Renew(right, readAt);
            }
            if (step.IsCompleted)
            {
                break;
            }
        }
        await renewing.CancelAsync().ConfigureAwait(false);
        await step.ConfigureAwait(false);
    }

    /// <returns>Whether the address is surely gone.</returns>
    private async Task<bool> ReleaseAsync(string name, string reason, CancellationToken cancellationToken)
    {
        var held = _held[name];
        var removed = await TryAsync(name, "remove", () => _addresses.RemoveAsync(held.Address, held.Interface, cancellationToken)).ConfigureAwait(false);
        if (!removed)
        {
            // Still on the interface as far as we know: keep it on the books and try again at the next look.
            return false;
        }
        await ForgetAsync(name, reason).ConfigureAwait(false);
        return true;
    }

    /// <summary>The address is off the interface: off the books, guard disarmed, and said so.</summary>
    private async Task ForgetAsync(string name, string reason)
    {
        var held = _held[name];
        _held.Remove(name);
        await held.Guard.DisposeAsync().ConfigureAwait(false);
        PublishHeld();
        VipLog.Released(_logger, name, held.Address.ToString(), reason);
        _events.Publish("vip_released", $"VIP {name} ({held.Address}) released: {reason}",
            new Dictionary<string, object?> { ["vip"] = name, ["address"] = held.Address.ToString(), ["node"] = _membership.NodeId, ["reason"] = reason });
    }

    private void PublishHeld() => _heldSince = _held.ToDictionary(h => h.Key, h => h.Value.Since, StringComparer.Ordinal);

    /// <summary>The repeated announcements, in the background; owned here and awaited at stop.</summary>
    private void AnnounceAgain(VipConfig vip, VipAddress address)
    {
        _announcing.RemoveAll(t => t.IsCompleted);
        foreach (var delay in AnnounceAgainAt)
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
        if (_heldSince.ContainsKey(vip.Name))
        {
            await AnnounceOnceAsync(vip, address, again: true).ConfigureAwait(false);
        }
    }

    /// <param name="again">A repeat, which finds the VIP released meanwhile without it being a failure.</param>
    private Task AnnounceOnceAsync(VipConfig vip, VipAddress address, bool again = false) => TryAsync(vip.Name, "announce", async () =>
    {
        try
        {
            await _addresses.AnnounceAsync(address, vip.Interface, count: 1, _stopping.Token).ConfigureAwait(false);
        }
        catch (VipHostException) when (again && !_heldSince.ContainsKey(vip.Name))
        {
            // Released while it ran (nothing is sent from an address the node no longer has): nothing to announce.
        }
    });

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
                    new Dictionary<string, object?> { ["vip"] = vip, ["action"] = action, ["error"] = e.Message, ["node"] = _membership.NodeId });
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
        var held = _heldSince;
        return (_log.State.Config?.Vips ?? ValueList<VipConfig>.Empty).Select(v => new Measurement<int>(held.ContainsKey(v.Name) ? 1 : 0, new KeyValuePair<string, object?>("vip", v.Name)));
    }

    /// <summary>The VIPs of <paramref name="state"/>, each with its address parsed and with this node's interface for it.</summary>
    private IEnumerable<(VipConfig Vip, VipAddress Address)> Configured(SharedState state)
    {
        foreach (var vip in state.Config?.Vips ?? ValueList<VipConfig>.Empty)
        {
            if (VipAddress.TryParse(vip.Address, out var address, out _))
            {
                yield return (vip with { Interface = _interfaceFor(vip) }, address!);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _rightEnds.Dispose();
        _stopping.Dispose();
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A VIP on this node's interface, since when, and the guard that removes it should this process die.</summary>
    private sealed record HeldVip(VipAddress Address, string Interface, DateTimeOffset Since, AddressGuard Guard);
}

internal static partial class VipLog
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "VIP {Vip} ({Address}) taken on {Interface}")]
    public static partial void Acquired(ILogger logger, string vip, string address, string @interface);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "VIP {Vip} ({Address}) released: {Reason}")]
    public static partial void Released(ILogger logger, string vip, string address, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Error, Message = "VIP {Vip}: {Error}")]
    public static partial void Failed(ILogger logger, string vip, string error);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning,
        Message = "This process stalled for {StalledMs} ms: it holds and takes no VIP for {QuarantineMs} ms (what it reads of the cluster just after a stall may be stale)")]
    public static partial void Stalled(ILogger logger, long stalledMs, long quarantineMs);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Warning,
        Message = "VIP guards run without real-time priority ({Why}): on a busy machine a frozen or starved node's guard may remove its address late, after another node took the VIP")]
    public static partial void GuardNotRealTime(ILogger logger, string why);
}
