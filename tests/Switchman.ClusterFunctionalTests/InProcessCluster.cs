using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Switchman.Admin;
using Switchman.Cluster;
using Switchman.Core.Configuration.Loading;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>
/// The nodes of a <see cref="ClusterLab"/> run in this process instead (same files, same ports), so a test can reach
/// into a node: cut its cluster traffic with the transport's fault hook, or look at its cluster member directly.
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly Dictionary<int, NodeHost> _hosts = [];
    private readonly Dictionary<int, FakeLogCollector> _logs = [];

    public InProcessCluster(ITestOutputHelper output, int voters)
    {
        _output = output;
        Lab = new ClusterLab(output, voters);
    }

    public ClusterLab Lab { get; }

    public IReadOnlyList<LabNode> Nodes => Lab.Nodes;

    public NodeHost Host(LabNode node) => _hosts[node.Index];

    public ClusterNode Member(LabNode node) => Host(node).Cluster!;

    /// <summary>What <paramref name="node"/> logged (Information and above, after the node's own filters).</summary>
    public FakeLogCollector Logs(LabNode node) => _logs[node.Index];

    public async Task StartAllAsync() => await Task.WhenAll(Lab.Nodes.Select(StartAsync));

    public async Task StartAsync(LabNode node) => await StartFromFileAsync(node, node.ConfigFile);

    /// <summary>Starts <paramref name="node"/> from another file (a wrong secret, join: true…).</summary>
    public async Task StartFromFileAsync(LabNode node, string file)
    {
        var loaded = ConfigLoader.LoadFile(file);
        Assert.True(loaded.IsValid, string.Join("\n", loaded.Errors));
        var logs = new FakeLogCollector();
        var host = NodeHost.Create(loaded.Config!, file, logging => logging
            .AddProvider(new TestOutputLoggerProvider(_output, $"{node.Id} "))
            .AddProvider(new FakeLoggerProvider(logs))
            .SetMinimumLevel(LogLevel.Information));
        _hosts[node.Index] = host;
        _logs[node.Index] = logs;
        await host.StartAsync();
    }

    /// <summary>
    /// A node that is not one of the lab's (a newcomer, an impostor): its file is written from <paramref name="yaml"/>,
    /// it starts here and is stopped with the others.
    /// </summary>
    public async Task<NodeHost> StartExtraAsync(LabNode node, string yaml)
    {
        await File.WriteAllTextAsync(node.ConfigFile, yaml);
        await StartFromFileAsync(node, node.ConfigFile);
        return Host(node);
    }

    /// <summary>A node id and ports for a node that is not one of the lab's.</summary>
    public LabNode NewNode(string id) => new(
        Nodes.Count + _hosts.Count(h => h.Key >= Nodes.Count), id, ClusterLab.FreePort(), ClusterLab.FreePort(),
        Path.Combine(Lab.Directory, $"{id}.yaml"), Path.Combine(Lab.Directory, $"data-{id}"), Witness: false);

    /// <summary>Every node names the same leader and runs a replicated configuration; returns the leader.</summary>
    public async Task<LabNode> WaitForLeaderAsync(IEnumerable<LabNode>? among = null, TimeSpan? timeout = null)
    {
        var nodes = (among ?? Nodes).ToList();
        LabNode? leader = null;
        await Await.UntilAsync(() =>
        {
            var named = nodes.Select(n => Member(n).Leader?.Id).Distinct().ToList();
            leader = named is [{ } id] && nodes.All(n => Host(n).ConfigStore.Current.Revision > 0)
                ? nodes.FirstOrDefault(n => n.Id == id)
                : null;
            return leader is not null;
        }, timeout ?? TimeSpan.FromSeconds(30), $"{string.Join(", ", nodes.Select(n => n.Id))} to agree on a leader");
        return leader!;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts.Values)
        {
            try
            {
                await host.StopAsync();
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
            {
                _output.WriteLine($"stopping a node: {e.Message}");
            }
            await host.DisposeAsync();
        }
        await Lab.DisposeAsync();
    }
}
