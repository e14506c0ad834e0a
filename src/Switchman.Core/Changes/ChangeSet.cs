using Switchman.Core.Configuration;

namespace Switchman.Core.Changes;

/// <summary>One event a change produces, in the shape the node's event stream publishes.</summary>
public sealed record ChangeEvent(string Type, string Message, IReadOnlyDictionary<string, object?> Data);

/// <summary>What a server's change is.</summary>
public enum ServerChangeKind
{
    Added,
    Removed,

    /// <summary>Its effective admin state (override, else configuration) changed.</summary>
    State,

    /// <summary>Its effective weight changed.</summary>
    Weight,
}

/// <summary>One server's change: the server as it ran before and as it runs after (state and weight effective, overrides
/// included; null when it did not exist), and who made the change.</summary>
public sealed record ServerChange(string Backend, string Server, ServerChangeKind Kind, ServerConfig? Before, ServerConfig? After, string Author);

/// <summary>
/// What moving from one applied state to the next changes on a node, worked out once: the configuration's changes in
/// words, each server whose effective state or weight changed (by an override or by the configuration), what became of
/// overrides, and the events to publish. Every consumer (the data plane's apply, the event stream, the API's answer)
/// reads this one value.
/// </summary>
public sealed record ChangeSet(long Revision, string Author, bool ConfigChanged, ConfigDiff Config, IReadOnlyList<ServerChange> Servers, IReadOnlyList<string> Overrides)
{
    /// <summary>VIPs whose assignment changed: the assignment before and after (null: none).</summary>
    public IReadOnlyList<(string Vip, VipAssignment? Before, VipAssignment? After)> Vips { get; init; } = [];

    /// <summary>Nodes whose standby flag changed: the node, whether it is in standby now, and who said so.</summary>
    public IReadOnlyList<(string Node, bool Standby, string? Author)> Standby { get; init; } = [];

    /// <summary>Service instances whose report changed in a way an operator hears of (see <see cref="ServiceEvents"/>).</summary>
    public IReadOnlyList<ChangeEvent> Services { get; init; } = [];

    public bool IsEmpty => !ConfigChanged && Servers.Count == 0;

    /// <summary>The configuration's changes and what became of overrides, as one list.</summary>
    public IReadOnlyList<string> Changes => [.. Config.Changes, .. Overrides];

    public string Summary => Changes.Count == 0 ? "no changes" : string.Join("; ", Changes);

    /// <param name="before">The state applied so far, with the (filled) configuration it ran.</param>
    /// <param name="after">The state to apply, with its filled configuration.</param>
    public static ChangeSet Between(SharedState before, SwitchmanConfig beforeConfig, SharedState after, SwitchmanConfig afterConfig)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var configChanged = after.Revision != before.Revision;
        var diff = configChanged ? ConfigDiff.Between(beforeConfig, afterConfig) : new ConfigDiff([]);
        var servers = new List<ServerChange>();
        var overrides = new List<string>();
        var effectiveBefore = ServersOf(before.Effective(beforeConfig));
        var effectiveAfter = ServersOf(after.Effective(afterConfig));
        foreach (var (key, server) in effectiveAfter)
        {
            var (backend, name) = SharedState.SplitKey(key);
            var author = after.OverrideOf(backend, name)?.Author ?? after.Author ?? "unknown";
            if (!effectiveBefore.TryGetValue(key, out var previous))
            {
                servers.Add(new ServerChange(backend, name, ServerChangeKind.Added, null, server, after.Author ?? "unknown"));
                continue;
            }
            if (previous.State != server.State)
            {
                servers.Add(new ServerChange(backend, name, ServerChangeKind.State, previous, server, author));
            }
            if (previous.Weight != server.Weight)
            {
                servers.Add(new ServerChange(backend, name, ServerChangeKind.Weight, previous, server, author));
            }
        }
        foreach (var key in effectiveBefore.Keys.Where(k => !effectiveAfter.ContainsKey(k)))
        {
            var (backend, name) = SharedState.SplitKey(key);
            servers.Add(new ServerChange(backend, name, ServerChangeKind.Removed, effectiveBefore[key], null, after.Author ?? "unknown"));
        }
        if (configChanged)
        {
            DescribeOverrides(before, after, overrides);
        }
        return new ChangeSet(after.Revision, after.Author ?? "unknown", configChanged, diff, servers, overrides)
        {
            Vips = [.. after.Vips.Keys.Union(before.Vips.Keys)
                .Select(vip => (Vip: vip, Before: before.Vips.GetValueOrDefault(vip), After: after.Vips.GetValueOrDefault(vip)))
                .Where(c => c.Before?.Node != c.After?.Node)],
            Standby = [.. after.Nodes.Keys.Union(before.Nodes.Keys)
                .Where(node => before.StandingOf(node).Standby != after.StandingOf(node).Standby)
                .Select(node => (node, after.StandingOf(node).Standby, after.StandingOf(node).StandbyAuthor))],
            Services = ServiceEvents.Between(before, after),
        };
    }

    /// <summary>The events this change publishes, once, on the node that applies it.</summary>
    public IReadOnlyList<ChangeEvent> Events()
    {
        var events = new List<ChangeEvent>();
        if (ConfigChanged)
        {
            events.Add(new ChangeEvent("config_applied", $"configuration revision {Revision} applied by {Author}: {Summary}",
                new Dictionary<string, object?> { ["revision"] = Revision, ["author"] = Author, ["changes"] = Changes }));
        }
        events.AddRange(Servers.Select(change => Event(change, Revision)));
        events.AddRange(Vips.Select(change => VipEvent(change.Vip, change.Before, change.After)));
        events.AddRange(Services);
        events.AddRange(Standby.Select(change => change.Standby
            ? new ChangeEvent("node_standby", $"node {change.Node} put in standby by {change.Author ?? "unknown"}: its VIPs move away",
                new Dictionary<string, object?> { ["node"] = change.Node, ["author"] = change.Author })
            : new ChangeEvent("node_online", $"node {change.Node} is online again: it may hold VIPs",
                new Dictionary<string, object?> { ["node"] = change.Node })));
        return events;
    }

    /// <summary>A VIP given to a node (<c>vip_assigned</c>, or <c>vip_moved</c> when another node held it last) or taken from one (<c>vip_unassigned</c>).</summary>
    private static ChangeEvent VipEvent(string vip, VipAssignment? before, VipAssignment? after)
    {
        var data = new Dictionary<string, object?>
        {
            ["vip"] = vip,
            ["node"] = after?.Node,
            ["previous_node"] = after?.Node is null ? before?.Node : after.PreviousNode,
            ["reason"] = after?.Reason ?? "no longer configured",
            ["term"] = after?.Term,
        };
        return after?.Node switch
        {
            null => new ChangeEvent("vip_unassigned", $"VIP {vip} taken from {before?.Node}: {data["reason"]}", data),
            var node when after.PreviousNode is { } from && from != node =>
                new ChangeEvent("vip_moved", $"VIP {vip} moved from {from} to {node}: {after.Reason}", data),
            var node => new ChangeEvent("vip_assigned", $"VIP {vip} given to {node}: {after.Reason}", data),
        };
    }

    private static ChangeEvent Event(ServerChange change, long revision)
    {
        var server = $"{change.Backend}/{change.Server}";
        return change.Kind switch
        {
            ServerChangeKind.Added => new ChangeEvent("server_added", $"server {server} ({change.After!.Address}) added by {change.Author} in revision {revision}",
                new Dictionary<string, object?>
                {
                    ["backend"] = change.Backend, ["server"] = change.Server, ["address"] = change.After.Address, ["revision"] = revision, ["author"] = change.Author,
                }),
            ServerChangeKind.Removed => new ChangeEvent("server_removed", $"server {server} removed by {change.Author} in revision {revision}",
                new Dictionary<string, object?>
                {
                    ["backend"] = change.Backend, ["server"] = change.Server, ["revision"] = revision, ["author"] = change.Author,
                }),
            ServerChangeKind.State => new ChangeEvent("server_state_changed",
                $"server {server} set to {Name(change.After!.State)} by {change.Author} (was {Name(change.Before!.State)})",
                new Dictionary<string, object?>
                {
                    ["backend"] = change.Backend, ["server"] = change.Server, ["state"] = Name(change.After.State), ["previous"] = Name(change.Before.State),
                    ["author"] = change.Author,
                }),
            _ => new ChangeEvent("server_weight_changed",
                $"server {server} weight set to {change.After!.Weight} by {change.Author} (was {change.Before!.Weight})",
                new Dictionary<string, object?>
                {
                    ["backend"] = change.Backend, ["server"] = change.Server, ["weight"] = change.After.Weight, ["previous"] = change.Before.Weight,
                    ["author"] = change.Author,
                }),
        };
    }

    /// <summary>
    /// For each override that existed before a new configuration, when its server is still there: ended (and why),
    /// or kept although the server's own definition changed. Overrides of untouched servers simply stay, unmentioned.
    /// </summary>
    private static void DescribeOverrides(SharedState before, SharedState after, List<string> notes)
    {
        foreach (var (key, old) in before.Overrides)
        {
            var (backend, name) = SharedState.SplitKey(key);
            if (SharedState.FindServer(after.Config, backend, name) is not { } serverAfter)
            {
                continue; // "server removed" says it already; its overrides went with it.
            }
            var redefined = SharedState.FindServer(before.Config, backend, name) != serverAfter;
            var kept = after.OverrideOf(backend, name);
            if (old.State is { } state)
            {
                if (kept?.State is null)
                {
                    notes.Add($"server {key}: {Name(state)} override ended (the configuration now sets state {Name(serverAfter.State)})");
                }
                else if (redefined)
                {
                    notes.Add($"server {key}: {Name(state)} override kept");
                }
            }
            if (old.Weight is { } weight)
            {
                if (kept?.Weight is null)
                {
                    notes.Add($"server {key}: weight override {weight} ended (the configuration now sets weight {serverAfter.Weight})");
                }
                else if (redefined)
                {
                    notes.Add($"server {key}: weight override {weight} kept");
                }
            }
        }
    }

    private static Dictionary<string, ServerConfig> ServersOf(SwitchmanConfig config) =>
        config.Backends.SelectMany(b => b.Servers.Select(s => (Key: SharedState.ServerKey(b.Name, s.Name), Server: s)))
            .ToDictionary(p => p.Key, p => p.Server, StringComparer.Ordinal);

    private static string Name(ServerAdminState state) => state.ToString().ToLowerInvariant();
}
