using System.CommandLine;
using System.Globalization;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary><c>switchman config get|apply|diff</c>: read the running configuration, propose a new one, or see what one would change.</summary>
internal static class ConfigCommand
{
    public static Command Create() => new("config", "Read or change the running configuration through the admin API.")
    {
        CreateGet(),
        CreateApply(),
        CreateDiff(),
    };

    private static Command CreateDiff()
    {
        var file = new Argument<string?>("FILE")
        {
            Description = "A configuration to compare (YAML, or JSON when the name ends in .json); without it, the node's own file, as a reload would read it.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command(
            "diff",
            "Show what applying FILE, or reloading the node's own file, would change in the running configuration (servers added or removed through the API included). Changes nothing.")
        {
            file,
        };
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file);
            try
            {
                if (path is null)
                {
                    return await ConfigChangeOutput.PrintAcceptedAsync(context, await context.Client.ReloadAsync(cancellationToken, dryRun: true), dryRun: true);
                }
                if (await ReadFileAsync(context, path, cancellationToken) is not { } content)
                {
                    return ExitCodes.Invalid;
                }
                var response = await context.Client.PutConfigAsync(content, FormatOf(path), ifRevision: null, dryRun: true, cancellationToken);
                return await ConfigChangeOutput.PrintAcceptedAsync(context, response, dryRun: true);
            }
            catch (AdminApiException e)
            {
                return await ConfigChangeOutput.ReportRefusedAsync(context, e, path ?? "(node configuration file)");
            }
        });
        return command;
    }

    private static async Task<string?> ReadFileAsync(AdminContext context, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await context.Error.WriteLineAsync($"switchman: cannot read {path}: {e.Message}");
            return null;
        }
    }

    private static ConfigFormat FormatOf(string path) =>
        path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ConfigFormat.Json : ConfigFormat.Yaml;

    private static Command CreateGet()
    {
        var command = new Command("get", "Print the running configuration: YAML, or JSON with --output json. The revision goes to standard error.");
        AdminCommandAction.Set(command, async (context, _, cancellationToken) =>
        {
            var document = await context.Client.GetConfigAsync(context.Json ? ConfigFormat.Json : ConfigFormat.Yaml, cancellationToken);
            // Standard output carries the configuration alone, so `config get > file` gives a file that can be applied back.
            await context.Output.WriteAsync(document.Text.EndsWith('\n') ? document.Text : document.Text + "\n");
            if (document.Revision is { } revision)
            {
                await context.Error.WriteLineAsync($"switchman: configuration revision {revision.ToString(CultureInfo.InvariantCulture)}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateApply()
    {
        var file = new Argument<string>("FILE")
        {
            Description = "The new configuration: YAML, or JSON when the name ends in .json.",
        };
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Validate and print what would change; apply nothing.",
        };
        var ifRevision = new Option<long?>("--if-revision")
        {
            Description = "Apply only if the node still runs this revision (what `config get` printed); refused otherwise.",
            HelpName = "N",
        };
        var command = new Command(
            "apply",
            "Apply a whole configuration to the running node. It is validated completely first: on any error nothing changes and every error is printed.")
        {
            file,
            dryRun,
            ifRevision,
        };
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var path = parseResult.GetRequiredValue(file);
            if (await ReadFileAsync(context, path, cancellationToken) is not { } content)
            {
                return ExitCodes.Invalid;
            }
            var format = FormatOf(path);
            var isDryRun = parseResult.GetValue(dryRun);
            try
            {
                var response = await context.Client.PutConfigAsync(content, format, parseResult.GetValue(ifRevision), isDryRun, cancellationToken);
                return await ConfigChangeOutput.PrintAcceptedAsync(context, response, isDryRun);
            }
            catch (AdminApiException e)
            {
                return await ConfigChangeOutput.ReportRefusedAsync(context, e, path);
            }
        });
        return command;
    }
}
