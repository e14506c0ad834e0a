using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Switchman.Admin.Control;
using Switchman.Admin.Services;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Supervisor.Processes;

namespace Switchman.Admin.Api;

/// <summary>
/// <c>/api/v1/services</c>: every service and its instances as their nodes report them (crm_mon's resources), and the
/// operator's actions: restart (one node, every node at once, or rolling), stop and start (target-role), cleanup
/// (forget failures), and the output of this node's instance.
/// </summary>
internal static class ServiceEndpoints
{
    private static readonly TimeSpan DefaultDrainLimit = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxDrainLimit = TimeSpan.FromMinutes(10);

    /// <summary>How long a restart, stop or cleanup waits for the nodes to report it done before it answers anyway.</summary>
    private static readonly TimeSpan ReportWait = TimeSpan.FromSeconds(10);

    private const int DefaultLogLines = 100;
    private const int MaxLogLines = 10_000;

    public static IResult GetServices(ConfigStore store, ServiceSupervisor supervisor) =>
        ApiResults.Json(new ServicesDocument(supervisor.NodeId, [.. (store.State.Config?.Services ?? ValueList<ServiceConfig>.Empty).Select(s => Document(store.State, s))]), ApiResults.Documents.ServicesDocument);

    public static IResult GetService(string service, ConfigStore store) =>
        Find(store, service, out var config) is { } notFound ? notFound : ApiResults.Json(Document(store.State, config!), ApiResults.Documents.ServiceDocument);

    public static async Task<IResult> RestartAsync(
        string service, HttpRequest request, ClaimsPrincipal user, ConfigStore store, RollingRestart rolling, TimeProvider time,
        Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        if (Find(store, service, out var config) is { } notFound)
        {
            return notFound;
        }
        var node = request.Query["node"].ToString();
        if (!AcceptedQueryRules.TryParseFlag(request, "rolling", out var isRolling))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "rolling must be true or false");
        }
        if (isRolling && node.Length > 0)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "a rolling restart goes through every node: leave out ?node, or leave out ?rolling to restart one node's instance");
        }
        if (!TryParseDrainLimit(request, out var drainLimit))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, $"?drain_timeout must be a duration such as 30s, at most {MaxDrainLimit.TotalMinutes:0}m");
        }
        var author = ConfigEndpoints.Author(user);
        if (isRolling)
        {
            // Not the request's token: a client that goes away (Ctrl+C, a timeout) must not leave a server drained halfway.
            var result = await rolling.RunAsync(config!, drainLimit, author, lifetime.ApplicationStopping).ConfigureAwait(false);
            return result.Failure is { } failure
                ? ApiResults.Json(new ServiceActionFailedDocument($"rolling restart of {service} stopped: {failure}", result.Steps), ApiResults.Documents.ServiceActionFailedDocument, StatusCodes.Status409Conflict)
                : ApiResults.Json(new ServiceActionDocument(Document(store.State, config!), result.Steps), ApiResults.Documents.ServiceActionDocument);
        }
        var nodes = node.Length > 0 ? [node] : store.State.ServiceInstances.Where(n => n.Value.ContainsKey(service)).Select(n => n.Key).ToList();
        if (node.Length > 0 && store.State.InstanceOf(service, node) is null)
        {
            return ApiResults.Error(StatusCodes.Status404NotFound, $"node '{node}' reports no instance of service {service}; {Reporting(store.State, service)}");
        }
        var steps = new List<string>();
        var orders = new List<(string Node, long Index)>();
        foreach (var target in nodes)
        {
            var order = await store.RestartServiceAsync(service, target, author, cancellationToken).ConfigureAwait(false);
            if (!order.Outcome.Accepted)
            {
                return ApiResults.Error(StatusCodes.Status409Conflict, $"the restart of {service} on {target} was refused: {order.Outcome.Refusal}");
            }
            orders.Add((target, order.Outcome.Index));
            steps.Add($"{target}: restart ordered");
        }
        var wait = config!.StopTimeout + config.StartTimeout;
        await WaitForReportsAsync(() => orders.All(o => store.State.InstanceOf(service, o.Node) is { } r && r.RestartIndex >= o.Index && r.State != ServiceInstanceState.Stopping),
            wait < ReportWait ? ReportWait : wait, time, cancellationToken).ConfigureAwait(false);
        return ApiResults.Json(new ServiceActionDocument(Document(store.State, config), steps), ApiResults.Documents.ServiceActionDocument);
    }

    public static Task<IResult> StopAsync(string service, ClaimsPrincipal user, ConfigStore store, TimeProvider time, CancellationToken cancellationToken) =>
        SetTargetAsync(service, started: false, user, store, time, cancellationToken);

    public static Task<IResult> StartAsync(string service, ClaimsPrincipal user, ConfigStore store, TimeProvider time, CancellationToken cancellationToken) =>
        SetTargetAsync(service, started: true, user, store, time, cancellationToken);

    public static async Task<IResult> CleanupAsync(
        string service, HttpRequest request, ClaimsPrincipal user, ConfigStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Find(store, service, out var config) is { } notFound)
        {
            return notFound;
        }
        var node = request.Query["node"].ToString() is { Length: > 0 } named ? named : null;
        if (node is not null && store.State.InstanceOf(service, node) is null)
        {
            return ApiResults.Error(StatusCodes.Status404NotFound, $"node '{node}' reports no instance of service {service}; {Reporting(store.State, service)}");
        }
        var result = await store.CleanupServiceAsync(service, node, ConfigEndpoints.Author(user), cancellationToken).ConfigureAwait(false);
        if (!result.Outcome.Accepted)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, $"the cleanup was refused: {result.Outcome.Refusal}");
        }
        var index = result.Outcome.Index;
        await WaitForReportsAsync(() => store.State.ServiceInstances
            .Where(n => (node is null || n.Key == node) && n.Value.ContainsKey(service))
            .All(n => n.Value[service].CleanupIndex >= index), ReportWait, time, cancellationToken).ConfigureAwait(false);
        return ApiResults.Json(new ServiceActionDocument(Document(store.State, config!), [$"failures of {service} forgotten on {node ?? "every node"}"]), ApiResults.Documents.ServiceActionDocument);
    }

    /// <summary>
    /// Moves a singleton away from <c>?node=N</c> (by default the node it runs on): that node stops it and reports itself
    /// unable to serve its VIP until a cleanup, so the leader gives the VIP, and the singleton with it, to another node.
    /// Answers once another node runs it, or after a bounded wait with where things stand.
    /// </summary>
    public static async Task<IResult> MoveAsync(
        string service, HttpRequest request, ClaimsPrincipal user, ConfigStore store, ServiceSupervisor supervisor, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Find(store, service, out var config) is { } notFound)
        {
            return notFound;
        }
        if (config!.Placement != ServicePlacement.Singleton)
        {
            return ApiResults.Error(StatusCodes.Status422UnprocessableEntity, $"service {service} is a clone: it runs on every node it may, there is nowhere to move it");
        }
        var from = request.Query["node"].ToString() is { Length: > 0 } named ? named : store.State.Vips.GetValueOrDefault(config.WithVip!)?.Node;
        if (from is null)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, $"service {service} runs nowhere now (nobody holds VIP {config.WithVip}): nothing to move");
        }
        var others = store.State.ServiceInstances.Keys.Where(n => n != from && store.State.ServiceInstances[n].ContainsKey(service)).ToList();
        if (others.Count == 0)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, $"no node but {from} can run service {service}: nowhere to move it");
        }
        var result = await store.MoveServiceAsync(service, from, ConfigEndpoints.Author(user), cancellationToken).ConfigureAwait(false);
        if (!result.Outcome.Accepted)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, $"the move was refused: {result.Outcome.Refusal}");
        }
        await WaitForReportsAsync(() => others.Any(n => store.State.InstanceOf(service, n)?.State == ServiceInstanceState.Running),
            config.StopTimeout + config.StartTimeout + ReportWait, time, cancellationToken).ConfigureAwait(false);
        var now = store.State.ServiceInstances.FirstOrDefault(n => n.Value.GetValueOrDefault(service)?.State == ServiceInstanceState.Running).Key;
        return ApiResults.Json(new ServiceActionDocument(Document(store.State, config),
            [$"{from}: moved away (until a cleanup)", now is null ? "not running on another node yet" : $"{now}: running"]), ApiResults.Documents.ServiceActionDocument);
    }

    /// <summary>The last lines of this node's instance output (text/plain); <c>?lines=N</c>, 100 by default.</summary>
    public static IResult GetLog(string service, HttpRequest request, ConfigStore store, ServiceSupervisor supervisor)
    {
        if (Find(store, service, out _) is { } notFound)
        {
            return notFound;
        }
        var text = request.Query["lines"].ToString();
        var lines = DefaultLogLines;
        if (text.Length > 0 && (!int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out lines) || lines is < 1 or > MaxLogLines))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, $"?lines must be a number from 1 to {MaxLogLines}");
        }
        var file = supervisor.LogFileOf(service);
        if (!File.Exists(file))
        {
            return ApiResults.Error(StatusCodes.Status404NotFound, $"service {service} has written no output on node {supervisor.NodeId} (no instance ran here yet)");
        }
        var tail = ServiceLog.ReadTail(file, lines);
        return Results.Text(tail.Count == 0 ? "" : string.Join('\n', tail) + "\n", "text/plain; charset=utf-8");
    }

    private static async Task<IResult> SetTargetAsync(string service, bool started, ClaimsPrincipal user, ConfigStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Find(store, service, out var config) is { } notFound)
        {
            return notFound;
        }
        var result = await store.SetServiceTargetAsync(service, started, ConfigEndpoints.Author(user), cancellationToken).ConfigureAwait(false);
        if (!result.Outcome.Accepted)
        {
            return ApiResults.Error(StatusCodes.Status409Conflict, $"the change was refused: {result.Outcome.Refusal}");
        }
        // Answers once every instance got there (a stop within its stop_timeout), or after a bounded wait with how far they got.
        var wait = started ? ReportWait : config!.StopTimeout + TimeSpan.FromSeconds(2);
        await WaitForReportsAsync(() => store.State.ServiceInstances.Values
            .Where(n => n.ContainsKey(service))
            .All(n => started ? n[service].State is ServiceInstanceState.Running or ServiceInstanceState.Failed : n[service].State is ServiceInstanceState.Stopped or ServiceInstanceState.Failed),
            wait, time, cancellationToken).ConfigureAwait(false);
        return ApiResults.Json(new ServiceActionDocument(Document(store.State, config!), [started ? $"{service} started" : $"{service} stopped"]), ApiResults.Documents.ServiceActionDocument);
    }

    /// <summary>Until the nodes' reports show <paramref name="done"/>, or <paramref name="limit"/> passed (then the answer says where things stand).</summary>
    private static Task WaitForReportsAsync(Func<bool> done, TimeSpan limit, TimeProvider time, CancellationToken cancellationToken) =>
        BoundedPoll.UntilAsync(done, limit, TimeSpan.FromMilliseconds(20), time, cancellationToken);

    private static IResult? Find(ConfigStore store, string service, out ServiceConfig? config)
    {
        config = store.State.Config?.FindService(service);
        if (config is not null)
        {
            return null;
        }
        var known = store.State.Config?.Services.Select(s => s.Name).ToList() ?? [];
        return ApiResults.Error(StatusCodes.Status404NotFound,
            $"there is no service '{service}'; {(known.Count == 0 ? "no services are configured" : "services: " + string.Join(", ", known))}");
    }

    private static string Reporting(SharedState state, string service)
    {
        var nodes = state.ServiceInstances.Where(n => n.Value.ContainsKey(service)).Select(n => n.Key).ToList();
        return nodes.Count == 0 ? "no node reports one yet" : "nodes with one: " + string.Join(", ", nodes);
    }

    public static ServiceDocument Document(SharedState state, ServiceConfig service) => new(
        service.Name,
        service.Placement.ToString().ToLowerInvariant(),
        service.Backend,
        state.StoppedServices.GetValueOrDefault(service.Name),
        [.. state.ServiceInstances
            .Where(n => n.Value.ContainsKey(service.Name))
            .Select(n => (Node: n.Key, Report: n.Value[service.Name]))
            .Select(i => new ServiceInstanceDocument(
                i.Node, service.Backend is null ? null : service.ServerFor(i.Node), i.Report.State.ToString().ToLowerInvariant(), i.Report.Pid, i.Report.StartedAt,
                i.Report.Failures, i.Report.LastFailure, i.Report.LastFailureAt, i.Report.Problem))]);

    private static bool TryParseDrainLimit(HttpRequest request, out TimeSpan limit)
    {
        var text = request.Query["drain_timeout"].ToString();
        if (text.Length == 0)
        {
            limit = DefaultDrainLimit;
            return true;
        }
        return ScalarFormats.TryParseDuration(text, out limit) && limit <= MaxDrainLimit && limit > TimeSpan.Zero;
    }
}
