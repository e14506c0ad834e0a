using Microsoft.Extensions.Time.Testing;
using Switchman.Core.Configuration;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Tests;

/// <summary>Builds backends for balancing tests without any network: servers on addresses nobody dials.</summary>
internal static class TestBackends
{
    public static BackendRuntime Create(BalanceAlgorithm balance, TimeProvider? time = null, TimeSpan? slowStart = null, params (string Name, int Weight, bool Backup)[] servers) =>
        new(new BackendConfig
        {
            Name = "api",
            Balance = balance,
            SlowStart = slowStart ?? TimeSpan.Zero,
            Servers = new ValueList<ServerConfig>(servers.Select((s, i) => new ServerConfig
            {
                Name = s.Name,
                Address = $"127.0.0.1:{10001 + i}",
                Weight = s.Weight,
                Backup = s.Backup,
            })),
        }, time ?? new FakeTimeProvider());

    public static BackendRuntime Weighted(BalanceAlgorithm balance, params (string Name, int Weight)[] servers) =>
        Create(balance, null, null, [.. servers.Select(s => (s.Name, s.Weight, false))]);

    public static Dictionary<string, int> CountPicks(BackendRuntime backend, int picks, Func<int, Balancing.BalancingKey>? key = null)
    {
        var counts = backend.Servers.ToDictionary(s => s.Name, _ => 0);
        for (var i = 0; i < picks; i++)
        {
            var server = backend.Pick(key?.Invoke(i) ?? default, null, [])!;
            counts[server.Name]++;
        }
        return counts;
    }
}
