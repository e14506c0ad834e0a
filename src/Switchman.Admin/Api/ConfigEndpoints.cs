using System.Globalization;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Switchman.Admin.Control;
using Switchman.Core.Configuration.Writing;

namespace Switchman.Admin.Api;

/// <summary><c>GET|PUT /api/v1/config</c> and <c>POST /api/v1/reload</c>: the running configuration and its revision.</summary>
internal static class ConfigEndpoints
{
    public const string RequestBodySource = "request body";

    public static IResult GetConfig(HttpRequest request, ConfigStore store)
    {
        var current = store.Current;
        var etag = ETag(current.Revision);
        if (request.Headers.IfNoneMatch.Any(v => v == etag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        request.HttpContext.Response.Headers.ETag = etag;
        if (WantsJson(request))
        {
            return Results.Text(ConfigWriter.ToJson(current.Config), "application/json; charset=utf-8", Encoding.UTF8);
        }
        var header = string.Create(CultureInfo.InvariantCulture,
            $"# switchman configuration revision {current.Revision}, applied by {current.Author} at {current.AppliedAt:yyyy-MM-ddTHH:mm:ssZ}\n");
        return Results.Text(header + ConfigWriter.ToYaml(current.Config), "text/yaml; charset=utf-8", Encoding.UTF8);
    }

    public static async Task<IResult> PutConfigAsync(HttpRequest request, ClaimsPrincipal user, ConfigStore store, CancellationToken cancellationToken)
    {
        if (!IsConfigMediaType(request.ContentType))
        {
            return ApiResults.Error(StatusCodes.Status415UnsupportedMediaType,
                $"send the configuration as YAML (Content-Type: application/yaml) or JSON (application/json), not '{request.ContentType}'");
        }
        if (!TryParseIfMatch(request, out var expectedRevision))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "If-Match must be the ETag of GET /api/v1/config, such as \"5\"");
        }
        if (!TryParseDryRun(request, out var dryRun))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "dry_run must be true or false");
        }
        var (body, tooLarge) = await RequestBody.ReadAsync(request, AdminListenerLimits.MaxConfigBytes, "the configuration", cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return tooLarge!;
        }
        // JSON is YAML, so one loader reads both, with line numbers either way.
        var outcome = await store.ApplyYamlAsync(Encoding.UTF8.GetString(body), RequestBodySource, expectedRevision, Author(user), dryRun, cancellationToken).ConfigureAwait(false);
        return ToResult(request, outcome, errorsInFile: false);
    }

    public static async Task<IResult> ReloadAsync(HttpRequest request, ClaimsPrincipal user, ConfigStore store, CancellationToken cancellationToken)
    {
        if (!TryParseDryRun(request, out var dryRun))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "dry_run must be true or false");
        }
        var outcome = await store.ReloadAsync(Author(user), cancellationToken, dryRun).ConfigureAwait(false);
        return ToResult(request, outcome, errorsInFile: true);
    }

    /// <summary>200 (with the revision's ETag), 409 or 422, the same for every way a configuration arrives.</summary>
    public static IResult ToResult(HttpRequest request, ApplyOutcome outcome, bool errorsInFile)
    {
        switch (outcome)
        {
            case ApplyOutcome.Applied applied:
                request.HttpContext.Response.Headers.ETag = ETag(applied.Current.Revision);
                return ApiResults.Json(new ConfigChangeDocument(applied.Current.Revision, applied.Diff.Changes, applied.DryRun), ApiResults.Documents.ConfigChangeDocument);
            case ApplyOutcome.Conflict conflict:
                return ApiResults.Error(StatusCodes.Status409Conflict, new ApiError(
                    $"the configuration is at revision {conflict.CurrentRevision}, not {conflict.ExpectedRevision}: get it again, redo the change, and send it with the new ETag")
                {
                    CurrentRevision = conflict.CurrentRevision,
                    ExpectedRevision = conflict.ExpectedRevision,
                });
            case ApplyOutcome.Invalid invalid:
                return ApiResults.Invalid(
                    $"the configuration was refused with {invalid.Errors.Count} error(s); the running configuration is unchanged",
                    invalid.Errors,
                    errorsInFile);
            default:
                throw new InvalidOperationException($"unexpected outcome {outcome}");
        }
    }

    public static string ETag(long revision) => string.Create(CultureInfo.InvariantCulture, $"\"{revision}\"");

    public static string Author(ClaimsPrincipal user) => user.Identity?.Name ?? "unknown";

    private static bool WantsJson(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        return accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            && !accept.Any(a => a.MediaType.Value?.Contains("yaml", StringComparison.OrdinalIgnoreCase) == true);
    }

    private static bool IsConfigMediaType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return true;
        }
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed))
        {
            return false;
        }
        var media = parsed.MediaType.Value ?? "";
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("/yaml", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("/x-yaml", StringComparison.OrdinalIgnoreCase)
            || media.Equals("text/plain", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>No If-Match (or <c>*</c>): apply whatever the revision. <c>"5"</c> or <c>W/"5"</c> (or a bare 5): only on revision 5.</summary>
    private static bool TryParseIfMatch(HttpRequest request, out long? revision)
    {
        revision = null;
        var value = request.Headers.IfMatch.ToString().Trim();
        if (value.Length == 0 || value == "*")
        {
            return true;
        }
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }
        if (long.TryParse(value.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            revision = parsed;
            return true;
        }
        return false;
    }

    private static bool TryParseDryRun(HttpRequest request, out bool dryRun) => AcceptedQueryRules.TryParseFlag(request, "dry_run", out dryRun);
}
