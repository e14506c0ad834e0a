using System.CommandLine;
using Spectre.Console;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary>
/// <c>switchman service list|status|restart|stop|start|cleanup|logs</c>: the services the nodes supervise, and what an
/// operator does with them (Pacemaker's <c>crm_mon</c>, <c>crm_resource --restart|--cleanup</c>, <c>pcs resource
/// disable|enable</c>).
/// </summary>
internal static class ServiceCommand
{
    public static Command Create() => new("service", "Show the supervised services and their instances; restart, stop, start or clean up a service; read its output.")
    {
        CreateList(),
        CreateStatus(),
        CreateRestart(),
        CreateTarget(started: false, "stop",
            "Stop a service on every node and keep it stopped (across configuration changes and restarts of the node) until `switchman service start`. " +
            "Returns once its instances stopped (each within its stop_timeout)."),
        CreateTarget(started: true, "start", "Start a service stopped with `switchman service stop` again, on every node it runs on."),
        CreateCleanup(),
        CreateMove(),
        CreateLogs(),
    };

    private static Command CreateList()
    {
        var command = new Command(
            "list",
            "Show every service's instances: node, state, pid, uptime, failures and the last one; then any service stopped by an operator, " +
            "and every instance that is not running when it should be, with why.");
        AdminCommandAction.Set(command, async (context, _, cancellationToken) =>
        {
            var services = await context.Client.GetServicesAsync(cancellationToken);
            if (context.Json)
            {
                await context.Output.WriteLineAsync(services.Json.Trim());
                return ExitCodes.Ok;
            }
            var console = Terminal.For(context.Output);
            if (services.Value.Services.Count == 0)
            {
                console.WriteLine("no services are configured (see services: in the configuration)");
                return ExitCodes.Ok;
            }
            ServicesView.RenderTable(console, services.Value.Services, TimeProvider.System.GetUtcNow());
            ServicesView.RenderNotes(console, services.Value.Services);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateStatus()
    {
        var name = NameArgument();
        var command = new Command("status", "Show one service: its placement and backend, and each instance's node, state, pid, uptime, failures and the last one.") { name };
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var service = await context.Client.GetServiceAsync(parseResult.GetRequiredValue(name), cancellationToken);
            if (context.Json)
            {
                await context.Output.WriteLineAsync(service.Json.Trim());
                return ExitCodes.Ok;
            }
            var console = Terminal.For(context.Output);
            console.WriteLine(Describe(service.Value));
            Render(console, service.Value);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateRestart()
    {
        var name = NameArgument();
        var node = NodeOption("Restart only this node's instance (default: every node's at once).");
        var rolling = new Option<bool>("--rolling")
        {
            Description = "One node at a time: drain its server in every load balancer, wait for its requests, restart it, " +
                "wait until it passes its monitor and every load balancer sees it up, put it back; stop at the first that does not come back.",
        };
        var drainTimeout = CommonOptions.Duration(
            "--drain-timeout", "With --rolling: how long to wait for a drained server's in-flight requests before restarting it anyway (default 30s, at most 10m).");
        var command = new Command(
            "restart",
            "Restart a service's instances and print each step. Returns once they are back (a rolling restart: once every node's is); " +
            "exit 1 with the steps taken when a rolling restart stopped.")
        {
            name, node, rolling, drainTimeout,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(drainTimeout) is not null && !result.GetValue(rolling))
            {
                result.AddError("--drain-timeout applies to a rolling restart: add --rolling");
            }
            if (result.GetValue(node) is not null && result.GetValue(rolling))
            {
                result.AddError("--rolling goes through every node: leave out --node, or leave out --rolling to restart one node's instance");
            }
        });
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var service = parseResult.GetRequiredValue(name);
            var isRolling = parseResult.GetValue(rolling);
            if (isRolling)
            {
                await context.Progress.WriteLineAsync($"restarting {service} one node at a time; each waits for its instance to come back…");
            }
            try
            {
                var restarted = await context.Client.RestartServiceAsync(
                    service, parseResult.GetValue(node), isRolling, parseResult.GetValue(drainTimeout), cancellationToken);
                return await PrintActionAsync(context, restarted);
            }
            catch (AdminApiException e) when (e.Error?.Steps is { } steps)
            {
                // A rolling restart that stopped: what it did before, then why it stopped.
                if (!context.Json)
                {
                    foreach (var step in steps)
                    {
                        await context.Output.WriteLineAsync(step);
                    }
                }
                return await AdminCommandAction.ReportAsync(context, e);
            }
        });
        return command;
    }

    private static Command CreateTarget(bool started, string verb, string description)
    {
        var name = NameArgument();
        var command = new Command(verb, description) { name };
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var service = parseResult.GetRequiredValue(name);
            var changed = started
                ? await context.Client.StartServiceAsync(service, cancellationToken)
                : await context.Client.StopServiceAsync(service, cancellationToken);
            return await PrintActionAsync(context, changed);
        });
        return command;
    }

    private static Command CreateCleanup() => CreateNodeAction(
        "cleanup",
        "Forget a service's failures (its fail counts and last failure): an instance left stopped by its failures starts again.",
        "Forget the failures on this node only (default: on every node).",
        static (client, service, node, cancellationToken) => client.CleanupServiceAsync(service, node, cancellationToken));

    private static Command CreateMove() => CreateNodeAction(
        "move",
        "Move a singleton away from a node, like crm_resource --move: that node stops it and may run it again only after `switchman service cleanup`; " +
        "its VIP moves with it. Returns once another node runs it (or after a bounded wait).",
        "Move it away from this node (default: the node it runs on).",
        static (client, service, node, cancellationToken) => client.MoveServiceAsync(service, node, cancellationToken));

    /// <summary>An action on a service with an optional <c>--node</c>, whose answer is printed as the service afterwards.</summary>
    private static Command CreateNodeAction(
        string verb, string description, string nodeHelp, Func<AdminClient, string, string?, CancellationToken, Task<AdminResponse<ServiceAction>>> act)
    {
        var name = NameArgument();
        var node = NodeOption(nodeHelp);
        var command = new Command(verb, description)
        {
            name, node,
        };
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
            await PrintActionAsync(context, await act(context.Client, parseResult.GetRequiredValue(name), parseResult.GetValue(node), cancellationToken)));
        return command;
    }

    private static Command CreateLogs()
    {
        var name = NameArgument();
        var lines = new Option<int?>("--lines", "-n")
        {
            Description = "How many of the last lines (default 100, at most 10000).",
            HelpName = "N",
        };
        var command = new Command(
            "logs",
            "Print the last lines the service's instance on the node asked (--endpoint) wrote to its standard output and error. " +
            "Printed as text, also with --output json.")
        {
            name, lines,
        };
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var text = await context.Client.GetServiceLogAsync(parseResult.GetRequiredValue(name), parseResult.GetValue(lines), cancellationToken);
            await context.Output.WriteAsync(text);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Each step on a line of its own, then the service as it is now; or the API's JSON.</summary>
    private static async Task<int> PrintActionAsync(AdminContext context, AdminResponse<ServiceAction> action)
    {
        if (context.Json)
        {
            await context.Output.WriteLineAsync(action.Json.Trim());
            return ExitCodes.Ok;
        }
        foreach (var step in action.Value.Steps)
        {
            await context.Output.WriteLineAsync(step);
        }
        Render(Terminal.For(context.Output), action.Value.Service);
        return ExitCodes.Ok;
    }

    private static void Render(IAnsiConsole console, ServiceStatus service)
    {
        ServicesView.RenderTable(console, [service], TimeProvider.System.GetUtcNow());
        ServicesView.RenderNotes(console, [service]);
    }

    /// <summary>"service web: clone, backend api (servers web-lb1, web-lb2)" or "service worker: singleton, not behind the load balancer".</summary>
    private static string Describe(ServiceStatus service)
    {
        var servers = service.Instances.Select(i => i.Server).OfType<string>().ToList();
        var backend = service.Backend is { } name
            ? servers.Count == 0 ? $"backend {name}" : $"backend {name} (server{(servers.Count == 1 ? "" : "s")} {string.Join(", ", servers)})"
            : "not behind the load balancer";
        return $"service {service.Name}: {service.Placement}, {backend}";
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "The service's name (its key under services: in the configuration)." };

    private static Option<string?> NodeOption(string description) => new("--node")
    {
        Description = description + " The node's id, as `switchman service list` shows it.",
        HelpName = "NODE",
    };
}
