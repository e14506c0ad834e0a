using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Switchman.Client;

namespace Switchman.Commands;

/// <summary><c>switchman events [--follow] [--since N]</c>: what changed on the node, one line per event.</summary>
internal static class EventsCommand
{
    public static Command Create()
    {
        var follow = new Option<bool>("--follow", "-f")
        {
            Description = "Keep printing new events as they happen, until Ctrl+C.",
        };
        var since = new Option<long?>("--since")
        {
            Description = "Only events after this id (the \"id\" of --output json), to resume where an earlier run stopped.",
            HelpName = "ID",
        };
        var command = new Command(
            "events",
            "Print the node's recent events (servers up/down with the check output, drains, weight changes, configurations applied or refused): " +
            "'time type message', or one JSON object per line with --output json.")
        {
            follow,
            since,
        };
        AdminCommandAction.Set(command, async (context, parseResult, cancellationToken) =>
        {
            var after = parseResult.GetValue(since);
            if (!parseResult.GetValue(follow))
            {
                foreach (var item in await context.Client.GetEventsAsync(after, cancellationToken))
                {
                    await context.Output.WriteLineAsync(Format(context, item));
                }
                return ExitCodes.Ok;
            }

            try
            {
                await foreach (var item in context.Client.FollowEventsAsync(after, cancellationToken))
                {
                    await context.Output.WriteLineAsync(Format(context, item));
                    // Each event as it comes, even when the output is a pipe.
                    await context.Output.FlushAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C: the operator has seen enough.
                return ExitCodes.Ok;
            }
            await context.Error.WriteLineAsync("switchman: the node closed the event stream (is it stopping?)");
            return ExitCodes.Unreachable;
        });
        return command;
    }

    /// <summary>
    /// For people, "2025-06-01T10:00:00.123Z server_down server api/a is DOWN: connection refused"; for scripts, the
    /// event's JSON on one line however the node laid it out. The relaxed encoder leaves '+' and non-ASCII text as they
    /// are, so the lines stay readable: they go to a terminal or a file, never into HTML.
    /// </summary>
    private static string Format(AdminContext context, AdminEventItem item)
    {
        if (!context.Json)
        {
            var time = item.Event.Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            return $"{time} {item.Event.Type} {item.Event.Message}";
        }
        using var document = JsonDocument.Parse(item.Json);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.RootElement.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
