using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Switchman.Admin.Api;
using Switchman.Admin.Dashboard;
using Switchman.Proxy;

namespace Switchman.Admin;

/// <summary>
/// The admin listener's endpoints. Liveness, readiness (after the first round of health probes) and Prometheus
/// metrics are open, as monitoring systems expect, and the listener is on loopback unless the operator says otherwise;
/// everything under /api/v1 and the OpenAPI document needs a token (see <see cref="AdminApi"/>).
/// </summary>
public static class AdminEndpoints
{
    /// <summary>The endpoints that answer without a token: probes, metrics, and the dashboard's page, script and style sheet (no data).</summary>
    public static readonly IReadOnlyList<string> OpenPaths = ["/healthz", "/readyz", "/metrics", "/", .. DashboardAssets.Paths];

    /// <summary>Node-to-node calls of a cluster live under this prefix: no bearer token, a signature made with the cluster secret.</summary>
    public const string NodeToNodePrefix = "/_cluster/";

    public static IEndpointRouteBuilder MapSwitchmanAdmin(this IEndpointRouteBuilder endpoints, DataPlane dataPlane)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/healthz", () => Results.Text("ok\n"));
        endpoints.MapGet("/readyz", () => dataPlane.IsReady
            ? Results.Text("ready\n")
            : Results.Text("not ready: waiting for the first round of health checks\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        endpoints.MapPrometheusScrapingEndpoint("/metrics");
        // Resolved now, as the host is about to start, so started_at is the node's start rather than the first status call.
        endpoints.ServiceProvider.GetRequiredService<NodeInfo>();
        endpoints.MapAdminApi();
        endpoints.MapDashboard();
        return endpoints;
    }
}
