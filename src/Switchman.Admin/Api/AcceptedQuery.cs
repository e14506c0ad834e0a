using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Switchman.Admin.Api;

/// <summary>One query parameter an endpoint accepts, and what it does (the OpenAPI document shows it).</summary>
public sealed record QueryParameter(string Name, string Description);

/// <summary>
/// Endpoint metadata: the query parameters an endpoint accepts, each at most once and with a value. Declared where the
/// endpoint is mapped, with <see cref="AcceptedQueryRules.AcceptsQuery"/>; <see cref="AcceptedQueryRules.CheckAsync"/>
/// answers anything else with 400 before the handler runs, so a mistyped or unsupported parameter (<c>?format=xml</c>,
/// <c>?dryrun=true</c>) is refused rather than ignored.
/// </summary>
public sealed class AcceptedQuery(IReadOnlyList<QueryParameter> parameters)
{
    /// <summary>No query parameter at all.</summary>
    public static readonly AcceptedQuery None = new([]);

    public IReadOnlyList<QueryParameter> Parameters { get; } = parameters;

    public QueryParameter? Find(string name) =>
        Parameters.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Declares (<see cref="AcceptsQuery"/>) and enforces (<see cref="CheckAsync"/>) the query parameters of each endpoint.</summary>
public static class AcceptedQueryRules
{
    /// <summary>The query parameters the endpoint (or every endpoint of a group) accepts; none when none are given.</summary>
    public static TBuilder AcceptsQuery<TBuilder>(this TBuilder builder, params QueryParameter[] parameters)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(parameters.Length == 0 ? AcceptedQuery.None : new AcceptedQuery(parameters));
    }

    /// <summary>
    /// Middleware, after authorization (a caller without a token learns nothing of the parameters): an endpoint that
    /// declares its query parameters gets a request with only those, each once and with a value; anything else is a 400
    /// that names the parameter and lists the accepted ones. Endpoints that declare nothing (probes, metrics, the
    /// dashboard's files) are left alone.
    /// </summary>
    public static async Task CheckAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.GetEndpoint()?.Metadata.GetMetadata<AcceptedQuery>() is { } accepted && Refusal(context.Request, accepted) is { } refusal)
        {
            await ApiResults.Error(StatusCodes.Status400BadRequest, refusal).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        await next(context).ConfigureAwait(false);
    }

    /// <summary>A true/false parameter: absent is false; true, false, 1 or 0 (any case); anything else is not a flag.</summary>
    public static bool TryParseFlag(HttpRequest request, string name, out bool value)
    {
        ArgumentNullException.ThrowIfNull(request);
        switch (request.Query[name].ToString().ToLowerInvariant())
        {
            case "" or "false" or "0":
                value = false;
                return true;
            case "true" or "1":
                value = true;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>What is wrong with the request's query string, or null when nothing is.</summary>
    public static ApiError? Refusal(HttpRequest request, AcceptedQuery accepted)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(accepted);
        var names = accepted.Parameters.Select(p => p.Name).ToList();
        var takes = names.Count == 0
            ? $"{request.Method} {request.Path} takes no query parameter"
            : $"{request.Method} {request.Path} takes: {string.Join(", ", names)}";
        foreach (var (name, values) in request.Query)
        {
            if (accepted.Find(name) is not { } parameter)
            {
                return new ApiError($"unknown query parameter '{name}': {takes}") { Accepted = names };
            }
            // Names match in any case, as the handlers read them, so ?since=1&Since=2 is one parameter given twice.
            if (values.Count > 1)
            {
                return new ApiError($"query parameter '{parameter.Name}' is given {values.Count} times: give it once") { Accepted = names };
            }
            if (string.IsNullOrEmpty(values[0]))
            {
                // ?dry_run alone would otherwise read as dry_run=false: a change applied that was meant as a trial.
                return new ApiError($"query parameter '{parameter.Name}' has no value: write {parameter.Name}=<value>") { Accepted = names };
            }
        }
        return null;
    }
}
