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
    /// $0 is the guard's name, "$@" the action: no quoting of our values into the script. Each line is a renewal
    /// (seconds it may wait for the next; bash's read -t takes fractions) or "released"; until the first it waits for
    /// ever. A read that times out or meets the end of the pipe ends the loop: run the action.
    /// </summary>
    private const string Script =
        """trap '' TERM INT HUP; wait=; while IFS= read -r ${wait:+-t "$wait"} word; do [ "$word" = released ] && exit 0; wait=$word; done; exec "$@" 2>/dev/null""";

    private readonly Process _process;
    private readonly TimeProvider _time;
    private Task _renewing = Task.CompletedTask;
    private int _disarmed;
    private bool _ended;

    private DeadlineGuard(Process process, TimeProvider time)
    {
        _process = process;
        _time = time;
    }

    public int Pid => _process.Id;

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
        try
        {
            return new DeadlineGuard(Process.Start(start) ?? throw new GuardStartException($"/bin/bash could not be started for the guard {name}"), time);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new GuardStartException($"/bin/bash cannot run for the guard {name} ({e.Message})");
        }
    }

    /// <summary>
    /// Lets the guard wait <paramref name="remaining"/> (this process's right, at most) for the next renewal before it
    /// runs its action; <see cref="Timeout.InfiniteTimeSpan"/> sends nothing (it waits for ever). Never blocks: while an
    /// earlier renewal is still being written (a guard that does not read), this one is skipped.
    /// </summary>
    public void Renew(TimeSpan remaining)
    {
        if (remaining == Timeout.InfiniteTimeSpan || !_renewing.IsCompleted || Volatile.Read(ref _disarmed) != 0)
        {
            return;
        }
        var seconds = Math.Max(0.001, remaining.TotalSeconds).ToString("0.000", CultureInfo.InvariantCulture);
        _renewing = WriteAsync(seconds);
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
