using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>One member of a <see cref="ClusterLab"/>: its id, ports and files.</summary>
public sealed record LabNode(int Index, string Id, int ClusterPort, int AdminPort, string ConfigFile, string DataDir, bool Witness)
{
    public string ClusterAddress => $"127.0.0.1:{ClusterPort}";

    public string AdminUrl => $"http://127.0.0.1:{AdminPort}";
}

/// <summary>What a node reports in <c>GET /api/v1/cluster</c>, the parts tests look at.</summary>
/// <param name="Lags">Each member's lag, from its own report (members that did not answer are left out).</param>
public sealed record ClusterView(string NodeId, string? Leader, long Term, long Revision, long AppliedIndex, IReadOnlyList<string> MemberIds, IReadOnlyList<long> Lags);

/// <summary>
/// A cluster of Switchman processes on loopback for tests: writes each node's file (ports picked at run time, one
/// shared secret, a data directory each), starts nodes as real processes, kills them with SIGKILL, restarts them, and
/// talks to their admin APIs. Everything it started is killed and deleted on dispose.
/// </summary>
public sealed class ClusterLab : IAsyncDisposable
{
    public const string Token = "cluster-tests-admin-token";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _directory = new("switchman-cluster");
    private readonly Dictionary<int, ChildProcess> _processes = [];
    private readonly HttpClient _http;

    public ClusterLab(ITestOutputHelper output, int voters, int witnesses = 0, string secret = "")
    {
        _output = output;
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        SecretFile = _directory.WriteFile("cluster.key", secret.Length > 0 ? secret : Convert.ToHexString(RandomNumberGenerator.GetBytes(24)));
        FrontendPort = FreePort();
        var count = voters + witnesses;
        var clusterPorts = Enumerable.Range(0, count).Select(_ => FreePort()).ToArray();
        Nodes = [.. Enumerable.Range(0, count).Select(i => new LabNode(
            i, $"n{i + 1}", clusterPorts[i], FreePort(), _directory.Combine($"n{i + 1}.yaml"), _directory.Combine($"data-n{i + 1}"), Witness: i >= voters))];
        foreach (var node in Nodes)
        {
            File.WriteAllText(node.ConfigFile, ConfigYaml(node));
        }
    }

    public IReadOnlyList<LabNode> Nodes { get; }

    public string SecretFile { get; }

    /// <summary>The frontend port every node's (shared) configuration listens on.</summary>
    public int FrontendPort { get; }

    public string Directory => _directory.Path;

    /// <summary>The YAML file of a node: its admin listener and token, its cluster section, and the shared part.</summary>
    public string ConfigYaml(LabNode node, string? secretFile = null, bool join = false, IEnumerable<LabNode>? peers = null)
    {
        var tokenHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Token)));
        var peerLines = (peers ?? Nodes.Where(n => n != node))
            .Select(p => $"    - {{ id: {p.Id}, address: {p.ClusterAddress} }}");
        return string.Join('\n',
        [
            "admin:",
            $"  listen: 127.0.0.1:{node.AdminPort}",
            "  tokens:",
            $"    - {{ name: tests, role: admin, sha256: {tokenHash} }}",
            "cluster:",
            $"  node_id: {node.Id}",
            $"  listen: {node.ClusterAddress}",
            "  peers:",
            .. peerLines,
            $"  data_dir: {node.DataDir}",
            $"  secret_file: {secretFile ?? SecretFile}",
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

    public bool IsRunning(LabNode node) => _processes.TryGetValue(node.Index, out var process) && !process.HasExited;

    public async Task StartAllAsync()
    {
        // Side by side: each start is mostly JIT and waiting.
        await Task.WhenAll(Nodes.Select(StartAsync));
    }

    public async Task StartAsync(LabNode node)
    {
        if (IsRunning(node))
        {
            throw new InvalidOperationException($"{node.Id} is already running");
        }
        if (_processes.Remove(node.Index, out var old))
        {
            await old.DisposeAsync();
        }
        var process = SwitchmanExecutable.Start(
            [node.Witness ? "witness" : "run", "-c", node.ConfigFile],
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

    /// <summary>SIGKILL: no shutdown, no resignation — what a crash or power loss looks like to the others.</summary>
    public async Task KillAsync(LabNode node)
    {
        var process = _processes[node.Index];
        process.Kill();
        await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGSTOP: the node keeps its sockets but answers nothing, like a frozen VM (<see cref="ChildProcess.FreezeAsync"/>).</summary>
    public Task FreezeAsync(LabNode node) => _processes[node.Index].FreezeAsync();

    public Task ThawAsync(LabNode node) => _processes[node.Index].ThawAsync();

    /// <summary>
    /// The sum of the samples of one metric in the node's <c>/metrics</c> (Prometheus text), e.g.
    /// <c>switchman_cluster_refused_connections</c>; 0 when the node exports none yet.
    /// </summary>
    public async Task<double> MetricAsync(LabNode node, string name)
    {
        var text = await _http.GetStringAsync(new Uri($"{node.AdminUrl}/metrics"));
        return text.Split('\n')
            .Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is ' ' or '{' or '_')
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    public async Task StopAsync(LabNode node) => await _processes[node.Index].StopAsync(TimeSpan.FromSeconds(20));

    public void WipeData(LabNode node)
    {
        if (System.IO.Directory.Exists(node.DataDir))
        {
            System.IO.Directory.Delete(node.DataDir, recursive: true);
        }
    }

    /// <summary>The node's view of the cluster, or null when it does not answer.</summary>
    public async Task<ClusterView?> ViewAsync(LabNode node)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri($"{node.AdminUrl}/api/v1/cluster"));
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var root = document.RootElement;
            return new ClusterView(
                root.GetProperty("node_id").GetString()!,
                root.TryGetProperty("leader", out var leader) ? leader.GetString() : null,
                root.GetProperty("term").GetInt64(),
                root.GetProperty("revision").GetInt64(),
                root.GetProperty("applied_index").GetInt64(),
                [.. root.GetProperty("members").EnumerateArray().Select(m => m.TryGetProperty("id", out var id) ? id.GetString() ?? "?" : "?")],
                [.. root.GetProperty("members").EnumerateArray().Where(m => m.TryGetProperty("lag", out _)).Select(m => m.GetProperty("lag").GetInt64())]);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// Waits until every running node names the same leader (of those running) and runs a replicated configuration
    /// (a new cluster's first one is proposed by its first leader), and returns the leader.
    /// </summary>
    public async Task<LabNode> WaitForLeaderAsync(TimeSpan? timeout = null)
    {
        LabNode? leader = null;
        await Await.UntilAsync(async () =>
        {
            var views = await Task.WhenAll(Nodes.Where(IsRunning).Select(ViewAsync));
            var named = views.Select(v => v?.Leader).Distinct().ToList();
            leader = named is [{ } id] && views.All(v => v!.Revision > 0) ? Nodes.FirstOrDefault(n => n.Id == id && IsRunning(n)) : null;
            return leader is not null;
        }, timeout ?? TimeSpan.FromSeconds(30), "every running node to name the same running leader");
        return leader!;
    }

    /// <summary>Adds a server to backend <c>api</c> through <paramref name="node"/>: a configuration change. Returns the status and, if accepted, the revision.</summary>
    public async Task<(HttpStatusCode Status, long? Revision, string Body)> AddServerAsync(LabNode node, string name, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        using var response = await _http.PostAsJsonAsync(
            new Uri($"{node.AdminUrl}/api/v1/backends/api/servers"), new { name, address = "127.0.0.1:9" }, cancel.Token);
        var body = await response.Content.ReadAsStringAsync(cancel.Token);
        long? revision = response.StatusCode == HttpStatusCode.Created
            ? JsonDocument.Parse(body).RootElement.GetProperty("revision").GetInt64()
            : null;
        return (response.StatusCode, revision, body);
    }

    /// <summary>Like <see cref="AddServerAsync"/>, failing the test (with the node's answer) unless it was accepted; returns the revision.</summary>
    public async Task<long> AddServerAcceptedAsync(LabNode node, string name)
    {
        var (status, revision, body) = await AddServerAsync(node, name);
        Assert.True(status == HttpStatusCode.Created, $"adding {name} through {node.Id}: {(int)status} {body}");
        return revision!.Value;
    }

    /// <summary>The server names of backend <c>api</c> in the configuration <paramref name="node"/> runs, and its revision.</summary>
    public async Task<(long Revision, IReadOnlyList<string> Servers)> ServersAsync(LabNode node)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{node.AdminUrl}/api/v1/config"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await _http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var revision = long.Parse(response.Headers.ETag!.Tag.Trim('"'), CultureInfo.InvariantCulture);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var servers = document.RootElement.GetProperty("backends").GetProperty("api").GetProperty("servers")
            .EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToList();
        return (revision, servers);
    }

    public HttpClient Http => _http;

    public string DescribeLogs(LabNode node, int lines = 40) =>
        _processes.TryGetValue(node.Index, out var process) ? process.DescribeOutput(lines) : $"{node.Id} never started";

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes.Values)
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
            await process.DisposeAsync();
        }
        _http.Dispose();
        _directory.Dispose();
    }

    /// <summary>
    /// A loopback port free right now, below the kernel's ephemeral range (32768 and up by default): a port taken
    /// from that range could be handed to some outgoing connection before the node binds it.
    /// </summary>
    private static readonly HashSet<int> HandedOut = [];

    public static int FreePort()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(20000, 32000);
            lock (HandedOut)
            {
                // Never the same port twice in one test run: a node killed a moment ago may still hold it.
                if (!HandedOut.Add(port))
                {
                    continue;
                }
            }
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }
        throw new InvalidOperationException("no free loopback port found between 20000 and 32000");
    }
}
