using Microsoft.Extensions.Logging;
using Switchman.Core.Changes;
using Switchman.Core.Vips;
using Switchman.Supervisor.Monitoring;
using Switchman.Supervisor.Processes;

namespace Switchman.Supervisor;

/// <summary>
/// One service's instance on this node, supervised by one loop that owns its process: starts it when it should run,
/// watches it (its process, and its monitor every interval), restarts it after a failure with a back-off, counts its
/// failures within the service's <c>failure_timeout</c>, leaves it failed once <c>on_fail: stop</c> or
/// <c>migration_threshold</c> says so, carries out restart and cleanup orders, and stops it (SIGTERM, then SIGKILL of its
/// whole process group after <c>stop_timeout</c>) when it should not run. A singleton runs under a right that a majority
/// renews (its VIP's lease): the loop keeps a guard process armed with what is left of that right and kills the
/// instance's process group at once when it ends (self-fencing), and the guard does it if this process is frozen or
/// dies; so once the right has surely ended here, another node may start the singleton.
/// Everything the loop decides is published as one <see cref="ServiceInstanceReport"/>.
/// </summary>
public sealed class ServiceInstance : IAsyncDisposable
{
    /// <summary>How often a fenced instance renews its guard at least (its right is counted in hundreds of ms).</summary>
    private static readonly TimeSpan FenceLookEvery = TimeSpan.FromMilliseconds(20);

    /// <summary>How often the monitor is asked while an instance starts (its interval, when shorter).</summary>
    private static readonly TimeSpan StartingLookEvery = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a failed monitor check waits for a process exit that explains it.</summary>
    private static readonly TimeSpan ExitGrace = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest wait between restarts after repeated failures.</summary>
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly string _service;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ServiceProcessOptions _processOptions;
    private readonly ServiceMetrics _metrics;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly List<DateTimeOffset> _failures = [];
    private readonly Task _loop;

    private InstanceDesire _desire;
    private ServiceInstanceReport _report = new() { State = ServiceInstanceState.Stopped };
    private ServiceProcess? _process;
    private InstanceDefinition? _running;
    private IServiceMonitor? _monitor;
    private DeadlineGuard? _guard;

    /// <summary>The latest end of this node's right to run a fenced instance seen so far (a timestamp).</summary>
    private long _rightEndsAt;
    private long _nextMonitor;
    private long _startedAt;
    private long _restartAt;
    private bool _failed;

    public ServiceInstance(string service, InstanceDesire desire, ProcessRecords records, ServiceMetrics metrics, TimeProvider time, ILogger logger)
    {
        _service = service;
        _desire = desire;
        // Each process is recorded as it starts, before it can be reaped, and unrecorded when it ends (ServiceProcess):
        // one path for both, so a program that exits at once is recorded and removed like any other.
        _processOptions = ServiceProcessOptions.Default with { Records = records };
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _report = _report with { RestartIndex = desire.RestartOrder, CleanupIndex = desire.CleanupOrder, MoveIndex = desire.MoveOrder };
        _loop = RunAsync(_stopping.Token);
    }

    public string Service => _service;

    /// <summary>Raised from the loop after the report changed, with the report before; handlers must be quick.</summary>
    public event Action<ServiceInstance, ServiceInstanceReport>? Changed;

    public ServiceInstanceReport Report => Volatile.Read(ref _report);

    /// <summary>What is wanted of this instance now; the loop acts on the newest at its next step.</summary>
    public void Update(InstanceDesire desire)
    {
        Volatile.Write(ref _desire, desire);
        Wake();
    }

    /// <summary>Makes the loop look again now (a right that may have ended, a new state).</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>Stops the instance (within its stop timeout) and the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        await Task.Yield();
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await StepAsync(stopping).ConfigureAwait(false);
                await WaitAsync(stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // A bug here must not leave a process behind unsupervised, nor end silently.
            SupervisionLog.LoopFailed(_logger, e, _service);
        }
        finally
        {
            if (_process is { } process)
            {
                SupervisionLog.Stopping(_logger, _service, process.Pid, "the node is stopping");
            }
            await StopProcessAsync(CancellationToken.None).ConfigureAwait(false);
            Publish(_report with { State = ServiceInstanceState.Stopped, Pid = null, StartedAt = null });
        }
    }

    /// <summary>One look: fence, orders, the process's fate, the monitor, start or stop.</summary>
    private async Task StepAsync(CancellationToken stopping)
    {
        var desire = Volatile.Read(ref _desire);
        if (_process is { } fenced && desire.RightRemaining is { } fence && !DeadlineGuard.StillHolds(FenceRemaining(fence)))
        {
            // Self-fencing: no graceful stop, the right may be about to pass to another node.
            fenced.Kill();
            SupervisionLog.Fenced(_logger, _service, fenced.Pid);
            await StopProcessAsync(stopping).ConfigureAwait(false);
            Publish(_report with { State = ServiceInstanceState.Stopped, Pid = null, StartedAt = null, Problem = "killed: this node lost the right to run it" });
            return;
        }
        if (desire.CleanupOrder > _report.CleanupIndex)
        {
            _failures.Clear();
            _failed = false;
            _restartAt = 0;
            SupervisionLog.CleanedUp(_logger, _service);
            Publish(_report with { CleanupIndex = desire.CleanupOrder, Failures = 0, LastFailure = null, LastFailureAt = null, Problem = null,
                State = _process is null ? ServiceInstanceState.Stopped : _report.State });
        }
        if (desire.MoveOrder > _report.MoveIndex)
        {
            // Moved away by an operator: stopped gracefully, and not to run here again until a cleanup.
            if (_process is { } moving)
            {
                SupervisionLog.Stopping(_logger, _service, moving.Pid, "moved away as ordered");
                Publish(_report with { State = ServiceInstanceState.Stopping });
                await StopProcessAsync(stopping).ConfigureAwait(false);
            }
            _failed = true;
            Publish(_report with
            {
                State = ServiceInstanceState.Failed, Pid = null, StartedAt = null, MoveIndex = desire.MoveOrder,
                Problem = "moved away as ordered (switchman service move): a cleanup lets it run here again",
            });
            return;
        }
        if (_process is { } process)
        {
            await WatchAsync(process, desire, stopping).ConfigureAwait(false);
            return;
        }
        if (desire.RestartOrder > _report.RestartIndex)
        {
            // Nothing runs to restart: the order is done (a stopped or failed instance stays as it is).
            Publish(_report with { RestartIndex = desire.RestartOrder });
        }
        if (!desire.ShouldRun || desire.Definition is null)
        {
            if (_report.State != ServiceInstanceState.Failed || desire.Definition is null)
            {
                Publish(_report with { State = _failed ? ServiceInstanceState.Failed : ServiceInstanceState.Stopped, Pid = null, StartedAt = null, Problem = _failed ? _report.Problem : desire.WhyNot });
            }
            return;
        }
        if (_failed || _time.GetTimestamp() < _restartAt)
        {
            return;
        }
        if (desire.RightRemaining is { } startRight && !MayStartUnder(startRight))
        {
            return;
        }
        Start(desire.Definition, desire);
    }

    private async Task WatchAsync(ServiceProcess process, InstanceDesire desire, CancellationToken stopping)
    {
        if (process.HasExited)
        {
            var exit = await process.Exited.ConfigureAwait(false);
            var fencedByGuard = _guard is { HasExited: true };
            await StopProcessAsync(stopping).ConfigureAwait(false);
            if (fencedByGuard)
            {
                // Its guard killed it: this process did not renew the right in time (it was frozen or starved). Fencing,
                // not a failure of the service.
                SupervisionLog.Fenced(_logger, _service, process.Pid);
                Publish(_report with { State = ServiceInstanceState.Stopped, Pid = null, StartedAt = null, Problem = "killed by its guard: this node lost the right to run it" });
                return;
            }
            Fail(exit.Describe(), desire);
            return;
        }
        if (!desire.ShouldRun || desire.Definition is null || !desire.Definition.RunsTheSameAs(_running!))
        {
            var why = !desire.ShouldRun || desire.Definition is null ? desire.WhyNot ?? "not wanted here" : "its definition changed";
            SupervisionLog.Stopping(_logger, _service, process.Pid, why);
            Publish(_report with { State = ServiceInstanceState.Stopping });
            await StopProcessAsync(stopping).ConfigureAwait(false);
            Publish(_report with { State = ServiceInstanceState.Stopped, Pid = null, StartedAt = null, Problem = null });
            return;
        }
        if (desire.RestartOrder > _report.RestartIndex)
        {
            SupervisionLog.Restarting(_logger, _service, process.Pid);
            Publish(_report with { State = ServiceInstanceState.Stopping, RestartIndex = desire.RestartOrder });
            await StopProcessAsync(stopping).ConfigureAwait(false);
            Start(desire.Definition, desire);
            return;
        }
        if (desire.Definition != _running)
        {
            // Only its monitor, thresholds, timeouts or placement changed: the process keeps running under them.
            if (desire.Definition.Config.Monitor != _running!.Config.Monitor)
            {
                _monitor = desire.Definition.CreateMonitor(_time);
            }
            _running = desire.Definition;
        }
        if (_guard is { } guard && desire.RightRemaining is { } fence)
        {
            guard.Renew(FenceRemaining(fence));
        }
        if (_time.GetTimestamp() < _nextMonitor)
        {
            return;
        }
        var config = _running!.Config;
        // While it starts, look often: the sooner its first pass is seen, the sooner it serves.
        var every = _report.State == ServiceInstanceState.Starting && config.Monitor.Interval > StartingLookEvery ? StartingLookEvery : config.Monitor.Interval;
        _nextMonitor = _time.GetTimestamp() + (long)(every.TotalSeconds * _time.TimestampFrequency);
        var result = _monitor is null ? new MonitorResult(true, null, TimeSpan.Zero) : await CheckUnlessExitedAsync(_monitor, process, stopping).ConfigureAwait(false);
        if (process.HasExited)
        {
            // It died while it was being checked: that, not the failed check, is what happened.
            return;
        }
        _metrics.MonitorChecked(_service, result);
        if (result.Ok)
        {
            if (_report.State == ServiceInstanceState.Starting)
            {
                SupervisionLog.Running(_logger, _service, process.Pid, _time.GetElapsedTime(_startedAt));
                Publish(_report with { State = ServiceInstanceState.Running, Problem = null });
            }
            return;
        }
        if (_report.State == ServiceInstanceState.Running)
        {
            await StopProcessAsync(stopping).ConfigureAwait(false);
            Fail($"monitor failed: {result.Problem}", desire);
        }
        else if (_time.GetElapsedTime(_startedAt) >= config.StartTimeout)
        {
            await StopProcessAsync(stopping).ConfigureAwait(false);
            Fail($"its monitor did not pass within start_timeout ({config.StartTimeout.TotalSeconds:0.###}s): {result.Problem}", desire);
        }
    }

    /// <summary>
    /// Whether a fenced instance may start now: this node holds the right (not merely its grace), and that right's end is
    /// recorded before the process starts, so that a right that lapses while it starts still gets its grace.
    /// </summary>
    private bool MayStartUnder(Func<TimeSpan> right)
    {
        var remaining = right();
        if (!DeadlineGuard.StillHolds(remaining))
        {
            return false;
        }
        FenceRemaining(() => remaining);
        return true;
    }

    /// <summary>
    /// How long a fenced instance may still run: until this node's right to run it ends (the latest end it has seen),
    /// plus <see cref="SingletonFence.Grace"/>; <see cref="Timeout.InfiniteTimeSpan"/> for a right that never ends (a node alone).
    /// </summary>
    private TimeSpan FenceRemaining(Func<TimeSpan> right)
    {
        var remaining = right();
        if (remaining == Timeout.InfiniteTimeSpan)
        {
            return Timeout.InfiniteTimeSpan;
        }
        var now = _time.GetTimestamp();
        if (remaining > TimeSpan.Zero)
        {
            _rightEndsAt = Math.Max(_rightEndsAt, now + (long)(remaining.TotalSeconds * _time.TimestampFrequency));
        }
        return TimeSpan.FromSeconds((_rightEndsAt - now) / (double)_time.TimestampFrequency) + SingletonFence.Grace;
    }

    /// <summary>The monitor's answer (within its timeout). A failed answer waits a moment for a process exit that explains it.</summary>
    private async Task<MonitorResult> CheckUnlessExitedAsync(IServiceMonitor monitor, ServiceProcess process, CancellationToken stopping)
    {
        var result = await monitor.CheckAsync(stopping).ConfigureAwait(false);
        if (!result.Ok)
        {
            // A refused connection usually means the process is dying: let its exit status name the failure.
            await Task.WhenAny(process.MainExited, Task.Delay(ExitGrace, _time, stopping)).ConfigureAwait(false);
        }
        return result;
    }

    private void Start(InstanceDefinition definition, InstanceDesire desire)
    {
        try
        {
            var process = ServiceProcess.Start(definition.Spec, _time, _processOptions);
            _process = process;
            _running = definition;
            _monitor = definition.CreateMonitor(_time);
            _startedAt = _time.GetTimestamp();
            _nextMonitor = _startedAt;
            if (desire.RightRemaining is { } right)
            {
                _guard = ProcessGroupGuard.Start(process, _time);
                _guard.Renew(FenceRemaining(right));
            }
            SupervisionLog.Started(_logger, _service, process.Pid);
            _metrics.Started(_service);
            Publish(_report with
            {
                State = _monitor is null ? ServiceInstanceState.Running : ServiceInstanceState.Starting,
                Pid = process.Pid, StartedAt = _time.GetUtcNow(), Problem = null, RestartIndex = Math.Max(_report.RestartIndex, desire.RestartOrder),
            });
        }
        catch (ServiceStartException e)
        {
            Fail(e.Message, desire);
        }
        catch (GuardStartException e)
        {
            // Unguarded, a singleton could outlive this node's right: it does not run.
            _process?.Kill();
            Fail($"its guard could not start: {e.Message}", desire);
        }
    }

    /// <summary>Counts a failure and decides: restart (after a back-off), or leave it failed here.</summary>
    private void Fail(string reason, InstanceDesire desire)
    {
        var now = _time.GetUtcNow();
        var config = desire.Definition?.Config ?? _running?.Config;
        _failures.Add(now);
        if (config is { FailureTimeout: var window } && window > TimeSpan.Zero)
        {
            _failures.RemoveAll(at => now - at > window);
        }
        _metrics.Failed(_service);
        var giveUp = config is null || config.OnFail != Core.Configuration.ServiceOnFail.Restart || _failures.Count >= config.MigrationThreshold;
        _failed = giveUp;
        var backoff = _failures.Count <= 1 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, _failures.Count - 2)));
        _restartAt = _time.GetTimestamp() + (long)(backoff.TotalSeconds * _time.TimestampFrequency);
        var problem = giveUp
            ? config is { OnFail: Core.Configuration.ServiceOnFail.Restart }
                ? $"{reason}; {_failures.Count} failures reached migration_threshold {config.MigrationThreshold}: left stopped here until cleanup"
                : $"{reason}; on_fail: {config?.OnFail.ToString().ToLowerInvariant()}: left stopped here until cleanup"
            : reason;
        SupervisionLog.Failed(_logger, _service, reason, _failures.Count, giveUp ? "left stopped" : backoff == TimeSpan.Zero ? "restarting now" : $"restarting in {backoff.TotalSeconds:0}s");
        Publish(_report with
        {
            State = giveUp ? ServiceInstanceState.Failed : ServiceInstanceState.Restarting, Pid = null, StartedAt = null,
            Failures = _failures.Count, LastFailure = reason, LastFailureAt = now, Problem = problem,
        });
    }

    private async Task StopProcessAsync(CancellationToken cancellationToken)
    {
        var process = _process;
        if (process is null)
        {
            return;
        }
        var stopTimeout = _running?.Config.StopTimeout ?? TimeSpan.FromSeconds(20);
        _process = null;
        (_monitor as IDisposable)?.Dispose();
        _monitor = null;
        try
        {
            var result = await process.StopAsync(stopTimeout, cancellationToken).ConfigureAwait(false);
            if (result.Killed)
            {
                SupervisionLog.KilledAfterTimeout(_logger, _service, process.Pid, stopTimeout);
            }
        }
        finally
        {
            await process.DisposeAsync().ConfigureAwait(false);
            if (_guard is { } guard)
            {
                _guard = null;
                await guard.DisarmAsync().ConfigureAwait(false);
            }
            // Its record went when its main process ended; one still in D state keeps it, for the next start to reap.
        }
    }

    /// <summary>Until something may need a look: a wake-up, the process ending, the next monitor, the end of a back-off.</summary>
    private async Task WaitAsync(CancellationToken stopping)
    {
        var now = _time.GetTimestamp();
        var until = _process is not null ? _nextMonitor : _restartAt > now && !_failed ? _restartAt : long.MaxValue;
        var wait = until == long.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(Math.Max(0, until - now) / (double)_time.TimestampFrequency);
        if (_guard is not null && (wait == Timeout.InfiniteTimeSpan || wait > FenceLookEvery))
        {
            wait = FenceLookEvery;
        }
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var woken = _wake.WaitAsync(waiting.Token);
        var tasks = new List<Task> { woken };
        if (wait != Timeout.InfiniteTimeSpan)
        {
            tasks.Add(Task.Delay(wait, _time, waiting.Token));
        }
        if (_process is { } process)
        {
            tasks.Add(process.MainExited);
        }
        await Task.WhenAny(tasks).ConfigureAwait(false);
        // The waits that lost end cancelled; nothing awaits them.
        await waiting.CancelAsync().ConfigureAwait(false);
        stopping.ThrowIfCancellationRequested();
    }

    private void Publish(ServiceInstanceReport report)
    {
        var before = _report;
        if (report == before)
        {
            return;
        }
        Volatile.Write(ref _report, report);
        Changed?.Invoke(this, before);
    }
}

/// <summary>
/// What the node wants of one instance now: whether it should run (and if not, why), its definition with this node's
/// placeholders filled, the restart, cleanup and move orders in force, and for a singleton the right to run it (how long it
/// lasts at most unless renewed; <see cref="Timeout.InfiniteTimeSpan"/> on a node alone); null for a clone, which needs none.
/// </summary>
public sealed record InstanceDesire(
    bool ShouldRun, string? WhyNot, InstanceDefinition? Definition, long RestartOrder, long CleanupOrder, Func<TimeSpan>? RightRemaining = null, long MoveOrder = 0);
