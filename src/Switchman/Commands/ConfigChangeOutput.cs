using System.Net;
using Switchman.Client;
using Switchman.Core.Configuration;

namespace Switchman.Commands;

/// <summary>How <c>config apply</c> and <c>reload</c> report what became of a configuration.</summary>
internal static class ConfigChangeOutput
{
    /// <summary>Prints an accepted change (or a dry run's would-be change) and returns 0.</summary>
    /// <param name="context">Where to print.</param>
    /// <param name="response">The node's answer.</param>
    /// <param name="dryRun">The request asked for a dry run (the node may not echo that back).</param>
    public static async Task<int> PrintAcceptedAsync(AdminContext context, AdminResponse<ConfigChange> response, bool dryRun)
    {
        if (context.Json)
        {
            await context.Output.WriteLineAsync(response.Json.Trim());
            return ExitCodes.Ok;
        }
        var change = response.Value;
        var headline = (dryRun, change.Changes.Count) switch
        {
            (true, 0) => $"dry run: nothing to apply, the configuration matches revision {change.Revision}",
            (true, _) => $"dry run: nothing applied; against revision {change.Revision} this would change:",
            (false, 0) => $"configuration revision {change.Revision} applied: no changes",
            (false, _) => $"configuration revision {change.Revision} applied:",
        };
        await context.Output.WriteLineAsync(headline);
        foreach (var line in change.Changes)
        {
            await context.Output.WriteLineAsync("  " + line);
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Reports a refused configuration and returns the exit code: every validation error of a 422 in the form
    /// <c>switchman check</c> uses (<c>FILE:line:col path: message</c>), a 409 as "the revision moved", anything else
    /// as the API's message.
    /// </summary>
    /// <param name="context">Where to print.</param>
    /// <param name="e">The refusal.</param>
    /// <param name="file">The file to name in each error when the node does not name one (the file that was sent).</param>
    public static async Task<int> ReportRefusedAsync(AdminContext context, AdminApiException e, string file)
    {
        switch (e.StatusCode)
        {
            case HttpStatusCode.UnprocessableEntity when e.Error is { Errors.Count: > 0 } error:
                if (context.Json)
                {
                    await context.Output.WriteLineAsync(e.Body.Trim());
                }
                ConfigFile.PrintErrors(
                    [.. error.Errors.Select(v => new ConfigError(v.File ?? file, v.Line, v.Column, v.Path, v.Message))],
                    context.Error);
                return ExitCodes.Invalid;

            case HttpStatusCode.Conflict when e.Error?.CurrentRevision is { } current:
                if (context.Json)
                {
                    await context.Output.WriteLineAsync(e.Body.Trim());
                }
                var expected = e.Error.ExpectedRevision is { } revision ? $", not revision {revision} as --if-revision said" : "";
                await context.Error.WriteLineAsync(
                    $"switchman: refused: the node runs configuration revision {current}{expected}. Someone changed it meanwhile: " +
                    $"get it again (switchman config get), redo your change, and apply it with --if-revision {current}");
                return ExitCodes.Invalid;

            default:
                return await AdminCommandAction.ReportAsync(context, e);
        }
    }
}
