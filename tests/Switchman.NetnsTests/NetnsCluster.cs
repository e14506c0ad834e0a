using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchman.Testing;
using Switchman.Testing.Netns;
using Xunit.Abstractions;

namespace Switchman.NetnsTests;

/// <summary>
/// Three Switchman voters, one per host of a <see cref="NetworkLab"/> (n1–n3: 192.0.2.11–13), in front of two demo
/// backends on hosts of their own (b1, b2: 192.0.2.14–15), each node with the <b>default configuration</b>: only what
/// is required (admin listener and token, node id, cluster listen address, peers, data directory and secret file),
/// every timeout left to its default. The tests talk to the nodes over the lab's switch from the operator's
/// workstation, or — for a node cut off from it — through that node's console (a connection from inside its host).
/// </summary>
public sealed class NetnsCluster : IAsyncDisposable
{
    public const string Token = "netns-tests-admin-token";
    public const string Backend = "api";
    public const int BackendPort = 8000;

    /// <summary>The cluster's floating address, on every node's eth0 while that node may hold it.</summary>
    public static readonly Core.Configuration.VipAddress Vip = new(LabAddresses.Host(200), LabAddresses.PrefixLength);

    /// <summary>.NET start-up and JIT of three nodes side by side on two shared cores.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>What one admin call may take: the cluster view waits up to 1 s for each member's report.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private static readonly string[] NodeIds = ["n1", "n2", "n3"];
    private static readonly string[] BackendNames = ["b1", "b2"];

    private readonly NetworkLab _lab;
    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _directory = new("switchman-netns");
    private readonly HttpClient _network;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<HttpClient>> _consoles = new(StringComparer.Ordinal);
    // Nodes are started side by side (StartAsync of all three at once): a plain Dictionary written concurrently can lose
    // or corrupt entries, which is how a run once found a null process at disposal.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ChildProcess> _processes = new(StringComparer.Ordinal);
    private readonly List<DemoBackendProcess> _backends = [];

    /// <summary>The output of processes replaced by a restart, by node id, oldest first.</summary>
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Node, string[] Lines)> _retired = [];

    private readonly IReadOnlyList<string> _vipLines;

    /// <summary>Nodes started without CAP_NET_ADMIN (as a service without <c>AmbientCapabilities=CAP_NET_ADMIN</c>).</summary>
    private readonly IReadOnlySet<string> _withoutNetAdmin;

    /// <summary>The addresses of a pool of VIPs, named api1, api2...: 192.0.2.201 and up.</summary>
    public static Core.Configuration.VipAddress PoolVip(int number) => new(LabAddresses.Host(200 + number), LabAddresses.PrefixLength);

    /// <summary>Whether backend api has HTTP health checks (<c>health: { path: /healthz }</c>, defaults otherwise).</summary>
    private readonly bool _healthChecks;

    /// <summary>The node that runs as a witness (votes, serves nothing, holds no VIP), if any.</summary>
    private readonly string? _witness;

    /// <summary>Lines added to one node's file only (its node-local settings), by node id.</summary>
    private readonly IReadOnlyDictionary<string, string[]> _nodeLines;

    /// <summary>Whether DotNext's Raft logs at Debug (elections and votes for failure messages, at some CPU cost).</summary>
    private readonly bool _raftDebug;

    private NetnsCluster(
        NetworkLab lab, ITestOutputHelper output, IReadOnlyList<string>? vipLines, IReadOnlySet<string>? withoutNetAdmin, bool healthChecks, string? witness,
        IReadOnlyDictionary<string, string[]>? nodeLines, bool raftDebug)
    {
        _nodeLines = nodeLines ?? new Dictionary<string, string[]>();
        _raftDebug = raftDebug;
        _healthChecks = healthChecks;
        _witness = witness;
        _lab = lab;
        _output = output;
        _vipLines = vipLines ?? [$"  - {{ name: api, address: {Vip}, interface: eth0 }}"];
        _withoutNetAdmin = withoutNetAdmin ?? new HashSet<string>();
        _network = CreateClient(lab.Operator.CreateHttpHandler());
        SecretFile = _directory.WriteFile("cluster.key", Convert.ToHexString(RandomNumberGenerator.GetBytes(24)));
        Nodes = [.. NodeIds.Select(id => new NetnsNode(id, lab.Host(id), _directory.Combine($"{id}.yaml"), _directory.Combine($"data-{id}")))];
        foreach (var node in Nodes)
        {
            File.WriteAllText(node.ConfigFile, ConfigYaml(node));
        }
    }

    public NetworkLab Lab => _lab;

    public IReadOnlyList<NetnsNode> Nodes { get; }

    public string SecretFile { get; }

    /// <summary>Builds the lab, starts the backends and the three nodes, and waits until they have elected a leader and run the first revision.</summary>
    /// <param name="vipLines">The <c>vips:</c> section's lines (default: one VIP, api, at <see cref="Vip"/>).</param>
    /// <param name="withoutNetAdmin">Nodes to run without CAP_NET_ADMIN.</param>
    /// <param name="healthChecks">Whether backend api has HTTP health checks at their defaults.</param>
    /// <param name="witness">A node to run as a witness.</param>
    /// <param name="nodeLines">Lines added to one node's file only, by node id (node-local settings).</param>
    /// <param name="raftDebug">Whether DotNext's Raft logs at Debug (dozens of lines a second per node: off for long runs).</param>
    public static async Task<NetnsCluster> StartAsync(
        ITestOutputHelper output, IReadOnlyList<string>? vipLines = null, IReadOnlySet<string>? withoutNetAdmin = null, bool healthChecks = false,
        string? witness = null, IReadOnlyDictionary<string, string[]>? nodeLines = null, bool raftDebug = true)
    {
        var lab = await NetworkLab.CreateAsync([.. NodeIds, .. BackendNames]);
        NetnsCluster? cluster = null;
        try
        {
            cluster = new NetnsCluster(lab, output, vipLines, withoutNetAdmin, healthChecks, witness, nodeLines, raftDebug);
            await cluster.StartBackendsAsync();
            await Task.WhenAll(cluster.Nodes.Select(cluster.StartAsync));
            await cluster.WaitForLeaderAsync(cluster.Nodes, StartTimeout);
            return cluster;
        }
        catch (Exception)
        {
            if (cluster is null)
            {
                await lab.DisposeAsync();
            }
            else
            {
                await cluster.DisposeAsync();
            }
            throw;
        }
    }

    /// <summary>A node's file: what docs/cluster.md shows, nothing more.</summary>
    public string ConfigYaml(NetnsNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var tokenHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Token)));
        return string.Join('\n',
        [
            "admin:",
            $"  listen: {node.Host.HostPort(NetnsNode.AdminPort)}",
            "  tokens:",
            $"    - {{ name: tests, role: admin, sha256: {tokenHash} }}",
            "cluster:",
            $"  node_id: {node.Id}",
            .. node.Id == _witness ? ["  role: witness"] : Array.Empty<string>(),
            $"  listen: {node.ClusterAddress}",
            "  peers:",
            .. Nodes.Where(n => n != node).Select(p => $"    - {{ id: {p.Id}, address: {p.ClusterAddress} }}"),
            $"  data_dir: {node.DataDir}",
            $"  secret_file: {SecretFile}",
            "vips:",
            .. _vipLines,
            .. _nodeLines.GetValueOrDefault(node.Id) ?? [],
            "frontends:",
            "  web:",
            "    listen: 0.0.0.0:8080",
            "    routes:",
            $"      - backend: {Backend}",
            "backends:",
            $"  {Backend}:",
            .. _healthChecks ? ["    health: { path: /healthz }"] : Array.Empty<string>(),
            "    servers:",
            .. BackendNames.Select(b => $"      - {{ name: {b}, address: {_lab.Host(b).HostPort(BackendPort)} }}"),
            "",
        ]);
    }

    public NetnsNode Node(string id) => Nodes.First(n => n.Id == id);

    public bool IsRunning(NetnsNode node) => _processes.TryGetValue(node.Id, out var process) && !process.HasExited;

    public ChildProcess Process(NetnsNode node) => _processes[node.Id];

    /// <summary>Starts the node's process in its host (again, after a kill: on its data directory) and waits until its admin API listens.</summary>
    public async Task StartAsync(NetnsNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (IsRunning(node))
        {
            throw new InvalidOperationException($"{node.Id} is already running");
        }
        var process = await _lab.StartSwitchmanAsync(node.Host, ["run", "-c", node.ConfigFile], new ChildProcessOptions
        {
            DisplayName = node.Id,
            WorkingDirectory = _directory.Path,
            // DotNext's Raft at Debug (elections, votes, pre-votes), as bench/cluster.py logs it: a failure shows why.
            Environment = _raftDebug ? new Dictionary<string, string?> { ["Logging__LogLevel__DotNext.Net.Cluster"] = "Debug" } : new Dictionary<string, string?>(),
            Launcher = _withoutNetAdmin.Contains(node.Id) ? ["setpriv", "--bounding-set=-net_admin"] : [],
        });
        if (_processes.TryRemove(node.Id, out var previous))
        {
            _output.WriteLine(NodeLogs.Describe(previous, 200));
            _retired.Enqueue((node.Id, [.. previous.StandardOutputLines.Concat(previous.StandardErrorLines)]));
            await previous.DisposeAsync();
        }
        _processes[node.Id] = process;
        try
        {
            await process.WaitForOutputLineAsync(
                l => l.StartsWith("switchman: admin listening", StringComparison.Ordinal), StartTimeout, $"{node.Id} to start");
        }
        catch (Exception)
        {
            _output.WriteLine(NodeLogs.Describe(process, 60));
            throw;
        }
    }

    /// <summary>SIGKILL: the host still answers (with RST) on the node's ports.</summary>
    public async Task KillAsync(NetnsNode node)
    {
        var process = Process(node);
        process.Kill();
        await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGKILL of the node's process alone, as a crash: helpers it started (its VIP guards) live on.</summary>
    public async Task CrashAsync(NetnsNode node)
    {
        var process = Process(node);
        process.Crash();
        await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    public Task PowerOffAsync(NetnsNode node) => _lab.PowerOffAsync(node.Host);

    public Task PowerOnAsync(NetnsNode node) => _lab.PowerOnAsync(node.Host);

    /// <summary>Cuts <paramref name="node"/> off from the other nodes (not from clients nor backends) while it keeps running.</summary>
    public async Task CutOffAsync(NetnsNode node)
    {
        foreach (var other in Nodes.Where(n => n != node))
        {
            await _lab.CutAsync(node.Host, other.Host);
        }
    }

    /// <summary>Undoes <see cref="CutOffAsync"/>.</summary>
    public async Task ReconnectAsync(NetnsNode node)
    {
        foreach (var other in Nodes.Where(n => n != node))
        {
            await _lab.HealAsync(node.Host, other.Host);
        }
    }

    /// <summary><paramref name="node"/> can no longer reach either backend (as if its route to them failed).</summary>
    public async Task CutFromBackendsAsync(NetnsNode node)
    {
        foreach (var backend in BackendNames)
        {
            await _lab.BlockAsync(node.Host, _lab.Host(backend));
        }
    }

    public Task FreezeAsync(NetnsNode node) => _lab.FreezeAsync(Process(node).Pid);

    public Task ThawAsync(NetnsNode node) => _lab.ThawAsync(Process(node).Pid);

    /// <summary>The node's report over the network, or through its console; null when it does not answer in time.</summary>
    public async Task<NodeReport?> ReportAsync(NetnsNode node, bool throughConsole = false)
    {
        ArgumentNullException.ThrowIfNull(node);
        var http = throughConsole ? Console(node) : _network;
        try
        {
            using var timeout = new CancellationTokenSource(CallTimeout);
            using var status = JsonDocument.Parse(await http.GetStringAsync(new Uri($"{node.AdminUrl}/api/v1/status"), timeout.Token));
            using var configRequest = new HttpRequestMessage(HttpMethod.Get, new Uri($"{node.AdminUrl}/api/v1/config"));
            configRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var configResponse = await http.SendAsync(configRequest, timeout.Token);
            configResponse.EnsureSuccessStatusCode();
            var config = JsonNode.Parse(await configResponse.Content.ReadAsStringAsync(timeout.Token))!.AsObject();
            // Node-local: each node has its own, and they are never replicated.
            config.Remove("admin");
            config.Remove("cluster");

            var root = status.RootElement;
            var cluster = root.GetProperty("cluster");
            var overrides = string.Join(", ", root.GetProperty("backends").EnumerateArray().SelectMany(b => b.GetProperty("servers").EnumerateArray()
                .Select(s => $"{b.GetProperty("name").GetString()}/{s.GetProperty("name").GetString()} {s.GetProperty("state").GetString()} w{s.GetProperty("weight").GetInt32()}")));
            return new NodeReport(
                cluster.GetProperty("node_id").GetString()!,
                cluster.TryGetProperty("leader", out var leader) ? leader.GetString() : null,
                cluster.GetProperty("term").GetInt64(),
                cluster.GetProperty("commit_index").GetInt64(),
                cluster.GetProperty("applied_index").GetInt64(),
                root.GetProperty("node").GetProperty("revision").GetInt64(),
                config.ToJsonString(),
                overrides);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Waits until every node of <paramref name="among"/> names the same leader, one of them, and runs a replicated revision.</summary>
    public async Task<NetnsNode> WaitForLeaderAsync(IReadOnlyList<NetnsNode> among, TimeSpan timeout)
    {
        NetnsNode? leader = null;
        IReadOnlyList<NodeReport?> last = [];
        await WithDiagnosticsAsync(() => Await.UntilAsync(async () =>
        {
            last = await Task.WhenAll(among.Select(n => ReportAsync(n)));
            var named = last.Select(r => r?.Leader).Distinct().ToList();
            leader = named is [{ } id] && last.All(r => r!.Revision > 0) ? among.FirstOrDefault(n => n.Id == id) : null;
            return leader is not null;
        }, timeout, $"{string.Join(", ", among.Select(n => n.Id))} to name the same leader among them"), () => Describe(last));
        return leader!;
    }

    /// <summary>
    /// Waits until every node answers and all agree: same leader, term, commit index, applied index (all caught up),
    /// revision, shared configuration and server overrides. Returns their reports.
    /// </summary>
    public async Task<IReadOnlyList<NodeReport>> WaitForAgreementAsync(TimeSpan timeout)
    {
        IReadOnlyList<NodeReport?> last = [];
        await WithDiagnosticsAsync(() => Await.UntilAsync(async () =>
        {
            last = await Task.WhenAll(Nodes.Select(n => ReportAsync(n)));
            return last.All(r => r is { Leader: not null, CaughtUp: true }) && last.All(r => r!.AgreesWith(last[0]!));
        }, timeout, "every node to agree on leader, term, commit index, applied index, revision, configuration and server overrides"),
        () => Describe(last));
        return [.. last.Select(r => r!)];
    }

    /// <summary>POST a server to backend api through <paramref name="via"/>: one try, its status, revision if created, and body.</summary>
    public Task<(HttpStatusCode Status, long? Revision, string Body)> AddServerAsync(NetnsNode via, string name, bool throughConsole = false) =>
        AddServerAsync(via, name, BackendAddress, CallTimeout, throughConsole);

    /// <summary>The address of the first demo backend: what servers added by the tests point at.</summary>
    public string BackendAddress => _lab.Host(BackendNames[0]).HostPort(BackendPort);

    /// <summary>POST a server <paramref name="name"/> at <paramref name="address"/> to backend api through <paramref name="via"/>, answered within <paramref name="timeout"/>.</summary>
    /// <exception cref="OperationCanceledException">No answer within <paramref name="timeout"/>.</exception>
    /// <exception cref="HttpRequestException">The connection failed or broke.</exception>
    public async Task<(HttpStatusCode Status, long? Revision, string Body)> AddServerAsync(NetnsNode via, string name, string address, TimeSpan timeout, bool throughConsole = false)
    {
        ArgumentNullException.ThrowIfNull(via);
        using var limit = new CancellationTokenSource(timeout);
        using var response = await (throughConsole ? Console(via) : _network).PostAsJsonAsync(
            new Uri($"{via.AdminUrl}/api/v1/backends/{Backend}/servers"), new { name, address }, limit.Token);
        var body = await response.Content.ReadAsStringAsync(limit.Token);
        long? revision = response.StatusCode == HttpStatusCode.Created ? JsonDocument.Parse(body).RootElement.GetProperty("revision").GetInt64() : null;
        return (response.StatusCode, revision, body);
    }

    /// <summary>
    /// GET /api/v1/status on <paramref name="node"/> within <paramref name="timeout"/>: when its process started, the
    /// revision it runs, its applied and commit indexes, term and leader; null when it does not answer in time.
    /// </summary>
    public async Task<(string StartedAt, long Revision, long AppliedIndex, long CommitIndex, long Term, string? Leader)?> StatusAsync(NetnsNode node, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(node);
        try
        {
            using var limit = new CancellationTokenSource(timeout);
            using var response = await _network.GetAsync(new Uri($"{node.AdminUrl}/api/v1/status"), HttpCompletionOption.ResponseHeadersRead, limit.Token);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            using var status = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(limit.Token), cancellationToken: limit.Token);
            var root = status.RootElement;
            var cluster = root.GetProperty("cluster");
            var self = root.GetProperty("node");
            return (self.GetProperty("started_at").GetRawText(), self.GetProperty("revision").GetInt64(), cluster.GetProperty("applied_index").GetInt64(),
                cluster.GetProperty("commit_index").GetInt64(), cluster.GetProperty("term").GetInt64(),
                cluster.TryGetProperty("leader", out var leader) ? leader.GetString() : null);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return null;
        }
    }

    /// <summary>The names of backend api's servers as <paramref name="node"/>'s configuration lists them, in order; null when it does not answer.</summary>
    public async Task<IReadOnlyList<string>?> ServerNamesAsync(NetnsNode node, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(node);
        try
        {
            using var limit = new CancellationTokenSource(timeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{node.AdminUrl}/api/v1/config"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await _network.SendAsync(request, limit.Token);
            response.EnsureSuccessStatusCode();
            var config = JsonNode.Parse(await response.Content.ReadAsStringAsync(limit.Token))!;
            return [.. config["backends"]![Backend]!["servers"]!.AsArray().Select(s => s!["name"]!.GetValue<string>())];
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// Adds server <paramref name="name"/> through <paramref name="via"/>, trying again after 503s (no leader yet) and
    /// transport errors, until it is committed, for at most <paramref name="limit"/>. A 503 may mean "outcome unknown":
    /// before each new try the node's configuration is checked, so a change that went through is not sent twice.
    /// </summary>
    /// <returns>How long after <paramref name="since"/> (a timestamp) the change was known committed, and the refused tries.</returns>
    public async Task<(TimeSpan Elapsed, IReadOnlyList<string> RefusedTries)> CommitServerAsync(NetnsNode via, string name, long since, TimeSpan limit)
    {
        var refused = new List<string>();
        while (true)
        {
            var elapsed = TimeProvider.System.GetElapsedTime(since);
            if (elapsed >= limit)
            {
                throw new TimeoutException(
                    $"No commit of server '{name}' through {via.Id} within {limit.TotalSeconds:0.#} s; {refused.Count} tries refused:\n" +
                    string.Join('\n', refused.TakeLast(10)) + "\n" + Describe(await Task.WhenAll(Nodes.Select(n => ReportAsync(n)))) + "\n" + DescribeLogs());
            }
            try
            {
                var (status, _, body) = await AddServerAsync(via, name);
                if (status == HttpStatusCode.Created)
                {
                    return (TimeProvider.System.GetElapsedTime(since), refused);
                }
                Assert.True(status == HttpStatusCode.ServiceUnavailable, $"adding {name} through {via.Id}: {(int)status} {body}");
                refused.Add(string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalMilliseconds:0} ms: {(int)status} {body}"));
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                refused.Add(string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalMilliseconds:0} ms: {e.GetType().Name} {e.Message}"));
            }
            if ((await ReportAsync(via))?.HasServer(name) == true)
            {
                return (TimeProvider.System.GetElapsedTime(since), refused);
            }
            await Task.Delay(Await.PollInterval);
        }
    }

    /// <summary>PUT the weight of a server through <paramref name="via"/>: a server override. Returns the status and body.</summary>
    /// <summary>POST /api/v1/nodes/{node}/standby (or /online) through <paramref name="via"/>.</summary>
    public async Task<(HttpStatusCode Status, string Body)> SetStandbyAsync(NetnsNode via, NetnsNode node, bool standby)
    {
        ArgumentNullException.ThrowIfNull(via);
        ArgumentNullException.ThrowIfNull(node);
        using var timeout = new CancellationTokenSource(CallTimeout);
        using var response = await _network.PostAsync(
            new Uri($"{via.AdminUrl}/api/v1/nodes/{node.Id}/{(standby ? "standby" : "online")}"), content: null, timeout.Token);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token));
    }

    public async Task<(HttpStatusCode Status, string Body)> SetWeightAsync(NetnsNode via, string server, int weight)
    {
        ArgumentNullException.ThrowIfNull(via);
        using var timeout = new CancellationTokenSource(CallTimeout);
        using var response = await _network.PutAsJsonAsync(
            new Uri($"{via.AdminUrl}/api/v1/backends/{Backend}/servers/{server}/weight"), new { weight }, timeout.Token);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token));
    }

    /// <summary>GET /api/v1/cluster on <paramref name="via"/>: its status, its body and how long it took.</summary>
    public async Task<(HttpStatusCode Status, string Body, TimeSpan Elapsed)> GetClusterAsync(NetnsNode via, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(via);
        var started = TimeProvider.System.GetTimestamp();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            using var response = await _network.GetAsync(new Uri($"{via.AdminUrl}/api/v1/cluster"), cancel.Token);
            var body = await response.Content.ReadAsStringAsync(cancel.Token);
            return (response.StatusCode, body, TimeProvider.System.GetElapsedTime(started));
        }
        catch (OperationCanceledException e) when (cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"GET /api/v1/cluster on {via.Id} did not answer within {timeout.TotalSeconds:0.#} s", e);
        }
    }

    /// <summary>The node's count of refused cluster connections (switchman.cluster.refused_connections on /metrics).</summary>
    public Task<long> RefusedConnectionsAsync(NetnsNode node) => MetricAsync(node, "switchman_cluster_refused_connections_total");

    /// <summary>The sum of every sample of the metric <paramref name="name"/> on <paramref name="node"/>'s /metrics (it must have one).</summary>
    public async Task<long> MetricAsync(NetnsNode node, string name)
    {
        ArgumentNullException.ThrowIfNull(node);
        using var timeout = new CancellationTokenSource(CallTimeout);
        var metrics = await _network.GetStringAsync(new Uri($"{node.AdminUrl}/metrics"), timeout.Token);
        var samples = metrics.Split('\n')
            .Where(line => line.StartsWith(name, StringComparison.Ordinal) && (line.Length == name.Length || line[name.Length] is '{' or ' '))
            .Select(line => long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))
            .ToList();
        Assert.True(samples.Count > 0, $"{node.Id}'s /metrics has no {name} sample");
        return samples.Sum();
    }

    /// <summary>Runs the CLI on the operator's workstation against <paramref name="via"/>'s admin API; returns its exit code, output and duration.</summary>
    public async Task<(int ExitCode, string Output, TimeSpan Elapsed)> RunCliAsync(NetnsNode via, TimeSpan timeout, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(via);
        var started = TimeProvider.System.GetTimestamp();
        var process = await _lab.StartSwitchmanAsync(_lab.Operator, [.. arguments, "--endpoint", via.AdminUrl, "--token", Token]);
        await using (process)
        {
            var exitCode = await process.WaitForExitAsync(timeout);
            return (exitCode, string.Join('\n', process.StandardOutputLines.Concat(process.StandardErrorLines)), TimeProvider.System.GetElapsedTime(started));
        }
    }

    /// <summary>The last lines of every node's output (Raft at Debug), for failure messages.</summary>
    public string DescribeLogs(int lines = 40) =>
        string.Join('\n', Nodes.Select(n => _processes.TryGetValue(n.Id, out var p) ? NodeLogs.Describe(p, lines) : $"{n.Id} never started"));

    /// <summary>
    /// Every line the node's processes wrote (standard output, then error, of each), its earlier processes (before a
    /// restart) first; a chatty process keeps its last 20,000 lines per stream.
    /// </summary>
    public IReadOnlyList<string> AllOutput(NetnsNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var current = _processes.TryGetValue(node.Id, out var p) ? p.StandardOutputLines.Concat(p.StandardErrorLines) : [];
        return [.. _retired.Where(r => r.Node == node.Id).SelectMany(r => r.Lines.Prepend($"--- an earlier process of {node.Id}")), .. current.Prepend($"--- the last process of {node.Id}")];
    }

    /// <summary>Lines of the node's output (standard output and error) that contain <paramref name="text"/>.</summary>
    public IReadOnlyList<string> LogLinesContaining(NetnsNode node, string text) =>
        _processes.TryGetValue(node.Id, out var p)
            ? [.. p.StandardOutputLines.Concat(p.StandardErrorLines).Where(l => l.Contains(text, StringComparison.Ordinal))]
            : [];

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var process in _processes.Values)
            {
                try
                {
                    // A failed test's output shows what every node saw.
                    _output.WriteLine(NodeLogs.Describe(process, 150));
                }
                catch (InvalidOperationException)
                {
                    // The test has finished; xunit refuses late output.
                }
            }
            _network.Dispose();
            foreach (var console in _consoles.Values.Where(c => c.IsValueCreated).Select(c => c.Value))
            {
                console.Dispose();
            }
        }
        finally
        {
            // Whatever happened above: the lab kills every process it started (nodes, backends, CLI runs), then
            // removes its namespaces, so a failed test leaves nothing running behind it.
            await _lab.DisposeAsync();
            _directory.Dispose();
        }
    }

    private async Task StartBackendsAsync()
    {
        foreach (var name in BackendNames)
        {
            _backends.Add(await _lab.StartDemoBackendAsync(_lab.Host(name), name, BackendPort));
        }
    }

    /// <summary>A client whose connections start inside the node's own host: reaches it while its link is down.</summary>
    private HttpClient Console(NetnsNode node)
    {
        return _consoles.GetOrAdd(node.Id, _ => new Lazy<HttpClient>(() => CreateClient(node.Host.CreateHttpHandler()))).Value;
    }

    private static HttpClient CreateClient(HttpMessageHandler handler)
    {
        // Each call has its own bound (CallTimeout), so HttpClient's own timeout never decides first.
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return client;
    }

    private static string Describe(IEnumerable<NodeReport?> reports) =>
        "last reports:\n" + string.Join('\n', reports.Select((r, i) => "  " + (r?.ToString() ?? $"node #{i + 1}: no answer")));

    /// <summary>Runs a wait; if it times out, rethrows with what the nodes last reported and their logs.</summary>
    private async Task WithDiagnosticsAsync(Func<Task> wait, Func<string> describe)
    {
        try
        {
            await wait();
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{describe()}\n{DescribeLogs()}", e);
        }
    }
}
