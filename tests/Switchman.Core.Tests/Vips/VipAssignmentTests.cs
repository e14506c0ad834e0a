using Switchman.Core.Changes;
using Switchman.Core.Configuration;

namespace Switchman.Core.Tests.Vips;

/// <summary>The reducer's rules for VIP assignments: fenced by term, released before moved, gone with their VIP.</summary>
public sealed class VipAssignmentTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_assignment_records_holder_term_index_time_and_reason()
    {
        var state = Started().Apply(Assign("v1", "lb1", term: 2, "placed"), 4);

        Assert.Equal(new VipAssignment("lb1", 2, 4, At, "placed"), state.Vips["api"]);
    }

    [Fact]
    public void A_vip_is_released_before_it_moves_and_a_direct_move_is_refused()
    {
        var held = Started().Apply(Assign("v1", "lb1", term: 2, "placed"), 4);

        var direct = held.Apply(Assign("v2", "lb2", term: 2, "node lost"), 5);
        Assert.Equal("VIP 'api' is held by lb1: it must be released before lb2 may hold it", direct.FindChange("v2")!.Refusal);
        Assert.Equal("lb1", direct.Vips["api"].Node);

        var moved = held.Apply(Assign("v3", null, term: 2, "node lost"), 5).Apply(Assign("v4", "lb2", term: 2, "node lost"), 6);
        Assert.Equal(("lb2", 6L), (moved.Vips["api"].Node, moved.Vips["api"].Index));
    }

    [Fact]
    public void A_vip_moves_in_one_step_only_from_the_holder_the_leader_found_had_let_go()
    {
        var held = Started().Apply(Assign("v1", "lb1", term: 2, "placed"), 4);

        var wrongHolder = held.Apply(Assign("v2", "lb2", term: 3, "node lost") with { ReleasedFrom = "lb3" }, 5);
        Assert.Equal("VIP 'api' is held by lb1: it must be released before lb2 may hold it", wrongHolder.FindChange("v2")!.Refusal);

        var moved = held.Apply(Assign("v3", "lb2", term: 3, "node lost") with { ReleasedFrom = "lb1", ProposedAt = At.AddSeconds(1) }, 5);
        Assert.Equal(new VipAssignment("lb2", 3, 5, At.AddSeconds(1), "node lost", "lb1", At.AddSeconds(1)), moved.Vips["api"]);
        var move = Assert.Single(ChangeSet.Between(held, held.Config!, moved, held.Config!).Events());
        Assert.Equal(("vip_moved", "VIP api moved from lb1 to lb2: node lost"), (move.Type, move.Message));
    }

    [Fact]
    public void A_move_remembers_the_last_holder_and_when_it_lost_the_vip_and_publishes_one_event_per_step()
    {
        var held = Started().Apply(Assign("v1", "lb1", term: 2, "placed"), 4);
        var released = held.Apply(Assign("v2", null, term: 3, "node lost") with { ProposedAt = At.AddSeconds(1) }, 5);
        var moved = released.Apply(Assign("v3", "lb2", term: 3, "node lost") with { ProposedAt = At.AddSeconds(2) }, 6);

        Assert.Equal(new VipAssignment("lb2", 3, 6, At.AddSeconds(2), "node lost", "lb1", At.AddSeconds(1)), moved.Vips["api"]);
        var config = held.Config!;
        Assert.Equal(["vip_assigned"], Events(Started(), held));
        var taken = Assert.Single(ChangeSet.Between(held, config, released, config).Events());
        Assert.Equal(("vip_unassigned", "lb1"), (taken.Type, taken.Data["previous_node"]));
        var move = Assert.Single(ChangeSet.Between(released, config, moved, config).Events());
        Assert.Equal("vip_moved", move.Type);
        Assert.Equal("VIP api moved from lb1 to lb2: node lost", move.Message);
    }

    [Fact]
    public void Standby_and_readiness_reports_are_kept_per_node_and_a_node_with_neither_has_no_entry()
    {
        var state = Started()
            .Apply(new SetNodeStandbyCommand { ChangeId = "s1", Author = "ops", ProposedAt = At, Node = "lb1", Standby = true }, 4)
            .Apply(new ReportVipReadinessCommand { ChangeId = "r1", Author = "node lb2", ProposedAt = At, Node = "lb2", Unready = new Dictionary<string, string> { ["api"] = "no server" } }, 5);

        Assert.Equal("standby", state.StandingOf("lb1").WhyNot("api"));
        Assert.Equal("no server", state.StandingOf("lb2").WhyNot("api"));
        Assert.Null(state.StandingOf("lb3").WhyNot("api"));
        Assert.Equal(["node_standby"], Events(Started(), state));

        var back = state
            .Apply(new SetNodeStandbyCommand { ChangeId = "s2", Author = "ops", ProposedAt = At, Node = "lb1", Standby = false }, 6)
            .Apply(new ReportVipReadinessCommand { ChangeId = "r2", Author = "node lb2", ProposedAt = At, Node = "lb2", Unready = new Dictionary<string, string>() }, 7);
        Assert.Empty(back.Nodes);
        Assert.Equal(["node_online"], Events(state, back));
        var snapshot = System.Text.Json.JsonSerializer.Deserialize<SharedState>(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(state, ChangeJson.Options), ChangeJson.Options)!;
        Assert.Equal(state.Nodes["lb2"].Unready, snapshot.Nodes["lb2"].Unready);
        Assert.True(snapshot.Nodes["lb1"].Standby);
    }

    [Fact]
    public void A_command_from_an_older_term_is_refused_as_stale()
    {
        var state = Started().Apply(Assign("v1", "lb1", term: 3, "placed"), 4);

        var stale = state.Apply(Assign("v2", null, term: 2, "lease expired"), 5);

        Assert.False(stale.FindChange("v2")!.Accepted);
        Assert.Contains("stale", stale.FindChange("v2")!.Refusal, StringComparison.Ordinal);
        Assert.Equal("lb1", stale.Vips["api"].Node);
    }

    [Fact]
    public void A_vip_that_is_not_configured_cannot_be_assigned_and_one_removed_from_the_configuration_loses_its_holder()
    {
        var state = Started().Apply(Assign("v1", "lb1", term: 2, "placed"), 4);

        Assert.Equal("there is no VIP 'nope'", state.Apply(Assign("v2", "lb1", term: 2, "placed", vip: "nope"), 5).FindChange("v2")!.Refusal);
        var withoutVips = state.Apply(new ApplyConfigCommand { ChangeId = "c2", Author = "ops", ProposedAt = At, Config = new SwitchmanConfig(), ExpectedRevision = 3 }, 5);
        Assert.Empty(withoutVips.Vips);
    }

    [Fact]
    public void Assignments_round_trip_through_their_bytes_and_the_state_snapshot()
    {
        var command = Assign("v1", null, term: 7, "standby");
        Assert.Equal(command, ChangeCommand.FromBytes(command.ToBytes()));

        var state = Started().Apply(Assign("v1", "lb1", term: 2, "placed"), 4);
        var back = System.Text.Json.JsonSerializer.Deserialize<SharedState>(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(state, ChangeJson.Options), ChangeJson.Options)!;
        Assert.Equal(state.Vips, back.Vips);
        Assert.Equal(state.Config, back.Config);
    }

    private static List<string> Events(SharedState before, SharedState after) =>
        [.. ChangeSet.Between(before, before.Config ?? after.Config!, after, after.Config!).Events().Select(e => e.Type).Where(t => t is not "config_applied")];

    private static SharedState Started() => SharedState.Empty.Apply(new ApplyConfigCommand
    {
        ChangeId = "c1", Author = "ops", ProposedAt = At, ExpectedRevision = 0,
        Config = new SwitchmanConfig { Vips = ValueList.Create(new VipConfig { Name = "api", Address = "192.0.2.10/24", Interface = "eth0" }) },
    }, 3);

    private static AssignVipCommand Assign(string id, string? node, long term, string reason, string vip = "api") => new()
    {
        ChangeId = id, Author = "leader", ProposedAt = At, Vip = vip, Node = node, Term = term, Reason = reason,
    };
}
