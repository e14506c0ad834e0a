using System.CommandLine;

namespace Switchman.Commands;

/// <summary><c>switchman status</c>: the node, its frontends, and every server's state, health, weight and load.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "Show the node: revision, VIPs, frontends, and every backend server's state, health, weight, in-flight requests and last check.");
        AdminCommandAction.Set(command, async (context, _, cancellationToken) =>
        {
            var status = await context.Client.GetStatusAsync(cancellationToken);
            if (context.Json)
            {
                await context.Output.WriteLineAsync(status.Json.Trim());
            }
            else
            {
                StatusView.Render(Terminal.For(context.Output), status.Value);
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
