using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Spectre.Console;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary>
/// <c>switchman members [add ADDRESS [--id ID] | remove ID-OR-ADDRESS]</c>: the cluster's members as this node sees
/// them, and membership changes (one node at a time).
/// </summary>
internal static class MembersCommand
{
    public static Command Create()
    {
        var command = new Command(
            "members",
            "Show the cluster's members: id, address, role, the leader, whether this node reaches them, their configuration revision, " +
            "how far behind they are, and when this node last heard from them. 'add' and 'remove' change the membership, one node at a time.")
        {
            CreateAdd(),
            CreateRemove(),
        };
        AdminCommandAction.Set(command, async (context, _, cancellationToken) =>
        {
            try
            {
                var cluster = await context.Client.GetClusterAsync(cancellationToken);
                if (context.Json)
                {
                    await context.Output.WriteLineAsync(cluster.Json.Trim());
                }
                if (!cluster.Value.Enabled)
                {
                    await context.Error.WriteLineAsync("switchman: this node runs alone (no cluster: section)");
                    return ExitCodes.Invalid;
                }
                if (!context.Json)
                {
                    var console = Terminal.For(context.Output);
                    console.MarkupLine(StatusView.ClusterLine(cluster.Value));
                    console.WriteLine();
                    RenderMembers(console, cluster.Value.Members);
                }
                return ExitCodes.Ok;
            }
            catch (AdminApiException e)
            {
                return await ReportAsync(context, e, change: false);
            }
        });
        return command;
    }

    private static Command CreateAdd()
    {
        var address = new Argument<string>("ADDRESS")
        {
            Description = "The new node's cluster address (its cluster.listen), IP:port.",
        };
        var id = new Option<string?>("--id")
        {
            Description = "The node id the new node must report (its cluster.node_id); refused if it reports another.",
            HelpName = "ID",
        };
        var command = new Command(
            "add",
            "Add a node to the cluster as a voter. Start it first with cluster.join: true; the leader brings it up to date with the log, " +
            "then counts it in the majority. One node at a time.")
        {
            address,
            id,
        };
        RefuseOptionsBefore(command);
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            try
            {
                var added = await context.Client.AddMemberAsync(parseResult.GetRequiredValue(address), parseResult.GetValue(id), cancellationToken);
                return await PrintChangeAsync(context, added, "");
            }
            catch (AdminApiException e)
            {
                return await ReportAsync(context, e, change: true);
            }
        });
        return command;
    }

    private static Command CreateRemove()
    {
        var member = new Argument<string>("ID-OR-ADDRESS")
        {
            Description = "The member's node id, or its cluster address (IP:port).",
        };
        var command = new Command(
            "remove",
            "Remove a member from the cluster; the others no longer count it in the majority. Then stop the removed node. One node at a time.")
        {
            member,
        };
        RefuseOptionsBefore(command);
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            try
            {
                var removed = await context.Client.RemoveMemberAsync(parseResult.GetRequiredValue(member), cancellationToken);
                return await PrintChangeAsync(context, removed, ": stop its switchman process now");
            }
            catch (AdminApiException e)
            {
                return await ReportAsync(context, e, change: true);
            }
        });
        return command;
    }

    /// <summary>
    /// <c>members -e URL add …</c> parses, the options going to <c>members</c>, and <c>add</c> would then quietly use
    /// its defaults (the wrong node, say): make it an error that says where they go.
    /// </summary>
    private static void RefuseOptionsBefore(Command subcommand) => subcommand.Validators.Add(result =>
    {
        if (result.Parent is CommandResult parent && parent.Children.OfType<OptionResult>().FirstOrDefault(o => !o.Implicit) is { } misplaced)
        {
            var name = misplaced.IdentifierToken?.Value ?? misplaced.Option.Name;
            result.AddError($"{name} goes after '{subcommand.Name}': switchman members {subcommand.Name} … {name} …");
        }
    });

    /// <summary>"member lb4 (127.0.0.1:7004) added; 4 members now:" and the members table; or the API's JSON.</summary>
    private static async Task<int> PrintChangeAsync(AdminContext context, AdminResponse<MembershipChange> response, string advice)
    {
        if (context.Json)
        {
            await context.Output.WriteLineAsync(response.Json.Trim());
            return ExitCodes.Ok;
        }
        var change = response.Value;
        await context.Output.WriteLineAsync($"member {change.Describe()} {change.Change}{advice}");
        if (change.Members.Count > 0)
        {
            var console = Terminal.For(context.Output);
            console.WriteLine();
            console.MarkupLine($"{change.Members.Count} member{(change.Members.Count == 1 ? "" : "s")} now:");
            RenderMembers(console, change.Members);
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The API's error as every command reports it; a bare 404 as a node without the cluster API; after a 503 (no leader, or no quorum) also when to try again, as
    /// the node's Retry-After says. A change refused so may still have gone through, when the leader or the majority
    /// was lost while it was being replicated: <paramref name="change"/> says to look before trying again.
    /// </summary>
    private static async Task<int> ReportAsync(AdminContext context, AdminApiException e, bool change)
    {
        if (e.StatusCode == HttpStatusCode.NotFound && e.Error is null)
        {
            // Not the API's "no such member": the route itself is unknown.
            await context.Error.WriteLineAsync(
                $"switchman: {context.Client.Settings.Endpoint} has no cluster API (404): is it a Switchman version without clusters?");
            return ExitCodes.Invalid;
        }
        var exitCode = await AdminCommandAction.ReportAsync(context, e);
        if (e.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            var when = e.RetryAfter is { } delay
                ? $"in {Math.Max(1, Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture)} s"
                : "in a moment";
            await context.Error.WriteLineAsync(change
                ? $"switchman: check `switchman members`, then try again {when}"
                : $"switchman: try again {when}");
        }
        return exitCode;
    }

    /// <summary>
    /// One row per member: this node marked "(this node)", the leader with a * in the Leader column, the status in
    /// colour, and when this node last heard from it ("0.2s ago"). Members whose report is missing are listed below,
    /// with the reason.
    /// </summary>
    private static void RenderMembers(IAnsiConsole console, IReadOnlyList<ClusterMember> members)
    {
        var now = TimeProvider.System.GetUtcNow();
        var table = StatusView.NewTable("ID", "Address", "Role", "Leader", "Status", "Revision", "Lag", "Last contact");
        table.Columns[3].Centered();
        table.Columns[5].RightAligned();
        table.Columns[6].RightAligned();
        foreach (var member in members)
        {
            var id = member.Id is { Length: > 0 } known ? known : "?";
            table.AddRow(
                StatusView.Text(member.Local ? $"{id} (this node)" : id),
                StatusView.Text(member.Address),
                StatusView.Text(member.Role ?? "-"),
                new Markup(member.Leader ? "[bold green]*[/]" : ""),
                Status(member.Status),
                member.Revision is { } revision ? StatusView.Number(revision) : StatusView.Text("-"),
                Lag(member.Lag),
                StatusView.Text(LastContact(member, now)));
        }
        console.Write(table);
        foreach (var member in members.Where(m => m.Error is { Length: > 0 }))
        {
            console.MarkupLine($"[yellow]{Markup.Escape(member.Describe())}[/]: {Markup.Escape(member.Error!)}");
        }
    }

    private static Markup Status(string status) => status switch
    {
        ClusterMemberStatuses.Available => new Markup("[green]available[/]"),
        ClusterMemberStatuses.Unavailable => new Markup("[red]unavailable[/]"),
        ClusterMemberStatuses.Unknown => new Markup("[grey]unknown[/]"),
        _ => StatusView.Text(status),
    };

    private static Markup Lag(long? lag) => lag switch
    {
        null => StatusView.Text("-"),
        0 => StatusView.Number(0),
        { } behind => new Markup($"[yellow]{behind.ToString(CultureInfo.InvariantCulture)}[/]"),
    };

    /// <summary>"-" for this node, "never" for a member not heard from yet, else "0.2s ago", "12s ago", "3m05s ago"…</summary>
    private static string LastContact(ClusterMember member, DateTimeOffset now) => member switch
    {
        { Local: true } => "-",
        { LastContact: { } contact } => Ago(now - contact),
        _ => "never",
    };

    /// <summary>
    /// How long ago, to a tenth of a second under 10 s. Measured against this machine's clock: a negative age (the
    /// node's clock is ahead) counts as none.
    /// </summary>
    private static string Ago(TimeSpan elapsed)
    {
        if (elapsed < TimeSpan.Zero)
        {
            elapsed = TimeSpan.Zero;
        }
        var invariant = CultureInfo.InvariantCulture;
        return elapsed switch
        {
            { TotalSeconds: < 9.95 } => string.Create(invariant, $"{elapsed.TotalSeconds:0.0}s ago"),
            { TotalMinutes: < 1 } => string.Create(invariant, $"{(int)elapsed.TotalSeconds}s ago"),
            { TotalHours: < 1 } => string.Create(invariant, $"{(int)elapsed.TotalMinutes}m{elapsed.Seconds:00}s ago"),
            { TotalDays: < 1 } => string.Create(invariant, $"{(int)elapsed.TotalHours}h{elapsed.Minutes:00}m ago"),
            _ => string.Create(invariant, $"{(int)elapsed.TotalDays}d{elapsed.Hours:00}h ago"),
        };
    }
}
