using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using static Switchman.Core.Tests.Changes.SharedStateTests;

namespace Switchman.Core.Tests.Changes;

/// <summary>What a step from one state to the next changes, worked out once for the data plane, the events and the API.</summary>
public sealed class ChangeSetTests
{
    [Fact]
    public void A_drain_is_one_server_state_change_by_its_author_and_no_revision()
    {
        var before = Started(("a", 1), ("b", 1));
        var after = before.Apply(State("s1", "a", ServerAdminState.Drain), 4);

        var changes = ChangeSet.Between(before, before.Config!, after, after.Config!);

        Assert.False(changes.ConfigChanged);
        var change = Assert.Single(changes.Servers);
        Assert.Equal(("api", "a", ServerChangeKind.State, ServerAdminState.Ready, ServerAdminState.Drain, "ops"),
            (change.Backend, change.Server, change.Kind, change.Before!.State, change.After!.State, change.Author));
        var evt = Assert.Single(changes.Events());
        Assert.Equal("server_state_changed", evt.Type);
        Assert.Equal(("drain", "ready"), (evt.Data["state"], evt.Data["previous"]));
    }

    [Fact]
    public void An_unrelated_configuration_change_keeps_a_drained_server_drained_and_says_nothing_about_it()
    {
        var before = Started(("a", 1), ("b", 1)).Apply(State("s1", "a", ServerAdminState.Drain), 4);
        var config = Shared(("a", 1), ("b", 1));
        var after = before.Apply(Config("c2", config with { Backends = ValueList.Create(config.Backends[0] with { SlowStart = TimeSpan.FromSeconds(3) }) }, expected: 3), 5);

        var changes = ChangeSet.Between(before, before.Config!, after, after.Config!);

        Assert.True(changes.ConfigChanged);
        Assert.Empty(changes.Servers);
        Assert.Equal(["backend api changed: settings changed"], changes.Changes);
        Assert.Equal(["config_applied"], changes.Events().Select(e => e.Type));
        Assert.Equal(ServerAdminState.Drain, Server(after.Effective(after.Config!), "a").State);
    }

    [Fact]
    public void A_redefined_server_says_its_override_is_kept_and_a_field_set_in_the_file_says_the_override_ended()
    {
        var before = Started(("a", 1), ("b", 1)).Apply(State("s1", "a", ServerAdminState.Drain), 4).Apply(Weight("w1", "b", 9), 5);

        var after = before.Apply(Config("c2", SharedAt(("a", 1, "127.0.0.1:9999"), ("b", 3, "127.0.0.1:7098")), expected: 3), 6);
        var changes = ChangeSet.Between(before, before.Config!, after, after.Config!);

        Assert.Contains("server api/a: drain override kept", changes.Changes);
        Assert.Contains("server api/b: weight override 9 ended (the configuration now sets weight 3)", changes.Changes);
        var weight = Assert.Single(changes.Servers);
        Assert.Equal((ServerChangeKind.Weight, 9, 3), (weight.Kind, weight.Before!.Weight, weight.After!.Weight));
        Assert.Equal(["config_applied", "server_weight_changed"], changes.Events().Select(e => e.Type));
    }

    [Fact]
    public void Servers_added_and_removed_are_events_with_the_revision()
    {
        var before = Started(("a", 1), ("b", 1));
        var after = before.Apply(Config("c2", Shared(("b", 1), ("c", 1)), expected: 3), 4);

        var events = ChangeSet.Between(before, before.Config!, after, after.Config!).Events();

        Assert.Equal(["config_applied", "server_added", "server_removed"], events.Select(e => e.Type));
        Assert.Equal(("c", 4L), (events[1].Data["server"], events[1].Data["revision"]));
        Assert.Equal("a", events[2].Data["server"]);
    }

    [Fact]
    public void Removing_a_backend_removes_its_servers_and_nothing_else()
    {
        var before = Started(("a", 1)).Apply(State("s1", "a", ServerAdminState.Maint), 4);
        var after = before.Apply(Config("c2", new SwitchmanConfig(), expected: 3), 5);

        var changes = ChangeSet.Between(before, before.Config!, after, after.Config!);

        Assert.Equal([ServerChangeKind.Removed], changes.Servers.Select(s => s.Kind));
        Assert.Contains("backend api removed", changes.Changes);
        Assert.DoesNotContain(changes.Changes, c => c.Contains("override", StringComparison.Ordinal));
    }
}
