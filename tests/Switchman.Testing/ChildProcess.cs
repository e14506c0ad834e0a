using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Switchman.Testing;

/// <summary>What to start a <see cref="ChildProcess"/> with, besides the program and its arguments.</summary>
public sealed record ChildProcessOptions
{
    /// <summary>Working directory; the test's current directory when null.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Environment variables to set (a null value removes the variable); everything else is inherited.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>A short name for timeout and failure messages; the command line when null.</summary>
    public string? DisplayName { get; init; }

    /// <summary>
    /// A command put before the program that replaces itself with it (exec, not fork, so the PID is still the program's),
    /// e.g. <c>["ip", "netns", "exec", "lab-h1"]</c> to start it inside a network namespace. Empty: the program is started directly.
    /// </summary>
    public IReadOnlyList<string> Launcher { get; init; } = [];
}

/// <summary>
/// A child process under a test's control: its standard output and error are collected line by line (so a test can wait
/// for a line and failure messages can show what the process said), and it is always killed and reaped on dispose.
/// It is only ever signalled through its own PID.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    /// <summary>How long dispose waits for a killed process to be reaped and its output drained.</summary>
    private static readonly TimeSpan ReapTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a SIGSTOP or SIGCONT may take to show in /proc.</summary>
    private static readonly TimeSpan SignalTakesEffect = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly OutputLines _standardOutput = new();
    private readonly OutputLines _standardError = new();
    private readonly CancellationTokenSource _stopReading = new();
    private readonly Task _readStandardOutput;
    private readonly Task _readStandardError;
    private int _disposed;
    private volatile bool _frozen;

    private ChildProcess(Process process, string displayName)
    {
        _process = process;
        DisplayName = displayName;
        Pid = process.Id;
        _readStandardOutput = ReadLinesAsync(process.StandardOutput, _standardOutput, _stopReading.Token);
        _readStandardError = ReadLinesAsync(process.StandardError, _standardError, _stopReading.Token);
    }

    public int Pid { get; }

    /// <summary>The name used in messages, e.g. "switchman demo-backend --name a".</summary>
    public string DisplayName { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once the process has exited, otherwise null.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Standard output so far, one entry per line (the most recent lines, if it has been very chatty).</summary>
    public IReadOnlyList<string> StandardOutputLines => _standardOutput.Snapshot();

    /// <summary>Standard error so far, one entry per line.</summary>
    public IReadOnlyList<string> StandardErrorLines => _standardError.Snapshot();

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/> (passed as-is, no shell quoting involved).</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, ChildProcessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        options ??= new ChildProcessOptions();

        var argumentList = arguments.ToList();
        var displayName = options.DisplayName ?? string.Join(' ', [System.IO.Path.GetFileName(fileName), .. argumentList]);
        // With a launcher, it is the process we start, and the program and its arguments become its last arguments.
        var program = options.Launcher.Count > 0 ? options.Launcher[0] : fileName;
        List<string> programArguments = options.Launcher.Count > 0 ? [.. options.Launcher.Skip(1), fileName, .. argumentList] : argumentList;

        var startInfo = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = options.WorkingDirectory ?? "",
        };
        foreach (var argument in programArguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in options.Environment)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start '{displayName}': {e.Message}", e);
        }
        return new ChildProcess(process, displayName);
    }

    /// <summary>Waits for a standard-output line that matches <paramref name="predicate"/> (lines already written count) and returns it.</summary>
    /// <exception cref="TimeoutException">No such line within <paramref name="timeout"/>; the message names <paramref name="whatWeAwait"/> and shows the output.</exception>
    /// <exception cref="InvalidOperationException">The process closed its output (usually: exited) without writing such a line.</exception>
    public Task<string> WaitForOutputLineAsync(
        Func<string, bool> predicate, TimeSpan timeout, string whatWeAwait, CancellationToken cancellationToken = default) =>
        WaitForLineAsync(_standardOutput, "standard output", predicate, timeout, whatWeAwait, cancellationToken);

    /// <summary>Like <see cref="WaitForOutputLineAsync"/>, for standard error (where logs go).</summary>
    public Task<string> WaitForErrorLineAsync(
        Func<string, bool> predicate, TimeSpan timeout, string whatWeAwait, CancellationToken cancellationToken = default) =>
        WaitForLineAsync(_standardError, "standard error", predicate, timeout, whatWeAwait, cancellationToken);

    /// <summary>Waits for the process to exit and returns its exit code.</summary>
    /// <exception cref="TimeoutException">Still running after <paramref name="timeout"/> (it is left running).</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!await TryWaitForExitAsync(timeout, cancellationToken).ConfigureAwait(false))
        {
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.###} s waiting for {DisplayName} (pid {Pid}) to exit.\n{DescribeOutput()}");
        }
        return _process.ExitCode;
    }

    /// <summary>Kills the process and every process it started (SIGKILL), as a crash or power loss would. Returns at once; does nothing if it has exited.</summary>
    /// <summary>SIGKILL to this process only, as a crash (a segfault, the OOM killer) ends it: its own children live on.</summary>
    public void Crash()
    {
        try
        {
            _process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException) when (_process.HasExited)
        {
        }
    }

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) when (_process.HasExited)
        {
            // It exited between our look and the kill: the outcome we wanted.
        }
    }

    /// <summary>Sends SIGHUP (Linux), which Switchman, like HAProxy and nginx, takes as "reload the configuration file".</summary>
    public void SendHangup() => Signal(NativeMethods.SigHup, "SIGHUP");

    /// <summary>
    /// SIGSTOP, then waits until the kernel shows every thread of the process stopped (SIGSTOP stops threads one by one,
    /// as each is next scheduled: on a busy machine one can still answer for milliseconds after kill() returned). The
    /// process keeps its sockets, and the kernel still completes TCP handshakes on its listening sockets: what a frozen
    /// VM, a long GC pause or a stuck disk looks like to its peers. <see cref="ThawAsync"/> resumes it; stopping or
    /// disposing a frozen process thaws it.
    /// </summary>
    public async Task FreezeAsync()
    {
        Signal(NativeMethods.SigStop, "SIGSTOP");
        _frozen = true;
        await Await.UntilAsync(() => ProcessRunState.IsStopped(Pid), SignalTakesEffect, $"every thread of {DisplayName} (pid {Pid}) to be stopped after SIGSTOP")
            .ConfigureAwait(false);
    }

    /// <summary>SIGCONT to a process stopped by <see cref="FreezeAsync"/>, and waits until it runs again.</summary>
    public async Task ThawAsync()
    {
        Signal(NativeMethods.SigCont, "SIGCONT");
        _frozen = false;
        await Await.UntilAsync(() => !ProcessRunState.IsMainThreadStopped(Pid), SignalTakesEffect, $"{DisplayName} (pid {Pid}) to run again after SIGCONT")
            .ConfigureAwait(false);
    }

    private void Signal(int signal, string name)
    {
        if (NativeMethods.Kill(Pid, signal) != 0)
        {
            var error = new Win32Exception();
            throw new InvalidOperationException($"Could not send {name} to {DisplayName} (pid {Pid}): {error.Message}", error);
        }
    }

    /// <summary>Asks the process to shut down gracefully (SIGTERM; on Windows, which has no SIGTERM, a kill). Returns at once.</summary>
    public void Terminate()
    {
        if (_frozen && !_process.HasExited)
        {
            // A stopped process would not act on SIGTERM until resumed.
            Signal(NativeMethods.SigCont, "SIGCONT");
            _frozen = false;
        }
        if (OperatingSystem.IsWindows())
        {
            Kill();
            return;
        }
        if (_process.HasExited)
        {
            return;
        }
        if (NativeMethods.Kill(Pid, NativeMethods.SigTerm) != 0)
        {
            var error = new Win32Exception();
            if (!_process.HasExited)
            {
                throw new InvalidOperationException($"Could not send SIGTERM to {DisplayName} (pid {Pid}): {error.Message}", error);
            }
        }
    }

    /// <summary>Sends SIGTERM and waits for a graceful exit; returns the exit code.</summary>
    /// <exception cref="TimeoutException">Still running after <paramref name="timeout"/>; it is then killed, so nothing is left behind.</exception>
    public async Task<int> StopAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Terminate();
        try
        {
            return await WaitForExitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            Kill();
            throw new TimeoutException($"{DisplayName} (pid {Pid}) did not exit within {timeout.TotalSeconds:0.###} s of SIGTERM, so it was killed.", e);
        }
    }

    /// <summary>The last lines of standard output and error, for failure messages.</summary>
    public string DescribeOutput(int lastLines = 30)
    {
        var output = StandardOutputLines;
        var error = StandardErrorLines;
        var exit = ExitCode is { } code ? $"exited with code {code}" : "still running";
        return new StringBuilder()
            .AppendLine($"--- {DisplayName} (pid {Pid}, {exit})")
            .AppendLine($"--- standard output (last {Math.Min(lastLines, output.Count)} of {output.Count} lines):")
            .AppendJoin('\n', output.TakeLast(lastLines)).AppendLine()
            .AppendLine($"--- standard error (last {Math.Min(lastLines, error.Count)} of {error.Count} lines):")
            .AppendJoin('\n', error.TakeLast(lastLines)).AppendLine()
            .ToString();
    }

    /// <summary>Kills the process tree if it is still running, reaps it, and finishes reading its output.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        try
        {
            Kill();
            await WaitForExitAsync(ReapTimeout).ConfigureAwait(false);

            // Its pipes close when it dies; the readers then see the end. Stop them anyway if a grandchild holds a pipe open.
            _stopReading.CancelAfter(ReapTimeout);
            await Task.WhenAll(_readStandardOutput, _readStandardError).ConfigureAwait(false);
        }
        finally
        {
            _stopReading.Dispose();
            _process.Dispose();
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the exit; false when the process is still running.</summary>
    private async Task<bool> TryWaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, TimeProvider.System);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        try
        {
            await _process.WaitForExitAsync(waiting.Token).ConfigureAwait(false);
            // The process is gone, but its last lines may still be in the pipes: read them to the end so callers that
            // look at the output right after the exit see all of it.
            await Task.WhenAll(_readStandardOutput, _readStandardError).WaitAsync(waiting.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task ReadLinesAsync(StreamReader reader, OutputLines lines, CancellationToken cancellationToken)
    {
        try
        {
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                lines.Add(line);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Dispose gave up waiting for the end of the stream.
        }
        finally
        {
            lines.End();
        }
    }

    private async Task<string> WaitForLineAsync(
        OutputLines lines, string streamName, Func<string, bool> predicate, TimeSpan timeout, string whatWeAwait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        using var deadline = new CancellationTokenSource(timeout, TimeProvider.System);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        long position = 0;
        while (true)
        {
            var (newLines, next, ended, changed) = lines.ReadFrom(position);
            position = next;
            if (newLines.FirstOrDefault(predicate) is { } match)
            {
                return match;
            }
            if (ended)
            {
                // Give the process a moment to be reaped so the message can show its exit code.
                await TryWaitForExitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                throw new InvalidOperationException(
                    $"{DisplayName} (pid {Pid}) closed its {streamName} before {whatWeAwait}.\n{DescribeOutput()}");
            }
            try
            {
                await changed.WaitAsync(waiting.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"Timed out after {timeout.TotalSeconds:0.###} s waiting for {whatWeAwait} on the {streamName} of {DisplayName}.\n{DescribeOutput()}");
            }
        }
    }
}
