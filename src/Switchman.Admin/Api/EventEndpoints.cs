using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Net.Http.Headers;
using Switchman.Admin.Control;

namespace Switchman.Admin.Api;

/// <summary>
/// <c>GET /api/v1/events</c>: the node's event history as a JSON array, or the history followed by every new event
/// as Server-Sent Events. <c>?since=ID</c> (or <c>Last-Event-ID</c>, which browsers send when they reconnect) starts
/// after that event.
/// </summary>
internal static class EventEndpoints
{
    /// <summary>
    /// A comment line this often keeps proxies and load balancers from closing an idle stream, and lets a follower tell
    /// a quiet node from a lost one (the dashboard reconnects after 12 s of silence): a frozen or powered-off node
    /// closes nothing, its stream just stops.
    /// </summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);

    public static async Task<IResult> GetEventsAsync(
        HttpContext context, NodeEvents events, TimeProvider time, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!TryParseSince(request, out var since))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "since (or Last-Event-ID) must be an event id: a whole number ≥ 0");
        }
        if (!TryParseFollow(request, out var follow))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "follow must be true or false");
        }
        if (!follow)
        {
            return ApiResults.Json(events.Since(since), ApiResults.Documents.IReadOnlyListNodeEvent);
        }
        // The stream ends when the client goes or the node stops, whichever is first: a node must not wait on its followers.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        await StreamAsync(context, events, since, time, stop).ConfigureAwait(false);
        return Results.Empty;
    }

    private static async Task StreamAsync(HttpContext context, NodeEvents events, long since, TimeProvider time, CancellationTokenSource stop)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        // Headers go out now, not with the first event: a client learns at once that it is connected and authorised.
        await response.StartAsync(stop.Token).ConfigureAwait(false);
        await response.Body.FlushAsync(stop.Token).ConfigureAwait(false);

        using var heartbeat = new PeriodicTimer(HeartbeatInterval, time);
        var stream = events.FollowAsync(since, stop.Token).GetAsyncEnumerator(stop.Token);
        var next = stream.MoveNextAsync().AsTask();
        var tick = heartbeat.WaitForNextTickAsync(stop.Token).AsTask();
        try
        {
            while (true)
            {
                var first = await Task.WhenAny(next, tick).ConfigureAwait(false);
                if (first == tick)
                {
                    await tick.ConfigureAwait(false);
                    await WriteAsync(response, ": heartbeat\n\n", stop.Token).ConfigureAwait(false);
                    tick = heartbeat.WaitForNextTickAsync(stop.Token).AsTask();
                    continue;
                }
                if (!await next.ConfigureAwait(false))
                {
                    return;
                }
                await WriteAsync(response, Format(stream.Current), stop.Token).ConfigureAwait(false);
                next = stream.MoveNextAsync().AsTask();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The client went away or the node is stopping: the normal end of a stream.
        }
        finally
        {
            // Both pending waits must finish before the enumerator is disposed; cancelling makes them finish now.
            await stop.CancelAsync().ConfigureAwait(false);
            await SettleAsync(next).ConfigureAwait(false);
            await SettleAsync(tick).ConfigureAwait(false);
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task SettleAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Cancelled on purpose, just above.
        }
    }

    /// <summary>One SSE message; the JSON is on one line, so one <c>data:</c> line carries it.</summary>
    public static string Format(NodeEvent evt) => string.Create(CultureInfo.InvariantCulture,
        $"id: {evt.Id}\nevent: {evt.Type}\ndata: {JsonSerializer.Serialize(evt, ApiResults.Documents.NodeEvent)}\n\n");

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static bool TryParseSince(HttpRequest request, out long since)
    {
        var text = request.Query["since"].ToString();
        if (text.Length == 0)
        {
            text = request.Headers["Last-Event-ID"].ToString();
        }
        since = 0;
        return text.Length == 0 || long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out since);
    }

    /// <summary>Streams unless told <c>follow=false</c>, or unless the client asks for JSON and not for an event stream.</summary>
    private static bool TryParseFollow(HttpRequest request, out bool follow)
    {
        var text = request.Query["follow"].ToString();
        if (text.Length > 0)
        {
            return bool.TryParse(text, out follow);
        }
        var accept = request.GetTypedHeaders().Accept;
        follow = !(accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            && !accept.Any(a => a.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase)));
        return true;
    }
}
