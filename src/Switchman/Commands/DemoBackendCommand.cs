using System.CommandLine;
using System.Runtime.InteropServices;
using Switchman.DemoBackend;

namespace Switchman.Commands;

/// <summary><c>switchman demo-backend</c>: runs a small REST backend to put behind Switchman in quickstarts and tests.</summary>
internal static class DemoBackendCommand
{
    /// <summary>
    /// When a host configures System.CommandLine's termination handling, it gives an action 2 seconds after SIGTERM/Ctrl+C
    /// before it gives up on it, so the graceful stop fits well inside that; connections still open afterwards are aborted.
    /// </summary>
    private static readonly TimeSpan GracefulStopTimeout = TimeSpan.FromSeconds(1.5);

    public static Command Create()
    {
        var listen = new Option<string>("--listen")
        {
            Description = "Address to listen on as ip:port; port 0 picks a free port (printed on start-up).",
            DefaultValueFactory = _ => "127.0.0.1:9001",
        };
        var name = new Option<string>("--name")
        {
            Description = "Server name reported in every response (JSON \"server\" and the X-Server header).",
            Required = true,
        };
        var delay = DurationOption("--delay", "Delay added to every application request, e.g. 200ms or 1s (none by default).");
        var loadTime = DurationOption(
            "--load-time",
            "Bind at once but answer nothing (health checks included) until this long after start, e.g. 8s: an application that loads after binding its port.");
        var failStatus = new Option<int?>("--fail-status")
        {
            Description = "Answer every application request with this HTTP status (200-599).",
        };
        failStatus.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } status && status is < 200 or > 599)
            {
                result.AddError($"--fail-status: {status} is not a status from 200 to 599");
            }
        });
        var healthFail = new Option<bool>("--health-fail")
        {
            Description = "Start with /healthz answering 503.",
        };

        var command = new Command(
            "demo-backend",
            "Run a demo REST backend: echoes each request as JSON, answers /healthz, and can be made slow or failing through POST /_control.")
        {
            listen,
            name,
            delay,
            loadTime,
            failStatus,
            healthFail,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new DemoBackendOptions
            {
                Name = parseResult.GetRequiredValue(name),
                Listen = parseResult.GetRequiredValue(listen),
                Delay = parseResult.GetValue(delay),
                LoadTime = parseResult.GetValue(loadTime),
                FailStatus = parseResult.GetValue(failStatus),
                HealthFailing = parseResult.GetValue(healthFail),
            };
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;

            // System.CommandLine 2.0.0 turns SIGTERM/Ctrl+C into the action's token only when the caller of InvokeAsync sets
            // InvocationConfiguration.ProcessTerminationTimeout; listen for them here too, so the backend stops cleanly
            // (exit 0) under any host. Marking the signal handled keeps the runtime from exiting with 143 straight away.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            void OnStopSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }
            using var onSigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStopSignal);
            using var onSigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStopSignal);

            DemoBackendServer server;
            try
            {
                server = await DemoBackendServer.StartAsync(options, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Told to stop while starting: nothing is running, which is what was asked.
                return 0;
            }
            catch (FormatException e)
            {
                await error.WriteLineAsync($"demo-backend: --listen: {e.Message}");
                return 2;
            }
            catch (IOException e)
            {
                await error.WriteLineAsync($"demo-backend: cannot listen on {options.Listen}: {e.Message}");
                return 1;
            }

            await using (server)
            {
                // Test harnesses read this exact line to learn the port when --listen asked for port 0.
                await output.WriteLineAsync(
                    $"demo-backend {server.Name} listening on {server.BaseAddress.GetLeftPart(UriPartial.Authority)}");
                await output.FlushAsync(CancellationToken.None);

                await WaitForCancellationAsync(stop.Token);

                using var stopTimeout = new CancellationTokenSource(GracefulStopTimeout, options.TimeProvider);
                await server.StopAsync(stopTimeout.Token);
            }
            return 0;
        });
        return command;
    }

    private static async Task WaitForCancellationAsync(CancellationToken cancellationToken)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = cancellationToken.Register(() => cancelled.TrySetResult());
        await cancelled.Task;
    }

    private static Option<TimeSpan> DurationOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : null;
            if (DurationText.TryParse(text, out var duration, out var error))
            {
                return duration;
            }
            result.AddError($"{name}: {error}");
            return TimeSpan.Zero;
        },
    };
}
