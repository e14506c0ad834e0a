using System.CommandLine;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary><c>switchman reload</c>: the node reads its configuration file again, as on SIGHUP.</summary>
internal static class ReloadCommand
{
    /// <summary>Named in errors when the node does not say which file they are in.</summary>
    private const string NodeFile = "(node configuration file)";

    public static Command Create()
    {
        var command = new Command(
            "reload",
            "Make the node read its configuration file again and apply the changes (like SIGHUP). A file with errors is refused and the running configuration stays.");
        AdminCommandAction.Set(command, async (context, _, cancellationToken) =>
        {
            try
            {
                var response = await context.Client.ReloadAsync(cancellationToken);
                return await ConfigChangeOutput.PrintAcceptedAsync(context, response, dryRun: false);
            }
            catch (AdminApiException e)
            {
                return await ConfigChangeOutput.ReportRefusedAsync(context, e, NodeFile);
            }
        });
        return command;
    }
}
