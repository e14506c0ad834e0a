using System.CommandLine;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary><c>switchman node standby|online NODE</c>: take a node's VIPs away and keep them away, or let it hold them again (like <c>pcs node standby</c>).</summary>
internal static class NodeCommand
{
    public static Command Create() => new("node", "Put a node in standby (its VIPs move to other nodes) or back online.")
    {
        CreateStandby(standby: true, "standby",
            "Put a node in standby: the leader moves its VIPs to other nodes and gives it none, until 'switchman node online'. " +
            "The node keeps running and serving what reaches it (e.g. before patching or rebooting it)."),
        CreateStandby(standby: false, "online", "Bring a node out of standby: it may be given VIPs again."),
    };

    private static Command CreateStandby(bool standby, string name, string description)
    {
        var node = new Argument<string>("NODE")
        {
            Description = "The node's id (cluster.node_id; a node alone: its host name, as `switchman vips` shows it).",
        };
        var command = new Command(name, description) { node };
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var changed = await context.Client.SetNodeStandbyAsync(parseResult.GetRequiredValue(node), standby, cancellationToken);
            await context.Output.WriteLineAsync(context.Json ? changed.Json.Trim() : Describe(changed.Value));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>"node lb1: standby (set by ops); it still holds api, which moves to another node in a moment" or "node lb1: online".</summary>
    private static string Describe(NodeStanding node)
    {
        if (!node.Standby)
        {
            return node.Unready.Count == 0
                ? $"node {node.Node}: online"
                : $"node {node.Node}: online, but it cannot serve {string.Join("; ", node.Unready.Select(u => $"{u.Key} ({u.Value})"))}";
        }
        var by = node.StandbyAuthor is { Length: > 0 } author ? $" (set by {author})" : "";
        return node.Vips.Count == 0
            ? $"node {node.Node}: standby{by}; it holds no VIP"
            : $"node {node.Node}: standby{by}; {string.Join(", ", node.Vips)} move{(node.Vips.Count == 1 ? "s" : "")} to another node if one can serve {(node.Vips.Count == 1 ? "it" : "them")} (see `switchman vips`)";
    }
}
