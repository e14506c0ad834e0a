using Switchman.Core.Changes;
using Switchman.Core.Configuration;

namespace Switchman.Core.Tests.Changes;

/// <summary>The one reducer: every node (alone or in a cluster) folds the same commands into the same state.</summary>
public sealed class SharedStateTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_configuration_becomes_the_revision_of_its_log_index()
    {
        var state = SharedState.Empty.Skip(1).Skip(2).Apply(Config("c1", Shared(("a", 1), ("b", 1)), expected: 0), 3);

        Assert.Equal(3, state.Revision);
        Assert.Equal(["a", "b"], state.Config!.Backends[0].Servers.Select(s => s.Name));
        Assert.Equal(("ops", At, 3L), (state.Author, state.ChangedAt, state.AppliedIndex));
        Assert.True(state.FindChange("c1")!.Accepted);
    }

    [Fact]
    public void A_configuration_based_on_an_older_revision_is_refused_and_changes_nothing()
    {
        var state = SharedState.Empty.Apply(Config("c1", Shared(("a", 1)), expected: 0), 3);

        var next = state.Apply(Config("c2", Shared(("b", 1)), expected: 0), 4);

        Assert.Equal(3, next.Revision);
        Assert.Equal("a", next.Config!.Backends[0].Servers[0].Name);
        Assert.Equal(4, next.AppliedIndex);
        var outcome = next.FindChange("c2")!;
        Assert.False(outcome.Accepted);
        Assert.Equal(3, outcome.Revision);
        Assert.Contains("based on revision 0", outcome.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_change_delivered_twice_applies_once_even_with_other_content()
    {
        var state = SharedState.Empty.Apply(Config("c1", Shared(("a", 1)), expected: 0), 3).Apply(Weight("w1", "a", 5), 4);

        var again = state.Apply(Config("c1", Shared(("z", 1)), expected: 3), 5).Apply(Weight("w1", "a", 9), 6);

        Assert.Equal(3, again.Revision);
        Assert.Equal("a", again.Config!.Backends[0].Servers[0].Name);
        Assert.Equal(5, again.OverrideOf("api", "a")!.Weight);
        Assert.Equal(6, again.AppliedIndex);
        Assert.Equal(2, again.RecentChanges.Count);
    }

    [Fact]
    public void Overrides_survive_a_configuration_that_leaves_their_server_alone()
    {
        var state = Started(("a", 1), ("b", 1)).Apply(State("s1", "a", ServerAdminState.Drain), 4).Apply(Weight("w1", "b", 7), 5);

        // The backend's health interval changes; neither server's definition does.
        var changed = Shared(("a", 1), ("b", 1)) is var c ? c with { Backends = ValueList.Create(c.Backends[0] with { SlowStart = TimeSpan.FromSeconds(9) }) } : c;
        var next = state.Apply(Config("c2", changed, expected: 3), 6);

        Assert.Equal(6, next.Revision);
        Assert.Equal(new ServerOverride(ServerAdminState.Drain, null, "ops"), next.OverrideOf("api", "a"));
        Assert.Equal(7, next.OverrideOf("api", "b")!.Weight);
        Assert.Equal(ServerAdminState.Drain, Server(next.Effective(next.Config!), "a").State);
        Assert.Equal(7, Server(next.Effective(next.Config!), "b").Weight);
    }

    [Fact]
    public void A_redefined_server_keeps_its_overrides_unless_the_configuration_sets_that_field()
    {
        var state = Started(("a", 1), ("b", 1))
            .Apply(State("s1", "a", ServerAdminState.Drain), 4).Apply(Weight("w1", "a", 5), 5)
            .Apply(State("s2", "b", ServerAdminState.Maint), 6);

        // a moves to another address (state and weight untouched); b's weight is set in the file, its state is not.
        var next = state.Apply(Config("c2", SharedAt(("a", 1, "127.0.0.1:9999"), ("b", 4, "127.0.0.1:7098")), expected: 3), 7);

        Assert.Equal(new ServerOverride(ServerAdminState.Drain, 5, "ops"), next.OverrideOf("api", "a"));
        Assert.Equal(new ServerOverride(ServerAdminState.Maint, null, "ops"), next.OverrideOf("api", "b"));

        var weightInFile = next.Apply(Config("c3", SharedAt(("a", 2, "127.0.0.1:9999"), ("b", 4, "127.0.0.1:7098")), expected: 7), 8);
        Assert.Equal(new ServerOverride(ServerAdminState.Drain, null, "ops"), weightInFile.OverrideOf("api", "a"));
        Assert.Equal(2, Server(weightInFile.Effective(weightInFile.Config!), "a").Weight);
    }

    [Fact]
    public void Removing_a_server_or_its_backend_ends_its_overrides()
    {
        var state = Started(("a", 1), ("b", 1)).Apply(State("s1", "a", ServerAdminState.Drain), 4).Apply(Weight("w1", "b", 3), 5);

        var withoutA = state.Apply(Config("c2", Shared(("b", 1)), expected: 3), 6);
        Assert.Null(withoutA.OverrideOf("api", "a"));
        Assert.Equal(3, withoutA.OverrideOf("api", "b")!.Weight);

        var withoutBackend = withoutA.Apply(Config("c3", new SwitchmanConfig(), expected: 6), 7);
        Assert.Empty(withoutBackend.Overrides);

        // The same server name coming back later starts without the old override.
        var back = withoutBackend.Apply(Config("c4", Shared(("a", 1), ("b", 1)), expected: 7), 8);
        Assert.Empty(back.Overrides);
    }

    [Fact]
    public void Adding_and_removing_a_server_are_revisions_checked_against_the_state_they_apply_to()
    {
        var state = Started(("a", 1));

        var added = state.Apply(Add("add1", "c", "127.0.0.1:7003"), 4).Apply(State("s1", "c", ServerAdminState.Drain), 5);
        Assert.Equal(4, added.Revision);
        Assert.Equal(["a", "c"], added.Config!.Backends[0].Servers.Select(s => s.Name));

        var twice = added.Apply(Add("add2", "c", "127.0.0.1:7004"), 6);
        Assert.Equal("backend 'api' already has a server 'c'", twice.FindChange("add2")!.Refusal);
        Assert.Equal(4, twice.Revision);

        var removed = twice.Apply(Remove("rm1", "c"), 7);
        Assert.Equal(7, removed.Revision);
        Assert.Null(removed.OverrideOf("api", "c"));
        Assert.Equal("backend 'api' has no server 'c'", removed.Apply(Remove("rm2", "c"), 8).FindChange("rm2")!.Refusal);
        Assert.False(removed.Apply(State("s2", "gone", ServerAdminState.Maint), 9).FindChange("s2")!.Accepted);
    }

    [Fact]
    public void Only_the_most_recent_change_outcomes_are_remembered()
    {
        var state = Started(("a", 1));
        for (var i = 1; i <= SharedState.RememberedChanges + 10; i++)
        {
            state = state.Apply(Weight($"w{i}", "a", i % 256), 3 + i);
        }

        Assert.Equal(SharedState.RememberedChanges, state.RecentChanges.Count);
        Assert.Null(state.FindChange("w1"));
        Assert.NotNull(state.FindChange($"w{SharedState.RememberedChanges + 10}"));
    }

    [Fact]
    public void Commands_and_states_round_trip_through_their_bytes_and_unknown_bytes_are_not_a_command()
    {
        ChangeCommand[] commands =
        [
            Config("c1", Shared(("a", 3)), expected: 7), State("s1", "a", ServerAdminState.Maint), Weight("w1", "a", 9),
            Add("add1", "c", "127.0.0.1:7003"), Remove("rm1", "a"),
        ];
        foreach (var command in commands)
        {
            Assert.Equal(command, ChangeCommand.FromBytes(command.ToBytes()));
        }
        Assert.Contains("\"state\":\"maint\"", System.Text.Encoding.UTF8.GetString(commands[1].ToBytes()), StringComparison.Ordinal);
        Assert.Null(ChangeCommand.FromBytes("{\"type\":\"launch_missiles\"}"u8));
        Assert.Null(ChangeCommand.FromBytes("not json"u8));
        Assert.Null(ChangeCommand.FromBytes("{\"type\":\"apply_config\",\"change_id\":\"x\",\"author\":\"a\",\"proposed_at\":\"2026-12-06T12:00:00Z\",\"expected_revision\":0,\"yaml\":\"frontends: [\"}"u8));

        var state = Started(("a", 1)).Apply(State("s1", "a", ServerAdminState.Drain), 4);
        var back = System.Text.Json.JsonSerializer.Deserialize<SharedState>(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(state, ChangeJson.Options), ChangeJson.Options)!;
        Assert.Equal((state.Revision, state.Config, state.AppliedIndex), (back.Revision, back.Config, back.AppliedIndex));
        Assert.Equal(state.Overrides, back.Overrides);
        Assert.Equal(state.RecentChanges, back.RecentChanges);
    }

    internal static SharedState Started(params (string Name, int Weight)[] servers) =>
        SharedState.Empty.Skip(1).Skip(2).Apply(Config("c0", Shared(servers), expected: 0), 3);

    internal static SwitchmanConfig Shared(params (string Name, int Weight)[] servers) =>
        SharedAt([.. servers.Select(s => (s.Name, s.Weight, $"127.0.0.1:{7000 + s.Name[0]}"))]);

    internal static SwitchmanConfig SharedAt(params (string Name, int Weight, string Address)[] servers) => new()
    {
        Frontends = ValueList.Create(new FrontendConfig { Name = "web", Listen = "127.0.0.1:8080", DefaultBackend = "api" }),
        Backends = ValueList.Create(new BackendConfig
        {
            Name = "api",
            Servers = new ValueList<ServerConfig>(servers.Select(s => new ServerConfig { Name = s.Name, Address = s.Address, Weight = s.Weight })),
        }),
    };

    internal static ServerConfig Server(SwitchmanConfig config, string name) => config.Backends[0].Servers.Single(s => s.Name == name);

    internal static ApplyConfigCommand Config(string id, SwitchmanConfig config, long expected) => new()
    {
        ChangeId = id, Author = "ops", ProposedAt = At, Config = config, ExpectedRevision = expected,
    };

    internal static SetServerWeightCommand Weight(string id, string server, int weight) => new()
    {
        ChangeId = id, Author = "ops", ProposedAt = At, Backend = "api", Server = server, Weight = weight,
    };

    internal static SetServerStateCommand State(string id, string server, ServerAdminState state) => new()
    {
        ChangeId = id, Author = "ops", ProposedAt = At, Backend = "api", Server = server, State = state,
    };

    private static AddServerCommand Add(string id, string server, string address) => new()
    {
        ChangeId = id, Author = "ops", ProposedAt = At, Backend = "api", Server = new ServerConfig { Name = server, Address = address },
    };

    private static RemoveServerCommand Remove(string id, string server) => new()
    {
        ChangeId = id, Author = "ops", ProposedAt = At, Backend = "api", Server = server,
    };
}
