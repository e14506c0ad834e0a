using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Switchman.Admin.Dashboard;

/// <summary>
/// The web dashboard on the admin listener: <c>/dashboard</c> and its script and style sheet, open like
/// <c>/healthz</c> because they carry no data; the page signs in with an admin API token and calls the API with it.
/// <c>/</c> sends a browser there.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>
    /// Scripts and styles from this origin only, nothing inline, no frames, no forms posted anywhere: the page renders
    /// data as text, and this policy keeps a value that slipped through from running as code.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/", () => Results.Redirect(DashboardAssets.Root)).ExcludeFromDescription();
        foreach (var path in DashboardAssets.Paths)
        {
            // HEAD too: what curl -I and link checkers send.
            endpoints.MapMethods(path, ["GET", "HEAD"], (HttpContext context) => Serve(context, DashboardAssets.Get(path))).ExcludeFromDescription();
        }
        return endpoints;
    }

    private static IResult Serve(HttpContext context, DashboardAsset asset)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // Revalidated every time: an upgraded node serves its new page at once, and an unchanged one answers 304.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        return Results.Bytes(asset.Content, asset.ContentType);
    }
}
