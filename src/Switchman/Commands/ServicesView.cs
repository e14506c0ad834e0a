using System.Globalization;
using Spectre.Console;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary>
/// Services for people, in the manner of crm_mon's resources: one row per instance (service, node, state in colour,
/// pid, uptime, fail count, last failure), then what needs saying in words: a service an operator stopped, an instance
/// that is not running when it should be and why.
/// </summary>
internal static class ServicesView
{
    public static void RenderTable(IAnsiConsole console, IReadOnlyList<ServiceStatus> services, DateTimeOffset now)
    {
        var table = StatusView.NewTable("Service", "Node", "State", "PID", "Uptime", "Failures", "Last failure");
        foreach (var column in table.Columns.Skip(3).Take(3))
        {
            column.RightAligned();
        }
        foreach (var service in services)
        {
            if (service.Instances.Count == 0)
            {
                table.AddRow(StatusView.Text(service.Name), StatusView.Text("-"), new Markup("[grey]no instance[/]"),
                    StatusView.Text("-"), StatusView.Text("-"), StatusView.Text("-"), StatusView.Text("-"));
            }
            foreach (var instance in service.Instances)
            {
                table.AddRow(
                    StatusView.Text(service.Name),
                    StatusView.Text(instance.Node),
                    State(instance.State),
                    StatusView.Text(instance.Pid is { } pid ? pid.ToString(CultureInfo.InvariantCulture) : "-"),
                    StatusView.Text(instance.StartedAt is { } started ? Uptime(now - started) : "-"),
                    StatusView.Number(instance.Failures),
                    StatusView.Text(LastFailure(instance)));
            }
        }
        console.Write(table);
    }

    /// <summary>
    /// "service web: stopped by ops; `switchman service start web` starts it again", "service web on lb1: exited with
    /// code 1; …", and "service web: no node reports an instance yet".
    /// </summary>
    public static void RenderNotes(IAnsiConsole console, IReadOnlyList<ServiceStatus> services)
    {
        foreach (var service in services)
        {
            var name = Markup.Escape(service.Name);
            if (service.StoppedBy is { } author)
            {
                console.MarkupLine($"service {name}: [grey]stopped by {Markup.Escape(author)}[/]; `switchman service start {name}` starts it again");
            }
            if (service.Instances.Count == 0 && service.StoppedBy is null)
            {
                console.MarkupLine($"service {name}: [yellow]no node reports an instance yet[/]");
            }
            // An instance stopped because an operator stopped the service says only that, said once above.
            foreach (var instance in service.Instances.Where(i => i.Problem is { Length: > 0 } && !(service.StoppedBy is not null && i.State == ServiceInstanceStates.Stopped)))
            {
                var colour = instance.State == ServiceInstanceStates.Failed ? "red" : "yellow";
                console.MarkupLine($"service {name} on {Markup.Escape(instance.Node)}: [{colour}]{Markup.Escape(instance.Problem!)}[/]");
            }
        }
    }

    /// <summary>"exited with code 1 (2026-01-05 10:00:00Z)", or "-" when it never failed (or its failures were cleaned up).</summary>
    private static string LastFailure(ServiceInstanceStatus instance) => (instance.LastFailure, instance.LastFailureAt) switch
    {
        ({ Length: > 0 } reason, { } at) => $"{reason} ({StatusView.Timestamp(at)})",
        ({ Length: > 0 } reason, null) => reason,
        _ => "-",
    };

    /// <summary>"42s", "5m 3s", "3h 12m", "2d 4h": the two largest units, as uptime reads at a glance.</summary>
    public static string Uptime(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            // The node's clock is ahead of ours: it did start, a moment ago.
            span = TimeSpan.Zero;
        }
        return span switch
        {
            { TotalDays: >= 1 } => $"{span.Days}d {span.Hours}h",
            { TotalHours: >= 1 } => $"{span.Hours}h {span.Minutes}m",
            { TotalMinutes: >= 1 } => $"{span.Minutes}m {span.Seconds}s",
            _ => $"{span.Seconds}s",
        };
    }

    private static Markup State(string state) => state switch
    {
        ServiceInstanceStates.Running => new Markup("[green]running[/]"),
        ServiceInstanceStates.Starting or ServiceInstanceStates.Stopping or ServiceInstanceStates.Restarting => new Markup($"[yellow]{state}[/]"),
        ServiceInstanceStates.Failed => new Markup("[red]failed[/]"),
        ServiceInstanceStates.Stopped => new Markup("[grey]stopped[/]"),
        _ => StatusView.Text(state),
    };
}
