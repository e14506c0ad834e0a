using Spectre.Console;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary>
/// The VIPs for people, in <c>switchman vips</c> and <c>switchman status</c>: one row per VIP with its holder as the
/// shared state says, and whether the answering node has its address ("Here"). Where the two disagree (the state gives
/// this node the VIP but the address is not on its interface, or the address is still there though the VIP is given
/// elsewhere) the cell is yellow and a line below the table says so in words.
/// </summary>
internal static class VipsView
{
    /// <param name="console">Where to write.</param>
    /// <param name="vips">The VIPs, in configuration order.</param>
    /// <param name="node">The answering node's name in assignments; null when it did not say (an older node).</param>
    public static void RenderTable(IAnsiConsole console, IReadOnlyList<VipStatus> vips, string? node)
    {
        var table = StatusView.NewTable("VIP", "Address", "Holder", "Here", "Since", "Reason");
        foreach (var vip in vips)
        {
            table.AddRow(
                StatusView.Text(vip.Pool is { Length: > 0 } pool ? $"{vip.Name} (pool {pool})" : vip.Name),
                StatusView.Text(vip.Address),
                vip.Holder is null ? new Markup("[grey]nobody[/]") : StatusView.Text(vip.Holder == node ? $"{vip.Holder} (this node)" : vip.Holder),
                Here(vip, node),
                StatusView.Text(vip.Since is { } since ? StatusView.Timestamp(since) : "-"),
                StatusView.Text(Reason(vip)));
        }
        console.Write(table);
        foreach (var vip in vips)
        {
            if (Disagreement(vip, node) is { } words)
            {
                console.MarkupLine($"[yellow]VIP {Markup.Escape(vip.Name)}[/]: {Markup.Escape(words)}");
            }
        }
    }

    /// <summary>One line per node in standby ("node lb2: standby, set by ops …") and per VIP a node cannot serve, with why.</summary>
    public static void RenderStandings(IAnsiConsole console, IReadOnlyList<NodeStanding> nodes, string? node)
    {
        foreach (var standing in nodes)
        {
            var name = Markup.Escape(standing.Node == node ? $"{standing.Node} (this node)" : standing.Node);
            if (standing.Standby)
            {
                var by = standing.StandbyAuthor is { Length: > 0 } author ? $", set by {Markup.Escape(author)}" : "";
                console.MarkupLine($"node {name}: [yellow]standby[/]{by}; it is given no VIP until `switchman node online {Markup.Escape(standing.Node)}`");
            }
            foreach (var (vip, why) in standing.Unready)
            {
                console.MarkupLine($"node {name} cannot serve {Markup.Escape(vip)}: [yellow]{Markup.Escape(why)}[/]");
            }
        }
    }

    /// <summary>"yes" when the answering node has the address; "missing" or "still here" in yellow when that disagrees with the holder.</summary>
    private static Markup Here(VipStatus vip, string? node) => (vip.Holder == node && node is not null, vip.HeldHere) switch
    {
        (true, false) => new Markup("[yellow]missing[/]"),
        (false, true) => new Markup("[yellow]still here[/]"),
        (_, true) => StatusView.Text("yes"),
        _ => StatusView.Text("-"),
    };

    private static string? Disagreement(VipStatus vip, string? node) => (vip.Holder == node && node is not null, vip.HeldHere) switch
    {
        (true, false) => $"this node holds it, but {vip.Address} is not on {vip.Interface} here; see vip_failed in `switchman events`",
        (false, true) => $"{vip.Address} is still on {vip.Interface} here, though {vip.Holder ?? "nobody"} holds it; this node removes it at its next look",
        _ => null,
    };

    /// <summary>"standby, was on lb1": the reason, and the node it left when it moved.</summary>
    private static string Reason(VipStatus vip) =>
        (vip.Reason, vip.PreviousNode) switch
        {
            (null, _) => "-",
            ({ } reason, { } previous) when previous != vip.Holder => $"{reason}, was on {previous}",
            ({ } reason, _) => reason,
        };
}
