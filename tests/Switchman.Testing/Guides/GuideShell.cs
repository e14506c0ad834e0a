using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace Switchman.Testing.Guides;

/// <summary>
/// One bash process that runs a guide's commands one block after another, as a reader typing them into one terminal
/// would: variables, functions, the current directory and background jobs carry over from block to block. The shell
/// runs with <c>set -euo pipefail</c>, so a failing command ends it, and the block it was in fails with what the shell
/// printed. Each block reads its standard input from /dev/null (a command that reads its input cannot swallow the next
/// block). Standard error is merged into standard output, as in a terminal. Disposing kills the shell and every
/// process it started that is still its descendant, by PID.
/// </summary>
public sealed class GuideShell : IAsyncDisposable
{
    private const int MaxTranscriptLines = 20_000;

    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _reading;
    private readonly List<string> _transcript = [];
    private readonly Lock _gate = new();
    private readonly Action<string>? _echo;
    private readonly string _marker = "@@guide-step-done-" + Guid.NewGuid().ToString("N");
    private int _disposed;

    private GuideShell(Process process, Action<string>? echo)
    {
        _process = process;
        _echo = echo;
        _reading = ReadAsync();
    }

    /// <summary>The shell's PID.</summary>
    public int Pid => _process.Id;

    /// <summary>Starts bash in <paramref name="workingDirectory"/> with the test's environment changed by <paramref name="environment"/> (a null value removes a variable).</summary>
    /// <param name="echo">Told every line the shell prints, e.g. to write it to the test's output.</param>
    public static GuideShell Start(string workingDirectory, IReadOnlyDictionary<string, string?> environment, Action<string>? echo = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var startInfo = new ProcessStartInfo("bash")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            StandardOutputEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in new[] { "--noprofile", "--norc", "-s" })
        {
            startInfo.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
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
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("bash did not start");
        // Standard error is merged into standard output by the shell itself (exec 2>&1): one stream, in order.
        process.StandardInput.NewLine = "\n";
        process.StandardInput.WriteLine("exec 2>&1");
        process.StandardInput.WriteLine("set -euo pipefail");
        process.StandardInput.Flush();
        return new GuideShell(process, echo);
    }

    /// <summary>What the shell printed so far (the most recent lines, if it printed a great many).</summary>
    public IReadOnlyList<string> Transcript
    {
        get
        {
            lock (_gate)
            {
                return [.. _transcript];
            }
        }
    }

    /// <summary>Runs one block of commands and returns what it printed.</summary>
    /// <exception cref="GuideStepFailedException">A command failed (the shell ended), or the block did not finish within <paramref name="timeout"/>.</exception>
    public async Task<IReadOnlyList<string>> RunAsync(string commands, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(commands);
        var printed = new List<string>();
        if (_process.HasExited)
        {
            throw new GuideStepFailedException(commands, $"the shell had already ended (exit status {_process.ExitCode})", printed);
        }
        await _process.StandardInput.WriteLineAsync($"{{\n{commands}\n}} < /dev/null\nprintf '\\n%s\\n' '{_marker}'".AsMemory(), cancellationToken)
            .ConfigureAwait(false);
        await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(deadline.Token).ConfigureAwait(false))
            {
                while (_lines.Reader.TryRead(out var line))
                {
                    if (line == _marker)
                    {
                        // The marker's own leading newline ends a last line without one; that empty line is not output.
                        if (printed.Count > 0 && printed[^1].Length == 0)
                        {
                            printed.RemoveAt(printed.Count - 1);
                        }
                        return printed;
                    }
                    printed.Add(line);
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new GuideStepFailedException(commands, $"it did not finish within {timeout.TotalSeconds:0.#} s", printed);
        }
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        throw new GuideStepFailedException(commands, $"a command failed: the shell ended with exit status {_process.ExitCode}", printed);
    }

    /// <summary>Kills the shell and its descendants (SIGKILL, by PID) if it still runs, and waits for its output to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException) when (_process.HasExited)
        {
        }
        using var reap = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(reap.Token).ConfigureAwait(false);
            await _reading.WaitAsync(reap.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // A grandchild that left the tree may hold the pipe open; the process itself is gone.
        }
        _process.Dispose();
    }

    private async Task ReadAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (_gate)
                {
                    _transcript.Add(line);
                    if (_transcript.Count > MaxTranscriptLines)
                    {
                        _transcript.RemoveRange(0, MaxTranscriptLines / 2);
                    }
                }
                if (line != _marker)
                {
                    _echo?.Invoke(line);
                }
                _lines.Writer.TryWrite(line);
            }
        }
        finally
        {
            _lines.Writer.TryComplete();
        }
    }
}

/// <summary>A block of a guide's commands that failed, with what it printed.</summary>
public sealed class GuideStepFailedException : Exception
{
    public GuideStepFailedException()
    {
    }

    public GuideStepFailedException(string message)
        : base(message)
    {
    }

    public GuideStepFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public GuideStepFailedException(string commands, string why, IReadOnlyList<string> printed)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"The guide's block failed: {why}.\n--- the block:\n{commands}\n--- what it printed (last {Math.Min(40, printed.Count)} of {printed.Count} lines):\n{string.Join('\n', printed.TakeLast(40))}"))
    {
    }
}
