using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;

namespace Switchman.Admin.Services;

/// <summary>How a rolling restart ended: every step taken, in words, and the failure it stopped at (null: all done).</summary>
public sealed record RollingRestartResult(IReadOnlyList<string> Steps, string? Failure);

/// <summary>
/// <c>switchman service restart NAME --rolling</c>: one instance at a time, so that no client notices. For each node
/// that runs the service: drain its server in every load balancer (a replicated override), wait until no load balancer
/// has a request in flight to it (bounded), order the restart, wait until that node reports the new instance running
/// (its monitor passed) and every load balancer's health check sees the server up, put the server back, then go on to
/// the next node. Stops at the first instance that does not come back, leaving its server drained, and says so. A
/// service with no backend is restarted one instance at a time, each waited for.
/// </summary>
public sealed class RollingRestart(ConfigStore store, ServerObserver observer, TimeProvider time, ILogger<RollingRestart> logger)
{
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(50);

    /// <summary>How long the load balancers get to see a restarted server healthy.</summary>
    private static readonly TimeSpan HealthLimit = TimeSpan.FromSeconds(60);

    public async Task<RollingRestartResult> RunAsync(ServiceConfig service, TimeSpan drainLimit, string author, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        var steps = new List<string>();
        var nodes = store.State.ServiceInstances.Where(n => n.Value.ContainsKey(service.Name)).Select(n => n.Key).ToList();
        if (nodes.Count == 0)
        {
            return new RollingRestartResult(steps, $"no node reports an instance of service {service.Name}");
        }
        foreach (var node in nodes)
        {
            if (store.State.InstanceOf(service.Name, node) is not { State: ServiceInstanceState.Running })
            {
                Step(steps, $"{node}: not running ({store.State.InstanceOf(service.Name, node)?.State.ToString().ToLowerInvariant()}), skipped");
                continue;
            }
            if (await RestartOneAsync(service, node, drainLimit, author, steps, cancellationToken).ConfigureAwait(false) is { } failure)
            {
                RollingRestartLog.Stopped(logger, service.Name, node, failure);
                return new RollingRestartResult(steps, $"{node}: {failure}");
            }
        }
        return new RollingRestartResult(steps, null);
    }

    /// <returns>Why the instance on <paramref name="node"/> did not come back; null when it did.</returns>
    private async Task<string?> RestartOneAsync(ServiceConfig service, string node, TimeSpan drainLimit, string author, List<string> steps, CancellationToken cancellationToken)
    {
        var server = service.Backend is null ? null : service.ServerFor(node);
        var drained = false;
        if (service.Backend is { } backend && server is not null)
        {
            var config = store.State.Config;
            var effective = store.State.OverrideOf(backend, server)?.State ?? SharedState.FindServer(config, backend, server)?.State;
            if (effective == ServerAdminState.Ready)
            {
                var drain = await store.SetServerStateAsync(backend, server, ServerAdminState.Drain, author, cancellationToken).ConfigureAwait(false);
                if (!drain.Outcome.Accepted)
                {
                    return $"draining {backend}/{server} was refused: {drain.Outcome.Refusal}";
                }
                drained = true;
                var started = time.GetTimestamp();
                if (await WaitAsync(async () => (await observer.ObserveAsync(backend, server, cancellationToken).ConfigureAwait(false)).All(v => v.Error is not null || v.InFlight == 0),
                        drainLimit, cancellationToken).ConfigureAwait(false))
                {
                    Step(steps, $"{node}: {backend}/{server} drained, no request in flight on any load balancer after {Ms(time.GetElapsedTime(started))}");
                }
                else
                {
                    Step(steps, $"{node}: {backend}/{server} drained; requests still in flight after {Ms(drainLimit)}, restarting anyway");
                }
            }
            else
            {
                Step(steps, $"{node}: {backend}/{server} is {effective?.ToString().ToLowerInvariant() ?? "missing"}, not drained");
            }
        }
        var pidBefore = store.State.InstanceOf(service.Name, node)?.Pid;
        var order = await store.RestartServiceAsync(service.Name, node, author, cancellationToken).ConfigureAwait(false);
        if (!order.Outcome.Accepted)
        {
            return $"the restart order was refused: {order.Outcome.Refusal}";
        }
        var restartStarted = time.GetTimestamp();
        var comeBack = service.StopTimeout + service.StartTimeout + TimeSpan.FromSeconds(10);
        ServiceInstanceReport? report = null;
        var back = await WaitAsync(() =>
        {
            report = store.State.InstanceOf(service.Name, node);
            return Task.FromResult(report is { } r && r.RestartIndex >= order.Outcome.Index
                && r.State is ServiceInstanceState.Running or ServiceInstanceState.Failed or ServiceInstanceState.Restarting);
        }, comeBack, cancellationToken).ConfigureAwait(false);
        if (!back || report?.State != ServiceInstanceState.Running)
        {
            return back
                ? $"the new instance did not come back: {report?.Problem ?? report?.State.ToString().ToLowerInvariant()}"
                : $"the new instance was not running within {Ms(comeBack)} ({report?.State.ToString().ToLowerInvariant() ?? "no report"})";
        }
        Step(steps, $"{node}: restarted (pid {pidBefore} → {report.Pid}), its monitor passed after {Ms(time.GetElapsedTime(restartStarted))}");
        if (service.Backend is { } healthBackend && server is not null)
        {
            if (!await WaitAsync(async () => (await observer.ObserveAsync(healthBackend, server, cancellationToken).ConfigureAwait(false)).All(v => v.Error is not null || v.IsUp),
                    HealthLimit, cancellationToken).ConfigureAwait(false))
            {
                return $"{healthBackend}/{server} is not up in every load balancer within {Ms(HealthLimit)}: left drained";
            }
            if (drained)
            {
                var ready = await store.SetServerStateAsync(healthBackend, server, ServerAdminState.Ready, author, cancellationToken).ConfigureAwait(false);
                if (!ready.Outcome.Accepted)
                {
                    return $"putting {healthBackend}/{server} back was refused: {ready.Outcome.Refusal}";
                }
            }
            Step(steps, $"{node}: {healthBackend}/{server} up in every load balancer{(drained ? ", ready again" : "")}");
        }
        return null;
    }

    private Task<bool> WaitAsync(Func<Task<bool>> done, TimeSpan limit, CancellationToken cancellationToken) =>
        BoundedPoll.UntilAsync(done, limit, PollEvery, time, cancellationToken);

    private void Step(List<string> steps, string step)
    {
        steps.Add(step);
        RollingRestartLog.Step(logger, step);
    }

    private static string Ms(TimeSpan span) => span.TotalSeconds >= 10 ? $"{span.TotalSeconds:0} s" : $"{span.TotalMilliseconds:0} ms";
}

internal static partial class RollingRestartLog
{
    [LoggerMessage(EventId = 7030, Level = LogLevel.Information, Message = "Rolling restart: {Step}")]
    public static partial void Step(ILogger logger, string step);

    [LoggerMessage(EventId = 7031, Level = LogLevel.Warning, Message = "Rolling restart of {Service} stopped at {Node}: {Failure}")]
    public static partial void Stopped(ILogger logger, string service, string node, string failure);
}
