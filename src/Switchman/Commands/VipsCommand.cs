using System.CommandLine;
using Spectre.Console;

namespace Switchman.Commands;

/// <summary><c>switchman vips</c>: every VIP, who holds it, since when and why; the nodes in standby or unable to serve one.</summary>
internal static class VipsCommand
{
    public static Command Create()
    {
        var command = new Command(
            "vips",
            "Show every VIP: its address, the node that holds it (as the cluster decided), since when and why, and whether the node asked " +
            "has its address (a disagreement is spelled out); then the nodes in standby or unable to serve a VIP, with why.");
        AdminCommandAction.Set(command, async (context, _, cancellationToken) =>
        {
            var vips = await context.Client.GetVipsAsync(cancellationToken);
            if (context.Json)
            {
                await context.Output.WriteLineAsync(vips.Json.Trim());
                return ExitCodes.Ok;
            }
            var console = Terminal.For(context.Output);
            if (vips.Value.Vips.Count == 0)
            {
                console.WriteLine("no VIPs are configured (see vips: in the configuration)");
            }
            else
            {
                VipsView.RenderTable(console, vips.Value.Vips, vips.Value.Node);
            }
            VipsView.RenderStandings(console, vips.Value.Nodes, vips.Value.Node);
            return ExitCodes.Ok;
        });
        return command;
    }
}
