namespace Switchman.Testing;

/// <summary>One member of a <see cref="SwitchmanTestCluster"/>: its id, ports and files (the same whether it runs as a process or in the test process).</summary>
/// <param name="AdminTls">Whether its admin API speaks HTTPS (<c>admin.tls</c>).</param>
public sealed record TestClusterMember(int Index, string Id, int ClusterPort, int AdminPort, string ConfigFile, string DataDir, bool Witness, bool AdminTls = false)
{
    public string ClusterAddress => $"127.0.0.1:{ClusterPort}";

    public string AdminUrl => $"{(AdminTls ? "https" : "http")}://127.0.0.1:{AdminPort}";
}

/// <summary>What a node reports in <c>GET /api/v1/cluster</c>, the parts tests look at.</summary>
/// <param name="Lags">Each member's lag, from its own report (members that did not answer are left out).</param>
public sealed record ClusterView(string NodeId, string? Leader, long Term, long Revision, long AppliedIndex, IReadOnlyList<string> MemberIds, IReadOnlyList<long> Lags);

/// <summary>How the nodes of a <see cref="SwitchmanTestCluster"/> run.</summary>
public enum TestClusterNodes
{
    /// <summary>Real <c>switchman</c> processes: they can be killed (SIGKILL) and frozen (SIGSTOP).</summary>
    Processes,

    /// <summary>
    /// <see cref="SwitchmanTestNode"/>s in the test process (same files, same ports): a test can reach into a node, e.g.
    /// cut its cluster traffic with the transport's fault hook or read its logs and events.
    /// </summary>
    InProcess,
}
