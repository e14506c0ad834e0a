using System.CommandLine;
using System.Net;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary>What a command that talks to the admin API works with.</summary>
/// <param name="Client">The client for the node, with the endpoint and token resolved.</param>
/// <param name="Format">--output.</param>
/// <param name="Output">Standard output (results).</param>
/// <param name="Error">Standard error (errors, and progress when the output is JSON).</param>
internal sealed record AdminContext(AdminClient Client, OutputFormat Format, TextWriter Output, TextWriter Error)
{
    public bool Json => Format == OutputFormat.Json;

    /// <summary>Where progress lines go: beside a table, standard output; beside JSON, standard error, so stdout stays parseable.</summary>
    public TextWriter Progress => Json ? Error : Output;
}

/// <summary>
/// Runs a command against the admin API and turns every way it can fail into a message on standard error and an exit
/// code: 2 when the node cannot be reached or will not let us in (connection refused, timeout, 401, 403, an unusable
/// client configuration), 1 when it refused the request (404, 409, 422, …).
/// </summary>
internal static class AdminCommandAction
{
    /// <summary>Adds the admin options to <paramref name="command"/> and makes <paramref name="run"/> its action.</summary>
    public static void Set(Command command, Func<AdminContext, ParseResult, CancellationToken, Task<int>> run)
    {
        var options = new AdminOptions();
        options.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            AdminClientSettings settings;
            try
            {
                settings = options.ResolveSettings(parseResult);
            }
            catch (ClientConfigException e)
            {
                await error.WriteLineAsync($"switchman: {e.Message}");
                return ExitCodes.Unreachable;
            }

            using var client = new AdminClient(settings);
            var context = new AdminContext(client, options.Output(parseResult), output, error);
            try
            {
                return await run(context, parseResult, cancellationToken);
            }
            catch (AdminApiException e)
            {
                return await ReportAsync(context, e);
            }
            catch (AdminClientException e)
            {
                // Unreachable, or not an admin API at all.
                await error.WriteLineAsync($"switchman: {e.Message}");
                return ExitCodes.Unreachable;
            }
        });
    }

    /// <summary>Prints the API's error (and for JSON output its error document too) and returns the exit code it means.</summary>
    public static async Task<int> ReportAsync(AdminContext context, AdminApiException e)
    {
        if (context.Json && e.Error is not null)
        {
            await context.Output.WriteLineAsync(e.Body.Trim());
        }
        await context.Error.WriteLineAsync(e.IsUnauthorized ? $"switchman: {e.Message} ({(int)e.StatusCode})" : $"switchman: {e.Message}");
        if (e.StatusCode == HttpStatusCode.Unauthorized)
        {
            await context.Error.WriteLineAsync(
                $"switchman: give the CLI a token with --token, ${ClientSettingsSources.TokenVariable}, or the client configuration file (token: or token_file:)");
        }
        return e.IsUnauthorized ? ExitCodes.Unreachable : ExitCodes.Invalid;
    }
}
