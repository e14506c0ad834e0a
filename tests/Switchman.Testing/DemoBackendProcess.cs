using System.Globalization;

namespace Switchman.Testing;

/// <summary>How to start a <see cref="DemoBackendProcess"/>: the flags of <c>switchman demo-backend</c>.</summary>
public sealed record DemoBackendProcessOptions
{
    /// <summary>--listen; port 0 (the default) lets the operating system choose, and the process reports the port.</summary>
    public string Listen { get; init; } = "127.0.0.1:0";

    /// <summary>--delay: added to every application request.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>--fail-status: answer every application request with this status.</summary>
    public int? FailStatus { get; init; }

    /// <summary>--health-fail: /healthz answers 503 from the start.</summary>
    public bool HealthFailing { get; init; }

    /// <summary>How long to wait for the process to report that it is listening (includes .NET start-up on a busy machine).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How to start the process itself, e.g. with a <see cref="ChildProcessOptions.Launcher"/> that puts it in a network namespace.</summary>
    public ChildProcessOptions Process { get; init; } = new();
}

/// <summary>
/// A demo backend in its own process (<c>switchman demo-backend</c>), for tests that must kill a backend the way a crash
/// would, or stop it with SIGTERM. Ready once <see cref="StartAsync"/> returns; always killed on dispose.
/// </summary>
public sealed class DemoBackendProcess : IAsyncDisposable
{
    /// <summary>How long <see cref="StopAsync"/> waits after SIGTERM by default; the backend itself gives up on stragglers after 1.5 s.</summary>
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(10);

    private DemoBackendProcess(string name, ChildProcess process, Uri baseAddress)
    {
        Name = name;
        Process = process;
        BaseAddress = baseAddress;
    }

    public string Name { get; }

    /// <summary>The process, for its output, exit code and PID.</summary>
    public ChildProcess Process { get; }

    public int Pid => Process.Pid;

    /// <summary>Where it listens, e.g. http://127.0.0.1:40123/.</summary>
    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    /// <summary>The host:port to put in a Switchman configuration, e.g. "127.0.0.1:40123".</summary>
    public string Address => BaseAddress.Authority;

    /// <summary>Starts <c>switchman demo-backend --name <paramref name="name"/></c> and waits until it listens.</summary>
    /// <exception cref="TimeoutException">It did not report listening within <see cref="DemoBackendProcessOptions.StartTimeout"/>.</exception>
    /// <exception cref="InvalidOperationException">It exited before listening (the message shows its output).</exception>
    public static async Task<DemoBackendProcess> StartAsync(
        string name, DemoBackendProcessOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        options ??= new DemoBackendProcessOptions();

        List<string> arguments = ["demo-backend", "--listen", options.Listen, "--name", name];
        if (options.Delay is { } delay)
        {
            arguments.AddRange(["--delay", ((long)delay.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms"]);
        }
        if (options.FailStatus is { } failStatus)
        {
            arguments.AddRange(["--fail-status", failStatus.ToString(CultureInfo.InvariantCulture)]);
        }
        if (options.HealthFailing)
        {
            arguments.Add("--health-fail");
        }

        var process = SwitchmanExecutable.Start(arguments, options.Process);
        var started = false;
        try
        {
            // The one line demo-backend prints once Kestrel is bound: "demo-backend <name> listening on http://127.0.0.1:<port>".
            var prefix = $"demo-backend {name} listening on ";
            var line = await process.WaitForOutputLineAsync(
                line => line.StartsWith(prefix, StringComparison.Ordinal),
                options.StartTimeout,
                $"demo backend '{name}' to print \"{prefix}<url>\"",
                cancellationToken).ConfigureAwait(false);
            var baseAddress = new Uri(line[prefix.Length..].Trim() + "/");
            started = true;
            return new DemoBackendProcess(name, process, baseAddress);
        }
        finally
        {
            if (!started)
            {
                await process.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Kills the process (SIGKILL): its connections are reset and its port refuses connections. Returns at once.</summary>
    public void Kill() => Process.Kill();

    /// <summary>Kills the process and waits until it is gone, so the port is certainly closed when this returns.</summary>
    public async Task KillAndWaitAsync(CancellationToken cancellationToken = default)
    {
        Process.Kill();
        await Process.WaitForExitAsync(DefaultStopTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops gracefully (SIGTERM: in-flight requests finish) and returns the exit code, 0 on a clean stop.</summary>
    public Task<int> StopAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Process.StopAsync(timeout ?? DefaultStopTimeout, cancellationToken);

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
