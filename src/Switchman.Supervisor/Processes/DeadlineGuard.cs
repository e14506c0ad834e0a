using System.Diagnostics;
using System.Globalization;

namespace Switchman.Supervisor.Processes;

/// <summary>The guard's shell could not be started; the message names it in one line.</summary>
public sealed class GuardStartException(string message) : Exception(message);

/// <summary>
/// A dead man's switch: a tiny <c>bash</c> child that runs an action (remove an address, kill a process group) unless
/// this process keeps telling it not to. This process renews it with how long its right lasts at most (a lease); when
/// that passes without a renewal (this process is frozen — SIGSTOP, a stall — or starved of CPU past its lease), or
/// the pipe closes without the word <c>released</c> (this process died, even by SIGKILL), the guard runs the action.
/// It ignores SIGTERM/SIGINT/SIGHUP, so a service manager that signals the whole group at stop does not stop it before
/// it has done its job. It is a child of this process in this process's group, never in the guarded service's group.
/// Started when the thing guarded is taken, disarmed (<see cref="DisposeAsync"/>) when this process lets go of it.
/// </summary>
public sealed class DeadlineGuard : IAsyncDisposable
{
    /// <summary>How long disarming waits for the guard to exit before it is killed (by its PID).</summary>
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(2);

    /// <summary>
    /// $0 is the guard's name, "$@" the action: no quoting of our values into the script. Each line is a renewal, the
    /// <b>deadline</b> itself (microseconds on <see cref="GuardInstant"/>'s clock, CLOCK_BOOTTIME, which the shell reads
    /// as /proc/uptime without starting a program), or "released"; until the first it waits for ever. Lines that queued
    /// up while the guard did not run are all read before it judges: the last one stands. It then waits, with read -t,
    /// for what is left until the deadline, and runs the action when that is nothing, when the wait ends without a new
    /// line, or when the pipe closes (end of file).
    /// <para>
    /// The deadline is absolute on purpose. Until 2026-12 a line said how many seconds were left, and the shell counted
    /// them from when it read the line: every delay between our reading of the lease and the shell's read (writing to
    /// the pipe, the shell waiting for a CPU on a loaded machine) lengthened the guard's wait by as much, past the end
    /// of the lease it was told of. /proc/uptime shows hundredths of a second, truncated: the shell counts "now" as the
    /// end of that hundredth, so it may act up to 10 ms early, never late.
    /// </para>
    /// </summary>
    private const string Script =
        """trap '' TERM INT HUP; d=; """ +
        """while :; do """ +
        """if [ -z "$d" ]; then IFS= read -r w || break; """ +
        """else read -r u _ < /proc/uptime; t=$(( d - (10#${u/./} + 1) * 10000 )); [ "$t" -gt 0 ] || break; """ +
        """printf -v t '%d.%06d' $(( t / 1000000 )) $(( t % 1000000 )); IFS= read -r -t "$t" w || break; fi; """ +
        """while [ "$w" != released ] && read -t 0 && IFS= read -r n; do w=$n; done; """ +
        """[ "$w" = released ] && exit 0; d=$w; """ +
        """done; exec "$@" 2>/dev/null""";

    /// <summary>
    /// How long before its deadline the guard may act: /proc/uptime's hundredth of a second (see the script above).
    /// </summary>
    public static readonly TimeSpan ActsEarlyBy = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Whether a right with <paramref name="remaining"/> left (<see cref="Timeout.InfiniteTimeSpan"/>: unending) is still
    /// one to hold under a guard: more than <see cref="ActsEarlyBy"/> is left. Whoever holds a right its guard enforces
    /// counts it as ended that much early, so that it lets go itself, and says why, before its guard can; and it takes
    /// nothing under a right its guard may already be ending.
    /// </summary>
    public static bool StillHolds(TimeSpan remaining) => remaining == Timeout.InfiniteTimeSpan || remaining > ActsEarlyBy;

    private readonly Process _process;
    private readonly TimeProvider _time;
    private Task _renewing = Task.CompletedTask;
    private int _disarmed;
    private bool _ended;

    private DeadlineGuard(Process process, TimeProvider time, string? realTimeRefused)
    {
        _process = process;
        _time = time;
        RealTimeRefused = realTimeRefused;
    }

    public int Pid => _process.Id;

    /// <summary>
    /// Why the guard could not be given its real-time priority (no CAP_SYS_NICE; systemd's RestrictRealtime), or null
    /// when it has it. Without it, a guard on a busy machine waits for a CPU like any process, and acts late by as much
    /// (measured on two loaded cores: up to ~0.1–0.2 s past its deadline; with it, ~1 ms).
    /// </summary>
    public string? RealTimeRefused { get; }

    /// <summary>Whether the guard has ended: it ran its action (its deadline passed), or was disarmed.</summary>
    public bool HasExited => Volatile.Read(ref _ended) || _process.HasExited;

    /// <summary>
    /// Starts a guard that runs <paramref name="action"/> (argv; argv[0] looked up in PATH) with
    /// <paramref name="environment"/> added to the inherited one. <paramref name="name"/> is its $0, seen in ps.
    /// </summary>
    /// <exception cref="GuardStartException">/bin/bash could not be started.</exception>
    public static DeadlineGuard Start(string name, IReadOnlyList<string> action, IReadOnlyDictionary<string, string>? environment, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(action);
        ArgumentOutOfRangeException.ThrowIfZero(action.Count);
        ArgumentNullException.ThrowIfNull(time);
        var start = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(name);
        foreach (var part in action)
        {
            start.ArgumentList.Add(part);
        }
        foreach (var (variable, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[variable] = value;
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new GuardStartException($"/bin/bash could not be started for the guard {name}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new GuardStartException($"/bin/bash cannot run for the guard {name} ({e.Message})");
        }
        return new DeadlineGuard(process, time, GiveRealTimePriority(process.Id));
    }

    /// <summary>
    /// SCHED_FIFO at the lowest real-time priority: when its deadline passes the guard runs at once, however many
    /// ordinary processes wait for a CPU, and so does the program it becomes (exec keeps the policy). It sleeps in read
    /// almost all the time: a few microseconds of work per renewal. Returns why it could not be done, or null.
    /// </summary>
    private static string? GiveRealTimePriority(int pid)
    {
        if (NativeMethods.SchedSetScheduler(pid, NativeMethods.SchedulerFifo, 1) == 0)
        {
            return null;
        }
        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        return errno == 1 // EPERM
            ? "no permission for real-time scheduling (CAP_SYS_NICE; under systemd, RestrictRealtime=no)"
            : System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno);
    }

    /// <summary>
    /// Lets the guard wait until <paramref name="remaining"/> (this process's right, at most) after now for the next
    /// renewal before it runs its action; <see cref="Timeout.InfiniteTimeSpan"/> sends nothing (it waits for ever).
    /// Never blocks: while an earlier renewal is still being written (a guard that does not read), this one is skipped.
    /// </summary>
    public void Renew(TimeSpan remaining) => Renew(remaining, GuardInstant.Now());

    /// <summary>
    /// Lets the guard wait until <paramref name="remaining"/> after <paramref name="asOf"/>: the instant the right was
    /// measured at (read <see cref="GuardInstant.Now"/> just before measuring it), so that the time this process takes
    /// between measuring and renewing does not stretch the deadline.
    /// </summary>
    public void Renew(TimeSpan remaining, GuardInstant asOf) => RenewAsync(remaining, asOf);

    /// <summary>
    /// <see cref="Renew(TimeSpan, GuardInstant)"/>, completed once the renewal is in the guard's pipe: arm a guard with
    /// it before taking what it guards, so that no freeze of this process in between leaves that thing unguarded.
    /// </summary>
    public Task RenewAsync(TimeSpan remaining, GuardInstant asOf)
    {
        if (remaining == Timeout.InfiniteTimeSpan || !_renewing.IsCompleted || Volatile.Read(ref _disarmed) != 0)
        {
            return _renewing;
        }
        var deadline = asOf.Add(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        _renewing = WriteAsync(deadline.Microseconds.ToString(CultureInfo.InvariantCulture));
        return _renewing;
    }

    /// <summary>This process let go of what is guarded itself: the guard exits without running its action. Safe to call twice.</summary>
    public ValueTask DisarmAsync() => DisposeAsync();

    /// <inheritdoc cref="DisarmAsync"/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disarmed, 1) == 1)
        {
            return;
        }
        try
        {
            // A renewal still being written means a guard that does not read (frozen with us): it is killed below.
            await _renewing.WaitAsync(ExitLimit, _time).ConfigureAwait(false);
            await _process.StandardInput.WriteLineAsync("released").ConfigureAwait(false);
            _process.StandardInput.Close();
        }
        catch (Exception e) when (e is IOException or TimeoutException or ObjectDisposedException)
        {
            // It is gone already, or stuck.
        }
        using var limit = new CancellationTokenSource(ExitLimit, _time);
        try
        {
            await _process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        Volatile.Write(ref _ended, true);
        _process.Dispose();
    }

    /// <summary>Whether the last renewal has been written to the pipe. For tests.</summary>
    internal bool RenewalWritten => _renewing.IsCompleted;

    /// <summary>Closes the pipe without a word, as the kernel does when this process dies: the guard fires. For tests.</summary>
    internal void Abandon() => _process.StandardInput.Close();

    private async Task WriteAsync(string line)
    {
        try
        {
            await _process.StandardInput.WriteLineAsync(line).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // It is gone: it ran its action (HasExited tells the owner).
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
