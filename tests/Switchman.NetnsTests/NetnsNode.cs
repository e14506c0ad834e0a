using Switchman.Testing.Netns;

namespace Switchman.NetnsTests;

/// <summary>One Switchman voter of a <see cref="NetnsCluster"/>, alone on its host: the ports are the documented ones.</summary>
public sealed record NetnsNode(string Id, LabHost Host, string ConfigFile, string DataDir)
{
    public const int AdminPort = 9090;
    public const int ClusterPort = 7000;

    /// <summary>http://192.0.2.1x:9090</summary>
    public string AdminUrl => $"http://{Host.HostPort(AdminPort)}";

    /// <summary>192.0.2.1x:7000</summary>
    public string ClusterAddress => Host.HostPort(ClusterPort);

    public override string ToString() => $"{Id} ({Host.Address})";
}
