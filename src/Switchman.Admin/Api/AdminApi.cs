using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Switchman.Admin.Api.Auth;
using Switchman.Admin.Clustering;
using Switchman.Admin.Control;

namespace Switchman.Admin.Api;

/// <summary>
/// The admin API's route table: every endpoint, its method, and the role it needs, in one place. Anything under
/// <c>/api/v1</c> or <c>/openapi</c> must name a policy here; the tests walk the app's endpoint table to hold that.
/// </summary>
public static class AdminApi
{
    public const string Prefix = "/api/v1";

    // The query parameters the endpoints accept (AcceptedQuery); any other one is refused with 400.
    private static readonly QueryParameter DryRun = new("dry_run", "true: validate and report what would change, apply nothing (default false).");
    private static readonly QueryParameter ServiceNode = new("node", "The node whose instance to act on (default: every node's).");


    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup(Prefix).WithTags("admin");
        api.AddEndpointFilter(ClusterWriteFilter.FilterAsync);
        // No query parameter unless an endpoint declares its own below.
        api.AcceptsQuery();

        api.MapGet("/status", StatusEndpoints.GetStatusAsync)
            .RequireAuthorization(AdminPolicies.Read)
            .WithSummary("The node, its frontends, backends and servers (state, health, weight, in-flight, request rate, last check).")
            .Produces<NodeStatusDocument>();

        api.MapGet("/whoami", (System.Security.Claims.ClaimsPrincipal user) => ApiResults.Json(WhoAmIDocument.Of(user), ApiResults.Documents.WhoAmIDocument))
            .RequireAuthorization(AdminPolicies.Read)
            .WithSummary("The presented token's name and role (read or admin): what a client such as the dashboard may offer its user.")
            .Produces<WhoAmIDocument>();

        api.MapGet("/config", ConfigEndpoints.GetConfig)
            .RequireAuthorization(AdminPolicies.Read)
            .WithSummary("The running configuration, YAML by default or JSON (Accept: application/json); the ETag names its revision.")
            .Produces<string>(StatusCodes.Status200OK, "text/yaml", "application/json");

        api.MapPut("/config", ConfigEndpoints.PutConfigAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Replace the configuration (YAML or JSON body). If-Match: \"<revision>\" refuses a stale change with 409; ?dry_run=true only reports the diff.")
            .DocumentsBody<string>("application/yaml", "application/json")
            .AcceptsQuery(DryRun)
            .Produces<ConfigChangeDocument>()
            .Produces<ApiError>(StatusCodes.Status409Conflict)
            .Produces<ApiError>(StatusCodes.Status422UnprocessableEntity);

        api.MapPost("/reload", ConfigEndpoints.ReloadAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Read the node's configuration file again and apply it.")
            .AcceptsQuery(DryRun)
            .Produces<ConfigChangeDocument>()
            .Produces<ApiError>(StatusCodes.Status422UnprocessableEntity);

        api.MapGet("/backends/{backend}/servers/{server}", StatusEndpoints.GetServer)
            .RequireAuthorization(AdminPolicies.Read)
            .WithSummary("One server's status.")
            .Produces<ServerStatusDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound);

        api.MapPost("/backends/{backend}/servers/{server}/state", ServerEndpoints.SetStateAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Set a server to ready, drain or maint (a runtime override, not a configuration revision).")
            .DocumentsBody<ServerStateRequest>("application/json")
            .Produces<ServerStatusDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status422UnprocessableEntity);

        api.MapPut("/backends/{backend}/servers/{server}/weight", ServerEndpoints.SetWeightAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Set a server's weight, 0 to 256 (a runtime override, not a configuration revision).")
            .DocumentsBody<ServerWeightRequest>("application/json")
            .Produces<ServerStatusDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status422UnprocessableEntity);

        api.MapPost("/backends/{backend}/servers", ServerEndpoints.AddAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Add a server to a backend: a new configuration revision.")
            .DocumentsBody<AddServerRequest>("application/json")
            .Produces<ServerAddedDocument>(StatusCodes.Status201Created)
            .Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status409Conflict)
            .Produces<ApiError>(StatusCodes.Status422UnprocessableEntity);

        api.MapDelete("/backends/{backend}/servers/{server}", ServerEndpoints.RemoveAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Drain a server, wait until it has no request in flight (?timeout=30s), then remove it: a new configuration revision.")
            .AcceptsQuery(new QueryParameter("timeout", "How long to wait for its requests in flight, such as 30s (the default), at most 10m."))
            .Produces<ConfigChangeDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status409Conflict);

        api.MapGet("/vips", VipEndpoints.GetVips)
            .RequireAuthorization(AdminPolicies.Read)
            .WithSummary("Every configured VIP: the node the shared state gives it to (absent: nobody), since when, why, the node before; and whether this node has it on its interface. Nodes in standby or unable to serve a VIP are listed with why.")
            .Produces<VipsDocument>();

        api.MapPost("/nodes/{node}/standby", VipEndpoints.StandbyAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Put a node in standby (pcs node standby): the leader moves its VIPs to other nodes and gives it none; it keeps serving what reaches it.")
            .Produces<NodeStandingDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status409Conflict);

        api.MapPost("/nodes/{node}/online", VipEndpoints.OnlineAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Bring a node out of standby: it may be given VIPs again.")
            .Produces<NodeStandingDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status409Conflict);

        api.MapGet("/services", ServiceEndpoints.GetServices)
            .RequireAuthorization(AdminPolicies.Read)
            .WithSummary("Every service and its instance on each node (state, pid, since when, failures, last failure, problem), as the nodes report them.")
            .Produces<ServicesDocument>();

        api.MapGet("/services/{service}", ServiceEndpoints.GetService)
            .RequireAuthorization(AdminPolicies.Read)
            .WithSummary("One service and its instances.")
            .Produces<ServiceDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound);

        api.MapPost("/services/{service}/restart", ServiceEndpoints.RestartAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Restart a service's instances: ?node=N one node's; none: every node's at once; ?rolling=true one at a time, each drained in every load balancer first and put back once healthy (?drain_timeout=30s).")
            .AcceptsQuery(
                ServiceNode,
                new QueryParameter("rolling", "true: one node at a time, each drained in every load balancer first and put back once healthy."),
                new QueryParameter("drain_timeout", "With rolling: how long each drain may take, such as 30s (the default), at most 10m."))
            .Produces<ServiceActionDocument>()
            .Produces<ServiceActionFailedDocument>(StatusCodes.Status409Conflict)
            .Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status422UnprocessableEntity);

        api.MapPost("/services/{service}/stop", ServiceEndpoints.StopAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Stop a service on every node and keep it stopped (Pacemaker's target-role Stopped), across configuration changes, until it is started.")
            .Produces<ServiceActionDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound);

        api.MapPost("/services/{service}/start", ServiceEndpoints.StartAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Start a stopped service again.")
            .Produces<ServiceActionDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound);

        api.MapPost("/services/{service}/cleanup", ServiceEndpoints.CleanupAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Forget a service's failures (crm_resource --cleanup) on ?node=N or every node: an instance left stopped by its failures starts again.")
            .AcceptsQuery(ServiceNode)
            .Produces<ServiceActionDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound);

        api.MapPost("/services/{service}/move", ServiceEndpoints.MoveAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Move a singleton away from ?node=N (default: where it runs), like crm_resource --move: that node may run it again after a cleanup; its VIP goes with it.")
            .AcceptsQuery(new QueryParameter("node", "The node to move it away from (default: the one it runs on)."))
            .Produces<ServiceActionDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status409Conflict)
            .Produces<ApiError>(StatusCodes.Status422UnprocessableEntity);

        api.MapGet("/services/{service}/log", ServiceEndpoints.GetLog)
            .RequireAuthorization(AdminPolicies.Read)
            .WithSummary("The last lines (?lines=100) of the output of this node's instance of a service.")
            .AcceptsQuery(new QueryParameter("lines", "How many of the last lines, from 1 to 10000 (default 100)."))
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .Produces<ApiError>(StatusCodes.Status404NotFound);

        api.MapGet("/events", EventEndpoints.GetEventsAsync)
            .RequireAuthorization(AdminPolicies.Read)
            .WithSummary("Server-Sent Events of everything that changes (?since=<id> replays history); ?follow=false returns the history as JSON.")
            .AcceptsQuery(
                new QueryParameter("since", "Start after this event id (as the Last-Event-ID header does)."),
                new QueryParameter("follow", "false: the history as a JSON array instead of a stream (default true, unless Accept asks for JSON only)."))
            .Produces<IReadOnlyList<NodeEvent>>(StatusCodes.Status200OK, "application/json")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream");

        api.MapGet("/cluster", ClusterEndpoints.GetClusterAsync)
            .RequireAuthorization(AdminPolicies.Read)
            .WithSummary("The cluster as this node sees it: members, roles, leader, term, and each member's revision, applied index, lag and last contact.")
            .Produces<ClusterStatusDocument>();

        api.MapPost("/cluster/members", ClusterEndpoints.AddMemberAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Add a voter by its cluster address (start it with cluster.join: true first). One membership change at a time.")
            .DocumentsBody<AddMemberRequest>("application/json")
            .Produces<MembershipChangeDocument>()
            .Produces<ApiError>(StatusCodes.Status409Conflict)
            .Produces<ApiError>(StatusCodes.Status422UnprocessableEntity)
            .Produces<ApiError>(StatusCodes.Status503ServiceUnavailable);

        api.MapDelete("/cluster/members/{member}", ClusterEndpoints.RemoveMemberAsync)
            .RequireAuthorization(AdminPolicies.Admin)
            .WithSummary("Remove a member by id or cluster address; stop that node afterwards.")
            .Produces<MembershipChangeDocument>()
            .Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status409Conflict)
            .Produces<ApiError>(StatusCodes.Status503ServiceUnavailable);

        ClusterEndpoints.MapInternal(endpoints);
        endpoints.MapOpenApi().RequireAuthorization(AdminPolicies.Read).AcceptsQuery();
        return endpoints;
    }
}
