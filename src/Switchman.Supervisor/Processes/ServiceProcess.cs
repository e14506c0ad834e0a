using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace Switchman.Supervisor.Processes;

/// <summary>
/// One running instance of a service: a child in its own session and process group (pgid = <see cref="Pid"/>), so
/// the whole tree it starts is stopped or killed together; its output appended to its log file; its end observed.
/// <para>
/// Lifetime: <see cref="Exited"/> completes when the main process has ended (children of it may live on in the group);
/// <see cref="StopAsync"/> ends the whole group, gracefully, and returns at once when nothing of it is left; disposal
/// kills what is left of the group at once (SIGKILL — call <see cref="StopAsync"/> first for a graceful stop) and
/// releases the pipes.
/// </para>
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly TimeProvider _time;
    private readonly ServiceProcessOptions _options;
    private readonly SpawnedChild _child;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource<ProcessExit> _leaderExit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _output;
    private readonly Lock _gate = new();
    private Task<StopResult>? _stopping;

    /// <summary>Set once no living process of the group was seen: from then on nothing is signalled (the id may be reused).</summary>
    private volatile bool _groupGone;

    private int _disposed;

    private ServiceProcess(ProcessSpec spec, TimeProvider time, ServiceProcessOptions options, SpawnedChild child)
    {
        Spec = spec;
        _time = time;
        _options = options;
        _child = child;
        StartedAt = time.GetUtcNow();
        var lines = Channel.CreateBounded<LogLine>(new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _output = PumpOutputAsync(lines);
        var waiter = new Thread(WaitForMainProcess) { IsBackground = true, Name = $"wait {spec.Name} {child.Pid}" };
        waiter.Start();
        Exited = ObserveExitAsync();
    }

    public ProcessSpec Spec { get; }

    /// <summary>The main process's PID, which is also the id of its process group and of its session.</summary>
    public int Pid => _child.Pid;

    public DateTimeOffset StartedAt { get; }

    /// <summary>
    /// How the main process ended. Completes once its last output is in the log (or
    /// <see cref="ServiceProcessOptions.OutputDrainLimit"/> after it ended, if a child of it still holds the pipes).
    /// </summary>
    public Task<ProcessExit> Exited { get; }

    /// <summary>Completes the moment the main process has ended (waitpid), before its last output is in the log.</summary>
    public Task<ProcessExit> MainExited => _leaderExit.Task;

    /// <summary>Whether the main process has ended (its children may not have: see <see cref="StopAsync"/>).</summary>
    public bool HasExited => _leaderExit.Task.IsCompleted;

    /// <summary>
    /// Starts <paramref name="spec"/>. Checks first what can be checked (executable, working directory, user, log
    /// directory) so that the error names it.
    /// </summary>
    /// <exception cref="ServiceStartException">It could not be started; the message names why, in one line.</exception>
    public static ServiceProcess Start(ProcessSpec spec, TimeProvider time, ServiceProcessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(time);
        options ??= ServiceProcessOptions.Default;
        ProcessRecords.CheckName(spec.Name);
        var plan = LaunchPlan.Resolve(spec);
        PrepareLogDirectory(spec.LogFile);
        var child = Spawner.Spawn(plan);
        try
        {
            // Here, and only here: before the main process can be reaped (its waiting thread starts below), so /proc
            // still has its start time even if it has already exited, and the PID cannot have been reused.
            options.Records?.Add(spec.Name, child.Pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // InvalidOperationException: its /proc entry unreadable although it is not reaped (no /proc).
            // Without its record a crash of this node would orphan it: not started.
            ProcessGroup.Signal(child.Pid, NativeMethods.SignalKill);
            NativeMethods.WaitPid(child.Pid, out _, 0);
            child.Stdout.Dispose();
            child.Stderr.Dispose();
            throw new ServiceStartException($"{spec.Name} cannot be recorded in {options.Records!.Directory}: {e.Message}");
        }
        return new ServiceProcess(spec, time, options, child);
    }

    /// <summary>
    /// Stops the whole group: SIGTERM to every process of it, then, if any is left after
    /// <paramref name="stopTimeout"/>, SIGKILL, and waits (bounded) until none is left. Safe to call again or
    /// concurrently: every call gets the first one's result. <paramref name="cancellationToken"/> ends only the
    /// caller's wait; a stop once begun goes on.
    /// </summary>
    public Task<StopResult> StopAsync(TimeSpan stopTimeout, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stopTimeout, TimeSpan.Zero);
        Task<StopResult> stopping;
        lock (_gate)
        {
            stopping = _stopping ??= StopGroupAsync(stopTimeout);
        }
        return stopping.WaitAsync(cancellationToken);
    }

    /// <summary>SIGKILL to the whole group, now, without waiting: for self-fencing, when this node must let go at once.</summary>
    public void Kill()
    {
        if (!_groupGone)
        {
            ProcessGroup.Signal(Pid, NativeMethods.SignalKill);
        }
    }

    /// <summary>Kills what is left of the group (SIGKILL), waits (bounded) for the main process and the output, and releases the pipes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        Kill();
        try
        {
            await Exited.WaitAsync(_options.KillWaitLimit, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // In uninterruptible sleep: its waiting thread stays, and its record lets the next start of the node find it.
        }
        await _lifetime.CancelAsync().ConfigureAwait(false);
        await _output.ConfigureAwait(false);
        Task<StopResult>? stopping;
        lock (_gate)
        {
            stopping = _stopping;
        }
        if (stopping is not null)
        {
            await stopping.ConfigureAwait(false);
        }
        await _child.Stdout.DisposeAsync().ConfigureAwait(false);
        await _child.Stderr.DisposeAsync().ConfigureAwait(false);
        _lifetime.Dispose();
    }

    private static void PrepareLogDirectory(string logFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(logFile);
        var directory = Path.GetDirectoryName(Path.GetFullPath(logFile));
        try
        {
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServiceStartException($"log directory {directory} cannot be created: {e.Message}");
        }
    }

    /// <summary>Reads both pipes into the one log writer until both end (or the instance is disposed).</summary>
    private async Task PumpOutputAsync(Channel<LogLine> lines)
    {
        var writer = ServiceLogWriter.RunAsync(lines.Reader, Spec.LogFile, _options.LogRotationBytes, _lifetime.Token);
        try
        {
            await Task.WhenAll(
                OutputPump.RunAsync(_child.Stdout, "stdout", lines.Writer, _time, _lifetime.Token),
                OutputPump.RunAsync(_child.Stderr, "stderr", lines.Writer, _time, _lifetime.Token)).ConfigureAwait(false);
        }
        finally
        {
            lines.Writer.Complete();
            await writer.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The main process's own thread, blocked in waitpid(2) until it ends: the only way to learn its real wait status
    /// (exit code or signal). One parked thread per running service, for its whole life.
    /// </summary>
    private void WaitForMainProcess()
    {
        int status;
        while (NativeMethods.WaitPid(Pid, out status, 0) != Pid)
        {
            if (Marshal.GetLastPInvokeError() != NativeMethods.Interrupted)
            {
                // ECHILD: someone else reaped it; its status is lost.
                _leaderExit.TrySetResult(new ProcessExit(null, null, _time.GetUtcNow()));
                return;
            }
        }
        _leaderExit.TrySetResult(ProcessExit.FromWaitStatus(status, _time.GetUtcNow()));
    }

    private async Task<ProcessExit> ObserveExitAsync()
    {
        var exit = await _leaderExit.Task.ConfigureAwait(false);
        try
        {
            _options.Records?.Remove(Spec.Name, Pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A stale record is harmless: reaping checks the start time.
        }
        if (ProcessGroup.IsEmpty(Pid))
        {
            _groupGone = true;
        }
        try
        {
            await _output.WaitAsync(_options.OutputDrainLimit, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A child of the service holds the pipes; its lines go on being logged.
        }
        return exit;
    }

    private async Task<StopResult> StopGroupAsync(TimeSpan stopTimeout)
    {
        var started = _time.GetTimestamp();
        if (GroupEnded() || !ProcessGroup.Signal(Pid, NativeMethods.SignalTerm))
        {
            _groupGone = true;
            return new StopResult(StopOutcome.AlreadyEnded, TimeSpan.Zero);
        }
        try
        {
            if (await WaitGroupEndedAsync(stopTimeout).ConfigureAwait(false))
            {
                return new StopResult(StopOutcome.Terminated, _time.GetElapsedTime(started));
            }
            ProcessGroup.Signal(Pid, NativeMethods.SignalKill);
            var ended = await WaitGroupEndedAsync(_options.KillWaitLimit).ConfigureAwait(false);
            return new StopResult(ended ? StopOutcome.Killed : StopOutcome.Lingering, _time.GetElapsedTime(started));
        }
        catch (OperationCanceledException)
        {
            // Disposed meanwhile, which killed the group.
            return new StopResult(StopOutcome.Killed, _time.GetElapsedTime(started));
        }
    }

    /// <summary>The main process counts until it is reaped; after that, /proc tells whether any other member lives.</summary>
    private bool GroupEnded()
    {
        if (_groupGone)
        {
            return true;
        }
        if (HasExited && ProcessGroup.IsEmpty(Pid))
        {
            _groupGone = true;
        }
        return _groupGone;
    }

    private async Task<bool> WaitGroupEndedAsync(TimeSpan limit)
    {
        var started = _time.GetTimestamp();
        while (!GroupEnded())
        {
            var left = limit - _time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }
            await Task.Delay(left < ProcessRecords.PollInterval ? left : ProcessRecords.PollInterval, _time, _lifetime.Token).ConfigureAwait(false);
        }
        return true;
    }
}
