using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Switchman.DemoBackend;

/// <summary>
/// Every endpoint of the demo backend:
/// <list type="bullet">
/// <item><c>/healthz</c> — 200 <c>{"status":"ok","server":…}</c>, or 503 while health is failing.</item>
/// <item><c>GET /_control</c> — current settings and counters; <c>POST /_control</c> with any subset of
/// <c>{"delay_ms":100,"fail_status":500,"health":"fail"}</c> changes them (<c>fail_status</c> null or 0 clears).</item>
/// <item><c>/ws</c> — WebSocket echo.</item>
/// <item>anything else — an application request: the body is read and counted, then 200 with a JSON echo of what was
/// received. <c>?delay=250ms</c> (or <c>?delay_ms=250</c>) and <c>?status=503</c> override the server-wide delay and
/// failure for that one request.</item>
/// </list>
/// Every response carries <c>X-Server: name</c>, and <c>X-Waited-For-Load: true</c> when it waited for the server's load time.
/// </summary>
internal sealed class DemoBackendRequestHandler(DemoBackendServer server)
{
    /// <summary>The request headers the echo reports, because they are the ones a proxy is expected to set or keep.</summary>
    private static readonly string[] EchoedHeaders = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id", "host"];

    private static readonly string[] ControlFields = ["delay_ms", "fail_status", "health"];

    /// <summary>On a response to a request that arrived while the server was still loading (<c>--load-time</c>) and waited for it.</summary>
    public const string WaitedForLoadHeader = "X-Waited-For-Load";

    public async Task HandleAsync(HttpContext context)
    {
        if (await server.WaitUntilLoadedAsync(context.RequestAborted).ConfigureAwait(false))
        {
            // What a test of "nothing is sent to a server still loading" looks for.
            context.Response.Headers[WaitedForLoadHeader] = "true";
        }
        context.Response.Headers["X-Server"] = server.Name;
        await (context.Request.Path.Value switch
        {
            "/healthz" => HandleHealthAsync(context),
            "/_control" => HandleControlAsync(context),
            "/ws" => HandleWebSocketEchoAsync(context),
            _ => HandleApplicationRequestAsync(context),
        }).ConfigureAwait(false);
    }

    private Task HandleHealthAsync(HttpContext context)
    {
        var failing = server.Behavior.HealthFailing;
        context.Response.StatusCode = failing ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        return context.Response.WriteAsJsonAsync(
            new DemoHealthResponse(failing ? "failing" : "ok", server.Name),
            DemoBackendJsonContext.Default.DemoHealthResponse,
            contentType: null,
            context.RequestAborted);
    }

    private async Task HandleControlAsync(HttpContext context)
    {
        if (HttpMethods.IsPost(context.Request.Method))
        {
            var errors = await ApplyControlChangesAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            if (errors.Count > 0)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, string.Join("; ", errors)).ConfigureAwait(false);
                return;
            }
        }
        else if (!HttpMethods.IsGet(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET, POST";
            await WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "/_control accepts GET and POST").ConfigureAwait(false);
            return;
        }

        var behavior = server.Behavior;
        var state = new DemoControlResponse(
            server.Name,
            (long)behavior.Delay.TotalMilliseconds,
            behavior.FailStatus,
            behavior.HealthFailing ? "fail" : "ok",
            server.RequestsServed,
            server.InFlight);
        await context.Response.WriteAsJsonAsync(state, DemoBackendJsonContext.Default.DemoControlResponse, contentType: null, context.RequestAborted)
            .ConfigureAwait(false);
    }

    /// <summary>Validates the whole control document first and changes nothing unless every field is valid.</summary>
    private async Task<List<string>> ApplyControlChangesAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            errors.Add($"body is not JSON: {e.Message}");
            return errors;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                errors.Add("body must be a JSON object such as {\"delay_ms\":100,\"fail_status\":500,\"health\":\"fail\"}");
                return errors;
            }
            foreach (var property in root.EnumerateObject())
            {
                if (!ControlFields.Contains(property.Name))
                {
                    errors.Add($"unknown field '{property.Name}' (known: {string.Join(", ", ControlFields)})");
                }
            }

            TimeSpan? delay = null;
            if (root.TryGetProperty("delay_ms", out var delayMs))
            {
                if (delayMs.ValueKind == JsonValueKind.Number && delayMs.TryGetInt32(out var ms) && ms >= 0)
                {
                    delay = TimeSpan.FromMilliseconds(ms);
                }
                else
                {
                    errors.Add("delay_ms must be a non-negative integer number of milliseconds");
                }
            }

            // Absent leaves the failure as it is; null or 0 clears it.
            var changeFailStatus = root.TryGetProperty("fail_status", out var failStatusElement);
            int? failStatus = null;
            if (changeFailStatus && failStatusElement.ValueKind != JsonValueKind.Null)
            {
                if (failStatusElement.ValueKind == JsonValueKind.Number
                    && failStatusElement.TryGetInt32(out var status)
                    && (status == 0 || IsAnswerableStatus(status)))
                {
                    failStatus = status == 0 ? null : status;
                }
                else
                {
                    errors.Add("fail_status must be null, 0 (both clear it) or a status from 200 to 599");
                }
            }

            bool? healthFailing = null;
            if (root.TryGetProperty("health", out var health))
            {
                healthFailing = health.ValueKind == JsonValueKind.String ? health.GetString() switch
                {
                    "ok" => false,
                    "fail" => true,
                    _ => null,
                } : null;
                if (healthFailing is null)
                {
                    errors.Add("health must be \"ok\" or \"fail\"");
                }
            }

            if (errors.Count == 0)
            {
                server.UpdateBehavior(current => current with
                {
                    Delay = delay ?? current.Delay,
                    FailStatus = changeFailStatus ? failStatus : current.FailStatus,
                    HealthFailing = healthFailing ?? current.HealthFailing,
                });
            }
            return errors;
        }
    }

    private async Task HandleApplicationRequestAsync(HttpContext context)
    {
        var request = context.Request;
        var cancellationToken = context.RequestAborted;
        server.RequestStarted();
        try
        {
            var bodyBytes = await CountBodyAsync(request, cancellationToken).ConfigureAwait(false);
            server.RecordRequest(new DemoRequestRecord(
                request.Method,
                request.Path.Value ?? "/",
                request.QueryString.Value ?? "",
                request.Protocol,
                request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                bodyBytes));

            if (!TryReadPerRequestOverrides(request.Query, out var delayOverride, out var statusOverride, out var error))
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, error).ConfigureAwait(false);
                server.RequestServed();
                return;
            }

            var behavior = server.Behavior;
            var delay = delayOverride ?? behavior.Delay;
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, server.TimeProvider, cancellationToken).ConfigureAwait(false);
            }

            var status = statusOverride ?? behavior.FailStatus ?? StatusCodes.Status200OK;
            context.Response.StatusCode = status;
            if (StatusAllowsBody(status))
            {
                var echo = new DemoEchoResponse(
                    server.Name,
                    request.Method,
                    request.Path.Value ?? "/",
                    request.QueryString.Value ?? "",
                    EchoedHeaders.ToDictionary(name => name, name => JoinedOrNull(request.Headers[name])),
                    bodyBytes);
                await context.Response.WriteAsJsonAsync(echo, DemoBackendJsonContext.Default.DemoEchoResponse, contentType: null, cancellationToken)
                    .ConfigureAwait(false);
            }
            server.RequestServed();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client (or an abort) went away while we waited or read; there is nobody left to answer.
        }
        finally
        {
            server.RequestEnded();
        }
    }

    private async Task HandleWebSocketEchoAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "/ws expects a WebSocket upgrade").ConfigureAwait(false);
            return;
        }

        server.RequestStarted();
        try
        {
            server.RecordRequest(new DemoRequestRecord(
                context.Request.Method,
                "/ws",
                context.Request.QueryString.Value ?? "",
                context.Request.Protocol,
                context.Request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                BodyBytes: 0));

            using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
            // Ends the echo when the client goes away or the server stops, so a graceful stop is not held up by open sockets.
            using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, server.Stopping);
            await EchoUntilClosedAsync(socket, ending.Token).ConfigureAwait(false);
            server.RequestServed();
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested || server.Stopping.IsCancellationRequested)
        {
            // Client gone or server stopping: the connection is closed by Kestrel.
        }
        catch (WebSocketException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client dropped the connection without a close handshake.
        }
        finally
        {
            server.RequestEnded();
        }
    }

    private static async Task EchoUntilClosedAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(
                    socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure,
                    socket.CloseStatusDescription,
                    cancellationToken).ConfigureAwait(false);
                return;
            }
            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>Reads the whole body without keeping it: only its length matters.</summary>
    private static async Task<long> CountBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            var read = await request.BodyReader.ReadAsync(cancellationToken).ConfigureAwait(false);
            total += read.Buffer.Length;
            request.BodyReader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return total;
            }
        }
    }

    private static bool TryReadPerRequestOverrides(
        IQueryCollection query, out TimeSpan? delay, out int? status, out string error)
    {
        delay = null;
        status = null;
        error = "";
        if (query.TryGetValue("delay", out var delayText))
        {
            if (!DurationText.TryParse(delayText.ToString(), out var parsed, out var delayError))
            {
                error = $"query delay: {delayError}";
                return false;
            }
            delay = parsed;
        }
        if (query.TryGetValue("delay_ms", out var delayMsText))
        {
            if (!int.TryParse(delayMsText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            {
                error = $"query delay_ms: '{delayMsText}' is not a non-negative integer";
                return false;
            }
            delay = TimeSpan.FromMilliseconds(ms);
        }
        if (query.TryGetValue("status", out var statusText))
        {
            if (!int.TryParse(statusText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                || !IsAnswerableStatus(parsed))
            {
                error = $"query status: '{statusText}' is not a status from 200 to 599";
                return false;
            }
            status = parsed;
        }
        return true;
    }

    private Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(
            new DemoErrorResponse(message, server.Name),
            DemoBackendJsonContext.Default.DemoErrorResponse,
            contentType: null,
            context.RequestAborted);
    }

    /// <summary>1xx are interim responses, not answers; anything above 599 is not HTTP.</summary>
    private static bool IsAnswerableStatus(int status) => status is >= 200 and <= 599;

    /// <summary>HTTP forbids a body on 204, 205 and 304, and Kestrel refuses to write one.</summary>
    private static bool StatusAllowsBody(int status) => status is not (204 or 205 or 304);

    private static string? JoinedOrNull(StringValues values) => values.Count == 0 ? null : values.ToString();
}
