using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Switchman.Proxy;

namespace Switchman.Admin;

/// <summary>
/// The admin listener's endpoints: liveness, readiness (after the first round of health probes), Prometheus metrics
/// and the status document.
/// </summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapSwitchmanAdmin(this IEndpointRouteBuilder endpoints, DataPlane dataPlane)
    {
        endpoints.MapGet("/healthz", () => Results.Text("ok\n"));
        endpoints.MapGet("/readyz", () => dataPlane.IsReady
            ? Results.Text("ready\n")
            : Results.Text("not ready: waiting for the first round of health checks\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        endpoints.MapGet("/api/v1/status", () => Results.Json(dataPlane.GetStatus(), StatusJsonContext.Default.StatusReport));
        endpoints.MapPrometheusScrapingEndpoint("/metrics");
        return endpoints;
    }
}
