namespace Switchman.Core.Changes;

/// <summary>
/// The events of service instances, read from the nodes' reports as they are applied (so every node publishes the same
/// ones): <c>service_started</c> (its monitor passed), <c>service_failed</c> (with the failure and whether it will be
/// restarted), <c>service_restarted</c> (a restart order carried out), <c>service_moved</c> (a singleton moved away from
/// a node), <c>service_stopped</c>.
/// </summary>
public static class ServiceEvents
{
    public static IReadOnlyList<ChangeEvent> Between(SharedState before, SharedState after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (ReferenceEquals(before.ServiceInstances, after.ServiceInstances))
        {
            return [];
        }
        var events = new List<ChangeEvent>();
        foreach (var (node, instances) in after.ServiceInstances)
        {
            foreach (var (service, now) in instances)
            {
                if (Event(service, node, before.InstanceOf(service, node), now) is { } change)
                {
                    events.Add(change);
                }
            }
        }
        return events;
    }

    private static ChangeEvent? Event(string service, string node, ServiceInstanceReport? was, ServiceInstanceReport now)
    {
        var data = new Dictionary<string, object?>
        {
            ["service"] = service, ["node"] = node, ["state"] = Name(now.State), ["pid"] = now.Pid, ["failures"] = now.Failures, ["problem"] = now.Problem,
        };
        var instance = $"service {service} on {node}";
        if (was is not null && now.MoveIndex > was.MoveIndex)
        {
            return new ChangeEvent("service_moved", $"service {service} moved away from {node} as ordered: it runs there again after a cleanup", data);
        }
        if (now.Failures > (was?.Failures ?? 0) || (now.State == ServiceInstanceState.Failed && was?.State != ServiceInstanceState.Failed))
        {
            data["failure"] = now.LastFailure;
            var next = now.State == ServiceInstanceState.Failed ? "left stopped" : "restarting";
            return new ChangeEvent("service_failed", $"{instance} failed: {now.LastFailure ?? now.Problem} ({Failures(now.Failures)}); {next}", data);
        }
        if (now.RestartIndex > (was?.RestartIndex ?? 0) && was is not null)
        {
            return new ChangeEvent("service_restarted", $"{instance} restarted as ordered", data);
        }
        if (now.State == ServiceInstanceState.Running && was?.State != ServiceInstanceState.Running)
        {
            return new ChangeEvent("service_started", $"{instance} is running (pid {now.Pid})", data);
        }
        if (now.State == ServiceInstanceState.Stopped && was is { State: not ServiceInstanceState.Stopped })
        {
            return new ChangeEvent("service_stopped", $"{instance} stopped{(now.Problem is { } why ? $": {why}" : "")}", data);
        }
        return null;
    }

    private static string Failures(int count) => count == 1 ? "1 failure" : $"{count} failures";

    private static string Name(ServiceInstanceState state) => state.ToString().ToLowerInvariant();
}
