using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Validation;
using Switchman.Core.Configuration.Writing;

namespace Switchman.Core.Tests.Configuration;

/// <summary>The <c>cluster:</c> section: loading, every rule of the validator, writing it back.</summary>
public sealed class ClusterConfigTests : IDisposable
{
    private const string Secret = "0123456789abcdef-cluster-secret";

    private readonly TempDirectory _dir = new();

    // One variable per test: tests run in parallel and the environment is the process's.
    private readonly string _variable = "SWITCHMAN_TEST_CLUSTER_SECRET_" + Guid.NewGuid().ToString("N");

    public ClusterConfigTests()
    {
        File.WriteAllText(_dir.File("cluster.key"), Secret + "\n");
        Environment.SetEnvironmentVariable(_variable, Secret);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_variable, null);
        _dir.Dispose();
    }

    /// <summary>
    /// A valid section to break one field of: <c>cluster:</c> on line 1, then node_id (2), listen (3), data_dir (4),
    /// the secret (5) and <paramref name="extra"/> from line 6 on, every key in column 3.
    /// </summary>
    private string Cluster(string extra = "", string nodeId = "lb1", string listen = "127.0.0.1:7001", string dataDir = "data", string? secret = null)
    {
        var lines = new List<string>
        {
            "cluster:",
            $"  node_id: {nodeId}",
            $"  listen: {listen}",
            $"  data_dir: {dataDir}",
            "  " + (secret ?? $"secret_env: {_variable}"),
        };
        lines.AddRange(extra.Split('\n').Where(l => l.Length > 0).Select(l => "  " + l));
        return string.Join("\n", lines) + "\n";
    }

    private SwitchmanConfig LoadValid(string yaml) => TestConfigs.LoadValid(yaml, _dir.Path);

    private IReadOnlyList<ConfigError> Errors(string yaml) => TestConfigs.Load(yaml, _dir.Path).Errors;

    private ConfigError SingleError(string yaml, int line, string path, string messageFragment)
    {
        var result = TestConfigs.Load(yaml, _dir.Path);
        var error = Assert.Single(result.Errors);
        Assert.Null(result.Config);
        Assert.Equal((line, path), (error.Line, error.Path));
        Assert.Contains(messageFragment, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
        return error;
    }

    [Fact]
    public void LoadYaml_FullSection_BindsEveryField()
    {
        var config = LoadValid("""
            cluster:
              node_id: lb1
              listen: 127.0.0.1:7001
              peers:
                - { id: lb2, address: 127.0.0.1:7002 }
                - { id: w1, address: 127.0.0.1:7003 }
              data_dir: /var/lib/switchman
              secret_file: cluster.key
              role: voter
              join: false
              election_timeout_min: 150ms
              election_timeout_max: 300ms
              request_timeout: 1s
              snapshot_every: 100
            """);

        Assert.Equal(
            new ClusterConfig
            {
                NodeId = "lb1",
                Listen = "127.0.0.1:7001",
                Peers = ValueList.Create(
                    new ClusterPeerConfig { Id = "lb2", Address = "127.0.0.1:7002" },
                    new ClusterPeerConfig { Id = "w1", Address = "127.0.0.1:7003" }),
                DataDir = Path.GetFullPath("/var/lib/switchman"),
                SecretFile = _dir.File("cluster.key"),
                Role = ClusterRole.Voter,
                Join = false,
                ElectionTimeoutMin = TimeSpan.FromMilliseconds(150),
                ElectionTimeoutMax = TimeSpan.FromMilliseconds(300),
                RequestTimeout = TimeSpan.FromSeconds(1),
                SnapshotEvery = 100,
            },
            config.Cluster);
        Assert.DoesNotContain(Secret, config.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_OtherValues_BindEveryField()
    {
        var config = LoadValid(Cluster(
            "role: witness\njoin: true\nelection_timeout_min: 1s\nelection_timeout_max: 2s500ms\nrequest_timeout: 250ms\nsnapshot_every: 5000\npeers:\n  - id: lb2\n    address: \"[fd00::2]:7001\"",
            listen: "\"[fd00::1]:7001\""));

        var cluster = config.Cluster!;
        Assert.Equal(
            (ClusterRole.Witness, true, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(2500), TimeSpan.FromMilliseconds(250), 5000),
            (cluster.Role, cluster.Join, cluster.ElectionTimeoutMin, cluster.ElectionTimeoutMax, cluster.RequestTimeout, cluster.SnapshotEvery));
        Assert.Equal("[fd00::1]:7001", cluster.Listen);
        Assert.Equal(ValueList.Create(new ClusterPeerConfig { Id = "lb2", Address = "[fd00::2]:7001" }), cluster.Peers);
        Assert.Equal(_variable, cluster.SecretEnv);
        Assert.Null(cluster.SecretFile);
    }

    [Fact]
    public void LoadYaml_RequiredKeysOnly_TakesDefaults()
    {
        var cluster = LoadValid(Cluster()).Cluster!;

        Assert.Equal(
            ConfigDefaults.DefaultCluster with { NodeId = "lb1", Listen = "127.0.0.1:7001", DataDir = _dir.File("data"), SecretEnv = _variable },
            cluster);
        Assert.Equal(
            (ClusterRole.Voter, false, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), 100, 0),
            (cluster.Role, cluster.Join, cluster.ElectionTimeoutMin, cluster.ElectionTimeoutMax, cluster.RequestTimeout, cluster.SnapshotEvery, cluster.Peers.Count));
    }

    [Fact]
    public void LoadYaml_RelativePaths_ResolveAgainstTheFilesDirectory()
    {
        Directory.CreateDirectory(_dir.File("keys"));
        File.WriteAllText(_dir.File("keys/cluster.key"), Secret);

        var cluster = LoadValid(Cluster(dataDir: "state/raft", secret: "secret_file: keys/cluster.key")).Cluster!;

        Assert.Equal(_dir.File("state/raft"), cluster.DataDir);
        Assert.Equal(_dir.File("keys/cluster.key"), cluster.SecretFile);
        Assert.True(Path.IsPathFullyQualified(cluster.DataDir));
    }

    [Fact]
    public void LoadFile_RelativePaths_ResolveAgainstTheFilesDirectoryNotTheCurrentOne()
    {
        Directory.CreateDirectory(_dir.File("etc"));
        File.WriteAllText(_dir.File("etc/cluster.key"), Secret);
        File.WriteAllText(_dir.File("etc/switchman.yaml"), Cluster(dataDir: "data", secret: "secret_file: cluster.key"));

        var result = Switchman.Core.Configuration.Loading.ConfigLoader.LoadFile(_dir.File("etc/switchman.yaml"));

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal((_dir.File("etc/data"), _dir.File("etc/cluster.key")), (result.Config!.Cluster!.DataDir, result.Config.Cluster.SecretFile));
    }

    [Theory]
    [InlineData("")]
    [InlineData("cluster:\n")]
    [InlineData("cluster: ~\n")]
    public void LoadYaml_SectionAbsentOrEmpty_NodeRunsAlone(string yaml)
    {
        Assert.Null(LoadValid(yaml + TestConfigs.Minimal()).Cluster);
    }

    [Fact]
    public void LoadYaml_OneNodeCluster_IsAllowed()
    {
        var cluster = LoadValid(Cluster()).Cluster!;

        Assert.Empty(cluster.Peers);
        Assert.False(cluster.Join);
    }

    [Fact]
    public void LoadYaml_NextToFrontendsAndAdmin_IsValid()
    {
        var config = LoadValid(TestConfigs.Minimal() + Cluster("peers:\n  - { id: lb2, address: 127.0.0.2:7001 }"));

        Assert.Equal("lb1", config.Cluster!.NodeId);
        Assert.Single(config.Frontends);
    }

    [Fact]
    public void LoadYaml_NotAMap_Reported()
    {
        TestConfigs.SingleError("cluster: lb1\n", 1, 1, "cluster", "expected a map, not 'lb1'");
    }

    [Fact]
    public void LoadYaml_RequiredKeysMissing_ReportedAtTheSection()
    {
        var errors = Errors($"cluster:\n  secret_env: {_variable}\n");

        Assert.Equal(
            ["missing required key 'node_id'", "missing required key 'listen'", "missing required key 'data_dir'"],
            errors.Select(e => e.Message));
        Assert.All(errors, e => Assert.Equal((1, 1, "cluster"), (e.Line, e.Column, e.Path)));
    }

    [Fact]
    public void LoadYaml_PeerWithoutAddress_ReportedAtThePeer()
    {
        SingleError(Cluster("peers:\n  - id: lb2"), 7, "cluster.peers[0]", "missing required key 'address'");
    }

    [Theory]
    [InlineData("node-id: lb1", "cluster.node-id", "unknown key 'node-id'; did you mean 'node_id'?")]
    [InlineData("nodeId: lb1", "cluster.nodeId", "unknown key 'nodeId'; did you mean 'node_id'?")]
    [InlineData("peer: []", "cluster.peer", "unknown key 'peer'; did you mean 'peers'?")]
    [InlineData("secret: x", "cluster.secret", "unknown key 'secret'; known keys here: node_id, listen, peers, data_dir")]
    [InlineData("snapshots_every: 10", "cluster.snapshots_every", "did you mean 'snapshot_every'?")]
    public void LoadYaml_UnknownKey_SuggestsTheKnownOne(string line, string path, string message)
    {
        var errors = Errors(Cluster(line));

        var error = Assert.Single(errors, e => e.Path == path);
        Assert.Equal((6, 3), (error.Line, error.Column));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_UnknownKeyInPeer_SuggestsTheKnownOne()
    {
        SingleError(Cluster("peers:\n  - { id: lb2, address: 127.0.0.1:7002, adress: x }"), 7, "cluster.peers[0].adress", "did you mean 'address'?");
    }

    [Theory]
    [InlineData("role: leader", "cluster.role", "'leader' is not one of: voter, witness")]
    [InlineData("join: maybe", "cluster.join", "expected true or false")]
    [InlineData("snapshot_every: often", "cluster.snapshot_every", "expected a whole number")]
    [InlineData("request_timeout: 5", "cluster.request_timeout", "'5' has no unit")]
    [InlineData("peers: { id: lb2 }", "cluster.peers", "expected a list, not a map")]
    public void LoadYaml_WrongType_Reported(string line, string path, string message)
    {
        SingleError(Cluster(line), 6, path, message);
    }

    [Theory]
    [InlineData("\"lb 1\"")]
    [InlineData("lb/1")]
    [InlineData("nœud")]
    public void LoadYaml_NodeIdNotAName_Reported(string nodeId)
    {
        SingleError(Cluster(nodeId: nodeId), 2, "cluster.node_id", "is not a valid node id; use letters, digits, '-', '_' and '.', at most 63 characters");
    }

    [Fact]
    public void LoadYaml_NodeIdLength_AtMost63()
    {
        Assert.Equal(new string('n', 63), LoadValid(Cluster(nodeId: new string('n', 63))).Cluster!.NodeId);
        SingleError(Cluster(nodeId: new string('n', 64)), 2, "cluster.node_id", "at most 63 characters");
    }

    [Fact]
    public void LoadYaml_NodeIdEmpty_ReportedOnce()
    {
        SingleError(Cluster(nodeId: "\"\""), 2, "cluster.node_id", "must not be empty");
    }

    [Theory]
    [InlineData("lb1.example.com:7001", "'lb1.example.com' is not an IP address")]
    [InlineData("localhost:7001", "'localhost' is not an IP address")]
    [InlineData("\"*:7001\"", "'*' is not an IP address")]
    [InlineData("0.0.0.0:7001", "'0.0.0.0' means every address; write the address its peers reach this node at")]
    [InlineData("\"[::]:7001\"", "'::' means every address")]
    [InlineData("127.0.0.1:0", "'127.0.0.1:0' needs a port from 1 to 65535")]
    [InlineData("127.0.0.1", "'127.0.0.1' is not host:port")]
    [InlineData("127.0.0.1:70000", "port '70000' must be a number from 0 to 65535")]
    public void LoadYaml_ListenNotAnIpAndPort_Reported(string listen, string message)
    {
        SingleError(Cluster(listen: listen), 3, "cluster.listen", message);
    }

    [Theory]
    [InlineData("lb2.example.com:7001", "'lb2.example.com' is not an IP address")]
    [InlineData("0.0.0.0:7001", "'0.0.0.0' means every address; write the address the peer's cluster listener listens on")]
    [InlineData("127.0.0.2:0", "needs a port from 1 to 65535")]
    [InlineData("127.0.0.2", "is not host:port")]
    public void LoadYaml_PeerAddressNotAnIpAndPort_Reported(string address, string message)
    {
        var error = SingleError(
            Cluster($"peers:\n  - {{ id: lb2, address: 127.0.0.2:7001 }}\n  - id: lb3\n    address: {address}"),
            9, "cluster.peers[1].address", message);
        Assert.Equal(7, error.Column);
    }

    [Fact]
    public void LoadYaml_PeerIdNotAName_Reported()
    {
        SingleError(Cluster("peers:\n  - { id: lb/2, address: 127.0.0.2:7001 }"), 7, "cluster.peers[0].id", "'lb/2' is not a valid node id");
    }

    [Fact]
    public void LoadYaml_PeerIdsRepeated_ReportedAtTheSecond()
    {
        SingleError(
            Cluster("peers:\n  - { id: lb2, address: 127.0.0.2:7001 }\n  - { id: lb2, address: 127.0.0.3:7001 }"),
            8, "cluster.peers[1].id", "peer id 'lb2' is already used by peers[0]");
    }

    [Fact]
    public void LoadYaml_PeerIdIsNodeId_Reported()
    {
        SingleError(
            Cluster("peers:\n  - { id: lb1, address: 127.0.0.2:7001 }"),
            7, "cluster.peers[0].id", "'lb1' is this node's own node_id; peers lists only the other members");
    }

    [Theory]
    [InlineData("127.0.0.2:7001")]
    [InlineData("127.000.000.002:7001")]
    public void LoadYaml_PeerAddressesRepeated_ReportedAtTheSecond(string second)
    {
        SingleError(
            Cluster($"peers:\n  - {{ id: lb2, address: 127.0.0.2:7001 }}\n  - {{ id: lb3, address: {second} }}"),
            8, "cluster.peers[1].address", $"{second} is already the address of peers[0]");
    }

    [Fact]
    public void LoadYaml_SameIpOtherPort_IsAnotherPeer()
    {
        var cluster = LoadValid(Cluster("peers:\n  - { id: lb2, address: 127.0.0.1:7002 }\n  - { id: lb3, address: 127.0.0.1:7003 }")).Cluster!;

        Assert.Equal(["lb2", "lb3"], cluster.Peers.Select(p => p.Id));
    }

    [Theory]
    [InlineData("127.0.0.1:7001", "127.0.0.1:7001", "127.0.0.1:7001 is this node's own cluster.listen")]
    [InlineData("\"[fd00::1]:7001\"", "\"[fd00:0::1]:7001\"", "[fd00:0::1]:7001 is this node's own cluster.listen")]
    public void LoadYaml_PeerAddressIsListen_Reported(string listen, string peer, string message)
    {
        SingleError(Cluster($"peers:\n  - {{ id: lb2, address: {peer} }}", listen: listen), 7, "cluster.peers[0].address", message);
    }

    [Fact]
    public void LoadYaml_ListenCollidesWithAdmin_Reported()
    {
        SingleError(
            Cluster(listen: "127.0.0.1:9090"),
            3, "cluster.listen", "127.0.0.1:9090 collides with the admin listener, which listens on 127.0.0.1:9090");
    }

    [Theory]
    [InlineData("127.0.0.1:7001", "127.0.0.1:7001")]
    [InlineData("0.0.0.0:7001", "10.0.0.1:7001")]
    [InlineData("localhost:7001", "127.0.0.1:7001")]
    public void LoadYaml_ListenCollidesWithFrontend_Reported(string frontendListen, string clusterListen)
    {
        var yaml = TestConfigs.Minimal().Replace("127.0.0.1:8080", frontendListen, StringComparison.Ordinal) + Cluster(listen: clusterListen);

        var error = Assert.Single(Errors(yaml));

        Assert.Equal("cluster.listen", error.Path);
        Assert.Equal($"{clusterListen} collides with frontend 'web', which listens on {frontendListen}", error.Message);
    }

    [Fact]
    public void LoadYaml_ListenOnAdminPortOfAnotherAddress_IsValid()
    {
        Assert.NotNull(LoadValid(Cluster(listen: "127.0.0.2:9090")).Cluster);
    }

    [Fact]
    public void LoadYaml_NoSecret_ReportedAtTheSection()
    {
        var result = TestConfigs.Load("cluster:\n  node_id: lb1\n  listen: 127.0.0.1:7001\n  data_dir: data\n", _dir.Path);

        var error = Assert.Single(result.Errors);
        Assert.Equal((1, 1, "cluster"), (error.Line, error.Column, error.Path));
        Assert.Contains("needs secret_file or secret_env", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_BothSecrets_ReportedAtTheSection()
    {
        SingleError(Cluster("secret_file: cluster.key"), 1, "cluster", "has secret_file and secret_env; keep exactly one");
    }

    [Fact]
    public void LoadYaml_SecretFileMissing_Reported()
    {
        var error = SingleError(Cluster(secret: "secret_file: nowhere.key"), 5, "cluster.secret_file", "cannot read the secret file");

        Assert.Contains(_dir.File("nowhere.key"), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0123456789abcde")]
    [InlineData("  0123456789abcde\n\n")]
    public void LoadYaml_SecretFileShort_Reported(string contents)
    {
        File.WriteAllText(_dir.File("short.key"), contents);

        var error = SingleError(Cluster(secret: "secret_file: short.key"), 5, "cluster.secret_file", "holds fewer than 16 bytes");

        Assert.Contains(_dir.File("short.key"), error.Message, StringComparison.Ordinal);
        if (contents.Trim().Length > 0)
        {
            Assert.DoesNotContain(contents.Trim(), error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void LoadYaml_SecretFileOf16BytesAroundWhiteSpace_IsValid()
    {
        File.WriteAllText(_dir.File("exact.key"), " \t0123456789abcdef\r\n");

        Assert.NotNull(LoadValid(Cluster(secret: "secret_file: exact.key")).Cluster);
    }

    [Fact]
    public void LoadYaml_SecretEnvUnset_Reported()
    {
        var unset = "SWITCHMAN_TEST_UNSET_" + Guid.NewGuid().ToString("N");

        SingleError(Cluster(secret: $"secret_env: {unset}"), 5, "cluster.secret_env", $"environment variable '{unset}' is not set");
    }

    [Fact]
    public void LoadYaml_SecretEnvShort_ReportedWithoutTheValue()
    {
        Environment.SetEnvironmentVariable(_variable, "  short-secret  ");

        var error = SingleError(Cluster(), 5, "cluster.secret_env", $"environment variable '{_variable}' holds fewer than 16 characters");

        Assert.DoesNotContain("short-secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_SecretEmpty_Reported()
    {
        SingleError(Cluster(secret: "secret_file: \"\""), 5, "cluster.secret_file", "must not be empty");
        SingleError(Cluster(secret: "secret_env: \"\""), 5, "cluster.secret_env", "must not be empty");
    }

    [Fact]
    public void LoadYaml_DataDirEmpty_Reported()
    {
        SingleError(Cluster(dataDir: "\"\""), 4, "cluster.data_dir", "must not be empty");
    }

    [Theory]
    [InlineData("election_timeout_min: 49ms", "cluster.election_timeout_min", "must be at least 50ms")]
    [InlineData("election_timeout_min: 0", "cluster.election_timeout_min", "must be at least 50ms")]
    [InlineData("election_timeout_max: 100ms", "cluster.election_timeout_max", "must be greater than election_timeout_min (100ms)")]
    [InlineData("election_timeout_max: 50ms", "cluster.election_timeout_max", "must be greater than election_timeout_min (100ms)")]
    [InlineData("request_timeout: 99ms", "cluster.request_timeout", "must be at least 100ms")]
    [InlineData("snapshot_every: 9", "cluster.snapshot_every", "must be ≥ 10")]
    [InlineData("snapshot_every: -1", "cluster.snapshot_every", "must be ≥ 10")]
    public void LoadYaml_TimingOutOfRange_Reported(string line, string path, string message)
    {
        SingleError(Cluster(line), 6, path, message);
    }

    [Fact]
    public void LoadYaml_ElectionTimeoutMinAboveDefaultMax_ReportsTheUnwrittenMaxAtTheSection()
    {
        // election_timeout_max was left at its default (200ms); the error points at the nearest key written.
        SingleError(Cluster("election_timeout_min: 500ms"), 1, "cluster.election_timeout_max", "must be greater than election_timeout_min (500ms)");
    }

    [Fact]
    public void LoadYaml_TimingAtTheLimits_IsValid()
    {
        var cluster = LoadValid(Cluster("election_timeout_min: 50ms\nelection_timeout_max: 51ms\nrequest_timeout: 100ms\nsnapshot_every: 10")).Cluster!;

        Assert.Equal((50, 51, 100, 10), ((int)cluster.ElectionTimeoutMin.TotalMilliseconds, (int)cluster.ElectionTimeoutMax.TotalMilliseconds, (int)cluster.RequestTimeout.TotalMilliseconds, cluster.SnapshotEvery));
    }

    [Fact]
    public void LoadYaml_WitnessAlone_Reported()
    {
        SingleError(Cluster("role: witness"), 6, "cluster.role", "a witness never leads, so it cannot form a cluster alone");
        Assert.NotNull(LoadValid(Cluster("role: witness\njoin: true")).Cluster);
        Assert.NotNull(LoadValid(Cluster("role: witness\npeers: [{ id: lb2, address: 127.0.0.2:7001 }]")).Cluster);
    }

    [Fact]
    public void LoadYaml_EveryMistake_ReportedTogetherInFileOrder()
    {
        var errors = Errors(Cluster(
            "peers:\n  - { id: lb1, address: lb2:7001 }\n  - { id: lb3, address: 127.0.0.1:7001 }\nelection_timeout_min: 10ms\nsnapshot_every: 1",
            nodeId: "lb 1"));

        Assert.Equal(
            ["cluster.node_id", "cluster.peers[0].address", "cluster.peers[1].address", "cluster.election_timeout_min", "cluster.snapshot_every"],
            errors.Select(e => e.Path));
    }

    [Fact]
    public void Validate_ConfigBuiltInCode_ChecksTheSection()
    {
        var config = new SwitchmanConfig
        {
            Cluster = new ClusterConfig
            {
                NodeId = "lb1",
                Listen = "127.0.0.1:7001",
                Peers = ValueList.Create(new ClusterPeerConfig { Id = "lb1", Address = "127.0.0.1:7002" }),
                DataDir = "",
                SecretEnv = _variable,
                SnapshotEvery = 0,
            },
        };

        var errors = ConfigValidator.Validate(config, "api");

        Assert.Equal(["cluster.peers[0].id", "cluster.data_dir", "cluster.snapshot_every"], errors.Select(e => e.Path));
        Assert.All(errors, e => Assert.Equal(0, e.Line));
    }

    [Fact]
    public void ToYaml_FullSection_RoundTripsThroughLoader()
    {
        var config = LoadValid(TestConfigs.Minimal() + Cluster(
            "peers:\n  - { id: lb2, address: 127.0.0.2:7001 }\n  - { id: w1, address: \"[fd00::3]:7001\" }\nrole: witness\njoin: true\n"
            + "election_timeout_min: 1s\nelection_timeout_max: 1m30s\nrequest_timeout: 250ms\nsnapshot_every: 1000",
            secret: "secret_file: cluster.key"));

        var yaml = ConfigWriter.ToYaml(config);
        var json = ConfigWriter.ToJson(config);

        Assert.Equal(config, LoadValid(yaml));
        Assert.Equal(config, LoadValid(json));
        Assert.DoesNotContain(Secret, yaml, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, json, StringComparison.Ordinal);
    }

    [Fact]
    public void ToYaml_DefaultsLeftOut_ReadsLikeAHandWrittenSection()
    {
        var config = LoadValid(Cluster("peers:\n  - { id: lb2, address: 127.0.0.2:7001 }\nrequest_timeout: 2s"));

        var yaml = ConfigWriter.ToYaml(config);

        Assert.Equal($"""
            cluster:
              node_id: lb1
              listen: 127.0.0.1:7001
              peers:
              - id: lb2
                address: 127.0.0.2:7001
              data_dir: {_dir.File("data")}
              secret_env: {_variable}
              request_timeout: 2s

            """.ReplaceLineEndings("\n"), yaml);
        Assert.Equal(config, LoadValid(yaml));
    }

    [Fact]
    public void ToYaml_NoCluster_WritesNoSection()
    {
        var config = LoadValid(TestConfigs.Minimal());

        Assert.DoesNotContain("cluster", ConfigWriter.ToYaml(config), StringComparison.Ordinal);
        Assert.Null(LoadValid(ConfigWriter.ToYaml(config)).Cluster);
    }
}
