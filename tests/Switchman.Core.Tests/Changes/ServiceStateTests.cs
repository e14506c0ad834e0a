using System.Collections.Immutable;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using static Switchman.Core.Tests.Changes.SharedStateTests;

namespace Switchman.Core.Tests.Changes;

/// <summary>The replicated state of services: operator stops, restart and cleanup orders, the nodes' reports, and the events they make.</summary>
public sealed class ServiceStateTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Stop_and_start_restart_and_cleanup_orders_are_kept_by_index_and_a_service_that_does_not_exist_is_refused()
    {
        var state = WithService();

        var stopped = state.Apply(new SetServiceTargetCommand { ChangeId = "t1", Author = "alice", ProposedAt = At, Service = "app", Started = false }, 5);
        Assert.Equal("alice", stopped.StoppedServices["app"]);
        Assert.Empty(stopped.Apply(new SetServiceTargetCommand { ChangeId = "t2", Author = "bob", ProposedAt = At, Service = "app", Started = true }, 6).StoppedServices);

        var ordered = state
            .Apply(new RestartServiceCommand { ChangeId = "r1", Author = "alice", ProposedAt = At, Service = "app", Node = "n1" }, 7)
            .Apply(new CleanupServiceCommand { ChangeId = "c1", Author = "alice", ProposedAt = At, Service = "app" }, 8)
            .Apply(new CleanupServiceCommand { ChangeId = "c2", Author = "alice", ProposedAt = At, Service = "app", Node = "n2" }, 9);
        Assert.Equal((7L, 0L), (ordered.RestartOrder("app", "n1"), ordered.RestartOrder("app", "n2")));
        Assert.Equal((8L, 9L), (ordered.CleanupOrder("app", "n1"), ordered.CleanupOrder("app", "n2")));

        var refused = state.Apply(new RestartServiceCommand { ChangeId = "r2", Author = "alice", ProposedAt = At, Service = "ghost", Node = "n1" }, 10);
        Assert.Equal("there is no service 'ghost'", refused.FindChange("r2")!.Refusal);

        // A configuration without the service takes its stop and orders with it.
        var gone = ordered.Apply(new SetServiceTargetCommand { ChangeId = "t3", Author = "alice", ProposedAt = At, Service = "app", Started = false }, 11)
            .Apply(Config("c9", Shared(("a", 1)), expected: 3), 12);
        Assert.Empty(gone.StoppedServices);
        Assert.Empty(gone.ServiceOrders);
    }

    [Fact]
    public void A_node_s_report_replaces_its_last_one_and_changes_become_events()
    {
        var state = WithService();
        var running = Report(state, "n1", new ServiceInstanceReport { State = ServiceInstanceState.Running, Pid = 41 }, 5);
        var failed = Report(running, "n1", new ServiceInstanceReport { State = ServiceInstanceState.Restarting, Failures = 1, LastFailure = "killed by SIGKILL" }, 6);
        var back = Report(failed, "n1", new ServiceInstanceReport { State = ServiceInstanceState.Running, Pid = 42, Failures = 1 }, 7);
        var givenUp = Report(back, "n1", new ServiceInstanceReport { State = ServiceInstanceState.Failed, Failures = 3, LastFailure = "exited with code 1", Problem = "left stopped" }, 8);

        Assert.Equal(42, back.InstanceOf("app", "n1")!.Pid);
        Assert.Equal(["service_started"], ServiceEvents.Between(state, running).Select(e => e.Type));
        var failure = Assert.Single(ServiceEvents.Between(running, failed));
        Assert.Equal(("service_failed", "service app on n1 failed: killed by SIGKILL (1 failure); restarting"), (failure.Type, failure.Message));
        Assert.Equal(["service_started"], ServiceEvents.Between(failed, back).Select(e => e.Type));
        Assert.EndsWith("(3 failures); left stopped", Assert.Single(ServiceEvents.Between(back, givenUp)).Message, StringComparison.Ordinal);
        Assert.Empty(ServiceEvents.Between(givenUp, givenUp.Skip(9)));

        var bytes = new ReportServiceInstancesCommand { ChangeId = "x", Author = "node n1", ProposedAt = At, Node = "n1", Instances = givenUp.ServiceInstances["n1"] };
        Assert.Equal(ServiceInstanceState.Failed, ((ReportServiceInstancesCommand)ChangeCommand.FromBytes(bytes.ToBytes())!).Instances["app"].State);
    }

    private static SharedState Report(SharedState state, string node, ServiceInstanceReport report, long index) =>
        state.Apply(new ReportServiceInstancesCommand
        {
            ChangeId = $"report{index}", Author = $"node {node}", ProposedAt = At, Node = node,
            Instances = ImmutableSortedDictionary<string, ServiceInstanceReport>.Empty.Add("app", report),
        }, index);

    private static SharedState WithService() => SharedState.Empty.Skip(1).Skip(2).Apply(Config("c0", Shared(("a", 1)) with
    {
        Services = ValueList.Create(new ServiceConfig { Name = "app", Command = ValueList.Create("/bin/true") }),
    }, expected: 0), 3);
}
