using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Api;

/// <summary>How the API answers: JSON in snake_case, errors always <c>{"error": "..."}</c>.</summary>
public static class ApiResults
{
    /// <summary>
    /// Every document the API writes, bound to the API's options (those of <see cref="AdminApiJson"/>, and the relaxed
    /// encoder below): answers go through these source-generated type infos, so a Native AOT build writes them too.
    /// </summary>
    public static readonly AdminApiJson Documents = new(new JsonSerializerOptions(AdminApiJson.Default.Options)
    {
        // Messages are for people reading a terminal: keep ' < > + as they are. The body is JSON, never HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static IResult Json<T>(T value, JsonTypeInfo<T> document, int statusCode = StatusCodes.Status200OK) =>
        Results.Json(value, document, contentType: "application/json; charset=utf-8", statusCode: statusCode);

    public static IResult Error(int statusCode, string message) => Error(statusCode, new ApiError(message));

    public static IResult Error(int statusCode, ApiError error) => Json(error, Documents.ApiError, statusCode);

    /// <summary>
    /// 429 with Retry-After (whole seconds, at least 1) to an address that failed authentication too often
    /// (<see cref="Auth.AuthFailureLimiter"/>); the same for a bearer token and a node-to-node signature.
    /// </summary>
    public static IResult TooManyFailures(HttpContext context, TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(context);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Error(StatusCodes.Status429TooManyRequests,
            $"too many failed authentications from {context.Connection.RemoteIpAddress}: until it fails less than once a second, " +
            $"requests from there that fail are answered 429; retry in {seconds} s with a valid credential");
    }

    /// <summary>422 with every error; <paramref name="withFile"/> when the errors are in a file on the node (a reload).</summary>
    public static IResult Invalid(string message, IReadOnlyList<ConfigError> errors, bool withFile) => Error(
        StatusCodes.Status422UnprocessableEntity,
        new ApiError(message)
        {
            Errors = [.. errors.Select(e => new ApiValidationError(withFile && e.File.Length > 0 ? e.File : null, e.Path, e.Line, e.Column, e.Message))],
        });
}
