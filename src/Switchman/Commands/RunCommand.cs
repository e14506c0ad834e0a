using System.CommandLine;
using Switchman.Admin;
using Switchman.Core.Configuration;

namespace Switchman.Commands;

/// <summary>
/// <c>switchman run -c FILE</c>: validate, then run the node until SIGTERM/SIGINT. Refuses to start on any error.
/// <c>switchman witness -c FILE</c>: the same file's <c>cluster:</c> section as a witness: votes, never leads, serves no traffic.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var command = new Command("run", "Run a Switchman node with the given configuration.")
        {
            config,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, parseResult.GetValue(config)!, asWitness: false, cancellationToken));
        return command;
    }

    public static Command CreateWitness()
    {
        var config = CommonOptions.Config();
        var command = new Command("witness",
            "Run a cluster witness: a voter that never leads and serves no traffic, so two load balancers keep quorum when either dies. Needs a cluster: section.")
        {
            config,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, parseResult.GetValue(config)!, asWitness: true, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parseResult, string path, bool asWitness, CancellationToken cancellationToken)
    {
        var error = parseResult.InvocationConfiguration.Error;
        if (ConfigFile.LoadOrReport(path, error) is not { } loaded)
        {
            return ExitCodes.Invalid;
        }
        if (asWitness)
        {
            if (loaded.Cluster is null)
            {
                await error.WriteLineAsync($"{path}: a witness needs a cluster: section (node_id, listen, peers, data_dir, secret_file)");
                return ExitCodes.Invalid;
            }
            loaded = loaded with { Cluster = loaded.Cluster with { Role = ClusterRole.Witness } };
        }
        NodeHost node;
        try
        {
            // Creating the node reads its saved state (data_dir), which may be unreadable.
            node = NodeHost.Create(loaded, path);
        }
        catch (Exception e) when (IsStartFailure(e))
        {
            await error.WriteLineAsync($"switchman: {path}: could not start: {e.Message}");
            return ExitCodes.Invalid;
        }
        await using var running = node;
        try
        {
            await node.StartAsync(cancellationToken);
        }
        catch (Exception e) when (IsStartFailure(e))
        {
            // A port taken, a data directory not writable: say which, without a stack trace.
            await error.WriteLineAsync($"switchman: {path}: could not start: {e.Message}");
            return ExitCodes.Invalid;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || IsStopping(node))
        {
            // SIGTERM while starting (systemctl stop or restart of a node still starting): a stop asked for, not a
            // failure. The host's own SIGTERM handler may cancel the start before ours cancels the token, hence both.
            // What had started stops as the node is disposed.
            return ExitCodes.Ok;
        }
        // With the access log on standard output, that stream is its JSON lines alone; the rest goes to standard error.
        var output = loaded.AccessLog.Path == "stdout" ? error : parseResult.InvocationConfiguration.Output;
        output.WriteLine($"switchman: admin listening on {node.AdminUrl}");
        if (node.Cluster is { } cluster)
        {
            output.WriteLine($"switchman: cluster node {cluster.NodeId} ({cluster.RoleName}) on {cluster.LocalAddress}");
        }
        foreach (var (frontend, urls) in node.DataPlane.FrontendUrls)
        {
            foreach (var url in urls)
            {
                output.WriteLine($"switchman: frontend {frontend} listening on {url}");
            }
        }
        output.Flush();
        await node.WaitForShutdownAsync(cancellationToken);
        if (node.Failures is not [_, ..] failures)
        {
            return ExitCodes.Ok;
        }
        // A part failed and the host stopped: not a stop anyone asked for, so not exit 0 (systemd's Restart=on-failure).
        foreach (var failure in failures)
        {
            await error.WriteLineAsync($"switchman: {path}: stopped: {failure.Part} failed: {failure.Error.Message}");
        }
        return ExitCodes.Invalid;
    }

    private static bool IsStopping(NodeHost node) =>
        node.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested;

    /// <summary>What an operator can fix (a port, a directory, a saved state): reported in one line, not as a crash.</summary>
    private static bool IsStartFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or InvalidDataException or InvalidOperationException or System.Net.Sockets.SocketException;
}
