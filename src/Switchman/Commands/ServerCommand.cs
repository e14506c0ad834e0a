using System.CommandLine;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary><c>switchman server drain|ready|maint|weight</c>: change one backend server at runtime.</summary>
internal static class ServerCommand
{
    private static readonly TimeSpan DefaultWaitTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The node's own default for how long a removal waits for in-flight requests.</summary>
    private static readonly TimeSpan DefaultRemoveTimeout = TimeSpan.FromSeconds(30);

    public static Command Create() => new("server", "Change a backend server at runtime: its state (ready, drain, maint) or weight; add or remove one.")
    {
        CreateState(ServerStates.Drain, "Take no new requests; those in flight finish. --wait returns once none are left, e.g. before patching the server.", canWait: true),
        CreateState(ServerStates.Ready, "Take traffic again.", canWait: false),
        CreateState(ServerStates.Maint, "Out of service: no traffic at all, not even sticky clients. --wait returns once no request is in flight.", canWait: true),
        CreateWeight(),
        CreateAdd(),
        CreateRemove(),
    };

    private static Command CreateState(string state, string description, bool canWait)
    {
        var backend = BackendArgument();
        var server = ServerArgument();
        var wait = new Option<bool>("--wait")
        {
            Description = "After the change, wait until the server has no request in flight (exit 1 if --timeout elapses first).",
        };
        var timeout = CommonOptions.Duration("--timeout", "How long --wait waits, e.g. 90s or 5m (default 60s).");
        var command = new Command(state, description) { backend, server };
        if (canWait)
        {
            command.Options.Add(wait);
            command.Options.Add(timeout);
        }

        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var backendName = parseResult.GetRequiredValue(backend);
            var serverName = parseResult.GetRequiredValue(server);
            var changed = await context.Client.SetServerStateAsync(backendName, serverName, state, cancellationToken);
            if (!canWait || !parseResult.GetValue(wait))
            {
                await PrintAsync(context, backendName, changed);
                return ExitCodes.Ok;
            }

            await context.Progress.WriteLineAsync(Describe(backendName, changed.Value));
            var waitTimeout = parseResult.GetValue(timeout) ?? DefaultWaitTimeout;
            var time = TimeProvider.System;
            var started = time.GetTimestamp();
            var waited = await InFlightWaiter.WaitAsync(context.Client, backendName, changed, waitTimeout, context.Progress, time, cancellationToken);
            if (!waited.Idle)
            {
                await context.Error.WriteLineAsync(
                    $"switchman: timed out after {Seconds(waitTimeout)}: {backendName}/{serverName} still has " +
                    $"{InFlightWaiter.Requests(waited.Last.Value.InFlight)} in flight; it stays in {waited.Last.Value.State}");
                return ExitCodes.Invalid;
            }
            await context.Output.WriteLineAsync(context.Json
                ? waited.Last.Json.Trim()
                : $"server {backendName}/{serverName}: {state}, no request in flight (waited {Seconds(time.GetElapsedTime(started))})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateWeight()
    {
        var backend = BackendArgument();
        var server = ServerArgument();
        var weight = new Argument<int>("N")
        {
            Description = "The new weight: the server's share of new requests relative to the others' (0 sends it none).",
        };
        var command = new Command("weight", "Change a server's weight.") { backend, server, weight };
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var backendName = parseResult.GetRequiredValue(backend);
            var changed = await context.Client.SetServerWeightAsync(
                backendName, parseResult.GetRequiredValue(server), parseResult.GetValue(weight), cancellationToken);
            await PrintAsync(context, backendName, changed);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateAdd()
    {
        var backend = BackendArgument();
        var name = new Argument<string>("NAME") { Description = "The new server's name, unique within the backend." };
        var address = new Argument<string>("ADDRESS") { Description = "host:port." };
        var weight = new Option<int?>("--weight") { Description = "Weight (default 1).", HelpName = "N" };
        var backup = new Option<bool>("--backup") { Description = "A backup server: used only when no primary is up." };
        var state = new Option<string?>("--state") { Description = "The state it starts in (default ready); drain or maint to bring it in without traffic." };
        state.AcceptOnlyFromAmong(ServerStates.Ready, ServerStates.Drain, ServerStates.Maint);
        var command = new Command("add", "Add a server to a backend: a new configuration revision. Health checks start at once.")
        {
            backend, name, address, weight, backup, state,
        };
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var backendName = parseResult.GetRequiredValue(backend);
            var server = new NewServer
            {
                Name = parseResult.GetRequiredValue(name),
                Address = parseResult.GetRequiredValue(address),
                Weight = parseResult.GetValue(weight),
                Backup = parseResult.GetValue(backup) ? true : null,
                State = parseResult.GetValue(state),
            };
            var added = await context.Client.AddServerAsync(backendName, server, cancellationToken);
            if (context.Json)
            {
                await context.Output.WriteLineAsync(added.Json.Trim());
                return ExitCodes.Ok;
            }
            await context.Output.WriteLineAsync($"server {backendName}/{server.Name} added in configuration revision {added.Value.Revision}");
            if (added.Value.Server is { } status)
            {
                await context.Output.WriteLineAsync(Describe(backendName, status));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateRemove()
    {
        var backend = BackendArgument();
        var server = ServerArgument();
        var timeout = CommonOptions.Duration(
            "--timeout", "How long the node waits for the server's in-flight requests (default 30s); if they outlast it, the server stays in drain and is not removed.");
        var command = new Command(
            "remove",
            "Remove a server from a backend: the node drains it, waits until it has no request in flight, then applies a configuration without it.")
        {
            backend, server, timeout,
        };
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var backendName = parseResult.GetRequiredValue(backend);
            var serverName = parseResult.GetRequiredValue(server);
            var removed = await context.Client.RemoveServerAsync(backendName, serverName, parseResult.GetValue(timeout) ?? DefaultRemoveTimeout, cancellationToken);
            if (context.Json)
            {
                await context.Output.WriteLineAsync(removed.Json.Trim());
            }
            else
            {
                await context.Output.WriteLineAsync($"server {backendName}/{serverName} drained and removed in configuration revision {removed.Value.Revision}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task PrintAsync(AdminContext context, string backend, AdminResponse<ServerStatus> changed) =>
        await context.Output.WriteLineAsync(context.Json ? changed.Json.Trim() : Describe(backend, changed.Value));

    /// <summary>"server api/a: drain, weight 1, up, 2 requests in flight".</summary>
    private static string Describe(string backend, ServerStatus server) =>
        $"server {backend}/{server.Name}: {server.State}, weight {server.Weight}, {server.Health}, {InFlightWaiter.Requests(server.InFlight)} in flight";

    private static string Seconds(TimeSpan duration) => $"{duration.TotalSeconds:0.#} s";

    private static Argument<string> BackendArgument() => new("BACKEND") { Description = "The backend's name, as in the configuration." };

    private static Argument<string> ServerArgument() => new("SERVER") { Description = "The server's name within the backend." };
}
