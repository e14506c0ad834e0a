using System.Collections.Immutable;
using Switchman.Core.Configuration;

namespace Switchman.Core.Changes;

/// <summary>A server's runtime overrides (null fields are not overridden) and who set the last one.</summary>
public sealed record ServerOverride(ServerAdminState? State, int? Weight, string? Author)
{
    public bool IsEmpty => State is null && Weight is null;
}

/// <summary>
/// Who holds a VIP (null: nobody), since which log index and time, decided in which term, and why; and the node that
/// held it last and when it was taken from it (set when it is released, kept when it is given to the next holder, so
/// that step reads as a move and the takeover can be timed).
/// </summary>
public sealed record VipAssignment(string? Node, long Term, long Index, DateTimeOffset Since, string Reason, string? PreviousNode = null, DateTimeOffset? ReleasedAt = null);

/// <summary>
/// What the cluster knows of one node's fitness to hold VIPs: whether an operator put it in standby (and who), and the
/// VIPs it reported it cannot serve now, each with why.
/// </summary>
public sealed record NodeStanding(bool Standby, string? StandbyAuthor, ImmutableSortedDictionary<string, string> Unready)
{
    public static readonly NodeStanding Default = new(false, null, ImmutableSortedDictionary<string, string>.Empty);

    public bool IsDefault => !Standby && Unready.IsEmpty;

    /// <summary>Why this node may not hold <paramref name="vip"/> now; null when it may.</summary>
    public string? WhyNot(string vip) => Standby ? "standby" : Unready.GetValueOrDefault(vip);
}

/// <summary>What became of one applied command, kept (a bounded number of them) for its proposer and for retries.</summary>
public sealed record ChangeOutcome(string ChangeId, long Index, bool Accepted, long Revision, string? Refusal);

/// <summary>
/// The state every change folds into, the same on a node alone (its one-member log) and on every node of a cluster
/// (the Raft log): the shared configuration and its revision (the log index of the entry that set it), the runtime
/// overrides of servers, and the outcomes of recent changes. Immutable: each applied entry yields a new state, which
/// readers take without locks. <see cref="Apply"/> is the one reducer: pure, so every node that applies the same
/// entries reaches the same state.
/// </summary>
public sealed record SharedState
{
    /// <summary>How many recent change outcomes are remembered for deduplication.</summary>
    public const int RememberedChanges = 1000;

    public static readonly SharedState Empty = new();

    /// <summary>Log index of the entry that last changed <see cref="Config"/>; 0 before the first configuration.</summary>
    public long Revision { get; init; }

    /// <summary>The shared configuration (no <c>admin</c>, no <c>cluster</c>); null before the first one.</summary>
    public SwitchmanConfig? Config { get; init; }

    public string? Author { get; init; }

    public DateTimeOffset? ChangedAt { get; init; }

    /// <summary>Keyed by <see cref="ServerKey"/>.</summary>
    public ImmutableSortedDictionary<string, ServerOverride> Overrides { get; init; } = ImmutableSortedDictionary<string, ServerOverride>.Empty;

    /// <summary>Who holds each VIP, keyed by VIP name; a VIP never assigned has no entry.</summary>
    public ImmutableSortedDictionary<string, VipAssignment> Vips { get; init; } = ImmutableSortedDictionary<string, VipAssignment>.Empty;

    /// <summary>Nodes in standby or with VIPs they cannot serve, keyed by node id; a node in neither has no entry.</summary>
    public ImmutableSortedDictionary<string, NodeStanding> Nodes { get; init; } = ImmutableSortedDictionary<string, NodeStanding>.Empty;

    /// <summary>Services an operator stopped (<c>switchman service stop</c>), keyed by service name, with who did; a started service has no entry.</summary>
    public ImmutableSortedDictionary<string, string> StoppedServices { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>
    /// Restart and cleanup orders for service instances, keyed by <see cref="OrderKey"/>, each the log index of the
    /// latest one: a node carries out an order whose index is above what its instance last reported having done.
    /// </summary>
    public ImmutableSortedDictionary<string, long> ServiceOrders { get; init; } = ImmutableSortedDictionary<string, long>.Empty;

    /// <summary>Each node's last report of its service instances, keyed by node id, then by service name.</summary>
    public ImmutableSortedDictionary<string, ImmutableSortedDictionary<string, ServiceInstanceReport>> ServiceInstances { get; init; } =
        ImmutableSortedDictionary<string, ImmutableSortedDictionary<string, ServiceInstanceReport>>.Empty;

    /// <summary>An order's key: <c>restart:keystone@n1</c>, <c>cleanup:keystone@*</c> (every node).</summary>
    public static string OrderKey(string order, string service, string? node) => $"{order}:{service}@{node ?? "*"}";

    /// <summary>The index of the latest restart order for the instance of <paramref name="service"/> on <paramref name="node"/>; 0: none.</summary>
    public long RestartOrder(string service, string node) => ServiceOrders.GetValueOrDefault(OrderKey("restart", service, node));

    /// <summary>The index of the latest cleanup order that covers <paramref name="node"/> (its own or every node's); 0: none.</summary>
    public long CleanupOrder(string service, string node) =>
        Math.Max(ServiceOrders.GetValueOrDefault(OrderKey("cleanup", service, node)), ServiceOrders.GetValueOrDefault(OrderKey("cleanup", service, null)));

    /// <summary>The index of the latest order to move <paramref name="service"/> away from <paramref name="node"/>; 0: none.</summary>
    public long MoveOrder(string service, string node) => ServiceOrders.GetValueOrDefault(OrderKey("move", service, node));

    /// <summary>What <paramref name="node"/> last reported of its instance of <paramref name="service"/>; null: nothing yet.</summary>
    public ServiceInstanceReport? InstanceOf(string service, string node) =>
        ServiceInstances.GetValueOrDefault(node)?.GetValueOrDefault(service);

    /// <summary>What is known of <paramref name="node"/>'s fitness to hold VIPs.</summary>
    public NodeStanding StandingOf(string node) => Nodes.GetValueOrDefault(node) ?? NodeStanding.Default;

    /// <summary>The last log index applied to this state.</summary>
    public long AppliedIndex { get; init; }

    /// <summary>Oldest first.</summary>
    public ImmutableList<ChangeOutcome> RecentChanges { get; init; } = [];

    public static string ServerKey(string backend, string server) => $"{backend}/{server}";

    public ServerOverride? OverrideOf(string backend, string server) => Overrides.GetValueOrDefault(ServerKey(backend, server));

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

    /// <summary>
    /// <paramref name="config"/> (the shared configuration with a node's own sections) as the data plane runs it: each
    /// server's state and weight replaced by its override, if it has one.
    /// </summary>
    public SwitchmanConfig Effective(SwitchmanConfig config)
    {
        if (Overrides.IsEmpty)
        {
            return config;
        }
        return config with
        {
            Backends = new ValueList<BackendConfig>(config.Backends.Select(backend => backend with
            {
                Servers = new ValueList<ServerConfig>(backend.Servers.Select(server => OverrideOf(backend.Name, server.Name) is { } o
                    ? server with { State = o.State ?? server.State, Weight = o.Weight ?? server.Weight }
                    : server)),
            })),
        };
    }

    /// <summary>The state after the command at <paramref name="index"/>. Pure: the same inputs give the same state on every node.</summary>
    public SharedState Apply(ChangeCommand command, long index)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (FindChange(command.ChangeId) is not null)
        {
            return this with { AppliedIndex = index };
        }
        var (next, refusal) = command switch
        {
            ApplyConfigCommand c => ApplyConfig(c, index),
            SetServerStateCommand s => WithOverride(s.Backend, s.Server, o => o with { State = s.State, Author = s.Author }),
            SetServerWeightCommand w => WithOverride(w.Backend, w.Server, o => o with { Weight = w.Weight, Author = w.Author }),
            AddServerCommand a => AddServer(a, index),
            RemoveServerCommand r => RemoveServer(r, index),
            AssignVipCommand v => AssignVip(v, index),
            SetNodeStandbyCommand n => (WithStanding(n.Node, s => s with { Standby = n.Standby, StandbyAuthor = n.Standby ? n.Author : null }), null),
            ReportVipReadinessCommand r => (WithStanding(r.Node, s => s with { Unready = r.Unready.ToImmutableSortedDictionary(StringComparer.Ordinal) }), null),
            SetServiceTargetCommand t => WithService(t.Service, () => this with
            {
                StoppedServices = t.Started ? StoppedServices.Remove(t.Service) : StoppedServices.SetItem(t.Service, t.Author),
            }),
            RestartServiceCommand r => WithService(r.Service, () => this with { ServiceOrders = ServiceOrders.SetItem(OrderKey("restart", r.Service, r.Node), index) }),
            CleanupServiceCommand c => WithService(c.Service, () => this with { ServiceOrders = ServiceOrders.SetItem(OrderKey("cleanup", c.Service, c.Node), index) }),
            MoveServiceCommand m => Config?.FindService(m.Service) is { Placement: not ServicePlacement.Singleton }
                ? (this, $"service '{m.Service}' is a clone: it runs on every node it may, there is nowhere to move it")
                : WithService(m.Service, () => this with { ServiceOrders = ServiceOrders.SetItem(OrderKey("move", m.Service, m.Node), index) }),
            ReportServiceInstancesCommand r => (this with
            {
                ServiceInstances = r.Instances.Count == 0
                    ? ServiceInstances.Remove(r.Node)
                    : ServiceInstances.SetItem(r.Node, r.Instances.ToImmutableSortedDictionary(StringComparer.Ordinal)),
            }, null),
            _ => (this, $"unknown command {command.GetType().Name}"),
        };
        var outcome = new ChangeOutcome(command.ChangeId, index, refusal is null, next.Revision, refusal);
        var recent = next.RecentChanges.Add(outcome);
        if (recent.Count > RememberedChanges)
        {
            recent = recent.RemoveRange(0, recent.Count - RememberedChanges);
        }
        return next with { AppliedIndex = index, RecentChanges = recent };
    }

    /// <summary>The state after an entry that is not a command (a leader's no-op, a membership change, an unreadable entry).</summary>
    public SharedState Skip(long index) => this with { AppliedIndex = index };

    private (SharedState Next, string? Refusal) ApplyConfig(ApplyConfigCommand command, long index) =>
        command.ExpectedRevision != Revision
            ? (this, $"the change was based on revision {command.ExpectedRevision}, but the state is at revision {Revision}")
            : (WithConfig(command.Config, command, index), null);

    private (SharedState Next, string? Refusal) AddServer(AddServerCommand command, long index)
    {
        if (Config?.FindBackend(command.Backend) is not { } backend)
        {
            return (this, $"backend '{command.Backend}' does not exist");
        }
        if (backend.Servers.Any(s => s.Name == command.Server.Name))
        {
            return (this, $"backend '{command.Backend}' already has a server '{command.Server.Name}'");
        }
        return (WithConfig(WithServers(Config, backend with { Servers = new ValueList<ServerConfig>([.. backend.Servers, command.Server]) }), command, index), null);
    }

    private (SharedState Next, string? Refusal) RemoveServer(RemoveServerCommand command, long index)
    {
        if (Config?.FindBackend(command.Backend) is not { } backend || backend.Servers.All(s => s.Name != command.Server))
        {
            return (this, $"backend '{command.Backend}' has no server '{command.Server}'");
        }
        return (WithConfig(WithServers(Config, backend with { Servers = new ValueList<ServerConfig>(backend.Servers.Where(s => s.Name != command.Server)) }), command, index), null);
    }

    private (SharedState Next, string? Refusal) AssignVip(AssignVipCommand command, long index)
    {
        if (Config?.Vips.Any(v => v.Name == command.Vip) != true)
        {
            return (this, $"there is no VIP '{command.Vip}'");
        }
        var current = Vips.GetValueOrDefault(command.Vip);
        if (current is not null && command.Term < current.Term)
        {
            return (this, $"VIP '{command.Vip}' was assigned in term {current.Term}; a command from term {command.Term} is stale");
        }
        var movedStraight = false;
        if (current?.Node is { } holder && command.Node is { } next && holder != next)
        {
            if (command.ReleasedFrom != holder)
            {
                return (this, $"VIP '{command.Vip}' is held by {holder}: it must be released before {next} may hold it");
            }
            movedStraight = true;
        }
        if (current is not null && current.Node == command.Node)
        {
            return (this with { Vips = Vips.SetItem(command.Vip, current with { Term = command.Term }) }, null);
        }
        var (previous, releasedAt) = command.Node is null || movedStraight ? (current?.Node, command.ProposedAt) : (current?.PreviousNode, current?.ReleasedAt);
        return (this with { Vips = Vips.SetItem(command.Vip, new VipAssignment(command.Node, command.Term, index, command.ProposedAt, command.Reason, previous, releasedAt)) }, null);
    }

    private (SharedState Next, string? Refusal) WithService(string service, Func<SharedState> change) =>
        Config?.FindService(service) is null ? (this, $"there is no service '{service}'") : (change(), null);

    private SharedState WithStanding(string node, Func<NodeStanding, NodeStanding> change)
    {
        var next = change(StandingOf(node));
        return this with { Nodes = next.IsDefault ? Nodes.Remove(node) : Nodes.SetItem(node, next) };
    }

    private (SharedState Next, string? Refusal) WithOverride(string backend, string server, Func<ServerOverride, ServerOverride> change)
    {
        if (Config?.FindBackend(backend)?.Servers.Any(s => s.Name == server) != true)
        {
            return (this, $"backend '{backend}' has no server '{server}'");
        }
        var current = OverrideOf(backend, server) ?? new ServerOverride(null, null, null);
        return (this with { Overrides = Overrides.SetItem(ServerKey(backend, server), change(current)) }, null);
    }

    /// <summary>
    /// A new configuration at <paramref name="index"/>. Overrides outlive it, with two exceptions: a server that is
    /// gone loses its overrides, and a field the new configuration itself changes for that server (its <c>state</c>
    /// or its <c>weight</c>) ends that field's override: the operator who edits a server's weight in the file means it.
    /// </summary>
    private SharedState WithConfig(SwitchmanConfig config, ChangeCommand command, long index)
    {
        var overrides = Overrides;
        foreach (var (key, value) in Overrides)
        {
            var (backend, server) = SplitKey(key);
            var before = FindServer(Config, backend, server);
            var after = FindServer(config, backend, server);
            var kept = after is null
                ? null
                : value with
                {
                    State = before?.State != after.State ? null : value.State,
                    Weight = before?.Weight != after.Weight ? null : value.Weight,
                };
            overrides = kept is null || kept.IsEmpty ? overrides.Remove(key) : overrides.SetItem(key, kept);
        }
        // A VIP that is no longer configured has no holder any more (its holder releases it when it applies this).
        var vips = Vips.RemoveRange(Vips.Keys.Where(name => config.Vips.All(v => v.Name != name)));
        // A service that is no longer configured takes its operator's stop and its orders with it.
        var stopped = StoppedServices.RemoveRange(StoppedServices.Keys.Where(name => config.FindService(name) is null));
        var orders = ServiceOrders.RemoveRange(ServiceOrders.Keys.Where(key => config.FindService(OrderService(key)) is null));
        return this with
        {
            Revision = index, Config = config, Author = command.Author, ChangedAt = command.ProposedAt, Overrides = overrides, Vips = vips,
            StoppedServices = stopped, ServiceOrders = orders,
        };
    }

    private static string OrderService(string key)
    {
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        return key[(colon + 1)..key.LastIndexOf('@')];
    }

    public static (string Backend, string Server) SplitKey(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return (key[..slash], key[(slash + 1)..]);
    }

    public static ServerConfig? FindServer(SwitchmanConfig? config, string backend, string server) =>
        config?.FindBackend(backend)?.Servers.FirstOrDefault(s => s.Name == server);

    private static SwitchmanConfig WithServers(SwitchmanConfig config, BackendConfig changed) => config with
    {
        Backends = new ValueList<BackendConfig>(config.Backends.Select(b => b.Name == changed.Name ? changed : b)),
    };
}
