using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using Switchman.Supervisor;
using Switchman.Supervisor.Processes;

namespace Switchman.Admin.Services;

/// <summary>
/// This node's side of the <c>services:</c> section: one <see cref="ServiceInstance"/> for each service that may run here
/// (a clone on its nodes; a singleton on every load balancer, running only where its VIP is held, under that node's
/// lease), told what the shared state wants of it (running unless an operator stopped the service, started only once the
/// services it comes <c>after</c> run here, restart and cleanup orders), and the instances' reports written back to the
/// state as one <c>report_service_instances</c> command whenever they change, so that every node's status, events and
/// rolling restarts see them. Owns the instances: stops them, dependents first, when the node stops. Started before the
/// data plane, so that a node's own backends are starting when its first health round runs, and stopped after it.
/// </summary>
public sealed class ServiceSupervisor : BackgroundService, IAsyncDisposable
{
    /// <summary>How often the wanted state is looked at even without a new state (a dependency that came up).</summary>
    private static readonly TimeSpan LookEvery = TimeSpan.FromMilliseconds(250);

    private readonly IChangeLog _log;
    private readonly string _node;
    private readonly bool _runsServices;
    private readonly string _logDirectory;
    private readonly ProcessRecords _records;
    private readonly string _recordsDirectory;
    private readonly string _directory;
    private readonly bool _removeDirectoryAtStop;
    private readonly Proxy.DataPlane _servers;
    private long _holdsVersion;
    private long _holdsApplied;
    private readonly Lock _holdsSync = new();
    private readonly Vips.IVipMembership _membership;

    /// <summary>The right singletons run under, withheld for a moment after this process stalled (shared with the VIP keeper).</summary>
    private readonly Vips.StallFence _stallFence;
    private readonly Vips.HolderReport _holderReport;
    private readonly ServiceMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<ServiceSupervisor> _logger;
    private readonly Dictionary<string, ServiceInstance> _instances = new(StringComparer.Ordinal);

    /// <summary>Services that were singletons at some point (an instance of one may still be stopping after a change).</summary>
    private readonly HashSet<string> _singletons = new(StringComparer.Ordinal);

    /// <summary>Instances of services no longer here, being disposed; awaited at stop.</summary>
    private readonly List<Task> _retiring = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private string? _lastProblem;

    /// <param name="log">The change log: the state to follow, and where reports go.</param>
    /// <param name="node">This node's id.</param>
    /// <param name="runsServices">False on a witness, which runs no service.</param>
    /// <param name="directory">Where the instances' output logs and process records are kept (a data directory, so that a restarted node finds the process groups a crash left behind).</param>
    /// <param name="removeDirectoryAtStop">True for a directory of this process alone (a node without a data directory), removed when the node stops.</param>
    /// <param name="servers">This node's load balancer: told which servers to hold out of rotation (those whose instance here
    /// is not running) and to look at once at the server of an instance that starts running (its monitor passed).</param>
    public ServiceSupervisor(
        IChangeLog log, string node, bool runsServices, string directory, bool removeDirectoryAtStop, Proxy.DataPlane servers,
        Vips.IVipMembership membership, Vips.HolderReport holderReport, TimeProvider time, ILoggerFactory loggers, IMeterFactory meters,
        Vips.StallFence? stallFence = null)
    {
        _membership = membership;
        _stallFence = stallFence ?? new Vips.StallFence(membership, time);
        _holderReport = holderReport;
        _servers = servers;
        _directory = directory;
        _removeDirectoryAtStop = removeDirectoryAtStop;
        _log = log;
        _node = node;
        _runsServices = runsServices;
        _logDirectory = Path.Combine(directory, "logs");
        _recordsDirectory = Path.Combine(directory, "processes");
        _records = new ProcessRecords(_recordsDirectory);
        _metrics = new ServiceMetrics(meters);
        _metrics.ObserveInstanceStates(
            () => Reports().ToDictionary(r => r.Key, r => r.Value.State.ToString().ToLowerInvariant(), StringComparer.Ordinal),
            [.. Enum.GetValues<ServiceInstanceState>().Select(s => s.ToString().ToLowerInvariant())]);
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger<ServiceSupervisor>();
    }

    /// <summary>This node's id, as its reports and placeholders name it.</summary>
    public string NodeId => _node;

    /// <summary>The file the instance of <paramref name="service"/> on this node writes its output to.</summary>
    public string LogFileOf(string service) => Path.Combine(_logDirectory, service + ".log");

    /// <summary>The reports of this node's instances as they are now (the state has them as last written).</summary>
    public IReadOnlyDictionary<string, ServiceInstanceReport> Reports()
    {
        lock (_instances)
        {
            return _instances.ToDictionary(i => i.Key, i => i.Value.Report, StringComparer.Ordinal);
        }
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_runsServices)
        {
            return;
        }
        // Logs each group it kills (7020) and any that lingers (7022).
        await ProcessRecords.ReapLeftoversAsync(_recordsDirectory, _time, _logger, cancellationToken).ConfigureAwait(false);
        _log.StateApplied += OnStateApplied;
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The supervisor's loop, as a background service of the node: should it ever fail, the node stops and names it (and
    /// <c>switchman run</c> exits 1), rather than go on with services nobody supervises.
    /// </summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => RunAsync(_stopping.Token);

    /// <summary>
    /// Tells the leader (through <see cref="Vips.HolderReport"/>) how far this node has let go of its singletons: up to the
    /// state it looked at, unless a singleton that state does not place here still runs (it is stopping).
    /// </summary>
    private void ReportRelease(SharedState state)
    {
        List<ServiceInstance> instances;
        lock (_instances)
        {
            instances = [.. _instances.Values];
        }
        var singletons = instances.Where(IsSingleton).ToList();
        if (singletons.Count == 0)
        {
            _holderReport.Services(long.MaxValue);
            return;
        }
        var lettingGo = singletons.Any(i => i.Report.State is ServiceInstanceState.Starting or ServiceInstanceState.Running or ServiceInstanceState.Stopping
            && !PlacedHere(state, state.Config?.FindService(i.Service)));
        if (!lettingGo)
        {
            _holderReport.Services(state.AppliedIndex);
        }
    }

    private bool IsSingleton(ServiceInstance instance)
    {
        lock (_singletons)
        {
            return _singletons.Contains(instance.Service);
        }
    }

    /// <summary>Whether <paramref name="state"/> places the singleton <paramref name="service"/> on this node: its VIP is given to it.</summary>
    private bool PlacedHere(SharedState state, ServiceConfig? service) =>
        service is { Placement: ServicePlacement.Singleton, WithVip: { } vip } && state.Vips.GetValueOrDefault(vip)?.Node == _node;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _log.StateApplied -= OnStateApplied;
        await _stopping.CancelAsync().ConfigureAwait(false);
        // Waits for the loop to end (a failure of it was the host's to report).
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await StopAllAsync().ConfigureAwait(false);
        if (_removeDirectoryAtStop && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        _stopping.Dispose();
        _wake.Dispose();
        Dispose();
    }

    private void OnStateApplied(SharedState state) => Wake();

    private void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (ObjectDisposedException)
        {
            // An instance reporting while the node is being disposed: nothing left to wake.
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var state = _log.State;
                Reconcile(state);
                ReportRelease(state);
                await ReportAsync(stopping).ConfigureAwait(false);
                await WaitForWakeAsync(stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Until something changed (a state applied, an instance's report) or <see cref="LookEvery"/> passed.</summary>
    private async Task WaitForWakeAsync(CancellationToken stopping)
    {
        using var look = new CancellationTokenSource(LookEvery, _time);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stopping, look.Token);
        try
        {
            await _wake.WaitAsync(waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (look.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Creates, updates and retires the instances so that they follow <paramref name="state"/>.</summary>
    private void Reconcile(SharedState state)
    {
        var config = state.Config;
        var services = config?.Services.Where(RunsHere).ToDictionary(s => s.Name, StringComparer.Ordinal) ?? [];
        lock (_singletons)
        {
            _singletons.UnionWith(services.Values.Where(s => s.Placement == ServicePlacement.Singleton).Select(s => s.Name));
        }
        lock (_instances)
        {
            foreach (var (name, instance) in _instances.ToList())
            {
                if (!services.ContainsKey(name))
                {
                    // Gone from here: told to stop; retired (disposed) once it has.
                    instance.Update(new InstanceDesire(false, "no longer configured to run here", null, 0, 0));
                    if (instance.Report.State is ServiceInstanceState.Stopped or ServiceInstanceState.Failed)
                    {
                        _instances.Remove(name);
                        _retiring.Add(instance.DisposeAsync().AsTask());
                    }
                }
            }
            foreach (var service in services.Values)
            {
                var desire = DesireFor(service, config!, state, services);
                if (_instances.TryGetValue(service.Name, out var instance))
                {
                    instance.Update(desire);
                    continue;
                }
                instance = new ServiceInstance(service.Name, desire, _records, _metrics, _time, _loggers.CreateLogger($"Switchman.Supervisor.{service.Name}"));
                instance.Changed += OnInstanceChanged;
                _instances.Add(service.Name, instance);
            }
        }
        _retiring.RemoveAll(t => t.IsCompleted);
        // A service removed, or its backend or server changed: the holds follow the configuration too.
        PushHolds();
    }

    /// <summary>Clones run on every load-balancer node, or on their <c>nodes</c>; a singleton may run on any (where its VIP is).</summary>
    private bool RunsHere(ServiceConfig service) => service.RunsOn(_node);

    private InstanceDesire DesireFor(ServiceConfig service, SwitchmanConfig config, SharedState state, IReadOnlyDictionary<string, ServiceConfig> here)
    {
        var definition = new InstanceDefinition(service, Placeholders(service, config), _logDirectory);
        var restart = state.RestartOrder(service.Name, _node);
        var cleanup = state.CleanupOrder(service.Name, _node);
        var right = RightOf(service);
        var move = state.MoveOrder(service.Name, _node);
        if (WhyNotWanted(service, config, state, here) is { } notWanted)
        {
            // Stopped in order: what starts after it stops first (each of those is not wanted either).
            var dependentRuns = here.Values.Any(s => s.After.Contains(service.Name)
                && StateOf(s.Name) is ServiceInstanceState.Starting or ServiceInstanceState.Running or ServiceInstanceState.Stopping);
            return new InstanceDesire(dependentRuns, dependentRuns ? null : notWanted, definition, restart, cleanup, right, move);
        }
        // Started in order: only once what it comes after runs here (and stopped when that stops running).
        var waitingFor = service.After.Where(here.ContainsKey).FirstOrDefault(dependency => StateOf(dependency) != ServiceInstanceState.Running);
        return new InstanceDesire(waitingFor is null, waitingFor is null ? null : $"waiting for {waitingFor} to run", definition, restart, cleanup, right, move);
    }

    /// <summary>
    /// Why <paramref name="service"/> is not to run on this node whatever its instances do now: no server here, a
    /// singleton placed elsewhere, stopped by an operator, or a service it comes after is not to run here; null when it is.
    /// </summary>
    private string? WhyNotWanted(ServiceConfig service, SwitchmanConfig config, SharedState state, IReadOnlyDictionary<string, ServiceConfig> here)
    {
        if (Core.Configuration.Validation.ServiceHostChecks.ServerProblem(service, config, _node) is { } noServer)
        {
            return noServer;
        }
        if (service.Placement == ServicePlacement.Singleton && !PlacedHere(state, service))
        {
            return state.Vips.GetValueOrDefault(service.WithVip!)?.Node is { } holder
                ? $"runs where VIP {service.WithVip} is: on {holder}"
                : $"runs where VIP {service.WithVip} is: nobody holds it now";
        }
        if (state.StoppedServices.TryGetValue(service.Name, out var stoppedBy))
        {
            return $"stopped by {stoppedBy}";
        }
        // The configuration has no cycle of after (the validator refuses one), so this ends.
        foreach (var dependency in service.After)
        {
            if (here.TryGetValue(dependency, out var before) && WhyNotWanted(before, config, state, here) is { } why)
            {
                return $"it comes after {dependency}, which is not to run here ({why})";
            }
        }
        return null;
    }

    /// <summary>
    /// An instance's report changed: its server is held out of this node's load balancer while it is not running, and
    /// looked at at once when it starts running; the reports are written.
    /// </summary>
    private void OnInstanceChanged(ServiceInstance instance, ServiceInstanceReport before)
    {
        PushHolds();
        if (instance.Report.State == ServiceInstanceState.Running && before.State != ServiceInstanceState.Running
            && _log.State.Config?.FindService(instance.Service) is { Backend: { } backend } service)
        {
            _servers.Recheck(backend, service.ServerFor(_node));
        }
        Wake();
    }

    /// <summary>
    /// Tells the load balancer the servers of this node's instances that are not running, and why. Called from the
    /// instances' threads and the supervisor's loop: each call computes after its own change, and a computation older
    /// than one already applied is dropped, so the last word is always the newest.
    /// </summary>
    private void PushHolds()
    {
        var version = Interlocked.Increment(ref _holdsVersion);
        var config = _log.State.Config;
        var held = new Dictionary<Proxy.ServerKey, string>();
        lock (_instances)
        {
            foreach (var (name, instance) in _instances)
            {
                if (instance.Report.State != ServiceInstanceState.Running && config?.FindService(name) is { Backend: { } backend } service)
                {
                    held[new Proxy.ServerKey(backend, service.ServerFor(_node))] = $"service {name} is {instance.Report.State.ToString().ToLowerInvariant()} on this node";
                }
            }
        }
        lock (_holdsSync)
        {
            if (version > _holdsApplied)
            {
                _holdsApplied = version;
                _servers.HoldOut(held);
            }
        }
    }

    /// <summary>
    /// A singleton runs under this node's lease (the one its VIPs are held under), as the VIP keeper holds them: not
    /// just after a stall, when a leader's right can look live when it is not (a node frozen 1.6 s started its singleton
    /// again for ~40 ms while the new leader's ran, found by the fault campaign); a clone needs none.
    /// </summary>
    private Func<TimeSpan>? RightOf(ServiceConfig service) =>
        service.Placement == ServicePlacement.Singleton ? _stallFence.RightRemaining : null;

    private ServiceInstanceState? StateOf(string service) => _instances.GetValueOrDefault(service)?.Report.State;

    private ServicePlaceholders Placeholders(ServiceConfig service, SwitchmanConfig config)
    {
        HostPort? address = null;
        if (service.Backend is { } backend && SharedState.FindServer(config, backend, service.ServerFor(_node)) is { } server
            && HostPort.TryParse(server.Address, out var parsed, out _))
        {
            address = parsed;
        }
        return new ServicePlaceholders(_node, address, Core.Configuration.Validation.ServiceHostChecks.SwitchmanPath);
    }

    /// <summary>Writes this node's reports to the state when they differ from what it says; tried again at the next look when that fails.</summary>
    private async Task ReportAsync(CancellationToken stopping)
    {
        var reports = Reports().ToImmutableSortedDictionary(StringComparer.Ordinal);
        var known = _log.State.ServiceInstances.GetValueOrDefault(_node) ?? ImmutableSortedDictionary<string, ServiceInstanceReport>.Empty;
        if (reports.Count == known.Count && reports.All(r => known.TryGetValue(r.Key, out var k) && k == r.Value))
        {
            return;
        }
        try
        {
            await _log.AppendAsync(new ReportServiceInstancesCommand
            {
                ChangeId = ChangeCommand.NewChangeId(),
                Author = $"node {_node}",
                ProposedAt = _time.GetUtcNow(),
                Node = _node,
                Instances = reports,
            }, stopping).ConfigureAwait(false);
            _lastProblem = null;
        }
        catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            if (e.Message != _lastProblem)
            {
                _lastProblem = e.Message;
                SupervisorLog.ReportFailed(_logger, e.Message);
            }
        }
    }

    /// <summary>Stops every instance, those that start after others first, each within its stop timeout.</summary>
    private async Task StopAllAsync()
    {
        List<ServiceInstance> remaining;
        lock (_instances)
        {
            remaining = [.. _instances.Values];
            _instances.Clear();
        }
        var config = _log.State.Config;
        while (remaining.Count > 0)
        {
            // A wave: the instances no remaining instance comes after.
            var wave = remaining.Where(i => !remaining.Any(other => config?.FindService(other.Service)?.After.Contains(i.Service) == true)).ToList();
            if (wave.Count == 0)
            {
                wave = remaining;
            }
            await Task.WhenAll(wave.Select(i => i.DisposeAsync().AsTask())).ConfigureAwait(false);
            remaining.RemoveAll(wave.Contains);
        }
        await Task.WhenAll(_retiring).ConfigureAwait(false);
    }
}

internal static partial class SupervisorLog
{
    [LoggerMessage(EventId = 7021, Level = LogLevel.Warning, Message = "Reporting this node's service instances failed: {Problem}; trying again")]
    public static partial void ReportFailed(ILogger logger, string problem);
}
