using System.CommandLine;
using System.Net;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary><c>switchman status</c>: the node, its VIPs and services, its frontends, and every server's state, health, weight and load.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command(
            "status",
            "Show the node: revision, VIPs, services (each instance's node, state, pid, uptime, failures), frontends, " +
            "and every backend server's state, health, weight, in-flight requests and last check.");
        AdminCommandAction.Set(command, async (context, _, cancellationToken) =>
        {
            var status = await context.Client.GetStatusAsync(cancellationToken);
            if (context.Json)
            {
                // The status document as it is; `switchman service list -o json` has the services'.
                await context.Output.WriteLineAsync(status.Json.Trim());
                return ExitCodes.Ok;
            }
            StatusView.Render(Terminal.For(context.Output), status.Value, await ServicesAsync(context.Client, cancellationToken), TimeProvider.System.GetUtcNow());
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The services, or null from a node that has no <c>/api/v1/services</c> (a version before services: it answers 404).</summary>
    private static async Task<IReadOnlyList<ServiceStatus>?> ServicesAsync(AdminClient client, CancellationToken cancellationToken)
    {
        try
        {
            return (await client.GetServicesAsync(cancellationToken)).Value.Services;
        }
        catch (AdminApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
