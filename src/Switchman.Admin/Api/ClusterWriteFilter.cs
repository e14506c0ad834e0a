using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Switchman.Admin.Control;
using Switchman.Cluster;

namespace Switchman.Admin.Api;

/// <summary>
/// A change that the cluster cannot take now answers 503 with <c>Retry-After</c> and says whether anything was
/// written: nothing (no leader, no quorum) or unknown (it may still commit; retrying the same change is safe).
/// </summary>
internal static class ClusterWriteFilter
{
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            var request = context.HttpContext.Request;
            if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)
                && context.HttpContext.RequestServices.GetRequiredService<ConfigStore>().Log is { IsReplicated: true } log)
            {
                // A change is validated against this node's copy: bring it up to the cluster's latest first.
                await log.CatchUpAsync(context.HttpContext.RequestAborted).ConfigureAwait(false);
            }
            return await next(context).ConfigureAwait(false);
        }
        catch (ClusterNotLeaderException e)
        {
            context.HttpContext.Response.Headers.RetryAfter = "1";
            return ApiResults.Error(StatusCodes.Status503ServiceUnavailable,
                $"the cluster has no leader this node can reach (an election is under way, or the majority is lost): nothing was changed; retry shortly ({e.Message})");
        }
        catch (HttpRequestException e)
        {
            context.HttpContext.Response.Headers.RetryAfter = "1";
            return ApiResults.Error(StatusCodes.Status503ServiceUnavailable,
                $"the cluster leader could not be reached ({e.Message}); retry shortly");
        }
        catch (ClusterOutcomeUnknownException e)
        {
            context.HttpContext.Response.Headers.RetryAfter = "1";
            return ApiResults.Error(StatusCodes.Status503ServiceUnavailable, e.Message);
        }
    }
}
