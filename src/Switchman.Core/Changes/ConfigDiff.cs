using Switchman.Core.Configuration;

namespace Switchman.Core.Changes;

/// <summary>
/// What a new configuration changes, in words: "backend api: server c removed", "frontend images added", "service
/// keystone changed: command (its instances restart)".
/// </summary>
public sealed record ConfigDiff(IReadOnlyList<string> Changes)
{
    public bool IsEmpty => Changes.Count == 0;

    public string Summary => IsEmpty ? "no changes" : string.Join("; ", Changes);

    public static ConfigDiff Between(SwitchmanConfig current, SwitchmanConfig proposed)
    {
        var changes = new List<string>();
        Compare("frontend", current.Frontends, proposed.Frontends, f => f.Name, changes, (_, _) => null);
        Compare("backend", current.Backends, proposed.Backends, b => b.Name, changes, DescribeBackendChange);
        Compare("vip", current.Vips, proposed.Vips, v => v.Name, changes, (_, _) => null);
        Compare("service", current.Services, proposed.Services, s => s.Name, changes, DescribeServiceChange);
        if (current.Admin != proposed.Admin)
        {
            changes.Add("admin settings changed");
        }
        if (current.AccessLog != proposed.AccessLog)
        {
            changes.Add("access_log changed (takes effect at restart)");
        }
        return new ConfigDiff(changes);
    }

    private static void Compare<T>(string kind, IReadOnlyList<T> current, IReadOnlyList<T> proposed, Func<T, string> nameOf,
        List<string> changes, Func<T, T, string?> describe) where T : notnull
    {
        var before = current.ToDictionary(nameOf);
        var after = proposed.ToDictionary(nameOf);
        foreach (var (name, item) in after)
        {
            if (!before.TryGetValue(name, out var old))
            {
                changes.Add($"{kind} {name} added");
            }
            else if (!old.Equals(item))
            {
                changes.Add($"{kind} {name} changed{(describe(old, item) is { } detail ? ": " + detail : "")}");
            }
        }
        foreach (var name in before.Keys.Where(n => !after.ContainsKey(n)))
        {
            changes.Add($"{kind} {name} removed");
        }
    }

    /// <summary>What changed in a service, and whether its running instances restart (what they are started from changed).</summary>
    private static string? DescribeServiceChange(ServiceConfig old, ServiceConfig updated)
    {
        var started = old.ProcessSettingsChangedIn(updated);
        var restarts = started.Count > 0 ? $"{string.Join(", ", started)} (its instances restart, all at once)" : null;
        var rest = old.WithProcessSettingsOf(updated) != updated
            ? "settings changed"
            : null;
        return restarts is null ? rest : rest is null ? restarts : $"{restarts}, {rest}";
    }

    private static string? DescribeBackendChange(BackendConfig old, BackendConfig updated)
    {
        var parts = new List<string>();
        var before = old.Servers.ToDictionary(s => s.Name);
        var after = updated.Servers.ToDictionary(s => s.Name);
        foreach (var (name, server) in after)
        {
            if (!before.TryGetValue(name, out var previous))
            {
                parts.Add($"server {name} added");
            }
            else if (previous != server)
            {
                parts.Add(previous.Weight != server.Weight && previous with { Weight = server.Weight } == server
                    ? $"server {name} weight {previous.Weight} → {server.Weight}"
                    : $"server {name} changed");
            }
        }
        parts.AddRange(before.Keys.Where(n => !after.ContainsKey(n)).Select(n => $"server {n} removed"));
        if (old with { Servers = updated.Servers } != updated)
        {
            parts.Add("settings changed");
        }
        return parts.Count == 0 ? null : string.Join(", ", parts);
    }
}
