using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Switchman.Testing;

namespace Switchman.CliTests;

/// <summary>A request the <see cref="RecordedAdminApi"/> received.</summary>
/// <param name="Method">GET, POST, DELETE…</param>
/// <param name="Target">The request target exactly as sent (path and query, still escaped).</param>
/// <param name="Authorization">The Authorization header, if any.</param>
/// <param name="Body">The request body as text ("" when none).</param>
internal sealed record RecordedRequest(string Method, string Target, string? Authorization, string Body);

/// <summary>
/// A stand-in for a node's admin API on loopback port 0 that answers with recorded documents: for the CLI's handling of
/// answers a real node cannot easily be made to give (a cluster of several nodes, no leader). Every request is
/// recorded; one without the admin token gets the API's 401; one nobody set an answer for gets a 404.
/// </summary>
internal sealed class RecordedAdminApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<(string Method, string Path), Func<RecordedAnswer>> _answers = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private RecordedAdminApi(WebApplication app) => _app = app;

    /// <summary>http://127.0.0.1:port, as the CLI's --endpoint takes it.</summary>
    public string Url { get; private set; } = "";

    /// <summary>Every request received so far, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public static async Task<RecordedAdminApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var api = new RecordedAdminApi(app);
        app.Run(api.HandleAsync);
        await app.StartAsync();
        api.Url = app.Urls.Single();
        return api;
    }

    /// <summary>Answers <paramref name="method"/> <paramref name="path"/> (unescaped, no query) with <paramref name="json"/>.</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="path">The path, e.g. /api/v1/cluster.</param>
    /// <param name="json">The body; made afresh for every request, so it can carry times relative to now.</param>
    /// <param name="status">The status code.</param>
    /// <param name="retryAfter">A Retry-After header, in seconds.</param>
    public void Answer(string method, string path, Func<string> json, int status = StatusCodes.Status200OK, int? retryAfter = null) =>
        _answers[(method, path)] = () => new RecordedAnswer(status, json(), retryAfter);

    /// <inheritdoc cref="Answer(string, string, Func{string}, int, int?)"/>
    public void Answer(string method, string path, string json, int status = StatusCodes.Status200OK, int? retryAfter = null) =>
        Answer(method, path, () => json, status, retryAfter);

    /// <summary>Arguments that point the CLI here with <paramref name="token"/>.</summary>
    public string[] Connect(string token = TestTokens.AdminToken) => ["--endpoint", Url, "--token", token];

    /// <summary>Runs <c>switchman <paramref name="arguments"/></c> against this API with the admin token.</summary>
    public Task<CliResult> RunAsync(params string[] arguments) => Cli.RunAsync([.. arguments, .. Connect()]);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.ToUriComponent();
        var authorization = context.Request.Headers.Authorization.ToString();
        _requests.Enqueue(new RecordedRequest(context.Request.Method, target, authorization.Length == 0 ? null : authorization, body));

        var answer = authorization != $"Bearer {TestTokens.AdminToken}"
            ? new RecordedAnswer(StatusCodes.Status401Unauthorized, """{"error": "the bearer token is not valid on this node"}""", null)
            : _answers.TryGetValue((context.Request.Method, context.Request.Path.Value ?? ""), out var answerFor)
                ? answerFor()
                : new RecordedAnswer(StatusCodes.Status404NotFound, """{"error": "no recorded answer"}""", null);
        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = "application/json; charset=utf-8";
        if (answer.RetryAfter is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        await context.Response.WriteAsync(answer.Json, context.RequestAborted);
    }

    private sealed record RecordedAnswer(int Status, string Json, int? RetryAfter);
}
