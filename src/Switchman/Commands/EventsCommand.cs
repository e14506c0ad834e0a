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
            Description = "Only events after this id (the first column of --output json); resumes where an earlier run stopped.",
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
                var history = await context.Client.GetEventsAsync(after, cancellationToken);
                using var document = JsonDocument.Parse(history.Json);
                var elements = document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement.EnumerateArray().ToList() : [];
                for (var i = 0; i < history.Value.Count; i++)
                {
                    await context.Output.WriteLineAsync(context.Json ? Compact(elements[i]) : Line(history.Value[i]));
                }
                return ExitCodes.Ok;
            }

            try
            {
                await foreach (var item in context.Client.FollowEventsAsync(after, cancellationToken))
                {
                    using var document = JsonDocument.Parse(item.Json);
                    await context.Output.WriteLineAsync(context.Json ? Compact(document.RootElement) : Line(item.Event));
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

    /// <summary>"2025-06-01T10:00:00.123Z server_down server api/a is DOWN: connection refused".</summary>
    private static string Line(AdminEvent evt) =>
        $"{evt.Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)} {evt.Type} {evt.Message}";

    /// <summary>The event's JSON on one line, however the node laid it out, so scripts can read one object per line.</summary>
    private static string Compact(JsonElement element)
    {
        using var buffer = new MemoryStream();
        // The relaxed encoder leaves '+' and non-ASCII text as they are, so lines stay readable: they are written to a
        // terminal or a file, never embedded in HTML.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            element.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
