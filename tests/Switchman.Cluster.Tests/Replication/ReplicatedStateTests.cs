using Switchman.Cluster.Replication;

namespace Switchman.Cluster.Tests.Replication;

/// <summary>The replicated state's rules: every node applies the same entries to the same state.</summary>
public sealed class ReplicatedStateTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_configuration_becomes_the_revision_of_its_log_index()
    {
        var state = ReplicatedState.Empty.Skip(1).Skip(2).Apply(Config("c1", "yaml: 1", expected: 0), 3);

        Assert.Equal(3, state.Revision);
        Assert.Equal("yaml: 1", state.ConfigYaml);
        Assert.Equal("ops", state.Author);
        Assert.Equal(At, state.ChangedAt);
        Assert.Equal(3, state.AppliedIndex);
        Assert.True(state.FindChange("c1")!.Accepted);
    }

    [Fact]
    public void A_configuration_based_on_an_older_revision_is_refused_and_changes_nothing()
    {
        var state = ReplicatedState.Empty.Apply(Config("c1", "yaml: 1", expected: 0), 3);

        var next = state.Apply(Config("c2", "yaml: 2", expected: 0), 4);

        Assert.Equal(3, next.Revision);
        Assert.Equal("yaml: 1", next.ConfigYaml);
        Assert.Equal(4, next.AppliedIndex);
        var outcome = next.FindChange("c2")!;
        Assert.False(outcome.Accepted);
        Assert.Equal(3, outcome.Revision);
        Assert.Contains("based on revision 0", outcome.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_change_delivered_twice_applies_once()
    {
        var state = ReplicatedState.Empty.Apply(Config("c1", "yaml: 1", expected: 0), 3);
        state = state.Apply(Weight("w1", "api", "a", 5), 4);

        // The same change id again (a client retrying after an unknown outcome), even with other content.
        var again = state.Apply(Config("c1", "yaml: other", expected: 3), 5).Apply(Weight("w1", "api", "a", 9), 6);

        Assert.Equal(3, again.Revision);
        Assert.Equal("yaml: 1", again.ConfigYaml);
        Assert.Equal(5, again.Overrides["api/a"].Weight);
        Assert.Equal(6, again.AppliedIndex);
        Assert.Equal(2, again.RecentChanges.Count);
    }

    [Fact]
    public void Overrides_accumulate_per_server_and_end_when_a_configuration_resets_them()
    {
        var state = ReplicatedState.Empty.Apply(Config("c1", "yaml: 1", expected: 0), 3)
            .Apply(Weight("w1", "api", "a", 5), 4)
            .Apply(State("s1", "api", "a", "drain"), 5)
            .Apply(State("s2", "api", "b", "maint"), 6);

        Assert.Equal(new ServerOverride("drain", 5, "ops"), state.Overrides["api/a"]);
        Assert.Equal(6, state.OverridesIndex);

        var next = state.Apply(Config("c2", "yaml: 2", expected: 3, reset: ["api/a"]), 7);

        Assert.False(next.Overrides.ContainsKey("api/a"));
        Assert.Equal("maint", next.Overrides["api/b"].State);
        Assert.Equal(7, next.OverridesIndex);
    }

    [Fact]
    public void Only_the_most_recent_change_outcomes_are_remembered()
    {
        var state = ReplicatedState.Empty;
        for (var i = 1; i <= ReplicatedState.RememberedChanges + 10; i++)
        {
            state = state.Apply(Weight($"w{i}", "api", "a", i % 256), i);
        }

        Assert.Equal(ReplicatedState.RememberedChanges, state.RecentChanges.Count);
        Assert.Null(state.FindChange("w1"));
        Assert.NotNull(state.FindChange($"w{ReplicatedState.RememberedChanges + 10}"));
    }

    [Fact]
    public void Commands_round_trip_through_their_log_bytes_and_unknown_bytes_are_not_a_command()
    {
        var command = Config("c1", "frontends: {}\n", expected: 7, reset: ["api/a"]);

        var back = Assert.IsType<ApplyConfigCommand>(ClusterCommand.FromBytes(command.ToBytes()));

        Assert.Equal(command.Yaml, back.Yaml);
        Assert.Equal(command.ExpectedRevision, back.ExpectedRevision);
        Assert.Equal(command.ResetOverrides, back.ResetOverrides);
        Assert.Equal(command.ProposedAt, back.ProposedAt);
        Assert.Null(ClusterCommand.FromBytes("{\"type\":\"launch_missiles\"}"u8));
        Assert.Null(ClusterCommand.FromBytes("not json"u8));
    }

    private static ApplyConfigCommand Config(string id, string yaml, long expected, string[]? reset = null) => new()
    {
        ChangeId = id, Author = "ops", ProposedAt = At, Yaml = yaml, ExpectedRevision = expected, ResetOverrides = reset ?? [],
    };

    private static SetServerWeightCommand Weight(string id, string backend, string server, int weight) => new()
    {
        ChangeId = id, Author = "ops", ProposedAt = At, Backend = backend, Server = server, Weight = weight,
    };

    private static SetServerStateCommand State(string id, string backend, string server, string state) => new()
    {
        ChangeId = id, Author = "ops", ProposedAt = At, Backend = backend, Server = server, State = state,
    };
}
