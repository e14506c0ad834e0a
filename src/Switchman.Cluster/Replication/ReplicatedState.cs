using System.Collections.Immutable;

namespace Switchman.Cluster.Replication;

/// <summary>A server's runtime overrides (null fields are not overridden) and who set the last one.</summary>
public sealed record ServerOverride(string? State, int? Weight, string? Author);

/// <summary>What became of one applied command, kept (a bounded number of them) for its proposer and for retries.</summary>
public sealed record ChangeOutcome(string ChangeId, long Index, bool Accepted, long Revision, string? Refusal);

/// <summary>
/// The replicated state: small by design. The shared configuration (as YAML) and its revision (the log index of
/// the entry that set it), the runtime overrides, and the outcomes of recent changes. Immutable: each applied entry
/// yields a new snapshot, which readers take without locks.
/// </summary>
public sealed record ReplicatedState
{
    /// <summary>How many recent change outcomes are remembered for deduplication.</summary>
    public const int RememberedChanges = 1000;

    public static readonly ReplicatedState Empty = new();

    /// <summary>Log index of the entry that set <see cref="ConfigYaml"/>; 0 before the first configuration.</summary>
    public long Revision { get; init; }

    public string? ConfigYaml { get; init; }

    public string? Author { get; init; }

    public DateTimeOffset? ChangedAt { get; init; }

    /// <summary>Keyed "backend/server".</summary>
    public ImmutableSortedDictionary<string, ServerOverride> Overrides { get; init; } = ImmutableSortedDictionary<string, ServerOverride>.Empty;

    /// <summary>Log index of the last entry that changed an override; lets appliers skip unchanged overrides.</summary>
    public long OverridesIndex { get; init; }

    /// <summary>The last log index applied to this state.</summary>
    public long AppliedIndex { get; init; }

    /// <summary>Oldest first.</summary>
    public ImmutableList<ChangeOutcome> RecentChanges { get; init; } = [];

    public static string ServerKey(string backend, string server) => $"{backend}/{server}";

    public ChangeOutcome? FindChange(string changeId)
    {
        for (var i = RecentChanges.Count - 1; i >= 0; i--)
        {
            if (RecentChanges[i].ChangeId == changeId)
            {
                return RecentChanges[i];
            }
        }
        return null;
    }

    /// <summary>The state after the command at <paramref name="index"/>. Pure: the same inputs give the same state on every node.</summary>
    public ReplicatedState Apply(ClusterCommand command, long index)
    {
        if (FindChange(command.ChangeId) is not null)
        {
            return this with { AppliedIndex = index };
        }
        var (next, outcome) = command switch
        {
            ApplyConfigCommand c => ApplyConfig(c, index),
            SetServerStateCommand s => (WithOverride(s.Backend, s.Server, o => o with { State = s.State, Author = s.Author }, index), Accepted(s, index)),
            SetServerWeightCommand w => (WithOverride(w.Backend, w.Server, o => o with { Weight = w.Weight, Author = w.Author }, index), Accepted(w, index)),
            _ => (this, new ChangeOutcome(command.ChangeId, index, false, Revision, "unknown command")),
        };
        var recent = next.RecentChanges.Add(outcome);
        if (recent.Count > RememberedChanges)
        {
            recent = recent.RemoveRange(0, recent.Count - RememberedChanges);
        }
        return next with { AppliedIndex = index, RecentChanges = recent };
    }

    /// <summary>The state after an entry that is not a command of ours (the leader's no-op, a membership change).</summary>
    public ReplicatedState Skip(long index) => this with { AppliedIndex = index };

    private (ReplicatedState, ChangeOutcome) ApplyConfig(ApplyConfigCommand command, long index)
    {
        if (command.ExpectedRevision != Revision)
        {
            return (this, new ChangeOutcome(command.ChangeId, index, false, Revision,
                $"the change was based on revision {command.ExpectedRevision}, but the cluster is at revision {Revision}"));
        }
        var overrides = Overrides.RemoveRange(command.ResetOverrides);
        var next = this with
        {
            Revision = index,
            ConfigYaml = command.Yaml,
            Author = command.Author,
            ChangedAt = command.ProposedAt,
            Overrides = overrides,
            OverridesIndex = overrides.Count == Overrides.Count ? OverridesIndex : index,
        };
        return (next, new ChangeOutcome(command.ChangeId, index, true, index, null));
    }

    private ReplicatedState WithOverride(string backend, string server, Func<ServerOverride, ServerOverride> change, long index)
    {
        var key = ServerKey(backend, server);
        var current = Overrides.TryGetValue(key, out var found) ? found : new ServerOverride(null, null, null);
        return this with { Overrides = Overrides.SetItem(key, change(current)), OverridesIndex = index };
    }

    private ChangeOutcome Accepted(ClusterCommand command, long index) => new(command.ChangeId, index, true, Revision, null);
}
