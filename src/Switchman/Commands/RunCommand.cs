using System.CommandLine;
using Switchman.Admin;

namespace Switchman.Commands;

/// <summary><c>switchman run -c FILE</c>: validate, then run the node until SIGTERM/SIGINT. Refuses to start on any error.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var command = new Command("run", "Run a Switchman node with the given configuration.")
        {
            config,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(config)!;
            if (ConfigFile.LoadOrReport(path, parseResult.InvocationConfiguration.Error) is not { } loaded)
            {
                return ExitCodes.Invalid;
            }
            await using var node = NodeHost.Create(loaded, path);
            await node.StartAsync(cancellationToken);
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine($"switchman: admin listening on {node.AdminUrl}");
            foreach (var (frontend, urls) in node.DataPlane.FrontendUrls)
            {
                foreach (var url in urls)
                {
                    output.WriteLine($"switchman: frontend {frontend} listening on {url}");
                }
            }
            output.Flush();
            await node.WaitForShutdownAsync(cancellationToken);
            return ExitCodes.Ok;
        });
        return command;
    }
}
