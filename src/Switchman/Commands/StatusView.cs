using System.Globalization;
using Spectre.Console;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary>
/// <c>switchman status</c> for people, in the manner of <c>pcs status</c> / crm_mon: the node line, the VIPs and the
/// services (each when any are configured), the frontends, then a table per backend with each server's state and health
/// in colour (ready green, drain yellow, maint grey; up green, down red).
/// </summary>
internal static class StatusView
{
    /// <param name="console">Where to write.</param>
    /// <param name="status">The node's status.</param>
    /// <param name="services">The services (<c>GET /api/v1/services</c>); null or empty: no section.</param>
    /// <param name="now">The time uptimes are measured to.</param>
    public static void Render(IAnsiConsole console, NodeStatus status, IReadOnlyList<ServiceStatus>? services, DateTimeOffset now)
    {
        console.MarkupLine(NodeLine(status));
        if (status.Cluster is { Enabled: true } cluster)
        {
            console.MarkupLine(ClusterLine(cluster));
        }
        if (status.Vips is { Count: > 0 } vips)
        {
            console.WriteLine();
            console.MarkupLine("[bold]VIPs[/]");
            VipsView.RenderTable(console, vips, status.Node?.Id);
        }
        if (services is { Count: > 0 })
        {
            console.WriteLine();
            console.MarkupLine("[bold]Services[/]");
            ServicesView.RenderTable(console, services, now);
            ServicesView.RenderNotes(console, services);
        }

        console.WriteLine();
        console.MarkupLine("[bold]Frontends[/]");
        var frontends = NewTable("Name", "Listen", "Bound to");
        foreach (var frontend in status.Frontends)
        {
            frontends.AddRow(Text(frontend.Name), Text(frontend.Listen), Text(string.Join(", ", frontend.Urls)));
        }
        console.Write(frontends);

        foreach (var backend in status.Backends)
        {
            console.WriteLine();
            console.MarkupLine(
                $"[bold]Backend {Markup.Escape(backend.Name)}[/] ({Markup.Escape(backend.Balance)}): " +
                $"{backend.AvailableServers} of {backend.Servers.Count} servers available");
            // Totals (requests_total) are left to --output json and /metrics: the rate says more at a glance, and the
            // table then fits 120 columns with a typical check detail.
            var servers = NewTable("Server", "Address", "State", "Health", "Weight", "In-flight", "Req/s", "Last check");
            foreach (var column in servers.Columns.Skip(4).Take(3))
            {
                column.RightAligned();
            }
            foreach (var server in backend.Servers)
            {
                servers.AddRow(
                    Text(server.Backup ? $"{server.Name} (backup)" : server.Name),
                    Text(server.Address),
                    State(server.State),
                    Health(server),
                    Number(server.Weight),
                    Number(server.InFlight),
                    Text(server.RequestRate is { } rate ? rate.ToString("0.0", CultureInfo.InvariantCulture) : "-"),
                    Text(LastCheck(server.LastCheck)));
            }
            console.Write(servers);
        }
    }

    /// <summary>"Node: ready, revision 3, version 1.0.0+1d78c7b, started 2025-06-01 10:00:00Z".</summary>
    private static string NodeLine(NodeStatus status)
    {
        var parts = new List<string>
        {
            status.Ready ? "[green]ready[/]" : "[yellow]not ready[/] (waiting for the first round of health checks)",
        };
        if (status.Node?.Standby == true)
        {
            parts.Add("[yellow]standby[/] (holds no VIP)");
        }
        if (status.Node is { } node)
        {
            parts.Add($"revision {node.Revision}");
            if (node.Version is { Length: > 0 } version)
            {
                parts.Add("version " + Markup.Escape(ShortVersion(version)));
            }
            if (node.StartedAt is { } started)
            {
                parts.Add("started " + Timestamp(started));
            }
        }
        return $"[bold]Node[/]: {string.Join(", ", parts)}";
    }

    /// <summary>
    /// "Cluster: node lb1 (voter), term 3, leader lb2, revision 40, commit index 42" (and ", applied 41" while this
    /// node has committed entries still to apply); "no leader" in red while there is none.
    /// </summary>
    public static string ClusterLine(ClusterStatus cluster)
    {
        var node = Markup.Escape(cluster.NodeId ?? "?");
        var parts = new List<string> { cluster.Role is { Length: > 0 } role ? $"node {node} ({Markup.Escape(role)})" : $"node {node}" };
        if (cluster.Term is { } term)
        {
            parts.Add($"term {term}");
        }
        parts.Add(cluster.Leader switch
        {
            null or "" => "[red]no leader[/]",
            var leader when leader == cluster.NodeId => $"leader {Markup.Escape(leader)} (this node)",
            var leader => $"leader {Markup.Escape(leader)}",
        });
        if (cluster.Revision is { } revision)
        {
            parts.Add($"revision {revision}");
        }
        if (cluster.CommitIndex is { } commit)
        {
            parts.Add($"commit index {commit}");
            if (cluster.AppliedIndex is { } applied && applied != commit)
            {
                parts.Add($"applied {applied}");
            }
        }
        return $"[bold]Cluster[/]: {string.Join(", ", parts)}";
    }

    /// <summary>"1.0.0+1d78c7bdd844…" → "1.0.0+1d78c7b": the commit's short form, as git shows it.</summary>
    private static string ShortVersion(string version)
    {
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus >= 0 && version.Length > plus + 8 ? version[..(plus + 8)] : version;
    }

    public static Table NewTable(params string[] headers)
    {
        var table = new Table { Border = TableBorder.Rounded };
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn(new Markup($"[bold]{Markup.Escape(header)}[/]")));
        }
        return table;
    }

    private static Markup State(string state) => state switch
    {
        ServerStates.Ready => new Markup("[green]ready[/]"),
        ServerStates.Drain => new Markup("[yellow]drain[/]"),
        ServerStates.Maint => new Markup("[grey]maint[/]"),
        _ => Text(state),
    };

    private static Markup Health(ServerStatus server)
    {
        var health = server.Health switch
        {
            "up" => "[green]up[/]",
            "down" => "[red]down[/]",
            var other => Markup.Escape(other),
        };
        // Passive checks can take a server out although active checks say up, and a failed connect makes it suspect
        // before any check runs: say so, or "up" would mislead.
        if (server.EjectedUntil is { } until)
        {
            health += $" [red]ejected until {Timestamp(until)}[/]";
        }
        if (server.SuspectSince is { } since)
        {
            health += $" [yellow]suspect since {Timestamp(since)}[/]";
        }
        if (server.HeldOut is { } why)
        {
            health += $" [yellow]held out: {Markup.Escape(why)}[/]";
        }
        return new Markup(health);
    }

    /// <summary>"HTTP 200, 1.2 ms", or "failed: connection refused, 49.8 ms": a failure says so even while the server is still up (fall not reached).</summary>
    private static string LastCheck(CheckResult? check) => check is null
        ? "-"
        : $"{(check.Success ? "" : "failed: ")}{check.Detail}, {check.DurationMs.ToString("0.0", CultureInfo.InvariantCulture)} ms";

    public static string Timestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static Markup Number(long value) => Text(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Text shown as is: names and details may contain [brackets], which markup would take for styles.</summary>
    public static Markup Text(string text) => new(Markup.Escape(text));
}
