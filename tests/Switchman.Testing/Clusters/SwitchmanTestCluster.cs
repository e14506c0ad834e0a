using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Testing;
using Switchman.Cluster;
using Xunit.Abstractions;

namespace Switchman.Testing;

/// <summary>
/// A cluster of Switchman nodes on loopback for tests: writes each node's file (cluster and admin ports picked at run
/// time, one shared secret, a data directory each, the <see cref="TestTokens"/>), starts the nodes as real processes or
/// as <see cref="SwitchmanTestNode"/>s in the test process, stops, kills, freezes and restarts them, and talks to their
/// admin APIs (SwitchmanTestCluster.Api.cs). Everything it started is stopped and deleted on dispose.
/// </summary>
public sealed partial class SwitchmanTestCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _directory = new("switchman-cluster");
    // Concurrent: StartAllAsync starts the nodes side by side.
    private readonly ConcurrentDictionary<int, ChildProcess> _processes = [];
    private readonly ConcurrentDictionary<int, SwitchmanTestNode> _nodes = [];
    private readonly ConcurrentDictionary<int, bool> _stopped = [];
    private readonly Dictionary<string, NodeCertificateFiles> _certificates = [];
    private readonly bool _clusterTls;
    private readonly List<TestClusterMember> _extras = [];

    /// <param name="voters">Members that vote and may lead: n1, n2…</param>
    /// <param name="witnesses">Members after the voters that vote and never lead (<c>role: witness</c>).</param>
    /// <param name="secret">The cluster secret; random when empty.</param>
    /// <param name="tls">Whether members talk mutual TLS (<c>cluster.tls</c>), each with a certificate from one test CA.</param>
    /// <param name="adminTls">
    /// Whether admin APIs speak HTTPS with certificates from the same CA and require a client certificate from it
    /// (<c>admin.tls</c>); <see cref="Http"/> then presents one and trusts that CA only.
    /// </param>
    public SwitchmanTestCluster(
        ITestOutputHelper output, int voters, int witnesses = 0, TestClusterNodes run = TestClusterNodes.Processes, string secret = "",
        bool tls = false, bool adminTls = false)
    {
        _output = output;
        Run = run;
        if (tls || adminTls)
        {
            Authority = new TestCertificateAuthority(_directory.Combine("tls"));
        }
        Http = new HttpClient(Authority is not null && adminTls ? Authority.ClientHandler("operator") : new HttpClientHandler()) { Timeout = TimeSpan.FromSeconds(20) };
        Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestTokens.AdminToken);
        SecretFile = _directory.WriteFile("cluster.key", secret.Length > 0 ? secret : Convert.ToHexString(RandomNumberGenerator.GetBytes(24)));
        FrontendPort = LoopbackPorts.Free();
        var count = voters + witnesses;
        var clusterPorts = Enumerable.Range(0, count).Select(_ => LoopbackPorts.Free()).ToArray();
        Nodes = [.. Enumerable.Range(0, count).Select(i => new TestClusterMember(
            i, $"n{i + 1}", clusterPorts[i], LoopbackPorts.Free(), _directory.Combine($"n{i + 1}.yaml"), _directory.Combine($"data-n{i + 1}"), Witness: i >= voters,
            AdminTls: adminTls))];
        _clusterTls = tls;
        if (Authority is not null)
        {
            foreach (var node in Nodes)
            {
                _certificates[node.Id] = Authority.Issue(node.Id);
            }
        }
        foreach (var node in Nodes)
        {
            File.WriteAllText(node.ConfigFile, ConfigYaml(node));
        }
    }

    /// <summary>The CA of the members' certificates when the cluster talks TLS; null otherwise.</summary>
    public TestCertificateAuthority? Authority { get; }

    public TestClusterNodes Run { get; }

    /// <summary>In-process nodes only: VIPs are "held" without touching any interface (a no-op for addresses and announcements).</summary>
    public bool NoOpVipTools { get; init; }

    public IReadOnlyList<TestClusterMember> Nodes { get; }

    public string SecretFile { get; }

    /// <summary>The frontend port every node's (shared) configuration listens on.</summary>
    public int FrontendPort { get; }

    public string Directory => _directory.Path;

    /// <summary>The YAML file of a node: its admin listener and tokens, its cluster section, and the shared part.</summary>
    /// <param name="peers">The members it lists as peers; every other member of <see cref="Nodes"/> by default.</param>
    public string ConfigYaml(TestClusterMember node, string? secretFile = null, bool join = false, IEnumerable<TestClusterMember>? peers = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        var peerLines = (peers ?? Nodes.Where(n => n != node))
            .Select(p => $"    - {{ id: {p.Id}, address: {p.ClusterAddress} }}");
        return string.Join('\n',
        [
            "admin:",
            $"  listen: 127.0.0.1:{node.AdminPort}",
            .. node.AdminTls ? [$"  tls: {_certificates[node.Id].AdminYaml}"] : Array.Empty<string>(),
            .. TestTokens.YamlLines(),
            "cluster:",
            $"  node_id: {node.Id}",
            $"  listen: {node.ClusterAddress}",
            "  peers:",
            .. peerLines,
            $"  data_dir: {node.DataDir}",
            $"  secret_file: {secretFile ?? SecretFile}",
            .. _clusterTls ? [$"  tls: {_certificates[node.Id].Yaml}"] : Array.Empty<string>(),
            $"  role: {(node.Witness ? "witness" : "voter")}",
            $"  join: {(join ? "true" : "false")}",
            // Small, so every test also runs through snapshots and log compaction.
            "  snapshot_every: 10",
            "frontends:",
            "  web:",
            $"    listen: 127.0.0.1:{FrontendPort}",
            "    routes:",
            "      - backend: api",
            "backends:",
            "  api:",
            "    servers:",
            "      - { name: seed, address: 127.0.0.1:9 }",
            "",
        ]);
    }

    /// <summary>A member that is not one of <see cref="Nodes"/> (a newcomer, an impostor): an id, ports and file names, nothing written yet.</summary>
    public TestClusterMember NewMember(string id)
    {
        var member = new TestClusterMember(
            Nodes.Count + _extras.Count, id, LoopbackPorts.Free(), LoopbackPorts.Free(),
            _directory.Combine($"{id}.yaml"), _directory.Combine($"data-{id}"), Witness: false);
        _extras.Add(member);
        return member;
    }

    public bool IsRunning(TestClusterMember node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Run == TestClusterNodes.Processes
            ? _processes.TryGetValue(node.Index, out var process) && !process.HasExited
            : _nodes.ContainsKey(node.Index) && !_stopped.ContainsKey(node.Index);
    }

    /// <summary>Starts every member side by side (each start is mostly JIT and waiting).</summary>
    public async Task StartAllAsync() => await Task.WhenAll(Nodes.Select(n => StartAsync(n)));

    /// <summary>Starts (or restarts) <paramref name="node"/> from its file, or from <paramref name="file"/> (a wrong secret, join: true…).</summary>
    public async Task StartAsync(TestClusterMember node, string? file = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (IsRunning(node))
        {
            throw new InvalidOperationException($"{node.Id} is already running");
        }
        file ??= node.ConfigFile;
        if (Run == TestClusterNodes.Processes)
        {
            await StartProcessAsync(node, file);
        }
        else
        {
            if (_nodes.TryRemove(node.Index, out var old))
            {
                await old.DisposeAsync();
            }
            _stopped.TryRemove(node.Index, out _);
            _nodes[node.Index] = await SwitchmanTestNode.StartFromFileAsync(
                file, _output, new TestNodeOptions { LogPrefix = $"{node.Id} ", VipTools = NoOpVipTools ? TestNodeOptions.NoOpVipTools : null });
        }
    }

    /// <summary>Writes <paramref name="yaml"/> as the file of <paramref name="node"/> (one from <see cref="NewMember"/>) and starts it.</summary>
    public async Task StartExtraAsync(TestClusterMember node, string yaml)
    {
        ArgumentNullException.ThrowIfNull(node);
        await File.WriteAllTextAsync(node.ConfigFile, yaml);
        await StartAsync(node);
    }

    private async Task StartProcessAsync(TestClusterMember node, string file)
    {
        if (_processes.TryRemove(node.Index, out var old))
        {
            await old.DisposeAsync();
        }
        var process = SwitchmanExecutable.Start(
            [node.Witness ? "witness" : "run", "-c", file],
            new ChildProcessOptions
            {
                DisplayName = node.Id,
                WorkingDirectory = _directory.Path,
                // DotNext's Raft at Debug (elections, votes, replication failures): a failed test shows why in the logs.
                Environment = new Dictionary<string, string?> { ["Logging__LogLevel__DotNext.Net.Cluster"] = "Debug" },
            });
        _processes[node.Index] = process;
        try
        {
            await process.WaitForOutputLineAsync(
                l => l.StartsWith("switchman: admin listening", StringComparison.Ordinal), StartTimeout, $"{node.Id} to start");
        }
        catch (Exception)
        {
            _output.WriteLine(process.DescribeOutput());
            throw;
        }
    }

    /// <summary>Stops <paramref name="node"/> gracefully (SIGTERM for a process): it leaves cleanly, as on a planned restart.</summary>
    public async Task StopAsync(TestClusterMember node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (Run == TestClusterNodes.Processes)
        {
            await Process(node).StopAsync(TimeSpan.FromSeconds(20));
            return;
        }
        _stopped[node.Index] = true;
        await Node(node).StopAsync();
    }

    /// <summary>SIGKILL: no shutdown, no resignation — what a crash or power loss looks like to the others.</summary>
    public async Task KillAsync(TestClusterMember node)
    {
        var process = Process(node);
        process.Kill();
        await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGSTOP: the node keeps its sockets but answers nothing, like a frozen VM (<see cref="ChildProcess.FreezeAsync"/>).</summary>
    public Task FreezeAsync(TestClusterMember node) => Process(node).FreezeAsync();

    public Task ThawAsync(TestClusterMember node) => Process(node).ThawAsync();

    /// <summary>SIGHUP to a process node: it reads its file again and proposes it to the cluster, like <c>switchman reload</c>.</summary>
    public void SendHangup(TestClusterMember node) => Process(node).SendHangup();

    /// <summary>Waits for a line of a process node's log (its standard output; lines already written count) and returns it.</summary>
    public Task<string> WaitForLogLineAsync(TestClusterMember node, Func<string, bool> predicate, TimeSpan timeout, string whatWeAwait) =>
        Process(node).WaitForOutputLineAsync(predicate, timeout, whatWeAwait);

    /// <summary>Deletes the node's data directory: a node that lost its disk.</summary>
    public void WipeData(TestClusterMember node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (System.IO.Directory.Exists(node.DataDir))
        {
            System.IO.Directory.Delete(node.DataDir, recursive: true);
        }
    }

    /// <summary>The last lines a process node wrote (its logs), for a failure message.</summary>
    public string DescribeLogs(TestClusterMember node, int lines = 40)
    {
        ArgumentNullException.ThrowIfNull(node);
        return _processes.TryGetValue(node.Index, out var process) ? process.DescribeOutput(lines) : $"{node.Id} never started as a process";
    }

    /// <summary>Waits until the process node <paramref name="node"/> has logged a line containing <paramref name="text"/> (lines already written count); returns it.</summary>
    public Task<string> WaitForLogLineAsync(TestClusterMember node, string text, TimeSpan timeout) =>
        Process(node).WaitForOutputLineAsync(l => l.Contains(text, StringComparison.Ordinal), timeout, $"{node?.Id} to log '{text}'");

    /// <summary>The in-process node of <paramref name="node"/> (<see cref="TestClusterNodes.InProcess"/> only).</summary>
    public SwitchmanTestNode Node(TestClusterMember node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Run == TestClusterNodes.InProcess
            ? _nodes[node.Index]
            : throw new InvalidOperationException($"{node.Id} runs as a process: start the cluster with {nameof(TestClusterNodes)}.{nameof(TestClusterNodes.InProcess)} to reach into it");
    }

    /// <summary>The cluster member of an in-process node.</summary>
    public ClusterNode Member(TestClusterMember node) => Node(node).Cluster!;

    /// <summary>What an in-process node logged (Information and above, after the node's own filters).</summary>
    public FakeLogCollector Logs(TestClusterMember node) => Node(node).Logs;

    /// <summary>
    /// Waits until every node of <paramref name="among"/> (by default every running node) names the same leader, one of
    /// them, and runs a replicated configuration (a new cluster's first one is proposed by its first leader); returns the leader.
    /// </summary>
    public async Task<TestClusterMember> WaitForLeaderAsync(IEnumerable<TestClusterMember>? among = null, TimeSpan? timeout = null)
    {
        var nodes = among?.ToList();
        TestClusterMember? leader = null;
        await Await.UntilAsync(async () =>
        {
            var asked = nodes ?? [.. Nodes.Where(IsRunning)];
            var views = await Task.WhenAll(asked.Select(LeaderAndRevisionAsync));
            var named = views.Select(v => v.Leader).Distinct().ToList();
            leader = named is [{ } id] && views.All(v => v.Revision > 0) ? asked.FirstOrDefault(n => n.Id == id) : null;
            return leader is not null;
        }, timeout ?? TimeSpan.FromSeconds(30), nodes is null
            ? "every running node to name the same running leader"
            : $"{string.Join(", ", nodes.Select(n => n.Id))} to agree on a leader");
        return leader!;
    }

    /// <inheritdoc cref="WaitForLeaderAsync(IEnumerable{TestClusterMember}?, TimeSpan?)"/>
    public Task<TestClusterMember> WaitForLeaderAsync(TimeSpan timeout) => WaitForLeaderAsync(among: null, timeout);

    private async Task<(string? Leader, long Revision)> LeaderAndRevisionAsync(TestClusterMember node)
    {
        if (Run == TestClusterNodes.InProcess)
        {
            var inProcess = Node(node);
            return (inProcess.Cluster!.Leader?.Id, inProcess.Revision);
        }
        var view = await ViewAsync(node);
        return (view?.Leader, view?.Revision ?? 0);
    }

    private ChildProcess Process(TestClusterMember node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Run == TestClusterNodes.Processes
            ? _processes[node.Index]
            : throw new InvalidOperationException($"{node.Id} runs in the test process: only a process can be killed or frozen");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes.Values)
        {
            try
            {
                await node.StopAsync();
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
            {
                _output.WriteLine($"stopping a node: {e.Message}");
            }
            await node.DisposeAsync();
        }
        foreach (var process in _processes.Values)
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
            await process.DisposeAsync();
        }
        Http.Dispose();
        Authority?.Dispose();
        _directory.Dispose();
    }
}
